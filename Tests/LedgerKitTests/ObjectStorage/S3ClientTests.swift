import Foundation
import LedgerTestSupport
import Testing

@testable import LedgerKit

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Signed requests against a real S3 API server on loopback (moto).
@Suite struct S3ClientTests {
    private func client() throws -> (S3Client, String) {
        let client = S3Client(configuration: try S3TestServer.configuration())
        return (client, "ledger-test-\(UInt32.random(in: 0...UInt32.max))")
    }

    @Test func objectsGoInComeOutAndAreNeverOverwritten() throws {
        let (client, bucket) = try client()
        try client.expect("PUT", bucket: bucket)
        let body = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let key = "Café Books/acme-20261121T020000Z.db.gz"
        let metadata: [(name: String, value: String)] = [("If-None-Match", "*"), ("x-amz-meta-kind", "manual")]
        try client.expect("PUT", bucket: bucket, key: key, headers: metadata, body: body)
        // A second writer of the same name is refused: snapshots are never overwritten.
        let (again, answer) = try client.send(
            "PUT", bucket: bucket, key: key, headers: metadata, body: Data("other".utf8))
        #expect(again.statusCode == 412, "\(String(decoding: answer, as: UTF8.self))")

        let (whole, data) = try client.expect("GET", bucket: bucket, key: key)
        #expect(data == body)
        #expect(whole.value(forHTTPHeaderField: "x-amz-meta-kind") == "manual")
        let (ranged, head) = try client.expect("GET", bucket: bucket, key: key, headers: [("Range", "bytes=0-65535")])
        #expect(ranged.statusCode == 206)
        #expect(head == body.prefix(65_536))

        let (missing, error) = try client.send("GET", bucket: bucket, key: "no such key")
        #expect(missing.statusCode == 404 && S3ErrorDocument.code(in: error) == "NoSuchKey")
        try client.expect("DELETE", bucket: bucket, key: key)
        #expect(try client.list(bucket: bucket, prefix: "").isEmpty)
    }

    @Test func listingsFollowContinuationPastAThousandObjects() throws {
        let (client, bucket) = try client()
        try client.expect("PUT", bucket: bucket)
        let keys = (0..<1_050).map { String(format: "acme/acme-20261121T%06dZ.db.gz", $0) } + ["other/x & <y>.db.gz"]
        for key in keys { try client.expect("PUT", bucket: bucket, key: key, body: Data(key.utf8)) }
        let listed = try client.list(bucket: bucket, prefix: "acme/")
        #expect(listed.count == 1_050)
        #expect(listed.map(\.key) == Array(keys.prefix(1_050)))
        #expect(listed.first?.size == Int64(keys[0].utf8.count))
        #expect(try client.list(bucket: bucket, prefix: "other/").map(\.key) == ["other/x & <y>.db.gz"])
    }

