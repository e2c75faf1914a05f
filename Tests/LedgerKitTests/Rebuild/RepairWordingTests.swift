import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// What rebuild and log say of each change: dollars and named rows, never JSON.
@Suite struct RepairWordingTests {
    let folder = TemporaryDirectory()

    @Test func changesAreToldInDollarsWithTheirRowsNamedAndSuspenseIsReviewed() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        // A check whose first line gained 10.00, and an account one cent off its lines.
        let (check, date, number) = try Damage.apply(to: path) { db -> (Int64, String, String) in
            let row = try #require(
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT t.id, t.date, t.number, MIN(s.id) AS line FROM transactions t JOIN splits s ON s.transaction_id = t.id
                        WHERE t.kind = 'check' AND t.number IS NOT NULL GROUP BY t.id ORDER BY t.id LIMIT 1
                        """))
            let line: Int64 = row["line"]
            try db.execute(sql: "UPDATE splits SET amount = amount + 1000 WHERE id = ?", arguments: [line])
            try db.execute(sql: "UPDATE accounts SET balance = 1234567 WHERE id = 2")
            return (row["id"], row["date"], row["number"])
        }
        let report = try Rebuilder.rebuild(path: path, options: RebuildOptions(backupFolder: folder.file("backups")))
        let unbalanced = try #require(report.repairs.first { $0.code == .unbalancedTransaction })
        let suspense = try #require(report.suspense)
        let debits = try CompanyFile.read(path) { db in
            try Int64.fetchOne(
                db, sql: "SELECT SUM(amount) FROM splits WHERE transaction_id = ? AND amount > 0", arguments: [check])
        }
        let named = "Check \(number) of \(date) for \(Money(cents: try #require(debits))) (transaction \(check))"
        let added = try #require(unbalanced.examples.first { $0.table == "splits" })
        let expected =
            "added line \(try #require(added.rowID)) of \(named): -10.00 to Rebuild Suspense (account \(suspense.account)) — \"Rebuild Suspense: transaction \(check) was out of balance by 10.00 (unbalanced-transaction)\""
        #expect(added.words == expected, "\(added.words ?? "nil")")
        #expect(
            suspense
                == SuspenseReview(
                    account: suspense.account, balance: -1000, transactionCount: 1,
                    largest: [SuspenseReview.Held(transaction: check, described: named, amount: -1000)]))
        let savings = try #require(
            report.repairs.first { $0.code == .accountBalanceMismatch }?.examples.first { $0.rowID == 2 })
        let balance = try CompanyFile.read(path) {
            try Int64.fetchOne($0, sql: "SELECT balance FROM accounts WHERE id = 2")
        }
        #expect(
            savings.words == "changed account Savings (2): balance 12,345.67 → \(Money(cents: try #require(balance)))")
        // The log says the same, from the file.
        var logged: [String] = []
        try MaintenanceLog.actions(path: path, runID: try #require(report.runID)) { logged.append($0.words ?? "") }
        #expect(logged.contains(try #require(savings.words)))
        #expect(logged.allSatisfy { !$0.contains("{") })
    }

    /// A line moved off a transaction that no longer exists names the old one
    /// by its number alone, once: "transaction 3, which no longer exists, → …".
    @Test func aLineMovedOffAMissingTransactionNamesItOnce() throws {
        let path = try Damage.sample(in: folder, transactions: 50)
        let (gone, lines) = try Damage.apply(to: path) { db -> (Int64, [Int64]) in
            let gone = try #require(
                try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM transactions WHERE kind = 'check'"))
            let lines = try Int64.fetchAll(
                db, sql: "SELECT id FROM splits WHERE transaction_id = ? ORDER BY id", arguments: [gone])
            try db.execute(sql: "DELETE FROM documents WHERE transaction_id = ?", arguments: [gone])
            try db.execute(sql: "DELETE FROM transactions WHERE id = ?", arguments: [gone])
            return (gone, lines)
        }
        let report = try Rebuilder.rebuild(path: path, options: RebuildOptions(backupFolder: folder.file("backups")))
        let orphans = try #require(report.repairs.first { $0.code == .orphanSplit })
        let moved = try #require(orphans.examples.first { $0.table == "splits" && $0.rowID == lines.first })
        let made = try #require(orphans.examples.first { $0.table == "transactions" }?.rowID)
        let named = try CompanyFile.read(path) { db in
            try #require(try TransactionDescriber(db: db, hasSplits: true).present(made))
        }
        #expect(
            moved.words
                == "changed line \(lines[0]) of \(named): transaction \(gone), which no longer exists, → \(named)",
            "\(moved.words ?? "nil")")
    }

    @Test func hostileValuesInTheRecordAreToldPlainly() throws {
        let path = try Damage.sample(in: folder, transactions: 50)
        let words = try CompanyFile.read(path) { db -> [String] in
            let wording = RepairWording(db: db)
            return [
                RepairAction(
                    code: .invalidValue, table: "splits", rowID: 7, action: .update,
                    before: #"{"amount":"12x","account_id":1.5,"memo":null}"#,
                    after: #"{"amount":99999999999999999999,"account_id":"x'00'"}"#),
                RepairAction(
                    code: .invalidValue, table: "nosuch", rowID: nil, action: .delete, before: "not json", after: nil),
                RepairAction(
                    code: .invalidValue, table: "transactions", rowID: Int64.max, action: .insert, before: nil,
                    after: #"{"kind":"\u001b[2J","date":null}"#),
            ].map(wording.describe)
        }
        #expect(
            words[0]
                == "changed line 7 of transaction none: account 1.5 → \"x'00'\"; amount \"12x\" → 99999999999999999999")
        #expect(words[1] == "deleted nosuch ?")
        #expect(words[2] == "added Transaction of an unknown date (transaction 9223372036854775807)")
    }
}
