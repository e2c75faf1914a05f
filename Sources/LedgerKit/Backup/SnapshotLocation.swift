import Foundation

/// Where snapshots are kept (SPEC §4): a folder on this machine, or a prefix in
/// S3-compatible object storage (`s3://BUCKET/PREFIX`). Every backup command
/// goes through this interface and never asks which one it has.
///
/// A snapshot's `path` names it within its location: a file path for a
/// folder, `s3://BUCKET/PREFIX/NAME` for object storage, so a `Snapshot` alone
/// says where its bytes are (`BackupLocation.containing`).
public protocol SnapshotLocation: Sendable, CustomStringConvertible {
    /// Checks the location can take snapshots (creating a folder when missing),
    /// so a command refuses before any work rather than after it.
    func prepare() throws

    /// Every snapshot, oldest first, read from their heads only; entries that
    /// look like snapshots but whose head cannot be read are `unreadable`. An
    /// encrypted snapshot's manifest is read when `keys` open it; without them
    /// it is listed by its name.
    func list(with keys: SnapshotIdentities) throws -> (snapshots: [Snapshot], unreadable: [SnapshotCatalog.Unreadable])

    /// The snapshot at `path` (a path `list` gives), from its head.
    func snapshot(at path: String, with keys: SnapshotIdentities) throws -> Snapshot

    /// The names of the entries `list` would read (`SnapshotName.isListed`),
    /// from the listing alone: no snapshot is opened.
    func listedNames() throws -> [String]

    /// A small file of the location's own (`.ledger-recipients`), or nil when it has none.
    func setting(_ name: String) throws -> Data?

    /// A folder on this machine where a snapshot is built before `publish`:
    /// the folder itself, or for object storage the folder of `source`.
    func stagingFolder(for source: String) -> String

    /// Whether the file built in the staging folder becomes the snapshot
    /// itself (so it is fsynced before `publish`), rather than being sent
    /// elsewhere and removed (object storage: the server keeps it safe).
    var keepsStagedFile: Bool { get }

    /// Publishes the complete file `partial` (fsynced when `keepsStagedFile`) under the first snapshot
    /// name of `moment` that is free (`-2`, `-3`… after the `Z`; `.age` after
    /// the name when `encrypted`), never replacing one; `partial` stays the
    /// caller's to remove.
    func publish(_ partial: String, manifest: Manifest, at moment: Date, encrypted: Bool) throws -> Snapshot

    /// Publishes, as `publish` does, the plain snapshot of `source` that
    /// `write` writes to `partial` and whose manifest it returns;
    /// a location that can sends the file while it is written, told how far
    /// through `feed`. Nothing is visible under a snapshot's name before the
    /// whole file is.
    func publish(writing partial: String, source: String, at moment: Date,
                 _ write: (_ feed: any SnapshotFeed) throws -> Manifest) throws -> Snapshot

    /// Calls `body` with a file on this machine holding the snapshot's bytes: the
    /// snapshot itself, or a private copy downloaded beside `near` and removed after.
    func withFile<T>(of snapshot: Snapshot, near: String, _ body: (String) throws -> T) throws -> T

    /// Removes one snapshot.
    func remove(_ snapshot: Snapshot) throws

    /// Runs `body` while holding the location's lock, so two backups or prunes
    /// of one location never run at once; the second waits.
    func exclusively<T>(_ body: () throws -> T) throws -> T
}

/// What a snapshot's writer tells the location while it writes.
public protocol SnapshotFeed: Sendable {
    /// The file's first `bytes` bytes are written, and final but for the gzip
    /// header's comment (the manifest, within the first KiBs), written last.
    func grew(to bytes: Int64)
    /// The manifest is known (it will not change), before the file is whole.
    func known(_ manifest: Manifest)
}

extension SnapshotLocation {
    /// Writes the whole file, then publishes it.
    public func publish(writing partial: String, source: String, at moment: Date,
                        _ write: (_ feed: any SnapshotFeed) throws -> Manifest) throws -> Snapshot {
        let manifest = try write(UnheardFeed())
        return try publish(partial, manifest: manifest, at: moment, encrypted: false)
    }
}

extension SnapshotLocation {
    /// From `list`, for a location that has no cheaper way.
    public func listedNames() throws -> [String] {
        let listing = try list(with: SnapshotIdentities())
        return (listing.snapshots.map(\.path) + listing.unreadable.map(\.path)).map { URL(fileURLWithPath: $0).lastPathComponent }
    }
}

/// A feed no one listens to.
struct UnheardFeed: SnapshotFeed {
    func grew(to bytes: Int64) {}
    func known(_ manifest: Manifest) {}
}

