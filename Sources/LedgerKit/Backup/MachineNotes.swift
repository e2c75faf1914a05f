import Crypto
import Foundation

/// Short notes kept on this machine, one small file a key, in a folder of
/// its ledger configuration folder (`$XDG_CONFIG_HOME/ledger/NAME/`, else
/// `~/.config/ledger/NAME/`, beside its manifest key; files mode 0600), each
/// named by the first 16 bytes of its key's SHA-256: what a backup location
/// must not be able to make this machine forget (`SignedSnapshots`,
/// `WrittenRecords`). A note that cannot be written is no reason to fail
/// the step that writes it: the check it serves is then not made.
struct MachineNotes: Sendable {
    /// The folder's name in the configuration folder.
    let name: String

    /// The most of a note read.
    static let maximumBytes = 4_096

    /// The file of `key`'s note; nil when there is no configuration folder (`ManifestKey.configFile`).
    private func file(_ key: String) -> String? {
        ManifestKey.configFile(name).map { $0 + "/" + Array(SHA256.hash(data: Data(key.utf8))).prefix(16).hex }
    }

    /// Makes `text` the note of `key`: written beside it and renamed over it.
    func write(_ text: String, for key: String) {
        guard let path = file(key) else { return }
        try? FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        try? AtomicFile.create(at: path, replacing: true) { temporary in
            try PrivateFile.write(Data((text + "\n").utf8), to: temporary)
        }
    }

    /// The note of `key`, without its line end; nil when there is none (a link in its place is never followed).
    func read(_ key: String) -> String? {
        guard let path = file(key), let descriptor = try? SystemCalls.openRegularFile(path, followingLinks: false)
        else { return nil }
        defer { SystemCalls.close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: Self.maximumBytes)
        let count =
            (try? bytes.withUnsafeMutableBytes { try SystemCalls.pread(descriptor, into: $0, at: 0, path: path) }) ?? 0
        return String(decoding: bytes.prefix(count), as: UTF8.self).trimmingCharacters(in: .newlines)
    }
}
