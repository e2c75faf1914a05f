import Foundation

/// The client locations this machine has written a sealed status record in
/// (docs/fleet.md), kept on this machine: `$XDG_CONFIG_HOME/ledger/sealed-locations`
/// (else `~/.config/ledger/sealed-locations`), one location a line, mode 0600.
/// Every other sign that a record must keep no words of the books lies in the
/// location (its encrypted snapshots, its `.ledger-recipients`, the record's own
/// `sealed`), which whoever can write it may hide; this one it cannot.
enum SealedLocations {
    /// The most of the file read: past it, lines are not believed to be ours.
    static let maximumBytes = 1 << 20

    /// Serializes this process's appends: fleet steps run clients side by side.
    private static let appending = NSLock()

    /// Where the list lives: beside this machine's manifest key, in its ledger
    /// configuration folder; nil when there is none (`ManifestKey.defaultPath`).
    static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        ManifestKey.defaultPath(environment: environment).map {
            URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("sealed-locations").path
        }
    }

    /// Whether this machine sealed a record in `location` before.
    static func contains(_ location: String) -> Bool {
        guard let path = path(), let descriptor = try? SystemCalls.openRegularFile(path, followingLinks: false) else {
            return false
        }
        defer { SystemCalls.close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: maximumBytes)
        let count =
            (try? bytes.withUnsafeMutableBytes { try SystemCalls.pread(descriptor, into: $0, at: 0, path: path) }) ?? 0
        return String(decoding: bytes.prefix(count), as: UTF8.self).split(separator: "\n").contains {
            $0 == location
        }
    }

    /// Remembers that a sealed record was written in `location`; a list that cannot be
    /// written is no reason to fail the step (the location's own signs still seal).
    static func remember(_ location: String) {
        guard !location.contains("\n"), let path = path() else { return }
        appending.lock()
        defer { appending.unlock() }
        guard !contains(location) else { return }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard let descriptor = try? SystemCalls.open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW) else { return }
        defer { SystemCalls.close(descriptor) }
        // One write of one line: appends of several processes never interleave within it.
        try? Array((location + "\n").utf8).withUnsafeBytes { try SystemCalls.write(descriptor, $0, path: path) }
    }
}
