import Foundation
import LedgerTestSupport
import Testing

/// `ledger` with s3:// locations against the S3 test server (moto), checked
/// with the AWS CLI and gzip, through a misbehaving proxy, and killed mid-upload.
@Suite struct OffsiteCommandTests {
    let folder = TemporaryDirectory()

    /// The AWS CLI, talking to `endpoint` (the test server by default).
    private func aws(_ arguments: String..., endpoint: String? = nil) throws -> (status: Int32, output: String) {
        let tool = try ExternalTool.require("aws", install: "pip install awscli")
        let environment = try S3TestServer.environment(endpoint: endpoint)
        return try tool.run(
            ["--endpoint-url", environment["AWS_ENDPOINT_URL"] ?? ""] + arguments, environment: environment)
    }

    /// A new, empty bucket on the test server.
    private func bucket() throws -> String {
        let bucket = S3TestServer.bucketName()
        let made = try aws("s3", "mb", "s3://\(bucket)")
        #expect(made.status == 0, "\(made.output)")
        return bucket
    }

    private func ledger(_ arguments: String..., endpoint: String? = nil) throws -> CommandResult {
        try Ledger.run(arguments, environment: try S3TestServer.environment(endpoint: endpoint))
    }

    /// Runs `command` with the AWS CLI's variables pointing at the test server.
    private func shell(_ command: String) throws -> (status: Int32, output: String) {
        try ExternalTool.require("sh", install: "apt-get install dash").run(
            ["-c", command], environment: try S3TestServer.environment())
    }

    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The keys under `prefix`, from the AWS CLI.
    private func keys(_ bucket: String, _ prefix: String) throws -> [String] {
        let listed = try aws(
            "s3api", "list-objects-v2", "--bucket", bucket, "--prefix", prefix, "--query", "Contents[].Key", "--output",
            "text")
        return listed.output.split(whereSeparator: \.isWhitespace).map(String.init).filter { $0 != "None" }.sorted()
    }

    @Test func backupsRoundTripThroughObjectStorageAndTheAWSCLI() throws {
        let bucket = try bucket()
        let file = try folder.sample("acme.db")
        let made = try ledger("backup", file, "--to", "s3://\(bucket)/clients/acme", "--json")
        #expect(made.status == 0, "\(made.stderr)")
        let snapshot = try json(made.stdout)
        let path = try #require(snapshot["path"] as? String)
        let sha = try #require(snapshot["database_sha256"] as? String)
        #expect(path.hasPrefix("s3://\(bucket)/clients/acme/acme-") && path.hasSuffix("Z.db.gz"))

        // What ledger wrote, read with no tool of ours.
        let copied = try shell(
            "aws --endpoint-url \(try S3TestServer.endpoint.get()) s3 cp '\(path)' - | gzip -dc | sha256sum")
        #expect(String(copied.output.prefix(64)) == sha)
        let key = String(path.dropFirst("s3://\(bucket)/".count))
        let head = try aws("s3api", "head-object", "--bucket", bucket, "--key", key)
        #expect(
            head.output.contains("\"kind\": \"manual\"")
                && head.output.contains("\"created-at\": \"\(snapshot["created_at"] as? String ?? "?")\""),
            "\(head.output)")

        let listed = try ledger("snapshots", "s3://\(bucket)/clients/acme", "--json")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(
            array.count == 1 && array.first?["path"] as? String == path
                && array.first?["database_sha256"] as? String == sha)

        // A snapshot put there with the AWS CLI is restored by ledger.
        let local = try Ledger.run("backup", file, "--to", folder.file("local"), "--json")
        let localPath = try #require(try json(local.stdout)["path"] as? String)
        let localSha = try #require(try json(local.stdout)["database_sha256"] as? String)
        let name = URL(fileURLWithPath: localPath).lastPathComponent
        #expect(try aws("s3", "cp", localPath, "s3://\(bucket)/elsewhere/\(name)").status == 0)
        let fromAWS = try ledger("restore", "s3://\(bucket)/elsewhere/\(name)", "--to", folder.file("from-aws.db"))
        #expect(fromAWS.status == 0, "\(fromAWS.stderr)")
        #expect(String(try shell("sha256sum '\(folder.file("from-aws.db"))'").output.prefix(64)) == localSha)

        // Restore by time; a time before the oldest is refused in one line.
        let restored = try ledger(
            "restore", "s3://\(bucket)/clients/acme", "--to", folder.file("restored.db"), "--stem", "acme", "--at",
            "2099-01-01")
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(String(try shell("sha256sum '\(folder.file("restored.db"))'").output.prefix(64)) == sha)
        let early = try ledger(
            "restore", "s3://\(bucket)/clients/acme", "--to", folder.file("early.db"), "--stem", "acme", "--at",
            "2000-01-01")
        #expect(
            early.status == 2 && early.stderr.split(separator: "\n").count == 1
                && early.stderr.contains("the oldest is from"), "\(early.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("early.db")))

