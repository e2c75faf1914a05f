import Foundation

/// A place that keeps named bytes and knows nothing of what they mean (as
/// restic's `Backend`, internal/backend/backend.go): a folder on this machine
/// (`FolderStore`) or a prefix in object storage (`S3Store`). Snapshots,
/// their names, manifests and encryption live above it, in Backup.
///
/// Everything a store reports — the names and sizes of a listing, an entry's
/// attributes, the bytes of a read — may have been written by someone else
/// and is hostile: a caller checks it before trusting it.
///
/// A name never holds half an object: `create` makes a name appear only when
/// all its bytes are there, and never over an existing one.
public protocol ByteStore: Sendable, CustomStringConvertible {
    /// Checks the store can take new objects (creating its folder when
    /// missing), so a command refuses before any work rather than after it.
    func prepare() throws

    /// Whether the place itself is there: a folder that exists (a folder never
    /// made has no listing); object storage always is (asking costs a request).
    func exists() throws -> Bool

    /// Every object whose name starts with `prefix`, from the listing alone
    /// (no object is opened); no attributes.
    func list(prefix: String) throws -> [StoredObject]

    /// The names one level down that hold objects of their own: a folder's
    /// sub-folders, object storage's prefixes up to the next `/`. Each names
    /// a store of its own at `path(of: name)`.
    func folders() throws -> [String]

    /// The object `name`, with its attributes, or nil when there is none.
    func entry(_ name: String) throws -> StoredObject?

    /// Bytes `range` of the object `name`: fewer only where the object ends.
    func read(_ name: String, range: ClosedRange<Int64>) throws -> Data

    /// The whole object `name` when it is at most `limit` bytes, or nil when
    /// there is none; a longer one is refused.
    func contents(of name: String, limit: Int) throws -> Data?

    /// Calls `body` with a file on this machine holding the object's bytes:
    /// the object itself, or a private copy streamed down beside `near` and
    /// removed after.
    /// - Parameter size: the object's size as a listing gave it, when the caller
    ///   has one: no more is read, and the store need not list it again.
    func withLocalFile<T>(of name: String, size: Int64?, near: String, _ body: (String) throws -> T) throws -> T

    /// A folder on this machine where a file that becomes an object is best
    /// built (`create` then moves it rather than copying it), or nil when any
    /// folder will do.
    var stagingFolder: String? { get }

    /// Creates the object `name` from the complete file at `path`, with
    /// `attributes` (object storage's user metadata; a folder keeps none),
    /// only if no object has that name: nothing is visible under `name` before
    /// every byte is. `path` stays the caller's to remove.
    /// - Returns: when the object was written, as `modified` gives it, when
    ///   the store tells without another request.
    /// - Throws: `ByteStoreError.exists` when the name is taken.
    @discardableResult
    func create(_ name: String, from path: String, attributes: [String: String]) throws -> String?

    /// Sends the file at `path` as `name` while `write` writes it, told how far
    /// through its feed; `write` returns the object's attributes, which may be
    /// told early (`GrowthFeed.settled`). Nothing is visible under `name`
    /// before the whole file is.
    /// - Returns: whether the object was created; when false (the store sends
    ///   nothing while written, the name was taken, or the attributes changed)
    ///   the file is whole and the caller creates an object from it.
    func create(
        _ name: String, writing path: String,
        _ write: (_ feed: any GrowthFeed) throws -> [String: String]
    ) throws -> Bool

    /// Removes the object `name`; one already gone is no error.
    func remove(_ name: String) throws

    /// Waits for and takes the store's lock (a lease for object storage), so
    /// two writers of one store never run at once; the second waits.
    func lock() throws -> any StoreLock

    /// The path a person reads for the object `name`: a file's path, or `s3://BUCKET/KEY`.
    func path(of name: String) -> String

    /// The name of the object `path` (as `path(of:)` gives) within this
    /// store, or nil when `path` names no object of it.
    func name(at path: String) throws -> String?
}

/// What a writer tells a store while the file it sends grows.
public protocol GrowthFeed: Sendable {
    /// The file's first `bytes` bytes are written and final but for a
    /// part within the first KiBs written last.
    func grew(to bytes: Int64)
    /// The object's attributes are known (they will not change), before the file is whole.
    func settled(_ attributes: [String: String])
}

/// A held store lock.
public protocol StoreLock: Sendable {
    /// Lets the next waiter in.
    func release()

    /// Makes sure, now, that the lock is still this run's (a lease renewed on
    /// the spot), before a step that is safe only under it.
    /// - Throws: when another run may have taken it since.
    func confirm() throws
}

extension StoreLock {
    /// A lock that cannot be lost while held (a folder's) needs no confirming.
    public func confirm() throws {}
}

extension ByteStore {
    /// Runs `body` while holding the store's lock.
    public func exclusively<T>(_ body: () throws -> T) throws -> T {
        try holding { _ in try body() }
    }

    /// Runs `body` while holding the store's lock, given the lock (to confirm it).
    public func holding<T>(_ body: (any StoreLock) throws -> T) throws -> T {
        let held = try lock()
        defer { held.release() }
        return try body(held)
    }

    /// Writes the whole file, then leaves creating the object to the caller.
    public func create(
        _ name: String, writing path: String,
        _ write: (_ feed: any GrowthFeed) throws -> [String: String]
    ) throws -> Bool {
        _ = try write(SilentFeed())
        return false
    }
}

/// A feed no one listens to.
struct SilentFeed: GrowthFeed {
    func grew(to bytes: Int64) {}
    func settled(_ attributes: [String: String]) {}
}
