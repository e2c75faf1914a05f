import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// OFX files whose structure is broken in ways that once lost lines with exit 0:
/// a statement never ended before the next begins, two transactions run
/// together in one STMTTRN, a transaction outside any statement. Each must be
/// refused or have lines rejected, never read short.
@Suite struct OFXStructureTests {
    let folder = TemporaryDirectory()

    /// A new company with the default chart (Checking, Savings…).
    private func company() throws -> String {
        let path = folder.file("books.db")
        _ = try CompanyFile.create(at: path, profile: CompanyProfile(name: "Acme Plumbing"))
        return path
    }

    private func feedCount(_ books: String) throws -> Int {
        try CompanyFile.read(books) { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bank_feed") ?? -1 }
    }

    static let header = "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n"

    static let unendedStatement =
        header + """
            <OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
            <STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>021000021<ACCTID>111<ACCTTYPE>CHECKING</BANKACCTFROM>
            <BANKTRANLIST><DTSTART>20260101<DTEND>20260131
            <STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260105<TRNAMT>-100.00<FITID>L1<NAME>Lost one</STMTTRN>
            <STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260106<TRNAMT>-200.00<FITID>L2<NAME>Lost two</STMTTRN>
            </BANKTRANLIST>
            <STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>021000021<ACCTID>111<ACCTTYPE>CHECKING</BANKACCTFROM>
            <BANKTRANLIST><DTSTART>20260101<DTEND>20260131
            <STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260107<TRNAMT>-7.00<FITID>K1<NAME>Kept</STMTTRN>
            </BANKTRANLIST>
            </STMTRS>
            </STMTTRNRS></BANKMSGSRSV1></OFX>
            """

    @Test func aStatementBeginningInsideAnotherIsRefused() throws {
        let path = try folder.write("lost_stmt.ofx", Self.unendedStatement)
        #expect(
            throws: StatementError.notAStatement(
                path: path,
                reason:
                    "a statement (STMTRS, line 11) begins inside checking 111 at bank 021000021 (line 6), "
                    + "which has not ended; download the file again or ask the bank")
        ) { try OFXReader.readFile(path: path) }

        // Ended where it should be, the same file is two statements holding all three lines.
        let ended = try folder.write(
            "ended.ofx",
            Self.unendedStatement.replacingOccurrences(
                of: "</BANKTRANLIST>\n<STMTRS>", with: "</BANKTRANLIST></STMTRS>\n<STMTRS>"))
        let file = try OFXReader.readFile(path: ended)
        #expect(file.statements.map { $0.lines.map(\.amount) } == [[-10_000, -20_000], [-700]])
        #expect(file.statements.map(\.rejected) == [[], []])
    }

    static let runTogether =
        header + """
            <OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
            <STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>021000021<ACCTID>111<ACCTTYPE>CHECKING</BANKACCTFROM>
            <BANKTRANLIST><DTSTART>20260101<DTEND>20260131
            <STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260105<TRNAMT>-500.00<FITID>M1<NAME>First
            <TRNTYPE>DEBIT<DTPOSTED>20260106<TRNAMT>-7.00<FITID>M2<NAME>Second</STMTTRN>
            <STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260107<TRNAMT>30.00<FITID>M3<NAME>Third</STMTTRN>
            </BANKTRANLIST>
            </STMTRS>
            </STMTTRNRS></BANKMSGSRSV1></OFX>
            """

    @Test func twoTransactionsInOneSTMTTRNAreRejectedAndAddNothing() throws {
        let books = try company()
        let path = try folder.write("merged.ofx", Self.runTogether)
        let statement = try OFXReader.read(path: path)
        #expect(statement.lines.map(\.amount) == [3_000])
        #expect(
            statement.rejected == [
                RejectedLine(
                    line: 8,
                    reason:
                        "transaction M1 gives TRNTYPE, DTPOSTED, TRNAMT, FITID and NAME twice (the second time from "
                        + "line 9 on): it may be two transactions run together; download the file again or ask the bank"
                )
            ])
        let report = try FeedImport.run(file: books, statement: statement, from: path, account: "Checking")
        #expect(report.added == 0 && report.rejected.count == 1)
        #expect(try feedCount(books) == 0)

