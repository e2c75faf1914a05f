import Foundation
import Testing

/// Backups never let the last good copy go, and restore restores the right
/// company: issue 24's reproductions, run with the built binary.
@Suite struct GoodCopyCommandTests {
    let folder = TemporaryDirectory()

    private func names(_ backups: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: backups).filter { !$0.hasPrefix(".") }.sorted()
    }

    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Sets a file's modification time, as `touch -d` does; returns it as a snapshot time.
    @discardableResult
    private func touch(_ path: String, back seconds: TimeInterval) throws -> String {
        let moment = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - seconds).rounded(.down))
        try FileManager.default.setAttributes([.modificationDate: moment], ofItemAtPath: path)
        return time(moment)
    }

    private func time(_ moment: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: moment)
    }

    /// The sample of the issue: 200 transactions, seed 5.
    private func sample(_ name: String = "co.db", company: String? = nil) throws -> String {
        let file = folder.file(name)
        let made = try Ledger.run(
            ["sample", file, "--transactions", "200", "--seed", "5"] + (company.map { ["--name", $0] } ?? []))
        #expect(made.status == 0, "\(made.stderr)")
        return file
    }

    private func company(_ path: String) throws -> String {
        let info = try Ledger.run("info", path, "--json")
        return try #require(try json(info.stdout)["company"] as? String, "\(info.stdout)")
    }

    /// How many bank feed lines `info` counts in the file at `path`.
    private func bankLines(_ path: String) throws -> Int {
        let info = try Ledger.run("info", path, "--json")
        return try #require((try json(info.stdout)["row_counts"] as? [String: Any])?["bank_feed"] as? Int)
    }

    /// Cuts the file to 100,000 bytes, as `truncate -s 100000` does: SQLite can no longer read it.
    private func cut(_ file: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.truncate(atOffset: 100_000)
        try handle.close()
    }

    @Test(arguments: [["--keep-last", "1"], ["--keep-daily", "14"]])
    func backupsOfADamagedFileAreNotGoodCopiesAndTheCleanOneSurvives(rule: [String]) throws {
        let file = try sample()
        let backups = folder.file("bk")
        let first = try Ledger.run("backup", file, "--to", backups, "--json")
        #expect(first.status == 0, "\(first.stderr)")
        let clean = try #require(try json(first.stdout)["path"] as? String)
        let cleanAt = try #require(try json(first.stdout)["created_at"] as? String)
        try cut(file)

        var previous: String?
        for round in 1...2 {
            let damaged = try Ledger.run(["backup", file, "--to", backups] + rule)
            #expect(damaged.status == 1, "round \(round): \(damaged.stderr)")
            let left = try names(backups).map { backups + "/" + $0 }
            #expect(left.count == 2 && left.contains(clean), "round \(round): \(left)")
            let taken = try #require(left.first { $0 != clean })
            let lines = damaged.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let pruned = previous.map { ["Pruned \($0)"] } ?? []
            #expect(
                Array(lines.prefix(pruned.count + 2)) == pruned + [
                    "Kept \(clean): the newest clean snapshot of co.db (the rules alone would have pruned it)",
                    "Snapshot \(taken)",
                ], "round \(round): \(damaged.stdout)")
            #expect(
                lines.count == pruned.count + 4 && lines[pruned.count + 2].hasPrefix("  co.db, 97.7 KiB → ")
                    && lines[pruned.count + 2].hasSuffix(", verify: skipped") && lines.last == "", "\(damaged.stdout)")
            let said = ["just now", "1 minute ago"].map { age in
                "ledger: \(taken) keeps the file as it is, but it is not a good copy: the company file cannot be read (verify: skipped). "
                    + "The newest clean snapshot of co is \(clean), taken \(cleanAt) (\(age)); keep rules always keep it. "
                    + "Check the file with 'ledger verify \(file)'.\n"
            }
            #expect(said.contains(damaged.stderr), "round \(round): \(damaged.stderr)")
            previous = taken
        }

        let newest = try #require(previous)
        let checked = try Ledger.run("check-backups", backups)
        #expect(checked.status == 1)
        let snapshotLines = [clean, newest].sorted().map {
            $0 == clean ? "ok      \(clean) (verify: clean)" : "ok      \(newest) (verify: skipped)"
        }
        let expected = ["just now", "1 minute ago"].map { age in
            (snapshotLines + [
                "co: last good copy \(cleanAt) (\(age)), \(clean)",
                "co: NOT SAFE: its newest snapshot is not a good copy (verify: skipped): \(newest)",
                "2 of 2 snapshots are whole.",
            ]).joined(separator: "\n") + "\n"
        }
        #expect(expected.contains(checked.stdout), "\(checked.stdout)")

        let listed = try json(try Ledger.run("check-backups", backups, "--json").stdout)
        let companies = try #require(listed["companies"] as? [[String: Any]])
        #expect(companies.count == 1)
        #expect(
            companies.first?["stem"] as? String == "co" && companies.first?["last_good_copy"] as? String == clean
                && companies.first?["newest"] as? String == newest
                && companies.first?["problems"] as? [String] == ["newest-not-clean"]
                && companies.first?["ok"] as? Bool == false)
    }

    @Test func backupJSONSaysItIsNotAGoodCopyAndNamesTheLastOne() throws {
        let file = try sample()
        let backups = folder.file("bk")
        let first = try json(try Ledger.run("backup", file, "--to", backups, "--json").stdout)
        #expect(first["good_copy"] as? Bool == true && first["pruned"] as? [String] == [] && first["standing"] == nil)
        let clean = try #require(first["path"] as? String)
        let cleanAt = try touch(clean, back: 3 * 86_400 + 60)
        try cut(file)
        let made = try Ledger.run("backup", file, "--to", backups, "--keep-last", "1", "--json")
        #expect(made.status == 1)
        #expect(made.stderr.isEmpty, "--json says it all on stdout: \(made.stderr)")
        let result = try json(made.stdout)
        #expect(result["good_copy"] as? Bool == false && result["verify"] as? String == "skipped")
        #expect(result["pruned"] as? [String] == [])
        #expect(result["kept_beyond_rules"] as? [[String: String]] == [["path": clean, "safeguard": "newest-clean"]])
        let standing = try #require(result["standing"] as? [String: Any])
        #expect(
            standing["last_good_copy"] as? String == clean && standing["last_good_copy_taken_at"] as? String == cleanAt)
        let age = try #require(standing["last_good_copy_age_seconds"] as? Int)
        #expect((3 * 86_400 + 60)..<(3 * 86_400 + 600) ~= age)

        // Without keep rules the last good copy is named too, with its age in words.
        let again = try Ledger.run("backup", file, "--to", backups)
        #expect(again.status == 1)
        #expect(
            again.stderr.contains(
                "The newest clean snapshot of co is \(clean), taken \(cleanAt) (3 days ago); keep rules always keep it."
            ),
            "\(again.stderr)")
    }

    @Test func withNoCleanSnapshotTheBackupSaysSo() throws {
        let file = try sample()
        let backups = folder.file("bk")
        try cut(file)
        let made = try Ledger.run("backup", file, "--to", backups)
        #expect(made.status == 1)
        let taken = backups + "/" + (try #require(try names(backups).first))
        #expect(
            made.stderr
                == "ledger: \(taken) keeps the file as it is, but it is not a good copy: the company file cannot be read "
                + "(verify: skipped). There is no clean snapshot of co in \(backups). Check the file with 'ledger verify \(file)'.\n"
        )
        let checked = try Ledger.run("check-backups", backups)
        #expect(checked.status == 1)
        #expect(
            checked.stdout == "ok      \(taken) (verify: skipped)\n"
                + "co: NOT SAFE: its newest snapshot is not a good copy (verify: skipped): \(taken)\n"
                + "co: NOT SAFE: none of its 1 snapshot is a good copy\n1 of 1 snapshots are whole.\n",
            "\(checked.stdout)")
    }

    @Test func aNightlyKeepDailyNeverPrunesTheLastGoodCopy() throws {
        let file = try sample()
        let backups = folder.file("bk")
        let clean = try #require(
            try json(try Ledger.run("backup", file, "--to", backups, "--json").stdout)["path"] as? String)
        try touch(clean, back: 20 * 86_400)
        try cut(file)
        // Fifteen nights of snapshots of the damaged file, one a day.
        var nights: [String] = []
        for night in (0..<15).reversed() {
            let made = try Ledger.run("backup", file, "--to", backups, "--kind", "scheduled", "--json")
            #expect(made.status == 1)
            let path = try #require(try json(made.stdout)["path"] as? String)
            try touch(path, back: Double(night) * 86_400 + 60)
            nights.append(path)
        }
        // Pruned where no key signed them (another computer): their days are the files' times,
        // set back one a night; the computer that signed them counts the days it signed.
        var elsewhere = ProcessInfo.processInfo.environment
        elsewhere["XDG_CONFIG_HOME"] = folder.file("elsewhere")
        let pruned = try Ledger.run(["prune", backups, "--keep-daily", "14"], environment: elsewhere)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        let lines = pruned.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.first == "Kept \(clean): the newest clean snapshot of co.db (the rules alone would have pruned it)")
        #expect(lines.dropFirst().first == "removed \(nights[0])")
        #expect(lines.last == "15 kept, 1 removed.")
        #expect(try names(backups).map { backups + "/" + $0 }.sorted() == ([clean] + nights.dropFirst()).sorted())
    }

    @Test func aNameDatedInTheFutureNeverOutranksTheSnapshotJustTaken() throws {
        let file = try sample()
        let backups = folder.file("bk")
        let old = try #require(
            try json(try Ledger.run("backup", file, "--to", backups, "--json").stdout)["path"] as? String)
        let future = backups + "/co-20991231T000000Z.db.gz"
        try FileManager.default.moveItem(atPath: old, toPath: future)
        try touch(future, back: 3_600)
        // A later state of the same books (a rename would make it look like a second company
        // made from one template, whose own last good copy stays).
        try editWithPython(file, "DELETE FROM bank_feed WHERE id = (SELECT MAX(id) FROM bank_feed)")
        let later = try bankLines(file)

        let made = try Ledger.run("backup", file, "--to", backups)
        #expect(made.status == 0, "\(made.stderr)")
        let taken = try #require(try names(backups).map { backups + "/" + $0 }.first { $0 != future })
        let listed = try #require(
            try JSONSerialization.jsonObject(with: Data(try Ledger.run("snapshots", backups, "--json").stdout.utf8))
                as? [[String: Any]])
        #expect(listed.map { $0["path"] as? String } == [future, taken], "oldest first")
        let restored = folder.file("r/co.db")
        try FileManager.default.createDirectory(atPath: folder.file("r"), withIntermediateDirectories: true)
        #expect(try Ledger.run("restore", backups, "--to", restored).status == 0)
        #expect(try bankLines(restored) == later)

        let pruned = try Ledger.run("backup", file, "--to", backups, "--keep-last", "1")
        #expect(pruned.status == 0, "\(pruned.stderr)")
        let newest = try #require(try names(backups).first.map { backups + "/" + $0 })
        #expect(try names(backups).count == 1 && newest != future && newest != taken)
        #expect(pruned.stdout.hasPrefix("Pruned \(future)\nPruned \(taken)\nSnapshot \(newest)\n"), "\(pruned.stdout)")
    }

    @Test func checkBackupsSaysWhenTheLastGoodCopyIsTooOld() throws {
        let file = try sample()
        let backups = folder.file("bk")
        let clean = try #require(
            try json(try Ledger.run("backup", file, "--to", backups, "--json").stdout)["path"] as? String)
        let at = try touch(clean, back: 3 * 86_400 + 60)

        let checked = try Ledger.run("check-backups", backups)
        #expect(checked.status == 1)
        #expect(
            checked.stdout == "ok      \(clean) (verify: clean)\nco: last good copy \(at) (3 days ago), \(clean)\n"
                + "co: NOT SAFE: its last good copy is older than --max-age 48h\n1 of 1 snapshots are whole.\n",
            "\(checked.stdout)")
        let week = try Ledger.run("check-backups", backups, "--max-age", "7d")
        #expect(week.status == 0)
        #expect(
            week.stdout
                == "ok      \(clean) (verify: clean)\nco: last good copy \(at) (3 days ago), \(clean)\n1 of 1 snapshots are whole.\n"
        )
        let minutes = try Ledger.run("check-backups", backups, "--max-age", "90m", "--json")
        #expect(minutes.status == 1)
        let company = try #require((try json(minutes.stdout)["companies"] as? [[String: Any]])?.first)
        #expect(
            company["problems"] as? [String] == ["good-copy-too-old"]
                && company["last_good_copy_taken_at"] as? String == at)
        for bad in ["48", "0h", "2x", "-1d", "h"] {
            let refused = try Ledger.run("check-backups", backups, "--max-age", bad)
            #expect(refused.status == 64, "--max-age \(bad)")
        }
        // A fresh backup is a good copy again.
        #expect(try Ledger.run("backup", file, "--to", backups).status == 0)
        #expect(try Ledger.run("check-backups", backups).status == 0)
    }

    @Test func restoreChoosesOnlyAmongSnapshotsOfTheTargetsOwnName() throws {
        let shared = folder.file("shared")
        var sha: [String: String] = [:]
        for (stem, name) in [("baker", "Baker"), ("acme", "Acme"), ("acme-west", "Acme West"), ("zimmer", "Zimmer")] {
            let file = try sample("\(stem).db", company: name)
            let made = try json(try Ledger.run("backup", file, "--to", shared, "--json").stdout)
            sha[stem] = made["database_sha256"] as? String
            Thread.sleep(forTimeInterval: 1.1)  // Zimmer's is the newest of all.
        }
        let copy = folder.file("baker-copy.db")
        let refused = try Ledger.run("restore", shared, "--to", copy)
        #expect(refused.status == 2)
        #expect(
            refused.stderr
                == "ledger: \(shared) holds no snapshots of baker-copy; it holds snapshots of acme, acme-west, baker, zimmer; "
                + "name one with --stem.\n")
        #expect(!FileManager.default.fileExists(atPath: copy))
        let other = try Ledger.run("restore", shared, "--to", folder.file("other.db"))
        #expect(
            other.status == 2
                && other.stderr.hasPrefix("ledger: \(shared) holds no snapshots of other; it holds snapshots of acme,"))

        let named = try Ledger.run("restore", shared, "--to", copy, "--stem", "baker")
        #expect(named.status == 0, "\(named.stderr)")
        #expect(try company(copy) == "Baker")
        try FileManager.default.createDirectory(atPath: folder.file("r"), withIntermediateDirectories: true)
        for (stem, name) in [("baker", "Baker"), ("acme", "Acme"), ("acme-west", "Acme West")] {
            let target = folder.file("r/\(stem).db")
            let restored = try Ledger.run("restore", shared, "--to", target, "--json")
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(try company(target) == name)
            let snapshot = try #require(try json(restored.stdout)["snapshot"] as? [String: Any])
            #expect((snapshot["manifest"] as? [String: Any])?["database_sha256"] as? String == sha[stem])
        }
        #expect(try Ledger.run("restore", shared, "--to", copy, "--stem", "").status == 64)
    }
}
