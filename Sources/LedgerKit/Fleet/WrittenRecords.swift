import Crypto
import Foundation

/// When this machine last wrote each client's status record, kept on this
/// machine: one small file a client location, `$XDG_CONFIG_HOME/ledger/fleet-records/<hash>`
/// (else under `~/.config/ledger/`), holding the record's `updated_at`, mode 0600.
/// A record this machine signed and someone later put back in the location (an older
/// one: a damaged client's clean record of last week) passes its signature; it does
/// not pass this (`FleetReport.add`).
enum WrittenRecords {
    /// The folder of the files; nil when there is no configuration folder (`ManifestKey.defaultPath`).
    private static func folder() -> String? {
        ManifestKey.defaultPath().map {
            URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("fleet-records").path
        }
    }

    /// The file of the client location `location` (`FleetStorage.clientLocation`).
    private static func file(of location: String) -> String? {
        let key = StoreRegistry.key(of: location)
        return folder().map { $0 + "/" + Array(SHA256.hash(data: Data(key.utf8))).prefix(16).hex }
    }

    /// Remembers that the record in `location` was written with `updatedAt`; a file
    /// that cannot be written is no reason to fail the step (the check is then not made).
    static func remember(_ location: String, updatedAt: String) {
        guard let path = file(of: location), let folder = folder() else { return }
        try? FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try? AtomicFile.create(at: path, replacing: true) { temporary in
            try PrivateFile.write(Data((updatedAt + "\n").utf8), to: temporary)
        }
    }

    /// The `updated_at` of the record this machine last wrote in `location`, nil when none.
    static func lastWritten(in location: String) -> String? {
        guard let path = file(of: location),
            let descriptor = try? SystemCalls.openRegularFile(path, followingLinks: false)
        else { return nil }
        defer { SystemCalls.close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let count =
            (try? bytes.withUnsafeMutableBytes { try SystemCalls.pread(descriptor, into: $0, at: 0, path: path) }) ?? 0
        let text = String(decoding: bytes.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Timestamp.parse(text) == nil ? nil : text
    }
}
