import Foundation
import LedgerTestSupport
import Testing

@testable import LedgerKit

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Object storage that misbehaves on purpose, on loopback: a lease raced by
/// two runs with one's request held back, listings that never end, and
/// servers that ignore `Range` or answer other bytes than asked.
@Suite struct HostileServerTests {
    let folder = TemporaryDirectory()

    /// A new bucket on the test server, and a client for `endpoint` (the server itself by default).
    private func bucket(through endpoint: String? = nil) throws -> (S3Client, String) {
        let bucket = S3TestServer.bucketName()
        try S3Client(configuration: try S3TestServer.configuration()).expect("PUT", bucket: bucket)
        return (
            S3Client(
                configuration: try S3TestServer.configuration(endpoint: endpoint),
                retries: RetryPolicy(attempts: 3, base: 0.01, cap: 0.05), timeout: 10), bucket
        )
    }

    private func client(_ endpoint: String) throws -> S3Client {
        S3Client(
            configuration: try S3TestServer.configuration(endpoint: endpoint),
            retries: RetryPolicy(attempts: 3, base: 0.01, cap: 0.05),
            timeout: 10)
    }

    private static let deadLease = Data(
        #"{"holder":"elsewhere pid 1","host":"elsewhere","pid":1,"token":"dead","expires_at":"2020-01-01T00:00:00Z"}"#
            .utf8)

    // MARK: The lease

    /// Who holds the lease, counted from the moment a run knows it holds it
    /// until its release is done.
    private final class Holders: @unchecked Sendable {
        // Guarded by `lock`.
        private var now = 0
        private(set) var most = 0
        private(set) var order: [String] = []
        private(set) var failures: [String] = []
        private let lock = NSLock()

        func enter(_ name: String) {
            lock.lock()
            defer { lock.unlock() }
            now += 1
            most = max(most, now)
            order.append(name)
        }

        func leave() {
            lock.lock()
            defer { lock.unlock() }
            now -= 1
        }

        func fail(_ error: any Error) {
            lock.lock()
            defer { lock.unlock() }
            failures.append("\(error)")
        }

        var summary: (most: Int, order: [String], failures: [String]) {
            lock.lock()
            defer { lock.unlock() }
            return (most, order, failures)
        }
    }

    @Test func twoRunsRacingForADeadLeaseNeverBothHoldIt() throws {
        let (direct, bucket) = try bucket()
        let place = try #require(try S3Location("s3://\(bucket)/acme"))
        try direct.create(bucket: bucket, key: "acme/.ledger-lease", body: Self.deadLease)
        // Run A's first request that replaces or removes the lease it read arrives 1.5 s late.
        let tally = Tally()
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            let replaces =
                request.method == "DELETE"
                || (request.method == "PUT" && request.headers["if-match"].map { $0 != "\"ledger-probe\"" } == true)
            return replaces && tally.next("replace") == 1 ? .delay(1.5) : nil
        }
        defer { proxy.stop() }
        let holders = Holders()
        let done = DispatchSemaphore(value: 0)
        let slow = try client(proxy.endpoint)
        Thread {
            do {
                let lease = try S3Lease(client: slow, at: place, wait: 30)
                holders.enter("A")
                Thread.sleep(forTimeInterval: 0.3)
                lease.release()
                holders.leave()
            } catch {
                holders.fail(error)
            }
            done.signal()
        }.start()
        // B starts once A's takeover is on its way, held back by the proxy.
        for _ in 0..<250 where !proxy.requests.contains(where: { $0.fault != nil }) {
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(proxy.requests.contains { $0.fault == .delay(1.5) })
        let lease = try S3Lease(client: direct, at: place, wait: 30)
        holders.enter("B")
        Thread.sleep(forTimeInterval: 2.5)
        lease.release()
        holders.leave()
        done.wait()

        let (most, order, failures) = holders.summary
        #expect(failures.isEmpty)
        #expect(most == 1, "two runs held the lease at once")
        #expect(order == ["B", "A"], "A's late takeover was refused (412); A took the lease only once B let it go")
        #expect(try direct.send("HEAD", bucket: bucket, key: "acme/.ledger-lease").0.statusCode == 404)
    }

