import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The lock of a location in object storage, where `flock` cannot reach: an
/// object `PREFIX/.ledger-lease` saying who holds it and until when. Every
/// write to it is conditional, so that two runs never both hold it:
/// - taking it is a create (`If-None-Match: *`): one creator wins; a lease
///   found holding this run's own token (a create whose answer was lost, then
///   retried) is this run's, on the ETag read;
/// - renewing it, taking over a lease left by a run that died (past its
///   expiry, or held by a process of this machine that is gone), and
///   releasing it are each one request on the ETag last seen (`If-Match`):
///   a lease that changed meanwhile answers 412 and is not touched.
/// A takeover never deletes first: a delayed request can only fail, never
/// remove a lease that another run has taken since.
///
/// Storage that ignores `If-Match` (told by a probe right after taking, one
/// request) could let two runs take over one dead lease: there, a lease left
/// by a dead run is never taken over, and the person is told to remove it.
/// Storage that ignores `If-None-Match` (AWS before August 2024, many
/// S3-compatibles) would let two runs both create the lease, and a snapshot be
/// overwritten: once the lease is taken, a second create of it must be
/// refused (412), or the lease is let go and nothing is written there.
///
/// Honest limits: a holder stalled longer than `lifetime` (a suspended
/// laptop) can lose its lease to another run; its renewal then sees another
/// holder and stops (`isHeld` turns false), but the work in hand finishes.
/// Snapshots stay safe even then: they are never overwritten, and prune only
/// removes what it listed; the steps that are safe only under the lease (an
/// incremental's snapshot object, which needs the packs made before it, and
/// prune's removal of packs no snapshot names) `confirm` it just before.
final class S3Lease: StoreLock {
    static let name = ".ledger-lease"
    /// The most of a lease object read: this tool writes under 300 bytes.
    static let bytes = 64 << 10

    private let client: S3Client
    private let bucket: String
    private let key: String
    private let token: String
    private let lifetime: TimeInterval
    private let now: @Sendable () -> Date
    private let state: State
    private let stop = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    /// What a lease object holds.
    struct Content: Codable {
        /// "HOST pid N", for the person reading a refusal.
        var holder: String
        var host: String
        var pid: Int32
        var token: String
        var expiresAt: String

        enum CodingKeys: String, CodingKey {
            case holder, host, pid, token
            case expiresAt = "expires_at"
        }

        /// Left by a run that is gone: past its expiry, or held by a process
        /// of this machine that no longer exists.
        func isStale(now: Date) -> Bool {
            guard let expiry = Timestamp.parse(expiresAt), expiry >= now else { return true }
            return host == ProcessInfo.processInfo.hostName && kill(pid, 0) != 0 && errno == ESRCH
        }
    }

    /// The lease as this holder last wrote it.
    private final class State: @unchecked Sendable {
        // Guarded by `lock`.
        private var tag: String
        private var held = true
        private let lock = NSLock()

        init(etag: String) {
            tag = etag
        }

        var etag: String {
            lock.lock()
            defer { lock.unlock() }
            return tag
        }

        var isHeld: Bool {
            lock.lock()
            defer { lock.unlock() }
            return held
        }

        func renewed(_ etag: String) {
            lock.lock()
            defer { lock.unlock() }
            tag = etag
        }

        func lost() {
            lock.lock()
            defer { lock.unlock() }
            held = false
        }
    }

