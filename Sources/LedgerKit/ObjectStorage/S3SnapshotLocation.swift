import Foundation

/// Snapshots as objects under a prefix in S3-compatible object storage (SPEC
/// §4): each snapshot is one object `PREFIX/<name>` holding exactly the bytes a
/// folder would hold, created only when complete and never over an existing
/// name (`If-None-Match: *`; a taken name moves on to `-2`, `-3`…). Its user
/// metadata repeats the manifest's key fields, so other tools can sort and
/// pick snapshots without reading them.
final class S3SnapshotLocation: SnapshotLocation {
    let location: S3Location
    let client: S3Client

    init(_ location: S3Location, configuration: S3Configuration) {
        self.location = location
        client = S3Client(configuration: configuration)
    }

    init(_ location: S3Location, client: S3Client) {
        self.location = location
        self.client = client
    }

    var description: String { location.description }

    /// Any failure of a request, as the one line a person reads.
    private func talking<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw explained(error)
        }
    }

    private func explained(_ error: any Error) -> any Error {
        switch error {
        case is ObjectStorageError, is BackupError: return error
        case let error as SystemCallError: return BackupError.cannotWrite(path: error.path, reason: error.reason)
        default: return ObjectStorageError.explaining(error, at: description)
        }
    }

    /// Checks the bucket answers with these credentials: one listing request.
    func prepare() throws {
        try talking { _ = try client.expect("GET", bucket: location.bucket, query: [("list-type", "2"), ("max-keys", "1"),
                                                                                   ("prefix", location.key(""))]) }
    }

    func list(with keys: SnapshotIdentities) throws -> (snapshots: [Snapshot], unreadable: [SnapshotCatalog.Unreadable]) {
        let objects = try talking { try client.list(bucket: location.bucket, prefix: location.key("")) }
        let candidates = objects.filter { SnapshotName.isListed(name(of: $0.key)) }
        let heads = HeadList(count: candidates.count)
        // Heads are small: a few requests at once hide the round trips.
        try talking {
            try Parallel.forEach(candidates.count, width: 8) { index in
                let object = candidates[index]
                let path = self.path(of: object.key)
                do {
                    heads.set(index, .success(try self.snapshot(key: object.key, path: path, size: object.size, keys: keys,
                                                                listedAt: object.lastModified)))
                } catch let error as BackupError {
                    heads.set(index, .failure(.init(path: path, reason: error.errorDescription ?? "\(error)")))
                } catch let error as EncryptionError {
                    heads.set(index, .failure(.init(path: path, reason: error.errorDescription ?? "\(error)")))
                }
            }
        }
        var snapshots: [Snapshot] = [], unreadable: [SnapshotCatalog.Unreadable] = []
        for head in heads.all {
            switch head {
            case .success(let snapshot): snapshots.append(snapshot)
            case .failure(let entry): unreadable.append(entry)
            case nil: break
            }
        }
        return (snapshots.sorted(by: SnapshotCatalog.isOlder), unreadable)
    }

    func listedNames() throws -> [String] {
        try talking { try client.list(bucket: location.bucket, prefix: location.key("")) }.map { name(of: $0.key) }.filter(SnapshotName.isListed)
    }

    func snapshot(at path: String, with keys: SnapshotIdentities) throws -> Snapshot {
        guard let named = try S3Location(path), named.bucket == location.bucket else {
            throw BackupError.cannotRead(path: path, reason: "it is not in \(description)")
        }
        return try talking {
            let (head, _) = try client.send("HEAD", bucket: named.bucket, key: named.prefix)
            if head.statusCode == 404 { throw BackupError.cannotRead(path: path, reason: "no such snapshot") }
            guard (200..<300).contains(head.statusCode) else {
                throw S3Failure.status(head.statusCode, code: nil, request: "HEAD \(named.prefix)")
            }
            let size = Int64(head.value(forHTTPHeaderField: "Content-Length") ?? "") ?? 0
            return try snapshot(key: named.prefix, path: path, size: size, keys: keys,
                                kind: head.value(forHTTPHeaderField: "x-amz-meta-kind").flatMap(SnapshotKind.init(rawValue:)),
                                listedAt: head.value(forHTTPHeaderField: "Last-Modified").flatMap(ListingParser.httpDateSeconds))
        }
    }

    func setting(_ name: String) throws -> Data? {
        try talking {
            let (response, data) = try client.send("GET", bucket: location.bucket, key: location.key(name))
            if response.statusCode == 404 { return nil }
            guard (200..<300).contains(response.statusCode) else {
                throw S3Failure.status(response.statusCode, code: S3ErrorDocument.code(in: data), request: "GET \(location.key(name))")
            }
            return data
        }
    }

    /// The snapshot `key`, from a ranged read of its head: 4 KiB holds any
    /// manifest this tool writes; a longer header is read up to 64 KiB. An
    /// encrypted one is read with its age header and first chunk when there
    /// are keys, and known by its name and metadata (one HEAD) when there are
    /// none. `listedAt` is the object's `LastModified`.
    private func snapshot(key: String, path: String, size: Int64, keys: SnapshotIdentities, kind: SnapshotKind? = nil,
                          listedAt: String?) throws -> Snapshot {
        guard size > 0 else { throw BackupError.damagedSnapshot("\(path) is empty") }
        if SnapshotName.isEncrypted(name(of: key)) {
            var kind = kind
            if keys.isEmpty && kind == nil {
                let (head, _) = try client.send("HEAD", bucket: location.bucket, key: key)
                kind = head.value(forHTTPHeaderField: "x-amz-meta-kind").flatMap(SnapshotKind.init(rawValue:))
            }
            let head = keys.isEmpty ? [] : [UInt8](try client.read(bucket: location.bucket, key: key,
                                                                   range: 0...min(size, Int64(SnapshotCatalog.headBytes(encrypted: true))) - 1))
            return try SnapshotCatalog.snapshot(head: head, path: path, bytes: size, keys: keys, kind: kind, listedAt: listedAt)
        }
        var head = [UInt8](try client.read(bucket: location.bucket, key: key, range: 0...min(size, 4096) - 1))
        if Gzip.parseHeader(head) == nil && size > 4096 {
            head = [UInt8](try client.read(bucket: location.bucket, key: key,
                                           range: 0...min(size, Int64(SnapshotCatalog.headBytes(encrypted: false))) - 1))
        }
        return try SnapshotCatalog.snapshot(head: head, path: path, bytes: size, listedAt: listedAt)
    }

    private func name(of key: String) -> String {
        String(key.dropFirst(location.key("").count))
    }

    private func path(of key: String) -> String {
        "s3://\(location.bucket)/\(key)"
    }

    /// The source's own folder: the partial snapshot is built beside the file it copies.
    func stagingFolder(for source: String) -> String {
        URL(fileURLWithPath: source).deletingLastPathComponent().path
    }

    /// The staged file is sent, then removed: its bytes on this disk need no sync.
    var keepsStagedFile: Bool { false }

    func publish(_ partial: String, manifest: Manifest, at moment: Date, encrypted: Bool) throws -> Snapshot {
        let size = try talking { try SystemCalls.size(of: partial) }
        var sequence = 0
        while true {
            sequence += 1
            let name = SnapshotName.make(source: manifest.source, at: moment, sequence: sequence, encrypted: encrypted)
            // An encrypted snapshot's metadata in the clear is its kind and time only.
            let metadata = encrypted ? ["kind": manifest.kind.rawValue, "created-at": manifest.createdAt] : manifest.objectMetadata
            do {
                try client.upload(file: partial, bucket: location.bucket, key: location.key(name),
                                  metadata: metadata, progress: TransferProgress.reporter("Uploading \(name)"))
            } catch S3Failure.exists {
                // Another machine took this name in the same second.
                continue
            } catch {
                throw explained(error)
            }
            return Snapshot(path: path(of: location.key(name)), bytes: size, manifest: manifest, encrypted: encrypted)
        }
    }

    /// Sends the snapshot while it is written: parts go up once the manifest
    /// (and so the object's metadata) is known, which a verified backup knows
    /// when its verify ends, before the compression does. The object appears
    /// only when complete, under the first name of the second if free, else
    /// as `publish` names it.
    func publish(writing partial: String, source: String, at moment: Date,
                 _ write: (_ feed: any SnapshotFeed) throws -> Manifest) throws -> Snapshot {
        let name = SnapshotName.make(source: source, at: moment, sequence: 1, encrypted: false)
        let key = location.key(name)
        let upload = GrowingUpload(client: client, bucket: location.bucket, key: key, path: partial,
                                   progress: TransferProgress.reporter("Uploading \(name)"))
        let feed = UploadFeed(upload)
        let manifest: Manifest
        do {
            manifest = try Worker<Void>.run({ upload.sendWhileWritten() }, during: { _ in
                defer { upload.close() }
                return try write(feed)
            })
        } catch {
            upload.abandon()
            throw error
        }
        do {
            let size = try SystemCalls.size(of: partial)
            if try upload.finish(size: size, metadata: manifest.objectMetadata) {
                return Snapshot(path: path(of: key), bytes: size, manifest: manifest, encrypted: false)
            }
        } catch S3Failure.exists {
            // Another machine took the name meanwhile: the next free one, sent whole.
        } catch {
            throw explained(error)
        }
        return try publish(partial, manifest: manifest, at: moment, encrypted: false)
    }

    /// Hands a writer's news to an upload.
    private struct UploadFeed: SnapshotFeed {
        let upload: GrowingUpload

        init(_ upload: GrowingUpload) {
            self.upload = upload
        }

        func grew(to bytes: Int64) { upload.grew(to: bytes) }
        func known(_ manifest: Manifest) { upload.begin(metadata: manifest.objectMetadata) }
    }

    func withFile<T>(of snapshot: Snapshot, near: String, _ body: (String) throws -> T) throws -> T {
        guard let named = try S3Location(snapshot.path) else { return try body(snapshot.path) }
        let copy = AtomicFile.temporaryPath(beside: near, purpose: "download")
        defer { unlink(copy) }
        try talking {
            _ = try client.download(bucket: named.bucket, key: named.prefix, to: copy,
                                    progress: TransferProgress.reporter("Downloading \(named.name)"))
        }
        return try body(copy)
    }

    func remove(_ snapshot: Snapshot) throws {
        guard let named = try S3Location(snapshot.path) else { return }
        try talking { _ = try client.expect("DELETE", bucket: named.bucket, key: named.prefix) }
    }

    func exclusively<T>(_ body: () throws -> T) throws -> T {
        let lease = try talking { try S3Lease(client: client, at: location) }
        defer { lease.release() }
        return try body()
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
    /// The manifest's key fields as an object's user metadata (`x-amz-meta-…`):
    /// ASCII only, so a file name past ASCII is percent-encoded. The names are
    /// the manifest's with `-` for `_`: many HTTP servers drop header names
    /// holding `_` (nginx by default, moto's), so `created_at` would be lost.
    var objectMetadata: [String: String] {
        ["kind": kind.rawValue, "created-at": createdAt, "source": SignatureV4.percentEncode(source),
         "format-version": String(formatVersion), "database-bytes": String(databaseBytes),
         "database-sha256": databaseSha256, "verify": verify]
    }
}
