import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// The attacker's review of import: statements that lost a line, changed a
/// cent or doubled a line without a word. Each test gives the exact lines the
/// feed holds afterwards, or the exact reason a line is refused.
@Suite struct HostileStatementTests {
    let folder = TemporaryDirectory()

    private func company(currency: String = "USD") throws -> String {
        let path = folder.file("books-\(currency).db")
        _ = try CompanyFile.create(at: path, profile: CompanyProfile(name: "Acme Plumbing", currency: currency))
        return path
    }

    /// "fitid posted amount status" of every feed line, in id order.
    private func feed(_ path: String) throws -> [String] {
        try CompanyFile.read(path) { db in
            try Row.fetchAll(db, sql: "SELECT fitid, posted_date, amount, status FROM bank_feed ORDER BY id").map {
                row in
                "\(row.text("fitid") ?? "") \(row.text("posted_date") ?? "") \(row.integer("amount") ?? 0) \(row.text("status") ?? "")"
            }
        }
    }

    /// An OFX 1.x file of one checking statement (ACCTID 123456) holding `transactions` as written.
    static func ofx(_ transactions: String, account: String = "123456") -> String {
        """
        OFXHEADER:100
        DATA:OFXSGML

        <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD
        <BANKACCTFROM><BANKID>021000021<ACCTID>\(account)<ACCTTYPE>CHECKING</BANKACCTFROM>
        <BANKTRANLIST>
        \(transactions)
        </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>

        """
    }

    private func importOFX(_ books: String, _ name: String, _ transactions: String) throws -> ImportReport {
        let path = try folder.write(name, Self.ofx(transactions))
        return try FeedImport.run(
            file: books, statement: try OFXReader.read(path: path), from: path, account: "Checking")
    }

    // MARK: Item 1 and 8: an id names a line only with its day and amount

