import Foundation

/// Where snapshots are kept (docs/snapshots.md): the snapshots in a
/// `ByteStore`, a folder on this machine or a prefix in object storage.
/// Snapshot names, manifests and metadata are read and written here, one way
/// for every store; every backup command goes through it and never asks which
/// store it has.
///
/// A snapshot's `path` names it within its store (`ByteStore.path(of:)`): a
/// file path for a folder, `s3://BUCKET/PREFIX/NAME` for object storage, so a
/// `Snapshot` alone says where its bytes are (`containing`).
public struct SnapshotStore: Sendable, CustomStringConvertible {
    /// The bytes underneath.
    public let store: any ByteStore

    /// Snapshots kept in `store`.
    public init(_ store: any ByteStore) {
        self.store = store
    }

    /// The store as a person names it: a folder's path or `s3://BUCKET/PREFIX`.
    public var description: String { store.description }

    /// The store `text` names (`StoreRegistry.open`).
    public static func open(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> SnapshotStore
    {
        SnapshotStore(try StoreRegistry.open(text, environment: environment))
    }

    /// What `restore SNAPSHOT|DIR` names: a store, and the snapshot in it
    /// when the text names one snapshot (a file, or an object `….gz`).
    public static func source(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> (store: SnapshotStore, snapshot: String?)
    {
        if let location = try S3Location(text) {
            guard SnapshotName.isListed(location.name) else { return (try open(text, environment: environment), nil) }
            let holder = try StoreRegistry.holder(of: text, environment: environment)
            return (SnapshotStore(holder.store), location.description)
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: text, isDirectory: &isFolder) else {
            throw BackupError.cannotRead(path: text, reason: "no such file or folder")
        }
        if isFolder.boolValue { return (SnapshotStore(FolderStore(text)), nil) }
        // A snapshot named by a link the user gives is the file it names (a link found in a
        // location is never followed).
        let file = AtomicFile.resolvedTarget(of: text)
        return (SnapshotStore(try StoreRegistry.holder(of: file, environment: environment).store), file)
    }

    /// The store a snapshot was listed from, told by its path.
    public static func containing(
        _ snapshot: Snapshot, environment: [String: String] = ProcessInfo.processInfo.environment
    )
        throws -> SnapshotStore
    {
        SnapshotStore(try StoreRegistry.holder(of: snapshot.path, environment: environment).store)
    }

    /// Checks the store can take snapshots (creating a folder when missing),
    /// so a command refuses before any work rather than after it.
    func prepare() throws {
        try store.prepare()
    }

    /// Every snapshot, oldest first, read from their heads only (a few at
    /// once, to hide round trips); entries that look like snapshots but whose
    /// head cannot be read are `unreadable`. An encrypted snapshot's manifest
    /// is read when `keys` open it; without them it is listed by its name.
    func list(with keys: SnapshotIdentities)
        throws -> (snapshots: [Snapshot], unreadable: [SnapshotCatalog.Unreadable])
    {
        guard try store.exists() else { throw BackupError.cannotRead(path: description, reason: "no such folder") }
        let candidates = try store.list(prefix: "").filter { SnapshotName.isListed($0.name) }
        let heads = HeadList(count: candidates.count)
        try Parallel.forEach(candidates.count, width: 8) { index in
            let object = candidates[index]
            let path = store.path(of: object.name)
            do {
                heads.set(index, .success(try snapshot(of: object, at: path, with: keys)))
            } catch let error as BackupError {
                heads.set(index, .failure(.init(path: path, reason: error.errorDescription ?? "\(error)")))
            } catch let error as EncryptionError {
                heads.set(index, .failure(.init(path: path, reason: error.errorDescription ?? "\(error)")))
            } catch let error as FileError {
                heads.set(index, .failure(.init(path: path, reason: error.errorDescription ?? "\(error)")))
            }
        }
        var snapshots: [Snapshot] = []
        var unreadable: [SnapshotCatalog.Unreadable] = []
        for head in heads.all {
            switch head {
            case .success(let snapshot): snapshots.append(snapshot)
            case .failure(let entry): unreadable.append(entry)
            case nil: break
            }
        }
        return (snapshots.sorted(by: SnapshotCatalog.isOlder), unreadable)
    }

    /// The snapshot at `path` (a path `list` gives), from its head.
    func snapshot(at path: String, with keys: SnapshotIdentities) throws -> Snapshot {
        guard let name = try store.name(at: path) else {
            throw BackupError.cannotRead(path: path, reason: "it is not in \(description)")
        }
        guard let object = try store.entry(name) else {
            throw BackupError.cannotRead(path: path, reason: "no such snapshot")
        }
        return try snapshot(of: object, at: path, with: keys)
    }

    /// The snapshot `object`, from a ranged read of its head: 4 KiB holds any
    /// manifest this tool writes; a longer header is read up to 64 KiB. An
    /// encrypted one is read with its age header and first chunk when there
    /// are keys, and known by its name and attributes when there are none.
    private func snapshot(of object: StoredObject, at path: String, with keys: SnapshotIdentities) throws -> Snapshot {
        let size = object.size
        guard size > 0 else {
            // Listed with no bytes: asked again, a link (never followed) or a file gone says so.
            _ = try store.entry(object.name)
            throw BackupError.damagedSnapshot("\(path) is empty")
        }
        if SnapshotName.isEncrypted(object.name) {
            var attributes = object.attributes
            if keys.isEmpty && attributes["kind"] == nil {
                attributes = try store.entry(object.name)?.attributes ?? [:]
            }
            let sealedHead = Int64(SnapshotCatalog.headBytes(encrypted: true))
            let head = keys.isEmpty ? [] : [UInt8](try store.read(object.name, range: 0...min(size, sealedHead) - 1))
            return try SnapshotCatalog.snapshot(
                head: head, path: path, bytes: size, keys: keys,
                kind: attributes["kind"].flatMap(SnapshotKind.init(rawValue:)),
                listedAt: object.modified)
        }
        var head = [UInt8](try store.read(object.name, range: 0...min(size, 4096) - 1))
        if Gzip.parseHeader(head) == nil && size > 4096 {
            let plainHead = Int64(SnapshotCatalog.headBytes(encrypted: false))
            head = [UInt8](try store.read(object.name, range: 0...min(size, plainHead) - 1))
        }
        return try SnapshotCatalog.snapshot(head: head, path: path, bytes: size, listedAt: object.modified)
    }

    /// The names of the entries `list` would read (`SnapshotName.isListed`),
    /// from the listing alone: no snapshot is opened. None when the store's
    /// folder was never made.
    func listedNames() throws -> [String] {
        guard try store.exists() else { return [] }
        return try store.list(prefix: "").map(\.name).filter(SnapshotName.isListed)
    }

    /// A small file of the store's own (`.ledger-recipients`), or nil when it has none.
    func setting(_ name: String) throws -> Data? {
        try store.contents(of: name, limit: 16 << 20)
    }

    /// A folder on this machine where a snapshot is built before it is
    /// published: the store's own, else the folder of `source`.
    func stagingFolder(for source: String) -> String {
        store.stagingFolder ?? URL(fileURLWithPath: source).deletingLastPathComponent().path
    }

    /// Publishes the complete file `partial` under the first snapshot name of
    /// `moment` that is free (`-2`, `-3`… after the `Z`; `.age` after the name
    /// when `encrypted`), never replacing one; `partial` stays the caller's to
    /// remove. Its attributes repeat the manifest's key fields, so other tools
    /// can sort and pick snapshots without reading them; an encrypted one's
    /// say its kind and time only.
    func publish(_ partial: String, manifest: Manifest, at moment: Date, encrypted: Bool) throws -> Snapshot {
        let size: Int64
        do {
            size = try SystemCalls.size(of: partial)
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(path: error.path, reason: error.reason)
        }
        let attributes =
            encrypted
            ? ["kind": manifest.kind.rawValue, "created-at": manifest.createdAt]
            : manifest.objectMetadata
        var sequence = 0
        while true {
            sequence += 1
            let name = SnapshotName.make(source: manifest.source, at: moment, sequence: sequence, encrypted: encrypted)
            let written: String?
            do {
                written = try store.create(name, from: partial, attributes: attributes)
            } catch ByteStoreError.exists {
                // Another backup took this name in the same second.
                continue
            }
            let snapshot = Snapshot(
                path: store.path(of: name), bytes: size, manifest: manifest, encrypted: encrypted,
                listedAt: written)
            SignedSnapshots.remember(snapshot, in: description)
            return snapshot
        }
    }

    /// Publishes, as `publish` does, the plain snapshot of `source` that
    /// `write` writes to `partial` and whose manifest it returns; a store that
    /// can sends the file while it is written, told how far through `feed`,
    /// under the first name of the second if free. Nothing is visible under a
    /// snapshot's name before the whole file is.
    func publish(
        writing partial: String, source: String, at moment: Date,
        _ write: (_ feed: any GrowthFeed) throws -> Manifest
    ) throws -> Snapshot {
        let name = SnapshotName.make(source: source, at: moment, sequence: 1, encrypted: false)
        var written: Manifest?
        let created = try store.create(name, writing: partial) { feed in
            let manifest = try write(feed)
            written = manifest
            return manifest.objectMetadata
        }
        guard let manifest = written else { throw BackupError.compression("the snapshot was not written") }
        guard created else { return try publish(partial, manifest: manifest, at: moment, encrypted: false) }
        let size = (try? SystemCalls.size(of: partial)) ?? 0
        let snapshot = Snapshot(path: store.path(of: name), bytes: size, manifest: manifest, encrypted: false)
        SignedSnapshots.remember(snapshot, in: description)
        return snapshot
    }

    /// Calls `body` with a file on this machine holding the snapshot's bytes:
    /// the snapshot itself, or a private copy downloaded beside `near` and removed after.
    func withFile<T>(of snapshot: Snapshot, near: String, _ body: (String) throws -> T) throws -> T {
        guard let name = try store.name(at: snapshot.path) else { return try body(snapshot.path) }
        // Its size as listed, so object storage need not list it again (0: not known).
        return try store.withLocalFile(of: name, size: snapshot.bytes > 0 ? snapshot.bytes : nil, near: near) { local in
            do {
                return try body(local)
            } catch BackupError.cannotRead(local, let reason) {
                // Said of the snapshot, not of the file on this machine that holds its bytes.
                throw BackupError.cannotRead(path: snapshot.path, reason: reason)
            }
        }
    }

    /// Removes one snapshot.
    func remove(_ snapshot: Snapshot) throws {
        guard let name = try store.name(at: snapshot.path) else { return }
        try store.remove(name)
    }

    /// Runs `body` while holding the store's lock, so two backups or prunes
    /// of one store never run at once; the second waits.
    func exclusively<T>(_ body: () throws -> T) throws -> T {
        try store.exclusively(body)
    }

    /// As `exclusively`, given the lock, to confirm it before a step that needs it still held.
    func holding<T>(_ body: (any StoreLock) throws -> T) throws -> T {
        try store.holding(body)
    }

    /// The heads of a listing as they arrive, from several threads.
    private final class HeadList: @unchecked Sendable {
        // Guarded by `lock`.
        private var heads: [Result<Snapshot, SnapshotCatalog.Unreadable>?]
        private let lock = NSLock()

        init(count: Int) {
            heads = Array(repeating: nil, count: count)
        }

        func set(_ index: Int, _ head: Result<Snapshot, SnapshotCatalog.Unreadable>) {
            lock.lock()
            defer { lock.unlock() }
            heads[index] = head
        }

        var all: [Result<Snapshot, SnapshotCatalog.Unreadable>?] {
            lock.lock()
            defer { lock.unlock() }
            return heads
        }
    }
}

extension SnapshotCatalog.Unreadable: Error {}

extension Manifest {
    /// The manifest's key fields as an object's attributes (object storage's
    /// `x-amz-meta-…`): ASCII only, so a file name past ASCII is
    /// percent-encoded. The names are the manifest's with `-` for `_`: many
    /// HTTP servers drop header names holding `_` (nginx by default, moto's),
    /// so `created_at` would be lost.
    var objectMetadata: [String: String] {
        [
            "kind": kind.rawValue, "created-at": createdAt, "source": SignatureV4.percentEncode(source),
            "format-version": String(formatVersion), "database-bytes": String(databaseBytes),
            "database-sha256": databaseSha256, "verify": verify,
        ]
    }
}
