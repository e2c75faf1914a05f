import Foundation

/// The lock of a location in object storage, where `flock` cannot reach: an
/// object `PREFIX/.ledger-lease` created with `If-None-Match: *` (so one
/// creator wins), saying who holds it and until when. The holder renews it
/// while it works; a lease past its expiry, or held by a process of this
/// machine that is gone (a killed backup), was left by a run that died and is
/// taken over at once. Two prunes, or a prune and a backup, never run at once.
///
/// Honest limits: a holder stalled longer than `lifetime` (a suspended
/// laptop) can lose its lease to another run; its renewal then sees another
/// holder and stops, but the work in hand finishes. Snapshots stay safe even
/// then: they are never overwritten, and prune only removes what it listed.
final class S3Lease: Sendable {
    static let name = ".ledger-lease"

    private let client: S3Client
    private let bucket: String
    private let key: String
    private let token: String
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
            case holder, host, pid, token, expiresAt = "expires_at"
        }

        /// Left by a run that is gone: past its expiry, or held by a process
        /// of this machine that no longer exists.
        func isStale(now: Date) -> Bool {
            guard let expiry = Timestamp.parse(expiresAt), expiry >= now else { return true }
            return host == ProcessInfo.processInfo.hostName && kill(pid, 0) != 0 && errno == ESRCH
        }
    }

    /// Takes the lease of `location`, waiting up to `wait` seconds for another holder.
    /// - Parameter lifetime: how long the lease lasts unrenewed; renewed every third of it.
    /// - Throws: `ObjectStorageError.refused` naming the holder when the wait ran out.
    init(client: S3Client, at location: S3Location, wait: TimeInterval = 600, lifetime: TimeInterval = 300,
         now: @escaping @Sendable () -> Date = Date.init) throws {
        self.client = client
        bucket = location.bucket
        key = location.key(Self.name)
        token = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let deadline = now().addingTimeInterval(wait)
        while true {
            let body = try Self.content(token: token, until: now().addingTimeInterval(lifetime))
            do {
                try client.create(bucket: bucket, key: key, body: body)
                break
            } catch S3Failure.exists {
                // Held: by a live run (wait) or by one that died (take it over).
                let (response, data) = try client.send("GET", bucket: bucket, key: key)
                if response.statusCode == 404 { continue }
                let current = try? JSONDecoder().decode(Content.self, from: data)
                if current?.isStale(now: now()) ?? true {
                    // Stale, or not a lease this tool can read: remove it and try again.
                    _ = try client.send("DELETE", bucket: bucket, key: key)
                    continue
                }
                guard now() < deadline else {
                    throw ObjectStorageError.refused("another ledger backup or prune (\(current?.holder ?? "unknown")) holds s3://\(bucket)/\(key) until \(current?.expiresAt ?? "?"); try again later, or delete that object if that run is gone")
                }
                Thread.sleep(forTimeInterval: Double.random(in: 0.5...2))
            }
        }
        let renewal = Thread { [self] in
            while self.stop.wait(timeout: .now() + lifetime / 3) == .timedOut {
                guard let (response, data) = try? self.client.send("GET", bucket: self.bucket, key: self.key),
                      response.statusCode == 200,
                      (try? JSONDecoder().decode(Content.self, from: data))?.token == self.token,
                      let body = try? Self.content(token: self.token, until: now().addingTimeInterval(lifetime))
                else { break }
                _ = try? self.client.send("PUT", bucket: self.bucket, key: self.key, body: body)
            }
            self.stopped.signal()
        }
        renewal.start()
    }

    private static func content(token: String, until expiry: Date) throws -> Data {
        let host = ProcessInfo.processInfo.hostName
        return try JSONEncoder().encode(Content(holder: "\(host) pid \(getpid())", host: host, pid: getpid(), token: token,
                                                expiresAt: Timestamp.string(from: expiry)))
    }

    /// Stops renewing and removes the lease, if it is still this one's.
    func release() {
        stop.signal()
        stopped.wait()
        if let (response, data) = try? client.send("GET", bucket: bucket, key: key), response.statusCode == 200,
           (try? JSONDecoder().decode(Content.self, from: data))?.token == token {
            _ = try? client.send("DELETE", bucket: bucket, key: key)
        }
    }
}
