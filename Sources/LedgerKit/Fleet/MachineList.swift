import Foundation

/// A list of lines kept on this machine, beside its manifest key in its
/// ledger configuration folder (`$XDG_CONFIG_HOME/ledger/NAME`, else
/// `~/.config/ledger/NAME`), mode 0600: what a fleet location must not be able
/// to make this machine forget, since whoever can write the location may hide
/// its own signs (`SealedLocations`, `LocalRoster`).
struct MachineList: Sendable {
    /// The file's name in the configuration folder.
    let name: String

    /// The most of the file read: past it, lines are not believed to be ours.
    static let maximumBytes = 1 << 20

    /// Serializes this process's changes: fleet steps run clients side by side.
    private static let changing = NSLock()

    /// Where the list lives; nil when there is no configuration folder (`ManifestKey.defaultPath`).
    func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        ManifestKey.configFile(name, environment: environment)
    }

    /// Its lines; none when it cannot be read (a link in its place is never followed).
    func lines() -> [String] {
        guard let path = path(), let descriptor = try? SystemCalls.openRegularFile(path, followingLinks: false) else {
            return []
        }
        defer { SystemCalls.close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: Self.maximumBytes)
        let count =
            (try? bytes.withUnsafeMutableBytes { try SystemCalls.pread(descriptor, into: $0, at: 0, path: path) }) ?? 0
        return String(decoding: bytes.prefix(count), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Whether `line` is on the list.
    func contains(_ line: String) -> Bool { lines().contains(line) }

    /// Puts `line` on the list when it is not there; a list that cannot be
    /// written is no reason to fail the step that asks.
    func append(_ line: String) {
        guard !line.contains("\n"), let path = path() else { return }
        Self.changing.lock()
        defer { Self.changing.unlock() }
        guard !contains(line) else { return }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard let descriptor = try? SystemCalls.open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW) else { return }
        defer { SystemCalls.close(descriptor) }
        // One write of one line: appends of several processes never interleave within it.
        try? Array((line + "\n").utf8).withUnsafeBytes { try SystemCalls.write(descriptor, $0, path: path) }
    }

    /// Takes `unwanted` lines off the list: the rest is written beside it and
    /// renamed over it. A list that does not hold them (or is not there) is left as it is.
    func remove(_ unwanted: Set<String>) throws {
        guard let path = path() else { return }
        Self.changing.lock()
        defer { Self.changing.unlock() }
        let all = lines()
        let kept = all.filter { !unwanted.contains($0) }
        guard kept.count < all.count else { return }
        try AtomicFile.create(at: path, replacing: true) { temporary in
            try PrivateFile.write(Data(kept.map { $0 + "\n" }.joined().utf8), to: temporary)
        }
    }
}
