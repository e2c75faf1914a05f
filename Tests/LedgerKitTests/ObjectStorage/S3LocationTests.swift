import Foundation
import LedgerTestSupport
import Testing

@testable import LedgerKit

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Snapshots in object storage through a `SnapshotStore` over an `S3Store`, against the S3
/// test server, directly or through a proxy that misbehaves.
@Suite struct S3LocationTests {
    let folder = TemporaryDirectory()

    /// A new bucket on the test server, and a client for `endpoint` (the server itself by default).
    private func bucket(
        through endpoint: String? = nil, retries: RetryPolicy = RetryPolicy(attempts: 6, base: 0.05, cap: 0.5),
        timeout: TimeInterval = 60
    ) throws -> (S3Client, String) {
        let bucket = S3TestServer.bucketName()
        try S3Client(configuration: try S3TestServer.configuration()).expect("PUT", bucket: bucket)
        return (
            S3Client(
                configuration: try S3TestServer.configuration(endpoint: endpoint), retries: retries, timeout: timeout),
            bucket
        )
    }

    /// A real snapshot file of a sample company, taken into a local folder.
    private func snapshotFile(transactions: Int = 1_500) throws -> Snapshot {
        let path = try Damage.sample(in: folder, transactions: transactions)
        return try SnapshotWriter.take(
            SnapshotRequest(
                of: path, kind: .manual,
                now: Timestamp.parse("2026-11-21T02:00:00Z")!), into: SnapshotStore.open(folder.file("local")))
    }

