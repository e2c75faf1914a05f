import Foundation
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// A prefix of object storage as a `ByteStore`, against the S3 test server.
@Suite struct S3StoreTests {
    let folder = TemporaryDirectory()

    /// A store under `prefix` of a new bucket on the test server, and a client for the bucket.
    private func store(prefix: String = "clients/acme") throws -> (S3Store, S3Client, String) {
        let bucket = S3TestServer.bucketName()
        let client = S3Client(
            configuration: try S3TestServer.configuration(),
            retries: RetryPolicy(attempts: 6, base: 0.05, cap: 0.5))
        try client.expect("PUT", bucket: bucket)
        return (S3Store(try #require(try S3Location("s3://\(bucket)/\(prefix)")), client: client), client, bucket)
    }

    @Test func keepsTheContractOfEveryStore() throws {
        let (store, _, _) = try store()
        try ByteStoreContract.check(store, scratch: folder)
    }

    @Test func attributesRideAlongAsUserMetadata() throws {
        let (store, client, bucket) = try store()
        let source = folder.file("source")
        try Data("books".utf8).write(to: URL(fileURLWithPath: source))
        try store.create("a", from: source, attributes: ["kind": "manual", "created-at": "2026-11-21T02:00:00Z"])
        let (head, _) = try client.expect("HEAD", bucket: bucket, key: "clients/acme/a")
        #expect(head.value(forHTTPHeaderField: "x-amz-meta-kind") == "manual")
        let entry = try #require(try store.entry("a"))
        #expect(entry.attributes["kind"] == "manual")
        #expect(entry.attributes["created-at"] == "2026-11-21T02:00:00Z")
        #expect(entry.size == 5)
        #expect(store.path(of: "a") == "s3://\(bucket)/clients/acme/a")
    }

    @Test func objectsOutsideThePrefixAreNotListed() throws {
        let (store, client, bucket) = try store()
        try client.create(bucket: bucket, key: "clients/acme/a", body: Data("1".utf8))
        try client.create(bucket: bucket, key: "clients/acmeish/b", body: Data("22".utf8))
        try client.create(bucket: bucket, key: "other/c", body: Data("333".utf8))
        #expect(try store.list(prefix: "").map(\.name) == ["a"])
        #expect(try store.list(prefix: "").map(\.size) == [1])
        #expect(try store.name(at: "s3://\(bucket)/other/c") == nil)
        #expect(try store.name(at: "s3://elsewhere/clients/acme/a") == nil)
    }

    /// A key further down (a "sub-folder", as a server may list one among
    /// the folder's own) is no snapshot of this place: never listed, never removed.
    @Test func keysFurtherDownAreNotListed() throws {
        let (_, client, bucket) = try store()
        try client.create(bucket: bucket, key: "clients/acme/acme-20260101T000000Z.db.gz", body: Data("1".utf8))
        try client.create(bucket: bucket, key: "clients/acme/sub/acme-20260102T000000Z.db.gz", body: Data("2".utf8))
        try client.create(bucket: bucket, key: "clients/acme/packs/sub/x", body: Data("3".utf8))
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            guard request.target.contains("list-type") else { return nil }
            // Every key under the place, as if no delimiter had been asked for.
            let keys =
                request.target.contains("packs")
                ? ["clients/acme/packs/sub/x"]
                : ["clients/acme/acme-20260101T000000Z.db.gz", "clients/acme/sub/acme-20260102T000000Z.db.gz"]
            let contents = keys.map { "<Contents><Key>\($0)</Key><Size>1</Size></Contents>" }.joined()
            return .answer(
                200,
                body: Array("<ListBucketResult><IsTruncated>false</IsTruncated>\(contents)</ListBucketResult>".utf8))
        }
        defer { proxy.stop() }
        let store = S3Store(
            try #require(try S3Location("s3://\(bucket)/clients/acme")),
            client: S3Client(configuration: try S3TestServer.configuration(endpoint: proxy.endpoint)))
        #expect(try store.list(prefix: "").map(\.name) == ["acme-20260101T000000Z.db.gz"])
        #expect(try store.list(prefix: "packs/").isEmpty)
        let listed = try SnapshotStore(store).list(with: SnapshotIdentities())
        #expect(
            listed.snapshots.map(\.path) == [] && listed.unreadable.map(\.path).allSatisfy { !$0.contains("/sub/") })
    }

    @Test func aFileSentWhileWrittenAppearsOnlyWhole() throws {
        let (store, _, _) = try store()
        let path = folder.file("growing")
        let bytes = Data((0..<(20 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let created = try store.create("big", writing: path) { feed in
            feed.settled(["kind": "manual"])
            try bytes.write(to: URL(fileURLWithPath: path))
            feed.grew(to: Int64(bytes.count))
            return ["kind": "manual"]
        }
        if !created { try store.create("big", from: path, attributes: ["kind": "manual"]) }
        #expect(try store.entry("big")?.size == Int64(bytes.count))
        #expect(try store.read("big", range: 0...99) == bytes[0...99])
    }
}
