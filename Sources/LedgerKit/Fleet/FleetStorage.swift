import Foundation

/// Every use the fleet makes of backup locations, in one place: where a
/// client's snapshots go, taking one, finding the newest, unpacking it, and
/// reading and writing the small JSON objects (status records, run journals)
/// kept beside them. Nothing else in `Fleet/` names a location type.
enum FleetStorage {
    /// The client's own folder or prefix under the location `root` names.
    static func clientLocation(_ root: String, slug: String) -> String {
        var trimmed = Substring(root)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return trimmed + "/" + slug
    }

    /// Why the client folder `slug` of the folder location `root` must not be used: it is a
    /// link, which could lead anywhere on this machine (snapshots and the record would be
    /// written there, outside the location), or not a folder. Nil when it is a folder, is not
    /// there yet, or `root` is object storage, where there are no links.
    static func refusal(ofClient slug: String, in root: String) -> String? {
        guard (try? S3Location(root)) == nil else { return nil }
        do {
            try FolderStore(root).refuseLinkedFolders(in: slug + "/")
            return nil
        } catch {
            return FleetError.describe(error)
        }
    }

    /// `client`'s result when its folder in `root` is refused (`refusal(ofClient:in:)`): the
    /// step then reads and writes nothing there. Nil when the folder may be used.
    static func refused(_ client: FleetClient, root: String) -> ClientResult? {
        refusal(ofClient: client.slug, in: root).map {
            ClientResult(client: client, outcome: .failed, summary: "refused its folder: " + $0)
        }
    }

    /// Takes a snapshot of `file` into `location`, the folder of the client `slug`
    /// (which its manifest keeps) under the fleet's `root`, and applies the keep
    /// rules (`BackupRun.perform`).
    /// - Throws: `RecipientsError` when the fleet's own `.ledger-recipients`
    ///   names a reader the snapshot would not be encrypted to (or any, when
    ///   it would be plain): it speaks for every client's folder, so a new
    ///   client's (or another machine's) first snapshot is never written plain
    ///   into an encrypted fleet. A client's own folder may add readers.
    static func backUp(
        _ file: String, into location: String, root: String, slug: String, options: FleetBackupOptions,
        now: Date
    ) throws -> BackupRun {
        try BackupRun.perform(
            of: file, into: location, kind: options.kind, level: options.level, verify: true,
            recipients: options.recipients, policy: options.policy, signing: options.signing,
            wait: options.wait, now: now, fleetClient: slug, within: root, keys: options.keys)
    }

    /// The newest snapshot of the company file named by `stem` in `location`
    /// (of any, when nil); nil when there is none. With `client`, never one
    /// whose manifest names another fleet client (a snapshot moved or planted
    /// into this client's folder proves nothing of it). With it, every snapshot
    /// the location lists, oldest first, which restore's rules judge it among.
    /// - Throws: when the location cannot be listed.
    static func newest(
        in location: String, stem: String?, client: String? = nil, keys: SnapshotIdentities
    ) throws -> (newest: Snapshot?, all: [Snapshot]) {
        let listing = try SnapshotStore.open(location).list(with: keys)
        let newest = listing.snapshots.last { snapshot in
            (stem == nil || snapshot.stem == stem)
                && (client == nil || snapshot.manifest?.fleetClient.map { $0 == client } ?? true)
        }
        return (newest, listing.snapshots)
    }

    /// The stems of the company files `location` holds snapshots of, sorted.
    static func stems(in location: String, keys: SnapshotIdentities) throws -> [String] {
        Set(try SnapshotStore.open(location).list(with: keys).snapshots.map(\.stem)).sorted()
    }

    /// Unpacks `snapshot` into the new file `target` (0600), checking its size and SHA-256,
    /// and refusing what is not a company file that passes SQLite's check (`Restorer`).
    static func unpack(_ snapshot: Snapshot, to target: String, keys: SnapshotIdentities) throws {
        try Restorer.decompress(snapshot, to: target, near: target, with: keys)
        try Restorer.refuseUnlessInstallable(target, from: snapshot.path)
    }

    /// The largest object `read` takes: a run journal of thousands of clients, a status record.
    static let objectLimit = 16 << 20

    /// The bytes of the object `name` in `location`; nil when it has none.
    /// - Throws: when the location cannot be read.
    static func read(_ name: String, in location: String) throws -> Data? {
        try StoreRegistry.open(location).contents(of: name, limit: objectLimit)
    }

    /// Writes `data` as the object `name` in `location`, replacing it whole: a
    /// folder (made, private, when missing) gets it by an atomic rename; object
    /// storage by one PUT.
    static func write(_ data: Data, as name: String, in location: String) throws {
        let opened = try StoreRegistry.open(location)
        if let bucket = opened as? S3Store {
            let key = bucket.location.key(name)
            do {
                try bucket.client.expect(
                    "PUT", bucket: bucket.location.bucket, key: key,
                    headers: [("Content-Type", "application/json")], body: data)
            } catch {
                throw ObjectStorageError.explaining(error, at: bucket.description)
            }
            return
        }
        try opened.prepare()
        let path = opened.path(of: name)
        do {
            // Private, as every file the tool writes: a record holds what verify found in the books.
            try AtomicFile.create(at: path, replacing: true) { temporary in try PrivateFile.write(data, to: temporary) }
        } catch let error as BackupError {
            throw error
        } catch {
            throw BackupError.cannotWrite(path: path, reason: FleetError.describe(error))
        }
    }
}
