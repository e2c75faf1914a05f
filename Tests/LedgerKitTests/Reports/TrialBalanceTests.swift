import Foundation
import GRDB
import Testing

@testable import LedgerKit

@Suite struct TrialBalanceTests {
    let folder = TemporaryDirectory()

    @Test func balancesAndMatchesTheSplits() throws {
        let path = try Damage.sample(in: folder, transactions: 2_000)
        // The cached balance is wrong on purpose: the report must not read it.
        try Damage.apply(to: path) { db in try db.execute(sql: "UPDATE accounts SET balance = 0") }
        let report = try TrialBalance.read(path: path)
        #expect(report.isBalanced)
        #expect(report.totalDebits.cents > 0)
        #expect(report.company == "Sample Company")
        let sums = try DatabaseQueue(path: path).read { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(
                    db, sql: "SELECT account_id, SUM(amount) AS total FROM splits GROUP BY account_id HAVING total != 0"
                )
                .map { ($0["account_id"] as Int64, $0["total"] as Int64) })
        }
        #expect(report.lines.count == sums.count)
        for line in report.lines {
            #expect(line.debit.cents - line.credit.cents == sums[line.accountID], "\(line.name)")
            #expect(line.debit.cents == 0 || line.credit.cents == 0)
        }
        let wages = try #require(report.lines.first { $0.number == "6510" })
        #expect(wages.name == "Payroll Expenses:Wages")
        #expect(wages.type == "expense")
        #expect(report.lines.map(\.number) == report.lines.map(\.number).sorted { ($0 ?? "") < ($1 ?? "") })
    }

    @Test func asOfADaySumsOnlyUpToIt() throws {
        let path = try Damage.sample(in: folder, transactions: 2_000)
        let day = CivilDate("2023-03-31")!
        let report = try TrialBalance.read(path: path, asOf: day)
        #expect(report.asOf == "2023-03-31")
        #expect(report.isBalanced)
        let checking = try DatabaseQueue(path: path).read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT SUM(s.amount) FROM splits s JOIN transactions t ON t.id = s.transaction_id
                    WHERE s.account_id = 1 AND t.date <= '2023-03-31'
                    """)
        }
        let line = try #require(report.lines.first { $0.accountID == 1 })
        #expect(line.debit.cents - line.credit.cents == checking)
        #expect(report.totalDebits < (try TrialBalance.read(path: path)).totalDebits)
    }

    @Test func showsWhenTheBooksDoNotBalance() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "UPDATE splits SET amount = amount + 1234 WHERE id = 5")
            try db.execute(sql: "UPDATE splits SET account_id = 777 WHERE id = 6")
        }
        let report = try TrialBalance.read(path: path)
        #expect(!report.isBalanced)
        #expect(report.totalDebits - report.totalCredits == Money(cents: 1234))
        #expect(report.lines.contains { $0.accountID == 777 && $0.name == "Missing account 777" })
    }
}
