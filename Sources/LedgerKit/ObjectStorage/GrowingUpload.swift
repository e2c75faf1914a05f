import Foundation

/// A multipart upload of a file that is still being written, so that a
/// snapshot goes up while it is compressed rather than after.
///
/// The upload starts only once the metadata is known (`begin`): an object's
/// metadata is fixed when its upload starts. From then on a thread of its own
/// (`sendWhileWritten`) sends each part as soon as the writer has written
/// all of it, from the second part on; the first part, whose header the
/// writer writes last, and the parts not yet sent go up at `finish`, which
/// completes the upload only if no object has the name (`If-None-Match: *`).
/// Until then nothing is visible; a failed or abandoned upload is aborted.
/// Memory: one part on the thread, `inFlight` at `finish`.
final class GrowingUpload: @unchecked Sendable {
    private let client: S3Client
    private let bucket: String, key: String
    private let path: String
    let partSize: Int
    private let progress: S3Client.Progress?

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var written: Int64 = 0
    private var metadata: [(name: String, value: String)]?
    private var closed = false
    private var uploadID: String?
    private var failure: (any Error)?
    /// Parts from the second on that the thread has sent, in order.
    private var sentThrough = 1

    private let parts = S3Client.PartList()

    init(
        client: S3Client, bucket: String, key: String, path: String, partSize: Int = 8 << 20,
        progress: S3Client.Progress? = nil
    ) {
        self.client = client
        self.bucket = bucket
        self.key = key
        self.path = path
        self.partSize = partSize
        self.progress = progress
    }

    /// How many parts the thread has sent so far (while the file was written).
    var partsSentEarly: Int {
        condition.lock()
        defer { condition.unlock() }
        return sentThrough - 1
    }

    /// The writer has written the file's first `bytes` bytes (the first part's
    /// header excepted, which it may still write over).
    func grew(to bytes: Int64) {
        condition.lock()
        written = bytes
        condition.broadcast()
        condition.unlock()
    }

    /// The object's metadata is known: the upload may start.
    func begin(metadata: [String: String]) {
        condition.lock()
        guard self.metadata == nil else { return condition.unlock() }
        self.metadata = metadata.sorted { $0.key < $1.key }.map { ("x-amz-meta-\($0.key)", $0.value) }
        condition.broadcast()
        condition.unlock()
    }

    /// No more bytes will come: the thread sends what it has and returns.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The thread's work: starts the upload when `begin` is called, then sends
    /// each whole part from the second on as it is written, until `close`.
    /// A failure stops it and is kept for `finish` (the writer is not stopped).
    func sendWhileWritten() {
        while let next = nextJob() {
            do {
                switch next {
                case .start(let headers):
                    let id = try client.startMultipart(bucket: bucket, key: key, headers: headers)
                    condition.lock()
                    uploadID = id
                    condition.unlock()
                case .part(let index, let id, let sofar):
                    // The part is whole, so its size is known without the file's.
                    let sent = try client.sendPart(
                        index, of: path, size: Int64(index + 1) * Int64(partSize), partSize: partSize,
                        bucket: bucket, key: key, uploadID: id, into: parts)
                    progress?(sent, max(sent, sofar))
                    condition.lock()
                    sentThrough = index + 1
                    condition.unlock()
                }
            } catch {
                condition.lock()
                failure = error
                condition.unlock()
                return
            }
        }
    }

    private enum Job {
        case start([(name: String, value: String)])
        case part(Int, uploadID: String, written: Int64)
    }

    /// Waits for the thread's next job; nil when there is none left.
    private func nextJob() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            guard let metadata else {
                if closed { return nil }
                condition.wait()
                continue
            }
            guard let uploadID else { return .start(metadata) }
            if Int64(sentThrough + 1) * Int64(partSize) <= written {
                return .part(sentThrough, uploadID: uploadID, written: written)
            }
            if closed { return nil }
            condition.wait()
        }
    }

    /// Sends the rest once the file is complete (`size` bytes, fsynced) and
    /// the thread has returned, and completes the upload.
    /// - Parameter metadata: the final manifest's; when it is not what the
    ///   upload began with, the upload is aborted and false returned.
    /// - Returns: false when nothing was published (the upload never started,
    ///   the file is too small for parts, or the metadata changed): the caller
    ///   publishes the file as a whole.
    /// - Throws: `S3Failure.exists` when the name was taken meanwhile (the
    ///   upload is aborted); any failure of a request (aborted too).
    func finish(size: Int64, metadata final: [String: String], inFlight: Int = 2) throws -> Bool {
        condition.lock()
        let (id, failed, through, begun) = (uploadID, failure, sentThrough, metadata)
        condition.unlock()
        let expected = final.sorted { $0.key < $1.key }.map { "x-amz-meta-\($0.key)=\($0.value)" }
        if let id, begun?.map({ "\($0.name)=\($0.value)" }) != expected {
            client.abortMultipart(id, bucket: bucket, key: key)
            return false
        }
        guard let id else {
            if let failed { throw failed }
            return false
        }
        do {
            if let failed { throw failed }
            let count = Int((size + Int64(partSize) - 1) / Int64(partSize))
            guard count >= 2 else {
                // Too small for parts: nothing was sent; the caller sends it whole.
                client.abortMultipart(id, bucket: bucket, key: key)
                return false
            }
            let remaining = [0] + Array(min(through, count)..<count)
            try Parallel.forEach(remaining.count, width: inFlight) { job in
                let done = try self.client.sendPart(
                    remaining[job], of: self.path, size: size, partSize: self.partSize,
                    bucket: self.bucket, key: self.key, uploadID: id, into: self.parts)
                self.progress?(done, size)
            }
            try client.completeMultipart(id, parts: parts, size: size, bucket: bucket, key: key)
            return true
        } catch {
            client.abortMultipart(id, bucket: bucket, key: key)
            throw error
        }
    }

    /// Aborts the upload if it started (the writer failed); best effort.
    func abandon() {
        condition.lock()
        let id = uploadID
        condition.unlock()
        if let id { client.abortMultipart(id, bucket: bucket, key: key) }
    }
}
