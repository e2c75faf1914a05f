import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// Rebuild repairs each repairable finding exactly as docs/findings.md says.
@Suite struct RebuildRepairTests {
    let folder = TemporaryDirectory()
    static let now = Timestamp.parse("2026-11-21T10:00:00Z")!

    /// What a repair necessarily leaves for a person, by docs/findings.md's own rules.
    static let leftFor: [FindingCode: Set<FindingCode>] = [
        // Unlinking a reconciled line changes what its reconciliation adds up to.
        .reconciliationLinkInvalid: [.reconciliationDiscrepancy],
        // The lines were made to agree with the wrong total; they are not repaired.
        .documentTotalMismatch: [.documentLinesMismatch],
    ]

    static func rebuild(_ path: String, in folder: TemporaryDirectory, dryRun: Bool = false) throws -> RebuildReport {
        try Rebuilder.rebuild(
            path: path, options: RebuildOptions(backupFolder: folder.file("backups"), dryRun: dryRun, now: now))
    }

    @Test(arguments: FindingCode.allCases.filter { $0.isRepairable && $0 != .sqliteCorruption })
    func repairsEachFault(code: FindingCode) throws {
        let path = try Damage.sample(in: folder)
        let injected = try Damage.apply(to: path) { db in try Faults.inject(code, db) }
        let splitsBefore = try Invariants.splits(in: path)
        let report = try Self.rebuild(path, in: folder)

        let after = try Verifier.verify(path: path)
        let left = Set(after.findings.map(\.code))
        #expect(!left.contains(code))
        #expect(after.findings.allSatisfy { !$0.repairable }, "\(after.findings)")
        #expect(left == Self.leftFor[code, default: []], "\(after.findings)")
        let remaining: [String] = report.remaining.map(\.code.rawValue).sorted()
        let found: [String] = after.findings.map(\.code.rawValue).sorted()
        #expect(remaining == found)
        #expect(report.exitStatus == (left.isEmpty ? 0 : 1))
        #expect(report.repairs.contains { $0.code == code } || code == .schemaObjectMissing)

        try CompanyFile.read(path) { db in
            // No split was deleted or changed its amount.
            #expect(try Invariants.lostOrChanged(splitsBefore, in: db) == [])
            let broken = try Invariants.violations(in: db).filter {
                !$0.hasPrefix("document lines") && !$0.hasPrefix("reconciliations chain")
            }
            #expect(broken == [])
            // Every changed row is recorded against the code that changed it.
            let recorded = try Row.fetchAll(
                db, sql: "SELECT code, table_name, row_id, action FROM repair_actions WHERE run_id = ?",
                arguments: [report.runID])
            #expect(recorded.count == report.changedRows)
            for finding in injected where finding.code == code && finding.table != nil && finding.row != nil {
                // Where the finding names one row and the repair changes another, checkRepair looks.
                if [.documentOverapplied, .paymentOverapplied, .partyMissing, .unbalancedTransaction].contains(code) {
                    continue
                }
                let table =
                    finding.table == "transactions"
                        && [.documentTotalMismatch, .documentBalanceMismatch, .documentRowMissing].contains(code)
                    ? "documents" : finding.table!
                let found = recorded.contains { row in
                    (row["code"] as String?) == code.rawValue && (row["table_name"] as String?) == table
                        && (row["row_id"] as Int64?) == finding.row
                }
                #expect(found, "no action recorded for \(finding)")
            }
            try Self.checkRepair(code, injected: injected, report: report, db: db)
        }
    }