    /// Takes the lease of `location`, waiting up to `wait` seconds for another holder.
    /// - Parameter lifetime: how long the lease lasts unrenewed; renewed every third of it.
    /// - Throws: `ObjectStorageError.refused` naming the holder when the wait ran out,
    ///   or a lease left by a dead run on storage that ignores `If-Match`, or
    ///   when the storage ignores `If-None-Match`.
    init(
        client: S3Client, at location: S3Location, wait: TimeInterval = 600, lifetime: TimeInterval = 300,
        now: @escaping @Sendable () -> Date = Date.init
    ) throws {
        self.client = client
        bucket = location.bucket
        key = location.key(Self.name)
        token = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        self.lifetime = lifetime
        self.now = now
        let deadline = now().addingTimeInterval(wait)
        // Whether the storage refuses a write on a stale ETag; asked once, when first needed.
        var honoursIfMatch: Bool?
        var etag: String?
        // The holder last seen, for the refusal when the wait runs out.
        var holder: Content?
        var passes = 0
        while etag == nil {
            // Every pass after the first waits, and none starts past the deadline: an answer that
            // keeps changing (a lease that vanishes, a takeover refused) never spins the loop.
            if passes > 0 {
                guard now() < deadline else { throw Self.waitRanOut(holder, at: "s3://\(bucket)/\(key)", wait: wait) }
                Thread.sleep(
                    forTimeInterval: min(Double.random(in: 0.5...2), max(0.05, deadline.timeIntervalSince(now()))))
            }
            passes += 1
            let body = try Self.content(token: token, until: now().addingTimeInterval(lifetime))
            let created = try client.send(
                "PUT", bucket: bucket, key: key, headers: [("If-None-Match", "*")], body: body)
            // A create has no lease to find gone: a 404 there is the bucket's (NoSuchBucket), an error.
            if let tag = try Self.written(created, key: key, goneIsRefusal: false) {
                etag = tag
                if honoursIfMatch == nil {
                    honoursIfMatch = try Self.probe(client, bucket: bucket, key: key, body: body)
                }
                break
            }
            // Held: by a live run (wait) or by one that died (take it over, on the ETag read).
            let (response, data) = try client.send("GET", bucket: bucket, key: key) { _ in .memory(limit: Self.bytes) }
            // Gone since: look again.
            if response.statusCode == 404 { continue }
            guard response.statusCode == 200 else {
                throw S3Failure.status(response.statusCode, code: S3ErrorDocument.code(in: data), request: "GET \(key)")
            }
            let current = try? JSONDecoder().decode(Content.self, from: data)
            holder = current
            // Ours: a create whose answer was lost, then retried and refused (412) by its own lease.
            if current?.token == token, let seen = response.value(forHTTPHeaderField: "ETag"), !seen.isEmpty {
                etag = seen
                if honoursIfMatch == nil {
                    honoursIfMatch = try Self.probe(client, bucket: bucket, key: key, body: data)
                }
                break
            }
            // Stale, or not a lease this tool can read: replaced only as it was read.
            if current?.isStale(now: now()) ?? true {
                guard let seen = response.value(forHTTPHeaderField: "ETag"), !seen.isEmpty else {
                    throw Self.cannotTakeOver(current, at: "s3://\(bucket)/\(key)", why: "gave no ETag for it")
                }
                if honoursIfMatch == nil {
                    honoursIfMatch = try Self.probe(client, bucket: bucket, key: key, body: data)
                }
                guard honoursIfMatch == true else {
                    throw Self.cannotTakeOver(current, at: "s3://\(bucket)/\(key)", why: "ignores If-Match")
                }
                let replaced = try client.send(
                    "PUT", bucket: bucket, key: key, headers: [("If-Match", seen)], body: body)
                // Refused: another run took it over first, or it is gone: look again.
                etag = try Self.written(replaced, key: key, goneIsRefusal: true)
            }
        }
        if let taken = etag,
            let ignored = try Self.secondCreateLetThrough(
                client, bucket: bucket, key: key,
                body: try Self.content(token: token, until: now().addingTimeInterval(lifetime)))
        {
            // Let go of it (on the ETag that write gave, else the one in hand): nothing is written here.
            _ = try? client.send("DELETE", bucket: bucket, key: key, headers: [("If-Match", ignored ?? taken)])
            throw ObjectStorageError.refused(
                "\(location) does not honour conditional writes (it let a second If-None-Match create of \(Self.name) through), "
                    + "so two backups there could overwrite each other's snapshots; ledger writes nothing there. Use storage that supports conditional writes"
            )
        }
        state = State(etag: etag ?? "")
        // Without If-Match a renewal could overwrite another's lease: there, the lease is not renewed.
        let renews = honoursIfMatch == true
        let renewal = Thread { [self] in
            while self.stop.wait(timeout: .now() + lifetime / 3) == .timedOut {
                guard renews, self.renew() else { break }
            }
            self.stopped.signal()
        }
        renewal.start()
    }

    /// The refusal when the wait for the lease ran out, naming its holder as last seen.
    private static func waitRanOut(_ holder: Content?, at place: String, wait: TimeInterval) -> ObjectStorageError {
        guard let holder else {
            return .refused(
                "\(place) could not be taken within \(Int(wait)) s: the storage refused to create it but showed no lease there; "
                    + "try again later, and check that AWS_ENDPOINT_URL names your object storage")
        }
        return .refused(
            "another ledger backup or prune (\(holder.holder)) holds \(place) until \(holder.expiresAt); try again later, or delete that object if that run is gone"
        )
    }

    /// The refusal to take over a lease that looks left by a dead run.
    private static func cannotTakeOver(_ current: Content?, at place: String, why: String) -> ObjectStorageError {
        .refused(
            "\(place) is held by \(current?.holder ?? "an unreadable lease") until \(current?.expiresAt ?? "?"), which looks gone, "
                + "but this storage \(why), so ledger cannot take it over without risking two runs at once; delete that object if no backup or prune runs there now"
        )
    }

    /// Whether this run still holds the lease, as far as its last renewal knows.
    var isHeld: Bool { state.isHeld }

    /// Renews the lease now: a run stalled past its lifetime (a laptop
    /// suspended mid-backup) learns here, not after the fact, that another
    /// run may have taken it.
    func confirm() throws {
        guard state.isHeld, renew() else {
            throw ObjectStorageError.refused(
                "The lease on \(bucket)/\(key) was lost to another run while this one worked (was it paused?); nothing more was written: run it again"
            )
        }
    }