        // check-backups reads every byte: a damaged copy put there is caught.
        #expect(
            try shell(
                "cp '\(localPath)' '\(folder.file("bad.gz"))' && printf '\\377\\377\\377\\377' | dd of='\(folder.file("bad.gz"))' bs=1 seek=3000 conv=notrunc 2>/dev/null"
            ).status == 0)
        #expect(
            try aws("s3", "cp", folder.file("bad.gz"), "s3://\(bucket)/clients/acme/acme-20200101T000000Z.db.gz").status
                == 0)
        let checked = try ledger("check-backups", "s3://\(bucket)/clients/acme")
        #expect(checked.status == 1)
        #expect(
            checked.stdout.contains("DAMAGED s3://\(bucket)/clients/acme/acme-20200101T000000Z.db.gz"),
            "\(checked.stdout)")
        #expect(checked.stdout.contains("ok      \(path) (verify: clean)"), "\(checked.stdout)")

        // prune keeps the newest; the damaged copy is the newest by its manifest, so prune reads
        // it whole first, finds it is not, and keeps the whole one before it as the last good copy.
        let pruned = try ledger("prune", "s3://\(bucket)/clients/acme", "--keep-last", "1")
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(try keys(bucket, "clients/acme/") == ["clients/acme/acme-20200101T000000Z.db.gz", key].sorted())
        #expect(
            pruned.stdout.contains(
                "Kept \(path): the newest clean snapshot of acme.db (the rules alone would have pruned it)"),
            "\(pruned.stdout)")
    }

    @Test func inObjectStorageTheLastGoodCopyStaysAndRestoreChoosesTheRightCompany() throws {
        let bucket = try bucket()
        let file = folder.file("co.db")
        #expect(try Ledger.run("sample", file, "--transactions", "200", "--seed", "5").status == 0)
        let place = "s3://\(bucket)/bk"
        let first = try ledger("backup", file, "--to", place, "--json")
        #expect(first.status == 0, "\(first.stderr)")
        let clean = try #require(try json(first.stdout)["path"] as? String)
        let cleanAt = try #require(try json(first.stdout)["created_at"] as? String)
        let cleanSha = try #require(try json(first.stdout)["database_sha256"] as? String)

        // A name dated in the future, put there by hand before the next backup, never outranks it:
        // the time that counts is the earlier of the name's and the object's LastModified.
        let local = try #require(
            try json(try Ledger.run("backup", file, "--to", folder.file("local"), "--json").stdout)["path"] as? String)
        #expect(try aws("s3", "cp", local, "s3://\(bucket)/future/co-20991231T000000Z.db.gz").status == 0)
        Thread.sleep(forTimeInterval: 1.1)
        let fresh = try ledger("backup", file, "--to", "s3://\(bucket)/future", "--keep-last", "1", "--json")
        #expect(fresh.status == 0, "\(fresh.stderr)")
        let freshPath = try #require(try json(fresh.stdout)["path"] as? String)
        #expect(try json(fresh.stdout)["pruned"] as? [String] == ["s3://\(bucket)/future/co-20991231T000000Z.db.gz"])
        #expect(try keys(bucket, "future/") == [String(freshPath.dropFirst("s3://\(bucket)/".count))])

        #expect(try shell("truncate -s 100000 '\(file)'").status == 0)
        var newest = ""
        for round in 1...2 {
            let damaged = try ledger("backup", file, "--to", place, "--keep-last", "1")
            #expect(damaged.status == 1, "round \(round): \(damaged.stderr)")
            #expect(
                damaged.stdout.hasPrefix(
                    (round == 2 ? "Pruned \(newest)\n" : "")
                        + "Kept \(clean): the newest clean snapshot of co.db (the rules alone would have pruned it)\n"),
                "\(damaged.stdout)")
            #expect(
                damaged.stderr.contains(
                    "not a good copy: the company file cannot be read (verify: skipped). "
                        + "The newest clean snapshot of co is \(clean), taken \(cleanAt) ("), "\(damaged.stderr)")
            let left = try keys(bucket, "bk/").map { "s3://\(bucket)/\($0)" }
            #expect(left.count == 2 && left.contains(clean), "round \(round): \(left)")
            newest = try #require(left.first { $0 != clean })
        }
        let checked = try ledger("check-backups", place)
        #expect(checked.status == 1)
        #expect(
            checked.stdout.contains(
                "\nco: NOT SAFE: its newest snapshot is not a good copy (verify: skipped): \(newest)\n"),
            "\(checked.stdout)")

        let other = try ledger("restore", place, "--to", folder.file("other.db"))
        #expect(other.status == 2)
        #expect(
            other.stderr
                == "ledger: \(place) holds no snapshots of other; it holds snapshots of co; name one with --stem.\n")
        let named = try ledger("restore", place, "--to", folder.file("other.db"), "--stem", "co", "--at", cleanAt)
        #expect(named.status == 0, "\(named.stderr)")
        #expect(String(try shell("sha256sum '\(folder.file("other.db"))'").output.prefix(64)) == cleanSha)
    }

    @Test func preRebuildAndPreRestoreSnapshotsCanGoOffSite() throws {
        let bucket = try bucket()
        let file = try folder.sample("acme.db")
        let rebuilt = try ledger("rebuild", file, "--backup-dir", "s3://\(bucket)/safety")
        #expect(rebuilt.status == 0, "\(rebuilt.stdout)\(rebuilt.stderr)")
        let first = try ledger("snapshots", "s3://\(bucket)/safety", "--json")
        let before = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [[String: Any]])
        #expect(before.map { $0["kind"] as? String } == ["pre-rebuild"])
        let path = try #require(before.first?["path"] as? String)

        let restored = try ledger("restore", path, "--to", file, "--backup-dir", "s3://\(bucket)/safety")
        #expect(restored.status == 0, "\(restored.stderr)")
        let second = try ledger("snapshots", "s3://\(bucket)/safety", "--json")
        let after = try #require(try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [[String: Any]])
        #expect(Set(after.compactMap { $0["kind"] as? String }) == ["pre-rebuild", "pre-restore"])
        #expect(
            String(try shell("sha256sum '\(file)'").output.prefix(64)) == before.first?["database_sha256"] as? String)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") } == [])
    }

    @Test func everyObjectStorageFailureIsOneLineAndExit2WithNothingWritten() throws {
        let bucket = try bucket()
        let file = try folder.sample("acme.db")

        func refused(_ result: CommandResult, saying words: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.status == 2, sourceLocation: sourceLocation)
            #expect(
                result.stderr.hasPrefix("ledger: ") && result.stderr.split(separator: "\n").count == 1,
                "\(result.stderr)",
                sourceLocation: sourceLocation)
            #expect(result.stderr.contains(words), "\(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        }
        refused(
            try ledger("backup", file, "--to", "s3://no-such-bucket-\(bucket)/acme"),
            saying: "does not exist; create it")
        refused(try ledger("backup", file, "--to", "s3://Bad_Bucket/acme"), saying: "is not a bucket name")
        var bare = try S3TestServer.environment()
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] { bare[name] = nil }
        bare["HOME"] = folder.path
        refused(
            try Ledger.run(["snapshots", "s3://\(bucket)/acme"], environment: bare),
            saying: "No credentials for object storage")
        refused(
            try ledger("backup", file, "--to", "s3://\(bucket)/acme", endpoint: "http://127.0.0.1:9"),
            saying: "cannot be reached")

        for (code, words) in [
            ("InvalidAccessKeyId", "does not accept these credentials"), ("RequestTimeTooSkewed", "clock is wrong"),
            ("AccessDenied", "denies this request"),
        ] {
            let proxy = try FaultProxy(upstream: try S3TestServer.port()) { _ in .status(403, code: code) }
            defer { proxy.stop() }
            refused(try ledger("backup", file, "--to", "s3://\(bucket)/acme", endpoint: proxy.endpoint), saying: words)
            refused(
                try ledger("restore", "s3://\(bucket)/acme", "--to", folder.file("r.db"), endpoint: proxy.endpoint),
                saying: words)
        }
        #expect(try keys(bucket, "").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.file("r.db")))
    }

    @Test func aFlakyServerIsRetriedAndAFailingOneLeavesNothing() throws {
        let bucket = try bucket()
        let file = try folder.sample("acme.db")
        let tally = Tally()
        let flaky = try FaultProxy(upstream: try S3TestServer.port()) { request in
            guard request.method == "PUT" || request.method == "GET" else { return nil }
            switch (request.method, tally.next(request.method)) {
            case ("PUT", 1): return .status(503, code: "SlowDown")
            case ("PUT", 2): return .dropRequest(afterBytes: 1_000)
            case ("GET", 3): return .dropResponse(afterBytes: 500)
            case ("GET", 4): return .status(500, code: "InternalError")
            default: return nil
            }
        }
        defer { flaky.stop() }
        let made = try ledger("backup", file, "--to", "s3://\(bucket)/acme", "--json", endpoint: flaky.endpoint)
        #expect(made.status == 0, "\(made.stderr)")
        let sha = try #require(try json(made.stdout)["database_sha256"] as? String)
        let restored = try ledger(
            "restore", "s3://\(bucket)/acme", "--to", folder.file("restored.db"), "--stem", "acme",
            endpoint: flaky.endpoint)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(String(try shell("sha256sum '\(folder.file("restored.db"))'").output.prefix(64)) == sha)
        #expect(flaky.requests.compactMap(\.fault).count == 4, "\(flaky.requests.compactMap(\.fault))")

        let failing = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "PUT" && !request.target.contains(".ledger-lease")
                ? .status(500, code: "InternalError") : nil
        }
        defer { failing.stop() }
        let failed = try ledger("backup", file, "--to", "s3://\(bucket)/failing", endpoint: failing.endpoint)
        #expect(
            failed.status == 2 && failed.stderr.contains("HTTP 500 (InternalError); nothing was written"),
            "\(failed.stderr)")
        #expect(try keys(bucket, "failing/").isEmpty)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }.isEmpty,
            "no partial file stays beside the company file")
    }

    @Test func keepRulesThatCannotFinishLeaveTheSnapshotAndSaySo() throws {
        let bucket = try bucket()
        let file = try folder.sample("acme.db")
        for _ in 0..<2 {
            #expect(try ledger("backup", file, "--to", "s3://\(bucket)/acme").status == 0)
        }
        let before = try keys(bucket, "acme/").filter { $0.hasSuffix(".db.gz") }
        #expect(before.count == 2)
        // The location takes the snapshot, then refuses every removal.
        let refusing = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.method == "DELETE" && !request.target.contains(".ledger-lease")
                ? .status(403, code: "AccessDenied") : nil
        }
        defer { refusing.stop() }
        let made = try ledger(
            "backup", file, "--to", "s3://\(bucket)/acme", "--keep-last", "1", "--json", endpoint: refusing.endpoint)
        #expect(made.status == 1, "\(made.stderr)")
        let listing = try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any]
        let problem = listing?["keepRulesProblem"] as? String ?? listing?["keep_rules_problem"] as? String
        #expect(problem?.contains("denies this request") == true, "\(made.stdout)")
        let after = try keys(bucket, "acme/").filter { $0.hasSuffix(".db.gz") }
        #expect(after.count == 3 && Set(before).isSubset(of: after), "\(after)")
        let text = try ledger(
            "backup", file, "--to", "s3://\(bucket)/acme", "--keep-last", "1", endpoint: refusing.endpoint)
        #expect(text.status == 1)
        #expect(
            text.stderr.contains("the snapshot is in place, but the keep rules could not finish")
                && text.stdout.contains("Snapshot s3://\(bucket)/acme/"), "\(text.stderr)")
    }

    @Test func killedUploadsNeverLeaveAPartialSnapshot() throws {
        let bucket = try bucket()
        // Ballast the compression cannot shrink, so the snapshot goes up in several
        // parts; the whole backup takes about 1.5 s, so kills land in every phase.
        let file = try folder.sample("acme.db")
        try editWithPython(
            file,
            """
            CREATE TABLE ballast(b BLOB);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 24)
            INSERT INTO ballast SELECT randomblob(1048576) FROM n;
            """)
        let environment = try S3TestServer.environment()
        var delays = SeededDelays(seed: 13)
        var interrupted = 0
        // A kill that finds the backup done aims earlier from then on: on a fast day the
        // whole backup ends well before 1.5 s, and the trials must still cut it mid-way.
        var reach = 1.4
        for _ in 0..<20 {
            if try Ledger.runKilled(
                after: 0.05 + delays.next(upTo: reach), ["backup", file, "--to", "s3://\(bucket)/acme", "--no-verify"],
                environment: environment)
            {
                interrupted += 1
            } else {
                reach *= 0.7
            }
        }
        #expect(interrupted >= 10, "most trials were cut off mid-way")
        // A request a killed backup had fully sent may still be completing on the server: let it land.
        Thread.sleep(forTimeInterval: 2)
        // Every object under a snapshot's name is whole: gzip-valid, the size and SHA-256 its manifest says.
        // None was verified (--no-verify), so none is a good copy: that needs a person (exit 1),
        // as a location with no snapshot at all does (every run killed, on a slow day).
        let checked = try ledger("check-backups", "s3://\(bucket)/acme")
        let names = try keys(bucket, "acme/").filter { $0.hasSuffix(".gz") }
        #expect(checked.status == 1, "\(checked.stdout)\(checked.stderr)")
        #expect(
            checked.stdout.hasSuffix(
                "acme: NOT SAFE: none of its \(names.count) snapshot\(names.count == 1 ? "" : "s") is a good copy\n"
                    + "\(names.count) of \(names.count) snapshots are whole.\n") || names.isEmpty, "\(checked.stdout)")
        // A later backup is not held up by the lease a killed one left, and
        // clears the partial files killed ones left beside the company file.
        let after = try ledger("backup", file, "--to", "s3://\(bucket)/acme", "--wait", "5")
        #expect(after.status == 0, "\(after.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") } == [])
    }
}
