import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// Statements as banks really write them (fixtures of our own, one per shape):
/// each asserts the exact lines, amounts and accounts stored, that importing
/// again adds nothing, that a refused file adds nothing, and that verify stays
/// clean after import, match and add.
@Suite struct RealStatementTests {
    let folder = TemporaryDirectory()

    private func write(_ name: String, _ text: String, encoding: String.Encoding = .utf8) throws -> String {
        let path = folder.file(name)
        guard let data = text.data(using: encoding) else { throw StatementError.unreadable(path: path) }
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A new company with the default chart (Checking, Savings, Business Credit Card…).
    private func company() throws -> String {
        let path = folder.file("books.db")
        _ = try CompanyFile.create(at: path, profile: CompanyProfile(name: "Acme Plumbing"))
        return path
    }

    /// (account name, fitid, posted, amount, payee) of every feed line, in id order.
    private func feed(_ path: String) throws -> [String] {
        try CompanyFile.read(path) { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT a.name, f.fitid, f.posted_date, f.amount, COALESCE(f.payee, '-') AS payee
                    FROM bank_feed f JOIN accounts a ON a.id = f.account_id ORDER BY f.id
                    """
            ).map { row in
                "\(row.text("name") ?? "") \(row.text("fitid") ?? "") \(row.text("posted_date") ?? "") \(row.integer("amount") ?? 0) \(row.text("payee") ?? "")"
            }
        }
    }

    private func expectClean(_ path: String) throws {
        let report = try Verifier.verify(path: path)
        #expect(report.findings.isEmpty, "\(report.findings.map(\.message))")
    }

    static let severalStatements = """
        OFXHEADER:100
        DATA:OFXSGML
        VERSION:102

        <OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20260201</SONRS></SIGNONMSGSRSV1>
        <BANKMSGSRSV1>
        <STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
        <STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>021000021<ACCTID>1111<ACCTTYPE>CHECKING</BANKACCTFROM>
        <BANKTRANLIST><DTSTART>20260101<DTEND>20260131
        <STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260105<TRNAMT>-45.10<FITID>A1<NAME>Shell</STMTTRN>
        <STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260110<TRNAMT>1200.00<FITID>A2<NAME>Deposit</STMTTRN>
        </BANKTRANLIST><LEDGERBAL><BALAMT>1154.90<DTASOF>20260131</LEDGERBAL></STMTRS></STMTTRNRS>
        <STMTTRNRS><TRNUID>2<STATUS><CODE>0<SEVERITY>INFO</STATUS>
        <STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>021000021<ACCTID>2222<ACCTTYPE>SAVINGS</BANKACCTFROM>
        <BANKTRANLIST><STMTTRN><TRNTYPE>INT<DTPOSTED>20260131<TRNAMT>3.12<FITID>A1<NAME>Interest</STMTTRN></BANKTRANLIST>
        <LEDGERBAL><BALAMT>8012.89<DTASOF>20260131</LEDGERBAL></STMTRS></STMTTRNRS>
        </BANKMSGSRSV1>
        <CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>3<STATUS><CODE>0<SEVERITY>INFO</STATUS>
        <CCSTMTRS><CURDEF>USD<CCACCTFROM><ACCTID>4000123412341234</CCACCTFROM>
        <BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260112<TRNAMT>-29.99<FITID>C1<NAME>Books</STMTTRN></BANKTRANLIST>
        </CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>
        """

    @Test func severalStatementsGoEachToItsOwnAccount() throws {
        let books = try company()
        let path = try write("three.qbo", Self.severalStatements)
        let file = try OFXReader.readFile(path: path)
        #expect(
            file.statements.map(\.name) == [
                "checking 1111 at bank 021000021", "savings 2222 at bank 021000021", "card 4000123412341234",
            ])
        #expect(file.statements.map(\.kind) == [.bank, .bank, .creditCard])

        // Without a mapping: refused, with the statements and the command to use.
        #expect(throws: FeedError.self) {
            try FeedImport.run(file: books, statements: file, from: path, accounts: AccountChoice(account: "Checking"))
        }
        #expect(try feed(books).isEmpty)
        do {
            _ = try FeedImport.run(
                file: books, statements: file, from: path, accounts: AccountChoice(account: "Checking"))
        } catch let error as FeedError {
            let message = error.localizedDescription
            #expect(
                message.contains("3 statements: checking 1111 at bank 021000021, 2 lines, 2026-01-05 to 2026-01-10;"),
                "\(message)")
            #expect(
                message.contains(
                    "--account 1111=\"Checking\" --account 2222=\"Savings\" --account 4000123412341234=\"Credit Card\""),
                "\(message)")
        }

        let choice = AccountChoice(
            ["1111=Checking", "2222=Savings", "4000123412341234=Business Credit Card"],
            accountIDs: ["1111", "2222", "4000123412341234"])
        let report = try FeedImport.run(file: books, statements: file, from: path, accounts: choice)
        #expect(report.statements.map(\.added) == [2, 1, 1])
        #expect(report.statements.map(\.account) == ["Checking", "Savings", "Business Credit Card"])
        // Each statement's balance against its own account.
        #expect(report.statements.map { $0.balanceCheck?.statement } == [115_490, 801_289, nil])
        #expect(
            try feed(books) == [
                "Checking A1 2026-01-05 -4510 Shell", "Checking A2 2026-01-10 120000 Deposit",
                "Savings A1 2026-01-31 312 Interest", "Business Credit Card C1 2026-01-12 -2999 Books",
            ])
        let again = try FeedImport.run(file: books, statements: file, from: path, accounts: choice)
        #expect(again.added == 0 && again.alreadyPresent == 4)
        _ = try FeedBook.match(file: books, addTo: "Uncategorized Expense")
        try expectClean(books)
    }

    @Test func investmentStatementsAreRefused() throws {
        let books = try company()
        let path = try write(
            "brokerage.ofx",
            """
            <OFX><INVSTMTMSGSRSV1><INVSTMTTRNRS><INVSTMTRS><DTASOF>20260131<CURDEF>USD
            <INVACCTFROM><BROKERID>fidelity.com<ACCTID>X123</INVACCTFROM>
            <INVTRANLIST><INVBANKTRAN><STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260115<TRNAMT>-8.4850<FITID>I1<NAME>Cash</STMTTRN>
            <SUBACCTFUND>CASH</INVBANKTRAN></INVTRANLIST></INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1></OFX>
            """)
        let file = try OFXReader.readFile(path: path)
        #expect(file.statements.map(\.kind) == [.investment])
        #expect(throws: FeedError.investment(statement: "investment account X123")) {
            try FeedImport.run(file: books, statements: file, from: path, accounts: AccountChoice(account: "Checking"))
        }
        #expect(try feed(books).isEmpty)
    }

    @Test func aCardStatementIsNotImportedIntoABankAccountUnlessForced() throws {
        let books = try company()
        let path = try write(
            "card.ofx",
            """
            <OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><CCSTMTRS><CURDEF>USD<CCACCTFROM><ACCTID>9999</CCACCTFROM>
            <BANKTRANLIST><STMTTRN><DTPOSTED>20260112<TRNAMT>-29.99<FITID>C1<NAME>Books</STMTTRN></BANKTRANLIST>
            </CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>
            """)
        let statement = try OFXReader.read(path: path)
        #expect(throws: FeedError.kindMismatch(statement: "card 9999", account: "Checking", type: "bank")) {
            try FeedImport.run(file: books, statement: statement, from: path, account: "Checking")
        }
        #expect(try feed(books).isEmpty)
        #expect(
            try FeedImport.run(file: books, statement: statement, from: path, account: "Checking", force: true).added
                == 1)
        #expect(
            try FeedImport.run(file: books, statement: statement, from: path, account: "Business Credit Card").added
                == 1)
    }

    @Test func repeatedAndMissingIDsAreDistinctLines() throws {
        let books = try company()
        let path = try write(
            "zeros.ofx",
            """
            <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD
            <BANKACCTFROM><BANKID>1<ACCTID>1111<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST>
            <STMTTRN><DTPOSTED>20260105<TRNAMT>-10.00<FITID>0000000000<NAME>Coffee</STMTTRN>
            <STMTTRN><DTPOSTED>20260105<TRNAMT>-10.00<FITID>0000000000<NAME>Coffee</STMTTRN>
            <STMTTRN><DTPOSTED>20260106<TRNAMT>-7.25<FITID>0000000000<NAME>Bakery</STMTTRN>
            <STMTTRN><DTPOSTED>20260107<TRNAMT>-3.00<NAME>No id</STMTTRN>
            <STMTTRN><DTPOSTED>20260107<TRNAMT>-3.00<NAME>No id</STMTTRN>
            </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
            """)
        let statement = try OFXReader.read(path: path)
        #expect(statement.madeIDs == 2)
        #expect(Array(statement.lines.map(\.fitid).prefix(3)) == ["0000000000", "0000000000", "0000000000"])
        #expect(Set(statement.lines.map(\.fitid)).count == 3)
        let report = try FeedImport.run(file: books, statement: statement, from: path, account: "Checking")
        #expect(report.added == 5)
        #expect(report.statements[0].madeIDs == 2)
        #expect(
            try FeedImport.run(file: books, statement: try OFXReader.read(path: path), from: path, account: "Checking")
                .added == 0)
        #expect(try feed(books).map { $0.split(separator: " ")[3] } == ["-1000", "-1000", "-725", "-300", "-300"])
        #expect(
            Array(try feed(books).map { $0.split(separator: " ")[1] }.prefix(3)) == [
                "0000000000", "0000000000#2", "0000000000#3",
            ])
    }

    /// The reviewer's ids `X`, `X`, `X#2`: the second `X` may not take the
    /// third line's own id, or that line is "already present" and lost.
    @Test func aRepeatedIDNeverTakesAnotherLinesID() throws {
        let books = try company()
        let path = try write(
            "ids.csv", "Date,Amount,Payee,Id\n2026-01-05,-10.00,A,X\n2026-01-06,-20.00,B,X\n2026-01-07,-30.00,C,X#2\n")
        let mapping = CSVMapping(date: "Date", amount: "Amount", payee: "Payee", id: "Id")
        let statement = try CSVReader.read(path: path, mapping: mapping)
        #expect(statement.lines.map(\.fitid) == ["X", "X", "X#2"])
        let report = try FeedImport.run(file: books, statement: statement, from: path, account: "Checking")
        #expect(report.added == 3)
        #expect(
            try feed(books) == [
                "Checking X 2026-01-05 -1000 A", "Checking X#3 2026-01-06 -2000 B", "Checking X#2 2026-01-07 -3000 C",
            ])
        let again = try FeedImport.run(
            file: books, statement: try CSVReader.read(path: path, mapping: mapping), from: path, account: "Checking")
        #expect(again.added == 0)
    }

    /// Shapes a review found read wrongly without a word: a field with the
    /// delimiter and no quotes, a quote never closed, a negative credit, and a
    /// first line with a date that is no date under a header of numbered columns.
    @Test func csvShapesThatWouldLoseALineAreRefusedOrRejected() throws {
        let mapping = CSVMapping(date: "Date", amount: "Amount", payee: "Payee")
        let shifted = try CSVReader.read(
            path: try write("shifted.csv", "Date,Amount,Payee\n2026-01-06,-1,234.56,Rent\n2026-01-05,-10.00,Rent\n"),
            mapping: mapping)
        #expect(shifted.lines.map(\.amount) == [-1_000])
        #expect(
            shifted.rejected
                == [
                    RejectedLine(
                        line: 2,
                        reason: "it has 4 fields and the header names 3: a ',' inside a field that is not in quotes?")
                ])
        // A trailing empty field is no shift.
        let trailing = try CSVReader.read(
            path: try write("trailing.csv", "Date,Amount,Payee\n2026-01-05,-10.00,Rent,\n"), mapping: mapping)
        #expect(trailing.lines.map(\.amount) == [-1_000] && trailing.rejected == [])

        let unclosed = try write(
            "unclosed.csv", "Date,Amount,Payee\n2026-01-05,-10.00,\"Joe's\n2026-01-06,-20.00,B\n2026-01-07,-30.00,C\n")
        #expect(
            throws: StatementError.notAStatement(
                path: unclosed,
                reason:
                    "a quote opened on line 2 is never closed, so every line after it would be read as one field; fix that line, then import again"
            )
        ) { try CSVReader.read(path: unclosed, mapping: mapping) }

        let columns = try CSVReader.read(
            path: try write("credit.csv", "Date,Payee,Debit,Credit\n2026-01-05,Refund,,-25.00\n2026-01-06,Fee,5.00,\n"),
            mapping: CSVMapping(date: "Date", payee: "Payee", debit: "Debit", credit: "Credit"))
        #expect(columns.lines.map(\.amount) == [-500])
        #expect(
            columns.rejected
                == [
                    RejectedLine(
                        line: 2,
                        reason: "its credit amount '-25.00' is negative: credits are written as positive numbers")
                ])

        let numbered = try CSVReader.read(
            path: try write(
                "numbered.csv",
                "Date,Amount,Payee\n2026-02-30,-999.00,First\n2026-03-01,-10.00,Second\n2026-03-02,-20.00,Third\n"),
            mapping: CSVMapping(date: "1", amount: "2", payee: "3"))
        #expect(numbered.lines.map(\.amount) == [-1_000, -2_000])
        #expect(numbered.rejected.map(\.line) == [2], "the line with no real date is rejected, not taken as the header")

        // A payee that speaks of a balance does not make a line with an amount a summary.
        let transfer = try CSVReader.read(
            path: try write(
                "transfer.csv",
                "Date,Amount,Payee\n2026-02-30,-45.00,Balance transfer\n2026-03-01,-10.00,Fee\n,,Total balance,55.00\n"),
            mapping: mapping)
        #expect(transfer.rejected.map(\.line) == [2] && transfer.summaries.map(\.line) == [4])
    }

    /// The reviewer's case: a line the feed has under the next statement's own
    /// id is that line, so a second line of that day and amount is new, not a
    /// probable duplicate of it, wherever it stands in the file.
    @Test func aLineAlreadyHereByItsOwnIDIsNoOtherLinesOriginal() throws {
        let books = try company()
        func ofx(_ name: String, _ lines: [String]) throws -> String {
            try write(
                name,
                "<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD<BANKTRANLIST>\n"
                    + lines.map { "<STMTTRN><DTPOSTED>20260131<TRNAMT>-3.00<FITID>\($0)<NAME>Fee \($0)</STMTTRN>\n" }
                    .joined() + "</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n")
        }
        let first = try ofx("month1.ofx", ["A1"])
        _ = try FeedImport.run(
            file: books, statement: try OFXReader.read(path: first), from: first, account: "Checking")
        let second = try ofx("month2.ofx", ["B7", "A1"])
        let report = try FeedImport.run(
            file: books, statement: try OFXReader.read(path: second), from: second, account: "Checking")
        #expect(report.added == 1 && report.statements[0].probableDuplicates == [])
        #expect(try FeedBook.lines(file: books, status: "new").map(\.fitid).sorted() == ["A1", "B7"])
    }

    @Test func aFileCutShortAddsNothing() throws {
        let books = try company()
        let whole = """
            <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD<BANKTRANLIST>
            <STMTTRN><DTPOSTED>20260105<TRNAMT>-10.00<FITID>A1<NAME>Coffee</STMTTRN>
            <STMTTRN><DTPOSTED>20260106<TRNAMT>-7.25<FITID>A2<NAME>Bakery</STMTTRN>
            </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
            """
        let cut = try write("cut.ofx", String(whole.prefix(whole.count - 140)))
        let statement = try OFXReader.read(path: cut)
        #expect(statement.rejected.map(\.reason) == ["the file ends before the statement does: download it again"])
        let report = try FeedImport.run(file: books, statement: statement, from: cut, account: "Checking")
        #expect(report.added == 0 && !report.rejected.isEmpty)
        #expect(try feed(books).isEmpty)
        // A file that never closes its lines (old SGML writers) but ends its list is whole.
        let unclosed = try write("unclosed.ofx", whole.replacingOccurrences(of: "</STMTTRN>", with: ""))
        let lines = try OFXReader.read(path: unclosed)
        #expect(lines.rejected == [] && lines.lines.map(\.amount) == [-1_000, -725])
    }

    @Test func utf16FilesNULsAndTheBanksErrorReply() throws {
        let books = try company()
        let statement = """
            <?xml version="1.0" encoding="UTF-16"?><OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD<BANKTRANLIST>
            <STMTTRN><DTPOSTED>20260105</DTPOSTED><TRNAMT>-10.00</TRNAMT><FITID>A1</FITID><NAME>Caf\u{E9} Joe\u{0}s Diner</NAME></STMTTRN>
            </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
            """
        var data = Data([0xFF, 0xFE])
        data.append(statement.data(using: .utf16LittleEndian) ?? Data())
        let path = folder.file("utf16.ofx")
        try data.write(to: URL(fileURLWithPath: path))
        let read = try OFXReader.read(path: path)
        #expect(read.lines.map(\.payee) == ["Café Joe s Diner"])
        #expect(try FeedImport.run(file: books, statement: read, from: path, account: "Checking").added == 1)
        #expect(try feed(books) == ["Checking A1 2026-01-05 -1000 Café Joe s Diner"])

        let reply = try write(
            "error.ofx",
            """
            <OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>15500<SEVERITY>ERROR<MESSAGE>Invalid user ID or password</STATUS>
            </SONRS></SIGNONMSGSRSV1></OFX>
            """)
        #expect(throws: StatementError.bankReply(path: reply, message: "Invalid user ID or password (code 15500)")) {
            try OFXReader.read(path: reply)
        }
    }

    @Test(arguments: [
        ("1,120.00", nil, Int64?.some(112_000)), ("1.234,56", nil, 123_456), ("-1 234,56", nil, -123_456),
        ("(12.00)", nil, -1_200), ("12.00-", nil, -1_200), ("$1,120.00", nil, 112_000), ("+ $73.01", nil, 7_301),
        ("-$5", nil, -500), ("€ 5,10", AmountStyle.Separator.comma, 510), ("1,120", nil, nil),
        ("1,120", AmountStyle.Separator.comma, 112), ("-8.4850", nil, nil), ("12,34", nil, 1_234),
        ("1,12,0", nil, nil), ("(12", nil, nil), ("12,34", AmountStyle.Separator.point, nil),
        // A digit with a combining mark, a joiner or a variation selector is no digit (these read as 0 once).
        ("-1\u{301}2.34", nil, nil), ("-12.3\u{301}4", nil, nil), ("-1\u{200D}00.00", nil, nil),
        ("-5\u{FE0F}.00", nil, nil), ("-1\u{FE0F}\u{20E3}", nil, nil),
        // Two signs, and more than one stored amount may hold (docs/findings.md).
        ("(-12.00)", nil, nil), ("--12", nil, nil), ("-12-", nil, nil), ("+-12", nil, nil),
        ("-10,000,000,000,000.00", nil, -1_000_000_000_000_000), ("-10,000,000,000,000.01", nil, nil),
        ("-99999999999999.99", nil, nil),
    ])
    func amountsAsBanksWriteThem(text: String, decimal: AmountStyle.Separator?, cents: Int64?) {
        // As in a file of this one amount: the separator found from it unless given.
        let style = AmountStyle(decimal: decimal).detected(from: [text])
        #expect((try? style.cents(text).get()) == cents, "\(text)")
    }

    @Test func theDecimalSeparatorIsFoundPerFileAndCentsRoundedOnlyWhenAsked() throws {
        #expect(AmountStyle().detected(from: ["1.234,56", "-12,00"]).decimal == .comma)
        #expect(AmountStyle().detected(from: ["1,120.00", "-12.00"]).decimal == .point)
        #expect(AmountStyle().detected(from: ["1,120", "5"]).decimal == nil)
        #expect(AmountStyle().detected(from: ["-45.10", "12,34"]).decimal == nil)

        let books = try company()
        let path = try write(
            "cash.ofx",
            """
            <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD<BANKTRANLIST>
            <STMTTRN><DTPOSTED>20260105<TRNAMT>-8.4850<FITID>A1</STMTTRN>
            <STMTTRN><DTPOSTED>20260106<TRNAMT>-8.4950<FITID>A2</STMTTRN>
            <STMTTRN><DTPOSTED>20260107<TRNAMT>2.0051<FITID>A3</STMTTRN>
            </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
            """)
        let refused = try OFXReader.read(path: path)
        #expect(refused.rejected.count == 3 && refused.lines.isEmpty)
        let rounded = try OFXReader.read(path: path, style: AmountStyle(roundCents: true))
        // Half to even: -8.485 → -8.48, -8.495 → -8.50, 2.0051 → 2.01.
        #expect(rounded.lines.map(\.amount) == [-848, -850, 201])
        #expect(rounded.rounded.lines == 3)
        #expect(rounded.rounded.byCents == Decimal(string: "0.49"))
        #expect(
            try FeedImport.run(file: books, statement: rounded, from: path, account: "Checking").statements[0].rounded
                .lines == 3)
    }

    @Test func csvExportsAsBanksWriteThem() throws {
        let books = try company()
        // A title line before the header, US dates, $ signs, parentheses, a footer.
        let us = try write(
            "us.csv",
            """
            Account: Business Checking ****1234
            Date,Description,Amount,Running Bal.
            3/18/2016,"GROCERY, INC",($12.00),"$1,108.00"
            3/19/2016,PAYROLL,"$1,120.00","$2,228.00"
            03/20/2016,Transfer,+ $73.01,"$2,301.01"
            ***END OF FILE***
            """)
        let mapping = CSVMapping(date: "Date", amount: "Amount", payee: "Description", dateFormat: "M/D/YYYY")
        let strict = try CSVReader.read(path: us, mapping: mapping)
        #expect(strict.lines.map(\.amount) == [-1_200, 112_000, 7_301])
        #expect(strict.rejected.map(\.line) == [6])
        #expect(strict.rejected.first?.reason.contains("--skip-footer") == true)
        var footerless = mapping
        footerless.skipFooter = true
        let read = try CSVReader.read(path: us, mapping: footerless)
        #expect(read.rejected.isEmpty && read.skipped.map(\.line) == [6])
        #expect(read.lines.map(\.posted) == ["2016-03-18", "2016-03-19", "2016-03-20"])
        #expect(read.lines.map(\.payee) == ["GROCERY, INC", "PAYROLL", "Transfer"])
        #expect(try FeedImport.run(file: books, statement: read, from: us, account: "Checking").added == 3)
        #expect(
            try FeedImport.run(
                file: books, statement: try CSVReader.read(path: us, mapping: footerless), from: us,
                account: "Checking"
            ).added == 0)

        // Debit and credit columns, ISO date-times.
        let columns = try write(
            "columns.csv",
            """
            Posted,Payee,Debit,Credit
            2026-02-01T09:30:00,Card fee,29.99,
            2026-02-02 10:00,Refund,,15.00
            """)
        let split = try CSVReader.read(
            path: columns, mapping: CSVMapping(date: "Posted", payee: "Payee", debit: "Debit", credit: "Credit"))
        #expect(split.rejected == [] && split.lines.map(\.amount) == [-2_999, 1_500])
        #expect(split.lines.map(\.posted) == ["2026-02-01", "2026-02-02"])

        // A type column: a 29.99 debit is money out, whatever the sign says.
        let typed = try write(
            "typed.csv",
            """
            Date;Type;Amount;Text
            1.2.2026;DEBIT;29,99;Books
            2.2.2026;CREDIT;1.234,56;Client
            3.2.2026;Other;1,00;?
            """)
        let byType = try CSVReader.read(
            path: typed,
            mapping: CSVMapping(
                date: "Date", amount: "Amount", payee: "Text", type: "Type",
                dateFormat: "D.M.YYYY", delimiter: ";"))
        #expect(byType.lines.map(\.amount) == [-2_999, 123_456])
        #expect(byType.rejected.map(\.line) == [4])
        try expectClean(books)
    }

    @Test func addingALineWithoutAPayeeLeavesVerifyClean() throws {
        let books = try company()
        let path = try write(
            "nameless.ofx",
            """
            <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD<BANKTRANLIST>
            <STMTTRN><DTPOSTED>20260105<TRNAMT>-45.10<FITID>A1<NAME></STMTTRN>
            </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
            """)
        #expect(
            try FeedImport.run(file: books, statement: try OFXReader.read(path: path), from: path, account: "Checking")
                .added == 1)
        let report = try FeedBook.match(file: books, addTo: "Uncategorized Expense")
        #expect(report.added.count == 1)
        let named = try CompanyFile.read(books) { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM transactions WHERE party_id IS NOT NULL")
        }
        #expect(named == 0)
        try expectClean(books)
    }
}
