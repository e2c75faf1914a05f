import Crypto
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The S3 requests backups need, signed with `SignatureV4`, over the
/// toolchain's URLSession: no package to build (async-http-client would add
/// minutes to every clean build), and fast enough to fill a disk's bandwidth
/// on loopback. Every call blocks its caller: the backup commands are plain
/// threads, and waiting on a semaphore for URLSession's own queue never ties
/// up Swift's cooperative threads. Memory: one part or one chunk per request.
final class S3Client: Sendable {
    let configuration: S3Configuration
    private let session: URLSession
    private let exchanges = S3Exchanges()
    /// How requests are retried.
    let retries: RetryPolicy

    /// An object in a listing.
    struct Object: Sendable, Equatable {
        let key: String
        let size: Int64
        /// When the object was written, as `YYYY-MM-DDTHH:MM:SSZ`; nil when the listing does not say it readably.
        var lastModified: String? = nil
    }

    /// Told the bytes moved so far and the total, after each part or chunk.
    typealias Progress = @Sendable (_ done: Int64, _ total: Int64) -> Void

    /// The most of an answer kept in memory (a listing page, a lease, a
    /// location's setting): a page of 1,000 keys of S3's longest, escaped, is under 8 MiB.
    static let answerBytes = 16 << 20

    /// How long a request may wait for its next byte (URLSession's idle timeout).
    let timeout: TimeInterval
    /// The slowest transfer believed, in bytes a second: a request may take
    /// `timeout` plus its bytes at this rate in all, and is then cancelled, so
    /// that a server sending a byte now and then never holds a run for ever.
    let slowest: Double

    /// The most answer bytes a request is expected to bring when it does not say (a listing page, a lease).
    static let expectedAnswer: Int64 = 1 << 20

