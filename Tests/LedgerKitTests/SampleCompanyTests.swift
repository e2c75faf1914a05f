import Foundation
import GRDB
import Testing

@testable import LedgerKit

@Suite struct SampleCompanyTests {
    let folder = TemporaryDirectory()

    @Test(arguments: [(1, UInt64(1)), (2, 5), (40, 2), (500, 1), (3_000, 42), (12_000, 7)])
    func holdsEveryInvariant(transactions: Int, seed: UInt64) throws {
        let path = folder.file("sample-\(transactions).db")
        let summary = try SampleCompany.generate(
            at: path, options: SampleOptions(transactions: transactions, seed: seed))
        #expect(summary.transactions == transactions)
        let file = try CompanyFile.open(path)
        try file.database.read { db throws in
            #expect(try Invariants.violations(in: db) == [])
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM transactions") == transactions)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM splits") == summary.splits)
            #expect(try Int.fetchOne(db, sql: "SELECT SUM(amount) FROM splits") == 0)
            #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
        }
    }

    @Test func looksLikeARealBusiness() throws {
        let path = folder.file("real.db")
        _ = try SampleCompany.generate(at: path, options: SampleOptions(transactions: 6_000, seed: 3))
        try CompanyFile.open(path).database.read { db throws in
            let kinds = try Set(String.fetchAll(db, sql: "SELECT DISTINCT kind FROM transactions"))
            #expect(kinds == Set(TransactionKind.allCases.map(\.rawValue)))
            let statuses = try Set(String.fetchAll(db, sql: "SELECT DISTINCT status FROM bank_feed"))
            #expect(statuses == ["matched", "new", "added", "excluded"])
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM items") == 30)
            let span = try Row.fetchOne(db, sql: "SELECT MIN(date) AS first, MAX(date) AS last FROM transactions")!
            #expect(span["first"] as String == "2023-01-01")
            #expect(span["last"] as String == "2025-12-31")
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM reconciliations") == 35)
            // Invoices have one to five lines; some stay open, some are paid in part.
            let lines = try Row.fetchOne(
                db,
                sql: """
                    SELECT MIN(n) AS fewest, MAX(n) AS most FROM
                      (SELECT COUNT(*) AS n FROM document_lines l JOIN transactions t ON t.id = l.transaction_id
                       WHERE t.kind = 'invoice' GROUP BY l.transaction_id)
                    """)!
            #expect(lines["fewest"] as Int == 1)
            #expect(lines["most"] as Int == 5)
            let open = try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM documents d JOIN transactions t ON t.id = d.transaction_id
                    WHERE t.kind = 'invoice' AND d.balance_due > 0
                    """)!
            let partly = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM documents WHERE balance_due > 0 AND balance_due < total")!
            #expect(open > 0)
            #expect(partly > 0)
            // Some payments carry money not applied to any invoice.
            let unapplied = try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM transactions t
                    JOIN splits s ON s.transaction_id = t.id JOIN accounts a ON a.id = s.account_id AND a.type = 'accounts_receivable'
                    WHERE t.kind = 'payment' AND -s.amount > (SELECT COALESCE(SUM(amount), 0) FROM applications WHERE payment_id = t.id)
                    """)!
            #expect(unapplied > 0)
            // Most checking lines are matched in the feed, and the checking account is reconciled.
            let matched = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bank_feed WHERE status = 'matched'")!
            let checkingSplits = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM splits WHERE account_id = 1")!
            #expect(matched * 100 / checkingSplits > 75)
            let reconciled = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM splits WHERE cleared = 'r'")!
            #expect(reconciled * 100 / checkingSplits > 90)
        }
    }

    @Test func sameSeedGivesTheSameFile() throws {
        let first = folder.file("first.db")
        let second = folder.file("second.db")
        let other = folder.file("other.db")
        _ = try SampleCompany.generate(at: first, options: SampleOptions(transactions: 2_500, seed: 11))
        _ = try SampleCompany.generate(at: second, options: SampleOptions(transactions: 2_500, seed: 11))
        _ = try SampleCompany.generate(at: other, options: SampleOptions(transactions: 2_500, seed: 12))
        let digest = { (path: String) in try CompanyFile.open(path).database.read(Invariants.contentDigest) }
        let one = try digest(first)
        #expect(one.count >= Schema.tables.count)
        #expect(one == (try digest(second)))
        #expect(one["splits"] != (try digest(other))["splits"])
    }

    @Test func refusesToOverwriteUnlessReplacing() throws {
        let path = folder.file("taken.db")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CompanyFileError.alreadyExists(path: path)) {
            try SampleCompany.generate(at: path, options: SampleOptions(transactions: 10))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
        _ = try SampleCompany.generate(at: path, options: SampleOptions(transactions: 10), replacing: true)
        #expect(
            try CompanyFile.open(path).database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM transactions") }
                == 10)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(names.filter { !$0.hasPrefix("taken.db") } == [], "no temporary file is left behind")
    }

    @Test func reportsProgress() throws {
        let reports = Reports()
        _ = try SampleCompany.generate(at: folder.file("progress.db"), options: SampleOptions(transactions: 20_000)) {
            reports.add($0, $1)
        }
        #expect(reports.values.last.map { $0 == (20_000, 20_000) } == true)
        #expect(reports.values.count >= 3)
        #expect(zip(reports.values, reports.values.dropFirst()).allSatisfy { $0.0 < $1.0 })
    }

    @Test func theCommittedSampleDataIsCurrent() throws {
        // SampleData/sample-company.sql must be what Scripts/make-sample.sh makes today.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let dump = try String(contentsOf: root.appendingPathComponent("SampleData/sample-company.sql"), encoding: .utf8)
        let loaded = folder.file("loaded.db")
        let queue = try DatabaseQueue(path: loaded)
        try queue.writeWithoutTransaction { db in try db.execute(sql: dump) }
        try queue.close()
        let fresh = folder.file("fresh.db")
        _ = try SampleCompany.generate(
            at: fresh, options: SampleOptions(transactions: 500, seed: 1, name: "Sample Company"))
        let loadedFile = try CompanyFile.open(loaded)
        try loadedFile.database.read { db throws in #expect(try Invariants.violations(in: db) == []) }
        let expected = try CompanyFile.open(fresh).database.read(Invariants.contentDigest)
        #expect(try loadedFile.database.read(Invariants.contentDigest) == expected)
    }
}

/// Collects progress reports from the generator's callback.
private final class Reports: @unchecked Sendable {
    // Only touched from the generating thread, one call at a time.
    var values: [(Int, Int)] = []
    func add(_ done: Int, _ total: Int) { values.append((done, total)) }
}