    private func contents(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    @Test func snapshotsArePublishedUnderFreeNamesOnlyAndListedFromTheirHeads() throws {
        let (client, bucket) = try bucket()
        let local = try snapshotFile()
        let location = SnapshotStore(
            S3Store(try #require(try S3Location("s3://\(bucket)/clients/acme")), client: client))
        let moment = Timestamp.parse("2026-11-21T02:00:00Z")!
        let manifest = try #require(local.manifest)
        let first = try location.publish(local.path, manifest: manifest, at: moment, encrypted: false)
        let second = try location.publish(local.path, manifest: manifest, at: moment, encrypted: false)
        #expect(first.path == "s3://\(bucket)/clients/acme/books-20261121T020000Z.db.gz")
        #expect(second.path == "s3://\(bucket)/clients/acme/books-20261121T020000Z-2.db.gz")
        #expect(first.bytes == local.bytes)

        // A hidden object, one in a deeper prefix and one whose head is not a snapshot's.
        try client.create(bucket: bucket, key: "clients/acme/.ledger-lease", body: Data("{}".utf8))
        try client.create(
            bucket: bucket, key: "clients/acme/old/books-20250101T000000Z.db.gz", body: try contents(local.path))
        try client.create(bucket: bucket, key: "clients/acme/junk.db.gz", body: Data("not gzip".utf8))
        let (snapshots, unreadable) = try location.list(with: SnapshotIdentities())
        #expect(snapshots.map(\.path) == [first.path, second.path])
        #expect(snapshots.allSatisfy { $0.manifest == local.manifest && $0.bytes == local.bytes })
        #expect(unreadable.map(\.path) == ["s3://\(bucket)/clients/acme/junk.db.gz"])

        // The manifest's key fields ride along as user metadata.
        let (head, _) = try client.expect("HEAD", bucket: bucket, key: "clients/acme/books-20261121T020000Z.db.gz")
        #expect(head.value(forHTTPHeaderField: "x-amz-meta-kind") == "manual")
        #expect(head.value(forHTTPHeaderField: "x-amz-meta-created-at") == "2026-11-21T02:00:00Z")
        #expect(head.value(forHTTPHeaderField: "x-amz-meta-database-sha256") == local.manifest?.databaseSha256)

        // Reading it back gives the very bytes.
        let back = try location.withFile(of: first, near: folder.file("x")) { try contents($0) }
        #expect(back == (try contents(local.path)))
        try location.remove(first)
        #expect(try location.list(with: SnapshotIdentities()).snapshots.map(\.path) == [second.path])
    }

    @Test func listingsReadOnlyTheHeadsOfSnapshots() throws {
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { _ in nil }
        defer { proxy.stop() }
        let (client, bucket) = try bucket(through: proxy.endpoint)
        let local = try snapshotFile(transactions: 3_000)
        let location = SnapshotStore(S3Store(try #require(try S3Location("s3://\(bucket)/acme")), client: client))
        for second in 0..<3 {
            _ = try location.publish(
                local.path, manifest: try #require(local.manifest),
                at: Date(timeIntervalSince1970: 1_800_000_000 + Double(second)), encrypted: false)
        }
        let before = proxy.requests.count
        #expect(try location.list(with: SnapshotIdentities()).snapshots.count == 3)
        let reads = proxy.requests.dropFirst(before).filter { $0.method == "GET" && !$0.target.contains("list-type") }
        #expect(reads.count == 3)
        #expect(reads.allSatisfy { $0.headers["range"] == "bytes=0-4095" }, "\(reads.map(\.headers))")
    }

    @Test func uploadsSurviveDroppedConnectionsAndServerErrors() throws {
        let tally = Tally()
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            guard request.method == "PUT", request.target.contains("partNumber=") else { return nil }
            let part = request.target.contains("partNumber=2") ? "2" : "other"
            switch (part, tally.next(part)) {
            case ("2", 1): return .dropRequest(afterBytes: 100_000)
            case ("2", 2): return .status(503, code: "SlowDown")
            case ("other", 1): return .status(500, code: "InternalError")
            default: return nil
            }
        }
        defer { proxy.stop() }
        let (client, bucket) = try bucket(through: proxy.endpoint)
        let path = try folder.randomFile("snapshot.db.gz", size: 12 << 20)
        try client.upload(file: path, bucket: bucket, key: "acme/big.db.gz", partSize: 5 << 20, inFlight: 2)
        let faults = proxy.requests.compactMap(\.fault)
        #expect(faults.count == 3, "\(faults)")
        let back = folder.file("back")
        try client.download(bucket: bucket, key: "acme/big.db.gz", to: back)
        #expect(try contents(back) == (try contents(path)))
    }

    @Test func anUploadThatKeepsFailingLeavesNoObjectAndNoParts() throws {
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "PUT" && request.target.contains("partNumber=3")
                ? .status(500, code: "InternalError") : nil
        }
        defer { proxy.stop() }
        let (client, bucket) = try bucket(
            through: proxy.endpoint, retries: RetryPolicy(attempts: 3, base: 0.01, cap: 0.05))
        let path = try folder.randomFile("snapshot.db.gz", size: 12 << 20)
        #expect(throws: S3Failure.status(500, code: "InternalError", request: "PUT acme/big.db.gz")) {
            try client.upload(file: path, bucket: bucket, key: "acme/big.db.gz", partSize: 5 << 20, inFlight: 2)
        }
        #expect(proxy.requests.filter { $0.fault != nil }.count == 3, "three tries, then it gives up")
        #expect(try client.list(bucket: bucket, prefix: "acme/").isEmpty)
        let (_, uploads) = try client.expect("GET", bucket: bucket, query: [("uploads", nil)])
        #expect(!String(decoding: uploads, as: UTF8.self).contains("<UploadId>"), "the multipart upload was aborted")
    }

    @Test func downloadsResumeAfterBrokenAnswersAndSlowServers() throws {
        let tally = Tally()
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            guard request.method == "GET", let range = request.headers["range"] else { return nil }
            switch tally.next(range) {
            case 1: return .dropResponse(afterBytes: 70_000)
            case 2: return range.hasPrefix("bytes=0-") ? .delay(3) : nil
            default: return nil
            }
        }
        defer { proxy.stop() }
        let (direct, bucket) = try bucket()
        let path = try folder.randomFile("snapshot.db.gz", size: 9 << 20)
        try direct.upload(file: path, bucket: bucket, key: "acme/big.db.gz", partSize: 5 << 20)
        let (client, _) = (
            S3Client(
                configuration: try S3TestServer.configuration(endpoint: proxy.endpoint),
                retries: RetryPolicy(attempts: 6, base: 0.05, cap: 0.5), timeout: 1), bucket
        )
        let back = folder.file("back")
        let size = try client.download(bucket: bucket, key: "acme/big.db.gz", to: back, chunk: 4 << 20)
        #expect(size == 9 << 20)
        #expect(try contents(back) == (try contents(path)))
        #expect(
            proxy.requests.filter { $0.fault == .dropResponse(afterBytes: 70_000) }.count == 3,
            "each of the three chunks broke once")
    }