    /// The exact repair of each code, beyond "the finding is gone".
    static func checkRepair(_ code: FindingCode, injected: Set<Expected>, report: RebuildReport, db: Database) throws {
        let suspense = try Int64.fetchOne(
            db,
            sql: """
                SELECT id FROM accounts WHERE name = 'Rebuild Suspense' AND type = 'other_current_asset' AND parent_id IS NULL
                """)
        let rows = injected.filter { $0.code == code }.compactMap(\.row)
        func one<T: DatabaseValueConvertible>(_ sql: String, _ arguments: StatementArguments = []) throws -> T? {
            try T.fetchOne(db, sql: sql, arguments: arguments)
        }
        switch code {
        case .unbalancedTransaction:
            let charge = rows[0]
            let added = try Row.fetchAll(
                db, sql: "SELECT account_id, amount, memo FROM splits WHERE transaction_id = ? AND account_id = ?",
                arguments: [charge, suspense])
            #expect(added.count == 1)
            #expect(added.first?["amount"] == -1000 as Int64)
            #expect(
                (added.first?["memo"] as String?)
                    == "Rebuild Suspense: transaction \(charge) was out of balance by 10.00 (unbalanced-transaction)")
            #expect(try one("SELECT balance FROM accounts WHERE id = ?", [suspense]) == -1000 as Int64)
        case .orphanSplit:
            let journal: Row? = try Row.fetchOne(
                db,
                sql: """
                    SELECT t.id, t.kind, t.date, t.memo FROM transactions t JOIN splits s ON s.transaction_id = t.id WHERE s.id = ?
                    """, arguments: [rows.min()!])
            #expect(journal?["kind"] == "journal")
            #expect(journal?["memo"] == "Recovered by rebuild")
            #expect(journal?["date"] == "2026-11-21")
            #expect(
                try one("SELECT COUNT(*) FROM splits WHERE transaction_id = ?", [journal?["id"] as Int64?])
                    == rows.count)
        case .splitAccountMissing:
            for split in rows {
                #expect(try one("SELECT account_id FROM splits WHERE id = ?", [split]) == suspense)
                #expect(
                    (try one("SELECT memo FROM splits WHERE id = ?", [split]) as String?)?.contains(
                        "split-account-missing") == true)
            }
        case .partyMissing:
            let party = try Int64.fetchOne(
                db, sql: "SELECT party_id FROM transactions WHERE id = ?",
                arguments: [injected.first { $0.table == "transactions" }!.row])!
            let recreated = try Row.fetchOne(db, sql: "SELECT kind, name FROM parties WHERE id = ?", arguments: [party])
            #expect(recreated?["kind"] == "customer")
            #expect(recreated?["name"] == "Recovered name \(party)")
        case .accountCycle, .accountParentMissing:
            for account in rows {
                #expect(try one("SELECT parent_id FROM accounts WHERE id = ?", [account]) == nil as Int64?)
            }
        case .emptyTransaction, .lineDocumentMissing, .applicationInvalid:
            let table =
                code == .emptyTransaction
                ? "transactions" : code == .lineDocumentMissing ? "document_lines" : "applications"
            for row in rows { #expect(try one("SELECT COUNT(*) FROM \(table) WHERE id = ?", [row]) == 0) }
        case .lineItemMissing:
            for line in rows {
                #expect(try one("SELECT item_id FROM document_lines WHERE id = ?", [line]) == nil as Int64?)
            }
        case .itemAccountMissing:
            #expect(try one("SELECT income_account_id FROM items WHERE id = ?", [rows[0]]) == nil as Int64?)
        case .documentRowMissing:
            let invoice = injected.first { $0.table == "transactions" }!.row!
            let stray = injected.first { $0.table == "documents" }!.row!
            #expect(try one("SELECT COUNT(*) FROM documents WHERE transaction_id = ?", [stray]) == 0)
            let header = try Row.fetchOne(
                db, sql: "SELECT total, balance_due FROM documents WHERE transaction_id = ?", arguments: [invoice])
            let receivable: Int64? = try one(
                """
                SELECT SUM(amount) FROM splits WHERE transaction_id = ? AND account_id IN (SELECT id FROM accounts WHERE type = 'accounts_receivable')
                """, [invoice])
            #expect(header?["total"] == receivable)
            #expect(header?["balance_due"] == receivable)
        case .reconciliationAccountMissing:
            #expect(try one("SELECT COUNT(*) FROM reconciliations WHERE id = ?", [rows[0]]) == 0)
            #expect(try one("SELECT COUNT(*) FROM splits WHERE reconciliation_id = ?", [rows[0]]) == 0)
        case .reconciliationLinkInvalid:
            let split = try Row.fetchOne(
                db, sql: "SELECT cleared, reconciliation_id FROM splits WHERE id = ?", arguments: [rows[0]])
            #expect(split?["cleared"] == "c")
            #expect(split?["reconciliation_id"] == nil as Int64?)
        case .feedLinkInvalid, .feedAmountMismatch:
            let line = try Row.fetchOne(
                db, sql: "SELECT status, transaction_id FROM bank_feed WHERE id = ?", arguments: [rows[0]])
            #expect(line?["status"] == "new")
            #expect(line?["transaction_id"] == nil as Int64?)
        case .feedAccountMissing:
            let line = try Row.fetchOne(
                db, sql: "SELECT account_id, status, transaction_id FROM bank_feed WHERE id = ?", arguments: [rows[0]])
            #expect(line?["account_id"] == suspense)
            #expect(line?["status"] == "excluded")
            #expect(line?["transaction_id"] == nil as Int64?)
        case .duplicateFeedLine:
            let line = try Row.fetchOne(db, sql: "SELECT fitid, status FROM bank_feed WHERE id = 900003")
            #expect((line?["fitid"] as String?)?.hasSuffix("#dup900003") == true)
            #expect(line?["status"] == "excluded")
            #expect(try one("SELECT COUNT(*) FROM sqlite_master WHERE name = 'bank_feed_fitid'") == 1)
        case .duplicateName:
            let name: String? = try one("SELECT name FROM parties WHERE id = (SELECT MIN(id) FROM parties)")
            #expect(try one("SELECT name FROM parties WHERE id = 900004") == "\(name!) (2)")
        case .schemaObjectMissing:
            #expect(report.schemaRepairs == ["index splits_account"])
            #expect(try one("SELECT COUNT(*) FROM sqlite_master WHERE name = 'splits_account'") == 1)
        case .documentOverapplied:
            #expect(try one("SELECT balance_due FROM documents WHERE transaction_id = ?", [rows[0]]) == 0 as Int64)
            #expect(report.repairs.first { $0.code == code }?.count == 1)
        case .paymentOverapplied:
            #expect(
                report.repairs.first { $0.code == code }.map { $0.examples.allSatisfy { $0.action == .delete } } == true
            )
        case .accountBalanceMismatch, .partyBalanceMismatch, .documentBalanceMismatch, .documentTotalMismatch:
            // The invariants checked by the caller hold: the caches equal their sources.
            #expect(report.repairs.first { $0.code == code }?.count == rows.count)
        default:
            Issue.record("no exact check for \(code)")
        }
    }

    @Test func dryRunChangesNothingAndPlansTheSame() throws {
        let path = try Damage.sample(in: folder)
        try Damage.apply(to: path) { db in
            for code: FindingCode in [.unbalancedTransaction, .orphanSplit, .feedLinkInvalid] {
                _ = try Faults.inject(code, db)
            }
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let plan = try Self.rebuild(path, in: folder, dryRun: true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
        #expect(!FileManager.default.fileExists(atPath: folder.file("backups")))
        #expect(plan.exitStatus == 1)
        let done = try Self.rebuild(path, in: folder)
        #expect(plan.repairs.map(\.code) == done.repairs.map(\.code))
        #expect(plan.repairs.map(\.count) == done.repairs.map(\.count))
        let again = try Self.rebuild(path, in: folder, dryRun: true)
        #expect(again.repairs == [])
        #expect(again.exitStatus == 0)
    }

    /// Lines moved to Rebuild Suspense from an account that no longer exists
    /// are what it holds for a person to review, as added lines are.
    @Test func linesMovedToSuspenseAreListedForReview() throws {
        let path = try Damage.sample(in: folder)
        let (split, amount, transaction) = try Damage.apply(to: path) { db in
            let row = try #require(
                try Row.fetchOne(
                    db,
                    sql:
                        "SELECT id, amount, transaction_id FROM splits WHERE reconciliation_id IS NULL AND amount != 0 ORDER BY id LIMIT 1"
                ))
            let missing = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM accounts") ?? 0) + 7
            try db.execute(sql: "UPDATE splits SET account_id = ? WHERE id = ?", arguments: [missing, row["id"]])
            return (row["id"] as Int64, row["amount"] as Int64, row["transaction_id"] as Int64)
        }
        let report = try Self.rebuild(path, in: folder)
        // The line moved, then the balances of the account it was on and of Suspense.
        #expect(report.repairs.map(\.code) == [.splitAccountMissing, .accountBalanceMismatch])
        let review = try #require(report.suspense, "split \(split) moved, but no review")
        #expect(review.balance == amount)
        #expect(review.transactionCount == 1)
        #expect(review.largest.map(\.transaction) == [transaction])
        #expect(review.largest.map(\.amount) == [amount])
    }

    /// A row rebuild makes never takes the id a dangling reference names: the
    /// Rebuild Suspense account made for a split of the missing account next
    /// above the highest used to be given that very id, and adopted the split
    /// with no memo and no repair action; a journal made for missing
    /// transaction 1 of 2 adopted the other's lines the same way.
    @Test func aNewRowNeverTakesTheIdOfAMissingOne() throws {
        let path = try Damage.sample(in: folder)
        let (missingAccount, split, lostTransactions) = try Damage.apply(to: path) { db in
            let missing = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM accounts") ?? 0) + 1
            let split = try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM splits WHERE reconciliation_id IS NULL") ?? 0
            try db.execute(sql: "UPDATE splits SET account_id = ? WHERE id = ?", arguments: [missing, split])
            // The two newest transactions lost, their lines left.
            let newest = try Int64.fetchAll(db, sql: "SELECT id FROM transactions ORDER BY id DESC LIMIT 2")
            try db.execute(sql: "DELETE FROM documents WHERE transaction_id IN (\(newest[0]), \(newest[1]))")
            try db.execute(sql: "DELETE FROM transactions WHERE id IN (\(newest[0]), \(newest[1]))")
            return (missing, split, newest.sorted())
        }
        let linesOfLost = try CompanyFile.read(path) { db in
            try lostTransactions.map {
                try Int64.fetchAll(
                    db, sql: "SELECT id FROM splits WHERE transaction_id = ? ORDER BY id", arguments: [$0])
            }
        }
        #expect(linesOfLost.allSatisfy { !$0.isEmpty })
        _ = try Self.rebuild(path, in: folder)
        try CompanyFile.read(path) { db in
            let suspense = try #require(
                try Int64.fetchOne(db, sql: "SELECT id FROM accounts WHERE name = 'Rebuild Suspense'"))
            #expect(suspense > missingAccount)
            let moved = try #require(
                try Row.fetchOne(db, sql: "SELECT account_id, memo FROM splits WHERE id = ?", arguments: [split]))
            #expect(moved["account_id"] == suspense)
            #expect((moved["memo"] as String?)?.contains("split-account-missing") == true)
            let actions = try String.fetchAll(
                db, sql: "SELECT code FROM repair_actions WHERE table_name = 'splits' AND row_id = ? ORDER BY id",
                arguments: [split])
            #expect(actions == ["split-account-missing"])
            // Each lost transaction's lines are in a journal of their own, neither under a lost id.
            let journals = try linesOfLost.map { lines in
                Set(
                    try Int64.fetchAll(
                        db,
                        sql:
                            "SELECT transaction_id FROM splits WHERE id IN (\(lines.map(String.init).joined(separator: ",")))"
                    ))
            }
            #expect(journals.allSatisfy { $0.count == 1 }, "\(journals)")
            #expect(journals[0] != journals[1], "\(journals)")
            #expect(journals.allSatisfy { $0.isDisjoint(with: lostTransactions) }, "\(journals)")
        }
    }

    @Test func aSecondRebuildChangesNothing() throws {
        let path = try Damage.sample(in: folder)
        try Damage.apply(to: path) { db in
            for code: FindingCode in [.splitAccountMissing, .documentOverapplied, .duplicateName, .accountCycle] {
                _ = try Faults.inject(code, db)
            }
        }
        let first = try Self.rebuild(path, in: folder)
        #expect(first.changedRows > 0)
        let digest = try CompanyFile.read(path) { try Invariants.contentDigest(of: $0) }
        let second = try Self.rebuild(path, in: folder)
        #expect(second.changedRows == 0)
        #expect(second.schemaRepairs == [])
        let after = try CompanyFile.read(path) { try Invariants.contentDigest(of: $0) }
        for table in digest.keys where table != "maintenance_runs" && table != "sqlite_stat1" {
            #expect(after[table] == digest[table], "\(table) changed")
        }
        let runs = try MaintenanceLog.runs(path: path)
        #expect(runs.map(\.outcome) == ["ok", "repaired"])
        #expect(try MaintenanceLog.actions(path: path, runID: runs[0].id) { _ in } == 0)
        #expect(try MaintenanceLog.actions(path: path, runID: runs[1].id) { _ in } == first.changedRows)
    }

    /// A run whose own row the damage took leaves its repair actions behind:
    /// the next rebuild's run takes another id, so it never counts them as
    /// its own, nor reads their values as its own.
    @Test func aRunsActionsLeftWithoutItsRowAreNeverTheNextRebuildsOwn() throws {
        let path = try Damage.sample(in: folder)
        let lostRun = try Damage.apply(to: path) { db in
            _ = try Faults.inject(.duplicateName, db)
            let lost = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM maintenance_runs") ?? 0) + 1
            try db.execute(
                sql: """
                    INSERT INTO repair_actions (run_id, code, table_name, row_id, action, before, after)
                    VALUES (?1, 'split-account-missing', 'splits', 1, 'update', '{}', '{}'),
                           (?1, 'not-a-code', 'splits', 2, 'update', x'00', 7)
                    """, arguments: [lost])
            return lost
        }
        let report = try Self.rebuild(path, in: folder)
        #expect(report.repairs.map(\.code) == [.duplicateName])
        let runs = try MaintenanceLog.runs(path: path)
        let own = try #require(runs.last)
        #expect(own.id > lostRun)
        #expect(try MaintenanceLog.actions(path: path, runID: own.id) { _ in } == report.changedRows)
        #expect(try MaintenanceLog.actions(path: path, runID: lostRun) { _ in } == 2, "left as they were")
    }

    /// Should the repairs among the native pass's suspects leave anything
    /// repairable (here they are given no suspects at all), the working copy is
    /// made again and the repairs look at every row: the final copy is the
    /// one the suspects lead to, to the cent.
    @Test func repairsLookAtEveryRowWhenTheSuspectsFallShort() throws {
        let path = try Damage.sample(in: folder, transactions: 200)
        let (account, party) = try Damage.apply(to: path) { db -> (Int64, Int64) in
            let account = try Damage.one(db, "SELECT MIN(id) FROM accounts WHERE balance != 0")
            let party = try Damage.one(db, "SELECT MIN(id) FROM parties WHERE balance != 0")
            try db.execute(sql: "UPDATE accounts SET balance = balance + 7 WHERE id = ?", arguments: [account])
            try db.execute(sql: "UPDATE parties SET balance = balance - 3 WHERE id = ?", arguments: [party])
            return (account, party)
        }
        let balances =
            "SELECT (SELECT balance FROM accounts WHERE id = ?) || ' ' || (SELECT balance FROM parties WHERE id = ?)"
        let damaged = try CompanyFile.read(path) {
            try String.fetchOne($0, sql: balances, arguments: [account, party])
        }
        let options = RebuildOptions(backupFolder: folder.file("backups"), now: Self.now)
        func rebuilt(_ name: String, suspects: @escaping @Sendable (String) throws -> Suspects?) throws
            -> (Rebuilder.Rebuilt, digest: [String: String], balances: String?)
        {
            let done = try Rebuilder.repairCopy(
                path, readable: true, salvage: false, working: folder.file(name + "-working.db"),
                final: folder.file(name + ".db"), original: path, options: options,
                progress: nil, suspects: suspects)
            return try CompanyFile.read(folder.file(name + ".db")) { db in
                (
                    done, try Invariants.contentDigest(of: db).filter { $0.key != "maintenance_runs" },
                    try String.fetchOne(db, sql: balances, arguments: [account, party])
                )
            }
        }
        let short = try rebuilt("short") { _ in Suspects(rows: [:], reconciliations: [], payments: []) }
        let led = try rebuilt("led", suspects: Rebuilder.suspectsOfCopy)
        #expect(!short.0.repaired.amongSuspects)
        #expect(led.0.repaired.amongSuspects)
        #expect(short.0.remaining == [] && led.0.remaining == [])
        #expect(short.0.repaired.groups.map(\.code) == [.accountBalanceMismatch, .partyBalanceMismatch])
        #expect(short.0.repaired.groups == led.0.repaired.groups)
        #expect(short.digest == led.digest)
        let parts = damaged?.split(separator: " ").compactMap { Int64($0) } ?? []
        try #require(parts.count == 2)
        #expect(short.balances == "\(parts[0] - 7) \(parts[1] + 3)")
        #expect(try Verifier.verify(path: folder.file("short.db")).findings == [])
    }
}
