import Foundation
import LedgerTestSupport
import Testing

/// Every command that writes the books says the same sentence, with exit 2,
/// when another program is writing the file (issue 26): never SQLite's
/// "database is locked - while executing BEGIN IMMEDIATE TRANSACTION".
@Suite struct LockedFileCommandTests {
    let folder = TemporaryDirectory()

    private func sample() throws -> String {
        let path = folder.file("books.db")
        #expect(try Ledger.run("sample", path, "--transactions", "500", "--seed", "1").status == 0)
        return path
    }

    private func statement() throws -> String {
        let path = folder.file("late.ofx")
        try """
        OFXHEADER:100
        DATA:OFXSGML

        <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD
        <BANKACCTFROM><BANKID>021000021<ACCTID>777<ACCTTYPE>CHECKING</BANKACCTFROM>
        <BANKTRANLIST>
        <STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260105<TRNAMT>-12.25<FITID>777-1<NAME>Payee 1</STMTTRN>
        </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func everyWritingCommandSaysTheFileIsOpenElsewhere() throws {
        let file = try sample()
        let ofx = try statement()
        let before = try Ledger.run("feed", file, "--json").stdout
        // Another program in the middle of a write: readers go on, writers wait.
        let holder = try FileHolder(file, .writing)
        defer { holder.release() }
        let sentence =
            "ledger: \(file) is open in another program; close it there (or wait for it to finish) and run the command again. Nothing was changed.\n"
        let commands: [[String]] = [
            ["import", file, ofx, "--account", "Checking", "--wait", "1"],
            ["feed", "match", file, "--wait", "1"],
            ["feed", "match", file, "--add-unmatched", "--to-account", "Uncategorized Expense", "--wait", "1"],
            ["feed", "add", file, "36", "--to-account", "Office Supplies", "--wait", "1"],
            ["feed", "unmatch", file, "1", "--wait", "1"],
            ["feed", "exclude", file, "36", "--wait", "1"],
            ["feed", "include", file, "36", "--wait", "1"],
        ]
        for arguments in commands {
            let started = Date()
            let busy = try Ledger.run(arguments)
            #expect(busy.status == 2, "\(arguments)")
            #expect(busy.stderr == sentence, "\(arguments)")
            #expect(busy.stdout == "", "\(arguments)")
            #expect(Date().timeIntervalSince(started) >= 1, "waited --wait 1 first: \(arguments)")
        }
        holder.release()
        #expect(try Ledger.run("feed", file, "--json").stdout == before, "nothing changed")
    }
}