    @Test func theLeaseKeepsASecondHolderOutUntilReleasedOrStale() throws {
        let (client, bucket) = try bucket()
        let place = try #require(try S3Location("s3://\(bucket)/acme"))
        let first = try S3Lease(client: client, at: place, wait: 0)
        #expect {
            _ = try S3Lease(client: client, at: place, wait: 0)
        } throws: { error in
            (error as? LocalizedError)?.errorDescription?.contains("holds s3://\(bucket)/acme/.ledger-lease until")
                == true
        }
        first.release()
        let second = try S3Lease(client: client, at: place, wait: 0)
        second.release()
        #expect(
            try client.send("HEAD", bucket: bucket, key: "acme/.ledger-lease").0.statusCode == 404,
            "released leases are gone")

        // Left by a run that died: past its expiry, or by a process of this machine that is gone.
        for content in [
            #"{"holder":"elsewhere pid 1","host":"elsewhere","pid":1,"token":"x","expires_at":"2020-01-01T00:00:00Z"}"#,
            #"{"holder":"here","host":"\#(ProcessInfo.processInfo.hostName)","pid":2147483646,"token":"x","expires_at":"2999-01-01T00:00:00Z"}"#,
            "not a lease",
        ] {
            try client.create(bucket: bucket, key: "acme/.ledger-lease", body: Data(content.utf8))
            let taken = try S3Lease(client: client, at: place, wait: 0)
            taken.release()
        }
    }

    @Test func hostileAnswersNeverCrashAListingOrARead() throws {
        let (direct, bucket) = try bucket()
        let local = try snapshotFile()
        let place = try #require(try S3Location("s3://\(bucket)/acme"))
        _ = try SnapshotStore(S3Store(place, client: direct)).publish(
            local.path, manifest: try #require(local.manifest), at: Date(timeIntervalSince1970: 1_800_000_000),
            encrypted: false)
        let valid = [UInt8](try contents(local.path).prefix(4096))
        let listing = [UInt8](
            try direct.expect("GET", bucket: bucket, query: [("list-type", "2"), ("prefix", "acme/")]).1)
        var random = SplitMix64(seed: 2026)
        for round in 0..<40 {
            // Each round mangles either the listing or the heads: random bytes, or a real answer with bytes changed or cut.
            var body = round % 2 == 0 ? listing : valid
            switch random.next() % 3 {
            case 0: body = (0..<Int(random.next() % 3000)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            case 1:
                for _ in 0..<1 + Int(random.next() % 8) where !body.isEmpty {
                    body[Int(random.next() % UInt64(body.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            default: body = Array(body.prefix(Int(random.next() % UInt64(body.count + 1))))
            }
            let status = [200, 206, 200, 404, 500][Int(random.next() % 5)]
            let mangled = body
            let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
                let isListing = request.target.contains("list-type")
                return request.method == "GET" && isListing == (round % 2 == 0) ? .answer(status, body: mangled) : nil
            }
            defer { proxy.stop() }
            let client = S3Client(
                configuration: try S3TestServer.configuration(endpoint: proxy.endpoint),
                retries: RetryPolicy(attempts: 2, base: 0.001, cap: 0.002), timeout: 5)
            let location = SnapshotStore(S3Store(place, client: client))
            do {
                let (snapshots, unreadable) = try location.list(with: SnapshotIdentities())
                // Whatever came back names only what the bucket could hold.
                #expect(snapshots.allSatisfy { $0.path.hasPrefix("s3://\(bucket)/acme/") && $0.bytes >= 0 })
                #expect(unreadable.allSatisfy { $0.path.hasPrefix("s3://\(bucket)/acme/") })
            } catch let error as ObjectStorageError {
                #expect(error.errorDescription?.contains("\n") == false)
            } catch let error as BackupError {
                #expect(error.errorDescription?.contains("\n") == false)
            }
        }
    }
}
