import Crypto
import Foundation
import GRDB

/// What a restore did.
public struct RestoreResult: Codable, Sendable {
    public var snapshot: Snapshot
    public var target: String
    /// The snapshot of the file that was replaced, if there was one.
    public var replaced: Snapshot?
    /// `clean`, `findings` or `skipped` (with `--no-verify`).
    public var verify: String
    /// Whether the restored content was verified now; false when its SHA-256
    /// matched a snapshot whose manifest says it was verified clean when taken.
    public var verifiedNow: Bool
}

/// Why a restore was refused. The target is untouched in every case.
public enum RestoreError: LocalizedError, Equatable, Sendable {
    case noSnapshots(folder: String)
    /// The place holds snapshots, but none of the company file asked for; `held` are the stems it holds.
    case noSnapshotsOf(stem: String, folder: String, held: [String])
    /// The place holds snapshots, but none can be read; the reason is the first one's.
    case noReadableSnapshots(folder: String, reason: String)
    case beforeOldest(time: String, oldest: String)
    case checksumMismatch(path: String)
    case targetInUse(path: String)
    case otherCompany(target: String, targetCompany: String, snapshotCompany: String)

    public var errorDescription: String? {
        switch self {
        case .noSnapshots(let folder):
            return "No snapshots in \(folder). Name the folder that 'ledger backup --to' writes to."
        case .noSnapshotsOf(let stem, let folder, let held):
            let named = held.prefix(10).map(Self.printable).joined(separator: ", ") + (held.count > 10 ? " and \(held.count - 10) more" : "")
            return "\(folder) holds no snapshots of \(Self.printable(stem)); it holds snapshots of \(named); name one with --stem."
        case .noReadableSnapshots(let folder, let reason):
            return "No snapshot in \(folder) can be read. \(reason)"
        case .beforeOldest(let time, let oldest):
            return "No snapshot was taken at or before \(time); the oldest is from \(oldest). Choose a later time."
        case .checksumMismatch(let path):
            return "\(path) does not match its SHA-256: the snapshot is damaged and nothing was restored. Choose an older snapshot."
        case .targetInUse(let path):
            return "\(path) is open in another program. Close it everywhere, then restore again."
        case .otherCompany(let target, let targetCompany, let snapshotCompany):
            return "\(target) holds \(targetCompany), but the snapshot is of \(snapshotCompany). Add --force to replace it anyway."
        }
    }

    /// A name from someone else's disk as one line can show it: control characters become `?`.
    private static func printable(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : $0 }))
    }
}

/// Restores snapshots (SPEC §4): checks the SHA-256 before touching anything,
/// snapshots the file it replaces (`pre-restore`), replaces it atomically.
public enum Restorer {
    /// Picks the snapshot a restore uses: `source` itself if it names one
    /// snapshot, else, among the snapshots there of `target`'s own stem (or of
    /// `stem`), never another's, the newest taken at or before `time` (the
    /// newest of all without), by `Snapshot.takenAt`. Encrypted snapshots no
    /// key opens are chosen by their names' times, and read with `keys`.
    /// - Throws: `RestoreError.noSnapshotsOf` when the place holds snapshots,
    ///   but none of that stem, naming the stems it holds.
    public static func choose(_ source: String, target: String, stem: String? = nil, at time: Date?,
                              with keys: SnapshotIdentities = SnapshotIdentities()) throws -> Snapshot {
        let (location, named) = try BackupLocation.source(source)
        if let named { return try location.snapshot(at: named, with: keys) }
        let listing = try location.list(with: keys)
        let wanted = stem ?? SnapshotName.stem(of: target)
        let snapshots = listing.snapshots.filter { $0.stem == wanted }
        guard let oldest = snapshots.first, let newest = snapshots.last else {
            // Files named as this company's snapshots whose head cannot be read say more than the other stems.
            let unreadable = listing.unreadable.filter {
                SnapshotName.parse(URL(fileURLWithPath: $0.path).lastPathComponent)?.stem == wanted
            }
            let held = Set(listing.snapshots.map(\.stem)).sorted()
            if let first = unreadable.first ?? (held.isEmpty ? listing.unreadable.first : nil) {
                throw RestoreError.noReadableSnapshots(folder: source, reason: first.reason)
            }
            if !held.isEmpty { throw RestoreError.noSnapshotsOf(stem: wanted, folder: source, held: held) }
            throw RestoreError.noSnapshots(folder: source)
        }
        guard let time else { return newest }
        guard let chosen = snapshots.last(where: { ($0.takenAt ?? .distantPast) <= time }) else {
            throw RestoreError.beforeOldest(time: Timestamp.string(from: time),
                                            oldest: oldest.takenAt.map(Timestamp.string(from:)) ?? oldest.createdAt)
        }
        return chosen
    }

