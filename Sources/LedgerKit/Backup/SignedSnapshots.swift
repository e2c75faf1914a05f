import Crypto
import Foundation

/// The newest snapshot this machine signed of each company file in each
/// location, kept on this machine: one small file a location and stem,
/// `$XDG_CONFIG_HOME/ledger/signed-snapshots/<hash>` (else under
/// `~/.config/ledger/`), mode 0600, one line: its `created_at`, name, company
/// and `company_created_at`, tab-separated. Whoever can write the location can
/// remove every snapshot this machine took there and put one of their own in
/// their place; restore then still knows this machine took some (`Restorer.choose`).
enum SignedSnapshots {
    /// What is kept of the newest snapshot signed here.
    struct Newest: Equatable {
        var createdAt: String
        var name: String
        var company: ManifestCompany
    }

    private static func file(location: String, stem: String) -> String? {
        ManifestKey.defaultPath().map {
            let key = StoreRegistry.key(of: location) + "\t" + stem
            return URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("signed-snapshots").path
                + "/" + Array(SHA256.hash(data: Data(key.utf8))).prefix(16).hex
        }
    }

    /// Remembers `snapshot`, just published in `location`, when this machine signed it;
    /// a file that cannot be written is no reason to fail the backup (the check is then not made).
    static func remember(_ snapshot: Snapshot, in location: String) {
        guard let manifest = snapshot.manifest, manifest.hmac != nil,
            let path = file(location: location, stem: snapshot.stem)
        else { return }
        let fields = [
            manifest.createdAt, URL(fileURLWithPath: snapshot.path).lastPathComponent, manifest.company ?? "",
            manifest.companyCreatedAt ?? "",
        ]
        guard !fields.contains(where: { $0.contains("\t") || $0.contains("\n") }) else { return }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try? AtomicFile.create(at: path, replacing: true) { temporary in
            try PrivateFile.write(Data((fields.joined(separator: "\t") + "\n").utf8), to: temporary)
        }
    }

    /// The newest snapshot of `stem` this machine signed in `location`, nil when none is known.
    static func newest(in location: String, stem: String) -> Newest? {
        guard let path = file(location: location, stem: stem),
            let descriptor = try? SystemCalls.openRegularFile(path, followingLinks: false)
        else { return nil }
        defer { SystemCalls.close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 4_096)
        let count =
            (try? bytes.withUnsafeMutableBytes { try SystemCalls.pread(descriptor, into: $0, at: 0, path: path) }) ?? 0
        let fields = String(decoding: bytes.prefix(count), as: UTF8.self)
            .trimmingCharacters(in: .newlines).split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 4, Timestamp.parse(fields[0]) != nil else { return nil }
        return Newest(
            createdAt: fields[0], name: fields[1],
            company: ManifestCompany(name: fields[2], createdAt: fields[3].isEmpty ? nil : fields[3]))
    }
}
