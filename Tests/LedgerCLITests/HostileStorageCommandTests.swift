import Foundation
import LedgerTestSupport
import Testing

/// The commands that list or read object storage, against a server that
/// misbehaves on purpose on loopback (the S3 test server behind a fault proxy).
@Suite struct HostileStorageCommandTests {
    let folder = TemporaryDirectory()

    private func ledger(_ arguments: [String], endpoint: String? = nil) throws -> CommandResult {
        try Ledger.run(arguments, environment: try S3TestServer.environment(endpoint: endpoint))
    }

    /// A new, empty bucket on the test server, made with the AWS CLI.
    private func bucket() throws -> String {
        let bucket = S3TestServer.bucketName()
        let made = try ExternalTool.require("aws", install: "pip install awscli")
            .run(
                ["--endpoint-url", try S3TestServer.endpoint.get(), "s3", "mb", "s3://\(bucket)"],
                environment: try S3TestServer.environment())
        #expect(made.status == 0, "\(made.output)")
        return bucket
    }

    /// A bucket on the test server holding one snapshot of a sample company under `acme/`; its path and SHA-256.
    private func bucketWithSnapshot() throws -> (bucket: String, path: String, sha: String) {
        let bucket = try bucket()
        let made = try ledger(["backup", try folder.sample("acme.db"), "--to", "s3://\(bucket)/acme", "--json"])
        #expect(made.status == 0, "\(made.stderr)")
        let snapshot = try #require(try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any])
        return (bucket, try #require(snapshot["path"] as? String), try #require(snapshot["database_sha256"] as? String))
    }

    /// The keys under `prefix`, from the AWS CLI.
    private func keys(_ bucket: String, _ prefix: String = "") throws -> [String] {
        let environment = try S3TestServer.environment()
        let listed = try ExternalTool.require("aws", install: "pip install awscli").run(
            [
                "--endpoint-url", environment["AWS_ENDPOINT_URL"] ?? "", "s3api", "list-objects-v2", "--bucket", bucket,
                "--prefix", prefix, "--query", "Contents[].Key", "--output", "text",
            ], environment: environment)
        return listed.output.split(whereSeparator: \.isWhitespace).map(String.init).filter { $0 != "None" }.sorted()
    }

    /// A bucket holding a full and an incremental snapshot of a sample company under `acme/`, and its keys.
    private func bucketWithPacks() throws -> (bucket: String, keys: [String]) {
        let bucket = try bucket()
        let file = try folder.sample("acme.db")
        for _ in 0..<2 {
            let made = try ledger(["backup", file, "--to", "s3://\(bucket)/acme", "--incremental"])
            #expect(made.status == 0, "\(made.stderr)")
        }
        let keys = try keys(bucket)
        #expect(keys.filter { $0.hasPrefix("acme/packs/") }.count >= 2, "\(keys)")
        return (bucket, keys)
    }

    /// An error sent with 200 is no listing: every command that lists refuses it
    /// (exit 2, one line), and prune removes nothing, packs least of all.
    @Test(arguments: ["prune", "snapshots", "check-backups"])
    func aListingAnsweredWithAnErrorDocumentIsNoEmptyListing(command: String) throws {
        let (bucket, before) = try bucketWithPacks()
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "GET" && request.target.contains("list-type")
                ? .answer(200, body: Array("<Error><Code>InternalError</Code></Error>".utf8)) : nil
        }
        defer { proxy.stop() }
        let place = "s3://\(bucket)/acme"
        let arguments = command == "prune" ? ["prune", place, "--keep-last", "10"] : [command, place]
        let result = try ledger(arguments, endpoint: proxy.endpoint)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stderr
                == "ledger: \(place) answered with a document that is not the one asked for (not an S3 listing or upload); "
                + "nothing was removed or used. Check that AWS_ENDPOINT_URL names your object storage.\n")
        #expect(!proxy.requests.contains { $0.method == "DELETE" && !$0.target.contains(".ledger-lease") })
        #expect(try keys(bucket) == before)
    }

    /// A server that lists packs but no snapshot (an empty page for the
    /// location, a true one for `packs/`) makes prune keep every pack and say so.
    @Test func pruneKeepsEveryPackWhenTheLocationListsNoSnapshot() throws {
        let (bucket, before) = try bucketWithPacks()
        let empty = Array("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>".utf8)
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "GET" && request.target.contains("list-type") && !request.target.contains("packs")
                ? .answer(200, body: empty) : nil
        }
        defer { proxy.stop() }
        let place = "s3://\(bucket)/acme"
        let packs = before.filter { $0.hasPrefix("acme/packs/") }.count
        let result = try ledger(["prune", place, "--keep-last", "10"], endpoint: proxy.endpoint)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stderr
                == "ledger: \(place) holds \(packs) pack objects of incremental snapshots but lists no snapshot at all; "
                + "no pack was removed, since a listing that shows none may be wrong. "
                + "If every snapshot there is gone on purpose, delete its packs/ yourself.\n")
        #expect(!proxy.requests.contains { $0.method == "DELETE" && !$0.target.contains(".ledger-lease") })
        #expect(try keys(bucket) == before)

        // check-backups does not call a place with no snapshot green.
        let checked = try ledger(["check-backups", "s3://\(bucket)/empty"])
        #expect(checked.status == 1, "\(checked.stdout)\(checked.stderr)")
        #expect(
            checked.stdout
                == "s3://\(bucket)/empty holds no snapshot: nothing there is proven. Check that it is the right place, "
                + "or take one with 'ledger backup FILE --to s3://\(bucket)/empty'.\n")
    }

    /// Storage that lets a second create of a name through could have two
    /// runs at once overwrite each other: prune and incremental backups, which
    /// take the lease, refuse it and write nothing.
    @Test(arguments: ["prune", "backup"])
    func storageThatIgnoresIfNoneMatchIsRefused(command: String) throws {
        let (bucket, before) = try bucketWithPacks()
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { _ in .dropHeader("If-None-Match") }
        defer { proxy.stop() }
        let place = "s3://\(bucket)/acme"
        let arguments =
            command == "prune"
            ? ["prune", place, "--keep-last", "1"]
            : ["backup", folder.file("acme.db"), "--to", place, "--incremental"]
        let result = try ledger(arguments, endpoint: proxy.endpoint)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stderr
                == "ledger: \(place) does not honour conditional writes (it let a second If-None-Match create of "
                + ".ledger-lease through), so two backups there could overwrite each other's snapshots; "
                + "ledger writes nothing there. Use storage that supports conditional writes.\n")
        #expect(try keys(bucket) == before)
    }

    /// A ListObjectsV2 page that says there is more: 20 keys and a new token each time.
    private static func endlessPages(_ tally: Tally) -> FaultProxy.Rule {
        { request in
            guard request.method == "GET", request.target.contains("list-type") else { return nil }
            let number = tally.next("page")
            guard number <= 200 else { return .answer(500, body: []) }
            let keys = (0..<20).map {
                "<Contents><Key>acme/acme-\(number * 20 + $0).db.gz</Key><Size>9</Size></Contents>"
            }.joined()
            return .answer(
                200,
                body: Array(
                    ("<ListBucketResult><IsTruncated>true</IsTruncated>"
                        + "<NextContinuationToken>t\(number)</NextContinuationToken>\(keys)</ListBucketResult>").utf8))
        }
    }

    @Test(arguments: ["snapshots", "check-backups", "prune", "restore", "backup"])
    func everyCommandThatListsStopsAListingThatNeverEnds(command: String) throws {
        let proxy = try FaultProxy(upstream: try S3TestServer.port(), rule: Self.endlessPages(Tally()))
        defer { proxy.stop() }
        let bucket = try bucket()
        let place = "s3://\(bucket)/acme"
        let file = try folder.sample("acme.db")
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        var arguments: [String]
        switch command {
        case "prune": arguments = ["prune", place, "--keep-last", "1"]
        case "restore": arguments = ["restore", place, "--to", file]
        case "backup": arguments = ["backup", file, "--to", place, "--keep-last", "1"]
        default: arguments = [command, place]
        }
        let result = try ledger(arguments + ["--max-objects", "50"], endpoint: proxy.endpoint)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stderr
                == "ledger: \(place) gives a listing that does not end (more than 50 objects, the most --max-objects allows); "
                + "stopped after 60 objects in 3 pages. Check that AWS_ENDPOINT_URL names your object storage, "
                + "or give --max-objects a larger count if the place holds more.\n")
        #expect(
            proxy.requests.filter { $0.target.contains("list-type") && $0.target.contains("continuation-token") }.count
                == 2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before, "the company file is untouched")
    }

    @Test func maxObjectsMustBeACount() throws {
        let result = try Ledger.run("snapshots", "s3://books/acme", "--max-objects", "0")
        #expect(result.status == 64)
        #expect(result.stderr.contains("--max-objects must be 1 or more."))
    }

    @Test func restoreFromAServerThatIgnoresRangeReadsTheSnapshotOnce() throws {
        let (_, path, sha) = try bucketWithSnapshot()
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "GET" && request.headers["range"] != nil ? .dropHeader("Range") : nil
        }
        defer { proxy.stop() }
        let target = folder.file("restored.db")
        let restored = try ledger(["restore", path, "--to", target], endpoint: proxy.endpoint)
        #expect(restored.status == 0, "\(restored.stderr)")
        let (_, shaOut) = try ExternalTool.require("sha256sum", install: "apt-get install coreutils").run([target])
        #expect(String(shaOut.prefix(64)) == sha)
        let listed = try ledger([
            "snapshots", path.components(separatedBy: "/").dropLast().joined(separator: "/"), "--json",
        ])
        let bytes = try #require(
            (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first?["bytes"]
                as? Int)
        let whole = proxy.requests.filter { $0.fault == .dropHeader("Range") }
        #expect(whole.count == 2, "the head read and the download, each answered whole once")
        #expect(
            proxy.bytesServed <= 2 * bytes + 16_384, "\(proxy.bytesServed) bytes served for a \(bytes)-byte snapshot")
    }
}