    @Test func aLeaseTakenOverMeanwhileIsNeitherRenewedNorRemovedByItsOldHolder() throws {
        let (direct, bucket) = try bucket()
        let place = try #require(try S3Location("s3://\(bucket)/acme"))
        let lease = try S3Lease(client: direct, at: place, wait: 0, lifetime: 0.6)
        #expect(lease.isHeld)
        // As if this run stalled past its lifetime and another took the lease over.
        let theirs = Data(
            #"{"holder":"other pid 7","host":"other","pid":7,"token":"theirs","expires_at":"2999-01-01T00:00:00Z"}"#
                .utf8)
        try direct.expect("PUT", bucket: bucket, key: "acme/.ledger-lease", body: theirs)
        for _ in 0..<100 where lease.isHeld { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!lease.isHeld, "the next renewal found another holder")
        lease.release()
        #expect(
            try direct.expect("GET", bucket: bucket, key: "acme/.ledger-lease").1 == theirs,
            "release left the other's lease alone")
    }

    /// Confirming renews on the spot: a holder whose lease was taken over
    /// learns it at once, before its next renewal would have told it.
    @Test func confirmingALeaseTakenOverThrowsAtOnce() throws {
        let (direct, bucket) = try bucket()
        let place = try #require(try S3Location("s3://\(bucket)/acme"))
        let lease = try S3Lease(client: direct, at: place, wait: 0, lifetime: 600)
        try lease.confirm()
        let theirs = Data(
            #"{"holder":"other pid 7","host":"other","pid":7,"token":"theirs","expires_at":"2999-01-01T00:00:00Z"}"#
                .utf8)
        try direct.expect("PUT", bucket: bucket, key: "acme/.ledger-lease", body: theirs)
        #expect(lease.isHeld, "no renewal has run yet (every 200 s)")
        #expect(throws: ObjectStorageError.self) { try lease.confirm() }
        #expect(!lease.isHeld)
        lease.release()
        #expect(try direct.expect("GET", bucket: bucket, key: "acme/.ledger-lease").1 == theirs)
    }

    @Test func storageThatIgnoresIfMatchNeverHasADeadLeaseTakenOver() throws {
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { _ in .dropHeader("If-Match") }
        defer { proxy.stop() }
        let (direct, bucket) = try bucket()
        let careless = try client(proxy.endpoint)
        let place = try #require(try S3Location("s3://\(bucket)/acme"))
        try direct.create(bucket: bucket, key: "acme/.ledger-lease", body: Self.deadLease)
        #expect {
            _ = try S3Lease(client: careless, at: place, wait: 0)
        } throws: { error in
            let text = (error as? LocalizedError)?.errorDescription ?? ""
            return text
                == "s3://\(bucket)/acme/.ledger-lease is held by elsewhere pid 1 until 2020-01-01T00:00:00Z, which looks gone, "
                + "but this storage ignores If-Match, so ledger cannot take it over without risking two runs at once; "
                + "delete that object if no backup or prune runs there now."
        }
        #expect(try direct.expect("GET", bucket: bucket, key: "acme/.ledger-lease").1 == Self.deadLease)

        // A free place is still taken and let go there.
        try direct.expect("DELETE", bucket: bucket, key: "acme/.ledger-lease")
        let lease = try S3Lease(client: careless, at: place, wait: 0)
        lease.release()
        #expect(try direct.send("HEAD", bucket: bucket, key: "acme/.ledger-lease").0.statusCode == 404)
    }

    @Test func storageThatIgnoresIfNoneMatchIsNeverWrittenTo() throws {
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { _ in .dropHeader("If-None-Match") }
        defer { proxy.stop() }
        let (direct, bucket) = try bucket()
        #expect {
            _ = try S3Lease(client: try client(proxy.endpoint), at: try #require(try S3Location("s3://\(bucket)/acme")))
        } throws: { error in
            (error as? LocalizedError)?.errorDescription
                == "s3://\(bucket)/acme does not honour conditional writes (it let a second If-None-Match create of "
                + ".ledger-lease through), so two backups there could overwrite each other's snapshots; "
                + "ledger writes nothing there. Use storage that supports conditional writes."
        }
        #expect(try direct.send("HEAD", bucket: bucket, key: "acme/.ledger-lease").0.statusCode == 404, "let go")
        #expect(
            proxy.requests.filter { $0.method == "PUT" }.count == 3, "the create, the If-Match probe, the second create"
        )
    }

    /// A lease whose create is refused but which is never there (GET 404) is
    /// waited for, backing off, only until the wait runs out.
    @Test func aLeaseThatIsRefusedYetNeverThereEndsWithTheWait() throws {
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            guard request.target.contains(".ledger-lease") else { return nil }
            return request.method == "PUT" ? .status(412, code: "PreconditionFailed") : .status(404, code: "NoSuchKey")
        }
        defer { proxy.stop() }
        let (_, bucket) = try bucket()
        let started = Date()
        #expect {
            _ = try S3Lease(
                client: try client(proxy.endpoint), at: try #require(try S3Location("s3://\(bucket)/acme")), wait: 3)
        } throws: { error in
            (error as? LocalizedError)?.errorDescription
                == "s3://\(bucket)/acme/.ledger-lease could not be taken within 3 s: the storage refused to create it "
                + "but showed no lease there; try again later, and check that AWS_ENDPOINT_URL names your object storage."
        }
        #expect(Date().timeIntervalSince(started) < 8)
        let asked = proxy.requests.filter { $0.target.contains(".ledger-lease") }.count
        #expect(asked >= 4 && asked <= 2 * 8, "\(asked) requests in 3 s: one create and one read a pass, with pauses")
    }

    /// The answer to the lease's create is lost after the write: the retry is
    /// refused by the run's own lease, which it takes as its own at once.
    @Test func aLeaseWhoseCreateAnswerIsLostIsTakenAsOurs() throws {
        let tally = Tally()
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "PUT" && request.headers["if-none-match"] != nil && tally.next("create") == 1
                ? .dropResponse(afterBytes: 1) : nil
        }
        defer { proxy.stop() }
        let (direct, bucket) = try bucket()
        let started = Date()
        let lease = try S3Lease(
            client: try client(proxy.endpoint), at: try #require(try S3Location("s3://\(bucket)/acme")), wait: 20)
        #expect(Date().timeIntervalSince(started) < 5, "taken at once, not after waiting for itself")
        #expect(lease.isHeld)
        #expect(proxy.requests.filter { $0.method == "PUT" && $0.headers["if-none-match"] != nil }.count >= 2)
        try lease.confirm()
        lease.release()
        #expect(try direct.send("HEAD", bucket: bucket, key: "acme/.ledger-lease").0.statusCode == 404)
    }

    @Test func aLeaseInABucketThatIsNotThereIsAnError() throws {
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { _ in .status(404, code: "NoSuchBucket") }
        defer { proxy.stop() }
        #expect(throws: S3Failure.status(404, code: "NoSuchBucket", request: "PUT acme/.ledger-lease")) {
            _ = try S3Lease(
                client: try client(proxy.endpoint), at: try #require(try S3Location("s3://no-such-bucket/acme")),
                wait: 30)
        }
        #expect(proxy.requests.count == 1)
    }

    @Test func aLeaseAnswerPastItsBoundIsNotRead() throws {
        let (direct, bucket) = try bucket()
        let huge = [UInt8](repeating: 0x20, count: 1 << 20)
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "GET" && request.target.contains(".ledger-lease") ? .answer(200, body: huge) : nil
        }
        defer { proxy.stop() }
        try direct.create(bucket: bucket, key: "acme/.ledger-lease", body: Self.deadLease)
        #expect(throws: S3Failure.tooLarge(bytes: Int64(S3Lease.bytes))) {
            _ = try S3Lease(
                client: try client(proxy.endpoint), at: try #require(try S3Location("s3://\(bucket)/acme")), wait: 0)
        }
    }

    // MARK: Multipart uploads

    /// S3 answers CompleteMultipartUpload with 200 at once, pads it with
    /// whitespace while it works, and may then say it failed.
    @Test func aCompletionThatFailsAfterItsPaddingIsNoObject() throws {
        let (direct, bucket) = try bucket()
        let padded =
            [UInt8](repeating: 0x20, count: 4_096)
            + Array(
                "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>".utf8)
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "POST" && request.target.contains("uploadId=") ? .answer(200, body: padded) : nil
        }
        defer { proxy.stop() }
        let path = try folder.randomFile("snapshot.db.gz", size: 11 << 20)
        let store = S3Store(try #require(try S3Location("s3://\(bucket)/acme")), client: try client(proxy.endpoint))
        #expect {
            try store.create("big.db.gz", from: path, attributes: [:])
        } throws: { error in
            (error as? LocalizedError)?.errorDescription
                == "s3://\(bucket)/acme did not surely store acme/big.db.gz (it answered InternalError after 200); "
                + "it is not counted as written: run it again."
        }
        #expect(
            proxy.requests.contains { $0.method == "DELETE" && $0.target.contains("uploadId=") },
            "the upload was aborted")
        #expect(try direct.send("HEAD", bucket: bucket, key: "acme/big.db.gz").0.statusCode == 404)
        let (_, uploads) = try direct.expect("GET", bucket: bucket, query: [("uploads", nil)])
        #expect(!String(decoding: uploads, as: UTF8.self).contains("<UploadId>"), "no upload is left open")
    }

    @Test func aCompletionTheStorageDoesNotHoldAtItsSizeIsNoObject() throws {
        let (_, bucket) = try bucket()
        let tally = Tally()
        // The first HEAD (is the name free?) goes through; the one after completing says 5 bytes.
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "HEAD" && tally.next("head") == 2
                ? .answer(200, body: [UInt8](repeating: 0, count: 5)) : nil
        }
        defer { proxy.stop() }
        let path = try folder.randomFile("snapshot.db.gz", size: 11 << 20)
        #expect(
            throws: S3Failure.notCompleted(
                key: "acme/big.db.gz", reason: "it holds 5 bytes there, not the 11534336 sent")
        ) {
            try client(proxy.endpoint).upload(file: path, bucket: bucket, key: "acme/big.db.gz", partSize: 5 << 20)
        }
    }

    // MARK: Listings

    /// A ListObjectsV2 page that says there is more: `count` keys from `first`, and `token` as given.
    static func page(_ count: Int, from first: Int, token: String?) -> [UInt8] {
        let contents = (first..<first + count).map {
            "<Contents><Key>acme/acme-\($0).db.gz</Key><Size>9</Size></Contents>"
        }.joined()
        let next = token.map { "<NextContinuationToken>\($0)</NextContinuationToken>" } ?? ""
        return Array("<ListBucketResult><IsTruncated>true</IsTruncated>\(next)\(contents)</ListBucketResult>".utf8)
    }

    /// A server whose listing never ends, in one of the ways it can: each page's keys and its token.
    static func endless(_ kind: String, tally: Tally) -> FaultProxy.Rule {
        { request in
            guard request.method == "GET", request.target.contains("list-type") else { return nil }
            let number = tally.next("page")
            guard number <= 200 else { return .answer(500, body: []) }
            switch kind {
            case "same token": return .answer(200, body: page(1, from: number, token: "again"))
            case "new tokens": return .answer(200, body: page(20, from: number * 20, token: "t\(number)"))
            case "empty pages": return .answer(200, body: page(0, from: 0, token: "t\(number)"))
            case "empty token": return .answer(200, body: page(1, from: number, token: ""))
            default: return .answer(200, body: page(1, from: number, token: nil))
            }
        }
    }

    @Test(arguments: [
        ("same token", S3Failure.endlessListing(.repeatedToken, objects: 2, pages: 2)),
        ("new tokens", S3Failure.endlessListing(.tooManyObjects(50), objects: 60, pages: 3)),
        ("empty pages", S3Failure.endlessListing(.tooManyPages(10), objects: 0, pages: 10)),
        ("empty token", S3Failure.endlessListing(.missingToken, objects: 1, pages: 1)),
        ("no token", S3Failure.endlessListing(.missingToken, objects: 1, pages: 1)),
    ])
    func aListingThatNeverEndsIsStopped(kind: String, stop: S3Failure) throws {
        let tally = Tally()
        let proxy = try FaultProxy(upstream: try S3TestServer.port(), rule: Self.endless(kind, tally: tally))
        defer { proxy.stop() }
        let (client, bucket) = try bucket(through: proxy.endpoint)
        #expect(throws: stop) { try client.list(bucket: bucket, prefix: "acme/", maxObjects: 50) }
        guard case .endlessListing(_, _, let pages) = stop else { return }
        #expect(
            proxy.requests.filter { $0.target.contains("list-type") }.count == pages,
            "no page past the bound was asked for")

        // Through a location (whose bound is the process's), the one line a person reads.
        guard !["new tokens", "empty pages"].contains(kind) else { return }
        let location = SnapshotStore(S3Store(try #require(try S3Location("s3://\(bucket)/acme")), client: client))
        #expect {
            _ = try location.list(with: SnapshotIdentities())
        } throws: { error in
            let text = (error as? LocalizedError)?.errorDescription ?? ""
            return text.hasPrefix("s3://\(bucket)/acme gives a listing that does not end (") && !text.contains("\n")
                && text.hasSuffix("or give --max-objects a larger count if the place holds more.")
        }
    }

    @Test func aListingPageOfMoreEntriesThanS3SendsIsRefused() throws {
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.target.contains("list-type") ? .answer(200, body: Self.page(1_001, from: 0, token: "t")) : nil
        }
        defer { proxy.stop() }
        let (client, bucket) = try bucket(through: proxy.endpoint)
        let store = S3Store(try #require(try S3Location("s3://\(bucket)/acme")), client: client)
        #expect {
            _ = try store.list(prefix: "")
        } throws: { error in
            (error as? LocalizedError)?.errorDescription
                == "s3://\(bucket)/acme sent a listing page of more than 1000 entries, more than S3 ever sends in one; "
                + "stopped reading it. Check that AWS_ENDPOINT_URL names your object storage."
        }
    }

    @Test func aListingPagePastItsBoundIsNotRead() throws {
        let huge = Self.page(1, from: 0, token: "t") + [UInt8](repeating: 0x20, count: S3Client.answerBytes)
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.target.contains("list-type") ? .answer(200, body: huge) : nil
        }
        defer { proxy.stop() }
        let (client, bucket) = try bucket(through: proxy.endpoint)
        #expect(throws: S3Failure.tooLarge(bytes: Int64(S3Client.answerBytes))) {
            try client.list(bucket: bucket, prefix: "acme/")
        }
    }

    /// A server that sends a byte now and then, never idle long enough for
    /// the idle timeout, is cancelled once the request has had the time its
    /// bytes could need, and is not asked again.
    @Test func anAnswerThatTricklesIsCancelledAtItsDeadline() throws {
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.target.contains("list-type")
                ? .trickle(200, body: Self.page(1, from: 0, token: nil), every: 0.3) : nil
        }
        defer { proxy.stop() }
        let (_, bucket) = try bucket()
        let client = S3Client(
            configuration: try S3TestServer.configuration(endpoint: proxy.endpoint),
            retries: RetryPolicy(attempts: 3, base: 0.01, cap: 0.05), timeout: 2, slowest: 1_048_576)
        let started = Date()
        #expect(throws: S3Failure.tooSlow(request: "GET \(bucket)", seconds: 3)) {
            try client.list(bucket: bucket, prefix: "acme/")
        }
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(proxy.requests.filter { $0.target.contains("list-type") }.count == 1, "not asked again")
        #expect(
            ObjectStorageError.explaining(S3Failure.tooSlow(request: "GET \(bucket)", seconds: 3), at: "s3://b/acme")
                .errorDescription
                == "s3://b/acme took more than 3 s to answer GET \(bucket), far longer than its size needs; "
                + "stopped waiting. Check the network and AWS_ENDPOINT_URL.")
    }

    // MARK: Ranged reads

    @Test func aServerThatIgnoresRangeIsReadOnceForAllTheChunks() throws {
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "GET" ? .dropHeader("Range") : nil
        }
        defer { proxy.stop() }
        let (direct, bucket) = try bucket()
        let path = try folder.randomFile("snapshot.db.gz", size: 12 << 20)
        try direct.upload(file: path, bucket: bucket, key: "acme/big.db.gz", partSize: 5 << 20)
        let client = try client(proxy.endpoint)
        let back = folder.file("back")
        #expect(try client.download(bucket: bucket, key: "acme/big.db.gz", to: back, chunk: 1 << 20) == 12 << 20)
        #expect(try Data(contentsOf: URL(fileURLWithPath: back)) == Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(proxy.requests.filter { $0.method == "GET" }.count == 1, "one whole answer served every chunk")
        #expect(proxy.bytesServed <= (12 << 20) + 16_384, "\(proxy.bytesServed) bytes served")

        // A head read keeps only what it asked for.
        let head = try client.read(bucket: bucket, key: "acme/big.db.gz", range: 100...4195)
        #expect(head == (try Data(contentsOf: URL(fileURLWithPath: path))).subdata(in: 100..<4196))
    }

    @Test(arguments: [
        // Other bytes than asked, another total, no Content-Range, a body longer than it says.
        ("bytes 4096-8191/12582912", 4096, "range"),
        ("bytes 0-4095/99", 4096, "range"),
        ("", 4096, "range"),
        ("bytes 0-4095/12582912", 5000, "long"),
    ])
    func aPartialAnswerOfOtherBytesIsRefused(contentRange: String, bytes: Int, expected: String) throws {
        let (direct, bucket) = try bucket()
        let path = try folder.randomFile("snapshot.db.gz", size: 12 << 20)
        try direct.upload(file: path, bucket: bucket, key: "acme/big.db.gz", partSize: 5 << 20)
        let headers = contentRange.isEmpty ? [:] : ["Content-Range": contentRange]
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "GET" ? .respond(206, headers: headers, body: [UInt8](repeating: 7, count: bytes)) : nil
        }
        defer { proxy.stop() }
        let client = try client(proxy.endpoint)
        let failure =
            expected == "range"
            ? S3Failure.badRange(asked: "bytes=0-4095", got: contentRange, request: "GET acme/big.db.gz")
            : S3Failure.tooLarge(bytes: 4096)
        #expect(throws: failure) { try client.read(bucket: bucket, key: "acme/big.db.gz", range: 0...4095) }
        #expect(throws: (any Error).self) {
            try client.download(bucket: bucket, key: "acme/big.db.gz", to: folder.file("back"), chunk: 4096)
        }
    }

    /// HEAD says more than the listing: nothing is downloaded, not even the listed bytes.
    @Test func aDownloadWhoseHeadIsNotItsListedSizeIsRefused() throws {
        let (direct, bucket) = try bucket()
        try direct.create(bucket: bucket, key: "acme/small.db.gz", body: Data(repeating: 1, count: 1_000))
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            guard request.target.contains("small.db.gz"), !request.target.contains("list-type") else { return nil }
            return .answer(200, body: [UInt8](repeating: 0, count: 300_000))
        }
        defer { proxy.stop() }
        let store = S3Store(try #require(try S3Location("s3://\(bucket)/acme")), client: try client(proxy.endpoint))
        #expect {
            try store.withLocalFile(of: "small.db.gz", size: nil, near: folder.file("restored.db")) { _ in }
        } throws: { error in
            (error as? LocalizedError)?.errorDescription
                == "s3://\(bucket)/acme gives acme/small.db.gz two sizes, 1000 bytes in its listing and 300000 by HEAD; "
                + "nothing was read. Check that AWS_ENDPOINT_URL names your object storage."
        }
        #expect(
            !proxy.requests.contains {
                $0.method == "GET" && $0.target.contains("small.db.gz") && !$0.target.contains("list-type")
            })
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "no download left behind")
    }

    @Test func aWholeAnswerLongerThanTheObjectIsRefused() throws {
        let (direct, bucket) = try bucket()
        try direct.create(bucket: bucket, key: "acme/small.db.gz", body: Data(repeating: 1, count: 1_000))
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "GET" ? .answer(200, body: [UInt8](repeating: 1, count: 5_000)) : nil
        }
        defer { proxy.stop() }
        #expect(throws: S3Failure.tooLarge(bytes: 1_000)) {
            try client(proxy.endpoint).download(bucket: bucket, key: "acme/small.db.gz", to: folder.file("back"))
        }
    }

    @Test func randomContentRangesNeverCrashAndNeverWidenWhatWasAsked() {
        var random = SplitMix64(seed: 2_025)
        let pieces = [
            "bytes ", "bytes=", "-", "/", "*", "0", "4095", "4096", "99", "9223372036854775807", "99999999999999999999",
            " ", "é", "+1", "",
        ]
        let asked: ClosedRange<Int64> = 0...4095
        for _ in 0..<5_000 {
            let text = (0..<Int(random.next() % 8)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }
                .joined()
            if let held = S3Client.contentRange(text) {
                #expect(held.first <= held.last && held.first >= 0)
            }
            let response = HTTPURLResponse(
                url: URL(string: "http://127.0.0.1/b/k")!, statusCode: 206, httpVersion: "HTTP/1.1",
                headerFields: ["Content-Range": text])!
            if let held = try? S3Client.heldRange(
                response, asked: asked, size: random.next() % 2 == 0 ? nil : 12_582_912, key: "k")
            {
                #expect(held.lowerBound == asked.lowerBound && held.upperBound <= asked.upperBound)
            }
        }
        #expect(S3Client.contentRange("bytes 0-4095/12582912")! == (0, 4095, 12_582_912))
        #expect(S3Client.contentRange("bytes 0-4095/*")! == (0, 4095, nil))
    }

    @Test func theLargestMaxObjectsNeverOverflows() throws {
        var bound = ListingBound(maxObjects: .max)
        let page = try ListingParser.parse(Data(Self.page(3, from: 0, token: "t1")))
        try bound.count(page, bytes: 300, objects: 3)
        #expect(throws: S3Failure.endlessListing(.repeatedToken, objects: 6, pages: 2)) {
            try bound.count(page, bytes: 300, objects: 6)
        }
    }

    @Test func randomListingPagesAlwaysMeetABound() throws {
        var random = SplitMix64(seed: 77)
        for _ in 0..<300 {
            var bound = ListingBound(maxObjects: 1 + Int(random.next() % 500))
            var objects = 0
            var stopped = false
            for _ in 0..<10_000 {
                let count = Int(random.next() % 40)
                let token: String? = [nil, "", "a", "b", "t\(random.next() % 1_000)"][Int(random.next() % 5)]
                var page = try ListingParser.parse(Data(Self.page(count, from: objects, token: token)))
                if random.next() % 50 == 0 {
                    page = try ListingParser.parse(
                        Data("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>".utf8))
                }
                objects += page.objects.count
                do {
                    try bound.count(page, bytes: 100 * count, objects: objects)
                } catch {
                    stopped = true
                    break
                }
                if !page.truncated {
                    stopped = true
                    break
                }
            }
            #expect(stopped, "a listing was followed past every bound")
        }
    }
}
