import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// docs/rebuild.md "After damage, rebuild keeps everything that can be kept": rows
/// back from the last clean snapshot, balances kept, loss told exactly.
@Suite struct DamageRecoveryTests {
    let folder = TemporaryDirectory()

    private var backups: String { folder.file("backups") }

    private func rebuild(_ path: String, now: Date = Date()) throws -> RebuildReport {
        try Rebuilder.rebuild(path: path, options: RebuildOptions(backupFolder: backups, now: now))
    }

    /// The `offset`-th leaf page of `table` and the rowids on it.
    private func leaf(_ path: String, of table: String, offset: Int = 3) throws -> (page: Int, rows: [Int64]) {
        let page = try DatabaseQueue(path: path).read { db in
            try Int.fetchOne(
                db,
                sql: "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET ?",
                arguments: [table, offset])
        }
        let number = try #require(page)
        let file = try PageFile(path: path)
        let rows = try #require(file.page(number).flatMap { file.rows(ofLeaf: $0) })
        return (number, rows.map(\.rowid))
    }

    private func digest(_ path: String, keepingLog: Bool = false) throws -> [String: String] {
        try CompanyFile.read(path) { try Invariants.contentDigest(of: $0) }
            .filter {
                !(keepingLog ? ["sqlite_stat1"] : ["maintenance_runs", "repair_actions", "sqlite_stat1"]).contains(
                    $0.key)
            }
    }

