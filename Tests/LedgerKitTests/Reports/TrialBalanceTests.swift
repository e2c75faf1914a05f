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

    /// Each account's sum of its splits whose amount is whole cents within the limit, from SQL.
    static func validSums(_ path: String, asOf: String? = nil) throws -> [Int64: Int64] {
        try DatabaseQueue(path: path).read { db in
            let within =
                asOf.map {
                    "AND s.transaction_id IN (SELECT id FROM transactions WHERE date <= '\($0)' AND date GLOB '????-??-??')"
                } ?? ""
            return try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(
                    db,
                    sql: """
                        SELECT account_id, SUM(amount) AS total FROM splits s
                        WHERE typeof(amount) = 'integer' AND abs(amount) <= \(Money.limit) \(within)
                        GROUP BY account_id HAVING total != 0
                        """
                )
                .map { ($0["account_id"] as Int64, $0["total"] as Int64) })
        }
    }

    /// Amounts that are not whole cents within the limit are left out of every sum and
    /// counted, as Verify leaves them out: one of them used to zero a whole account in the
    /// chart, and a decimal was cut to whole cents in the trial balance.
    @Test func amountsThatAreNotWholeCentsAreCountedNotSummed() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "UPDATE splits SET amount = 12000000.99 WHERE id = 2")
            try db.execute(sql: "UPDATE splits SET amount = '-18350000 dollars' WHERE id = 4")
            try db.execute(sql: "UPDATE splits SET amount = ? WHERE id = 5", arguments: [Money.limit + 1])
        }
        let sums = try Self.validSums(path)
        let report = try TrialBalance.read(path: path)
        #expect(report.leftOut == SplitsLeftOut(badAmounts: 3, noAccount: 0, undated: 0))
        #expect(report.lines.count == sums.count)
        for line in report.lines {
            #expect(line.debit.cents - line.credit.cents == sums[line.accountID], "\(line.name)")
        }
        let chart = try ChartOfAccounts.read(path: path)
        #expect(chart.leftOut == SplitsLeftOut(badAmounts: 3, noAccount: 0, undated: 0))
        for account in chart.accounts {
            #expect(account.balance.cents == sums[account.id] ?? 0, "\(account.name)")
        }
        #expect(chart.accounts.contains { $0.balance.cents != 0 && $0.id == 2 })
    }

    /// SQLite's SUM stops with "integer overflow" once its running total passes an Int64,
    /// which 9,300 amounts at the limit reach though the account's total is zero.
    /// A total no Int64 holds is refused with `SumError`, never a trap.
    @Test func sumsPastAnInt64NeitherStopNorTrap() throws {
        let path = try Damage.sample(in: folder, transactions: 100)
        let before = try TrialBalance.read(path: path)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "BEGIN")
            for sign in [1, -1] {
                for _ in 0..<9_300 {
                    try db.execute(
                        sql: "INSERT INTO splits (transaction_id, account_id, amount) VALUES (1, 1, ?)",
                        arguments: [Int64(sign) * Money.limit])
                }
            }
            try db.execute(sql: "COMMIT")
        }
        let after = try TrialBalance.read(path: path)
        #expect(after.lines == before.lines)
        #expect(after.leftOut.count == 0)
        #expect(
            try ChartOfAccounts.read(path: path).accounts.first { $0.id == 1 }?.balance
                == before.lines.first { $0.accountID == 1 }.map { $0.debit - $0.credit })

        try Damage.apply(to: path) { db in
            try db.execute(sql: "DELETE FROM splits WHERE account_id = 1 AND amount = ?", arguments: [-Money.limit])
        }
        #expect(throws: SumError.beyondMoney(what: "Checking")) { try TrialBalance.read(path: path) }
        #expect(throws: SumError.beyondMoney(what: "Checking")) { try ChartOfAccounts.read(path: path) }
    }

    /// As of a day, a split whose transaction is missing or dated in a form no day can be
    /// read from cannot be placed: counted, not silently left out.
    @Test func asOfADayCountsSplitsItCannotPlace() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        let moved = try Damage.apply(to: path) { db -> Int in
            try db.execute(sql: "UPDATE transactions SET date = '2023/01/01' WHERE id = 1")
            try db.execute(sql: "DELETE FROM transactions WHERE id = 3")
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM splits WHERE transaction_id IN (1, 3)") ?? 0
        }
        #expect(moved >= 4)
        let report = try TrialBalance.read(path: path, asOf: CivilDate("2024-12-31"))
        #expect(report.leftOut == SplitsLeftOut(badAmounts: 0, noAccount: 0, undated: moved))
        let sums = try Self.validSums(path, asOf: "2024-12-31")
        for line in report.lines {
            #expect(line.debit.cents - line.credit.cents == sums[line.accountID], "\(line.name)")
        }
        // Without a day every split is summed: none is left out.
        #expect(try TrialBalance.read(path: path).leftOut.count == 0)
    }

    /// An account whose parent is missing keeps its own name, in the chart and the trial
    /// balance, instead of dropping out of the chart; a missing account's splits are counted
    /// in the chart, which has no row for them.
    @Test func anAccountWhoseParentIsMissingKeepsItsName() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        let savings = try Damage.apply(to: path) { db -> String in
            try db.execute(sql: "UPDATE accounts SET parent_id = 777 WHERE id = 2")
            try db.execute(sql: "UPDATE splits SET account_id = 888 WHERE id = 6")
            return try String.fetchOne(db, sql: "SELECT name FROM accounts WHERE id = 2") ?? ""
        }
        let chart = try ChartOfAccounts.read(path: path)
        #expect(chart.accounts.first { $0.id == 2 }?.name == savings)
        #expect(chart.accounts.count == 54)
        #expect(chart.leftOut == SplitsLeftOut(badAmounts: 0, noAccount: 1, undated: 0))
        let report = try TrialBalance.read(path: path)
        #expect(report.lines.first { $0.accountID == 2 }?.name == savings)
        #expect(report.lines.contains { $0.accountID == 888 && $0.name == "Missing account 888" })
        #expect(report.leftOut.count == 0)
    }
}