        // Each in its own STMTTRN, the same lines are all read.
        let apart = try folder.write(
            "apart.ofx",
            Self.runTogether.replacingOccurrences(of: "<NAME>First\n", with: "<NAME>First</STMTTRN>\n<STMTTRN>"))
        let read = try OFXReader.read(path: apart)
        #expect(read.rejected == [] && read.lines.map(\.amount) == [-50_000, -700, 3_000])
    }

    @Test func aFieldGivenTwiceInAnXMLTransactionIsRejected() throws {
        let path = try folder.write(
            "twice.ofx",
            """
            <?xml version="1.0"?>
            <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD</CURDEF>
            <BANKACCTFROM><BANKID>021000021</BANKID><ACCTID>111</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>
            <BANKTRANLIST>
            <STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260105</DTPOSTED><TRNAMT>-500.00</TRNAMT><FITID>X1</FITID>
            <TRNAMT>-7.00</TRNAMT><PAYEE><NAME>Payee's own name</NAME></PAYEE><NAME>Shop</NAME></STMTTRN>
            <STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260106</DTPOSTED><TRNAMT>-8.48</TRNAMT><FITID>X2</FITID>
            <NAME>Shop</NAME><PAYEE><NAME>Shop Inc</NAME></PAYEE></STMTTRN>
            </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
            """)
        let statement = try OFXReader.read(path: path)
        // A NAME inside PAYEE is the payee's, not a second NAME of the transaction.
        #expect(statement.lines.map(\.amount) == [-848])
        #expect(
            statement.rejected == [
                RejectedLine(
                    line: 5,
                    reason:
                        "transaction X1 gives TRNAMT twice (the second time from line 6 on): it may be two "
                        + "transactions run together; download the file again or ask the bank")
            ])
    }

    @Test func aTransactionBeginningInsideAnotherIsRejectedWhenTheFileEndsTheOthers() throws {
        let path = try folder.write(
            "nested.ofx",
            """
            <?xml version="1.0"?>
            <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD</CURDEF>
            <BANKTRANLIST>
            <STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260105</DTPOSTED><TRNAMT>-500.00</TRNAMT><FITID>N1</FITID>
            <STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260106</DTPOSTED><TRNAMT>-7.00</TRNAMT><FITID>N2</FITID></STMTTRN>
            <STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20260107</DTPOSTED><TRNAMT>30.00</TRNAMT><FITID>N3</FITID></STMTTRN>
            </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
            """)
        let statement = try OFXReader.read(path: path)
        let unclear =
            "though the file ends its other transactions with </STMTTRN>: which fields are whose is unclear; "
            + "download the file again or ask the bank"
        #expect(statement.lines.map(\.amount) == [3_000])
        #expect(
            statement.rejected == [
                RejectedLine(
                    line: 4, reason: "transaction N1 has not ended when the transaction of line 5 begins, \(unclear)"),
                RejectedLine(line: 5, reason: "transaction N2 begins inside transaction N1 (line 4), \(unclear)"),
            ])
    }

    @Test func fieldsOfATransactionWithoutItsStartAreRejected() throws {
        let path = try folder.write(
            "no_start.ofx",
            Self.runTogether.replacingOccurrences(of: "<NAME>First\n", with: "<NAME>First</STMTTRN>\n"))
        let statement = try OFXReader.read(path: path)
        #expect(statement.lines.map(\.amount) == [-50_000, 3_000])
        #expect(
            statement.rejected == [
                RejectedLine(
                    line: 9,
                    reason:
                        "DTPOSTED '20260106' stands outside any transaction (no <STMTTRN> before it): a transaction's "
                        + "start may be missing; download the file again or ask the bank")
            ])
    }

    @Test func aTransactionOutsideAnyStatementIsRefused() throws {
        let afterClose = try folder.write(
            "after_close.ofx",
            Self.header + """
                <OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
                <STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>021000021<ACCTID>111<ACCTTYPE>CHECKING</BANKACCTFROM>
                <BANKTRANLIST><DTSTART>20260101<DTEND>20260131
                <STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260105<TRNAMT>-1.00<FITID>C1<NAME>In</STMTTRN>
                </BANKTRANLIST>
                </STMTRS>
                <BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260106<TRNAMT>-900.00<FITID>C2<NAME>Outside</STMTTRN>
                </BANKTRANLIST>
                </STMTTRNRS></BANKMSGSRSV1></OFX>
                """)
        #expect(
            throws: StatementError.notAStatement(
                path: afterClose,
                reason:
                    "a transaction (STMTTRN, line 11) stands outside any statement, after the end of checking 111 at "
                    + "bank 021000021; download the file again or ask the bank")
        ) { try OFXReader.readFile(path: afterClose) }

        let before = try folder.write(
            "before.ofx",
            """
            <OFX><BANKMSGSRSV1><STMTTRNRS>
            <STMTTRN><DTPOSTED>20260106<TRNAMT>-900.00<FITID>C2</STMTTRN>
            </STMTTRNRS></BANKMSGSRSV1></OFX>
            """)
        #expect(
            throws: StatementError.notAStatement(
                path: before,
                reason:
                    "a transaction (STMTTRN, line 2) stands outside any statement; download the file again or ask "
                    + "the bank")
        ) { try OFXReader.readFile(path: before) }
    }

    /// How a generated file writes its elements.
    private enum Writing: CaseIterable {
        /// OFX 2.x: every element ended.
        case xml
        /// OFX 1.x: leaf elements left open, transactions ended.
        case sgml
        /// OFX 1.x from old writers: leaf elements and transactions left open.
        case bareSGML
    }

    /// Seeded files of one to three statements, written each way, broken at
    /// random in the shapes above (a statement not ended, two transactions run
    /// together, a transaction's end or start missing, a transaction moved
    /// after its statement): each is refused, has a line rejected, or gives
    /// back every amount it holds.
    @Test(arguments: 0..<400)
    func noBrokenFileLosesALineSilently(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed))
        let writing = Writing.allCases[Int(random.next() % 3)]
        let amounts = (0..<(1 + Int(random.next() % 3))).map { _ in
            (0..<(1 + Int(random.next() % 4))).map { _ in
                (Int64(random.next() % 100_000) + 1) * (random.next() % 2 == 0 ? -1 : 1)
            }
        }
        func pick() -> (statement: Int, line: Int)? {
            guard random.next() % 3 == 0 else { return nil }
            let statement = Int(random.next() % UInt64(amounts.count))
            return (statement, Int(random.next() % UInt64(amounts[statement].count)))
        }
        let unended = random.next() % 4 == 0 ? Int(random.next() % UInt64(amounts.count)) : nil
        let merged = pick().flatMap { $0.line > 0 ? $0 : nil }
        let noEnd = pick()
        let noStart = pick()
        let outside = pick()

        func leaf(_ name: String, _ value: String) -> String {
            writing == .xml ? "<\(name)>\(value)</\(name)>" : "<\(name)>\(value)"
        }
        func money(_ cents: Int64) -> String {
            (cents < 0 ? "-" : "") + "\(abs(cents) / 100)." + String(String(abs(cents) % 100 + 100).dropFirst())
        }
        var text = writing == .xml ? "<?xml version=\"1.0\"?>\n" : Self.header
        text += "<OFX><BANKMSGSRSV1>\n"
        for (number, lines) in amounts.enumerated() {
            text += "<STMTTRNRS><STMTRS>" + leaf("CURDEF", "USD") + "<BANKACCTFROM>" + leaf("ACCTID", "\(100 + number)")
            text += "</BANKACCTFROM>\n<BANKTRANLIST>\n"
            var after = ""
            for (index, amount) in lines.enumerated() {
                let here = { (spot: (statement: Int, line: Int)?) in spot?.statement == number && spot?.line == index }
                let next = { (spot: (statement: Int, line: Int)?) in
                    spot?.statement == number && spot?.line == index + 1
                }
                let starts = !here(merged) && !here(noStart)
                let ends = writing != .bareSGML && !here(noEnd) && !next(merged)
                var line = starts ? "<STMTTRN>" : ""
                line += leaf("TRNTYPE", "DEBIT") + leaf("DTPOSTED", "202601\(10 + index)")
                line += leaf("TRNAMT", money(amount)) + leaf("FITID", "S\(number)T\(index)") + leaf("NAME", "Payee")
                line += (ends ? "</STMTTRN>" : "") + "\n"
                if here(outside) { after += "<BANKTRANLIST>" + line + "</BANKTRANLIST>\n" } else { text += line }
            }
            text += "</BANKTRANLIST>" + (unended == number ? "" : "</STMTRS>") + "</STMTTRNRS>\n" + after
        }
        text += "</BANKMSGSRSV1></OFX>\n"

        let broken = unended != nil || merged != nil || noEnd != nil || noStart != nil || outside != nil
        let file: StatementFile
        do {
            file = try OFXReader.parse(text, path: "generated.ofx", style: AmountStyle())
        } catch {
            #expect(broken, "seed \(seed): a whole file refused: \(error)\n\(text)")
            return
        }
        if file.statements.contains(where: { !$0.rejected.isEmpty }) {
            #expect(broken, "seed \(seed): a whole file has rejected lines\n\(text)")
            return
        }
        #expect(
            file.statements.flatMap(\.lines).map(\.amount).sorted() == amounts.flatMap { $0 }.sorted(),
            "seed \(seed): lines lost\n\(text)")
    }
}