    private func balances(_ path: String, of table: String) throws -> [Int64: Int64] {
        try CompanyFile.read(path) { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, balance FROM \(table)").map {
                    ($0["id"] as Int64, $0["balance"] as Int64)
                })
        }
    }

    /// Every table of docs/company-file.md (the maintenance log filled by an
    /// earlier rebuild) but `company`, whose row tells which company's
    /// snapshots may be used (see `withoutItsCompanyRowNoSnapshotCanBeUsed`).
    @Test(arguments: Schema.tableNames.filter { $0 != "company" })
    func aCleanSnapshotJustBeforeTheDamageGivesBackEveryRow(table: String) throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        try Damage.apply(to: path) { db in try db.execute(sql: "UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        }
        _ = try rebuild(path)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let before = try digest(path, keepingLog: true)
        let accounts = try balances(path, of: "accounts")
        let leaves = try DatabaseQueue(path: path).read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM dbstat WHERE name = ? AND pagetype = 'leaf'", arguments: [table]) ?? 0
        }
        let (page, rows) = try leaf(path, of: table, offset: min(1, leaves - 1))
        #expect(!rows.isEmpty)
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        // Rows rebuilt from an index may already equal the snapshot's: those need no change.
        #expect((damage.restored[table] ?? 0) + (damage.replaced[table] ?? 0) > 0)
        if table == "maintenance_runs" || table == "repair_actions" {
            // The log has no index and its only page was lost: rows written after
            // the snapshot cannot be ruled out, and the rebuild says so.
            #expect(
                damage.loss.filter { !($0.lost == 0 && $0.exact && $0.fromIndexes == 0) }
                    == [
                        TableLoss(
                            table: table, lost: 0, exact: false,
                            why: "rows added after the snapshot could have been on the pages that were lost",
                            fromSnapshot: rows.count, fromIndexes: 0)
                    ])
            #expect(report.exitStatus == 1)
        } else {
            #expect(damage.loss.allSatisfy { $0.lost == 0 && $0.exact && $0.fromIndexes == 0 }, "\(damage.loss)")
            #expect(report.isComplete)
            #expect(report.exitStatus == 0)
        }
        #expect(
            try digest(path, keepingLog: true).filter { $0.key != "maintenance_runs" && $0.key != "repair_actions" }
                == before.filter { $0.key != "maintenance_runs" && $0.key != "repair_actions" })
        if table == "maintenance_runs" || table == "repair_actions" {
            // The log of the earlier rebuild is back, row for row, beside this run's own.
            try CompanyFile.read(path) { db in
                let back = try Int.fetchOne(
                    db,
                    sql:
                        "SELECT COUNT(*) FROM \(table) WHERE rowid IN (\(rows.map(String.init).joined(separator: ",")))"
                )
                #expect(back == rows.count)
            }
        }
        #expect(try balances(path, of: "accounts") == accounts)
        #expect(try Verifier.verify(path: path).ok)
    }

    /// SPEC §3: the snapshot is looked for in `--backup-dir`, the `backups`
    /// folder beside the file and each `--from-backup`: naming a backup folder
    /// elsewhere does not hide the clean snapshot beside the file.
    @Test func theBackupsFolderBesideTheFileIsSearchedThoughAnotherBackupFolderIsGiven() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let before = try digest(path)
        let (page, rows) = try leaf(path, of: "splits", offset: 1)
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let elsewhere = folder.file("elsewhere")
        let report = try Rebuilder.rebuild(path: path, options: RebuildOptions(backupFolder: elsewhere))
        let damage = try #require(report.damage)
        #expect(damage.snapshot?.hasPrefix(backups + "/") == true, "\(String(describing: damage.snapshot))")
        #expect(damage.restored["splits"] == rows.count)
        #expect(damage.loss.allSatisfy { $0.lost == 0 && $0.exact && $0.fromIndexes == 0 }, "\(damage.loss)")
        #expect(report.exitStatus == 0)
        #expect(try digest(path) == before)
        // The pre-rebuild snapshot went where it was asked to.
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: elsewhere).filter { $0.hasSuffix(".db.gz") }.count == 1)
    }

    @Test func aCutFileComesBackFromTheSnapshotButTheCountStaysHonest() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let before = try digest(path)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(truncate(path, off_t(size / 2 / 4096 * 4096)) == 0)
        let cut = try #require(Verifier.cutShort(try FileHeader.read(path: path)))
        #expect(try Verifier.verify(path: path).findings.first == cut)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.cutShortBy == (size / 4096) - (size / 2 / 4096))
        #expect(try digest(path) == before)
        // Rows added after the snapshot would have had higher ids, on the pages that are gone: unknown, said so.
        let unknown = damage.loss.filter { !$0.exact }
        #expect(!unknown.isEmpty)
        #expect(
            unknown.allSatisfy {
                $0.lost == 0 && $0.why == "rows added after the snapshot could have been on the pages that were lost"
            })
        #expect(report.exitStatus == 1)
    }

    @Test func rowsOfTransactionsChangedSinceTheSnapshotAreNotPatchedFromIt() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let (page, rows) = try leaf(path, of: "splits", offset: 2)
        // Work after the snapshot: a transaction with lines on the page gets a new memo.
        let edited = try Damage.apply(to: path) { db -> Int64 in
            let first = try Damage.one(db, "SELECT transaction_id FROM splits WHERE id = ?", [rows[0]])
            try db.execute(
                sql: "UPDATE transactions SET memo = 'changed', modified_at = '2026-12-01T00:00:00Z' WHERE id = ?",
                arguments: [first])
            return first
        }
        let lostOfEdited = try CompanyFile.read(path) { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM splits WHERE transaction_id = ? AND id BETWEEN ? AND ?",
                arguments: [edited, rows.first, rows.last]) ?? 0
        }
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.changedSince["splits"] == lostOfEdited)
        #expect(damage.restored["splits"] == rows.count - lostOfEdited)
        let splits = try #require(damage.loss.first { $0.table == "splits" })
        #expect(splits.lost == lostOfEdited && splits.exact)
        #expect(damage.snapshotWouldBringBack == lostOfEdited)
        try CompanyFile.read(path) { db in
            // The edited transaction keeps its new memo; the page's other lines all came back.
            #expect(
                try String.fetchOne(db, sql: "SELECT memo FROM transactions WHERE id = ?", arguments: [edited])
                    == "changed")
            let back = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM splits WHERE id BETWEEN ? AND ?", arguments: [rows.first, rows.last])
            #expect(back == rows.count - lostOfEdited)
        }
        #expect(report.exitStatus == 1)
    }

    /// Two lines of a transaction edited after the snapshot by a program that
    /// left `modified_at` alone (the balances it updated), then their page is
    /// lost: the lines come back as the snapshot had them, but the balances
    /// they post to show the edit, so those balances are kept by the "Lost in
    /// damage" journal, to the cent, and the rebuild is not complete.
    @Test func linesEditedSinceTheSnapshotWithoutATimeLeaveTheirBalancesShown() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let (page, rows) = try leaf(path, of: "splits", offset: 2)
        let list = rows.map(String.init).joined(separator: ", ")
        let (debit, credit) = try Damage.apply(to: path) { db -> (Row, Row) in
            // Two lines of one transaction on the page, on two accounts, with no name, statement,
            // bank line or document that would show the edit.
            let pair = try #require(
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT a.id AS first, b.id AS second FROM splits a JOIN splits b
                          ON b.transaction_id = a.transaction_id AND b.id > a.id AND b.account_id != a.account_id
                        WHERE a.id IN (\(list)) AND b.id IN (\(list)) AND a.party_id IS NULL AND b.party_id IS NULL
                          AND a.reconciliation_id IS NULL AND b.reconciliation_id IS NULL
                          AND NOT EXISTS (SELECT 1 FROM bank_feed f WHERE f.transaction_id = a.transaction_id)
                          AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.transaction_id = a.transaction_id)
                        ORDER BY a.id LIMIT 1
                        """))
            try db.execute(
                sql: """
                    UPDATE splits SET amount = amount + 1000 WHERE id = ?;
                    UPDATE splits SET amount = amount - 1000 WHERE id = ?;
                    UPDATE accounts SET balance = balance + 1000 WHERE id = (SELECT account_id FROM splits WHERE id = ?);
                    UPDATE accounts SET balance = balance - 1000 WHERE id = (SELECT account_id FROM splits WHERE id = ?);
                    """, arguments: [pair["first"], pair["second"], pair["first"], pair["second"]])
            let first = try #require(
                try Row.fetchOne(db, sql: "SELECT * FROM splits WHERE id = ?", arguments: [pair["first"]]))
            let second = try #require(
                try Row.fetchOne(db, sql: "SELECT * FROM splits WHERE id = ?", arguments: [pair["second"]]))
            return (first, second)
        }
        let edited = try Verifier.verify(path: path)
        #expect(edited.ok, "\(edited.findings.map(\.code))")
        let accounts = try balances(path, of: "accounts")
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.restored["splits"] == rows.count)
        // The two accounts the edit moved, each by $10.00 the snapshot's lines lack.
        let debitAccount: Int64 = debit["account_id"]
        let creditAccount: Int64 = credit["account_id"]
        #expect(
            damage.keptBalances.sorted { $0.id < $1.id }.map { [$0.id, $0.shown - $0.remaining] }
                == [[debitAccount, 1000], [creditAccount, -1000]].sorted { $0[0] < $1[0] })
        #expect(report.exitStatus == 1)
        let after = try balances(path, of: "accounts")
        for (id, balance) in accounts { #expect(after[id] == balance, "account \(id)") }
        try CompanyFile.read(path) { db in
            // The lines are the snapshot's; the journal holds the edit against Rebuild Suspense.
            let first: Int64 = debit["amount"]
            #expect(
                try Int64.fetchOne(db, sql: "SELECT amount FROM splits WHERE id = ?", arguments: [debit["id"]])
                    == first - 1000)
            let journal = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.account_id, s.amount FROM splits s JOIN transactions t ON t.id = s.transaction_id
                    WHERE t.memo LIKE 'Lost in damage (rebuild run %' AND s.amount != 0 ORDER BY s.account_id
                    """
            ).map { [$0["account_id"] as Int64, $0["amount"] as Int64] }
            #expect(journal == [[debitAccount, 1000], [creditAccount, -1000]].sorted { $0[0] < $1[0] })
        }
        #expect(try Verifier.verify(path: path).findings.filter(\.repairable) == [])
    }

    /// An account renamed after the snapshot, then the accounts' page lost:
    /// its index still holds the new name, so the account comes back with it
    /// (the rest as the snapshot had it), the change is listed, and the
    /// rebuild is not complete.
    @Test func anAccountRenamedSinceTheSnapshotKeepsTheNameItsIndexHolds() throws {
        let path = try Damage.sample(in: folder, transactions: 600)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let (page, rows) = try leaf(path, of: "accounts", offset: 0)
        let renamed = try #require(rows.last)
        let old = try Damage.apply(to: path) { db -> String in
            let name = try #require(
                try String.fetchOne(db, sql: "SELECT name FROM accounts WHERE id = ?", arguments: [renamed]))
            try db.execute(
                sql: "UPDATE accounts SET name = 'Renamed After The Snapshot' WHERE id = ?", arguments: [renamed])
            return name
        }
        let before = try digest(path)
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.restored["accounts"] == rows.count)
        #expect(
            damage.changedValues
                == [
                    ReplacedValue(
                        table: "accounts", rowID: renamed, column: "name", old: "'\(old)'",
                        new: "'Renamed After The Snapshot'")
                ])
        #expect(report.exitStatus == 1)
        // Every row is as it was before the damage.
        #expect(try digest(path) == before)
    }

    /// A bank line added to the books after the snapshot (`ledger feed add`),
    /// then its page lost: it comes back as the snapshot had it, `new`, but
    /// the file's log says a bank-feed command ran since, so the line is
    /// listed for a person and the rebuild is not complete.
    /// The same when the command ran in the snapshot's own second, or began
    /// a little before it (it may have committed after the copy was read).
    @Test(arguments: [5.0, 0.0, -60.0])
    func bankLinesALaterFeedCommandMayHaveChangedAreListed(after: Double) throws {
        let path = try Damage.sample(in: folder, transactions: 600)
        let taken = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        _ = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, now: taken), into: SnapshotStore.open(backups))
        let (page, rows) = try leaf(path, of: "bank_feed", offset: 1)
        let line = try #require(
            try CompanyFile.read(path) { db in
                try Int64.fetchOne(
                    db,
                    sql: "SELECT id FROM bank_feed WHERE status = 'new' AND id BETWEEN ? AND ? ORDER BY id LIMIT 1",
                    arguments: [rows.first, rows.last])
            })
        _ = try FeedBook.add(file: path, line: line, to: "Office Supplies", now: taken.addingTimeInterval(after))
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let report = try rebuild(path, now: taken.addingTimeInterval(10))
        let damage = try #require(report.damage)
        #expect(damage.restored["bank_feed"] == rows.count)
        #expect(damage.perhapsChanged.map(\.rowID).contains(line))
        #expect(damage.laterCommands.count == 1 && damage.laterCommands[0].hasPrefix("feed add at "))
        // Lines the snapshot already had matched or excluded no later command here could change.
        let unchangeable = try CompanyFile.read(path) { db in
            try Int64.fetchAll(
                db, sql: "SELECT id FROM bank_feed WHERE status != 'new' AND id BETWEEN ? AND ?",
                arguments: [rows.first, rows.last])
        }
        #expect(Set(unchangeable).isDisjoint(with: damage.perhapsChanged.map(\.rowID)))
        #expect(report.exitStatus == 1)
    }

    /// The log of a bank-feed command names the lines it changed: only those
    /// are listed, not every line of a status it could change.
    @Test func onlyTheBankLinesALaterCommandNamesAreListed() throws {
        let path = try Damage.sample(in: folder, transactions: 600)
        let taken = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        _ = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, now: taken), into: SnapshotStore.open(backups))
        let (page, rows) = try leaf(path, of: "bank_feed", offset: 1)
        let fresh = try CompanyFile.read(path) { db in
            try Int64.fetchAll(
                db, sql: "SELECT id FROM bank_feed WHERE status = 'new' AND id BETWEEN ? AND ? ORDER BY id",
                arguments: [rows.first, rows.last])
        }
        #expect(fresh.count >= 2)
        let line = try #require(fresh.first)
        _ = try FeedBook.exclude(file: path, lines: [line], now: taken.addingTimeInterval(5))
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let report = try rebuild(path, now: taken.addingTimeInterval(10))
        #expect(report.damage?.perhapsChanged == [DoubtfulRow(table: "bank_feed", rowID: line)])
        #expect(report.exitStatus == 1)
    }

    /// Each command's logged summary gives the lines it changed; a `feed
    /// match` logged before it named them gives none (every `new` line is then listed).
    @Test func theLinesEachFeedCommandLogs() {
        #expect(FeedBook.linesNamed(by: "feed add", summary: #"{"line":7,"transaction_id":3}"#) == [7])
        #expect(FeedBook.linesNamed(by: "feed exclude", summary: #"{"excluded":[4,5]}"#) == [4, 5])
        #expect(FeedBook.linesNamed(by: "feed include", summary: #"{"included":[6]}"#) == [6])
        #expect(
            FeedBook.linesNamed(
                by: "feed match", summary: #"{"added":1,"lines":[8,9],"matched":1,"unmatched":0}"#)
                == [8, 9])
        #expect(FeedBook.linesNamed(by: "feed match", summary: #"{"added":1,"matched":1,"unmatched":0}"#) == nil)
        #expect(
            FeedBook.linesNamed(
                by: "feed unmatch", summary: #"{"lines":[{"line":3,"was":"matched"}],"removed":[]}"#)
                == [3])
        #expect(FeedBook.linesNamed(by: "feed add", summary: "not json") == nil)
    }

    /// A line moved to another account after the snapshot by a program that
    /// left `modified_at` alone, then its page lost: the file's index of lines
    /// by account says so, so its transaction's lost lines do not come back as
    /// the snapshot had them, and the balances stay as the file showed them.
    @Test func aLineMovedSinceTheSnapshotIsNotSetBackByIt() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let (page, rows) = try leaf(path, of: "splits", offset: 2)
        let list = rows.map(String.init).joined(separator: ", ")
        let (moved, transaction) = try Damage.apply(to: path) { db -> (Int64, Int64) in
            let row = try #require(
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT s.id, s.transaction_id, s.account_id, s.amount FROM splits s JOIN accounts a ON a.id = s.account_id
                        WHERE s.id IN (\(list)) AND s.party_id IS NULL AND s.reconciliation_id IS NULL AND a.type = 'expense'
                          AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.transaction_id = s.transaction_id)
                        ORDER BY s.id LIMIT 1
                        """))
            let other = try Damage.one(
                db, "SELECT MIN(id) FROM accounts WHERE type = 'expense' AND id != ?", [row["account_id"]])
            try db.execute(
                sql: """
                    UPDATE splits SET account_id = ? WHERE id = ?;
                    UPDATE accounts SET balance = balance - ? WHERE id = ?;
                    UPDATE accounts SET balance = balance + ? WHERE id = ?;
                    """,
                arguments: [other, row["id"], row["amount"], row["account_id"], row["amount"], other])
            return (row["id"], row["transaction_id"])
        }
        #expect(try Verifier.verify(path: path).ok)
        let accounts = try balances(path, of: "accounts")
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        let lostOfMoved = rows.count - (damage.restored["splits"] ?? 0)
        #expect(lostOfMoved >= 1 && damage.changedSince["splits"] == lostOfMoved)
        #expect(report.exitStatus == 1)
        let left = try CompanyFile.read(path) { db in
            try Int.fetchAll(
                db, sql: "SELECT id FROM splits WHERE id = ? OR (transaction_id = ? AND id BETWEEN ? AND ?)",
                arguments: [moved, transaction, rows.first, rows.last])
        }
        #expect(left == [])
        let after = try balances(path, of: "accounts")
        for (id, balance) in accounts { #expect(after[id] == balance, "account \(id)") }
    }

    /// A check added after the snapshot; then the pages of its table's
    /// indexes written back as they were before it (writes to them lost), and a
    /// splits leaf elsewhere lost. The check's rows lie whole on their own
    /// leaves, though no index names them: they stay, with their kind and memo,
    /// the lost leaf comes back from the snapshot, and nothing is lost.
    @Test(arguments: ["transactions", "splits"])
    func rowsOlderIndexesDoNotNameStayWhenTheirOwnLeafHoldsThem(table: String) throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let old = try Data(contentsOf: URL(fileURLWithPath: path))
        let check = try Damage.apply(to: path) { db -> Int64 in
            try db.execute(
                sql: """
                    INSERT INTO transactions (kind, date, number, memo, created_at, modified_at)
                    VALUES ('check', '2026-12-01', '9001', 'new check', '2026-12-08T00:00:00Z', '2026-12-08T00:00:00Z')
                    """)
            let id = db.lastInsertedRowID
            try db.execute(
                sql: """
                    INSERT INTO splits (transaction_id, account_id, amount, cleared) VALUES (?, 1, -12345, 'n'), (?, 32, 12345, 'n');
                    UPDATE accounts SET balance = balance - 12345 WHERE id = 1;
                    UPDATE accounts SET balance = balance + 12345 WHERE id = 32;
                    """, arguments: [id, id])
            return id
        }
        let before = try digest(path)
        let indexPages = try DatabaseQueue(path: path).read { db in
            try Int.fetchAll(
                db,
                sql: """
                    SELECT pageno FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?)
                    """, arguments: [table])
        }
        var written = 0
        for page in indexPages where page * 4096 <= old.count {
            let stale = [UInt8](old[((page - 1) * 4096)..<(page * 4096)])
            guard try Damage.read(path, at: (page - 1) * 4096, 4096) != stale else { continue }
            try Damage.write(path, at: (page - 1) * 4096, stale)
            written += 1
        }
        #expect(written > 0, "no page of \(table)'s indexes took the check")
        try Damage.scribble(on: path, page: try leaf(path, of: "splits", offset: 3).page, byte: 0x00)

        let report = try rebuild(path)
        let kept = try #require(report.salvage?.first { $0.table == table }?.note)
        #expect(kept.contains("rows that no index of the table names were kept"), "\(kept)")
        #expect(try digest(path) == before)
        let header = try CompanyFile.read(path) { db in
            try Row.fetchOne(db, sql: "SELECT kind, memo FROM transactions WHERE id = ?", arguments: [check])
        }
        #expect(header?["kind"] == "check" && header?["memo"] == "new check")
        #expect(report.exitStatus == 0)
    }

    /// A statement reconciled after the snapshot marks lines of a leaf that
    /// damage then takes: they come back as the snapshot had them (cleared, not
    /// reconciled), and the rebuild lists them with that reconciliation and is
    /// not complete, rather than saying every row came back as it was.
    @Test func linesALaterReconciliationMarkedAreListedWhenTheyComeBack() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let (page, rows) = try leaf(path, of: "splits", offset: 5)
        let (reconciliation, marked) = try Damage.apply(to: path) { db -> (Int64, [Int64]) in
            let list = rows.map(String.init).joined(separator: ",")
            let account = try Damage.one(
                db,
                "SELECT account_id FROM splits WHERE id IN (\(list)) GROUP BY account_id ORDER BY COUNT(*) DESC LIMIT 1"
            )
            let marked = try Damage.all(
                db, "SELECT id FROM splits WHERE id IN (\(list)) AND account_id = ? ORDER BY id", [account])
            let statement = try #require(
                try String.fetchOne(
                    db,
                    sql:
                        "SELECT MAX(t.date) FROM splits s JOIN transactions t ON t.id = s.transaction_id WHERE s.id IN (\(list))"
                ))
            try db.execute(
                sql: """
                    INSERT INTO reconciliations (account_id, statement_date, beginning_balance, ending_balance, reconciled_at)
                    VALUES (?, ?, 0, 0, '2026-12-08T00:00:00Z')
                    """, arguments: [account, statement])
            let id = db.lastInsertedRowID
            try db.execute(
                sql:
                    "UPDATE splits SET cleared = 'r', reconciliation_id = ? WHERE id IN (\(marked.map(String.init).joined(separator: ",")))",
                arguments: [id])
            return (id, marked)
        }
        #expect(!marked.isEmpty)
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.restored["splits"] == rows.count)
        let listed = Set(damage.perhapsChanged.filter { $0.table == "splits" }.map(\.rowID))
        #expect(Set(marked).isSubset(of: listed), "\(listed)")
        #expect(damage.laterReconciliations.count == 1)
        #expect(damage.laterReconciliations.first?.hasPrefix("reconciliation \(reconciliation) of ") == true)
        #expect(report.exitStatus == 1)
    }

    /// The leaf page of `table` whose rowids span `id` (it need not hold it).
    private func leaf(_ path: String, of table: String, spanning id: Int64) throws -> (page: Int, rows: [Int64]) {
        let pages = try DatabaseQueue(path: path).read { db in
            try Int.fetchAll(
                db, sql: "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
                arguments: [table])
        }
        let file = try PageFile(path: path)
        for number in pages {
            guard let rows = file.page(number).flatMap({ file.rows(ofLeaf: $0) })?.map(\.rowid),
                let first = rows.min(), let last = rows.max()
            else { continue }
            if first <= id, id <= last { return (number, rows) }
        }
        throw DamageError.noSuchRow("no leaf of \(table) spans \(id)")
    }

    /// Deletes whole transactions with their lines, as a person would after the
    /// snapshot, then lets a rebuild set every balance to match: the file is clean after.
    private func remove(_ ids: [Int64], from path: String) throws {
        let list = ids.map(String.init).joined(separator: ", ")
        try Damage.apply(to: path) { db in
            try db.execute(
                sql: """
                    DELETE FROM applications WHERE payment_id IN (\(list)) OR document_id IN (\(list));
                    DELETE FROM document_lines WHERE transaction_id IN (\(list));
                    DELETE FROM documents WHERE transaction_id IN (\(list));
                    DELETE FROM splits WHERE transaction_id IN (\(list));
                    UPDATE bank_feed SET status = 'new', transaction_id = NULL WHERE transaction_id IN (\(list));
                    DELETE FROM transactions WHERE id IN (\(list));
                    """)
        }
        _ = try rebuild(path)
        #expect(try Verifier.verify(path: path).ok)
    }

    /// A payment deleted after the snapshot, its header, lines and application
    /// on pages that are then lost: the file's indexes, read to their end, do not
    /// name it, so it stays deleted and no cent moves.
    /// Both indexes of `transactions` lost their last entry (a page that lost a
    /// cell reads to its end without an error) and the header's page is gone:
    /// its lines, read whole from the file, still point at it, so it was there,
    /// and it comes back from the snapshot with them, as it was.
    @Test func aTransactionItsLinesPointAtComesBackThoughNoIndexNamesIt() throws {
        let path = try Damage.sample(in: folder, transactions: 600)
        let id = try CompanyFile.read(path) { try Damage.one($0, "SELECT MAX(id) + 1 FROM transactions") }
        try Damage.apply(to: path) { db in
            // Last in both indexes: the latest date, the greatest party, the greatest id.
            try db.execute(
                sql: """
                    INSERT INTO transactions (id, kind, date, party_id, memo, created_at, modified_at)
                    VALUES (?, 'journal', '2099-12-31', (SELECT MAX(id) FROM parties), 'last of all',
                            '2026-12-01T10:00:00Z', '2026-12-01T10:00:00Z')
                    """, arguments: [id])
            try db.execute(
                sql: "INSERT INTO splits (transaction_id, account_id, amount) VALUES (?, 1, 12345), (?, 2, -12345)",
                arguments: [id, id])
            try db.execute(sql: "UPDATE accounts SET balance = balance + 12345 WHERE id = 1")
            try db.execute(sql: "UPDATE accounts SET balance = balance - 12345 WHERE id = 2")
        }
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let before = try digest(path)
        for index in ["transactions_date", "transactions_party"] {
            let page = try #require(
                try DatabaseQueue(path: path).read { db in
                    try Int.fetchOne(
                        db, sql: "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY path DESC",
                        arguments: [index])
                })
            let count = try Damage.read(path, at: (page - 1) * 4_096 + 3, 2)
            let cells = Int(count[0]) << 8 | Int(count[1])
            try Damage.write(path, at: (page - 1) * 4_096 + 3, [UInt8((cells - 1) >> 8), UInt8((cells - 1) & 0xFF)])
            let named = try CompanyFile.read(path) {
                try Damage.one($0, "SELECT COUNT(*) FROM transactions INDEXED BY \(index) WHERE id = ?", [id])
            }
            #expect(named == 0, "\(index) still names \(id)")
        }
        try Damage.scribble(on: path, page: try leaf(path, of: "transactions", spanning: id).page, byte: 0x00)

        let report = try rebuild(path)
        #expect(try digest(path) == before)
        #expect(report.damage?.loss.first { $0.table == "transactions" }?.lost == 0)
    }

    @Test func aTransactionDeletedSinceTheSnapshotStaysDeletedWhenTheIndexesListTheLostRows() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        // An unreconciled payment whose invoices lie well before it, on other pages than its own.
        let (payment, splits, applications) = try CompanyFile.read(path) { db in
            let payment = try Damage.one(
                db,
                """
                SELECT payment_id FROM applications a
                WHERE NOT EXISTS (SELECT 1 FROM splits s WHERE s.transaction_id = a.payment_id AND s.reconciliation_id IS NOT NULL)
                GROUP BY payment_id HAVING MAX(document_id) < payment_id - 200
                ORDER BY payment_id LIMIT 1 OFFSET 10
                """)
            return (
                payment,
                try Damage.all(db, "SELECT id FROM splits WHERE transaction_id = ? ORDER BY id", [payment]),
                try Damage.all(db, "SELECT id FROM applications WHERE payment_id = ? ORDER BY id", [payment])
            )
        }
        let firstSplit = try #require(splits.first)
        let firstApplication = try #require(applications.first)
        try remove([payment], from: path)
        let before = try digest(path)
        let accounts = try balances(path, of: "accounts")
        let parties = try balances(path, of: "parties")
        let pages = [
            try leaf(path, of: "transactions", spanning: payment).page,
            try leaf(path, of: "splits", spanning: firstSplit).page,
            try leaf(path, of: "applications", spanning: firstApplication).page,
        ]
        for page in pages { try Damage.scribble(on: path, page: page, byte: 0x00) }

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.snapshot != nil)
        #expect(damage.changedSince.values.allSatisfy { $0 == 0 })
        #expect(damage.restoredUnlisted == [:])
        #expect(damage.loss.allSatisfy { $0.lost == 0 && $0.exact && $0.fromIndexes == 0 }, "\(damage.loss)")
        #expect(report.exitStatus == 0)
        let back = try CompanyFile.read(path) { db in
            [
                try Damage.all(db, "SELECT id FROM transactions WHERE id = ?", [payment]),
                try Damage.all(db, "SELECT id FROM splits WHERE transaction_id = ?", [payment]),
                try Damage.all(db, "SELECT id FROM applications WHERE payment_id = ?", [payment]),
            ]
        }
        #expect(back == [[], [], []])
        #expect(try balances(path, of: "accounts") == accounts)
        #expect(try balances(path, of: "parties") == parties)
        #expect(try digest(path) == before)
    }

    /// The reviewer's case: two lines of an invoice that cancel out, deleted
    /// after the snapshot (the invoice's `modified_at` says so), then the
    /// lines' leaf and the invoice's header leaf zeroed. The header comes back
    /// from the indexes, so nothing in the file shows the edit: the lines come
    /// back on the snapshot's word alone, and a person is asked to check them.
    @Test func linesOfAHeaderRebuiltFromIndexesComeBackOnlyOnTheSnapshotsWord() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        let invoice = try CompanyFile.read(path) { db in
            try Damage.one(
                db,
                """
                SELECT l.transaction_id FROM document_lines l JOIN transactions t ON t.id = l.transaction_id
                WHERE t.kind = 'invoice' ORDER BY l.transaction_id LIMIT 1 OFFSET 300
                """)
        }
        try Damage.apply(to: path) { db in
            try db.execute(
                sql: """
                    INSERT INTO document_lines (transaction_id, item_id, description, amount)
                    VALUES (?, NULL, 'Credit', 2500), (?, NULL, 'Credit taken back', -2500)
                    """, arguments: [invoice, invoice])
        }
        let added = try CompanyFile.read(path) { db in
            try Damage.all(
                db, "SELECT id FROM document_lines WHERE transaction_id = ? AND description LIKE 'Credit%' ORDER BY id",
                [invoice])
        }
        #expect(added.count == 2)
        let taken = Date()
        _ = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, now: taken), into: SnapshotStore.open(backups))
        let lines = try leaf(path, of: "document_lines", spanning: added[0]).page
        let header = try leaf(path, of: "transactions", spanning: invoice).page
        try Damage.apply(to: path) { db in
            try db.execute(sql: "DELETE FROM document_lines WHERE id IN (?, ?)", arguments: [added[0], added[1]])
            try db.execute(
                sql: "UPDATE transactions SET modified_at = ? WHERE id = ?",
                arguments: [Timestamp.string(from: taken + 60), invoice])
        }
        try Damage.scribble(on: path, page: lines, byte: 0x00)
        try Damage.scribble(on: path, page: header, byte: 0x00)

        let report = try rebuild(path, now: taken + 120)
        let damage = try #require(report.damage)
        #expect(damage.snapshot != nil)
        let back = try CompanyFile.read(path) { db in
            try Damage.all(db, "SELECT id FROM document_lines WHERE id IN (?, ?)", [added[0], added[1]])
        }
        #expect(back == added, "the snapshot's word brought them back")
        #expect(damage.restoredUnlisted["document_lines"] == 2, "\(damage.restoredUnlisted)")
        #expect(report.exitStatus == 1)
    }

    /// Transactions undone after the snapshot (the newest clean one holds
    /// them), then the last pages of transactions and splits lost: the indexes
    /// show the file no longer had them, so they do not come back.
    @Test func transactionsUndoneSinceTheSnapshotDoNotComeBackFromItsLastPages() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        // The last 20 unreconciled transactions that no document or application ties to another.
        let undone = try CompanyFile.read(path) { db in
            try Damage.all(
                db,
                """
                SELECT id FROM transactions t
                WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.transaction_id = t.id)
                  AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.payment_id = t.id OR a.document_id = t.id)
                  AND NOT EXISTS (SELECT 1 FROM splits s WHERE s.transaction_id = t.id AND s.reconciliation_id IS NOT NULL)
                ORDER BY id DESC LIMIT 20
                """)
        }
        #expect(undone.count == 20)
        try remove(undone, from: path)
        let before = try digest(path)
        let accounts = try balances(path, of: "accounts")
        let last = try CompanyFile.read(path) { db in
            (
                transaction: try Damage.one(db, "SELECT MAX(id) FROM transactions"),
                split: try Damage.one(db, "SELECT MAX(id) FROM splits")
            )
        }
        let transactions = try leaf(path, of: "transactions", spanning: last.transaction)
        let splits = try leaf(path, of: "splits", spanning: last.split)
        // Some of the undone ones lie past the last rowid the file keeps readable.
        let readable = try #require(transactions.rows.min())
        #expect(undone.contains { $0 > readable })
        try Damage.scribble(on: path, page: transactions.page, byte: 0x00)
        try Damage.scribble(on: path, page: splits.page, byte: 0x00)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.snapshot != nil)
        #expect(damage.restoredUnlisted == [:])
        #expect(damage.loss.allSatisfy { $0.lost == 0 && $0.exact && $0.fromIndexes == 0 }, "\(damage.loss)")
        #expect(report.exitStatus == 0)
        let list = undone.map(String.init).joined(separator: ", ")
        let back = try CompanyFile.read(path) { db in
            [
                try Damage.all(db, "SELECT id FROM transactions WHERE id IN (\(list))"),
                try Damage.all(db, "SELECT id FROM splits WHERE transaction_id IN (\(list))"),
            ]
        }
        #expect(back == [[], []])
        #expect(try balances(path, of: "accounts") == accounts)
        #expect(try digest(path) == before)
    }

    @Test func withoutASnapshotSurvivingBalancesAreKeptByOneJournal() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        let accounts = try balances(path, of: "accounts")
        let parties = try balances(path, of: "parties")
        let (page, rows) = try leaf(path, of: "splits", offset: 2)
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.snapshot == nil)
        #expect(
            damage.loss.first { $0.table == "splits" }
                == TableLoss(
                    table: "splits", lost: rows.count, exact: true, why: nil,
                    fromSnapshot: 0, fromIndexes: 0))
        #expect(!damage.keptBalances.isEmpty)
        #expect(report.exitStatus == 1)
        // Every account and name shows, to the cent, what it showed before the damage (Rebuild Suspense aside).
        let after = try balances(path, of: "accounts")
        for (id, balance) in accounts { #expect(after[id] == balance, "account \(id)") }
        #expect(try balances(path, of: "parties") == parties)
        try CompanyFile.read(path) { db in
            let journals = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM transactions WHERE memo LIKE 'Lost in damage (rebuild run %'")
            #expect(journals == 1)
            #expect(try Int64.fetchOne(db, sql: "SELECT SUM(amount) FROM splits") == 0)
        }
        #expect(try Verifier.verify(path: path).findings.filter(\.repairable) == [])
    }

    /// A leaf of transactions lost with every page of their indexes, no
    /// snapshot: no header can be rebuilt from the indexes, yet the invoices'
    /// and bills' headers, lines and applications and the bank lines matched
    /// to them survived. A row that survived is never deleted because rows it
    /// depends on were lost (SPEC §3): each header is made again with its own
    /// id and the kind its rows show, and every surviving row keeps its link.
    /// With a clean snapshot, each comes back from it exactly.
    @Test(arguments: [false, true])
    func headersLostWithTheirIndexesAreMadeAgainForTheRowsThatNameThem(withSnapshot: Bool) throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        if withSnapshot {
            _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        }
        let whole = try digest(path)
        let pages = try DatabaseQueue(path: path).read { db in
            try Int.fetchAll(
                db,
                sql:
                    "SELECT pageno FROM dbstat WHERE name IN ('transactions_date', 'transactions_party') ORDER BY pageno"
            )
        }
        // The leaf whose transactions most other rows name.
        let leaves = try DatabaseQueue(path: path).read { db in
            try Int.fetchAll(
                db, sql: "SELECT pageno FROM dbstat WHERE name = 'transactions' AND pagetype = 'leaf' ORDER BY pageno")
        }
        let file = try PageFile(path: path)
        func named(_ ids: [Int64]) throws -> Int {
            let list = ids.map(String.init).joined(separator: ",")
            return try DatabaseQueue(path: path).read { db in
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT (SELECT COUNT(*) FROM documents WHERE transaction_id IN (\(list)))
                             + (SELECT COUNT(*) FROM applications WHERE payment_id IN (\(list)) OR document_id IN (\(list)))
                        """) ?? 0
            }
        }
        var chosen: (page: Int, rows: [Int64])?
        for number in leaves.dropFirst().dropLast() {
            let rows = try #require(file.page(number).flatMap { file.rows(ofLeaf: $0) }).map(\.rowid)
            if try named(rows) > (try chosen.map { try named($0.rows) } ?? 0) { chosen = (number, rows) }
        }
        let (leaf, lost) = try #require(chosen)
        let list = lost.map(String.init).joined(separator: ",")
        let before = try DatabaseQueue(path: path).read { db in
            (
                kinds: try Row.fetchAll(
                    db, sql: "SELECT id, kind FROM transactions WHERE id IN (\(list)) ORDER BY id"
                ).map { ($0["id"] as Int64, $0["kind"] as String) },
                documents: try Row.fetchAll(
                    db, sql: "SELECT * FROM documents WHERE transaction_id IN (\(list)) ORDER BY 1"),
                lines: try Row.fetchAll(
                    db, sql: "SELECT * FROM document_lines WHERE transaction_id IN (\(list)) ORDER BY id"),
                applications: try Row.fetchAll(
                    db,
                    sql:
                        "SELECT * FROM applications WHERE payment_id IN (\(list)) OR document_id IN (\(list)) ORDER BY id"
                ),
                feed: try Row.fetchAll(
                    db,
                    sql:
                        "SELECT id, status, transaction_id FROM bank_feed WHERE transaction_id IN (\(list)) ORDER BY id"
                )
            )
        }
        #expect(before.documents.count >= 3 && before.applications.count >= 1, "\(before.documents.count)")
        for page in [leaf] + pages { try Damage.scribble(on: path, page: page, byte: 0x00) }

        let report = try rebuild(path)
        let salvaged = try #require(report.salvage?.first { $0.table == "transactions" })
        #expect(salvaged.note?.contains("made again with the ids their other rows name") == true, "\(salvaged)")
        if withSnapshot {
            #expect(try digest(path) == whole)
            #expect(report.damage?.loss.first { $0.table == "transactions" }?.fromSnapshot == lost.count)
            #expect(report.exitStatus == 0, "\(String(describing: report.damage?.loss))")
        } else {
            #expect(report.exitStatus == 1)
        }
        try CompanyFile.read(path) { db in
            // Each surviving row is there as it was, its links whole.
            #expect(
                try Row.fetchAll(db, sql: "SELECT * FROM documents WHERE transaction_id IN (\(list)) ORDER BY 1").map {
                    $0["transaction_id"] as Int64
                } == before.documents.map { $0["transaction_id"] as Int64 })
            #expect(
                try Row.fetchAll(db, sql: "SELECT * FROM document_lines WHERE transaction_id IN (\(list)) ORDER BY id")
                    == before.lines)
            #expect(
                try Row.fetchAll(
                    db,
                    sql:
                        "SELECT * FROM applications WHERE payment_id IN (\(list)) OR document_id IN (\(list)) ORDER BY id"
                )
                    == before.applications)
            #expect(
                try Row.fetchAll(
                    db,
                    sql:
                        "SELECT id, status, transaction_id FROM bank_feed WHERE transaction_id IN (\(list)) ORDER BY id"
                )
                    == before.feed)
            // The headers of invoices, bills and payments are back under their ids, of their kinds.
            let kinds = Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(
                    db, sql: "SELECT id, kind FROM transactions WHERE id IN (\(list))"
                ).map { ($0["id"] as Int64, $0["kind"] as String) })
            for (id, kind) in before.kinds where ["invoice", "bill", "payment", "bill_payment"].contains(kind) {
                #expect(kinds[id] == kind, "transaction \(id)")
            }
            #expect(try Int64.fetchOne(db, sql: "SELECT SUM(amount) FROM splits") == 0)
        }
        #expect(try Verifier.verify(path: path).findings.filter(\.repairable) == [])
    }

    /// A bill made again with neither its payable line nor a party to tell
    /// its side (both lost): its expense lines say bill. Before, a header with
    /// no payable line was taken for an invoice, and its costs for income.
    @Test func aBillMadeAgainWithoutItsPayableLineStaysABill() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        let leaves = try DatabaseQueue(path: path).read { db in
            try Int.fetchAll(
                db, sql: "SELECT pageno FROM dbstat WHERE name = 'transactions' AND pagetype = 'leaf' ORDER BY pageno")
        }
        let file = try PageFile(path: path)
        var found: (bill: Int64, leaf: Int)?
        for number in leaves.dropFirst() where found == nil {
            let rows = try #require(file.page(number).flatMap { file.rows(ofLeaf: $0) }).map(\.rowid)
            let list = rows.map(String.init).joined(separator: ",")
            let bill = try DatabaseQueue(path: path).read { db in
                try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT t.id FROM transactions t WHERE t.kind = 'bill' AND t.id IN (\(list))
                          AND EXISTS (SELECT 1 FROM splits s JOIN accounts a ON a.id = s.account_id
                                      WHERE s.transaction_id = t.id AND a.type IN ('expense', 'cost_of_goods_sold'))
                        ORDER BY t.id LIMIT 1
                        """)
            }
            if let bill { found = (bill, number) }
        }
        let (bill, leaf) = try #require(found)
        // Its payable line and its payments lost before (as another page's damage would take them).
        try Damage.apply(to: path) { db in
            try db.execute(
                sql: """
                    DELETE FROM splits WHERE transaction_id = ?
                      AND account_id IN (SELECT id FROM accounts WHERE type = 'accounts_payable')
                    """, arguments: [bill])
            try db.execute(sql: "DELETE FROM applications WHERE document_id = ?", arguments: [bill])
        }
        let indexes = try DatabaseQueue(path: path).read { db in
            try Int.fetchAll(
                db, sql: "SELECT pageno FROM dbstat WHERE name IN ('transactions_date', 'transactions_party')")
        }
        for page in [leaf] + indexes { try Damage.scribble(on: path, page: page, byte: 0x00) }

        let report = try rebuild(path)
        #expect(report.exitStatus == 1)
        try CompanyFile.read(path) { db in
            let kind = try String.fetchOne(db, sql: "SELECT kind FROM transactions WHERE id = ?", arguments: [bill])
            #expect(kind == "bill")
        }
    }

    /// A check deleted by another program, its matched bank line left behind,
    /// then a leaf of transactions around it lost with the indexes intact:
    /// they list every row the leaf held, and not the check, so no header is
    /// made for the bank line (no money posted for it): it is unmatched, as
    /// without the damage.
    @Test func aHeaderTheIndexesDoNotNameIsNotMadeAgainForItsBankLine() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        let (check, line) = try Damage.apply(to: path) { db -> (Int64, Int64) in
            let row = try #require(
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT t.id, f.id AS line FROM transactions t JOIN bank_feed f ON f.transaction_id = t.id
                        WHERE t.kind = 'check' AND f.status = 'matched' ORDER BY t.id LIMIT 1 OFFSET 20
                        """))
            let check: Int64 = row["id"]
            try db.execute(sql: "DELETE FROM splits WHERE transaction_id = ?", arguments: [check])
            try db.execute(sql: "DELETE FROM transactions WHERE id = ?", arguments: [check])
            return (check, row["line"] as Int64)
        }
        let pages = try DatabaseQueue(path: path).read { db in
            try Int.fetchAll(
                db, sql: "SELECT pageno FROM dbstat WHERE name = 'transactions' AND pagetype = 'leaf' ORDER BY pageno")
        }
        let file = try PageFile(path: path)
        let leaf = try #require(
            pages.first { number in
                let rows = file.page(number).flatMap { file.rows(ofLeaf: $0) }?.map(\.rowid) ?? []
                return (rows.min() ?? .max) < check && check < (rows.max() ?? .min)
            })
        try Damage.scribble(on: path, page: leaf, byte: 0x00)

        let report = try rebuild(path)
        let salvaged = try #require(report.salvage?.first { $0.table == "transactions" })
        #expect(salvaged.note?.contains("made again") != true, "\(salvaged)")
        try CompanyFile.read(path) { db in
            #expect(
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM transactions WHERE id = ?", arguments: [check]) == 0)
            let feed = try #require(
                try Row.fetchOne(
                    db, sql: "SELECT status, transaction_id FROM bank_feed WHERE id = ?", arguments: [line]))
            #expect(feed["status"] == "new")
            #expect((feed["transaction_id"] as Int64?) == nil)
        }
    }

    /// The last transaction loses every line and has nothing to rebuild them
    /// from, so a repair deletes it; the "Lost in damage" journal then takes its
    /// id. It is still counted as lost.
    @Test func aTransactionDeletedByARepairIsCountedThoughTheJournalTookItsID() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        let journal = try Damage.apply(to: path) { db -> Int64 in
            let expense = try Damage.one(db, "SELECT id FROM accounts WHERE type = 'expense' ORDER BY id LIMIT 1")
            let equity = try Damage.one(db, "SELECT id FROM accounts WHERE type = 'equity' ORDER BY id LIMIT 1")
            try db.execute(
                sql: """
                    INSERT INTO transactions (kind, date, number, party_id, memo, created_at, modified_at)
                    VALUES ('journal', '2024-12-31', NULL, NULL, 'Year-end accrual', '2025-01-02T09:00:00Z', '2025-01-02T09:00:00Z')
                    """)
            let journal = db.lastInsertedRowID
            try db.execute(
                sql: """
                    INSERT INTO splits (transaction_id, account_id, amount, cleared) VALUES (?1, ?2, 12345, 'n'), (?1, ?3, -12345, 'n')
                    """, arguments: [journal, expense, equity])
            try db.execute(sql: "UPDATE accounts SET balance = balance + 12345 WHERE id = ?", arguments: [expense])
            try db.execute(sql: "UPDATE accounts SET balance = balance - 12345 WHERE id = ?", arguments: [equity])
            return journal
        }
        #expect(try Verifier.verify(path: path).ok)
        let before = try CompanyFile.read(path) { db in try Damage.all(db, "SELECT id FROM transactions") }
        let lines = try CompanyFile.read(path) { db in
            try Damage.all(db, "SELECT id FROM splits WHERE transaction_id = ?", [journal])
        }
        let page = try leaf(path, of: "splits", spanning: try #require(lines.first)).page
        #expect(try leaf(path, of: "splits", spanning: try #require(lines.last)).page == page)
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        let (now, taken) = try CompanyFile.read(path) { db in
            (
                Set(try Damage.all(db, "SELECT id FROM transactions")),
                try Damage.all(
                    db, "SELECT id FROM transactions WHERE memo LIKE 'Lost in damage (rebuild run %' ORDER BY id")
            )
        }
        // The journal of kept balances holds the id of the deleted one.
        #expect(taken == [journal])
        let gone = before.filter { !now.contains($0) }.count + taken.filter(before.contains).count
        #expect(gone >= 1)
        #expect(damage.loss.first { $0.table == "transactions" }?.lost == gone)
        #expect(report.exitStatus == 1)
    }

    @Test func rowsReadFromADamagedPageAreListedOrSetBackFromTheSnapshot() throws {
        for withSnapshot in [false, true] {
            let name = withSnapshot ? "with.db" : "without.db"
            let path = try Damage.sample(in: folder, name: name, transactions: 800)
            if withSnapshot {
                _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
            }
            let (page, rows) = try leaf(path, of: "splits", offset: 2)
            let amount = try CompanyFile.read(path) {
                try Int64.fetchOne($0, sql: "SELECT amount FROM splits WHERE id = ?", arguments: [rows[0]])
            }
            // The page's free-space pointer is wrecked (SQLite's check names the page) and a value on it changed.
            try Damage.apply(to: path) { db in
                try db.execute(sql: "UPDATE splits SET amount = amount + 1 WHERE id = ?", arguments: [rows[0]])
            }
            let first = try Damage.read(path, at: (page - 1) * 4096 + 1, 1)
            try Damage.write(path, at: (page - 1) * 4096 + 1, [first[0] ^ 0x40])
            #expect(DamagedPages.Check(path: path).pagesNamed.contains(page))

            let report = try rebuild(path)
            let damage = try #require(report.damage)
            if withSnapshot {
                #expect(damage.unconfirmed == [])
                #expect(damage.replaced == ["splits": 1])
                let read = try #require(amount)
                // A value replaced is never silent: named, as read and as now, and the exit status is 1.
                #expect(
                    damage.replacedValues == [
                        ReplacedValue(
                            table: "splits", rowID: rows[0], column: "amount",
                            old: Money(cents: read + 1).description, new: Money(cents: read).description)
                    ])
                #expect(!report.isComplete)
                #expect(report.exitStatus == 1)
                #expect(
                    try CompanyFile.read(path) {
                        try Int64.fetchOne($0, sql: "SELECT amount FROM splits WHERE id = ?", arguments: [rows[0]])
                    } == amount)
            } else {
                #expect(Set(damage.unconfirmed.map(\.rowID)) == Set(rows))
                #expect(report.exitStatus == 1)
            }
        }
    }

    /// A charge edited after the snapshot, its header and lines on pages whose
    /// header SQLite's check faults while every row on them is whole: the header's
    /// `modified_at` shows the change, so the rows are kept as read, not set back
    /// to the snapshot's amounts, and listed for a person.
    @Test func rowsOnADamagedPageThatChangedSinceTheSnapshotKeepTheirValues() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        // Two lines, neither receivable nor payable, unreconciled, no document, no bank line.
        let (charge, lines) = try CompanyFile.read(path) { db in
            let charge = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t
                WHERE (SELECT COUNT(*) FROM splits s WHERE s.transaction_id = t.id) = 2
                  AND NOT EXISTS (SELECT 1 FROM splits s JOIN accounts a ON a.id = s.account_id WHERE s.transaction_id = t.id
                                  AND (a.type IN ('accounts_receivable', 'accounts_payable') OR s.reconciliation_id IS NOT NULL))
                  AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.transaction_id = t.id)
                  AND NOT EXISTS (SELECT 1 FROM bank_feed f WHERE f.transaction_id = t.id)
                ORDER BY t.id LIMIT 1 OFFSET 60
                """)
            return (charge, try Damage.all(db, "SELECT id FROM splits WHERE transaction_id = ? ORDER BY id", [charge]))
        }
        let edited = Timestamp.string(from: Date())
        try Damage.apply(to: path) { db in
            try db.execute(
                sql: """
                    UPDATE accounts SET balance = balance + (SELECT SIGN(amount) * 10000 FROM splits WHERE id = ?) WHERE id = (SELECT account_id FROM splits WHERE id = ?);
                    UPDATE accounts SET balance = balance + (SELECT SIGN(amount) * 10000 FROM splits WHERE id = ?) WHERE id = (SELECT account_id FROM splits WHERE id = ?);
                    UPDATE splits SET amount = amount + SIGN(amount) * 10000 WHERE id IN (?, ?);
                    UPDATE transactions SET modified_at = ? WHERE id = ?;
                    """, arguments: [lines[0], lines[0], lines[1], lines[1], lines[0], lines[1], edited, charge])
        }
        #expect(try Verifier.verify(path: path).ok)
        let before = try digest(path)
        let accounts = try balances(path, of: "accounts")
        let amounts = try CompanyFile.read(path) { db in
            try Damage.all(db, "SELECT amount FROM splits WHERE transaction_id = ? ORDER BY id", [charge])
        }
        let pages = Set([
            try leaf(path, of: "transactions", spanning: charge).page,
            try leaf(path, of: "splits", spanning: lines[0]).page,
            try leaf(path, of: "splits", spanning: lines[1]).page,
        ])
        for page in pages {
            // The count of fragmented free bytes in the page's header: no row on the page changes.
            let count = try Damage.read(path, at: (page - 1) * 4096 + 7, 1)
            try Damage.write(path, at: (page - 1) * 4096 + 7, [count[0] &+ 1])
        }
        #expect(pages.isSubset(of: DamagedPages.Check(path: path).pagesNamed))

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.replaced == [:])
        #expect(damage.replacedValues == [])
        #expect(
            damage.unconfirmed
                == lines.map { DoubtfulRow(table: "splits", rowID: $0) } + [
                    DoubtfulRow(table: "transactions", rowID: charge)
                ])
        #expect(report.exitStatus == 1)
        let after = try CompanyFile.read(path) { db in
            (
                amounts: try Damage.all(db, "SELECT amount FROM splits WHERE transaction_id = ? ORDER BY id", [charge]),
                modified: try String.fetchOne(
                    db, sql: "SELECT modified_at FROM transactions WHERE id = ?", arguments: [charge])
            )
        }
        #expect(after.amounts == amounts)
        #expect(after.modified == edited)
        #expect(try balances(path, of: "accounts") == accounts)
        #expect(try digest(path) == before)
    }

    @Test func onlyCleanSnapshotsOfThisFileTakenBeforeNowAreUsed() throws {
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 600)
        let other = try Damage.sample(in: folder, name: "zimmer.db", transactions: 600, seed: 9)
        let now = Date()
        // Another company's, a future-dated one, one with findings: none of them is the last good copy.
        _ = try SnapshotWriter.take(
            SnapshotRequest(of: other, kind: .manual, now: now.addingTimeInterval(-60)),
            into: SnapshotStore.open(backups))
        _ = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, now: now.addingTimeInterval(86_400)),
            into: SnapshotStore.open(backups))
        try Damage.apply(to: path) { db in try db.execute(sql: "UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        }
        _ = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, now: now.addingTimeInterval(-30)),
            into: SnapshotStore.open(backups))
        let (page, _) = try leaf(path, of: "splits", offset: 1)
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let report = try rebuild(path, now: now)
        let damage = try #require(report.damage, "the zeroed page sends the rebuild to salvage")
        #expect(damage.snapshot == nil)
        #expect(damage.restored == [:])
    }

    /// A company file named `books.db` in the folder `sub` of the test's folder
    /// (nil: the test's folder itself, beside `backups`).
    private func company(
        _ sub: String?, name: String, seed: UInt64, firstDay: CivilDate = CivilDate(dayNumber: 19_358)
    ) throws -> String {
        guard let sub else { return try company(in: folder.path, name: name, seed: seed, firstDay: firstDay) }
        try FileManager.default.createDirectory(atPath: folder.file(sub), withIntermediateDirectories: true)
        return try company(in: folder.file(sub), name: name, seed: seed, firstDay: firstDay)
    }

    private func company(in place: String, name: String, seed: UInt64, firstDay: CivilDate) throws -> String {
        let path = place + "/books.db"
        _ = try SampleCompany.generate(
            at: path, options: SampleOptions(transactions: 600, seed: seed, name: name, firstDay: firstDay))
        return path
    }

    /// Zeroes a leaf of splits and one of bank_feed; returns the splits' rowids lost.
    private func zeroSplitsAndFeed(of path: String) throws -> [Int64] {
        let (splits, lost) = try leaf(path, of: "splits", offset: 2)
        let (feed, _) = try leaf(path, of: "bank_feed", offset: 1)
        try Damage.scribble(on: path, page: splits, byte: 0x00)
        try Damage.scribble(on: path, page: feed, byte: 0x00)
        return lost
    }

    /// Two companies keep `books.db` and back up to one folder: the damaged one's
    /// rows come back from its own snapshot, not from the newer ones of the others
    /// (one named otherwise, one of the same name created another day).
    @Test func rowsComeBackOnlyFromASnapshotOfTheSameCompany() throws {
        let path = try company(nil, name: "Sample Company", seed: 1)
        let other = try company("b", name: "Other Co", seed: 2)
        let namesake = try company("c", name: "Sample Company", seed: 3, firstDay: CivilDate(dayNumber: 19_723))
        let now = Date()
        let own = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, now: now.addingTimeInterval(-60)),
            into: SnapshotStore.open(backups))
        for (file, age) in [(namesake, -40.0), (other, -20.0)] {
            _ = try SnapshotWriter.take(
                SnapshotRequest(of: file, kind: .manual, now: now.addingTimeInterval(age)),
                into: SnapshotStore.open(backups))
        }
        let before = try rows(path)
        _ = try zeroSplitsAndFeed(of: path)

        let report = try rebuild(path, now: now)
        let damage = try #require(report.damage)
        #expect(damage.snapshot == own.path)
        #expect(
            damage.notes == [
                "1 clean snapshot named books.db holds another company, Other Co, not Sample Company (created 2023-01-01T09:00:00Z): passed over",
                "1 clean snapshot named books.db holds another company, Sample Company (created 2024-01-01T09:00:00Z), not Sample Company (created 2023-01-01T09:00:00Z): passed over",
            ])
        #expect(try rows(path) == before)
        #expect(report.exitStatus == 0)
    }

    /// Rebuilds `path` and expects no snapshot used, nothing restored, and `note` the one note.
    private func rebuiltWithNoSnapshot(_ path: String, note: String) throws -> (RebuildReport, DamageOutcome) {
        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.snapshot == nil)
        #expect(damage.restored == [:])
        #expect(damage.notes == [note])
        return (report, damage)
    }

    /// With only another company's snapshot of the same file name, none of its
    /// rows enters the books: the loss is counted, and the exit status says so.
    @Test func anotherCompanysSnapshotNeverFillsTheGaps() throws {
        let path = try company(nil, name: "Sample Company", seed: 1)
        let other = try company("b", name: "Other Co", seed: 2)
        _ = try SnapshotWriter.take(SnapshotRequest(of: other, kind: .manual), into: SnapshotStore.open(backups))
        let before = try rows(path)
        let theirs = try rows(other)
        let lost = try zeroSplitsAndFeed(of: path)

        let (report, damage) = try rebuiltWithNoSnapshot(
            path,
            note:
                "1 clean snapshot named books.db holds another company, Other Co, not Sample Company (created 2023-01-01T09:00:00Z): passed over"
        )
        #expect(
            damage.loss.first { $0.table == "splits" }
                == TableLoss(table: "splits", lost: lost.count, exact: true, why: nil, fromSnapshot: 0, fromIndexes: 0))
        #expect(report.exitStatus == 1)
        let after = try rows(path)
        #expect(Set((after["splits"] ?? [:]).keys).isDisjoint(with: lost))
        for (table, rebuilt) in after {
            let taken = rebuilt.filter { id, content in
                content != before[table]?[id] && content == theirs[table]?[id]
            }
            #expect(taken.isEmpty, "\(table): \(taken.keys.sorted()) are the other company's")
        }
    }

    /// Writes page `from` of the file over page `to`: one page written in the wrong place.
    private func misdirect(_ path: String, page from: Int, over to: Int) throws {
        try Damage.write(path, at: (to - 1) * 4096, Damage.read(path, at: (from - 1) * 4096, 4096))
    }

    /// The splits table's root page overwritten by one of its own leaves reads as a
    /// table of that leaf's rows, with no error: the indexes still name every split,
    /// so the rest are known missing, and the leaves the root no longer leads to
    /// give them back, every one, snapshot or not.
    @Test(arguments: [true, false])
    func aRootOverwrittenByItsOwnLeafLosesNoSplit(withSnapshot: Bool) throws {
        let path = try company(nil, name: "Sample Company", seed: 1)
        if withSnapshot {
            _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        }
        let before = try rows(path)
        let root = try Damage.rootPage(of: "splits", in: path)
        let (page, _) = try leaf(path, of: "splits", offset: 2)
        try misdirect(path, page: page, over: root)

        let report = try rebuild(path)
        let salvaged = try #require(report.salvage?.first { $0.table == "splits" })
        #expect(salvaged.lost == 0 && salvaged.recovered == before["splits"]?.count, "\(salvaged)")
        #expect(salvaged.note?.contains("rows were read from pages its b-tree no longer leads to") == true)
        #expect(try rows(path) == before)
        #expect(report.lostRows == 0)
        #expect(report.exitStatus == 0, "\(String(describing: report.damage))")
    }

    /// A leaf of splits written over the last leaf of transactions reads as
    /// transactions with no error (SQLite's check says NUMERIC values in text
    /// columns): no index of transactions names those rows, so none is taken as
    /// a transaction or counted as lost; the transactions its page held come back
    /// from the snapshot, or, without one, from the indexes, and the loss is told.
    @Test(arguments: [true, false])
    func anotherTablesPageReadWithoutAnErrorIsNotTakenForRows(withSnapshot: Bool) throws {
        let path = try company(nil, name: "Sample Company", seed: 1)
        if withSnapshot {
            _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        }
        let before = try rows(path)
        let last = try #require(
            try DatabaseQueue(path: path).read { db in
                try Int.fetchOne(
                    db,
                    sql:
                        "SELECT pageno FROM dbstat WHERE name = 'transactions' AND pagetype = 'leaf' ORDER BY path DESC LIMIT 1"
                )
            })
        let file = try PageFile(path: path)
        let held = try #require(file.page(last).flatMap { file.rows(ofLeaf: $0) }).map(\.rowid)
        let (splits, _) = try leaf(path, of: "splits", offset: 4)
        try misdirect(path, page: splits, over: last)
        #expect(Rebuilder.showsDamage(path))

        let report = try rebuild(path)
        let after = try rows(path)
        #expect(Set((after["transactions"] ?? [:]).keys) == Set((before["transactions"] ?? [:]).keys))
        if withSnapshot {
            #expect(after == before)
            #expect(report.exitStatus == 0)
        } else {
            let salvaged = try #require(report.salvage?.first { $0.table == "transactions" })
            #expect(salvaged.fromIndexes == held.count)
            #expect(report.exitStatus == 1)
            #expect(!report.isComplete)
        }
    }

    /// With the list of tables and the freelist's trunk both gone, a free page
    /// cannot be told from a live leaf no root reaches: rows deleted before the
    /// damage would come back as live. Every row read from such a page is in
    /// doubt, listed for a person, and the exit status says so.
    @Test func rowsOfPagesThatMayBeFreeAreInDoubtWhenTheFreelistIsLost() throws {
        let path = try company(nil, name: "Sample Company", seed: 1)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            try db.execute(sql: "DELETE FROM splits WHERE transaction_id BETWEEN 200 AND 300")
            try db.execute(sql: "DELETE FROM transactions WHERE id BETWEEN 200 AND 300")
        }
        let (schemaLeaves, trunk) = try DatabaseQueue(path: path).read { db in
            (
                try Int.fetchAll(
                    db, sql: "SELECT pageno FROM dbstat WHERE name = 'sqlite_schema' AND pagetype = 'leaf'"),
                try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            )
        }
        #expect(!schemaLeaves.isEmpty && trunk > 1)
        let first = Int(PageFile.uint32(try Damage.read(path, at: 0, 100), 32))
        for page in schemaLeaves + [first] where page > 1 { try Damage.scribble(on: path, page: page, byte: 0x00) }

        let report = try rebuild(path)
        let (back, madeAgain) = try CompanyFile.read(path) { db in
            (
                try Int64.fetchAll(db, sql: "SELECT id FROM transactions WHERE id BETWEEN 200 AND 300"),
                Set(
                    try Int64.fetchAll(
                        db, sql: "SELECT id FROM transactions WHERE id BETWEEN 200 AND 300 AND memo LIKE ?",
                        arguments: [Salvage.fromReferencesMemo + "%"]))
            )
        }
        let doubted = Set((report.damage?.unconfirmed ?? []).filter { $0.table == "transactions" }.map(\.rowID))
        // Some deleted transactions come back from their free pages: never as if they were live. (The
        // test deleted them without their invoices' headers and payments: those that name one have it
        // made again, counted with the rows rebuilt with fields missing.)
        #expect(!back.isEmpty)
        #expect(Set(back).subtracting(madeAgain).isSubset(of: doubted), "\(Set(back).subtracting(doubted).sorted())")
        #expect(report.rebuiltFromIndexes >= madeAgain.count)
        #expect(report.exitStatus == 1)
    }

    /// A table's root page lost, every leaf below it intact and no snapshot:
    /// SQLite can reach none of the leaves ("Page N is never used"), and
    /// salvage reads them page by page, so every row comes back as it was.
    @Test(arguments: ["splits", "transactions"])
    func leavesBelowALostRootGiveBackEveryRow(table: String) throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        let before = try digest(path)
        let page = try Damage.rootPage(of: table, in: path)
        let interior = try DatabaseQueue(path: path).read { db in
            try String.fetchOne(db, sql: "SELECT pagetype FROM dbstat WHERE pageno = ?", arguments: [page])
        }
        #expect(interior == "internal")
        try Damage.scribble(on: path, page: page, byte: 0x00)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.snapshot == nil)
        #expect(damage.loss.allSatisfy { $0.lost == 0 && $0.exact })
        let salvaged = try #require(report.salvage?.first { $0.table == table })
        #expect(salvaged.note?.contains("rows were read from pages its b-tree no longer leads to") == true)
        #expect(report.exitStatus == 0)
        #expect(try digest(path) == before)
    }

    /// The transactions' root page and its last leaf put back as they were
    /// before new checks were added (a crash that wrote every page of the
    /// commit but those two), no snapshot: the b-tree reads whole but stale,
    /// and only its indexes show the new rows missing. Those on the new
    /// leaves, which SQLite no longer reaches, come back as they were; only
    /// those the old leaf took are rebuilt from the indexes.
    @Test func rowsOfLeavesAStaleRootNoLongerReachesComeBackWhole() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        let root = try Damage.rootPage(of: "transactions", in: path)
        func leaves() throws -> [Int: [Int64]] {
            let numbers = try DatabaseQueue(path: path).read { db in
                try Int.fetchAll(
                    db, sql: "SELECT pageno FROM dbstat WHERE name = 'transactions' AND pagetype = 'leaf'")
            }
            let file = try PageFile(path: path)
            var rows: [Int: [Int64]] = [:]
            for number in numbers {
                rows[number] = try #require(file.page(number).flatMap { file.rows(ofLeaf: $0) }).map(\.rowid)
            }
            return rows
        }
        let old = try leaves()
        let last = try #require(old.max { ($0.value.max() ?? 0) < ($1.value.max() ?? 0) }?.key)
        let kept = try [root, last].map { (page: $0, bytes: try Damage.read(path, at: ($0 - 1) * 4096, 4096)) }
        let added = try Damage.apply(to: path) { db -> [Int64] in
            var ids: [Int64] = []
            for number in 1...60 {
                try db.execute(
                    sql: """
                        INSERT INTO transactions (kind, date, number, memo, created_at, modified_at)
                        VALUES ('check', '2026-11-30', ?, ?, '2026-11-30T10:00:00Z', '2026-11-30T10:00:00Z')
                        """,
                    arguments: [
                        "C\(number)",
                        "check written after the last backup, number \(number) " + String(repeating: "x", count: 40),
                    ])
                let id = db.lastInsertedRowID
                try db.execute(
                    sql: "INSERT INTO splits (transaction_id, account_id, amount) VALUES (?, 1, -100), (?, 2, 100)",
                    arguments: [id, id])
                ids.append(id)
            }
            return ids
        }
        let rows = try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM transactions WHERE id >= ? ORDER BY id", arguments: [added[0]])
        }
        let onNewLeaves = try leaves().filter { old[$0.key] == nil }.flatMap(\.value).filter(added.contains)
        #expect(onNewLeaves.count >= 30, "the checks must fill a new leaf: \(onNewLeaves)")
        for page in kept { try Damage.write(path, at: (page.page - 1) * 4096, page.bytes) }

        let report = try rebuild(path)
        let salvaged = try #require(report.salvage?.first { $0.table == "transactions" })
        #expect(salvaged.note?.contains("rows were read from pages its b-tree no longer leads to") == true)
        #expect(salvaged.fromIndexes == added.count - onNewLeaves.count, "\(salvaged)")
        try CompanyFile.read(path) { db in
            for row in rows where onNewLeaves.contains(row["id"]) {
                let now = try Row.fetchOne(
                    db, sql: "SELECT * FROM transactions WHERE id = ?", arguments: [row["id"] as Int64])
                #expect(now == row)
            }
        }
        #expect(report.exitStatus == 1)
    }

    /// A splits leaf whose first 512 bytes (its header, its cell pointers and
    /// the cells below them) are zeroed, no snapshot: SQLite reads none of its
    /// rows, and salvage finds the cells its bytes still hold, as
    /// `sqlite3_recover` does. Each comes back with its values to the cent, but
    /// listed, since a freed cell's bytes look alike: the lines of a
    /// transaction deleted before the damage, whose freed cells lie on the
    /// same page, stay out (no index names them).
    @Test func aLeafWhoseHeaderIsLostGivesBackTheCellsItsBytesHold() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        let (page, rows) = try leaf(path, of: "splits", offset: 5)
        let bytes = try Damage.read(path, at: (page - 1) * 4096, 4096)
        let count = Int(PageFile.uint16(bytes, 3))
        var offsets: [Int64: Int] = [:]
        for (index, rowid) in rows.enumerated() where index < count {
            offsets[rowid] = Int(PageFile.uint16(bytes, 8 + 2 * index))
        }
        // A transaction with a line on this page, deleted (its cells' bytes stay).
        let (journal, deleted) = try Damage.apply(to: path) { db -> (Int64, Set<Int64>) in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            let list = rows.map(String.init).joined(separator: ",")
            let id = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t JOIN splits s ON s.transaction_id = t.id
                WHERE s.id IN (\(list)) AND s.reconciliation_id IS NULL
                  AND NOT EXISTS (SELECT 1 FROM bank_feed b WHERE b.transaction_id = t.id)
                  AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.transaction_id = t.id)
                  AND NOT EXISTS (SELECT 1 FROM applications a WHERE t.id IN (a.payment_id, a.document_id))
                ORDER BY s.id DESC LIMIT 1
                """)
            let lines = try Damage.all(db, "SELECT id FROM splits WHERE transaction_id = ?", [id])
            for sql in [
                """
                UPDATE accounts SET balance = balance
                  - (SELECT COALESCE(SUM(amount), 0) FROM splits WHERE transaction_id = ? AND account_id = accounts.id)
                """,
                """
                UPDATE parties SET balance = balance
                  - (SELECT COALESCE(SUM(s.amount), 0) FROM splits s JOIN accounts a ON a.id = s.account_id
                     WHERE s.transaction_id = ? AND s.party_id = parties.id
                       AND a.type IN ('accounts_receivable', 'accounts_payable'))
                """,
                "DELETE FROM splits WHERE transaction_id = ?",
                "DELETE FROM transactions WHERE id = ?",
            ] {
                try db.execute(sql: sql, arguments: [id])
            }
            return (id, Set(lines).intersection(rows))
        }
        #expect(!deleted.isEmpty)
        let intact = rows.filter { !deleted.contains($0) && offsets[$0, default: 0] >= 512 }
        #expect(intact.count >= 10)
        let before = try splitValues(path, intact)
        try Damage.scribble(on: path, page: page, count: 512, byte: 0x00)

        let report = try rebuild(path)
        #expect(report.damage?.snapshot == nil)
        let salvaged = try #require(report.salvage?.first { $0.table == "splits" })
        #expect(salvaged.note?.contains("read from the bytes of pages whose header was damaged") == true)
        #expect(try splitValues(path, intact) == before)
        let unconfirmed = Set(report.damage?.unconfirmed.filter { $0.table == "splits" }.map(\.rowID) ?? [])
        #expect(Set(intact).isSubset(of: unconfirmed), "\(Set(intact).subtracting(unconfirmed).sorted())")
        let list = deleted.map(String.init).joined(separator: ",")
        let back = try CompanyFile.read(path) { db in
            try Damage.all(
                db, "SELECT id FROM splits WHERE id IN (\(list)) UNION ALL SELECT id FROM transactions WHERE id = ?",
                [journal])
        }
        #expect(back == [])
        #expect(report.exitStatus == 1)
    }

    /// A small table held on its root page alone, that page's header and
    /// cell pointers zeroed, no snapshot: SQLite reads none of the table, and
    /// every row comes back from the page's bytes as it was, listed.
    @Test(arguments: ["accounts", "parties"])
    func aRootLeafWhoseHeaderIsLostGivesBackEveryRow(table: String) throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        let root = try Damage.rootPage(of: table, in: path)
        let file = try PageFile(path: path)
        let rows = try #require(file.page(root).flatMap { file.rows(ofLeaf: $0) })
        let stored = try CompanyFile.read(path) { db in try Damage.one(db, "SELECT COUNT(*) FROM \(table)") }
        #expect(Int64(rows.count) == stored)
        let before = try digest(path)
        let pointers = 8 + 2 * rows.count
        try Damage.scribble(on: path, page: root, count: pointers, byte: 0x00)

        let report = try rebuild(path)
        #expect(report.damage?.loss.allSatisfy { $0.lost == 0 } == true)
        let unconfirmed = Set(report.damage?.unconfirmed.filter { $0.table == table }.map(\.rowID) ?? [])
        #expect(unconfirmed == Set(rows.map(\.rowid)))
        #expect(report.exitStatus == 1)
        let after = try digest(path)
        #expect(after[table] == before[table])
        #expect(after["splits"] == before["splits"])
    }

    /// Every column of the splits `ids`, as the file holds them.
    private func splitValues(_ path: String, _ ids: [Int64]) throws -> [Int64: [DatabaseValue]] {
        try CompanyFile.read(path) { db in
            var values: [Int64: [DatabaseValue]] = [:]
            let list = ids.map(String.init).joined(separator: ",")
            for row in try Row.fetchAll(db, sql: "SELECT * FROM splits WHERE id IN (\(list))") {
                values[row["id"]] = Array(row.databaseValues)
            }
            return values
        }
    }

    /// Lines deleted before the damage leave free pages (new lines made from
    /// their invoices later take ids above every line's); the freelist's trunk
    /// and the splits' root are then lost, so free pages and live leaves look
    /// alike. A trunk zeroed is short of the header's count; one of plausible
    /// garbage names live pages, more than the header's count: neither is
    /// believed. Rows no index names stay out; the rest come back, listed for
    /// a person because they may be deleted rows, and the balances the
    /// accounts showed are kept.
    @Test(arguments: [false, true])
    func leavesBelowALostRootAreInDoubtWhenTheFreelistIsLostToo(garbage: Bool) throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        let deleted = try Damage.apply(to: path) { db -> [Int64] in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM splits WHERE transaction_id BETWEEN 200 AND 400")
            try db.execute(sql: "DELETE FROM splits WHERE transaction_id BETWEEN 200 AND 400")
            return ids
        }
        let root = try Damage.rootPage(of: "splits", in: path)
        let trunk = Int(PageFile.uint32(try Damage.read(path, at: 0, 100), 32))
        #expect(trunk > 1)
        try Damage.scribble(on: path, page: root, byte: 0x00)
        if garbage {
            // No next trunk, 100 leaves: pages 2 to 101, live ones among them.
            var bytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 100]
            for page in 2...101 { bytes += [0, 0, UInt8(page >> 8), UInt8(page & 0xFF)] }
            try Damage.write(path, at: (trunk - 1) * 4096, bytes)
        } else {
            try Damage.scribble(on: path, page: trunk, byte: 0x00)
        }

        let report = try rebuild(path)
        let back = try CompanyFile.read(path) { db in
            try Int64.fetchAll(
                db, sql: "SELECT id FROM splits WHERE id IN (\(deleted.map(String.init).joined(separator: ",")))")
        }
        #expect(back == [])
        #expect(report.damage?.unconfirmed.contains { $0.table == "splits" } == true)
        #expect(report.exitStatus == 1)
    }

    /// A cached balance wrong before the damage, then a splits leaf whose
    /// rows stay whole though the integrity check names its page: its rows
    /// are the file's own, not possibly deleted ones, so the balance is
    /// mended from the lines as without damage, never kept by a "Lost in
    /// damage" journal.
    @Test func aWrongBalanceIsMendedWhenTheDamagedPageKeptItsRows() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "UPDATE accounts SET balance = balance + 100 WHERE id = 1")
        }
        let (page, _) = try leaf(path, of: "splits", offset: 2)
        // The count of fragmented free bytes: wrong, yet every cell reads.
        try Damage.write(path, at: (page - 1) * 4096 + 7, [0xFF])

        let report = try rebuild(path)
        #expect(report.damage?.keptBalances == [])
        try CompanyFile.read(path) { db in
            let row = try #require(
                try Row.fetchOne(
                    db,
                    sql:
                        "SELECT balance, (SELECT SUM(amount) FROM splits WHERE account_id = 1) AS lines FROM accounts WHERE id = 1"
                ))
            #expect(row["balance"] as Int64 == row["lines"] as Int64)
        }
    }

    /// An older copy of a leaf lies on a free page (as a table rebuilt by a
    /// schema tool leaves one; here a scratch table's page taken off the
    /// freelist), a line on the live leaf is edited, then the root is lost:
    /// both pages give that line, so which is the live one is not known. The line is listed for a person
    /// and the accounts keep the balances they showed, to the cent.
    @Test func twoPagesGivingOneRowPutItInDoubt() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500)
        // Free pages: a scratch table's, dropped.
        try Damage.apply(to: path) { db in
            try db.execute(
                sql: """
                    PRAGMA secure_delete = OFF;
                    CREATE TABLE scratch (x BLOB);
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
                    INSERT INTO scratch SELECT zeroblob(1000) FROM n;
                    DROP TABLE scratch;
                    """)
        }
        #expect(try Verifier.verify(path: path).ok)
        // The trunk's last leaf leaves the freelist, which still adds up (a page leaked).
        let header = try Damage.read(path, at: 0, 100)
        let trunk = Int(PageFile.uint32(header, 32))
        let trunkBytes = try Damage.read(path, at: (trunk - 1) * 4096, 4096)
        let leaves = Int(PageFile.uint32(trunkBytes, 4))
        #expect(leaves >= 2)
        let free = Int(PageFile.uint32(trunkBytes, 8 + 4 * (leaves - 1)))
        func bigEndian(_ value: Int) -> [UInt8] { (0..<4).map { UInt8((value >> (24 - 8 * $0)) & 0xFF) } }
        try Damage.write(path, at: (trunk - 1) * 4096 + 4, bigEndian(leaves - 1))
        try Damage.write(path, at: 36, bigEndian(Int(PageFile.uint32(header, 36)) - 1))
        #expect(try PageFile(path: path).freelistRead().sound)
        let (live, rows) = try leaf(path, of: "splits", offset: 1)
        try Damage.write(path, at: (free - 1) * 4096, try Damage.read(path, at: (live - 1) * 4096, 4096))
        let edited = try #require(rows.first)
        try Damage.apply(to: path) { db in
            try db.execute(
                sql:
                    "UPDATE accounts SET balance = balance + 1000 WHERE id = (SELECT account_id FROM splits WHERE id = ?)",
                arguments: [edited])
            try db.execute(sql: "UPDATE splits SET amount = amount + 1000 WHERE id = ?", arguments: [edited])
        }
        let accounts = try balances(path, of: "accounts")
        let root = try Damage.rootPage(of: "splits", in: path)
        try Damage.scribble(on: path, page: root, byte: 0x00)

        let report = try rebuild(path)
        #expect(report.damage?.unconfirmed.contains(DoubtfulRow(table: "splits", rowID: edited)) == true)
        // Rows both pages give alike are not in doubt.
        #expect(report.damage?.unconfirmed.contains(DoubtfulRow(table: "splits", rowID: rows[1])) == false)
        #expect(report.exitStatus == 1)
        let after = try balances(path, of: "accounts")
        for (id, balance) in accounts { #expect(after[id] == balance, "account \(id)") }
    }

    /// A copy of one template keeps the company row's name and creation time:
    /// with the company row intact, the surviving transactions still tell its
    /// snapshot from these books', so none of its rows enters them and restoring
    /// it is never suggested.
    @Test func aTemplateCopysSnapshotIsToldApartWithTheCompanyRowIntact() throws {
        let path = try company(nil, name: "Sample Company", seed: 1)
        let copy = try company("b", name: "Sample Company", seed: 2)
        _ = try SnapshotWriter.take(SnapshotRequest(of: copy, kind: .manual), into: SnapshotStore.open(backups))
        let before = try rows(path)
        let theirs = try rows(copy)
        #expect(before["company"] == theirs["company"])
        let lost = try zeroSplitsAndFeed(of: path)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.snapshot == nil)
        #expect(damage.restored == [:])
        #expect(damage.snapshotWouldBringBack == 0)
        #expect(damage.notes.count == 1)
        #expect(damage.notes.first?.contains("another company of the same name and creation time") == true)
        #expect(
            damage.loss.first { $0.table == "splits" }
                == TableLoss(table: "splits", lost: lost.count, exact: true, why: nil, fromSnapshot: 0, fromIndexes: 0))
        #expect(report.exitStatus == 1)
    }

    /// Zeroes the company table's page (page 2: its one row) and a leaf of
    /// splits and of bank_feed, then rebuilds: the splits' rowids lost, and
    /// what the rebuild found of the damage.
    private func rebuiltWithoutTheCompanyRow(_ path: String, now: Date = Date()) throws -> (
        lost: [Int64], report: RebuildReport, damage: DamageOutcome
    ) {
        let (page, rows) = try leaf(path, of: "company", offset: 0)
        #expect(rows == [1])
        try Damage.scribble(on: path, page: page, byte: 0x00)
        let lost = try zeroSplitsAndFeed(of: path)
        let report = try rebuild(path, now: now)
        return (lost, report, try #require(report.damage))
    }

    /// When the damage took the company row, the transactions that survived
    /// tell whose snapshot may fill the gaps: the one beside the file whose
    /// transactions are theirs brings back the company row and every lost row.
    /// Nothing left in the file vouches for the company row it brings back (an
    /// edit since the snapshot would be lost), so a person checks it: exit 1.
    @Test func withoutItsCompanyRowTheSurvivingTransactionsShowTheSnapshot() throws {
        let path = try Damage.sample(in: folder, transactions: 600)
        let own = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let before = try rows(path)
        let (lost, report, damage) = try rebuiltWithoutTheCompanyRow(path)
        #expect(damage.snapshot == own.path)
        #expect(damage.restored["company"] == 1 && damage.restored["splits"] == lost.count)
        #expect(damage.restoredUnlisted.filter { $0.value > 0 } == ["company": 1])
        #expect(
            damage.notes == [
                "the company row of books.db could not be read: \(own.path) was taken as these books' own, as 600 of the 600 surviving transactions it holds too are identical to its own"
            ])
        #expect(try self.rows(path) == before)
        #expect(report.exitStatus == 1)
    }

    /// Without the company row, another company's snapshot of the same file
    /// name shares transaction ids but not the transactions: none of its rows
    /// enters the books, and the loss is counted.
    @Test func withoutItsCompanyRowAnotherCompanysSnapshotIsPassedOver() throws {
        let path = try company(nil, name: "Sample Company", seed: 1)
        let other = try company("b", name: "Sample Company", seed: 2)
        let theirs = try SnapshotWriter.take(
            SnapshotRequest(of: other, kind: .manual), into: SnapshotStore.open(backups))
        let (lost, report, damage) = try rebuiltWithoutTheCompanyRow(path)
        #expect(damage.snapshot == nil)
        #expect(damage.restored == [:])
        #expect(
            damage.notes == [
                "\(theirs.path) was passed over: of the 600 surviving transactions it holds too, 0 are identical to its own and 600 differ though not changed since it was taken",
                "the company row of books.db could not be read, and no clean snapshot's transactions show it holds these books: none was used, and rows the damage took are counted as lost",
            ])
        #expect(report.exitStatus == 1)
        #expect(Set((try self.rows(path)["splits"] ?? [:]).keys).isDisjoint(with: lost))
        #expect(try CompanyFile.read(path) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM company") } == 0)
    }

    /// Without the company row, copies of one template share every
    /// transaction but those each changed: a newer snapshot of the other copy
    /// holds one these books changed before it was taken, and is passed over;
    /// so are newer snapshots of other companies; the books' own is used.
    @Test func withoutItsCompanyRowATemplateCopysSnapshotIsToldApart() throws {
        let path = try company(nil, name: "Alpha Bakery", seed: 1)
        let beta = try company("beta", name: "Beta Plumbing", seed: 1)
        func edit(_ file: String, memo: String) throws {
            try Damage.apply(to: file) { db in
                try db.execute(
                    sql: "UPDATE transactions SET memo = ?, modified_at = '2026-01-05T10:00:00Z' WHERE id = 5",
                    arguments: [memo])
            }
        }
        try edit(path, memo: "Alpha's own")
        try edit(beta, memo: "Beta's own")
        let now = Date()
        let own = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, now: now.addingTimeInterval(-100)),
            into: SnapshotStore.open(backups))
        let theirs = try SnapshotWriter.take(
            SnapshotRequest(of: beta, kind: .manual, now: now.addingTimeInterval(-80)),
            into: SnapshotStore.open(backups))
        var strangers: [Snapshot] = []
        for seed in 11...13 {
            let other = try company("c\(seed)", name: "Other \(seed)", seed: UInt64(seed))
            strangers.append(
                try SnapshotWriter.take(
                    SnapshotRequest(of: other, kind: .manual, now: now.addingTimeInterval(Double(seed - 70))),
                    into: SnapshotStore.open(backups)))
        }
        let before = try rows(path)
        let (_, _, damage) = try rebuiltWithoutTheCompanyRow(path, now: now)
        #expect(damage.snapshot == own.path)
        #expect(
            damage.notes
                == strangers.reversed().map {
                    "\($0.path) was passed over: of the 600 surviving transactions it holds too, 0 are identical to its own and 600 differ though not changed since it was taken"
                } + [
                    "\(theirs.path) was passed over: of the 600 surviving transactions it holds too, 599 are identical to its own and 1 differs though not changed since it was taken",
                    "the company row of books.db could not be read: \(own.path) was taken as these books' own, as 600 of the 600 surviving transactions it holds too are identical to its own",
                ])
        #expect(try rows(path) == before)
        #expect(CompanyIdentity.read(path: path)?.name == "Alpha Bakery")
    }

    /// A company renamed since its older snapshot: both snapshots vouch, and
    /// the newer, which agrees with more surviving transactions, is used.
    @Test func withoutItsCompanyRowARenamedCompanysNewerSnapshotIsUsed() throws {
        let path = try company(nil, name: "Acme", seed: 1)
        let now = Date()
        let older = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, now: now.addingTimeInterval(-3_600)),
            into: SnapshotStore.open(backups))
        try Damage.apply(to: path) { db in
            try db.execute(sql: "UPDATE company SET name = 'Acme Ltd'")
            try db.execute(
                sql: "UPDATE transactions SET memo = 'edited', modified_at = ? WHERE id = 5",
                arguments: [Timestamp.string(from: now.addingTimeInterval(-1_800))])
        }
        let newer = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, now: now.addingTimeInterval(-60)),
            into: SnapshotStore.open(backups))
        let before = try rows(path)
        let (_, _, damage) = try rebuiltWithoutTheCompanyRow(path, now: now)
        #expect(damage.snapshot == newer.path && older.path != newer.path)
        #expect(try rows(path) == before)
        #expect(CompanyIdentity.read(path: path)?.name == "Acme Ltd")
    }

    /// Rows rebuilt from the indexes (fields missing) or read from damaged
    /// pages are no evidence either way: a leaf of transactions lost with the
    /// company row still lets the file's own snapshot be shown, and used.
    @Test func withoutItsCompanyRowDoubtfulTransactionsAreLeftOutOfTheEvidence() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        let own = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let before = try rows(path)
        let (company, _) = try leaf(path, of: "company", offset: 0)
        let (transactions, lost) = try leaf(path, of: "transactions", offset: 2)
        try Damage.scribble(on: path, page: company, byte: 0x00)
        try Damage.scribble(on: path, page: transactions, byte: 0x00)

        let report = try rebuild(path)
        let damage = try #require(report.damage)
        #expect(damage.snapshot == own.path, "\(damage.notes)")
        #expect(!lost.isEmpty)
        #expect(try rows(path) == before)
    }

    /// Every row of a table as text, by rowid.
    private func rows(_ path: String) throws -> [String: [Int64: String]] {
        try CompanyFile.read(path) { db in
            var all: [String: [Int64: String]] = [:]
            for table in Schema.tableNames where !["maintenance_runs", "repair_actions"].contains(table) {
                let columns = (StructureCheck.expectedColumns[table] ?? []).map { "quote(\"\($0)\")" }.joined(
                    separator: " || ',' || ")
                for row in try Row.fetchAll(db, sql: "SELECT rowid AS id, \(columns) AS content FROM \(table)") {
                    guard let id = row.integer("id") else { continue }
                    all[table, default: [:]][id] = row.text("content")
                }
            }
            return all
        }
    }

    enum Harm: String, CaseIterable {
        case zeroed = "a zeroed page"
        case garbage = "a page of random bytes"
        case bytes = "random bytes in a page"
        case swapped = "two pages swapped"
        case cut = "the file cut at a page"
    }

    /// Seeded damage of every kind, each with a clean snapshot of exactly the
    /// file before it: every row comes back as it was, or the exit status is 1
    /// and the report counts or lists what did not; exit 0 means the very content.
    @Test(arguments: Array(0..<40))
    func withTheSnapshotOfThePreDamageFileEveryRowComesBackOrIsTold(seed: Int) throws {
        let harm = Harm.allCases[seed % Harm.allCases.count]
        var random = SplitMix64(seed: UInt64(seed) &* 7_919 &+ 3)
        let path = try Damage.sample(in: folder, transactions: 300, seed: UInt64(seed % 4 + 1))
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let before = try rows(path)
        let size = 4096
        let pages = Int(try FileHeader.read(path: path).fileSize) / size
        let page = Int(random.next() % UInt64(pages - 1)) + 2
        func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        switch harm {
        case .zeroed: try Damage.write(path, at: (page - 1) * size, [UInt8](repeating: 0, count: size))
        case .garbage: try Damage.write(path, at: (page - 1) * size, bytes(size))
        case .bytes:
            try Damage.write(
                path, at: (page - 1) * size + Int(random.next() % 4000), bytes(Int(random.next() % 16) + 1))
        case .swapped:
            let other = page == pages ? 2 : page + 1
            let first = try Damage.read(path, at: (page - 1) * size, size)
            let second = try Damage.read(path, at: (other - 1) * size, size)
            try Damage.write(path, at: (page - 1) * size, second)
            try Damage.write(path, at: (other - 1) * size, first)
        case .cut: #expect(truncate(path, off_t((page - 1) * size)) == 0)
        }
        let context = "seed \(seed): \(harm.rawValue), page \(page) of \(pages)"
        let report: RebuildReport
        do {
            report = try rebuild(path)
        } catch RebuildError.unsalvageable {
            return
        }
        let after = try rows(path)
        let doubted = Set((report.damage?.unconfirmed ?? []).map { "\($0.table) \($0.rowID)" })
        var differing = 0
        for (table, originals) in before {
            for (id, content) in originals where after[table]?[id] != content {
                differing += 1
                // Not as it was: only with exit 1, and counted or listed.
                #expect(report.exitStatus == 1, "\(context): \(table) \(id) differs, yet exit 0")
                let loss = report.damage?.loss.first { $0.table == table }
                let told =
                    doubted.contains("\(table) \(id)")
                    || (loss.map { $0.lost > 0 || !$0.exact || $0.fromIndexes > 0 } ?? false)
                    || report.remaining.contains { $0.table == table || $0.table == "transactions" }
                #expect(told, "\(context): \(table) \(id) differs and nothing says so")
            }
        }
        if [.zeroed, .garbage, .cut].contains(harm), report.damage != nil {
            // Nothing changed since the snapshot: it gives back every row the damage took.
            #expect(differing == 0, "\(context): \(differing) rows differ")
        }
    }
}
