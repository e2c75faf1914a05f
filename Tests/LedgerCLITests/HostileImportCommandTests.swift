import Foundation
import LedgerTestSupport
import Testing

/// `ledger import` and `ledger feed` on the attacker's review's files: the
/// exact lines printed and the exit status, so that nothing is lost or changed
/// without the output and the status saying so.
@Suite struct HostileImportCommandTests {
    let folder = TemporaryDirectory()

    private static func ofx(_ transactions: String) -> String {
        """
        <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD
        <BANKACCTFROM><BANKID>021000021<ACCTID>123456<ACCTTYPE>CHECKING</BANKACCTFROM>
        <BANKTRANLIST>
        \(transactions)
        </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>

        """
    }

    @Test func aReusedIDIsAddedAndSaid() throws {
        let file = try folder.books()
        let fee = "<STMTTRN><DTPOSTED>20260106<TRNAMT>-2.00<FITID>D1<NAME>FEE</STMTTRN>"
        let r1 = try folder.write("r1.ofx", Self.ofx(fee))
        let r2 = try folder.write(
            "r2.ofx", Self.ofx("<STMTTRN><DTPOSTED>20260105<TRNAMT>-1.00<FITID>D1<NAME>FEE</STMTTRN>\n" + fee))
        #expect(try Ledger.run("import", file, r1, "--account", "Checking").status == 0)
        let second = try Ledger.run("import", file, r2, "--account", "Checking")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(
            second.stdout == """
                r2.ofx: checking 123456 at bank 021000021 into Checking: 1 added, 1 already present.
                  line 2 (2026-01-05, -1.00, FEE) has the bank's id D1, as line 1 (2026-01-06, -2.00) imported before: added as a line of its own, id D1#2.
                  If it corrects that line rather than being a line of its own: ledger feed exclude \(file) 2

                """)
    }

    @Test func aHeaderlessFileWithoutNoHeaderIsRefused() throws {
        let file = try folder.books()
        let csv = try folder.write("nohdr.csv", "2026-01-05,Coffee,-4.50\n2026-01-06,Deposit,1234.56\n")
        let refused = try Ledger.run(
            "import", file, csv, "--account", "Checking", "--date-col", "1", "--amount-col", "3")
        #expect(refused.status == 2)
        #expect(refused.stdout == "")
        #expect(
            refused.stderr
                == "ledger: Line 1 of \(csv) would be the header, but its column 1 holds the date 2026-01-05: if the file has no row of column names, import with --no-header; if its names come later, say how many lines come before them with --skip. Nothing was imported.\n"
        )
        let read = try Ledger.run(
            "import", file, csv, "--account", "Checking", "--date-col", "1", "--amount-col", "3", "--no-header")
        #expect(read.status == 0)
        #expect(read.stdout == "nohdr.csv into Checking: 2 added, 0 already present.\n")
    }

    @Test func anAddPastTheLargestBalanceIsRefusedAndChangesNothing() throws {
        let file = try folder.books()
        let csv = try folder.write(
            "max.csv", "Date,Amount\n2026-01-05,-10000000000000.00\n2026-01-06,-10000000000000.00\n")
        let imported = try Ledger.run(
            "import", file, csv, "--account", "Checking", "--date-col", "1", "--amount-col", "2")
        #expect(imported.status == 0, "\(imported.stdout)")
        let added = try Ledger.run(
            "feed", "match", file, "--add-unmatched", "--to-account", "Uncategorized Expense")
        #expect(added.status == 2)
        #expect(added.stdout == "")
        #expect(
            added.stderr
                == "ledger: Adding bank feed line 2 (-10,000,000,000,000.00) would take the balance of Checking past 10,000,000,000,000.00 either way, more than the books can hold; nothing was changed. Check the line against the bank's statement, and set it aside with 'ledger feed exclude \(file) 2' if it is wrong.\n"
        )
        let list = try Ledger.run("feed", file, "--status", "new", "--json")
        let lines = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(lines.count == 2)
        #expect(try Ledger.run("verify", file).status == 0)
        // One line fits: it is added, and verify stays clean.
        #expect(try Ledger.run("feed", "exclude", file, "2").status == 0)
        let one = try Ledger.run("feed", "match", file, "--add-unmatched", "--to-account", "Uncategorized Expense")
        #expect(one.status == 0, "\(one.stderr)")
        #expect(try Ledger.run("verify", file).status == 0)
    }

    @Test func twoPlainAccountsAreBadUsage() throws {
        let file = try folder.books()
        let ofx = try folder.write("a.ofx", Self.ofx("<STMTTRN><DTPOSTED>20260105<TRNAMT>-1.00<FITID>A</STMTTRN>"))
        let result = try Ledger.run("import", file, ofx, "--account", "Checking", "--account", "Savings")
        #expect(result.status == 64)
        #expect(
            result.stderr.hasPrefix(
                "Error: --account 'Checking' and --account 'Savings': give one account for a file of one statement, or ACCTID=NAME for each statement of a file of several.\n"
            ), "\(result.stderr)")
        let list = try Ledger.run("feed", file, "--json")
        #expect(list.stdout == "[\n\n]\n")
    }
}
