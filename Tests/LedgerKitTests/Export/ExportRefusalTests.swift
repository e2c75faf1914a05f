import Foundation
import GRDB
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// Books an export cannot carry faithfully are refused, whole: nothing at the
/// output path, no hidden temporary file, and a message that says what to do.
@Suite struct ExportRefusalTests {
    let folder = TemporaryDirectory()

    /// Transaction 9001, a journal of 2024-01-01 with splits of `amounts` (SQL
    /// literals) to accounts 1 and 2 in turn; returns the first split's id.
    @discardableResult
    static func addTransaction(to file: String, amounts: [String]) throws -> Int64 {
        try Damage.apply(to: file) { db in
            try db.execute(
                sql: """
                    INSERT INTO transactions (id, kind, date, created_at, modified_at)
                    VALUES (9001, 'journal', '2024-01-01', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')
                    """)
            let values = amounts.enumerated().map { "(9001, \($0.offset % 2 + 1), \($0.element))" }
            try db.execute(
                sql: "INSERT INTO splits (transaction_id, account_id, amount) VALUES " + values.joined(separator: ", "))
            return try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM splits WHERE transaction_id = 9001") ?? 0
        }
    }

    /// What the folder holds besides the company file.
    private func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0 != "books.db" }.sorted()
    }

    @Test(arguments: ExportFormat.allCases)
    func amountsThatWouldOverflowAreRefusedAndNothingIsLeft(format: ExportFormat) throws {
        let file = try Damage.sample(in: folder, transactions: 100)
        let first = try Self.addTransaction(
            to: file, amounts: ["9223372036854775807", "1", "-9223372036854775807", "-1"])
        let error = ExportError.invalidAmounts(
            path: file, splits: 2, first: first, transaction: "9001", value: "9223372036854775807")
        #expect(throws: error) { try JournalExport.export(file: file, format: format, to: folder.file("out")) }
        #expect(try leftovers() == [])
        #expect(
            error.errorDescription
                == "Split \(first) (transaction 9001) of \(file) stores 9223372036854775807 as its amount, which must be a whole number of cents, at most 10,000,000,000,000.00 either way (invalid-value); 1 other split does too. An export cannot carry such an amount: run 'ledger verify \(file)' to list them, and correct each by hand (rebuild cannot)."
        )
    }

    @Test func anAmountThatIsNotWholeCentsSaysToCorrectItNotToRebuild() throws {
        let file = try Damage.sample(in: folder, transactions: 100)
        let transaction = try Damage.apply(to: file) { db in
            try db.execute(sql: "UPDATE splits SET amount = 12000000.99 WHERE id = 2")
            try db.execute(sql: "UPDATE splits SET amount = '-18350000 dollars' WHERE id = 4")
            return try Int64.fetchOne(db, sql: "SELECT transaction_id FROM splits WHERE id = 2") ?? 0
        }
        #expect(
            throws: ExportError.invalidAmounts(
                path: file, splits: 2, first: 2, transaction: String(transaction), value: "12000000.99")
        ) { try JournalExport.export(file: file, format: .hledger, to: folder.file("books.journal")) }
        #expect(try leftovers() == [])
    }

    @Test func oneCentPastTheLimitIsRefusedAndTheLimitItselfIsExported() throws {
        let file = try Damage.sample(in: folder, transactions: 20)
        try Self.addTransaction(to: file, amounts: ["1000000000000000", "-1000000000000000"])
        let path = folder.file("books.csv")
        #expect(try JournalExport.export(file: file, format: .csv, to: path).transactions == 21)
        let rows = CSVReader.rows(of: try String(contentsOfFile: path, encoding: .utf8), delimiter: ",").records
        #expect(
            rows.filter { $0.fields[1] == "9001" }.map { $0.fields[7] } == [
                "10000000000000.00", "-10000000000000.00",
            ])

        let split = try Damage.apply(to: file) { db in
            try db.execute(sql: "UPDATE splits SET amount = amount - 1 WHERE transaction_id = 9001 AND amount < 0")
            return try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM splits WHERE transaction_id = 9001") ?? 0
        }
        #expect(
            throws: ExportError.invalidAmounts(
                path: file, splits: 1, first: split, transaction: "9001", value: "-1000000000000001")
        ) { try JournalExport.export(file: file, format: .csv, to: path) }
    }

    /// 9,224 splits of 10^15 cents sum past Int64.max before their credits
    /// bring the transaction back to zero: it balances, and one cent less does not.
    @Test func aTransactionWhoseRunningSumPassesInt64StillBalancesExactly() throws {
        let file = try Damage.sample(in: folder, transactions: 20)
        let count = 9_224
        try Self.addTransaction(
            to: file,
            amounts: Array(repeating: "1000000000000000", count: count)
                + Array(repeating: "-1000000000000000", count: count))
        let path = folder.file("books.journal")
        #expect(try JournalExport.export(file: file, format: .hledger, to: path).transactions == 21)
        let journal = try String(contentsOfFile: path, encoding: .utf8)
        #expect(journal.components(separatedBy: "  10000000000000.00 USD\n").count - 1 == count)
        #expect(journal.components(separatedBy: "  -10000000000000.00 USD\n").count - 1 == count)

        try Damage.apply(to: file) { db in
            try db.execute(sql: "UPDATE splits SET amount = amount + 1 WHERE id = (SELECT MAX(id) FROM splits)")
        }
        #expect(throws: ExportError.unbalanced(path: file, transaction: 9001)) {
            try JournalExport.export(file: file, format: .hledger, to: path)
        }
    }

    @Test(arguments: ExportFormat.allCases)
    func splitsOfNoTransactionAreRefusedWithWhatTheyMove(format: ExportFormat) throws {
        let file = try Damage.sample(in: folder, transactions: 100)
        try Damage.apply(to: file) { db in
            try db.execute(
                sql: """
                    INSERT INTO splits (transaction_id, account_id, amount)
                    VALUES (777, 1, 4500000), (777, 2, -4500000), (778, 1, 1234), ('12x', 2, 0)
                    """)
        }
        let error = ExportError.orphanSplits(
            path: file, splits: 4, debits: Money(cents: 4_501_234), credits: Money(cents: 4_500_000))
        #expect(throws: error) { try JournalExport.export(file: file, format: format, to: folder.file("out")) }
        #expect(try leftovers() == [])
        #expect(
            error.errorDescription
                == "4 splits of \(file) belong to no transaction (orphan-split): 45,012.34 in debits and 45,000.00 in credits that an export would leave out, so that its balances would disagree with the trial balance. Run 'ledger verify \(file)' to see them, then 'ledger rebuild \(file)' to gather them into a transaction."
        )
    }

    /// The reviewer's case: transaction 1 deleted, its splits left behind.
    @Test func aDeletedTransactionsSplitsAreRefused() throws {
        let file = try Damage.sample(in: folder, transactions: 200, seed: 1)
        let (count, debits) = try Damage.apply(to: file) { db in
            let figures = try Row.fetchOne(
                db, sql: "SELECT COUNT(*) AS n, SUM(MAX(amount, 0)) AS d FROM splits WHERE transaction_id = 1")
            try db.execute(sql: "DELETE FROM transactions WHERE id = 1")
            return (figures?.integer("n") ?? 0, figures?.integer("d") ?? 0)
        }
        #expect(count > 1)
        #expect(
            throws: ExportError.orphanSplits(
                path: file, splits: Int(count), debits: Money(cents: debits), credits: Money(cents: debits))
        ) { try JournalExport.export(file: file, format: .hledger, to: folder.file("out")) }
        #expect(try leftovers() == [])
    }

    @Test func orphansTooLargeToTotalSaySo() throws {
        let file = try Damage.sample(in: folder, transactions: 20)
        try Damage.apply(to: file) { db in
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9224)
                    INSERT INTO splits (transaction_id, account_id, amount) SELECT 777, 1, 1000000000000000 FROM n
                    """)
        }
        let error = ExportError.orphanSplits(path: file, splits: 9_224, debits: nil, credits: .zero)
        #expect(throws: error) { try JournalExport.export(file: file, format: .csv, to: folder.file("out")) }
        #expect(
            error.errorDescription?.hasPrefix(
                "9224 splits of \(file) belong to no transaction (orphan-split): more than 92,233,720,368,547,758.07 in debits and 0.00 in credits"
            ) == true)
    }
}
