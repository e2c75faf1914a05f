import Foundation
import GRDB
import Testing

@testable import LedgerKit

@Suite struct CompanyInfoTests {
    let folder = TemporaryDirectory()

    /// Another program may store a blob or a number where text belongs: `ledger info`
    /// shows it as it reads, where GRDB's typed subscript ended the process.
    @Test func valuesThatAreNotTextAreShownNotTrappedOn() throws {
        let path = try Damage.sample(in: folder, transactions: 50)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "UPDATE company SET name = X'FF', currency = 42")
            try db.execute(
                sql: """
                    INSERT INTO maintenance_runs (id, command, started_at, finished_at, outcome, summary)
                    VALUES (90, X'00FF', 7, 2.5, NULL, CAST(X'41FF42' AS TEXT))
                    """)
        }
        let info = try CompanyInfo.read(path: path)
        #expect(info.company == "1 bytes of binary data")
        #expect(info.currency == "42")
        let run = try #require(info.lastRuns.first)
        #expect(run.id == 90)
        #expect(run.command == "2 bytes of binary data")
        #expect(run.startedAt == "7")
        #expect(run.finishedAt == "2.5")
        #expect(run.outcome == nil)
        #expect(run.summary == "A\u{FFFD}B")
        let balance = try TrialBalance.read(path: path)
        #expect(balance.company == "1 bytes of binary data")
        #expect(balance.isBalanced)
    }
}