    /// The ETag of a conditional write's answer; nil when its condition failed
    /// (412, or 409 for a write that raced another, or, when `goneIsRefusal`,
    /// 404 for `If-Match` on a lease now gone).
    /// - Throws: `S3Failure.status` for any other failure, or a success without an ETag.
    private static func written(_ answer: (HTTPURLResponse, Data), key: String, goneIsRefusal: Bool = true) throws
        -> String?
    {
        let (response, data) = answer
        if [412, 409].contains(response.statusCode) || (goneIsRefusal && response.statusCode == 404) { return nil }
        guard (200..<300).contains(response.statusCode), let etag = response.value(forHTTPHeaderField: "ETag"),
            !etag.isEmpty
        else {
            throw S3Failure.status(
                response.statusCode, code: S3ErrorDocument.code(in: data) ?? "NoETag", request: "PUT \(key)")
        }
        return etag
    }

    /// Whether the storage refuses a write on an ETag the lease does not
    /// have (412): one write of the lease's bytes as just written or read
    /// (`body`), which changes nothing where it is wrongly let through.
    /// - Throws: `S3Failure.status` for an answer that says neither.
    private static func probe(_ client: S3Client, bucket: String, key: String, body: Data) throws -> Bool {
        let (response, data) = try client.send(
            "PUT", bucket: bucket, key: key, headers: [("If-Match", "\"ledger-probe\"")], body: body)
        // 409: the storage weighed the condition against a write racing it.
        if response.statusCode == 412 || response.statusCode == 409 { return true }
        if (200..<300).contains(response.statusCode) { return false }
        throw S3Failure.status(response.statusCode, code: S3ErrorDocument.code(in: data), request: "PUT \(key)")
    }

    /// Whether the storage lets a create (`If-None-Match: *`) of the lease,
    /// which exists, through: nil when it refuses it (412, or 409 for a create
    /// raced), else the ETag of the write (nil inside when none was given).
    /// `body` is the lease as written, so a write let through changes little.
    /// - Throws: `S3Failure.status` for an answer that says neither.
    private static func secondCreateLetThrough(_ client: S3Client, bucket: String, key: String, body: Data) throws
        -> String??
    {
        let (response, data) = try client.send(
            "PUT", bucket: bucket, key: key, headers: [("If-None-Match", "*")], body: body)
        if response.statusCode == 412 || response.statusCode == 409 { return nil }
        if (200..<300).contains(response.statusCode) {
            return .some(response.value(forHTTPHeaderField: "ETag").flatMap { $0.isEmpty ? nil : $0 })
        }
        throw S3Failure.status(response.statusCode, code: S3ErrorDocument.code(in: data), request: "PUT \(key)")
    }

    private static func content(token: String, until expiry: Date) throws -> Data {
        let host = ProcessInfo.processInfo.hostName
        return try JSONEncoder().encode(
            Content(
                holder: "\(host) pid \(getpid())", host: host, pid: getpid(), token: token,
                expiresAt: Timestamp.string(from: expiry)))
    }

    /// The ETag of the lease when it is still this one's (its token), read
    /// afresh: after a write whose answer was lost, the ETag in hand is old.
    private func currentEtag() -> String? {
        guard
            let (response, data) = try? client.send(
                "GET", bucket: bucket, key: key, plan: { _ in .memory(limit: Self.bytes) }),
            response.statusCode == 200, (try? JSONDecoder().decode(Content.self, from: data))?.token == token,
            let etag = response.value(forHTTPHeaderField: "ETag"), !etag.isEmpty
        else { return nil }
        return etag
    }

    /// Pushes the expiry on, on the ETag last written; false when the lease is no longer this one's.
    private func renew() -> Bool {
        guard let body = try? Self.content(token: token, until: now().addingTimeInterval(lifetime)) else {
            return false
        }
        var etag = state.etag
        for _ in 0..<2 {
            if let answer = try? client.send(
                "PUT", bucket: bucket, key: key, headers: [("If-Match", etag)], body: body),
                let written = try? Self.written(answer, key: key)
            {
                state.renewed(written)
                return true
            }
            // Refused, or failed: the lease may still be this one's under another ETag.
            guard let fresh = currentEtag() else { break }
            etag = fresh
        }
        state.lost()
        return false
    }

    /// Stops renewing and removes the lease, only if it is still this one's:
    /// a DELETE on the ETag last written. Best effort: a lease left behind
    /// expires, and the next run takes it over.
    func release() {
        stop.signal()
        stopped.wait()
        guard state.isHeld else { return }
        var etag = state.etag
        for _ in 0..<2 {
            guard
                let (response, _) = try? client.send("DELETE", bucket: bucket, key: key, headers: [("If-Match", etag)])
            else { return }
            if (200..<300).contains(response.statusCode) || response.statusCode == 404 { return }
            if response.statusCode != 412 && response.statusCode != 409 {
                // A DELETE with If-Match the storage does not take: mark the lease expired instead, on its ETag.
                if let body = try? Self.content(token: token, until: Date(timeIntervalSince1970: 0)) {
                    _ = try? client.send("PUT", bucket: bucket, key: key, headers: [("If-Match", etag)], body: body)
                }
                return
            }
            guard let fresh = currentEtag() else { return }
            etag = fresh
        }
    }
}