    @Test func aReusedIDWithAnotherDayIsAddedAndListedNeverTakenForTheLineBefore() throws {
        let books = try company()
        let r1 = "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260106<TRNAMT>-2.00<FITID>D1<NAME>FEE</STMTTRN>"
        let r2 =
            "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260105<TRNAMT>-1.00<FITID>D1<NAME>FEE</STMTTRN>\n" + r1
        let first = try importOFX(books, "r1.ofx", r1)
        #expect(first.added == 1 && first.reusedIDs == [])
        let second = try importOFX(books, "r2.ofx", r2)
        #expect(second.added == 1)
        #expect(second.alreadyPresent == 1)
        #expect(second.probableDuplicates == [])
        #expect(
            second.reusedIDs == [
                ReusedID(
                    line: 2, fileLine: 7, fitid: "D1", storedAs: "D1#2", posted: "2026-01-05", amount: -100,
                    payee: "FEE", original: 1, originalPosted: "2026-01-06", originalAmount: -200)
            ])
        #expect(try feed(books) == ["D1 2026-01-06 -200 new", "D1#2 2026-01-05 -100 new"])
        // Again, and in the other order into other books: nothing more, nothing lost.
        let third = try importOFX(books, "r2.ofx", r2)
        #expect(third.added == 0 && third.alreadyPresent == 2 && third.reusedIDs == [])
        #expect(try importOFX(books, "r1.ofx", r1).alreadyPresent == 1)
        #expect(try feed(books) == ["D1 2026-01-06 -200 new", "D1#2 2026-01-05 -100 new"])
        #expect(try Verifier.verify(path: books).findings.isEmpty)
    }

    @Test func aReusedCSVIDIsTheSame() throws {
        let books = try company()
        let mapping = CSVMapping(date: "Date", amount: "Amount", id: "Ref")
        for (name, text) in [
            ("c1.csv", "Date,Amount,Ref\n2026-01-06,-2.00,DD\n"),
            ("c2.csv", "Date,Amount,Ref\n2026-01-05,-1.00,DD\n2026-01-06,-2.00,DD\n"),
        ] {
            let path = try folder.write(name, text)
            _ = try FeedImport.run(
                file: books, statement: try CSVReader.read(path: path, mapping: mapping), from: path,
                account: "Checking")
        }
        #expect(try feed(books) == ["DD 2026-01-06 -200 new", "DD#2 2026-01-05 -100 new"])
    }

    @Test func theSameIDWithAnotherAmountIsAddedAndListed() throws {
        let books = try company()
        _ = try importOFX(books, "same1.ofx", "<STMTTRN><DTPOSTED>20260105<TRNAMT>-10.00<FITID>X1<NAME>A</STMTTRN>")
        let second = try importOFX(
            books, "same2.ofx", "<STMTTRN><DTPOSTED>20260105<TRNAMT>-15.00<FITID>X1<NAME>A</STMTTRN>")
        #expect(second.added == 1 && second.alreadyPresent == 0)
        #expect(second.reusedIDs.map(\.storedAs) == ["X1#2"])
        #expect(second.reusedIDs.map(\.originalAmount) == [-1_000])
        #expect(try feed(books) == ["X1 2026-01-05 -1000 new", "X1#2 2026-01-05 -1500 new"])
    }

    @Test func twoStatementsSentToOneAccountKeepLinesOfOneID() throws {
        let books = try company()
        let text = """
            <OFX><BANKMSGSRSV1>
            <STMTTRNRS><STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>111<ACCTTYPE>CHECKING</BANKACCTFROM>
            <BANKTRANLIST><STMTTRN><DTPOSTED>20260105<TRNAMT>-10.00<FITID>1001<NAME>A</STMTTRN></BANKTRANLIST>
            </STMTRS></STMTTRNRS>
            <STMTTRNRS><STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>222<ACCTTYPE>CHECKING</BANKACCTFROM>
            <BANKTRANLIST><STMTTRN><DTPOSTED>20260106<TRNAMT>-20.00<FITID>1001<NAME>B</STMTTRN></BANKTRANLIST>
            </STMTRS></STMTTRNRS>
            </BANKMSGSRSV1></OFX>
            """
        let path = try folder.write("two.ofx", text)
        func run() throws -> ImportReport {
            try FeedImport.run(
                file: books, statements: try OFXReader.readFile(path: path), from: path,
                accounts: AccountChoice(["111=Checking", "222=Checking"], accountIDs: ["111", "222"]))
        }
        let first = try run()
        #expect(first.statements.map(\.added) == [1, 1])
        #expect(first.reusedIDs == [])
        #expect(try feed(books) == ["1001 2026-01-05 -1000 new", "1001#2 2026-01-06 -2000 new"])
        let again = try run()
        #expect(again.added == 0 && again.alreadyPresent == 2)
        #expect(try feed(books).count == 2)
    }

    /// Two equal lines under one id in a later file than the one that had one of them: one is new.
    @Test func moreEqualLinesUnderOneIDThanTheFeedHasAddTheRest() throws {
        let books = try company()
        let coffee = "<STMTTRN><DTPOSTED>20260105<TRNAMT>-4.50<FITID>C<NAME>Coffee</STMTTRN>\n"
        _ = try importOFX(books, "a.ofx", coffee)
        let second = try importOFX(books, "b.ofx", coffee + coffee)
        #expect(second.added == 1 && second.alreadyPresent == 1)
        #expect(second.reusedIDs.map(\.storedAs) == ["C#2"])
        #expect(try feed(books) == ["C 2026-01-05 -450 new", "C#2 2026-01-05 -450 new"])
        #expect(try importOFX(books, "b.ofx", coffee + coffee).alreadyPresent == 2)
    }

    // MARK: Item 2: a transaction's fields only at its own level

    @Test(arguments: [
        ("PAYEE", "<PAYEE><NAME>ACME<CITY>X"),
        ("CURRENCY", "<CURRENCY><CURRATE>1<CURSYM>USD"),
    ])
    func anAggregateLeftOpenDoesNotHideTheNextTransaction(container: String, opened: String) throws {
        let path = try folder.write(
            "runtog.ofx",
            Self.ofx(
                """
                <STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260105<TRNAMT>-12.34<FITID>T1\(opened)
                <TRNTYPE>DEBIT<DTPOSTED>20260106<TRNAMT>-99.99<FITID>T2<NAME>BOB</STMTTRN>
                <STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260107<TRNAMT>-1.00<FITID>T3<NAME>PAYEE</STMTTRN>
                """))
        let statement = try OFXReader.read(path: path)
        #expect(statement.lines.map(\.fitid) == ["T3"])
        #expect(
            statement.rejected == [
                RejectedLine(
                    line: 7,
                    reason:
                        "transaction T1 gives TRNTYPE inside its \(container) (line 8), which has not ended there: "
                        + "it may be two transactions run together; download the file again or ask the bank")
            ])
        let books = try company()
        let report = try FeedImport.run(file: books, statement: statement, from: path, account: "Checking")
        #expect(report.added == 0 && report.rejected.count == 1)
        #expect(try feed(books) == [])
    }

    @Test func anAmountInsidePayeeNeverReplacesTheTransactionsOwn() throws {
        let statement = try OFXReader.read(
            path: try folder.write(
                "nest.ofx",
                Self.ofx(
                    "<STMTTRN><DTPOSTED>20260105<TRNAMT>-12.34<FITID>P1<PAYEE><NAME>ACME<TRNAMT>-99.99</PAYEE></STMTTRN>"
                )))
        #expect(statement.lines == [])
        #expect(
            statement.rejected.map(\.reason) == [
                "transaction P1 gives TRNAMT inside its PAYEE (line 7), which has not ended there: "
                    + "it may be two transactions run together; download the file again or ask the bank"
            ])
    }

    @Test func aPayeeAggregateGivesThePayee() throws {
        let statement = try OFXReader.read(
            path: try folder.write(
                "payee.ofx",
                Self.ofx(
                    """
                    <STMTTRN><DTPOSTED>20260105<TRNAMT>-12.34<FITID>P1<PAYEE><NAME>ACME<ADDR1>1 Main St<CITY>Springfield</PAYEE></STMTTRN>
                    <STMTTRN><DTPOSTED>20260106<TRNAMT>-5.00<FITID>P2<NAME>Shop<PAYEE><NAME>Shop Inc</PAYEE></STMTTRN>
                    """)))
        #expect(statement.rejected == [])
        #expect(statement.lines.map(\.amount) == [-1_234, -500])
        #expect(statement.lines.map(\.payee) == ["ACME", "Shop"])
    }

    // MARK: Item 3: an unquoted 1,234.56 is never 1.00

    private static let shifted =
        "the amount '1' is followed by '234.56' in column 4: if the bank means 1,234.56, the ',' inside it split the "
        + "field, which is not in quotes; ask the bank for an export with amounts in quotes, or put this one in "
        + "quotes, and import again"

    @Test func trailingDelimitersDoNotHideAnAmountSplitInTwo() throws {
        let mapping = CSVMapping(date: "Date", amount: "Amount", payee: "Description")
        let trailing = try CSVReader.read(
            path: try folder.write(
                "trail.csv",
                "Date,Description,Amount,\n2026-01-05,Coffee,-4.50,\n2026-01-06,Big deposit,1,234.56,\n"
                    + "2026-01-07,Rent,-1200.00,\n"),
            mapping: mapping)
        #expect(trailing.lines.map(\.amount) == [-450, -120_000])
        #expect(
            trailing.rejected == [
                RejectedLine(
                    line: 3,
                    reason: "it has 4 fields and the header names 3: a ',' inside a field that is not in quotes?")
            ])
        let balance = try CSVReader.read(
            path: try folder.write(
                "bal.csv",
                "Date,Description,Amount,Balance\n2026-01-05,Coffee,-4.50,\n2026-01-06,Big deposit,1,234.56\n"
                    + "2026-01-07,Rent,-1200.00,\n"),
            mapping: mapping)
        #expect(balance.lines.map(\.amount) == [-450, -120_000])
        #expect(balance.rejected == [RejectedLine(line: 3, reason: Self.shifted)])
        // Quoted, it is the amount; a real balance after a real amount is read.
        let quoted = try CSVReader.read(
            path: try folder.write(
                "quoted.csv",
                "Date,Description,Amount,Balance\n2026-01-06,Big deposit,\"1,234.56\",\n2026-01-07,Fee,-1.50,1233.06\n"),
            mapping: mapping)
        #expect(quoted.rejected == [] && quoted.lines.map(\.amount) == [123_456, -150])
        let books = try company()
        let path = folder.file("bal.csv")
        let report = try FeedImport.run(
            file: books, statement: try CSVReader.read(path: path, mapping: mapping), from: path, account: "Checking")
        #expect(report.added == 0 && report.rejected.count == 1)
        #expect(try feed(books) == [])
    }

    // MARK: Item 4: a headerless file never loses its first line

    @Test func aFirstRowWithADateIsNeverTheHeader() throws {
        let path = try folder.write(
            "nohdr.csv", "2026-01-05,Coffee,-4.50\n2026-01-06,Deposit,1234.56\n2026-01-07,Rent,-1200.00\n")
        #expect(
            throws: StatementError.badOption(
                "Line 1 of \(path) would be the header, but its column 1 holds the date 2026-01-05: "
                    + "if the file has no row of column names, import with --no-header; if its names come later, "
                    + "say how many lines come before them with --skip. Nothing was imported.")
        ) {
            try CSVReader.read(path: path, mapping: CSVMapping(date: "1", amount: "3"))
        }
        let read = try CSVReader.read(path: path, mapping: CSVMapping(date: "1", amount: "3", hasHeader: false))
        #expect(read.lines.map(\.amount) == [-450, 123_456, -120_000])
        // A title and a header above the lines are still found.
        let titled = try CSVReader.read(
            path: try folder.write("titled.csv", "Acme Bank export\nDate,Payee,Amount\n2026-01-05,Coffee,-4.50\n"),
            mapping: CSVMapping(date: "1", amount: "3"))
        #expect(titled.rejected == [] && titled.lines.map(\.amount) == [-450])
    }

    // MARK: Item 5: a line in another currency is never so many dollars

    private static func foreign(_ amount: String, _ currency: String, books: String = "USD") -> String {
        "its amount \(amount) is in \(currency) and the company's books are in \(books): a company file holds one "
            + "currency; leave this line out of the file and enter it by hand in \(books), at the rate the bank used"
    }

    @Test func anOFXLineInAnotherCurrencyIsRejected() throws {
        let books = try company()
        let report = try importOFX(
            books, "fx.ofx",
            """
            <STMTTRN><DTPOSTED>20260105<TRNAMT>-100.00<FITID>F1<NAME>HOTEL PARIS<CURRENCY><CURRATE>1.0850<CURSYM>EUR</CURRENCY></STMTTRN>
            <STMTTRN><DTPOSTED>20260106<TRNAMT>-5.00<FITID>F2<NAME>Local<CURRENCY><CURRATE>1<CURSYM>USD</CURRENCY></STMTTRN>
            """)
        #expect(report.added == 0)
        #expect(report.rejected == [RejectedLine(line: 7, reason: Self.foreign("-100.00", "EUR"))])
        #expect(try feed(books) == [])
        // ORIGCURRENCY: the bank converted the amount into the statement's own currency already.
        let converted = try importOFX(
            books, "fx2.ofx",
            "<STMTTRN><DTPOSTED>20260105<TRNAMT>-108.50<FITID>F1<ORIGCURRENCY><CURRATE>1.0850<CURSYM>EUR</ORIGCURRENCY></STMTTRN>"
        )
        #expect(converted.added == 1 && converted.rejected == [])
        #expect(try feed(books) == ["F1 2026-01-05 -10850 new"])
    }

    @Test func aCSVAmountWithAnotherCurrencysSignIsRejected() throws {
        let text = "Date;Amount\n2026-01-05;€1.234,56\n2026-01-06;EUR-12,00\n2026-01-07;$5,00\n2026-01-08;-7,25\n"
        let path = try folder.write("eur.csv", text)
        let mapping = CSVMapping(date: "Date", amount: "Amount", delimiter: ";")
        let usd = try company()
        let intoDollars = try FeedImport.run(
            file: usd, statement: try CSVReader.read(path: path, mapping: mapping), from: path, account: "Checking")
        #expect(intoDollars.added == 0)
        #expect(
            intoDollars.rejected == [
                RejectedLine(line: 2, reason: Self.foreign("1,234.56", "EUR")),
                RejectedLine(line: 3, reason: Self.foreign("-12.00", "EUR")),
            ])
        #expect(try feed(usd) == [])
        let eur = try company(currency: "EUR")
        let intoEuros = try FeedImport.run(
            file: eur, statement: try CSVReader.read(path: path, mapping: mapping), from: path, account: "Checking")
        #expect(intoEuros.rejected == [RejectedLine(line: 4, reason: Self.foreign("5.00", "$", books: "EUR"))])
        let mixed = try CSVReader.read(
            path: try folder.write("mixed.csv", "Date,Amount\n2026-01-05,€5.00 USD\n"),
            mapping: CSVMapping(date: "1", amount: "2"))
        #expect(mixed.rejected.map(\.reason) == ["the amount '€5.00 USD' gives two currencies"])
    }

    // MARK: Item 6: 1.500 is never 1.50 by a guess

    @Test func anAmountWhoseSeparatorTheFileNeverShowsIsRefused() throws {
        let path = try folder.write(
            "eu2.csv", "Datum;Betrag\n2026-01-05;-20\n2026-01-06;-1.500\n2026-01-07;2.000\n2026-01-08;-3\n")
        let mapping = CSVMapping(date: "Datum", amount: "Betrag", delimiter: ";")
        let guessed = try CSVReader.read(path: path, mapping: mapping)
        #expect(guessed.lines.map(\.amount) == [-2_000, -300])
        #expect(
            guessed.rejected == [
                RejectedLine(
                    line: 3,
                    reason:
                        "the amount '-1.500' could mean 1.5 or 1500: nothing in the file shows whether the bank writes "
                        + "'.' or ',' before the cents; import with --decimal-point if it means 1.5, or --decimal-comma "
                        + "if it means 1500"),
                RejectedLine(
                    line: 4,
                    reason:
                        "the amount '2.000' could mean 2 or 2000: nothing in the file shows whether the bank writes "
                        + "'.' or ',' before the cents; import with --decimal-point if it means 2, or --decimal-comma "
                        + "if it means 2000"),
            ])
        let comma = try CSVReader.read(path: path, mapping: mapping, style: AmountStyle(decimal: .comma))
        #expect(comma.rejected == [] && comma.lines.map(\.amount) == [-2_000, -150_000, 200_000, -300])
        let point = try CSVReader.read(path: path, mapping: mapping, style: AmountStyle(decimal: .point))
        #expect(point.rejected == [] && point.lines.map(\.amount) == [-2_000, -150, 200, -300])
        // One amount that shows the separator settles it for the file.
        let shown = try CSVReader.read(
            path: try folder.write("shown.csv", "Date,Amount\n2026-01-05,\"1,500\"\n2026-01-06,-4.50\n"),
            mapping: CSVMapping(date: "Date", amount: "Amount"))
        #expect(shown.rejected == [] && shown.lines.map(\.amount) == [150_000, -450])
        #expect(
            AmountStyle().cents("0,125").failure?.message
                == "the amount '0,125' could mean 0.125 or 125: nothing in the file shows whether the bank writes '.' "
                + "or ',' before the cents; import with --decimal-point if it means 125, or --decimal-comma if it means 0.125"
        )
    }

    // MARK: Item 7: a dated row is never a footer

    @Test func aDatedRowIsNeverLeftOutAsTheFooter() throws {
        let path = try folder.write(
            "foot.csv",
            "Date,Description,Amount\n2026-01-05,Coffee,-4.50\n2026-01-31,Rent,-1200.005\nEND OF FILE\n")
        let mapping = CSVMapping(date: "Date", amount: "Amount", payee: "Description", skipFooter: true)
        let statement = try CSVReader.read(path: path, mapping: mapping)
        #expect(statement.lines.map(\.amount) == [-450])
        #expect(
            statement.rejected == [
                RejectedLine(
                    line: 3,
                    reason:
                        "the amount '-1200.005' has fractions of a cent; import with --round-cents to round such amounts to whole cents"
                )
            ])
        #expect(statement.skipped.map(\.line) == [4])
        let books = try company()
        let report = try FeedImport.run(file: books, statement: statement, from: path, account: "Checking")
        #expect(report.added == 0 && report.rejected.map(\.line) == [3])
        #expect(try feed(books) == [])
    }

    // MARK: Item 11: the smaller things

    @Test func textOfOFXValuesIsKeptWhole() throws {
        let sgml = try OFXReader.read(
            path: try folder.write(
                "text.ofx",
                Self.ofx(
                    """
                    <STMTTRN><DTPOSTED>20260105<TRNAMT>-1.00<FITID>N1<NAME>Shell&#0;Station<MEMO>one</STMTTRN>
                    <STMTTRN><DTPOSTED>20260105<TRNAMT>-2.00<FITID>N2<NAME>A<B CO<MEMO>Note</STMTTRN>
                    """)))
        #expect(sgml.rejected == [])
        #expect(sgml.lines.map(\.payee) == ["Shell Station", "A<B CO"])
        #expect(sgml.lines.map(\.memo) == ["one", "Note"])
        let xml = try OFXReader.read(
            path: try folder.write(
                "cdata.ofx",
                """
                <?xml version="1.0"?>
                <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD</CURDEF><BANKTRANLIST>
                <STMTTRN><DTPOSTED>20260105</DTPOSTED><TRNAMT>-3.00</TRNAMT><FITID>C1</FITID><NAME><![CDATA[A>B & <C>]]></NAME><MEMO>m</MEMO></STMTTRN>
                </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
                """))
        #expect(xml.rejected == [])
        #expect(xml.lines.map(\.payee) == ["A>B & <C>"])
        #expect(xml.lines.map(\.memo) == ["m"])
    }

    @Test func linesOfACarriageReturnOnlyFileAreNumbered() throws {
        let text = Self.ofx(
            """
            <STMTTRN><DTPOSTED>20260105<TRNAMT>-1.00<FITID>A</STMTTRN>
            <STMTTRN><DTPOSTED>20260230<TRNAMT>-1.00<FITID>B</STMTTRN>
            """
        ).replacingOccurrences(of: "\n", with: "\r")
        let statement = try OFXReader.read(path: try folder.write("cr.ofx", text))
        #expect(
            statement.rejected == [
                RejectedLine(line: 8, reason: "transaction B is dated '20260230', which is not a real YYYYMMDD date")
            ])
    }

    @Test func datesWrittenWithoutSeparatorsAreRead() throws {
        let statement = try CSVReader.read(
            path: try folder.write(
                "ymd.csv", "Date,Amount\n20260105,-1.00\n20261231,-2.00\n2026-01-05,-3.00\n20260105,-4.00\n"),
            mapping: CSVMapping(date: "Date", amount: "Amount", dateFormat: "YYYYMMDD"))
        #expect(statement.lines.map(\.posted) == ["2026-01-05", "2026-12-31", "2026-01-05"])
        #expect(statement.rejected.map(\.line) == [4])
    }

    @Test func roundingReadsEveryDigitPastTheCents() {
        let style = AmountStyle(decimal: .point, roundCents: true)
        let long = "0.005" + String(repeating: "0", count: 45) + "1"
        #expect((try? style.cents(long).get()) == 1)
        #expect((try? style.cents("0.005").get()) == 0)
        #expect((try? style.cents("0.015").get()) == 2)
        #expect((try? style.cents("-0.0049999").get()) == 0)
    }

    @Test func anIDGivenTwiceIsOneLine() throws {
        let books = try company()
        _ = try importOFX(books, "a.ofx", "<STMTTRN><DTPOSTED>20260105<TRNAMT>-1.00<FITID>A</STMTTRN>")
        #expect(try FeedBook.exclude(file: books, lines: [1, 1]) == [1])
        #expect(try FeedBook.include(file: books, lines: [1, 1]) == [1])
        _ = try FeedBook.add(file: books, line: 1, to: "Uncategorized Expense")
        #expect(try FeedBook.unmatch(file: books, lines: [1, 1]).map(\.line) == [1])
        #expect(try feed(books) == ["A 2026-01-05 -100 new"])
    }

    // MARK: Item 9: memory stays bounded

    @Test func aFolderIsNoStatement() throws {
        // Files of any size are read in pieces: StreamingStatementTests.
        #expect(throws: StatementError.unreadable(path: folder.path)) { try OFXReader.readFile(path: folder.path) }
        #expect(throws: StatementError.unreadable(path: folder.path)) {
            try CSVReader.read(path: folder.path, mapping: CSVMapping(date: "1", amount: "2"))
        }
    }

    @Test func aFieldLongerThanAnyBanksIsRejected() throws {
        let long = String(repeating: "A", count: StatementLimits.fieldBytes + 1)
        let ofx = try OFXReader.read(
            path: try folder.write(
                "long.ofx",
                Self.ofx(
                    """
                    <STMTTRN><DTPOSTED>20260105<TRNAMT>-1.00<FITID>L1<NAME>\(long)</STMTTRN>
                    <STMTTRN><DTPOSTED>20260105<TRNAMT>-2.00<FITID>L2<NAME>\(long.dropLast())</STMTTRN>
                    """)))
        #expect(ofx.lines.map(\.fitid) == ["L2"])
        #expect(
            ofx.rejected == [
                RejectedLine(
                    line: 7,
                    reason:
                        "transaction L1: its NAME is 65537 bytes long, more than the 65536 a line's NAME may hold: "
                        + "no bank writes one so long; download the file again or ask the bank")
            ])
        let csv = try CSVReader.read(
            path: try folder.write("long.csv", "Date,Amount,Memo\n2026-01-05,-1.00,\(long)\n2026-01-06,-2.00,ok\n"),
            mapping: CSVMapping(date: "Date", amount: "Amount", memo: "Memo"))
        #expect(csv.lines.map(\.amount) == [-200])
        #expect(
            csv.rejected == [
                RejectedLine(
                    line: 2,
                    reason:
                        "its memo is 65537 bytes long, more than the 65536 a line's memo may hold: no bank writes one "
                        + "so long; download the file again or ask the bank")
            ])
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