/// Opening the location a user named.
public enum BackupLocation {
    /// The location `text` names: `s3://BUCKET/PREFIX`, else a folder.
    /// - Parameter environment: where object storage's configuration comes
    ///   from (SPEC §4: the AWS CLI's variables and files).
    public static func open(_ text: String,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any SnapshotLocation {
        if let location = try S3Location(text) {
            return S3SnapshotLocation(location, configuration: try S3Configuration.resolve(environment: environment))
        }
        return FolderLocation(text)
    }

    /// What `restore SNAPSHOT|DIR` names: a location, and the snapshot in it
    /// when the text names one snapshot (a file, or an object `….gz`).
    public static func source(_ text: String,
                              environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> (location: any SnapshotLocation, snapshot: String?) {
        if let location = try S3Location(text) {
            let configuration = try S3Configuration.resolve(environment: environment)
            guard SnapshotName.isListed(location.name) else { return (S3SnapshotLocation(location, configuration: configuration), nil) }
            return (S3SnapshotLocation(location.parent, configuration: configuration), location.description)
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: text, isDirectory: &isFolder) else {
            throw BackupError.cannotRead(path: text, reason: "no such file or folder")
        }
        if isFolder.boolValue { return (FolderLocation(text), nil) }
        return (FolderLocation(URL(fileURLWithPath: text).deletingLastPathComponent().path), text)
    }

    /// The location a snapshot was listed from, told by its path.
    public static func containing(_ snapshot: Snapshot,
                                  environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any SnapshotLocation {
        if let location = try S3Location(snapshot.path) {
            return S3SnapshotLocation(location.parent, configuration: try S3Configuration.resolve(environment: environment))
        }
        return FolderLocation(URL(fileURLWithPath: snapshot.path).deletingLastPathComponent().path)
    }
}

/// Snapshots as files in a folder: published with `link(2)`, which never
/// replaces a name, and locked with `flock(2)` on `.ledger.lock`.
struct FolderLocation: SnapshotLocation {
    let folder: String

    /// `folder` as given, less trailing slashes (`backups/` names `backups`; `/` stays `/`).
    init(_ folder: String) {
        var trimmed = Substring(folder)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        self.folder = String(trimmed)
    }

    var description: String { folder }

    func prepare() throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw BackupError.cannotWrite(path: folder, reason: "it is a file, not a folder") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw BackupError.cannotWrite(path: folder, reason: "the folder cannot be created")
            }
        }
        guard access(folder, W_OK) == 0 else { throw BackupError.cannotWrite(path: folder, reason: "the folder is not writable") }
    }

    func list(with keys: SnapshotIdentities) throws -> (snapshots: [Snapshot], unreadable: [SnapshotCatalog.Unreadable]) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw BackupError.cannotRead(path: folder, reason: "no such folder")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var snapshots: [Snapshot] = [], unreadable: [SnapshotCatalog.Unreadable] = []
        for name in names.sorted() where SnapshotName.isListed(name) {
            let path = folder + "/" + name
            do {
                snapshots.append(try snapshot(at: path, with: keys))
            } catch {
                unreadable.append(.init(path: path, reason: (error as? LocalizedError)?.errorDescription ?? "\(error)"))
            }
        }
        return (snapshots.sorted(by: SnapshotCatalog.isOlder), unreadable)
    }

    func listedNames() throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else { return [] }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).filter(SnapshotName.isListed).sorted()
        } catch {
            throw BackupError.cannotRead(path: folder, reason: "its names cannot be listed")
        }
    }

    func snapshot(at path: String, with keys: SnapshotIdentities) throws -> Snapshot {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BackupError.cannotRead(path: path, reason: "cannot open it")
        }
        defer { try? handle.close() }
        let encrypted = SnapshotName.isEncrypted(URL(fileURLWithPath: path).lastPathComponent)
        let head = [UInt8]((try? handle.read(upToCount: SnapshotCatalog.headBytes(encrypted: encrypted))) ?? Data())
        let size = (try? SystemCalls.size(of: path)) ?? 0
        return try SnapshotCatalog.snapshot(head: head, path: path, bytes: size, keys: keys, kind: nil, listedAt: modified(path))
    }

    /// A file's modification time: when its snapshot was written here (or copied here).
    private func modified(_ path: String) -> String? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date).map(Timestamp.string(from:))
    }

    func setting(_ name: String) throws -> Data? {
        let path = folder + "/" + name
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BackupError.cannotRead(path: path, reason: "cannot open it")
        }
        return data
    }

    func stagingFolder(for source: String) -> String { folder }

    var keepsStagedFile: Bool { true }

    func publish(_ partial: String, manifest: Manifest, at moment: Date, encrypted: Bool) throws -> Snapshot {
        var sequence = 0
        while true {
            sequence += 1
            let final = folder + "/" + SnapshotName.make(source: manifest.source, at: moment, sequence: sequence, encrypted: encrypted)
            do {
                try SystemCalls.link(partial, final)
            } catch let error as SystemCallError where error.code == EEXIST {
                continue
            } catch let error as SystemCallError {
                throw BackupError.cannotWrite(path: final, reason: error.reason)
            }
            try AtomicFile.fsync(path: folder)
            return Snapshot(path: final, bytes: (try? SystemCalls.size(of: final)) ?? 0, manifest: manifest, encrypted: encrypted,
                            listedAt: modified(final))
        }
    }

    func withFile<T>(of snapshot: Snapshot, near: String, _ body: (String) throws -> T) throws -> T {
        try body(snapshot.path)
    }

    func remove(_ snapshot: Snapshot) throws {
        guard unlink(snapshot.path) == 0 || errno == ENOENT else {
            throw BackupError.cannotWrite(path: snapshot.path, reason: String(cString: strerror(errno)))
        }
        try AtomicFile.fsync(path: folder)
    }

    func exclusively<T>(_ body: () throws -> T) throws -> T {
        let lock = try FolderLock(folder: folder)
        defer { lock.release() }
        return try body()
    }
}
