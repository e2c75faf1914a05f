import Crypto
import Foundation

/// The key this machine signs its snapshots' manifests with: an HMAC-SHA256
/// of the manifest (its `database_sha256` inside) kept in the manifest's
/// `hmac` field. A backup location is somebody else's disk, and anyone who can
/// write there can write a manifest saying `verify: clean`; only a manifest
/// whose `hmac` this key makes is taken at its word by restore (docs/snapshots.md), and
/// every other snapshot is verified in full before it is installed.
///
/// The key is 32 random bytes, written as 64 hex digits and a newline to
/// `$XDG_CONFIG_HOME/ledger/manifest.key` (`~/.config/ledger/manifest.key`),
/// mode 0600 in a 0700 folder, made by the first backup. It never leaves the
/// machine: a restore on another machine (or after the key is lost) verifies
/// in full, which is slower, never less safe.
public struct ManifestKey: Sendable {
    private let key: SymmetricKey

    /// What the HMAC covers before the manifest's JSON: a change of what is
    /// signed changes this, so an old signature never passes for a new meaning.
    private static let context = Array("ledger manifest hmac v1\n".utf8)

    init(bytes: [UInt8]) {
        key = SymmetricKey(data: bytes)
    }

    /// A fresh random key, kept nowhere (tests keep it in memory).
    public static func random() -> ManifestKey {
        ManifestKey(bytes: Array(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }))
    }

    /// Where this machine's key lives: `$XDG_CONFIG_HOME/ledger/manifest.key`,
    /// else `$HOME/.config/ledger/manifest.key`; nil when neither variable
    /// names an absolute folder.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let config = environment["XDG_CONFIG_HOME"], config.hasPrefix("/") { return config + "/ledger/manifest.key" }
        if let home = environment["HOME"], home.hasPrefix("/") { return home + "/.config/ledger/manifest.key" }
        return nil
    }

    /// This machine's key (at `defaultPath`), made when there is none; nil
    /// when it can be neither read nor made (no home folder, a read-only one,
    /// a key file others may read): snapshots are then written unsigned and
    /// every restore verifies in full.
    public static func forThisMachine(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> ManifestKey?
    {
        defaultPath(environment: environment).flatMap { try? loadOrCreate(at: $0) }
    }

    /// The file `name` in this machine's ledger configuration folder, beside its
    /// key (`defaultPath`): what it keeps that a backup location must not make it forget.
    static func configFile(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String?
    {
        defaultPath(environment: environment).map {
            URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent(name).path
        }
    }

    /// This machine's key (at `defaultPath`) when there is one it can trust;
    /// nil, and nothing made, when there is none: for commands that only
    /// read snapshots (`prune`, even with `--dry-run`).
    public static func existing(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> ManifestKey?
    {
        defaultPath(environment: environment).flatMap(load(at:))
    }

    /// The key at `path`, or nil when there is none or it cannot be trusted:
    /// not a regular file of this user's, readable or writable by others,
    /// or not 64 hex digits. Restore then verifies in full.
    public static func load(at path: String) -> ManifestKey? {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_uid == geteuid(),
            status.st_mode & 0o077 == 0, status.st_size <= 256,
            let text = FileManager.default.contents(atPath: path)
        else { return nil }
        let digits = String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard digits.utf8.count == 64, let bytes = bytes(hex: digits) else { return nil }
        return ManifestKey(bytes: bytes)
    }

    /// The key at `path`, made first when there is none (mode 0600, its
    /// folders 0700). Two first backups at once agree on one key: the key is
    /// written under a temporary name and linked into place, and the loser
    /// reads the winner's.
    /// - Throws: `BackupError.cannotWrite` when the key can be neither read nor made.
    public static func loadOrCreate(at path: String) throws -> ManifestKey {
        if let key = load(at: path) { return key }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupError.cannotWrite(path: path, reason: error.localizedDescription)
        }
        let fresh = random()
        let temporary = AtomicFile.temporaryPath(beside: path, purpose: "creating")
        defer { unlink(temporary) }
        do {
            let descriptor = try SystemCalls.open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            defer { SystemCalls.close(descriptor) }
            let text = Array((fresh.key.withUnsafeBytes { Array($0) }.hex + "\n").utf8)
            try text.withUnsafeBytes { try SystemCalls.write(descriptor, $0, path: temporary) }
            try SystemCalls.fsync(descriptor, path: temporary)
            try SystemCalls.link(temporary, path)
        } catch let error as SystemCallError where error.code == EEXIST {
            // Another run made it first.
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(path: path, reason: error.reason)
        }
        guard let key = load(at: path) else {
            throw BackupError.cannotWrite(
                path: path, reason: "the key there is not one of this user's, private to them")
        }
        return key
    }

    /// The `hmac` field for `manifest` (whatever its own `hmac` holds): lowercase hex.
    public func signature(of manifest: Manifest) throws -> String {
        var unsigned = manifest
        unsigned.hmac = nil
        return code(for: Self.context + Array(try unsigned.commentText().utf8))
    }

    /// This key's HMAC-SHA256 of `message`, lowercase hex: what it signs
    /// besides manifests (fleet status records) starts `message` with a context of its own.
    func code(for message: [UInt8]) -> String {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: key)).hex
    }

    /// Whether `claimed` (hex) is this key's HMAC-SHA256 of `message`.
    func isCode(_ claimed: String, for message: [UInt8]) -> Bool {
        guard claimed.utf8.count == 64, let code = Self.bytes(hex: claimed) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: message, using: key)
    }

    /// Whether `manifest` carries this key's HMAC of itself: then this
    /// machine wrote it, and its `verify` and `database_sha256` are its own word.
    public func signed(_ manifest: Manifest) -> Bool {
        var unsigned = manifest
        unsigned.hmac = nil
        guard let claimed = manifest.hmac, let text = try? unsigned.commentText() else { return false }
        return isCode(claimed, for: Self.context + Array(text.utf8))
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
