import Foundation
import GRDB
import Testing

@testable import LedgerKit

@Suite struct VerifyCatalogTests {
    let folder = TemporaryDirectory()

    @Test(arguments: [1, 40, 500, 3_000])
    func cleanSamplesReportNothing(transactions: Int) throws {
        let path = try Damage.sample(in: folder, transactions: transactions, seed: UInt64(transactions))
        let report = try Verifier.verify(path: path)
        #expect(report.findings == [])
        #expect(report.ok)
        #expect(report.formatVersion == 1)
        #expect(report.counts["transactions"] == transactions)
        #expect(report.counts["accounts"] == DefaultChart.entries.count)
        let quick = try Verifier.verify(path: path, quick: true)
        #expect(quick.findings == [])
    }

    @Test(arguments: FindingCode.allCases.filter { $0 != .sqliteCorruption })
    func findsEachFaultExactly(code: FindingCode) throws {
        let path = try Damage.sample(in: folder)
        let expected = try Damage.apply(to: path) { db in try Faults.inject(code, db) }
        #expect(expected.contains { $0.code == code })
        let report = try Verifier.verify(path: path)
        let found = Set(report.findings.map(Expected.init))
        #expect(
            found == expected, "missing: \(expected.subtracting(found)), unexpected: \(found.subtracting(expected))")
        #expect(report.findings.count == found.count, "one finding per row and code")
        #expect(
            report.findings == (try Verifier.verify(path: path, engine: .sql)).findings,
            "the native pass finds what the SQL finds")
        for finding in report.findings {
            #expect(finding.severity == finding.code.severity)
            #expect(finding.repairable == finding.code.isRepairable)
            #expect(!finding.message.isEmpty && !finding.message.contains("\n"))
        }
        #expect(!report.ok)
    }

    @Test func severitiesAndRepairsFollowTheSpec() {
        let warnings: Set<FindingCode> = [
            .lineItemMissing, .documentLinesMismatch, .reconciliationDiscrepancy,
            .feedAmountMismatch, .itemAccountMissing, .receivablePayableWithoutParty,
        ]
        let forAPerson: Set<FindingCode> = [
            .documentLinesMismatch, .reconciliationDiscrepancy,
            .receivablePayableWithoutParty, .invalidDate, .invalidValue,
        ]
        #expect(FindingCode.allCases.count == 32)
        for code in FindingCode.allCases {
            #expect(code.severity == (warnings.contains(code) ? .warning : .error), "\(code)")
            #expect(code.isRepairable == !forAPerson.contains(code), "\(code)")
        }
    }

    @Test func manyFaultsAreReportedInOneRun() throws {
        let path = try Damage.sample(in: folder)
        let codes: [FindingCode] = [
            .orphanSplit, .accountCycle, .feedAmountMismatch, .invalidDate,
            .documentBalanceMismatch, .itemAccountMissing, .schemaObjectMissing,
        ]
        let expected = try Damage.apply(to: path) { db in
            try codes.reduce(into: Set<Expected>()) { $0.formUnion(try Faults.inject($1, db)) }
        }
        let report = try Verifier.verify(path: path)
        #expect(Set(report.findings.map(Expected.init)) == expected)
        #expect(report.findings == (try Verifier.verify(path: path, engine: .sql)).findings)
    }

    @Test func messagesNameTheTransactionAsABookkeeperWould() throws {
        let path = try Damage.sample(in: folder)
        let check = try Damage.apply(to: path) { db -> Int64 in
            let check = try Damage.one(
                db, "SELECT MIN(id) FROM transactions WHERE kind = 'check' AND number GLOB '[0-9]*'")
            try db.execute(
                sql: "UPDATE transactions SET number = '1043', date = '2026-03-02' WHERE id = ?", arguments: [check])
            try db.execute(
                sql:
                    "UPDATE splits SET amount = amount - 1000 WHERE id = (SELECT MIN(id) FROM splits WHERE transaction_id = ? AND amount > 0)",
                arguments: [check])
            return check
        }
        let finding = try #require(try Verifier.verify(path: path).findings.first { $0.code == .unbalancedTransaction })
        #expect(finding.rowID == check)
        #expect(finding.message.hasPrefix("Check 1043 of 2026-03-02 for "))
        #expect(finding.message.hasSuffix("(transaction \(check)) is out of balance by -10.00"))
    }

    @Test func invalidAmountsAreSteppedAroundByBalanceChecks() throws {
        let path = try Damage.sample(in: folder)
        try Damage.apply(to: path) { db in
            try db.execute(
                sql:
                    "UPDATE splits SET amount = 10.5 WHERE id = (SELECT MIN(id) FROM splits WHERE account_id = (SELECT id FROM accounts WHERE name = 'Accounts Receivable'))"
            )
        }
        let codes = Set(try Verifier.verify(path: path).findings.map(\.code))
        #expect(codes == [.invalidValue])
    }
}
