import Foundation

/// The snapshots in a backup folder, read from their gzip headers only.
public enum SnapshotCatalog {
    /// A file in the folder that looks like a snapshot but whose header cannot be read.
    public struct Unreadable: Codable, Equatable, Sendable {
        /// Where the unreadable snapshot is.
        public var path: String
        /// Why it could not be read.
        public var reason: String
    }

    /// Every snapshot in the location `text` names (a folder or `s3://…`),
    /// oldest first; hidden and partial files are never listed.
    /// Encrypted snapshots are read with `keys`, or listed by their names.
    public static func list(_ text: String, with keys: SnapshotIdentities = SnapshotIdentities())
        throws -> (snapshots: [Snapshot], unreadable: [Unreadable])
    {
        try SnapshotStore.open(text).list(with: keys)
    }

    /// The snapshots in `location`, oldest first, with `taken` (a snapshot
    /// just written there) as its writer knows it: with its manifest, even
    /// when it is encrypted and `keys` do not open it.
    static func list(
        _ location: SnapshotStore, with keys: SnapshotIdentities,
        knowing taken: Snapshot?
    ) throws -> [Snapshot] {
        try location.list(with: keys).snapshots.map { snapshot in
            guard let taken, taken.path == snapshot.path, snapshot.manifest == nil, let manifest = taken.manifest else {
                return snapshot
            }
            return Snapshot(
                path: snapshot.path, bytes: snapshot.bytes, manifest: manifest, encrypted: snapshot.encrypted,
                listedAt: snapshot.listedAt)
        }
    }

    /// How much of a snapshot's head is read for its manifest: the gzip header
    /// and its comment (a manifest is under 2 KiB; docs/snapshots.md sets no limit, so
    /// room to spare); for an encrypted one, its age header and first chunk too.
    static func headBytes(encrypted: Bool) -> Int {
        encrypted ? 2 * AgeFile.sealedChunkSize : 64 * 1024
    }

    /// Oldest first: by the time each was taken (`Snapshot.rankedAt`: never a
    /// time later than its location lists it, unless this machine signed it;
    /// one with no readable time is the oldest), then by the `-N` of snapshots
    /// taken in one second.
    static func isOlder(_ first: Snapshot, than second: Snapshot) -> Bool {
        let one = first.rankedAt ?? .distantPast
        let other = second.rankedAt ?? .distantPast
        guard one == other else { return one < other }
        // Taken in one second: the location's time next, as for unsigned ones.
        let listedOne = first.takenAt ?? .distantPast
        let listedOther = second.takenAt ?? .distantPast
        guard listedOne == listedOther else { return listedOne < listedOther }
        return (sequence(first.path), first.path) < (sequence(second.path), second.path)
    }

    /// The `N` of a name `…Z-N.db.gz` (two snapshots in one second), else 1.
    private static func sequence(_ path: String) -> Int {
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard let mark = name.range(of: "Z-", options: .backwards) else { return 1 }
        return Int(name[mark.upperBound...].prefix { $0.isNumber }) ?? 1
    }

    /// Reads the manifest of one snapshot file from its header.
    public static func read(_ path: String, with keys: SnapshotIdentities = SnapshotIdentities()) throws -> Snapshot {
        let folder = FolderStore(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        return try SnapshotStore(folder).snapshot(at: path, with: keys)
    }

    /// The snapshot whose first bytes are `head`: an encrypted one is opened
    /// with `keys`, or, without any, known by its name (and `kind`, from the
    /// location's metadata).
    /// - Parameter listedAt: when the location says it was written.
    static func snapshot(
        head: [UInt8], path: String, bytes: Int64, keys: SnapshotIdentities, kind: SnapshotKind?,
        listedAt: String?
    ) throws -> Snapshot {
        guard SnapshotName.isEncrypted(URL(fileURLWithPath: path).lastPathComponent) else {
            return try snapshot(head: head, path: path, bytes: bytes, listedAt: listedAt)
        }
        // Without a key that opens it, it is known by its name.
        func sealed() throws -> Snapshot {
            guard let sealed = Snapshot(sealedAt: path, bytes: bytes, kind: kind, listedAt: listedAt) else {
                throw BackupError.damagedSnapshot("\(path) is not named like a snapshot")
            }
            return sealed
        }
        guard !keys.isEmpty else { return try sealed() }
        let plain: [UInt8]
        do {
            plain = try AgeFile.decryptHead(head, size: bytes, with: keys)
        } catch AgeFile.Failure.noMatch {
            return try sealed()
        } catch {
            throw EncryptionError.damaged(path: path, reason: SnapshotSealing.reason(error))
        }
        var opened = try snapshot(head: plain, path: path, bytes: bytes, listedAt: listedAt)
        opened.encrypted = true
        return opened
    }

    /// The snapshot whose first bytes (decrypted) are `head`.
    static func snapshot(head: [UInt8], path: String, bytes: Int64, listedAt: String? = nil) throws -> Snapshot {
        guard let header = Gzip.parseHeader(head), let comment = header.comment else {
            throw BackupError.damagedSnapshot("\(path) has no readable gzip header with a manifest")
        }
        guard let manifest = try? JSONDecoder().decode(Manifest.self, from: Data(comment.utf8)) else {
            throw BackupError.damagedSnapshot("the manifest of \(path) is not valid")
        }
        return Snapshot(path: path, bytes: bytes, manifest: manifest, listedAt: listedAt)
    }
}
