import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A `ByteStore` under a prefix in S3-compatible object storage
/// (docs/snapshots.md): each object `PREFIX/<name>`, created only when
/// complete and never over an existing name (`If-None-Match: *`), with its
/// attributes as user metadata (`x-amz-meta-…`). The lock is a lease object
/// (`S3Lease`). Every failure of a request reaches the caller as the one line
/// a person reads (`ObjectStorageError`).
public final class S3Store: ByteStore {
    let location: S3Location
    let client: S3Client

    /// The store at `location`, reached as `configuration` says.
    public convenience init(_ location: S3Location, configuration: S3Configuration) {
        self.init(location, client: S3Client(configuration: configuration))
    }

    init(_ location: S3Location, client: S3Client) {
        self.location = location
        self.client = client
    }

    /// The location, as `s3://BUCKET/PREFIX`.
    public var description: String { location.description }

    /// Runs `body`, turning any failure of a request into the one line a person reads.
    private func explainingFailures<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw explained(error)
        }
    }

    private func explained(_ error: any Error) -> any Error {
        switch error {
        case is ObjectStorageError, is FileError, is ByteStoreError: return error
        case let error as SystemCallError: return FileError.cannotWrite(path: error.path, reason: error.reason)
        default: return ObjectStorageError.explaining(error, at: description)
        }
    }

    /// The key of the object `name`.
    private func key(_ name: String) -> String { location.key(name) }

    /// Checks the bucket answers with these credentials: one listing request.
    public func prepare() throws {
        try explainingFailures {
            _ = try client.expect(
                "GET", bucket: location.bucket,
                query: [
                    ("list-type", "2"), ("max-keys", "1"),
                    ("prefix", key("")),
                ])
        }
    }

    /// Always true: object storage has no place to make, and asking costs a request.
    public func exists() throws -> Bool { true }

    /// The listing's keys directly under `prefix` of the store's prefix; a key
    /// the server lists outside it, or further down (a `/` past `prefix`: a
    /// "sub-folder"), is no object of this store's folder, and is never
    /// taken for a snapshot, nor removed as one. A key listed twice is listed
    /// once (as first given): a snapshot counted twice would take a place the
    /// keep rules give another.
    public func list(prefix: String) throws -> [StoredObject] {
        let top = key("")
        var seen: Set<String> = []
        return try explainingFailures { try client.list(bucket: location.bucket, prefix: top + prefix) }
            .filter { $0.key.hasPrefix(top + prefix) && !$0.key.dropFirst(top.count + prefix.count).contains("/") }
            .filter { seen.insert($0.key).inserted }
            .map { StoredObject(name: String($0.key.dropFirst(top.count)), size: $0.size, modified: $0.lastModified) }
    }

    /// The prefixes one level down that hold objects, without their trailing `/`;
    /// any the server lists outside the store's prefix are left out.
    public func folders() throws -> [String] {
        let top = key("")
        return try explainingFailures { try client.folders(bucket: location.bucket, prefix: top) }
            .filter { $0.hasPrefix(top) && $0.hasSuffix("/") && $0.count > top.count + 1 }
            .map { String($0.dropFirst(top.count).dropLast()) }
            .filter { !$0.contains("/") }
    }

    /// The object `name` with its size, time and user metadata (one HEAD request),
    /// or nil when there is none.
    public func entry(_ name: String) throws -> StoredObject? {
        try explainingFailures {
            let (head, _) = try client.send("HEAD", bucket: location.bucket, key: key(name))
            if head.statusCode == 404 { return nil }
            guard (200..<300).contains(head.statusCode) else {
                throw S3Failure.status(head.statusCode, code: nil, request: "HEAD \(key(name))")
            }
            var attributes: [String: String] = [:]
            for (field, value) in head.allHeaderFields {
                guard let field = (field as? String)?.lowercased(), field.hasPrefix("x-amz-meta-"),
                    let value = value as? String
                else { continue }
                attributes[String(field.dropFirst("x-amz-meta-".count))] = value
            }
            return StoredObject(
                name: name, size: Int64(head.value(forHTTPHeaderField: "Content-Length") ?? "") ?? 0,
                modified: head.value(forHTTPHeaderField: "Last-Modified").flatMap(ListingParser.httpDateSeconds),
                attributes: attributes)
        }
    }

    /// Bytes `range` of the object `name` (a ranged GET): fewer only where it ends.
    public func read(_ name: String, range: ClosedRange<Int64>) throws -> Data {
        try explainingFailures { try client.read(bucket: location.bucket, key: key(name), range: range) }
    }

    /// The whole object `name` when it is at most `limit` bytes, or nil when there
    /// is none; a longer one throws `ByteStoreError.tooLarge`.
    public func contents(of name: String, limit: Int) throws -> Data? {
        let data: Data? = try explainingFailures {
            // Held to the caller's limit, not the client's own bound: a sealed pack is over 16 MiB.
            let (response, data): (HTTPURLResponse, Data)
            do {
                (response, data) = try client.send(
                    "GET", bucket: location.bucket, key: key(name), expecting: Int64(limit),
                    plan: { _ in .memory(limit: limit) })
            } catch S3Failure.tooLarge {
                throw ByteStoreError.tooLarge(path: path(of: name), limit: limit)
            }
            if response.statusCode == 404 { return nil }
            guard (200..<300).contains(response.statusCode) else {
                throw S3Failure.status(
                    response.statusCode, code: S3ErrorDocument.code(in: data), request: "GET \(key(name))")
            }
            return data
        }
        if let data, data.count > limit { throw ByteStoreError.tooLarge(path: path(of: name), limit: limit) }
        return data
    }

    /// Downloads the object to a private file beside `near`, calls `body` with its
    /// path, and removes the file after. No more is read than the listing
    /// gives the object (`size`, or a listing of it made here): a HEAD that says
    /// otherwise is refused before any byte.
    public func withLocalFile<T>(of name: String, size: Int64?, near: String, _ body: (String) throws -> T) throws -> T
    {
        let copy = AtomicFile.temporaryPath(beside: near, purpose: "download")
        defer { unlink(copy) }
        try explainingFailures {
            guard let size = try size ?? list(prefix: name).first(where: { $0.name == name })?.size else {
                throw S3Failure.status(404, code: "NoSuchKey", request: "GET \(key(name))")
            }
            _ = try client.download(
                bucket: location.bucket, key: key(name), to: copy, size: size,
                progress: TransferProgress.reporter("Downloading \(name)"))
        }
        return try body(copy)
    }

    /// Nil: the file is sent, then removed, so any folder of this machine will do.
    public var stagingFolder: String? { nil }

    /// - Returns: nil: when it was written is told only by another request.
    @discardableResult
    public func create(_ name: String, from path: String, attributes: [String: String]) throws -> String? {
        do {
            try client.upload(
                file: path, bucket: location.bucket, key: key(name), metadata: attributes,
                progress: TransferProgress.reporter("Uploading \(name)"))
            return nil
        } catch S3Failure.exists {
            throw ByteStoreError.exists(store: description, name: name)
        } catch {
            throw explained(error)
        }
    }

    /// Sends the file while it is written: parts go up once the attributes
    /// (the object's metadata) are settled, and the object appears only
    /// when complete.
    public func create(
        _ name: String, writing path: String,
        _ write: (_ feed: any GrowthFeed) throws -> [String: String]
    ) throws -> Bool {
        let upload = GrowingUpload(
            client: client, bucket: location.bucket, key: key(name), path: path,
            progress: TransferProgress.reporter("Uploading \(name)"))
        let attributes: [String: String]
        do {
            attributes = try Worker<Void>.run(
                { upload.sendWhileWritten() },
                during: { _ in
                    defer { upload.close() }
                    return try write(UploadFeed(upload))
                })
        } catch {
            upload.abandon()
            throw error
        }
        do {
            return try upload.finish(size: try SystemCalls.size(of: path), metadata: attributes)
        } catch S3Failure.exists {
            // Another machine took the name meanwhile: the caller sends the file whole.
            return false
        } catch {
            throw explained(error)
        }
    }

    /// Hands a writer's news to an upload.
    private struct UploadFeed: GrowthFeed {
        let upload: GrowingUpload

        init(_ upload: GrowingUpload) {
            self.upload = upload
        }

        func grew(to bytes: Int64) { upload.grew(to: bytes) }
        func settled(_ attributes: [String: String]) { upload.begin(metadata: attributes) }
    }

    /// Deletes the object `name`; one already gone is no error.
    public func remove(_ name: String) throws {
        try explainingFailures { _ = try client.expect("DELETE", bucket: location.bucket, key: key(name)) }
    }

    /// Waits for and takes the store's lease object (`S3Lease`).
    public func lock() throws -> any StoreLock {
        try explainingFailures { try S3Lease(client: client, at: location) }
    }

    /// The object's full address, `s3://BUCKET/PREFIX/name`, for messages.
    public func path(of name: String) -> String {
        "s3://\(location.bucket)/\(key(name))"
    }

    /// The name of the object at the `s3://` address `path` when it is under this
    /// store's prefix in the same bucket, else nil.
    public func name(at path: String) throws -> String? {
        guard let named = try S3Location(path), named.bucket == location.bucket, named.prefix.hasPrefix(key("")) else {
            return nil
        }
        return String(named.prefix.dropFirst(key("").count))
    }
}