    /// Restores `snapshot` to `target`.
    ///
    /// - Parameters:
    ///   - backupFolder: where the `pre-restore` snapshot of the replaced file goes
    ///     (a folder or `s3://BUCKET/PREFIX`).
    ///   - force: replace a file of another company.
    ///   - verify: run a quick verify of the restored content first, unless its
    ///     SHA-256 matches a manifest that says `clean`: those are the very bytes
    ///     that were verified when the snapshot was taken.
    ///   - reverify: verify even then.
    ///   - keys: what opens an encrypted snapshot.
    public static func restore(_ snapshot: Snapshot, to target: String, backupFolder: String, force: Bool = false,
                               verify: Bool = true, reverify: Bool = false, keys: SnapshotIdentities = SnapshotIdentities(),
                               wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()) throws -> RestoreResult {
        // An encrypted snapshot listed without a key is refused before anything is touched.
        let manifest = try opened(snapshot, with: keys)
        let exists = FileManager.default.fileExists(atPath: target)
        if exists { try refuseIfInUse(target, wait: wait) }
        AtomicFile.removeLeftovers(beside: target, purposes: ["restoring", "download", "decrypting"])
        let temporary = AtomicFile.temporaryPath(beside: target, purpose: "restoring")
        defer { AtomicFile.removeDatabaseFiles(at: temporary) }
        try decompress(snapshot, to: temporary, near: target, with: keys)

        // The SHA-256 was checked while decompressing.
        var status = "skipped"
        var verifiedNow = false
        var restoredCompany: String?
        if verify && !reverify && manifest.verify == "clean" {
            status = "clean"
        } else if verify {
            let report = try Verifier.verify(path: temporary, quick: true)
            status = report.ok ? "clean" : "findings"
            verifiedNow = true
        }
        restoredCompany = try? CompanyFile.read(temporary) {
            try String.fetchOne($0, sql: "SELECT name FROM company WHERE id = 1")
        }
        var replaced: Snapshot?
        if exists {
            let current = try? CompanyFile.read(target) {
                try String.fetchOne($0, sql: "SELECT name FROM company WHERE id = 1")
            }
            if !force, let current = current ?? nil, let incoming = restoredCompany ?? manifest.company, current != incoming {
                throw RestoreError.otherCompany(target: target, targetCompany: current, snapshotCompany: incoming)
            }
            replaced = try SnapshotWriter.take(of: target, into: backupFolder, kind: .preRestore, wait: wait, now: now)
        }
        // The in-use check is held through the rename, and the restored file keeps
        // the owner and mode of the file it replaces.
        do {
            try AtomicFile.replace(target, with: temporary, database: true)
        } catch AtomicFile.Refusal.inUse {
            throw RestoreError.targetInUse(path: target)
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(path: target, reason: error.reason)
        }
        return RestoreResult(snapshot: snapshot, target: target, replaced: replaced, verify: status, verifiedNow: verifiedNow)
    }

    /// The manifest of a snapshot that can be read.
    /// - Throws: `EncryptionError` when it is encrypted and no key given opened it.
    static func opened(_ snapshot: Snapshot, with keys: SnapshotIdentities) throws -> Manifest {
        guard let manifest = snapshot.manifest else {
            throw keys.isEmpty ? EncryptionError.needsIdentity(path: snapshot.path) : EncryptionError.noMatchingKey(path: snapshot.path)
        }
        return manifest
    }

    /// Decompresses into `temporary` (mode 0600), checking size and SHA-256;
    /// a snapshot in object storage is first downloaded into a hidden file
    /// beside `near` (by default `temporary`), and an encrypted one is
    /// decrypted into this machine's private scratch folder (`ScratchFolder`),
    /// never beside the snapshot.
    static func decompress(_ snapshot: Snapshot, to temporary: String, near: String? = nil,
                           with keys: SnapshotIdentities = SnapshotIdentities()) throws {
        let manifest = try opened(snapshot, with: keys)
        let beside = near ?? temporary
        try BackupLocation.containing(snapshot).withFile(of: snapshot, near: beside) { file in
            guard snapshot.encrypted else { return try decompress(manifest, of: snapshot.path, from: file, to: temporary) }
            let plain = try ScratchFolder.temporaryPath(for: snapshot.path, purpose: "decrypting")
            defer { unlink(plain) }
            try SnapshotSealing.decrypt(file, to: plain, with: keys, path: snapshot.path)
            try decompress(manifest, of: snapshot.path, from: plain, to: temporary)
        }
    }

    private static func decompress(_ manifest: Manifest, of path: String, from file: String, to temporary: String) throws {
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BackupError.cannotWrite(path: temporary, reason: String(cString: strerror(errno))) }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            try Gzip.decompress(path: file) { piece in
                hasher.update(bufferPointer: piece)
                size += Int64(piece.count)
                try Gzip.write(Array(piece), to: descriptor, path: temporary)
            }
            guard fsync(descriptor) == 0 else { throw BackupError.cannotWrite(path: temporary, reason: String(cString: strerror(errno))) }
            close(descriptor)
        } catch {
            close(descriptor)
            throw error
        }
        let hex = hasher.finalize().hex
        guard hex == manifest.databaseSha256, size == manifest.databaseBytes else {
            throw RestoreError.checksumMismatch(path: path)
        }
    }

    /// Waits up to `wait` seconds for no other program to have the target open
    /// (see `ReadOnlyAccess.whileNoOneElseHasItOpen`), then refuses.
    static func refuseIfInUse(_ target: String, wait: TimeInterval) throws {
        guard access(target, R_OK | W_OK) == 0 else {
            throw BackupError.cannotWrite(path: target, reason: String(cString: strerror(errno)))
        }
        guard ReadOnlyAccess.waitUntilNoOneElseHasItOpen(target, wait: wait) else { throw RestoreError.targetInUse(path: target) }
    }
}
