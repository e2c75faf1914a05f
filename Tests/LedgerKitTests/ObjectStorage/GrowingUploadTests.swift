import Foundation
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// A snapshot goes up to object storage while it is still written, against a
/// real S3 API server on loopback (moto): whole and exact when it completes,
/// nothing visible when it does not, never over a name.
@Suite struct GrowingUploadTests {
    let folder = TemporaryDirectory()

    private func bucket() throws -> (S3Client, String) {
        let client = S3Client(configuration: try S3TestServer.configuration())
        let bucket = "ledger-grow-\(UInt32.random(in: 0...UInt32.max))"
        try client.expect("PUT", bucket: bucket)
        return (client, bucket)
    }

    /// Writes `size` random bytes to `path` a MiB at a time, telling `upload`
    /// (and starting it after `beginAfter` bytes), then writes the first KiB over
    /// (the header a snapshot writes last) and waits until the thread has sent
    /// every whole part but the first.
    private func write(
        _ path: String, size: Int, into upload: GrowingUpload, metadata: [String: String],
        beginAfter: Int = 2 << 20
    ) throws -> Data {
        let source = try Data(contentsOf: URL(fileURLWithPath: try folder.randomFile("random-\(size)", size: size)))
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var offset = 0
        while offset < size {
            let piece = source[offset..<min(size, offset + (1 << 20))]
            try handle.write(contentsOf: piece)
            offset += piece.count
            upload.grew(to: Int64(offset))
            if offset >= beginAfter { upload.begin(metadata: metadata) }
        }
        let header = Data(repeating: 0x1F, count: 1024)
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: header)
        try handle.synchronize()
        var final = source
        final.replaceSubrange(0..<1024, with: header)
        return final
    }

    /// An upload of `acme/a.db.gz` sent while an 11 MiB file was written, not finished.
    private func sentWhileWritten(_ client: S3Client, _ bucket: String, metadata: [String: String]) throws
        -> GrowingUpload
    {
        let path = folder.file("growing.db.gz")
        let upload = GrowingUpload(client: client, bucket: bucket, key: "acme/a.db.gz", path: path, partSize: 5 << 20)
        try Worker<Void>.run(
            { upload.sendWhileWritten() },
            during: { _ in
                defer { upload.close() }
                _ = try write(path, size: 11 << 20, into: upload, metadata: metadata)
            })
        return upload
    }

    private func pendingUploads(_ client: S3Client, _ bucket: String) throws -> Bool {
        let (_, uploads) = try client.expect("GET", bucket: bucket, query: [("uploads", nil)])
        return String(decoding: uploads, as: UTF8.self).contains("<UploadId>")
    }

    @Test func partsGoUpWhileTheFileIsWrittenAndTheObjectIsExact() throws {
        let (client, bucket) = try bucket()
        let path = folder.file("growing.db.gz")
        let upload = GrowingUpload(client: client, bucket: bucket, key: "acme/a.db.gz", path: path, partSize: 5 << 20)
        let size = (17 << 20) + 12_345
        let written = try Worker<Void>.run(
            { upload.sendWhileWritten() },
            during: { _ -> Data in
                defer { upload.close() }
                let bytes = try write(
                    path, size: size, into: upload, metadata: ["kind": "scheduled", "verify": "clean"])
                // The thread sends the two whole parts after the first before the writer is done.
                for _ in 0..<200 where upload.partsSentEarly < 2 { Thread.sleep(forTimeInterval: 0.05) }
                return bytes
            })
        #expect(upload.partsSentEarly == 2)
        #expect(try upload.finish(size: Int64(size), metadata: ["verify": "clean", "kind": "scheduled"]))
        let (head, object) = try client.expect("GET", bucket: bucket, key: "acme/a.db.gz") { _ in
            .memory(limit: 64 << 20)
        }
        #expect(object == written)
        #expect(head.value(forHTTPHeaderField: "x-amz-meta-verify") == "clean")
        #expect(try !pendingUploads(client, bucket))
    }

    @Test func aTakenNameIsLeftAsItWas() throws {
        let (client, bucket) = try bucket()
        try client.expect("PUT", bucket: bucket, key: "acme/a.db.gz", body: Data("theirs".utf8))
        let upload = try sentWhileWritten(client, bucket, metadata: ["kind": "scheduled"])
        #expect(throws: S3Failure.exists(key: "acme/a.db.gz")) {
            try upload.finish(size: 11 << 20, metadata: ["kind": "scheduled"])
        }
        #expect(try client.expect("GET", bucket: bucket, key: "acme/a.db.gz").1 == Data("theirs".utf8))
        #expect(try !pendingUploads(client, bucket))
    }

    /// The metadata is fixed when an upload starts: a manifest that changed
    /// after is not published this way (the caller then sends the file whole).
    @Test func aChangedManifestPublishesNothing() throws {
        let (client, bucket) = try bucket()
        let upload = try sentWhileWritten(client, bucket, metadata: ["verify": "clean"])
        #expect(try upload.finish(size: 11 << 20, metadata: ["verify": "findings"]) == false)
        #expect(try client.list(bucket: bucket, prefix: "acme/").isEmpty)
        #expect(try !pendingUploads(client, bucket))
    }

    /// A writer that fails: the upload is abandoned and nothing stays.
    @Test func anAbandonedUploadLeavesNothing() throws {
        let (client, bucket) = try bucket()
        let upload = try sentWhileWritten(client, bucket, metadata: ["kind": "scheduled"])
        upload.abandon()
        #expect(try client.list(bucket: bucket, prefix: "acme/").isEmpty)
        #expect(try !pendingUploads(client, bucket))
    }

    /// Through the snapshot store: the first name of the second, sent while written;
    /// a second snapshot of the same second finds the name taken and takes `-2`.
    @Test func theLocationPublishesWhileWritingAndNeverOverAName() throws {
        let (client, bucket) = try bucket()
        let location = SnapshotStore(S3Store(try #require(try S3Location("s3://\(bucket)/acme")), client: client))
        let moment = Date(timeIntervalSince1970: 1_795_000_000)
        var manifest = Manifest(
            createdAt: Timestamp.string(from: moment), kind: .scheduled, company: "Acme", source: "acme.db",
            formatVersion: 1, databaseBytes: 1, databaseSha256: String(repeating: "0", count: 64),
            verify: "clean", counts: nil, splitSum: nil)
        var objects: [Data] = []
        var paths: [String] = []
        for round in 0..<2 {
            let partial = folder.file("partial-\(round)")
            let snapshot = try location.publish(writing: partial, source: "acme.db", at: moment) { feed in
                feed.settled(manifest.objectMetadata)
                let data = try Data(
                    contentsOf: URL(fileURLWithPath: try folder.randomFile("r\(round)", size: (18 << 20) + round)))
                try data.write(to: URL(fileURLWithPath: partial))
                feed.grew(to: Int64(data.count))
                objects.append(data)
                return manifest
            }
            paths.append(snapshot.path)
            manifest.databaseBytes += 1
        }
        #expect(
            paths == [
                "s3://\(bucket)/acme/acme-20261118T110640Z.db.gz", "s3://\(bucket)/acme/acme-20261118T110640Z-2.db.gz",
            ])
        #expect(
            try client.expect("GET", bucket: bucket, key: "acme/acme-20261118T110640Z.db.gz") { _ in
                .memory(limit: 64 << 20)
            }.1 == objects[0])
        #expect(
            try client.expect("GET", bucket: bucket, key: "acme/acme-20261118T110640Z-2.db.gz") { _ in
                .memory(limit: 64 << 20)
            }.1 == objects[1])
        #expect(try !pendingUploads(client, bucket))
    }
}