    init(
        configuration: S3Configuration, retries: RetryPolicy = RetryPolicy(), timeout: TimeInterval = 60,
        slowest: Double = 32_768
    ) {
        self.configuration = configuration
        self.retries = retries
        self.timeout = timeout
        self.slowest = slowest
        let settings = URLSessionConfiguration.ephemeral
        settings.timeoutIntervalForRequest = timeout
        settings.httpMaximumConnectionsPerHost = 8
        session = URLSession(configuration: settings, delegate: exchanges, delegateQueue: nil)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    /// The URL and `Host` header of `key` in `bucket`, path-style or virtual-hosted.
    func address(bucket: String, key: String, query: String = "") throws -> (url: URL, host: String, path: String) {
        let endpoint = configuration.endpoint
        guard let scheme = endpoint.scheme, let endpointHost = endpoint.host?.lowercased() else {
            throw ObjectStorageError.badConfiguration("the endpoint \(endpoint) has no host")
        }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = endpoint.port.flatMap { $0 == defaultPort ? nil : $0 }
        let host =
            (configuration.pathStyle ? endpointHost : "\(bucket).\(endpointHost)") + (port.map { ":\($0)" } ?? "")
        let base = endpoint.path.hasSuffix("/") ? String(endpoint.path.dropLast()) : endpoint.path
        let path = SignatureV4.encodePath(base + (configuration.pathStyle ? "/\(bucket)" : "") + "/\(key)")
        guard let url = URL(string: "\(scheme)://\(host)\(path)" + (query.isEmpty ? "" : "?\(query)")) else {
            throw ObjectStorageError.badConfiguration("no URL can name the object \(key)")
        }
        return (url, host, path)
    }

    /// Sends one signed request, again after a pause when the network or the
    /// server fails in a way worth another try (`RetryPolicy`), and returns the
    /// last answer and its body: in memory up to `answerBytes` unless `plan`
    /// says otherwise (chosen anew for each try); an error's first 64 KiB.
    /// Each try may take `timeout` plus its bytes (`body` and `expecting`)
    /// at `slowest`, and is cancelled then.
    /// - Throws: `S3Failure.tooLarge` for a body past its bound; `S3Failure.tooSlow`
    ///   for a try past its time (not tried again: a server that slow stays so).
    func send(
        _ method: String, bucket: String, key: String = "", query: [(String, String?)] = [],
        headers: [(name: String, value: String)] = [], body: Data = Data(),
        expecting: Int64 = S3Client.expectedAnswer, plan: AnswerBody.Plan? = nil
    ) throws -> (HTTPURLResponse, Data) {
        // The body's SHA-256 is signed; hashed once for every try, and not at all
        // when the caller already put it in a checksum header.
        let given = headers.first { $0.name.lowercased() == "x-amz-checksum-sha256" }
            .flatMap { Data(base64Encoded: $0.value) }.flatMap { $0.count == 32 ? $0 : nil }
        let payload = SignatureV4.Payload.signed(sha256: given?.hex ?? SignatureV4.Payload.sha256Hex(of: body))
        var attempt = 0
        while true {
            do {
                let answer = try once(
                    method, bucket: bucket, key: key, query: query, headers: headers, body: body, payload: payload,
                    within: timeout + Double(Int64(body.count) + max(0, expecting)) / slowest,
                    plan: plan ?? { _ in .memory(limit: Self.answerBytes) })
                let status = answer.0.statusCode
                guard attempt + 1 < retries.attempts, status >= 300,
                    RetryPolicy.isRetryable(status: status, code: S3ErrorDocument.code(in: answer.1))
                else { return answer }
            } catch let error where attempt + 1 < retries.attempts && RetryPolicy.isRetryable(error) {
                // Timed out, connection reset or refused: try again after a pause.
            }
            Thread.sleep(forTimeInterval: retries.delay(afterAttempt: attempt))
            attempt += 1
        }
    }

    private func once(
        _ method: String, bucket: String, key: String, query: [(String, String?)],
        headers: [(name: String, value: String)], body: Data,
        payload: SignatureV4.Payload, within seconds: TimeInterval, plan: @escaping AnswerBody.Plan
    ) throws -> (HTTPURLResponse, Data) {
        let encodedQuery = SignatureV4.encodeQuery(query)
        let (url, host, path) = try address(bucket: bucket, key: key, query: encodedQuery)
        var request = URLRequest(url: url)
        request.httpMethod = method
        let signer = SignatureV4(credentials: configuration.credentials, region: configuration.region)
        for (name, value) in headers
            + signer.sign(
                method: method, host: host, path: path, query: encodedQuery, headers: headers,
                payload: payload, at: Date())
        {
            request.setValue(value, forHTTPHeaderField: name)
        }
        // libcurl under URLSession asks for "100 Continue" before a body and waits a
        // second for servers that never send it; the body is signed, so send it at once.
        request.setValue("", forHTTPHeaderField: "Expect")
        let task =
            method == "PUT" || method == "POST"
            ? session.uploadTask(with: request, from: body) : session.dataTask(with: request)
        return try exchanges.run(task, plan: plan, within: seconds, request: "\(method) \(key.isEmpty ? bucket : key)")
    }

    /// Sends a request that must succeed (2xx); S3's error otherwise.
    @discardableResult
    func expect(
        _ method: String, bucket: String, key: String = "", query: [(String, String?)] = [],
        headers: [(name: String, value: String)] = [], body: Data = Data(),
        expecting: Int64 = S3Client.expectedAnswer, plan: AnswerBody.Plan? = nil
    ) throws -> (HTTPURLResponse, Data) {
        let (response, data) = try send(
            method, bucket: bucket, key: key, query: query, headers: headers, body: body, expecting: expecting,
            plan: plan)
        guard (200..<300).contains(response.statusCode) else {
            throw S3Failure.status(
                response.statusCode, code: S3ErrorDocument.code(in: data),
                request: "\(method) \(key.isEmpty ? bucket : key)")
        }
        return (response, data)
    }

    /// Stores `body` as `key` only if no object has that name yet.
    /// - Throws: `S3Failure.exists` when the name is taken.
    func create(bucket: String, key: String, body: Data, headers: [(name: String, value: String)] = []) throws {
        try created(
            send(
                "PUT", bucket: bucket, key: key,
                headers: headers + [("If-None-Match", "*"), ("x-amz-checksum-sha256", body.sha256Base64)], body: body),
            key: key)
    }

    /// Stores the file at `path` as `key`, only if no object has that name yet
    /// (`If-None-Match: *`), with `metadata` as `x-amz-meta-…`. A file over
    /// `partSize` goes up in parts, up to `inFlight` at once, each with a
    /// SHA-256 the server checks; a failed multipart upload is aborted, so no
    /// partial object is ever visible. Memory: at most `inFlight` parts.
    /// - Throws: `S3Failure.exists` when the name is taken; `S3Failure.status` otherwise.
    func upload(
        file path: String, bucket: String, key: String, metadata: [String: String] = [:],
        partSize: Int = 8 << 20, inFlight: Int = 2, progress: Progress? = nil
    ) throws {
        let size = try SystemCalls.size(of: path)
        let headers: [(name: String, value: String)] = metadata.sorted { $0.key < $1.key }.map {
            ("x-amz-meta-\($0.key)", $0.value)
        }
        if size <= Int64(partSize) {
            try create(
                bucket: bucket, key: key, body: try FilePart.read(path, offset: 0, count: Int(size)), headers: headers)
            progress?(size, size)
            return
        }
        let uploadID = try startMultipart(bucket: bucket, key: key, headers: headers)
        do {
            let count = Int((size + Int64(partSize) - 1) / Int64(partSize))
            let parts = PartList()
            try Parallel.forEach(count, width: inFlight) { index in
                let sent = try self.sendPart(
                    index, of: path, size: size, partSize: partSize, bucket: bucket, key: key,
                    uploadID: uploadID, into: parts)
                progress?(sent, size)
            }
            try completeMultipart(uploadID, parts: parts, size: size, bucket: bucket, key: key)
        } catch {
            abortMultipart(uploadID, bucket: bucket, key: key)
            throw error
        }
    }

    /// Starts a multipart upload of `key` with `headers` (its metadata), after
    /// checking no object has the name yet (the completion checks again).
    /// - Returns: the upload's id.
    /// - Throws: `S3Failure.exists` when the name is taken.
    func startMultipart(bucket: String, key: String, headers: [(name: String, value: String)]) throws -> String {
        let (existing, _) = try send("HEAD", bucket: bucket, key: key)
        if existing.statusCode == 200 { throw S3Failure.exists(key: key) }
        let (_, started) = try expect(
            "POST", bucket: bucket, key: key, query: [("uploads", nil)],
            headers: headers + [("x-amz-checksum-algorithm", "SHA256")])
        guard let uploadID = ListingParser.element("UploadId", in: String(decoding: started, as: UTF8.self)[...]) else {
            throw S3Failure.badListing
        }
        return uploadID
    }

    /// Sends part `index` (from 0) of the file at `path`, `size` bytes long
    /// in all, with a SHA-256 the server checks, and records it in `parts`.
    /// - Returns: the bytes of the parts recorded so far.
    func sendPart(
        _ index: Int, of path: String, size: Int64, partSize: Int, bucket: String, key: String,
        uploadID: String, into parts: PartList
    ) throws -> Int64 {
        let offset = Int64(index) * Int64(partSize)
        let body = try FilePart.read(path, offset: offset, count: Int(min(Int64(partSize), size - offset)))
        let checksum = body.sha256Base64
        let (response, _) = try expect(
            "PUT", bucket: bucket, key: key,
            query: [("partNumber", String(index + 1)), ("uploadId", uploadID)],
            headers: [("x-amz-checksum-sha256", checksum)], body: body)
        return parts.set(
            index, etag: response.value(forHTTPHeaderField: "ETag") ?? "", checksum: checksum, bytes: Int64(body.count))
    }

    /// Completes a multipart upload of `size` bytes, only if no object has
    /// the name yet, and makes sure it did: S3 answers 200 at once, may pad
    /// with whitespace for minutes, and only then says whether it worked, so
    /// the whole answer (within `answerBytes`) must be a
    /// `<CompleteMultipartUploadResult>`, and the object then must be there
    /// (HEAD) with `size` bytes. The caller aborts the upload on a throw.
    /// - Throws: `S3Failure.exists` when the name was taken meanwhile;
    ///   `S3Failure.notCompleted` when the storage did not surely store it.
    func completeMultipart(_ uploadID: String, parts: PartList, size: Int64, bucket: String, key: String) throws {
        let document =
            "<CompleteMultipartUpload>"
            + parts.all.map { part in
                "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(part.etag)</ETag><ChecksumSHA256>\(part.checksum)</ChecksumSHA256></Part>"
            }.joined() + "</CompleteMultipartUpload>"
        let (response, data) = try send(
            "POST", bucket: bucket, key: key, query: [("uploadId", uploadID)],
            headers: [("If-None-Match", "*")], body: Data(document.utf8))
        if response.statusCode == 412 { throw S3Failure.exists(key: key) }
        guard (200..<300).contains(response.statusCode) else {
            throw S3Failure.status(response.statusCode, code: S3ErrorDocument.code(in: data), request: "POST \(key)")
        }
        // AWS's root; moto's (and some S3-compatibles') is ...Response.
        guard
            ListingParser.isDocument(data, root: "CompleteMultipartUploadResult")
                || ListingParser.isDocument(data, root: "CompleteMultipartUploadResponse")
        else {
            throw S3Failure.notCompleted(
                key: key,
                reason: S3ErrorDocument.code(in: data).map { "it answered \($0) after 200" }
                    ?? "its answer was no CompleteMultipartUploadResult")
        }
        let (head, _) = try send("HEAD", bucket: bucket, key: key)
        let stored = Int64(head.value(forHTTPHeaderField: "Content-Length") ?? "")
        guard head.statusCode == 200, stored == size else {
            throw S3Failure.notCompleted(
                key: key,
                reason: head.statusCode == 200
                    ? "it holds \(stored.map(String.init) ?? "an unknown count of") bytes there, not the \(size) sent"
                    : "it answers HEAD there with HTTP \(head.statusCode)")
        }
    }

    /// Aborts a multipart upload, so its parts are dropped; best effort.
    func abortMultipart(_ uploadID: String, bucket: String, key: String) {
        _ = try? send("DELETE", bucket: bucket, key: key, query: [("uploadId", uploadID)])
    }

    /// The parts of a multipart upload as they complete, from several threads.
    final class PartList: @unchecked Sendable {
        // Guarded by `lock`.
        private var parts: [Int: (etag: String, checksum: String)] = [:]
        private var bytes: Int64 = 0
        private let lock = NSLock()

        /// Records part `index` (from 0); returns the bytes sent so far.
        func set(_ index: Int, etag: String, checksum: String, bytes more: Int64) -> Int64 {
            lock.lock()
            defer { lock.unlock() }
            parts[index] = (etag, checksum)
            bytes += more
            return bytes
        }

        /// The parts by number (from 1), in order.
        var all: [(number: Int, etag: String, checksum: String)] {
            lock.lock()
            defer { lock.unlock() }
            return parts.sorted { $0.key < $1.key }.map { ($0.key + 1, $0.value.etag, $0.value.checksum) }
        }
    }

    /// Checks the answer of a create-only write (PUT).
    private func created(_ answer: (HTTPURLResponse, Data), key: String) throws {
        let (response, data) = answer
        if response.statusCode == 412 { throw S3Failure.exists(key: key) }
        guard (200..<300).contains(response.statusCode),
            !String(decoding: data.prefix(512), as: UTF8.self).contains("<Error>")
        else {
            throw S3Failure.status(response.statusCode, code: S3ErrorDocument.code(in: data), request: "PUT \(key)")
        }
    }

    /// Reads bytes `range` of `key` (a snapshot's head); fewer when the object
    /// is shorter. A server that ignores `Range` and sends the whole object is
    /// read only up to the range's end; a `206` must say it holds what was asked.
    /// - Throws: `S3Failure.badRange` for a `206` of other bytes.
    func read(bucket: String, key: String, range: ClosedRange<Int64>) throws -> Data {
        let (response, data) = try expect(
            "GET", bucket: bucket, key: key, headers: [("Range", Self.rangeHeader(range))],
            expecting: range.upperBound - range.lowerBound + 1
        ) { response in
            switch response.statusCode {
            case 206:
                let held = try Self.heldRange(response, asked: range, size: nil, key: key)
                return .memory(limit: Int(held.upperBound - held.lowerBound + 1))
            case 200:
                return .first(Int(range.upperBound) + 1)
            default:
                throw S3Failure.status(response.statusCode, code: nil, request: "GET \(key)")
            }
        }
        return response.statusCode == 200 ? data.dropFirst(Int(range.lowerBound)) : data
    }

    /// Copies the object `key` into a new file at `path`, `chunk` bytes a
    /// ranged GET, each retried on its own, so a broken connection resumes
    /// where it broke and memory holds one piece of an answer at a time. A
    /// server that ignores `Range` (`200`, the whole object) is read once, as
    /// it streams, for every chunk: the bytes fetched are the object's size,
    /// not a chunk count times it. Never more than the object's size is written.
    /// - Parameter listed: the object's size as its listing gives it, when
    ///   known: HEAD must say the same, so a HEAD that lies costs nothing.
    /// - Returns: the object's size.
    /// - Throws: `S3Failure.badRange` for a `206` of other bytes than asked;
    ///   `S3Failure.tooLarge` for an answer longer than the object;
    ///   `S3Failure.sizeMismatch` for a HEAD that is not the size listed.
    @discardableResult
    func download(
        bucket: String, key: String, to path: String, size listed: Int64? = nil, chunk: Int = 8 << 20,
        progress: Progress? = nil
    ) throws -> Int64 {
        let (head, _) = try expect("HEAD", bucket: bucket, key: key)
        guard let size = Int64(head.value(forHTTPHeaderField: "Content-Length") ?? ""), size >= 0 else {
            throw S3Failure.status(head.statusCode, code: "NoContentLength", request: "HEAD \(key)")
        }
        if let listed, listed != size { throw S3Failure.sizeMismatch(key: key, listed: listed, head: size) }
        let descriptor = try SystemCalls.open(path, O_WRONLY | O_CREAT | O_EXCL)
        defer { SystemCalls.close(descriptor) }
        var offset: Int64 = 0
        while offset < size {
            let asked = offset...(min(size, offset + Int64(chunk)) - 1)
            let used = LastSink()
            // A server that ignores Range sends all the rest in this one answer.
            try expect(
                "GET", bucket: bucket, key: key, headers: [("Range", Self.rangeHeader(asked))], expecting: size - offset
            ) { response in
                let sink: FileSink
                switch response.statusCode {
                case 206:
                    let held = try Self.heldRange(response, asked: asked, size: size, key: key)
                    sink = FileSink(descriptor: descriptor, path: path, from: held.lowerBound, end: held.upperBound + 1)
                case 200:
                    // The whole object from its first byte: written once, in place, for all the chunks.
                    sink = FileSink(descriptor: descriptor, path: path, from: 0, end: size)
                default:
                    throw S3Failure.status(response.statusCode, code: nil, request: "GET \(key)")
                }
                used.set(sink)
                return .file(sink)
            }
            guard let sink = used.sink, sink.position > offset else {
                throw S3Failure.status(206, code: "ShortRead", request: "GET \(key)")
            }
            offset = sink.position
            progress?(offset, size)
        }
        try SystemCalls.fsync(descriptor, path: path)
        return size
    }

    /// `bytes=FIRST-LAST`.
    static func rangeHeader(_ range: ClosedRange<Int64>) -> String {
        "bytes=\(range.lowerBound)-\(range.upperBound)"
    }

    /// The bytes a `206` holds, from its `Content-Range` (`bytes 0-4095/70000`):
    /// they must start where asked and end no later (earlier only at the
    /// object's end), and the total, when said, must be `size` when known.
    /// - Throws: `S3Failure.badRange` otherwise.
    static func heldRange(_ response: HTTPURLResponse, asked: ClosedRange<Int64>, size: Int64?, key: String) throws
        -> ClosedRange<Int64>
    {
        let text = response.value(forHTTPHeaderField: "Content-Range") ?? ""
        let held = contentRange(text)
        let total = held?.total ?? size
        guard let held, held.first == asked.lowerBound, held.last <= asked.upperBound,
            size == nil || held.total == nil || held.total == size, total.map({ held.last < $0 }) ?? true,
            held.last == asked.upperBound || held.last == (total ?? 0) - 1
        else {
            throw S3Failure.badRange(asked: rangeHeader(asked), got: String(text.prefix(100)), request: "GET \(key)")
        }
        return held.first...held.last
    }

    /// `bytes FIRST-LAST/TOTAL` (TOTAL may be `*`), read without trust; nil for anything else.
    static func contentRange(_ text: String) -> (first: Int64, last: Int64, total: Int64?)? {
        guard text.hasPrefix("bytes "), text.utf8.count <= 100 else { return nil }
        let parts = text.dropFirst(6).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let bounds = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2,
            bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let first = Int64(bounds[0]), let last = Int64(bounds[1]), first <= last
        else { return nil }
        if parts[1] == "*" { return (first, last, nil) }
        guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let total = Int64(parts[1]) else { return nil }
        return (first, last, total)
    }

    /// The sink of a download's last try, handed from the delegate queue.
    private final class LastSink: @unchecked Sendable {
        // Guarded by `lock`.
        private var last: FileSink?
        private let lock = NSLock()

        func set(_ sink: FileSink) {
            lock.lock()
            defer { lock.unlock() }
            last = sink
        }

        var sink: FileSink? {
            lock.lock()
            defer { lock.unlock() }
            return last
        }
    }

    /// Every object directly under `prefix` (a folder's files: keys with no
    /// further `/`), following continuation tokens (1,000 a page), within
    /// `ListingBound`: a server whose listing never ends is stopped.
    /// - Throws: `S3Failure.endlessListing` saying which bound was met.
    func list(bucket: String, prefix: String, maxObjects: Int = ListingBound.maxObjects) throws -> [Object] {
        try listing(bucket: bucket, prefix: prefix, maxObjects: maxObjects).objects
    }

    /// The "folders" one level under `prefix` (keys up to the next `/`, as the listing's
    /// `CommonPrefixes` give them), bounded as `list` is.
    func folders(bucket: String, prefix: String, maxObjects: Int = ListingBound.maxObjects) throws -> [String] {
        try listing(bucket: bucket, prefix: prefix, maxObjects: maxObjects).prefixes
    }

    private func listing(bucket: String, prefix: String, maxObjects: Int) throws
        -> (objects: [Object], prefixes: [String])
    {
        var objects: [Object] = []
        var prefixes: [String] = []
        var bound = ListingBound(maxObjects: maxObjects)
        var token: String?
        while true {
            var query: [(String, String?)] = [("delimiter", "/"), ("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let (_, data) = try expect("GET", bucket: bucket, query: query)
            let page = try ListingParser.parse(data)
            objects += page.objects
            prefixes += page.prefixes
            try bound.count(page, bytes: data.count, objects: objects.count + prefixes.count)
            guard page.truncated else { return (objects, prefixes) }
            token = page.nextToken
        }
    }
}
