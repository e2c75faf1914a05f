import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// Check numbers, probable duplicates, summary rows, date layouts, and what
/// `unmatch` records when it takes a transaction out of the books.
@Suite struct BankLineTests {
    let folder = TemporaryDirectory()

    @Test(
        arguments: [
            ("Check 1043", "1043"), ("CHECK #1043", "1043"), ("Check No. 1043", "1043"), ("check 1043; Rent", "1043"),
            ("Checkcard 0312 Coffee", nil), ("Check deposit", nil), ("Rent", nil),
        ] as [(String, String?)])
    func checkNumbersAreFoundAtTheStart(text: String, number: String?) {
        #expect(CheckNumber.found(payee: nil, memo: text) == number)
        #expect(CheckNumber.found(payee: text, memo: nil) == number)
    }

    @Test func checkNumbersAreKeptInTheMemoOnce() {
        #expect(CheckNumber.memo("Rent", payee: "Landlord", number: "1043") == "Check 1043; Rent")
        #expect(CheckNumber.memo(nil, payee: nil, number: "1043") == "Check 1043")
        #expect(CheckNumber.memo(nil, payee: "CHECK #1043", number: "1043") == nil)
        #expect(CheckNumber.memo("Rent", payee: nil, number: nil) == "Rent")
        #expect(CheckNumber.memoWithout("Check 1043; Rent", number: "1043") == "Rent")
        #expect(CheckNumber.memoWithout("Check 1043", number: "1043") == nil)
        #expect(CheckNumber.memoWithout("Check 10430", number: "1043") == "Check 10430")
    }

    @Test func probableDuplicateWordsComeOffAgain() {
        #expect(
            ProbableDuplicate.memo("Service charge", original: 17) == "Probable duplicate of line 17; Service charge")
        #expect(ProbableDuplicate.memoWithout("Probable duplicate of line 17; Service charge") == "Service charge")
        #expect(ProbableDuplicate.memoWithout("Probable duplicate of line 17") == nil)
        #expect(ProbableDuplicate.memoWithout("Service charge") == "Service charge")
    }

    @Test func dateSuggestions() throws {
        let us = try #require(CSVReader.DateFormat("MM/DD/YYYY"))
        let iso = try #require(CSVReader.DateFormat("YYYY-MM-DD"))
        #expect(
            CSVReader.DateFormat.suggestion(for: "31/01/2026", among: ["31/01/2026"], instead: us)
                == "; import with --date-format DD/MM/YYYY, which reads it")
        #expect(
            CSVReader.DateFormat.suggestion(for: "01.02.2026", among: ["01.02.2026", "13.02.2026"], instead: iso)
                == "; import with --date-format DD.MM.YYYY, which reads it")
        #expect(
            CSVReader.DateFormat.suggestion(for: "2026/01/31", among: [], instead: iso)
                == "; import with --date-format YYYY/MM/DD, which reads it")
        #expect(CSVReader.DateFormat.suggestion(for: "Jan 5 2026", among: [], instead: iso) == "")
        #expect(CSVReader.DateFormat.suggestion(for: "31/31/2026", among: [], instead: us) == "")
    }

    @Test func csvCheckColumnAndSummaryRows() throws {
        let path = folder.file("bank.csv")
        try
            "Date,Payee,Amount,Check No\nOpening balance,,,\n2026-01-05,Landlord,-900.00,1043\n2026-01-06,Coffee,-4.00,\nTotal,,-904.00,\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let statement = try CSVReader.read(
            path: path, mapping: CSVMapping(date: "Date", amount: "Amount", payee: "Payee", check: "Check No"))
        #expect(statement.lines.map(\.checkNumber) == ["1043", nil])
        #expect(
            statement.summaries == [
                RejectedLine(line: 2, reason: "Opening balance"), RejectedLine(line: 5, reason: "Total"),
            ])
        #expect(statement.rejected == [])
    }

    @Test func unmatchRecordsWhatItTookOut() throws {
        let path = folder.file("books.db")
        _ = try CompanyFile.create(at: path, profile: CompanyProfile(name: "Acme Plumbing"))
        let ofx = folder.file("one.ofx")
        try """
        <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD<BANKTRANLIST>
        <STMTTRN><DTPOSTED>20260105<TRNAMT>-45.10<FITID>A1<CHECKNUM>1043<NAME>Acme Supply</STMTTRN>
        </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
        """.write(toFile: ofx, atomically: true, encoding: .utf8)
        _ = try FeedImport.run(file: path, statement: try OFXReader.read(path: ofx), from: ofx, account: "Checking")
        let added = try FeedBook.add(file: path, line: 1, to: "Office Supplies")
        #expect(added.transaction == "Check 1043 of 2026-01-05 for 45.10 (Acme Supply)")
        let undone = try FeedBook.unmatch(file: path, lines: [1])
        #expect(
            undone == [
                UnmatchedLine(
                    line: 1, was: "added", transactionID: 1, transaction: added.transaction, removed: true,
                    keptBecause: nil)
            ])
        try CompanyFile.read(path) { db in
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM transactions") == 0)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM splits") == 0)
            #expect(try Int64.fetchAll(db, sql: "SELECT balance FROM accounts WHERE balance != 0") == [])
            let summary = try #require(
                try String.fetchOne(db, sql: "SELECT summary FROM maintenance_runs WHERE command = 'feed unmatch'"))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any])
            let removed = try #require((object["removed"] as? [[String: Any]])?.first)
            #expect((removed["transaction"] as? [String: Any])?["number"] as? String == "1043")
            #expect((removed["splits"] as? [[String: Any]])?.map { $0["amount"] as? Int } == [-4510, 4510])
        }
        #expect(try Verifier.verify(path: path).ok)
        #expect(throws: FeedError.notLinked(line: 1, status: "new")) { try FeedBook.unmatch(file: path, lines: [1]) }
    }
}
