import Foundation
import LedgerKit
import LedgerTestSupport
import Testing

/// Issue 24's bad days, as a person meets them: a page zeroed by a power cut,
/// a file cut short, a damaged page, with and without last night's backup.
@Suite struct DamagedFileTests {
    let folder = TemporaryDirectory()
    static let sampleData = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("SampleData").path

    /// Runs python3 with `script`, the file as argv[1]; returns its output.
    private func python(_ path: String, _ script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n" + script, path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Python that reads one SQLite varint of `b` at `i`: its value and where the next begins.
    static let varint = """
        def varint(b, i):
            v = 0
            for k in range(8):
                v = (v << 7) | (b[i + k] & 0x7f)
                if b[i + k] < 0x80: return v, i + k + 1
            return (v << 8) | b[i + 8], i + 9
        """

    /// Every row of the books' tables, one line each, in order.
    private func books(_ path: String) throws -> String {
        try python(
            path,
            """
            for t in ['company','accounts','parties','items','transactions','splits','documents','document_lines',
                      'applications','reconciliations','bank_feed']:
                for r in c.execute('SELECT * FROM ' + t + ' ORDER BY rowid'): print(t, r)
            """)
    }

    /// The page numbers of the leaves of `table`, in order.
    private func leaves(_ path: String, of table: String) throws -> [Int] {
        try python(
            path,
            "for (p,) in c.execute(\"SELECT pageno FROM dbstat WHERE name = '\(table)' AND pagetype = 'leaf' ORDER BY pageno\"): print(p)"
        )
        .split(separator: "\n").compactMap { Int($0) }
    }

    private func zero(_ path: String, page: Int) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64((page - 1) * 4096))
        try handle.write(contentsOf: Data(count: 4096))
    }

    private func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    private func sample() throws -> String {
        let path = folder.file("h.db")
        #expect(try Ledger.run("sample", path, "--transactions", "500", "--seed", "5").status == 0)
        return path
    }

    @Test func aZeroedPageComesBackWholeFromLastNightsBackup() throws {
        let path = try sample()
        #expect(try Ledger.run("backup", path, "--to", folder.file("backups")).status == 0)
        let before = try books(path)
        let page = try #require(try leaves(path, of: "splits").dropFirst(3).first)
        try zero(path, page: page)

        let result = try Ledger.run("rebuild", path)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.contains { $0.hasPrefix("Brought back from the last clean snapshot, \(folder.file("backups/h-"))") })
        #expect(lines.contains { $0.hasPrefix("  rows the damage took: splits ") })
        #expect(try #require(lines.last).hasSuffix(" — the file is clean; every row came back"))
        #expect(!result.stdout.contains("at least"))
        #expect(try books(path) == before)
        #expect(try Ledger.run("verify", path).status == 0)
    }

    /// Damage at the start of the file takes page 2, the company table, with a
    /// leaf of splits: last night's backup, shown to be of these books by the
    /// transactions that survived, brings back every row and the company row,
    /// which a person checks (exit 1).
    @Test func withItsCompanyRowGoneTheSurvivingTransactionsFindLastNightsBackup() throws {
        let path = try sample()
        #expect(try Ledger.run("backup", path, "--to", folder.file("backups")).status == 0)
        let before = try books(path)
        #expect(try leaves(path, of: "company") == [2])
        try zero(path, page: 2)
        try zero(path, page: try #require(try leaves(path, of: "splits").dropFirst(3).first))

        let result = try Ledger.run("rebuild", path)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.contains {
                $0.hasPrefix("  Note: the company row of h.db could not be read: \(folder.file("backups/h-"))")
                    && $0.hasSuffix(
                        " was taken as these books' own, as 500 of the 500 surviving transactions it holds too are identical to its own"
                    )
            }, "\(result.stdout)")
        #expect(
            lines.contains(
                "  the company row (its name and currency) is the snapshot's: a change made after the snapshot is not in it; check it with 'ledger info'"
            ))
        #expect(
            try #require(lines.last).contains(
                "every row came back, and rows need a person: the company row came back as the snapshot had it: check it"
            ))
        #expect(try books(path) == before)
        #expect(try Ledger.run("verify", path).status == 0)
    }

    @Test func withoutABackupNothingThatSurvivedIsDeletedAndBalancesAreKept() throws {
        let path = try sample()
        let headers = try python(path, "print(c.execute('SELECT COUNT(*) FROM transactions').fetchone()[0])")
        let balances = try python(path, "for r in c.execute('SELECT id, balance FROM parties ORDER BY id'): print(r)")
        let page = try #require(try leaves(path, of: "splits").dropFirst(3).first)
        try zero(path, page: page)

        let result = try Ledger.run("rebuild", path, "--json", "--backup-dir", folder.file("elsewhere"))
        #expect(result.status == 1)
        let report = try json(result.stdout)
        let damage = try #require(report["damage"] as? [String: Any])
        #expect(damage["recovered_from"] is NSNull)
        let loss = try #require(damage["loss"] as? [[String: Any]])
        let splits = try #require(loss.first { $0["table"] as? String == "splits" })
        let salvaged = try #require(
            (report["salvage"] as? [[String: Any]])?.first { $0["table"] as? String == "splits" })
        #expect(splits["lost"] as? Int == salvaged["lost"] as? Int && splits["exact"] as? Bool == true)
        #expect((damage["kept_balances"] as? [Any])?.isEmpty == false)
        #expect(report["lost_rows"] as? Int == loss.reduce(0) { $0 + ($1["lost"] as? Int ?? 0) })
        // The invoices, bills and payments whose lines were lost keep their headers;
        // every customer and vendor shows the balance they showed.
        let survivors = try python(
            path,
            "print(c.execute(\"SELECT COUNT(*) FROM transactions WHERE memo IS NULL OR memo NOT LIKE 'Lost in damage%'\").fetchone()[0])"
        )
        let deleted = try python(
            path,
            "print(c.execute(\"SELECT COUNT(*) FROM repair_actions WHERE table_name = 'transactions' AND action = 'delete'\").fetchone()[0])"
        )
        #expect(
            Int(survivors.trimmingCharacters(in: .whitespacesAndNewlines))! + Int(
                deleted.trimmingCharacters(in: .whitespacesAndNewlines))!
                == Int(headers.trimmingCharacters(in: .whitespacesAndNewlines))!)
        #expect(
            try python(path, "for r in c.execute('SELECT id, balance FROM parties ORDER BY id'): print(r)") == balances)

        let text = try Ledger.run("rebuild", folder.file("none.db"))
        #expect(text.status == 2)
    }

    /// The lone index of the bank lines loses one entry (its page's cell count
    /// one short, which reads without an error) and that line's leaf is
    /// zeroed: the line comes back from the backup, but only the backup says it
    /// was there, so a person checks it (exit 1), though every row came back.
    @Test func aRowTakenOnTheBackupsWordAloneNeedsAPerson() throws {
        let path = try sample()
        #expect(try Ledger.run("backup", path, "--to", folder.file("backups")).status == 0)
        let before = try books(path)
        let found = try python(
            path,
            """
            \(Self.varint)
            def rowids(b):
                out = []
                for n in range((b[3] << 8) | b[4]):
                    _, i = varint(b, (b[8 + 2 * n] << 8) | b[9 + 2 * n])
                    out.append(varint(b, i)[0])
                return out
            (index,) = c.execute("SELECT pageno FROM dbstat WHERE name = 'bank_feed_fitid' AND pagetype = 'leaf' ORDER BY pageno DESC LIMIT 1").fetchone()
            leaves = [p for (p,) in c.execute("SELECT pageno FROM dbstat WHERE name = 'bank_feed' AND pagetype = 'leaf'")]
            c.close()
            f = open(sys.argv[1], 'r+b')
            f.seek((index - 1) * 4096 + 3)
            cells = int.from_bytes(f.read(2), 'big')
            f.seek((index - 1) * 4096 + 3)
            f.write((cells - 1).to_bytes(2, 'big'))
            f.flush()
            c = sqlite3.connect(sys.argv[1])
            listed = {r for (r,) in c.execute('SELECT rowid FROM bank_feed INDEXED BY bank_feed_fitid')}
            dropped = [r for (r,) in c.execute('SELECT rowid FROM bank_feed NOT INDEXED') if r not in listed]
            c.close()
            f.seek(0)
            data = f.read()
            for p in leaves:
                if dropped[0] in rowids(data[(p - 1) * 4096:p * 4096]):
                    f.seek((p - 1) * 4096)
                    f.write(bytes(4096))
            f.close()
            print(len(dropped))
            """)
        #expect(found.trimmingCharacters(in: .whitespacesAndNewlines) == "1")

        let result = try Ledger.run("rebuild", path)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(try books(path) == before)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.contains {
                $0.hasPrefix("  of these, taken on the snapshot's word alone") && $0.hasSuffix("bank_feed 1")
            })
        let last = try #require(lines.last)
        #expect(
            last.contains(
                "every row came back, and rows need a person: 1 row brought back on the snapshot's word alone: check none was deleted after it"
            ), "\(last)")
        #expect(!last.contains("NOT EVERY ROW"))
    }

    @Test func aCutFileSaysWhatItCannotCountAndAWholeOneSaysSo() throws {
        let path = try sample()
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let cut = folder.file("cut.db")
        let whole = folder.file("whole.db")
        try FileManager.default.copyItem(atPath: path, toPath: cut)
        try FileManager.default.copyItem(atPath: path, toPath: whole)
        #expect(truncate(cut, 60_000) == 0)
        #expect(truncate(whole, off_t(size * 2 / 3 / 4096 * 4096)) == 0)

        let verify = try Ledger.run("verify", cut)
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("The file is cut short by "))

        let lost = try Ledger.run("rebuild", cut, "--backup-dir", folder.file("b1"))
        #expect(lost.status == 1)
        #expect(!lost.stdout.contains("at least 0"))
        let last = try #require(lost.stdout.split(separator: "\n").last)
        #expect(last.contains("NOT EVERY ROW CAME BACK: the file was cut short by "))
        #expect(
            last.contains(
                "transactions loss unknown (pages of the table could not be read and no index or snapshot lists what they held)"
            ))

        let kept = try Ledger.run("rebuild", whole, "--backup-dir", folder.file("b2"))
        #expect(kept.status == 0, "\(kept.stdout)")
        #expect(!kept.stdout.contains("NOT EVERY ROW"))
        #expect(
            try #require(kept.stdout.split(separator: "\n").last).hasSuffix(
                "every row came back (the file was cut short by \((size - size * 2 / 3 / 4096 * 4096) / 4096) pages, which held none of its rows)"
            ))
        #expect(try books(whole) == (try books(path)))
    }

    @Test func workAfterTheBackupIsKeptAndWhatOnlyItHadIsCounted() throws {
        let path = try sample()
        #expect(try Ledger.run("backup", path, "--to", folder.file("backups")).status == 0)
        // The day's work after last night's backup: a statement imported and its lines added.
        #expect(
            try Ledger.run("import", path, Self.sampleData + "/checking-2026-01.ofx", "--account", "Checking").status
                == 0)
        #expect(
            try Ledger.run("feed", "match", path, "--add-unmatched", "--to-account", "Uncategorized Expense").status
                == 0)
        let feed = try python(path, "for r in c.execute('SELECT * FROM bank_feed ORDER BY id'): print(r)")
        // The last page of lines holds the day's new ones, which no backup has.
        let page = try #require(try leaves(path, of: "splits").last)
        try zero(path, page: page)

        let result = try Ledger.run("rebuild", path, "--json")
        let report = try json(result.stdout)
        let damage = try #require(report["damage"] as? [String: Any])
        #expect((damage["recovered_from"] as? String)?.hasPrefix(folder.file("backups/h-")) == true)
        let loss = try #require(damage["loss"] as? [[String: Any]])
        let splits = try #require(loss.first { $0["table"] as? String == "splits" })
        let restored = (damage["restored_from_snapshot"] as? [String: Int])?["splits"] ?? 0
        let salvaged = try #require(
            (report["salvage"] as? [[String: Any]])?.first { $0["table"] as? String == "splits" })
        // What the backup had came back; what only the day's work had is lost, and counted.
        #expect(restored + (splits["lost"] as? Int ?? -1) == salvaged["lost"] as? Int)
        #expect((splits["lost"] as? Int ?? 0) > 0 && splits["exact"] as? Bool == true)
        #expect(result.status == 1)
        // The imported statement's lines survive (their page was not the damaged one).
        let after = try python(
            path, "for r in c.execute('SELECT id, fitid, amount FROM bank_feed ORDER BY id'): print(r)")
        #expect(after.split(separator: "\n").count == feed.split(separator: "\n").count)
    }

    /// A value on a damaged page that the backup sets back is named, as read
    /// and as the backup had it, and the rebuild exits 1.
    @Test func aValueSetBackFromTheBackupIsNamedAndNeedsAPerson() throws {
        let path = try sample()
        #expect(try Ledger.run("backup", path, "--to", folder.file("backups")).status == 0)
        let page = try #require(try leaves(path, of: "splits").dropFirst(3).first)
        // The first rowid of the page (a table leaf: its cells' first varint is the payload size, then the rowid).
        let found = try python(
            path,
            """
            \(Self.varint)
            b = open(sys.argv[1], 'rb').read()[(\(page) - 1) * 4096:\(page) * 4096]
            _, i = varint(b, (b[8] << 8) | b[9])
            rowid, _ = varint(b, i)
            (amount,) = c.execute('SELECT amount FROM splits WHERE id = ?', (rowid,)).fetchone()
            c.execute('UPDATE splits SET amount = amount + 100 WHERE id = ?', (rowid,))
            c.commit()
            c.execute('PRAGMA wal_checkpoint(TRUNCATE)')
            print(rowid, amount)
            """
        ).split(separator: " ").compactMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(found.count == 2)
        let (split, amount) = (found[0], found[1])
        // The page's free-space pointer is wrecked: SQLite's check names the page, its rows stay whole.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64((page - 1) * 4096 + 1))
        let first = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: UInt64((page - 1) * 4096 + 1))
        try handle.write(contentsOf: Data([first ^ 0x40]))
        try handle.close()

        let result = try Ledger.run("rebuild", path)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.contains("  rows read from damaged pages, set back to the snapshot's values (check them): splits 1"))
        #expect(
            lines.contains(
                "    splits \(split) amount: \(Money(cents: amount + 100)) → \(Money(cents: amount))"))
        #expect(
            try #require(lines.last).contains(
                "NOT EVERY ROW CAME BACK: 1 row read from a damaged page set back to the snapshot: check them"))
    }

    @Test func aSnapshotAnotherComputerWroteElsewhereIsUsedOnlyWhenTrusted() throws {
        let path = try sample()
        // Another computer's backup (another signing key) on a shared disk.
        var elsewhere = ProcessInfo.processInfo.environment
        elsewhere["XDG_CONFIG_HOME"] = folder.file("other-computer")
        #expect(try Ledger.run(["backup", path, "--to", folder.file("nas")], environment: elsewhere).status == 0)
        let before = try books(path)
        let page = try #require(try leaves(path, of: "splits").dropFirst(3).first)
        try zero(path, page: page)
        let damaged = try Data(contentsOf: URL(fileURLWithPath: path))

        let refused = try Ledger.run("rebuild", path, "--from-backup", folder.file("nas"), "--dry-run")
        #expect(
            refused.stdout.contains(
                "  Note: 1 clean snapshot of h.db in \(folder.file("nas")) is not signed by this computer and was passed over: give --trust-unsigned if you trust that place"
            ))
        #expect(
            refused.stdout.contains("No snapshot could be used to bring lost rows back from (the notes below say why).")
        )
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == damaged)

        let trusted = try Ledger.run("rebuild", path, "--from-backup", folder.file("nas"), "--trust-unsigned")
        #expect(trusted.status == 0, "\(trusted.stdout)")
        #expect(trusted.stdout.contains("Brought back from the last clean snapshot, \(folder.file("nas/h-"))"))
        #expect(try books(path) == before)
    }
}
