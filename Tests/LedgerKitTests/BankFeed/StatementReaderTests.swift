import Foundation
import Testing

@testable import LedgerKit

/// The bundled statements and hand-made ones, read line by line.
@Suite struct StatementReaderTests {
    let folder = TemporaryDirectory()
    static let sampleData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("SampleData").path

    private func write(_ name: String, _ text: String, encoding: String.Encoding = .utf8) throws -> String {
        let path = folder.file(name)
        try text.data(using: encoding)!.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func readsAnSGMLQuickenFileInWindows1252() throws {
        let statement = try OFXReader.read(path: Self.sampleData + "/checking-2025-12.qfx")
        #expect(statement.rejected == [])
        #expect(statement.lines.count == 6)
        #expect(
            statement.lines[0]
                == StatementLine(
                    fitid: "20251202100179", posted: "2025-12-02", amount: -176_765,
                    payee: "Verizon Business", memo: "Phone and internet", line: 44))
        #expect(statement.lines[5].memo == "Interest paid — Café account")
        #expect(statement.lines[5].amount == 312)
        #expect(statement.currency == "USD")
        #expect(statement.ledgerBalance?.amount == 11_905_364)
        #expect(statement.ledgerBalance?.date == "2025-12-31")
    }

    @Test func readsAnXMLStatement() throws {
        let statement = try OFXReader.read(path: Self.sampleData + "/checking-2026-01.ofx")
        #expect(
            statement.lines.map(\.fitid) == [
                "20251231900001", "20251231900002", "20260105900003", "20260109900004", "20260115900005",
            ])
        #expect(statement.lines.map(\.amount) == [-1_500, 312, -24_999, 125_000, -180_000])
        #expect(statement.lines[4].memo == "Rent & parking")
        #expect(statement.lines[4].line == 25)
        #expect(statement.ledgerBalance?.amount == 11_825_365)
    }

    @Test func aCreditCardStatementKeepsTheBanksSigns() throws {
        let path = try write(
            "card.ofx",
            """
            OFXHEADER:100
            DATA:OFXSGML
            <OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><CCSTMTRS><CURDEF>USD
            <BANKTRANLIST>
            <STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260103<TRNAMT>-45.10<FITID>C1<NAME>Shell &amp; Co</STMTTRN>
            <STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260110<TRNAMT>+200<FITID>C2<NAME>Payment</STMTTRN>
            </BANKTRANLIST></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>
            """)
        let statement = try OFXReader.read(path: path)
        #expect(statement.lines.map(\.amount) == [-4_510, 20_000])
        #expect(statement.lines[0].payee == "Shell & Co")
        #expect(statement.lines[0].memo == nil)
    }

    @Test func badLinesAreRejectedWithTheirLineAndReason() throws {
        let path = try write(
            "bad.ofx",
            """
            <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>
            <BANKTRANLIST>
            <STMTTRN><DTPOSTED>20260103<TRNAMT>-45.10<FITID>A1</STMTTRN>
            <STMTTRN><DTPOSTED>20260230<TRNAMT>-5.00<FITID>A2</STMTTRN>
            <STMTTRN><DTPOSTED>20260104<TRNAMT>12,34<FITID>A3</STMTTRN>
            <STMTTRN><DTPOSTED>20260105<FITID>A4</STMTTRN>
            <STMTTRN><DTPOSTED>20260106<TRNAMT>1.005</STMTTRN>
            </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
            """)
        let statement = try OFXReader.read(path: path)
        #expect(statement.lines.map(\.fitid) == ["A1"])
        #expect(
            statement.rejected == [
                RejectedLine(line: 4, reason: "transaction A2 is dated '20260230', which is not a real YYYYMMDD date"),
                RejectedLine(
                    line: 5,
                    reason:
                        "transaction A3: the amount '12,34' uses a comma as its decimal separator; if the bank writes 12,34 for twelve and 34 cents, import with --decimal-comma"
                ),
                RejectedLine(line: 6, reason: "transaction A4 has no TRNAMT amount"),
                RejectedLine(
                    line: 7,
                    reason:
                        "transaction of line 7: the amount '1.005' could mean 1.005 or 1005: nothing in the file shows whether the bank writes '.' or ',' before the cents; import with --decimal-point if it means 1.005, or --decimal-comma if it means 1005"
                ),
            ])
        let point = try OFXReader.read(path: path, style: AmountStyle(decimal: .point))
        #expect(
            point.rejected.last?.reason
                == "transaction of line 7: the amount '1.005' has fractions of a cent; import with --round-cents to round such amounts to whole cents"
        )
        let comma = try OFXReader.read(path: path, style: AmountStyle(decimalComma: true))
        #expect(comma.lines.first { $0.fitid == "A3" }?.amount == 1_234)
    }

    @Test(arguments: [
        ("12.34", Int64?.some(1_234)), ("-0.5", -50), ("+12", 1_200), (".5", 50), ("1.230", nil), ("1.23", 123),
        ("1.005", nil),
        ("abc", nil), ("", nil), ("1.2.3", nil), ("-", nil), ("99999999999999999", nil),
    ])
    func amounts(text: String, cents: Int64?) {
        #expect((try? AmountStyle().cents(text).get()) == cents)
    }

    @Test func notAStatementIsRefused() throws {
        let path = try write("notes.ofx", "just some text")
        #expect(throws: StatementError.self) { try OFXReader.read(path: path) }
        #expect(throws: StatementError.unreadable(path: folder.file("missing.ofx"))) {
            try OFXReader.read(path: folder.file("missing.ofx"))
        }
    }

    @Test func readsCSVWithAMapping() throws {
        let path = try write(
            "bank.csv",
            #"""
            Date,Description,Amount,Reference\#r
            11/03/2026,"Smith, Jones & Co",-120.50,R1\#r
            11/04/2026,"Coffee ""Bar""",-4.25,R2\#r
            11/04/2026,Coffee,-4.25,\#r
            11/31/2026,Bad day,1.00,R4\#r
            """#)
        let mapping = CSVMapping(date: "Date", amount: "3", payee: "description", dateFormat: "MM/DD/YYYY")
        let statement = try CSVReader.read(path: path, mapping: mapping)
        #expect(statement.lines.map(\.payee) == ["Smith, Jones & Co", "Coffee \"Bar\"", "Coffee"])
        #expect(statement.lines.map(\.amount) == [-12_050, -425, -425])
        #expect(statement.lines.map(\.posted) == ["2026-11-03", "2026-11-04", "2026-11-04"])
        // The last line: maybe the bank's footer, so the message says how to leave it out.
        #expect(
            statement.rejected == [
                RejectedLine(
                    line: 5,
                    reason:
                        "the date '11/31/2026' is not a real date written MM/DD/YYYY (after the last transaction: if it is the bank's footer, import with --skip-footer)"
                )
            ])
        // Without an id column, ids come from the content: stable, and distinct for two equal lines.
        let twice = try write("twice.csv", "d,a\n2026-01-02,5.00\n2026-01-02,5.00\n")
        let first = try CSVReader.read(path: twice, mapping: CSVMapping(date: "1", amount: "2"))
        let again = try CSVReader.read(path: twice, mapping: CSVMapping(date: "1", amount: "2"))
        #expect(first.lines.count == 2 && Set(first.lines.map(\.fitid)).count == 2)
        #expect(first.lines.map(\.fitid) == again.lines.map(\.fitid))
        #expect(throws: StatementError.self) {
            try CSVReader.read(path: twice, mapping: CSVMapping(date: "Posted", amount: "2"))
        }
    }
}
