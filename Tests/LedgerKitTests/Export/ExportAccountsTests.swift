import Foundation
import GRDB
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// Every account stays an account of its own in the other tool, even when two
/// full names come out the same once made safe for hledger.
@Suite struct ExportAccountsTests {
    let folder = TemporaryDirectory()

    @Test func namesAreMadeSafeForAJournal() {
        #expect(ExportAccounts.hledgerName("Meals  and   Fun") == "Meals and Fun")
        #expect(ExportAccounts.hledgerName("(Old) Card") == "_(Old) Card")
        #expect(ExportAccounts.hledgerName("[Old] Card") == "_[Old] Card")
        #expect(ExportAccounts.hledgerName("  ") == "Unnamed")
        #expect(ExportAccounts.hledgerName("") == "Unnamed")
        #expect(ExportAccounts.hledgerName("* Star") == "_* Star")
        #expect(ExportAccounts.hledgerName("!Bang") == "_!Bang")
        #expect(ExportAccounts.hledgerName(";x") == "_;x")
        #expect(ExportAccounts.hledgerName("\u{A0}Cash\u{A0}\u{A0}Box\u{3000}") == "Cash Box")
        #expect(ExportAccounts.hledgerName("a\u{0B}b\r\nc\u{2028}d\u{0}e\u{85}f\tg") == "a b c d e f g")
        #expect(ExportAccounts.hledgerName("Smith; Jones (Holdings):A/R") == "Smith; Jones (Holdings):A/R")
    }

    /// Accounts whose names clash once cleaned, each with its own amount in one
    /// transaction; the reviewer's 'Checking ' among them.
    @Test func accountsWhoseNamesCleanAlikeStayApartInHledger() throws {
        let file = try Damage.sample(in: folder, transactions: 200, seed: 1)
        let accounts: [(id: Int64, name: String, type: String, hledger: String)] = [
            (901, "'Checking '", "bank", "Checking #901"),
            (
                902, "'Payroll Liabilities:Federal Withholding'", "equity",
                "Payroll Liabilities:Federal Withholding #902"
            ),
            (903, "''", "expense", "Unnamed"),
            (904, "'Unnamed'", "expense", "Unnamed #904"),
            (905, "'(Old)'", "expense", "_(Old)"),
            (906, "'_(Old)'", "expense", "_(Old) #906"),
            (907, "'* Star'", "expense", "_* Star"),
            (908, "'Star'", "expense", "Star"),
            (909, "'Missing account 77'", "expense", "Missing account 77"),
            (910, "'Cash' || char(160)", "bank", "Cash"),
            (911, "'Cash'", "bank", "Cash #911"),
        ]
        try Damage.apply(to: file) { db in
            for account in accounts {
                try db.execute(
                    sql:
                        "INSERT INTO accounts (id, name, type) VALUES (\(account.id), \(account.name), '\(account.type)')"
                )
            }
            try db.execute(
                sql: """
                    INSERT INTO transactions (id, kind, date, created_at, modified_at)
                    VALUES (9001, 'journal', '2024-01-01', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')
                    """)
            let posted = accounts.map(\.id) + [77]
            let values = posted.enumerated().map { "(9001, \($0.element), \(($0.offset + 1) * 100))" }
            try db.execute(
                sql: "INSERT INTO splits (transaction_id, account_id, amount) VALUES " + values.joined(separator: ", ")
                    + ", (9001, 1, -7800)")
        }
        let journal = folder.file("books.journal")
        try JournalExport.export(file: file, format: .hledger, to: journal)
        let fromHledger = try Hledger.balances(journal)
        for (offset, account) in accounts.enumerated() {
            #expect(fromHledger[account.hledger] == Hledger.usd(Int64(offset + 1) * 100), "\(account.hledger)")
        }
        #expect(fromHledger["Missing account 77 #missing"] == Hledger.usd(1_200))

        // Every other account too: hledger's balance of each is the trial balance's.
        let names = try ExportAccounts.read(file: file)
        var fromTrial: [String: String] = [:]
        for line in try TrialBalance.read(path: file).lines {
            let name = names.account(for: line.accountID.databaseValue).name
            fromTrial[name] = Hledger.usd(line.debit.cents - line.credit.cents)
        }
        #expect(fromHledger == fromTrial)
        #expect(fromTrial.count > accounts.count)
    }

    /// The same file gives the same names, whatever order SQLite reads accounts in.
    @Test func namesDoNotDependOnReadingOrder() throws {
        let file = try Damage.sample(in: folder, transactions: 50)
        try Damage.apply(to: file) { db in
            try db.execute(sql: "INSERT INTO accounts (id, name, type) VALUES (950, 'Checking ', 'bank')")
            try db.execute(sql: "INSERT INTO accounts (id, name, type) VALUES (949, 'Checking  ', 'bank')")
        }
        let names = try ExportAccounts.read(file: file)
        #expect(names.byID[1]?.name == "Checking")
        #expect(names.byID[949]?.name == "Checking #949")
        #expect(names.byID[950]?.name == "Checking #950")
    }

    /// The CSV writes the name "=SUM(A1)" as "'=SUM(A1)": an account already named so gets its id.
    @Test func namesStayApartInTheCSVToo() throws {
        let file = try Damage.sample(in: folder, transactions: 50)
        try Damage.apply(to: file) { db in
            try db.execute(sql: "UPDATE accounts SET name = '=SUM(A1)' WHERE id = 1")
            try db.execute(sql: "UPDATE accounts SET name = char(39) || '=SUM(A1)' WHERE id = 2")
        }
        let names = try ExportAccounts.read(file: file)
        #expect(names.byID[1]?.name == "=SUM(A1)")
        #expect(names.byID[2]?.name == "'=SUM(A1) #2")
        let path = folder.file("books.csv")
        try JournalExport.export(file: file, format: .csv, to: path)
        let accounts = Set(
            CSVReader.rows(of: try String(contentsOfFile: path, encoding: .utf8), delimiter: ",").records.map {
                $0.fields[5]
            })
        #expect(accounts.contains("'=SUM(A1)"))
        #expect(accounts.contains("'=SUM(A1) #2"))
    }
}