    @Test func listingDocumentsFromOutsideAreReadWithoutTrust() throws {
        let page = try ListingParser.parse(
            Data(
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>true</IsTruncated><NextContinuationToken>1/a&amp;b</NextContinuationToken>
                <Contents><Key>a&#233;&lt;b&gt;</Key><Size>12</Size></Contents><Contents><Size>x</Size></Contents>
                <Contents><Key>c</ListBucketResult>
                """.utf8))
        #expect(page.objects == [S3Client.Object(key: "aé<b>", size: 12)])
        #expect(page.truncated && page.nextToken == "1/a&b")
        #expect(throws: S3Failure.badListing) { try ListingParser.parse(Data([0xFF, 0x00, 0x3C])) }
    }

    /// A page of S3's most entries, with keys of S3's longest, is read in one
    /// pass (a reader that searched the rest of the page for each entry took
    /// 116 s for 40,000); a page of more entries than S3 ever sends is refused.
    @Test func aPageOfAThousandEntriesIsReadAndOneMoreIsRefused() throws {
        func page(_ count: Int, prefixes: Int = 0) -> Data {
            let long = String(repeating: "x", count: 1_000)
            let contents = (0..<count).map {
                "<Contents><Key>acme/\(long)-\($0)&amp;.db.gz</Key><Size>\($0)</Size>"
                    + "<LastModified>2026-12-04T16:29:53.000Z</LastModified></Contents>"
            }
            let folders = (0..<prefixes).map { "<CommonPrefixes><Prefix>acme/f\($0)/</Prefix></CommonPrefixes>" }
            return Data(
                ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult><IsTruncated>true</IsTruncated>"
                    + "<NextContinuationToken>next</NextContinuationToken>"
                    + (contents + folders).joined() + "</ListBucketResult>").utf8)
        }
        let read = try ListingParser.parse(page(1_000))
        #expect(read.objects.count == 1_000)
        #expect(read.objects.map(\.size) == (0..<1_000).map(Int64.init))
        #expect(
            read.objects.last
                == S3Client.Object(
                    key: "acme/\(String(repeating: "x", count: 1_000))-999&.db.gz", size: 999,
                    lastModified: "2026-12-04T16:29:53Z"))
        #expect(read.truncated && read.nextToken == "next")
        #expect(try ListingParser.parse(page(990, prefixes: 10)).prefixes.count == 10)
        for (count, prefixes) in [(1_001, 0), (1_000, 1), (40_000, 0)] {
            #expect(throws: S3Failure.tooManyEntries(most: 1_000)) {
                try ListingParser.parse(page(count, prefixes: prefixes))
            }
        }
    }

    @Test func writeTimesAreReadFromListingsAndHeadersWithoutTrust() throws {
        let page = try ListingParser.parse(
            Data(
                """
                <ListBucketResult><Contents><Key>a</Key><Size>1</Size><LastModified>2026-12-04T16:29:53.123Z</LastModified></Contents>
                <Contents><Key>b</Key><Size>1</Size><LastModified>2026-13-04T16:29:53.000Z</LastModified></Contents>
                <Contents><Key>c</Key><Size>1</Size></Contents></ListBucketResult>
                """.utf8))
        #expect(page.objects.map(\.lastModified) == ["2026-12-04T16:29:53Z", nil, nil])
        #expect(ListingParser.isoSeconds("2026-12-04T16:29:53Z") == "2026-12-04T16:29:53Z")
        for text in ["2026-12-04T16:29:53.Z", "2026-12-04T16:29:53.1x2Z", "2026-12-04 16:29:53Z", "", "Z"] {
            #expect(ListingParser.isoSeconds(text) == nil, "\(text)")
        }
        #expect(ListingParser.httpDateSeconds("Fri, 04 Dec 2026 16:29:53 GMT") == "2026-12-04T16:29:53Z")
        for text in [
            "Fri, 04 Dez 2026 16:29:53 GMT", "Fri, 4 Dec 2026 16:29:53 GMT", "Fri, 31 Feb 2026 16:29:53 GMT",
            "Fri, 04 Dec 2026 16:29:53 UTC", "Friday, 04-Dec-26 16:29:53 GMT", "", "é é é é é GMT",
        ] {
            #expect(ListingParser.httpDateSeconds(text) == nil, "\(text)")
        }
    }

    @Test func randomBytesNeverCrashTheReadersOfAnswers() {
        var random = SplitMix64(seed: 41)
        let pieces = [
            "<Contents>", "</Contents>", "<Key>", "</Key>", "<Size>", "</Size>", "<IsTruncated>true</IsTruncated>",
            "<NextContinuationToken>", "</NextContinuationToken>", "&amp;", "&#", "&#x110000;", "&", ";", "<Code>",
            "</Code>",
            "<UploadId>", "</UploadId>", "9999999999999999999999", "-1", "\u{0}", "é", "\u{FFFD}",
        ]
        for _ in 0..<3_000 {
            var text = ""
            for _ in 0..<Int(random.next() % 40) {
                text +=
                    random.next() % 3 == 0
                    ? String(UnicodeScalar(UInt8(truncatingIfNeeded: random.next() % 128)))
                    : pieces[Int(random.next() % UInt64(pieces.count))]
            }
            let bytes =
                Data(text.utf8)
                + Data((0..<Int(random.next() % 8)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            for body in [bytes, Data("<ListBucketResult>".utf8) + bytes + Data("</ListBucketResult>".utf8)] {
                if let page = try? ListingParser.parse(body) { #expect(page.objects.allSatisfy { $0.size >= 0 }) }
            }
            _ = S3ErrorDocument.code(in: bytes)
            _ = S3Client.contentRange(String(decoding: bytes, as: UTF8.self))
            _ = try? JSONDecoder().decode(S3Lease.Content.self, from: bytes)
            _ = try? SnapshotCatalog.snapshot(head: [UInt8](bytes), path: "s3://b/x.db.gz", bytes: Int64(bytes.count))
        }
    }

    @Test func bigFilesGoUpInCheckedPartsAndComeBackWhole() throws {
        let (client, bucket) = try client()
        let folder = TemporaryDirectory()
        try client.expect("PUT", bucket: bucket)
        let path = try folder.randomFile("snapshot.db.gz", size: 12 << 20)
        try client.upload(
            file: path, bucket: bucket, key: "acme/big.db.gz", metadata: ["kind": "scheduled"],
            partSize: 5 << 20, inFlight: 3)
        #expect(throws: S3Failure.exists(key: "acme/big.db.gz")) {
            try client.upload(file: path, bucket: bucket, key: "acme/big.db.gz", partSize: 5 << 20)
        }
        let back = folder.file("back.db.gz")
        let size = try client.download(bucket: bucket, key: "acme/big.db.gz", to: back, chunk: 4 << 20)
        #expect(size == 12 << 20)
        #expect(try Data(contentsOf: URL(fileURLWithPath: back)) == Data(contentsOf: URL(fileURLWithPath: path)))
        let (head, _) = try client.expect("HEAD", bucket: bucket, key: "acme/big.db.gz")
        #expect(head.value(forHTTPHeaderField: "x-amz-meta-kind") == "scheduled")

        // A small file goes up in one request, create-only too.
        let small = try folder.randomFile("small.db.gz", size: 1_000)
        try client.upload(file: small, bucket: bucket, key: "acme/small.db.gz")
        #expect(throws: S3Failure.exists(key: "acme/small.db.gz")) {
            try client.upload(file: small, bucket: bucket, key: "acme/small.db.gz")
        }
    }

    @Test func aFailedMultipartUploadIsAbortedAndLeavesNothing() throws {
        let (client, bucket) = try client()
        let folder = TemporaryDirectory()
        try client.expect("PUT", bucket: bucket)
        // Parts under S3's 5 MiB minimum: completing fails (EntityTooSmall).
        let path = try folder.randomFile("snapshot.db.gz", size: 3 << 20)
        #expect(throws: S3Failure.self) {
            try client.upload(file: path, bucket: bucket, key: "acme/partial.db.gz", partSize: 1 << 20)
        }
        #expect(try client.list(bucket: bucket, prefix: "").isEmpty)
        let (_, uploads) = try client.expect("GET", bucket: bucket, query: [("uploads", nil)])
        #expect(!String(decoding: uploads, as: UTF8.self).contains("<UploadId>"), "the upload was not aborted")
    }

    @Test func retriesBackOffWithJitterOnWhatIsWorthRetrying() {
        let policy = RetryPolicy(attempts: 6, base: 0.2, cap: 20)
        for attempt in 0..<40 {
            let delay = policy.delay(afterAttempt: attempt)
            #expect(delay >= 0 && delay <= min(20, 0.2 * pow(2, Double(attempt))))
        }
        #expect(RetryPolicy.isRetryable(status: 503, code: "SlowDown"))
        #expect(RetryPolicy.isRetryable(status: 500, code: nil) && RetryPolicy.isRetryable(status: 429, code: nil))
        #expect(RetryPolicy.isRetryable(status: 400, code: "RequestTimeout"))
        #expect(
            !RetryPolicy.isRetryable(status: 403, code: "AccessDenied")
                && !RetryPolicy.isRetryable(status: 412, code: nil))
        #expect(
            RetryPolicy.isRetryable(URLError(.networkConnectionLost)) && RetryPolicy.isRetryable(URLError(.timedOut)))
        #expect(!RetryPolicy.isRetryable(URLError(.badURL)))
    }

    @Test func aServerThatIsNotThereFailsAfterItsRetries() throws {
        let configuration = try S3Configuration.resolve(
            environment: [
                "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            ], home: "/nonexistent")
        let client = S3Client(configuration: configuration, retries: RetryPolicy(attempts: 3, base: 0.01, cap: 0.05))
        #expect(throws: URLError.self) { try client.send("GET", bucket: "books") }
    }

    @Test(
        arguments: [
            (S3Failure.status(403, code: "InvalidAccessKeyId", request: "PUT x"), "does not accept these credentials"),
            (S3Failure.status(403, code: "RequestTimeTooSkewed", request: "PUT x"), "clock is wrong"),
            (S3Failure.status(404, code: "NoSuchBucket", request: "GET books"), "does not exist; create it"),
            (S3Failure.status(403, code: "AccessDenied", request: "DELETE x"), "denies this request (DELETE x)"),
            (
                S3Failure.status(500, code: "InternalError", request: "PUT x"),
                "answered PUT x with HTTP 500 (InternalError)"
            ),
            (S3Failure.exists(key: "a/b.db.gz"), "already holds a/b.db.gz"),
        ] as [(S3Failure, String)])
    func errorsAreOneLineSayingWhatToDo(failure: S3Failure, words: String) {
        let message = ObjectStorageError.explaining(failure, at: "s3://books/acme").localizedDescription
        #expect(message.contains(words), "\(message)")
        #expect(!message.contains("\n") && message.hasSuffix("."))
    }

    @Test func noServerIsOneLineToo() {
        let message = ObjectStorageError.explaining(URLError(.cannotConnectToHost), at: "s3://books")
            .localizedDescription
        #expect(message == "s3://books cannot be reached (no connection); check the network and AWS_ENDPOINT_URL.")
    }
}
