import Foundation
import LedgerTestSupport
import Testing

/// `ledger fleet`: a fleet of seeded company files, each with its own trouble,
/// each client's exact status, and no client's trouble reaching another's.
@Suite struct FleetCommandTests {
    let folder = TemporaryDirectory()

    private func ledger(_ arguments: [String], endpoint: String? = nil) throws -> CommandResult {
        try Ledger.run(arguments, environment: try S3TestServer.environment(endpoint: endpoint))
    }

    /// The clients of a `--json` run, by slug.
    private func clients(_ result: CommandResult) throws -> [String: [String: Any]] {
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            "\(result.stdout)\n\(result.stderr)")
        let list = try #require(object["clients"] as? [[String: Any]])
        return Dictionary(
            uniqueKeysWithValues: list.compactMap { client in (client["slug"] as? String).map { ($0, client) } })
    }

    private func status(_ location: String, _ slug: String) throws -> [String: Any] {
        let data = try #require(
            FileManager.default.contents(atPath: location + "/" + slug + "/ledger-status.json"), "\(slug)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func outcome(_ record: [String: Any], _ step: String) -> String? {
        (record[step] as? [String: Any])?["outcome"] as? String
    }

    /// Overwrites a page in the middle of the file, as a failing disk would.
    private func scribble(_ path: String, page: Int) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64((page - 1) * 4096))
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 4096))
    }

    /// Makes the newest snapshot's manifest record another trial balance, keeping its
    /// bytes' digest right: only a drill that compares the books can tell.
    private func forgeTrialBalance(in folder: String) throws {
        try forge("\"trial_balance_sha256\":\"", in: folder)
    }

    /// Changes the first digit after `key` in the newest snapshot's manifest (its gzip header, plain).
    private func forge(_ key: String, in folder: String) throws {
        let name = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".gz") }.sorted().last)
        let path = folder + "/" + name
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let marker = Array(key.utf8)
        let start = try #require(
            (0..<(bytes.count - marker.count)).first { Array(bytes[$0..<$0 + marker.count]) == marker })
        let at = start + marker.count
        bytes[at] = bytes[at] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func eachClientGetsItsOwnStatusAndTheOthersAreUnaffected() throws {
        for (name, seed) in [("good", 1), ("second", 2), ("damaged", 3), ("locked", 4), ("drillbad", 5)] {
            let made = try Ledger.run(
                "sample", folder.file(name + ".db"), "--transactions", "300", "--seed", String(seed))
            #expect(made.status == 0, "\(made.stderr)")
        }
        try scribble(folder.file("damaged.db"), page: 12)
        let list = folder.file("clients.txt")
        try Data(
            """
            good.db\tGood Books
            second.db\tSecond & Co
            damaged.db\tDamaged Ltd
            locked.db\tLocked Inc
            /nonexistent/missing.db  Missing Client
            drillbad.db\tDrill Bad
            """.utf8
        ).write(to: URL(fileURLWithPath: list))
        let location = folder.file("backups")
        let holder = try FileHolder(folder.file("locked.db"), .exclusive)
        defer { holder.release() }

        let backup = try ledger([
            "fleet", "backup", "--list", list, "--to", location, "--wait", "1", "--jobs", "3", "--json",
        ])
        #expect(backup.status == 1, "\(backup.stderr)")
        let backedUp = try clients(backup)
        #expect(backedUp.count == 6)
        for slug in ["good-books", "second-co", "drill-bad"] {
            #expect(backedUp[slug]?["outcome"] as? String == "clean", "\(slug)")
        }
        #expect(["damaged", "findings"].contains(backedUp["damaged-ltd"]?["outcome"] as? String ?? ""))
        #expect(backedUp["locked-inc"]?["outcome"] as? String == "failed")
        #expect((backedUp["locked-inc"]?["summary"] as? String ?? "").contains("locked"))
        #expect(backedUp["missing-client"]?["outcome"] as? String == "failed")
        #expect((backedUp["missing-client"]?["summary"] as? String ?? "").contains("no such file"))

        try forgeTrialBalance(in: location + "/drill-bad")
        let drill = try ledger(["fleet", "drill", "--list", list, "--to", location, "--json"])
        #expect(drill.status == 1, "\(drill.stderr)")
        let drilled = try clients(drill)
        for slug in ["good-books", "second-co"] {
            #expect(drilled[slug]?["outcome"] as? String == "clean", "\(slug)")
            #expect((drilled[slug]?["summary"] as? String ?? "").hasPrefix("last proven restorable: "))
        }
        #expect(drilled["drill-bad"]?["outcome"] as? String == "failed")
        #expect((drilled["drill-bad"]?["summary"] as? String ?? "").contains("trial balance differs"))
        for slug in ["damaged-ltd", "locked-inc", "missing-client"] {
            #expect(drilled[slug]?["outcome"] as? String == "failed", "\(slug)")
        }
        #expect((drilled["locked-inc"]?["summary"] as? String ?? "").contains("no snapshot"))

        let verify = try ledger(["fleet", "verify", "--list", list, "--to", location, "--json", "--jobs", "2"])
        #expect(verify.status == 1, "\(verify.stderr)")
        let verified = try clients(verify)
        for slug in ["good-books", "second-co", "drill-bad"] {
            #expect(verified[slug]?["outcome"] as? String == "clean", "\(slug)")
        }
        #expect(verified["damaged-ltd"]?["outcome"] as? String == "damaged")
        #expect(verified["missing-client"]?["outcome"] as? String == "failed")
        #expect(verified["locked-inc"]?["outcome"] as? String == "failed")
        #expect((verified["locked-inc"]?["summary"] as? String ?? "").contains("open in another program"))

        let check = try ledger(["fleet", "check-backups", "--list", list, "--to", location, "--json"])
        #expect(check.status == 1, "\(check.stderr)")
        let checked = try clients(check)
        for slug in ["good-books", "second-co", "drill-bad"] {
            #expect(checked[slug]?["outcome"] as? String == "clean", "\(slug)")
        }
        for slug in ["locked-inc", "missing-client"] {
            #expect(checked[slug]?["outcome"] as? String == "failed", "\(slug)")
        }

        // The records say the same, client by client.
        let good = try status(location, "good-books")
        #expect(
            outcome(good, "backup") == "clean" && outcome(good, "drill") == "clean"
                && outcome(good, "verify") == "clean")
        #expect((good["drill"] as? [String: Any])?["last_proven_at"] is String)
        #expect((good["history"] as? [[String: Any]])?.last?["outcome"] as? String == "clean")
        let bad = try status(location, "drill-bad")
        #expect(
            outcome(bad, "backup") == "clean" && outcome(bad, "drill") == "failed" && outcome(bad, "verify") == "clean")
        #expect((bad["drill"] as? [String: Any])?["last_proven_at"] == nil)
        #expect((bad["history"] as? [[String: Any]])?.last?["outcome"] as? String == "failed")
        let damaged = try status(location, "damaged-ltd")
        #expect(outcome(damaged, "verify") == "damaged" && outcome(damaged, "drill") == "failed")
        let damagedCodes = (damaged["verify"] as? [String: Any])?["by_code"] as? [String: Int]
        #expect(damagedCodes?["sqlite-corruption"] ?? 0 > 0)
        let missing = try status(location, "missing-client")
        #expect(
            outcome(missing, "backup") == "failed" && outcome(missing, "verify") == "failed"
                && outcome(missing, "drill") == "failed")
        let locked = try status(location, "locked-inc")
        #expect(outcome(locked, "backup") == "failed" && outcome(locked, "drill") == "failed")
        #expect(outcome(locked, "verify") == "failed")
        #expect(try status(location, "second-co")["client"] as? String == "Second & Co")
    }

    /// A client whose prefix the store refuses fails alone; the others' snapshots and records are written.
    @Test func aFailingPrefixFailsOnlyItsClient() throws {
        let bucket = S3TestServer.bucketName()
        let made = try ExternalTool.require("aws", install: "pip install awscli")
            .run(
                ["--endpoint-url", try S3TestServer.endpoint.get(), "s3", "mb", "s3://\(bucket)"],
                environment: try S3TestServer.environment())
        #expect(made.status == 0, "\(made.output)")
        let proxy = try FaultProxy(upstream: try S3TestServer.port()) { request in
            request.target.contains("/broken") || request.target.contains("prefix=fleet%2Fbroken")
                ? .status(403, code: "AccessDenied") : nil
        }
        defer { proxy.stop() }
        for name in ["fine", "broken", "also-fine"] { _ = try folder.sample(name + ".db", transactions: 100) }
        let place = "s3://\(bucket)/fleet"
        let backup = try ledger(["fleet", "backup", folder.path, "--to", place, "--json"], endpoint: proxy.endpoint)
        #expect(backup.status == 1, "\(backup.stderr)")
        let results = try clients(backup)
        #expect(results["fine"]?["outcome"] as? String == "clean")
        #expect(results["also-fine"]?["outcome"] as? String == "clean")
        #expect(results["broken"]?["outcome"] as? String == "failed")
        let drill = try ledger(["fleet", "drill", folder.path, "--to", place, "--json"], endpoint: proxy.endpoint)
        let drilled = try clients(drill)
        #expect(drilled["fine"]?["outcome"] as? String == "clean")
        #expect(drilled["broken"]?["outcome"] as? String == "failed")
        let record = try ExternalTool.require("aws", install: "pip install awscli")
            .run(
                [
                    "--endpoint-url", try S3TestServer.endpoint.get(), "s3", "cp", "\(place)/fine/ledger-status.json",
                    "-",
                ],
                environment: try S3TestServer.environment())
        #expect(record.output.contains("\"last_proven_at\""))
    }

    /// Ten clients; the run is killed once `killAfter` are done; --resume does the rest, and only the rest.
    @Test(arguments: [2, 6])
    func aKilledRunResumesWithTheClientsNotDone(killAfter: Int) throws {
        try FileManager.default.createDirectory(atPath: folder.file("c"), withIntermediateDirectories: true)
        for index in 0..<10 { _ = try folder.sample("c/client\(index).db", transactions: 150) }
        let state = folder.file("run.json")
        let process = Process()
        process.executableURL = Ledger.binary
        process.arguments = ["fleet", "verify", folder.file("c"), "--state", state, "--jobs", "1"]
        process.environment = ["XDG_CONFIG_HOME": Ledger.configFolder, "PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        func done() -> [String] {
            guard let data = FileManager.default.contents(atPath: state),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let done = object["done"] as? [String: Any]
            else { return [] }
            return Array(done.keys)
        }
        for _ in 0..<1_500 where done().count < killAfter && process.isRunning { usleep(5_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let before = Set(done())
        #expect(before.count >= killAfter && before.count < 10)

        let resumed = try ledger(["fleet", "verify", folder.file("c"), "--state", state, "--resume", "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let after = Set(try clients(resumed).keys)
        #expect(after.isDisjoint(with: before))
        #expect(after.union(before) == Set((0..<10).map { "client\($0)" }))
        #expect(resumed.stdout.contains("\"resumed_past\" : \(before.count)"))

        let again = try ledger(["fleet", "verify", folder.file("c"), "--state", state, "--resume"])
        #expect(again.status == 2)
        #expect(again.stderr.contains("no run to resume"))
    }

    /// What the stopped run found still counts: a client it found findings in
    /// makes the resumed run need attention (exit 1), named in its output.
    @Test func aResumedRunKeepsWhatTheStoppedRunFound() throws {
        try FileManager.default.createDirectory(atPath: folder.file("c"), withIntermediateDirectories: true)
        for index in 0..<3 { _ = try folder.sample("c/client\(index).db", transactions: 100) }
        let state = folder.file("run.json")
        #expect(try ledger(["fleet", "verify", folder.file("c"), "--state", state]).status == 0)
        // As if killed after two clients, the first with findings.
        var journal = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state))) as? [String: Any])
        journal["finished"] = false
        journal["done"] = ["client0": "findings", "client1": "clean"]
        try JSONSerialization.data(withJSONObject: journal).write(to: URL(fileURLWithPath: state))

        let resumed = try ledger(["fleet", "verify", folder.file("c"), "--state", state, "--resume", "--json"])
        #expect(resumed.status == 1, "\(resumed.stdout)\(resumed.stderr)")
        #expect(Set(try clients(resumed).keys) == ["client2"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == false)
        let earlier = try #require(object["resumed_attention"] as? [[String: Any]])
        #expect(earlier.map { $0["slug"] as? String } == ["client0"])
        #expect(earlier.map { $0["outcome"] as? String } == ["findings"])

        journal["done"] = ["client0": "findings", "client1": "clean"]
        try JSONSerialization.data(withJSONObject: journal).write(to: URL(fileURLWithPath: state))
        let text = try ledger(["fleet", "verify", folder.file("c"), "--state", state, "--resume"])
        #expect(text.status == 1)
        #expect(text.stdout.contains("ATTENTION client0  findings (in the run resumed)"), "\(text.stdout)")
        #expect(text.stdout.contains("(resumed: 2 done before, 1 of them needing attention)"), "\(text.stdout)")
    }

    /// A journal planted in the location, naming every client (and one that is none) done,
    /// skips nobody: a client is skipped only when its own record shows the step ended since
    /// the journal's run started. A journal older than 24 hours is not resumed at all.
    @Test func aPlantedJournalSkipsNoClient() throws {
        let clients = folder.file("c")
        try FileManager.default.createDirectory(atPath: clients, withIntermediateDirectories: true)
        for index in 0..<3 { _ = try folder.sample("c/client\(index).db", transactions: 60) }
        let location = folder.file("backups")
        let journal = location + "/.ledger-fleet-backup-1-of-1.json"
        func plant(startedAt: Date, done: [String: String]) throws {
            try FileManager.default.createDirectory(atPath: location, withIntermediateDirectories: true)
            let object: [String: Any] = [
                "format": "ledger-fleet-run", "command": "backup", "shard": "1/1",
                "started_at": ISO8601DateFormatter().string(from: startedAt), "done": done, "finished": false,
            ]
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: journal))
        }
        func summary(_ run: CommandResult) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        }
        let everyone = ["client0": "clean", "client1": "clean", "client2": "clean", "ghost": "clean"]
        try plant(startedAt: Date() - 3_600, done: everyone)
        let planted = try ledger(["fleet", "backup", clients, "--to", location, "--resume", "--json"])
        #expect(planted.status == 0, "\(planted.stdout)\(planted.stderr)")
        #expect(try self.clients(planted).keys.sorted() == ["client0", "client1", "client2"])
        #expect(try summary(planted)["resumed_past"] as? Int == 0)
        #expect(
            planted.stderr
                == "ledger: 4 clients the journal names as done are done again: not this run's, or not shown "
                + "done by their status records.\n")
        for index in 0..<3 { #expect(try outcome(status(location, "client\(index)"), "backup") == "clean") }

        let old = Date() - 2 * 86_400
        try plant(startedAt: old, done: everyone)
        let stale = try ledger(["fleet", "backup", clients, "--to", location, "--resume", "--json"])
        #expect(stale.status == 0, "\(stale.stderr)")
        #expect(try self.clients(stale).count == 3)
        #expect(
            stale.stderr
                == "ledger: The run's journal \(journal) is of a run started \(ISO8601DateFormatter().string(from: old)), not "
                + "within the last 24 hours: doing every client afresh.\n")

        // A run really stopped after client0, which its record shows backed up since it started.
        let started = Date() - 1
        try editWithPython(clients + "/client0.db", "UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        #expect(try ledger(["fleet", "backup", clients + "/client0.db", "--to", location]).status == 1)
        try plant(startedAt: started, done: ["client0": "clean"])
        let resumed = try ledger(["fleet", "backup", clients, "--to", location, "--resume", "--json"])
        #expect(resumed.status == 1, "\(resumed.stdout)\(resumed.stderr)")
        #expect(try self.clients(resumed).keys.sorted() == ["client1", "client2"])
        let object = try summary(resumed)
        #expect(object["resumed_past"] as? Int == 1)
        // The record's word on how it ended counts over the journal's "clean".
        let earlier = try #require(object["resumed_attention"] as? [[String: Any]])
        #expect(earlier.map { $0["slug"] as? String } == ["client0"])
        #expect(earlier.map { $0["outcome"] as? String } == ["findings"])
        #expect(resumed.stderr == "")
    }

    /// Two machines (two processes at once), one share each: every client once, every record written.
    @Test func twoShardsCoverEveryClientExactlyOnce() throws {
        try FileManager.default.createDirectory(atPath: folder.file("c"), withIntermediateDirectories: true)
        for index in 0..<12 { _ = try folder.sample("c/firm\(index).db", transactions: 60) }
        let location = folder.file("shared")
        // Two processes at once, as two machines would run them; each writes its JSON to a file.
        let runs = try (1...2).map { index -> Process in
            let process = Process()
            process.executableURL = Ledger.binary
            process.arguments = [
                "fleet", "verify", folder.file("c"), "--to", location, "--shard", "\(index)/2", "--json",
            ]
            process.environment = ["XDG_CONFIG_HOME": Ledger.configFolder, "PATH": "/usr/bin:/bin"]
            FileManager.default.createFile(atPath: folder.file("out\(index).json"), contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: folder.file("out\(index).json")))
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        for process in runs { process.waitUntilExit() }
        #expect(runs.allSatisfy { $0.terminationStatus == 0 })
        let read = { (index: Int) in
            CommandResult(
                status: 0,
                stdout: (try? String(contentsOfFile: self.folder.file("out\(index).json"), encoding: .utf8)) ?? "",
                stderr: "")
        }
        let first = try clients(read(1))
        let second = try clients(read(2))
        #expect(Set(first.keys).isDisjoint(with: Set(second.keys)))
        #expect(Set(first.keys).union(second.keys) == Set((0..<12).map { "firm\($0)" }))
        #expect(!first.isEmpty && !second.isEmpty)
        for index in 0..<12 { #expect(try outcome(status(location, "firm\(index)"), "verify") == "clean") }
    }

    @Test func oneTimerRunsBackupThenDrillsThenTheReport() throws {
        _ = try folder.sample("acme.db", transactions: 50)
        let units = folder.file("units")
        let made = try Ledger.run([
            "fleet", "schedule", folder.path, "--to", folder.file("backups"), "--unit-dir", units,
            "--keep-daily", "7", "--at", "01:30",
        ])
        #expect(made.status == 0, "\(made.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: units).sorted()
        #expect(names.count == 2 && names.allSatisfy { $0.hasPrefix("ledger-fleet-") })
        let service = try String(
            contentsOfFile: units + "/" + (names.first { $0.hasSuffix(".service") } ?? ""), encoding: .utf8)
        let lines = service.split(separator: "\n").filter { $0.hasPrefix("ExecStart=") }
        #expect(lines.count == 3)
        #expect(lines[0].contains("\"fleet\" \"backup\"") && lines[0].contains("\"--keep-daily\" \"7\""))
        #expect(lines[1].contains("\"fleet\" \"drill\"") && lines[1].contains("\"--one-in-seven\""))
        #expect(lines[2].contains("\"fleet\" \"report\""))
        let timer = try String(
            contentsOfFile: units + "/" + (names.first { $0.hasSuffix(".timer") } ?? ""), encoding: .utf8)
        #expect(timer.contains("OnCalendar=*-*-* 01:30:00"))
    }

    /// systemd expands `%x` in a unit's descriptions and command, and `$$` and
    /// `${NAME}` in its command: a location and a client folder holding them
    /// reach the three commands as written, and the descriptions say them.
    @Test func theFleetUnitsKeepDollarsAndPercentsOfTheirPaths() throws {
        let clients = folder.file(#"firm$$ ${HOME} %n "q""#)
        try FileManager.default.createDirectory(atPath: clients, withIntermediateDirectories: true)
        _ = try folder.sample(#"firm$$ ${HOME} %n "q"/acme.db"#, transactions: 30)
        let location = folder.file(#"p%n $$ ${HOME} %% "q" \x/fbk"#)
        let units = folder.file("units")
        let made = try Ledger.run([
            "fleet", "schedule", clients, "--to", location, "--unit-dir", units, "--keep-daily", "7",
        ])
        #expect(made.status == 0, "\(made.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: units).sorted()
        let service = try String(
            contentsOfFile: units + "/" + (names.first { $0.hasSuffix(".service") } ?? ""), encoding: .utf8)
        let timer = try String(
            contentsOfFile: units + "/" + (names.first { $0.hasSuffix(".timer") } ?? ""), encoding: .utf8)
        let ledger = Ledger.binary.path
        let commands = SystemdRules.lines(of: service).filter { $0.hasPrefix("ExecStart=") }.map {
            SystemdRules.commandWords(
                String($0.dropFirst("ExecStart=".count)), environment: ["HOME": "/home/elsewhere"])
        }
        // The `-` before the first two lets the report run after a client that needs attention.
        #expect(
            commands == [
                [
                    "-" + ledger, "fleet", "backup", clients, "--to", location, "--kind", "scheduled", "--keep-daily",
                    "7",
                ],
                ["-" + ledger, "fleet", "drill", clients, "--to", location, "--one-in-seven"],
                [ledger, "fleet", "report", location],
            ], "\(service)")
        #expect(
            SystemdRules.value(of: "Description", in: service).map(SystemdRules.specifiers)
                == "Nightly ledger fleet backup, drills and report into \(location)")
        #expect(
            SystemdRules.value(of: "Description", in: timer).map(SystemdRules.specifiers)
                == "Nightly ledger fleet run into \(location) at 02:00")
    }

    /// The nightly timer runs backup, drill and report, no fleet verify: the
    /// backup's verify of its copy is the client's last verify, so a client
    /// whose books are in order is good, and one with findings is not.
    @Test func theNightlyStepsAloneSayWhereEachClientStands() throws {
        for (name, seed) in [("tidy", 1), ("untidy", 2)] {
            #expect(
                try Ledger.run("sample", folder.file(name + ".db"), "--transactions", "200", "--seed", String(seed))
                    .status == 0)
        }
        try editWithPython(folder.file("untidy.db"), "UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        let location = folder.file("backups")
        let backup = try ledger(["fleet", "backup", folder.path, "--to", location, "--json"])
        #expect(backup.status == 1, "\(backup.stderr)")
        // The untidy client's snapshot is not a good copy: its drill fails.
        #expect(try ledger(["fleet", "drill", folder.path, "--to", location]).status == 1)

        let tidy = try status(location, "tidy")
        let taken = (tidy["backup"] as? [String: Any])?["at"] as? String
        #expect(outcome(tidy, "verify") == "clean" && outcome(tidy, "drill") == "clean")
        #expect((tidy["verify"] as? [String: Any])?["at"] as? String == taken, "the backup's own time")
        let untidy = try status(location, "untidy")
        let found = try #require(untidy["verify"] as? [String: Any])
        #expect(found["outcome"] as? String == "findings")
        #expect(found["by_code"] as? [String: Int] == ["account-balance-mismatch": 1])
        #expect(found["by_severity"] as? [String: Int] == ["error": 1])
        let lines = try #require(found["findings"] as? [[String: Any]])
        #expect(lines.count == 1 && lines.first?["code"] as? String == "account-balance-mismatch")

        let report = try ledger(["fleet", "report", location, "--json"])
        #expect(report.status == 1, "\(report.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let rows = try #require(object["clients"] as? [[String: Any]])
        #expect(rows.map { $0["client"] as? String } == ["untidy", "tidy"])
        #expect(rows.map { $0["level"] as? String } == ["attention", "good"])

        // A later verify (another machine's, its clock a minute ahead) stays, and a full
        // verify's damage stays until a full verify says otherwise; a quick one's does
        // not, nor a time that cannot be read or lies ahead (which the report flags).
        let record = location + "/tidy/ledger-status.json"
        let soon = ISO8601DateFormatter().string(from: Date() + 60)
        let cases: [(at: String, outcome: String, quick: Bool, kept: Bool)] = [
            (soon, "clean", false, true), ("2026-01-01T00:00:00Z", "damaged", false, true),
            ("2026-01-01T00:00:00Z", "damaged", true, false), ("2999-01-01T00:00:00Z", "clean", false, false),
            ("tonight", "clean", false, false),
        ]
        for stored in cases {
            var edited = try status(location, "tidy")
            var verify = try #require(edited["verify"] as? [String: Any])
            (verify["at"], verify["outcome"]) = (stored.at, stored.outcome)
            verify["quick"] = stored.quick ? true : nil
            edited["verify"] = verify
            try JSONSerialization.data(withJSONObject: edited).write(to: URL(fileURLWithPath: record))
            if stored.at.hasPrefix("2999") {
                // Edited by hand, the record is not this computer's: taken at its word here.
                let ahead = try ledger(["fleet", "report", location, "--trust-unsigned"])
                #expect(ahead.stdout.contains("the last verify's time is in the future"), "\(ahead.stdout)")
                let doubted = try ledger(["fleet", "report", location])
                #expect(doubted.stdout.contains("was not written with this computer's ledger key"), "\(doubted.stdout)")
            }
            #expect(try ledger(["fleet", "backup", folder.file("tidy.db"), "--to", location]).status == 0)
            let after = try #require(try status(location, "tidy")["verify"] as? [String: Any])
            #expect(
                (after["at"] as? String == stored.at && after["outcome"] as? String == stored.outcome) == stored.kept,
                "\(stored) → \(after)")
            if !stored.kept { #expect(after["outcome"] as? String == "clean" && after["quick"] as? Bool == true) }
        }
    }

    /// A snapshot of another company's books under a client's prefix restores
    /// and verifies, but proves nothing of this client: the drill fails.
    @Test func aDrillOfAnotherCompanysBooksFails() throws {
        let file = try folder.sample("acme.db", transactions: 120)
        let location = folder.file("backups")
        #expect(try ledger(["fleet", "backup", file, "--to", location]).status == 0)
        let other = folder.file("other/acme.db")
        try FileManager.default.createDirectory(atPath: folder.file("other"), withIntermediateDirectories: true)
        #expect(try Ledger.run("sample", other, "--transactions", "100", "--name", "Other Co").status == 0)
        // Planted later, beside the client's own: the newest.
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try Ledger.run("backup", other, "--to", location + "/acme").status == 0)
        let drill = try ledger(["fleet", "drill", file, "--to", location, "--json"])
        #expect(drill.status == 1, "\(drill.stdout)")
        let summary = try clients(drill)["acme"]?["summary"] as? String ?? ""
        #expect(
            summary.hasPrefix("drill failed: it holds the books of another company, Other Co (created "), "\(summary)")
        #expect(summary.contains(", not Sample Company (created "))
        #expect((try status(location, "acme")["drill"] as? [String: Any])?["last_proven_at"] == nil)
    }

    /// Another client's snapshot (this machine signed it) moved into a client's
    /// folder in place of its own is no good copy of that client: the nightly
    /// check fails it and clears the last good backup, without a drill.
    @Test func aCheckOfAnotherCompanysSnapshotFails() throws {
        let file = try folder.sample("acme.db", transactions: 120)
        let location = folder.file("backups")
        let other = folder.file("other/acme.db")
        try FileManager.default.createDirectory(atPath: folder.file("other"), withIntermediateDirectories: true)
        #expect(try Ledger.run("sample", other, "--transactions", "100", "--name", "Other Co").status == 0)
        // The client's own backup records a last good copy; the location then swaps it for the other's.
        #expect(try ledger(["fleet", "backup", file, "--to", location]).status == 0)
        let lastGood = (try status(location, "acme")["backup"] as? [String: Any])?["last_good_at"] as? String
        #expect(lastGood != nil)
        for name in try FileManager.default.contentsOfDirectory(atPath: location + "/acme") where name.hasSuffix(".gz")
        {
            try FileManager.default.removeItem(atPath: location + "/acme/" + name)
        }
        #expect(try Ledger.run("backup", other, "--to", location + "/acme").status == 0)
        let checked = try ledger(["fleet", "check-backups", file, "--to", location, "--json"])
        #expect(checked.status == 1, "\(checked.stdout)")
        let summary = try clients(checked)["acme"]?["summary"] as? String ?? ""
        #expect(summary.contains("the last good copy holds another company's books (Other Co, created "), "\(summary)")
        let check = try #require(try status(location, "acme")["check"] as? [String: Any])
        #expect(check["outcome"] as? String == "failed")
        #expect(check["problems"] as? [String] == ["the last good copy holds another company's books"])
        #expect((try status(location, "acme")["backup"] as? [String: Any])?["last_good_at"] == nil)
        // Its own snapshot beside it is checked as before.
        #expect(try ledger(["fleet", "backup", file, "--to", location]).status == 0)
        #expect(try ledger(["fleet", "check-backups", file, "--to", location]).status == 0)
    }

    /// Restoring a client onto a new machine (no file to compare) from its
    /// folder never takes another client's snapshot moved there in place of its
    /// own: each manifest names the client folder it was taken into, signed.
    @Test func aRestoreFromAClientsFolderRefusesAnotherClientsSnapshot() throws {
        try FileManager.default.createDirectory(atPath: folder.file("clients/alpha"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder.file("clients/beta"), withIntermediateDirectories: true)
        #expect(
            try Ledger.run("sample", folder.file("clients/alpha/books.db"), "--transactions", "60", "--name", "Alpha")
                .status == 0)
        #expect(
            try Ledger.run("sample", folder.file("clients/beta/books.db"), "--transactions", "60", "--name", "Beta")
                .status == 0)
        let location = folder.file("loc")
        #expect(try ledger(["fleet", "backup", folder.file("clients"), "--to", location]).status == 0)
        let folders = try FileManager.default.contentsOfDirectory(atPath: location).filter { !$0.hasPrefix(".") }
            .sorted()
        #expect(folders.count == 2, "\(folders)")
        let (alpha, beta) = (location + "/" + folders[0], location + "/" + folders[1])
        let theirs = try #require(
            try FileManager.default.contentsOfDirectory(atPath: beta).first { $0.hasSuffix(".db.gz") })
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(try Ledger.run("snapshots", beta, "--json").stdout.utf8))
                as? [[String: Any]])
        #expect(manifest.first?["fleet_client"] as? String == folders[1])
        // The location swaps alpha's snapshots for beta's.
        for name in try FileManager.default.contentsOfDirectory(atPath: alpha) where name.hasSuffix(".db.gz") {
            try FileManager.default.removeItem(atPath: alpha + "/" + name)
        }
        try FileManager.default.copyItem(atPath: beta + "/" + theirs, toPath: alpha + "/" + theirs)
        let restored = folder.file("new/books.db")
        try FileManager.default.createDirectory(atPath: folder.file("new"), withIntermediateDirectories: true)
        let refused = try Ledger.run("restore", alpha, "--to", restored)
        #expect(refused.status == 2, "\(refused.stdout)")
        #expect(
            refused.stderr.contains("were taken into another fleet client's folder (\(folders[1]))"),
            "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: restored))
        // Named as the source, it is restored as asked.
        #expect(try Ledger.run("restore", alpha + "/" + theirs, "--to", restored).status == 0)
        // A client's own folder, named as "." or through a link, is that client's.
        let own = folder.file("new/beta.db")
        let here = try Ledger.run("restore", ".", "--to", own, "--stem", "books", in: beta)
        #expect(here.status == 0, "\(here.stderr)")
        try FileManager.default.createSymbolicLink(atPath: folder.file("beta-link"), withDestinationPath: beta)
        let linked = try Ledger.run("restore", folder.file("beta-link"), "--to", own, "--stem", "books")
        #expect(linked.status == 0, "\(linked.stderr)")
    }

    /// A check that finds the only snapshot damaged clears the last good
    /// backup the backup recorded: the report never shows that client green.
    @Test func aFailedCheckClearsTheLastGoodBackup() throws {
        let file = try folder.sample("acme.db", transactions: 120)
        let location = folder.file("backups")
        #expect(try ledger(["fleet", "verify", file, "--to", location]).status == 0)
        #expect(try ledger(["fleet", "backup", file, "--to", location]).status == 0)
        #expect(try ledger(["fleet", "drill", file, "--to", location]).status == 0)
        let before = try ledger(["fleet", "report", location, "--json"])
        #expect(before.status == 0, "\(before.stdout)")
        let name = try #require(
            try FileManager.default.contentsOfDirectory(atPath: location + "/acme").first { $0.hasSuffix(".gz") })
        let path = location + "/acme/" + name
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let check = try ledger(["fleet", "check-backups", file, "--to", location])
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        let backup = try #require(try status(location, "acme")["backup"] as? [String: Any])
        #expect(backup["last_good_at"] == nil && backup["last_good_snapshot"] == nil, "\(backup)")
        let after = try ledger(["fleet", "report", location, "--json"])
        #expect(after.status == 1, "\(after.stdout)")
        let row = try #require(try clients(after)["acme"])
        #expect(row["level"] as? String == "attention", "\(row)")
    }

    /// A check that finds the newest of two snapshots damaged fails, and the report
    /// says so above the older good copy it still found: a failed check outranks a
    /// good backup, and stands until a check passes.
    @Test func aFailedCheckOutranksTheGoodCopyItFound() throws {
        let file = try folder.sample("acme.db", transactions: 120)
        let location = folder.file("backups")
        #expect(try ledger(["fleet", "backup", file, "--to", location]).status == 0)
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try ledger(["fleet", "backup", file, "--to", location]).status == 0)
        #expect(try ledger(["fleet", "drill", file, "--to", location]).status == 0)
        #expect(try ledger(["fleet", "report", location]).status == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: location + "/acme")
            .filter { $0.hasSuffix(".gz") }.sorted()
        #expect(names.count == 2)
        let newest = try #require(names.last)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: location + "/acme/" + newest)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: location + "/acme/" + newest))

        let check = try ledger(["fleet", "check-backups", file, "--to", location, "--json"])
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        let summary = try #require(try clients(check)["acme"]?["summary"] as? String)
        #expect(summary.hasPrefix("1 of 2 snapshots whole; last good copy "), "\(summary)")
        let recorded = try #require(try status(location, "acme")["check"] as? [String: Any])
        #expect(recorded["outcome"] as? String == "failed")
        let problems = try #require(recorded["problems"] as? [String])
        #expect(problems.count == 2 && problems.first == "newest-not-clean", "\(problems)")
        #expect(problems.last?.hasPrefix(newest + ": ") == true, "\(problems)")

        let report = try ledger(["fleet", "report", location, "--json"])
        #expect(report.status == 1, "\(report.stdout)")
        let row = try #require(try clients(report)["acme"])
        #expect(row["level"] as? String == "attention" && row["risk"] as? Int == 70, "\(row)")
        let concerns = try #require(row["concerns"] as? [[String: Any]])
        #expect(concerns.map { $0["concern"] as? String } == ["check-failed"], "\(concerns)")
        #expect(
            concerns.first?["detail"] as? String
                == "the last check of the backups failed: newest-not-clean; " + (problems.last ?? ""))
        #expect(row["check_outcome"] as? String == "failed" && row["last_check_at"] is String)
        let text = try ledger(["fleet", "report", location])
        #expect(
            text.stdout.hasPrefix(
                "1 client: 1 need attention, 0 to keep an eye on, 0 good\n"
                    + "1\tacme\tNeeds attention: the last check of the backups failed: newest-not-clean; "),
            "\(text.stdout)")

        // A backup since does not clear it; a check that passes does.
        try FileManager.default.removeItem(atPath: location + "/acme/" + newest)
        #expect(try ledger(["fleet", "backup", file, "--to", location]).status == 0)
        #expect(try ledger(["fleet", "report", location]).status == 1)
        #expect(try ledger(["fleet", "check-backups", file, "--to", location]).status == 0)
        #expect(try ledger(["fleet", "report", location]).status == 0)
    }

    /// A client folder in the location that is a link to a folder elsewhere is refused by
    /// every step (nothing is read or written through it, the client fails by name, the
    /// others go on) and makes a row of the report, never dropped.
    @Test func aLinkedClientFolderIsRefusedAndReported() throws {
        let acme = try folder.sample("acme.db", transactions: 60)
        let west = try folder.sample("west.db", transactions: 60)
        let location = folder.file("backups")
        let elsewhere = folder.file("elsewhere")
        for path in [location, elsewhere] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(atPath: location + "/acme", withDestinationPath: elsewhere)
        let refusal =
            "refused its folder: Cannot read \(location)/acme: it is a link or not a folder; in a backup location "
            + "it must be a folder itself (remove the link, then run the command again)."
        for step in [["backup"], ["verify"], ["drill"], ["check-backups"]] {
            let run = try ledger(["fleet"] + step + [acme, west, "--to", location, "--json"])
            #expect(run.status == 1, "\(step): \(run.stdout)\(run.stderr)")
            let results = try clients(run)
            #expect(results["acme"]?["outcome"] as? String == "failed", "\(step)")
            #expect(results["acme"]?["summary"] as? String == refusal, "\(step)")
            #expect(results["west"]?["outcome"] as? String == "clean", "\(step)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere) == [], "\(step)")
        }
        let text = try ledger(["fleet", "verify", acme, "--to", location])
        #expect(text.stdout.contains("ATTENTION acme  " + refusal), "\(text.stdout)")

        let report = try ledger(["fleet", "report", location, "--json"])
        #expect(report.status == 1, "\(report.stdout)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let rows = try #require(object["clients"] as? [[String: Any]])
        #expect(rows.map { $0["slug"] as? String } == ["acme", "west"])
        let concerns = try #require(rows.first?["concerns"] as? [[String: Any]])
        #expect(concerns.map { $0["concern"] as? String } == ["unreadable-record"])
        #expect(
            concerns.first?["detail"] as? String
                == "the client's folder is a link, which the report does not follow: make it a folder")
    }

    /// A backup that is not a good copy, into a location that holds no good one any more,
    /// clears the record's older last good backup rather than keep it: the report then
    /// says there is none.
    @Test func aBackupThatFindsNoGoodCopyClearsTheOldOne() throws {
        let file = try folder.sample("acme.db", transactions: 120)
        let location = folder.file("backups")
        #expect(try ledger(["fleet", "backup", file, "--to", location]).status == 0)
        let before = try #require(try status(location, "acme")["backup"] as? [String: Any])
        #expect(before["last_good_at"] is String)
        for name in try FileManager.default.contentsOfDirectory(atPath: location + "/acme") where name.hasSuffix(".gz")
        {
            try FileManager.default.removeItem(atPath: location + "/acme/" + name)
        }
        try editWithPython(file, "UPDATE accounts SET balance = balance + 1 WHERE id = 1")

        let backup = try ledger(["fleet", "backup", file, "--to", location, "--json"])
        #expect(backup.status == 1, "\(backup.stderr)")
        let summary = try #require(try clients(backup)["acme"]?["summary"] as? String)
        #expect(summary.hasSuffix(" (verify: findings); not a good copy, and there is no good one"), "\(summary)")
        let after = try #require(try status(location, "acme")["backup"] as? [String: Any])
        #expect(after["outcome"] as? String == "findings")
        #expect(after["last_good_at"] == nil && after["last_good_snapshot"] == nil && after["last_good_bytes"] == nil)
        let report = try ledger(["fleet", "report", location, "--json"])
        let concerns = try #require(try clients(report)["acme"]?["concerns"] as? [[String: Any]])
        #expect(
            concerns.contains {
                $0["concern"] as? String == "backup-overdue" && $0["detail"] as? String == "no good backup"
            })
    }

    /// A client a folder search found, whose file is later overwritten (ransomware) or
    /// removed, is not passed over by the next runs: it fails by name, its record and the
    /// report say why, and the run exits 1.
    @Test func aClientWhoseFileIsDamagedOrGoneStillFails() throws {
        let clients = folder.file("c")
        try FileManager.default.createDirectory(atPath: clients, withIntermediateDirectories: true)
        for name in ["acme", "gone", "west"] { _ = try folder.sample("c/\(name).db", transactions: 60) }
        let location = folder.file("backups")
        #expect(try ledger(["fleet", "backup", clients, "--to", location]).status == 0)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: clients + "/acme.db"))
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 4_096))
        try handle.close()
        try FileManager.default.removeItem(atPath: clients + "/gone.db")
        let overwritten =
            "no longer found: \(clients)/acme.db is no longer a company file (its header was overwritten, cut short "
            + "or encrypted?), yet its status record says it was a client"
        let missing = "no longer found: \(clients)/gone.db is missing, yet its status record says it was a client"

        let backup = try ledger(["fleet", "backup", clients, "--to", location, "--json"])
        #expect(backup.status == 1, "\(backup.stdout)\(backup.stderr)")
        let results = try self.clients(backup)
        #expect(results.keys.sorted() == ["acme", "gone", "west"])
        #expect(
            results["acme"]?["outcome"] as? String == "failed" && results["gone"]?["outcome"] as? String == "failed")
        #expect((results["acme"]?["summary"] as? String)?.hasPrefix(overwritten + "; could not back up: ") == true)
        #expect((results["gone"]?["summary"] as? String)?.hasPrefix(missing + "; could not back up: ") == true)
        #expect(results["west"]?["outcome"] as? String == "clean")

        for step in [["verify"], ["drill"], ["check-backups"]] {
            let run = try ledger(["fleet"] + step + [clients, "--to", location])
            #expect(run.status == 1, "\(step)")
            #expect(run.stdout.contains("ATTENTION acme  " + overwritten + "; "), "\(step): \(run.stdout)")
            #expect(run.stdout.contains("ATTENTION gone  " + missing + "; "), "\(step): \(run.stdout)")
            #expect(run.stdout.hasSuffix("3 clients: 1 in order, 2 need attention.\n"), "\(step): \(run.stdout)")
        }
        let record = try #require(try status(location, "gone")["verify"] as? [String: Any])
        #expect(record["outcome"] as? String == "failed" && record["problem"] as? String == missing)

        let report = try ledger(["fleet", "report", location, "--json"])
        #expect(report.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let rows = try #require(object["clients"] as? [[String: Any]])
        #expect(rows.map { $0["slug"] as? String } == ["acme", "gone", "west"])
        #expect(rows.map { $0["level"] as? String } == ["attention", "attention", "good"])
        let worst = (rows[0]["concerns"] as? [[String: Any]])?.first
        #expect(worst?["concern"] as? String == "not-verified")
        #expect(worst?["detail"] as? String == "verify could not run: " + overwritten)
    }

    /// A drill tells a split sum that differs from its manifest's without
    /// quoting either (a record may lie beside encrypted snapshots).
    @Test func aDrillTellsAnotherSplitSumWithoutItsFigures() throws {
        let file = try folder.sample("acme.db", transactions: 120)
        let location = folder.file("backups")
        #expect(try ledger(["fleet", "backup", file, "--to", location]).status == 0)
        try forge("\"split_sum\":", in: location + "/acme")
        let drill = try ledger(["fleet", "drill", file, "--to", location, "--json"])
        #expect(drill.status == 1)
        let summary = try clients(drill)["acme"]?["summary"] as? String ?? ""
        #expect(summary == "drill failed: the splits add up to another sum than the one recorded", "\(summary)")
        let problem = (try status(location, "acme")["drill"] as? [String: Any])?["problem"] as? String
        #expect(problem == "the splits add up to another sum than the one recorded")
    }

    /// Beside encrypted snapshots a status record holds no words of the books,
    /// whichever step writes it later; every record is private (0600).
    @Test func aRecordBesideEncryptedSnapshotsKeepsNoWordsOfTheBooks() throws {
        for name in ["open", "sealed"] {
            let file = folder.file(name + ".db")
            #expect(try Ledger.run("sample", file, "--transactions", "200", "--seed", "3").status == 0)
            try editWithPython(file, "UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        }
        let recipient = try newKey()
        let open = folder.file("open-backups")
        let sealed = folder.file("sealed-backups")
        #expect(try ledger(["fleet", "backup", folder.file("open.db"), "--to", open]).status == 1)
        #expect(
            try ledger(["fleet", "backup", folder.file("sealed.db"), "--to", sealed, "--encrypt-to", recipient])
                .status == 1)

        func record(_ location: String, _ slug: String) throws -> (text: String, message: String?, mode: Int?) {
            let path = location + "/" + slug + "/ledger-status.json"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let lines = (try status(location, slug)["verify"] as? [String: Any])?["findings"] as? [[String: Any]]
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            return (text, lines?.first?["message"] as? String, mode)
        }
        let plain = try record(open, "open")
        #expect(plain.message?.hasPrefix("Account 'Checking' (1) shows a balance of ") == true, "\(plain.text)")
        #expect(plain.mode == 0o600)
        for step in [
            ["fleet", "backup", folder.file("sealed.db"), "--to", sealed, "--encrypt-to", recipient],
            ["fleet", "verify", folder.file("sealed.db"), "--to", sealed],
        ] {
            // Whoever can write the location may drop the record's mark: its encrypted snapshots still tell.
            var unmarked = try status(sealed, "sealed")
            unmarked["sealed"] = nil
            try JSONSerialization.data(withJSONObject: unmarked).write(
                to: URL(fileURLWithPath: sealed + "/sealed/ledger-status.json"))
            #expect(try ledger(step).status == 1)
            let kept = try record(sealed, "sealed")
            #expect(kept.message == "Account balances that disagree with their transactions", "\(step)")
            #expect(!kept.text.contains("Checking") && !kept.text.contains("shows a balance"), "\(kept.text)")
            #expect(try status(sealed, "sealed")["sealed"] as? Bool == true)
            #expect(kept.mode == 0o600)
        }
        // Nor can it hide the encrypted snapshots too: this machine remembers it sealed records there.
        for name in try FileManager.default.contentsOfDirectory(atPath: sealed + "/sealed") where name.hasSuffix(".age")
        {
            try FileManager.default.moveItem(atPath: sealed + "/sealed/" + name, toPath: sealed + "/sealed/." + name)
        }
        var unmarked = try status(sealed, "sealed")
        unmarked["sealed"] = nil
        unmarked["verify"] = nil
        try JSONSerialization.data(withJSONObject: unmarked).write(
            to: URL(fileURLWithPath: sealed + "/sealed/ledger-status.json"))
        #expect(try ledger(["fleet", "verify", folder.file("sealed.db"), "--to", sealed]).status == 1)
        let kept = try record(sealed, "sealed")
        #expect(kept.message == "Account balances that disagree with their transactions", "\(kept.text)")
        #expect(!kept.text.contains("Checking") && !kept.text.contains("shows a balance"), "\(kept.text)")
    }

    /// This machine remembers the places it sealed records in by their full
    /// path, and a fleet it backed up encrypted as a whole: spelling the
    /// location another way, or a client that joins the fleet later, is no way
    /// round the seal once the location hides its other signs.
    @Test func aSealedFleetIsKnownHoweverItIsSpelledAndSealsNewClients() throws {
        for name in ["acme", "hooli"] {
            let file = folder.file(name + ".db")
            #expect(try Ledger.run("sample", file, "--transactions", "200", "--seed", "3").status == 0)
            try editWithPython(file, "UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        }
        let recipient = try newKey()
        let backup = try Ledger.run(
            ["fleet", "backup", "acme.db", "--to", "fleet", "--encrypt-to", recipient],
            environment: try S3TestServer.environment(), in: folder.path)
        #expect(backup.status == 1, "\(backup.stdout)\n\(backup.stderr)")
        // Whoever can write the location hides the encrypted snapshots and drops the record.
        let client = folder.file("fleet/acme")
        for name in try FileManager.default.contentsOfDirectory(atPath: client) where name != "ledger-status.json" {
            try FileManager.default.removeItem(atPath: client + "/" + name)
        }
        try FileManager.default.removeItem(atPath: client + "/ledger-status.json")
        for file in ["acme.db", "hooli.db"] {
            let verify = try ledger(["fleet", "verify", folder.file(file), "--to", folder.file("fleet/./")])
            #expect(verify.status == 1, "\(verify.stdout)\n\(verify.stderr)")
        }
        for slug in ["acme", "hooli"] {
            let text = try String(contentsOfFile: folder.file("fleet/\(slug)/ledger-status.json"), encoding: .utf8)
            #expect(try status(folder.file("fleet"), slug)["sealed"] as? Bool == true, "\(slug): \(text)")
            #expect(!text.contains("Checking") && !text.contains("shows a balance"), "\(slug): \(text)")
        }
    }

    /// A new age key in `key.txt`; its recipient.
    private func newKey() throws -> String {
        let made = try Ledger.run("key", "new", "--out", folder.file("key.txt"))
        #expect(made.status == 0, "\(made.stderr)")
        return made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A recipients line for the fleet's location encrypts every client's
    /// snapshots under it, as a single backup there would be, and seals each
    /// record; a sibling location whose name merely starts the same is not under it.
    @Test func aFleetsRecipientsLineEncryptsEveryClientUnderIt() throws {
        try FileManager.default.createDirectory(atPath: folder.file("clients"), withIntermediateDirectories: true)
        for name in ["acme", "globex"] {
            _ = try folder.sample("clients/\(name).db", transactions: 40)
        }
        let recipient = try newKey()
        let fleet = folder.file("fleet")
        let environment = try folder.recipientsConfig("\(fleet) \(recipient)\n").environment
        for location in [fleet, folder.file("fleet2")] {
            let run = try Ledger.run(
                ["fleet", "backup", folder.file("clients"), "--to", location], environment: environment)
            #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        }
        for slug in ["acme", "globex"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: fleet + "/" + slug)
                .filter { !$0.hasPrefix(".") }.sorted()
            #expect(names.count == 2 && names[1] == "ledger-status.json", "\(names)")
            #expect(names[0].hasPrefix(slug + "-") && names[0].hasSuffix(".db.gz.age"), "\(names)")
            let head = try Data(contentsOf: URL(fileURLWithPath: fleet + "/" + slug + "/" + names[0])).prefix(21)
            #expect(String(decoding: head, as: UTF8.self) == "age-encryption.org/v1")
            #expect(try status(fleet, slug)["sealed"] as? Bool == true)

            let plain = try FileManager.default.contentsOfDirectory(atPath: folder.file("fleet2/" + slug))
                .filter { !$0.hasPrefix(".") }.sorted()
            #expect(plain.count == 2 && plain[0].hasSuffix(".db.gz") && plain[1] == "ledger-status.json", "\(plain)")
            #expect(try status(folder.file("fleet2"), slug)["sealed"] == nil)
        }
        // A single backup into a client's folder follows the same rule.
        let single = try Ledger.run(
            ["backup", folder.file("clients/acme.db"), "--to", fleet + "/acme", "--json"], environment: environment)
        #expect(single.status == 0, "\(single.stderr)")
        #expect(single.stdout.contains(".db.gz.age\""), "\(single.stdout)")
    }

    /// The fleet's own `.ledger-recipients` speaks for every client's folder:
    /// a new client's first backup from a machine that sets no recipients
    /// (its folder holds no encrypted snapshot yet) writes nothing, instead
    /// of a plain snapshot in an encrypted fleet; with the recipient it is
    /// encrypted, and its record sealed.
    @Test func aFleetsRecipientsListRefusesAPlainFirstBackup() throws {
        let file = try folder.sample("newco.db", transactions: 40)
        let recipient = try newKey()
        let fleet = folder.file("fleet")
        try FileManager.default.createDirectory(atPath: fleet, withIntermediateDirectories: true)
        try Data((recipient + "\n").utf8).write(to: URL(fileURLWithPath: fleet + "/.ledger-recipients"))

        let plain = try ledger(["fleet", "backup", file, "--to", fleet, "--json"])
        #expect(plain.status == 1, "\(plain.stdout)\n\(plain.stderr)")
        #expect(try clients(plain)["newco"]?["outcome"] as? String == "failed")
        #expect((try clients(plain)["newco"]?["summary"] as? String ?? "").contains(".ledger-recipients"))
        let written = (try? FileManager.default.contentsOfDirectory(atPath: fleet + "/newco")) ?? []
        #expect(written.allSatisfy { !$0.contains(".db.gz") }, "\(written)")

        let sealed = try ledger(["fleet", "backup", file, "--to", fleet, "--encrypt-to", recipient])
        #expect(sealed.status == 0, "\(sealed.stdout)\n\(sealed.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: fleet + "/newco")
        #expect(names.contains { $0.hasSuffix(".db.gz.age") } && !names.contains { $0.hasSuffix(".db.gz") }, "\(names)")
        #expect(try status(fleet, "newco")["sealed"] as? Bool == true)
    }

    /// A line of this machine's for one client's folder may add a reader to
    /// what the fleet's list names: the fleet's list asks for its readers,
    /// never forbids more.
    @Test func aClientsOwnLineMayAddAReaderToTheFleetsList() throws {
        _ = try folder.sample("acme.db", transactions: 40)
        let office = try newKey()
        let acme = try Ledger.run("key", "new", "--out", folder.file("acme-key.txt")).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let fleet = folder.file("fleet")
        try FileManager.default.createDirectory(atPath: fleet, withIntermediateDirectories: true)
        try Data((office + "\n").utf8).write(to: URL(fileURLWithPath: fleet + "/.ledger-recipients"))
        let environment = try folder.recipientsConfig("\(fleet) \(office)\n\(fleet)/acme \(office) \(acme)\n")
            .environment
        let run = try Ledger.run(["fleet", "backup", folder.file("acme.db"), "--to", fleet], environment: environment)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: fleet + "/acme")
        #expect(names.contains { $0.hasSuffix(".db.gz.age") }, "\(names)")
    }

    /// A drill that finds another company's books beside encrypted snapshots
    /// prints both names on this machine, but the sealed record names neither.
    @Test func aSealedRecordNamesNoCompanyADrillFound() throws {
        let file = try folder.sample("acme.db", transactions: 120)
        let recipient = try newKey()
        let location = folder.file("backups")
        #expect(try ledger(["fleet", "backup", file, "--to", location, "--encrypt-to", recipient]).status == 0)
        let other = folder.file("other/acme.db")
        try FileManager.default.createDirectory(atPath: folder.file("other"), withIntermediateDirectories: true)
        #expect(try Ledger.run("sample", other, "--transactions", "100", "--name", "Other Co").status == 0)
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try Ledger.run("backup", other, "--to", location + "/acme", "--encrypt-to", recipient).status == 0)
        let drill = try ledger(
            ["fleet", "drill", file, "--to", location, "--identity", folder.file("key.txt"), "--json"])
        #expect(drill.status == 1, "\(drill.stdout)\n\(drill.stderr)")
        let summary = try clients(drill)["acme"]?["summary"] as? String ?? ""
        #expect(
            summary.hasPrefix("drill failed: it holds the books of another company, Other Co (created "), "\(summary)")
        #expect(summary.contains(", not Sample Company (created "), "\(summary)")
        let text = try String(contentsOfFile: location + "/acme/ledger-status.json", encoding: .utf8)
        #expect(!text.contains("Other Co") && !text.contains("Sample Company"), "\(text)")
        let record = try status(location, "acme")
        #expect((record["drill"] as? [String: Any])?["problem"] as? String == "it holds another company's books")
        #expect(record["sealed"] as? Bool == true)
    }

    /// `check-backups --drill` proves one file's newest snapshot, and tells a forged one.
    @Test func checkBackupsDrillsOneLocation() throws {
        let file = try folder.sample("acme.db", transactions: 120)
        let location = folder.file("backups")
        #expect(try Ledger.run("backup", file, "--to", location).status == 0)
        let good = try Ledger.run("check-backups", location, "--drill")
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.stdout.contains("acme: last proven restorable: "))
        try forgeTrialBalance(in: location)
        let forged = try Ledger.run("check-backups", location, "--drill", "--json")
        #expect(forged.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(forged.stdout.utf8)) as? [String: Any])
        let drills = try #require(object["drills"] as? [[String: Any]])
        #expect((drills.first?["result"] as? [String: Any])?["outcome"] as? String == "failed")
        #expect(object["snapshots"] != nil)
    }

    /// A 120-transaction `acme.db` backed up into a new folder location, its
    /// snapshot's manifest rewritten in place (each text by one as long, so the
    /// snapshot stays whole). Returns the location.
    private func backedUpAcme(rewriting pairs: [(String, String)]) throws -> String {
        let file = try folder.sample("acme.db", transactions: 120)
        let location = folder.file("backups")
        #expect(try Ledger.run("backup", file, "--to", location).status == 0)
        let name = try #require(
            try FileManager.default.contentsOfDirectory(atPath: location).first { $0.hasSuffix(".gz") })
        let path = location + "/" + name
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for (old, new) in pairs {
            let from = Array(old.utf8)
            let at = try #require((0..<(bytes.count - from.count)).first { Array(bytes[$0..<$0 + from.count]) == from })
            bytes.replaceSubrange(at..<at + from.count, with: Array(new.utf8))
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return location
    }

    /// A manifest whose `source` is a path ("../x.db", as long as "acme.db",
    /// so the snapshot's bytes stay whole) restores inside the drill's scratch,
    /// never beside it.
    @Test func aDrillWritesNothingWhereTheManifestSourcePoints() throws {
        let location = try backedUpAcme(rewriting: [("\"source\":\"acme.db\"", "\"source\":\"../x.db\"")])
        let temporary = folder.file("tmp")
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = temporary
        let drilled = try Ledger.run(["check-backups", location, "--drill"], environment: environment)
        #expect(drilled.status == 0 || drilled.status == 1, "\(drilled.stdout)\(drilled.stderr)")
        #expect(!FileManager.default.fileExists(atPath: temporary + "/ledger-\(getuid())/x.db"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary + "/ledger-\(getuid())") == [])
    }

    /// A manifest from before the drill's fields (here: their names changed in place, so the bytes'
    /// digest still holds) drills on what it has, and passes.
    @Test func anOldManifestDrillsOnWhatItHas() throws {
        let location = try backedUpAcme(rewriting: [
            ("\"table_counts\"", "\"table_countz\""), ("\"trial_balance_sha256\"", "\"trial_balance_sha25x\""),
        ])
        let drilled = try Ledger.run("check-backups", location, "--drill", "--json")
        #expect(drilled.status == 0, "\(drilled.stdout)\(drilled.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(drilled.stdout.utf8)) as? [String: Any])
        let result = try #require((object["drills"] as? [[String: Any]])?.first?["result"] as? [String: Any])
        #expect(result["outcome"] as? String == "clean")
        #expect(result["compared"] as? [String] == ["sha256", "verify", "counts", "split_sum"])
    }
}
