import Foundation
import LedgerTestSupport
import Testing

@Suite struct RebuildCommandTests {
    let folder = TemporaryDirectory()

    private func contents(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    private func hidden(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".") }.sorted()
    }

    @Test func repairsReportsAndLogs() throws {
        let path = try folder.sample()
        try editWithPython(
            path,
            """
            UPDATE accounts SET balance = balance + 1 WHERE id IN (1, 2, 3);
            INSERT INTO transactions (id, kind, date, created_at, modified_at) VALUES (9001, 'check', '2025-06-01', '2025-06-01T10:00:00Z', '2025-06-01T10:00:00Z');
            DROP INDEX splits_account;
            """)
        #expect(try Ledger.run("verify", path).status == 1)
        let result = try Ledger.run("rebuild", path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("Snapshot of the file as it was: \(folder.file("backups/books-"))"))
        #expect(lines.contains("Made again: index splits_account"))
        #expect(lines.contains("empty-transaction — Transactions with no lines: 1 row changed"))
        #expect(lines.contains("  deleted Check of 2025-06-01 (transaction 9001)"))
        #expect(
            lines.contains(
                "account-balance-mismatch — Account balances that disagree with their transactions: 3 rows changed"))
        // Money in dollars, rows by name: one cent more than its lines.
        let checking = try #require(lines.first { $0.hasPrefix("  changed account Checking (1): balance ") })
        #expect(
            checking.range(
                of: #"^  changed account Checking \(1\): balance [0-9,]+\.[0-9]{2} → [0-9,]+\.[0-9]{2}$"#,
                options: .regularExpression) != nil)
        #expect(lines.last!.hasPrefix("\(path) rebuilt: 4 rows changed in "))
        #expect(lines.last!.hasSuffix(" — the file is clean"))
        #expect(try Ledger.run("verify", path).status == 0)
        #expect(try hidden(folder.path) == [])

        let log = try Ledger.run("log", path)
        #expect(log.status == 0)
        #expect(log.stdout.hasPrefix("Run 1: rebuild, "))
        #expect(log.stdout.contains("  empty-transaction: deleted Check of 2025-06-01 (transaction 9001)\n"))
        #expect(log.stdout.contains("  account-balance-mismatch: changed account Savings (2): balance "))
        let json = try Ledger.run("log", path, "--json")
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(runs.count == 1)
        #expect(runs[0]["outcome"] as? String == "repaired")
        #expect(runs[0]["action_count"] as? Int == 4)
        let actions = try #require(runs[0]["actions"] as? [[String: Any]])
        let balance = try #require(
            actions.first { $0["code"] as? String == "account-balance-mismatch" && $0["row_id"] as? Int == 1 })
        let before = try #require(
            try JSONSerialization.jsonObject(with: Data((balance["before"] as! String).utf8)) as? [String: Any])
        let after = try #require(
            try JSONSerialization.jsonObject(with: Data((balance["after"] as! String).utf8)) as? [String: Any])
        #expect((before["balance"] as! Int) - (after["balance"] as! Int) == 1)

        // A second rebuild has nothing to do, and says so.
        let again = try Ledger.run("rebuild", path)
        #expect(again.status == 0)
        #expect(again.stdout.contains("rebuilt: no row needed repair"))
        #expect(try Ledger.run("log", path).stdout.hasPrefix("Run 2: rebuild, "))
    }

    @Test func findingsForAPersonExitOne() throws {
        let path = try folder.sample()
        try editWithPython(
            path,
            """
            UPDATE document_lines SET amount = amount + 1 WHERE id = 1;
            UPDATE parties SET balance = balance + 5 WHERE id = 1;
            """)
        let result = try Ledger.run("rebuild", path, "--json")
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["dry_run"] as? Bool == false)
        #expect(object["changed_rows"] as? Int == 1)
        let remaining = try #require(object["remaining"] as? [[String: Any]])
        #expect(remaining.map { $0["code"] as? String } == ["document-lines-mismatch"])
        let text = try Ledger.run("rebuild", path)
        #expect(text.status == 1)
        #expect(
            text.stdout.contains(
                "Left for a person (rebuild does not change these):\n  warning document-lines-mismatch: The lines of "))
    }

    @Test func dryRunChangesNothing() throws {
        let path = try folder.sample()
        try editWithPython(
            path,
            """
            UPDATE splits SET amount = amount + 250
            WHERE id = (SELECT MIN(s.id) FROM splits s JOIN accounts a ON a.id = s.account_id WHERE a.type = 'income');
            """)
        let before = try contents(path)
        let plan = try Ledger.run("rebuild", path, "--dry-run")
        #expect(plan.status == 1)
        #expect(plan.stdout.hasPrefix("Rebuild would make these changes (nothing was changed):\n"))
        #expect(plan.stdout.contains("unbalanced-transaction — Transactions out of balance: 2 rows to change"))
        #expect(plan.stdout.contains("out of balance by 2.50 (unbalanced-transaction)"))
        #expect(try contents(path) == before)
        #expect(!FileManager.default.fileExists(atPath: folder.file("backups")))
        #expect(try hidden(folder.path) == [])
        #expect(try Ledger.run("rebuild", path).status == 0)
        let clean = try Ledger.run("rebuild", path, "--dry-run")
        #expect(clean.status == 0)
    }

    @Test func refusalsAreOneLineAndLeaveTheFileAlone() throws {
        let missing = try Ledger.run("rebuild", folder.file("nothing.db"))
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("ledger: ") && missing.stderr.split(separator: "\n").count == 1)

        let foreign = folder.file("other.db")
        try editWithPython(foreign, "CREATE TABLE notes (x);")
        let refused = try Ledger.run("rebuild", foreign)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("not a ledger company file"))

        #expect(try Ledger.run("rebuild").status == 64)

        let path = try folder.sample()
        try editWithPython(path, "UPDATE accounts SET balance = 7 WHERE id = 1;")
        let before = try contents(path)
        let holder = try FileHolder(path, .open)
        defer { holder.release() }
        let busy = try Ledger.run("rebuild", path, "--wait", "1")
        #expect(busy.status == 2)
        #expect(
            busy.stderr
                == "ledger: \(path) is open in another program; close it there (or wait for it to finish) and run 'ledger rebuild \(path)' again. Nothing was changed.\n"
        )
        #expect(try contents(path) == before)
    }

    @Test func killedRebuildsLeaveTheOldOrTheRebuiltFile() throws {
        let damaged = try folder.sample("damaged.db", transactions: 6_000)
        try editWithPython(
            damaged,
            """
            UPDATE accounts SET balance = balance + 1;
            DELETE FROM transactions WHERE id IN (SELECT id FROM transactions WHERE kind = 'check' LIMIT 20);
            UPDATE splits SET amount = amount + 3 WHERE id % 97 = 0 AND account_id IN (SELECT id FROM accounts WHERE type = 'expense');
            DROP INDEX parties_name;
            """)
        let path = folder.file("books.db")
        try FileManager.default.copyItem(atPath: damaged, toPath: path)
        let old = try contents(path)
        // How long one whole rebuild takes, so that the kills spread over it: the
        // shorter of two, since a busy machine can stretch one run far past the next.
        var length = Double.infinity
        for _ in 0..<2 {
            let started = Date()
            #expect(try Ledger.run("rebuild", path, "--backup-dir", folder.file("timing")).status == 0)
            length = min(length, Date().timeIntervalSince(started))
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: damaged, toPath: path)
        }

        var delays = SeededDelays(seed: 23)
        var interrupted = 0
        var rebuilt = 0
        for trial in 0..<20 {
            let wasRunning = try Ledger.runKilled(
                after: delays.next(upTo: length * 1.1), "rebuild", path, "--backup-dir", folder.file("b"))
            // A kill that came after the rebuild ended means the machine is faster now than
            // when it was timed (another job finished): aim the next kills earlier.
            if wasRunning { interrupted += 1 } else { length *= 0.7 }
            if try contents(path) == old { continue }
            // Not the old file: then the whole rebuilt one.
            let verify = try Ledger.run("verify", path)
            #expect(verify.status == 0, "trial \(trial): \(verify.stdout)")
            rebuilt += 1
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: damaged, toPath: path)
        }
        #expect(interrupted >= 10, "most kills landed during a rebuild")
        // A later rebuild clears what the killed ones left behind.
        #expect(try Ledger.run("rebuild", path, "--backup-dir", folder.file("b")).status == 0)
        #expect(try hidden(folder.path) == [])
    }
}
