import Foundation
import Testing
@testable import LedgerKit

/// Signed requests against a real S3 API server on loopback (moto).
@Suite struct S3ClientTests {
    private func client() throws -> (S3Client, String) {
        let client = S3Client(configuration: try S3TestServer.configuration())
        return (client, "ledger-test-\(UInt32.random(in: 0...UInt32.max))")
    }

    @Test func objectsGoInComeOutAndAreNeverOverwritten() async throws {
        let (client, bucket) = try client()
        try await client.expect("PUT", bucket: bucket)
        let body = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let key = "Café Books/acme-20261121T020000Z.db.gz"
        let metadata: [(name: String, value: String)] = [("If-None-Match", "*"), ("x-amz-meta-kind", "manual")]
        try await client.expect("PUT", bucket: bucket, key: key, headers: metadata, body: body)
        // A second writer of the same name is refused: snapshots are never overwritten.
        let (again, answer) = try await client.send("PUT", bucket: bucket, key: key, headers: metadata, body: Data("other".utf8))
        #expect(again.statusCode == 412, "\(String(decoding: answer, as: UTF8.self))")

        let (whole, data) = try await client.expect("GET", bucket: bucket, key: key)
        #expect(data == body)
        #expect(whole.value(forHTTPHeaderField: "x-amz-meta-kind") == "manual")
        let (ranged, head) = try await client.expect("GET", bucket: bucket, key: key, headers: [("Range", "bytes=0-65535")])
        #expect(ranged.statusCode == 206)
        #expect(head == body.prefix(65_536))

        let (missing, error) = try await client.send("GET", bucket: bucket, key: "no such key")
        #expect(missing.statusCode == 404 && S3ErrorDocument.code(in: error) == "NoSuchKey")
        try await client.expect("DELETE", bucket: bucket, key: key)
        #expect(try await client.list(bucket: bucket, prefix: "").isEmpty)
    }

    @Test func listingsFollowContinuationPastAThousandObjects() async throws {
        let (client, bucket) = try client()
        try await client.expect("PUT", bucket: bucket)
        let keys = (0..<1_050).map { String(format: "acme/acme-20261121T%06dZ.db.gz", $0) } + ["other/x & <y>.db.gz"]
        for key in keys { try await client.expect("PUT", bucket: bucket, key: key, body: Data(key.utf8)) }
        let listed = try await client.list(bucket: bucket, prefix: "acme/")
        #expect(listed.count == 1_050)
        #expect(listed.map(\.key) == Array(keys.prefix(1_050)))
        #expect(listed.first?.size == Int64(keys[0].utf8.count))
        #expect(try await client.list(bucket: bucket, prefix: "other/").map(\.key) == ["other/x & <y>.db.gz"])
    }

    @Test func listingDocumentsFromOutsideAreReadWithoutTrust() {
        let page = ListingParser.parse(Data("""
            <ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>1/a&amp;b</NextContinuationToken>
            <Contents><Key>a&#233;&lt;b&gt;</Key><Size>12</Size></Contents><Contents><Size>x</Size></Contents>
            <Contents><Key>c
            """.utf8))
        #expect(page.objects == [S3Client.Object(key: "aé<b>", size: 12)])
        #expect(page.truncated && page.nextToken == "1/a&b")
        #expect(ListingParser.parse(Data([0xFF, 0x00, 0x3C])).objects.isEmpty)
    }
}
