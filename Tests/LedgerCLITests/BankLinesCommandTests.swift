import Foundation
import LedgerTestSupport
import Testing

/// Bank lines as a bookkeeper meets them: checks with their numbers, the same
/// line in two files, a bank's summary rows, lines added, undone and taken in,
/// each with the exact lines the commands print.
@Suite struct BankLinesCommandTests {
    let folder = TemporaryDirectory()

    private static let january = """
        OFXHEADER:100
        DATA:OFXSGML

        <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD
        <BANKACCTFROM><BANKID>021000021<ACCTID>1234<ACCTTYPE>CHECKING</BANKACCTFROM>
        <BANKTRANLIST>
        <STMTTRN><TRNTYPE>CHECK<DTPOSTED>20260105<TRNAMT>-45.10<FITID>A1<CHECKNUM>1043<NAME>Acme Supply<MEMO>Pipe fittings</STMTTRN>
        <STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260110<TRNAMT>1200.00<FITID>A2<NAME>Baker Co<MEMO>Invoice 17</STMTTRN>
        <STMTTRN><TRNTYPE>FEE<DTPOSTED>20260131<TRNAMT>-15.00<FITID>A3<NAME>Monthly service fee<MEMO>Service charge</STMTTRN>
        </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
        """

    @Test func checksDuplicatesAddsAndUndos() throws {
        let file = try folder.books()
        let ofx = try folder.write("jan.ofx", Self.january)
        let first = try Ledger.run("import", file, ofx, "--account", "Checking")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "jan.ofx: checking 1234 at bank 021000021 into Checking: 3 added, 0 already present.\n")

        // The CSV export of the same account overlaps the OFX statement by one line, under other ids.
        let csv = try folder.write(
            "feb.csv", "Date,Description,Amount,Check\n01/31/2026,SERVICE FEE,-15.00,\n02/02/2026,Rent,-2000.00,1044\n")
        let second = try Ledger.run(
            "import", file, csv, "--account", "Checking", "--date-col", "Date", "--amount-col", "Amount",
            "--payee-col", "Description", "--check-column", "Check", "--date-format", "MM/DD/YYYY")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(
            second.stdout == """
                feb.csv into Checking: 1 added, 0 already present, 1 set aside as probable duplicate.
                  line 4 (2026-01-31, -15.00, SERVICE FEE) has the day and amount of line 3, imported before from another file: set aside as excluded.
                  If it is a real line of its own: ledger feed include \(file) 4

                """)
        let listed = try Ledger.run("feed", file, "--json")
        let lines = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(
            lines.map { $0["memo"] as? String ?? "-" } == [
                "Check 1043; Pipe fittings", "Invoice 17", "Service charge",
                "Probable duplicate of line 3", "Check 1044",
            ])
        #expect(lines.map { $0["status"] as? String ?? "-" } == ["new", "new", "new", "excluded", "new"])

        let matched = try Ledger.run(
            "feed", "match", file, "--add-unmatched", "--deposits-to", "Uncategorized Income",
            "--withdrawals-to", "Uncategorized Expense")
        #expect(matched.status == 0, "\(matched.stderr)")
        #expect(
            matched.stdout == """
                added line 1 (2026-01-05, -45.10, Acme Supply) as Check 1043 of 2026-01-05 for 45.10 (Acme Supply), against Uncategorized Expense
                added line 2 (2026-01-10, 1,200.00, Baker Co) as Deposit of 2026-01-10 for 1,200.00 (Baker Co), against Uncategorized Income
                added line 3 (2026-01-31, -15.00, Monthly service fee) as Check of 2026-01-31 for 15.00 (Monthly service fee), against Uncategorized Expense
                added line 5 (2026-02-02, -2,000.00, Rent) as Check 1044 of 2026-02-02 for 2,000.00 (Rent), against Uncategorized Expense
                0 matched, 4 added, 0 still new.

                """)
        #expect(try Ledger.run("verify", file).status == 0)

        // CSV: the payee and the memo in their own columns, ASCII only.
        let export = try Ledger.run("export", file, "--format", "csv")
        #expect(export.status == 0)
        #expect(
            export.stdout.hasPrefix(
                """
                date,transaction_id,kind,number,payee,account,account_number,amount,currency,memo,cleared
                2026-01-05,1,check,1043,Acme Supply,Checking,1000,-45.10,USD,Pipe fittings,n
                2026-01-05,1,check,1043,Acme Supply,Uncategorized Expense,6990,45.10,USD,Pipe fittings,n
                2026-01-10,2,deposit,,Baker Co,Checking,1000,1200.00,USD,Invoice 17,n

                """), "\(export.stdout)")
        let ascii = export.stdout.unicodeScalars.allSatisfy { $0.isASCII }
        #expect(ascii)

        // The set-aside line: refused until taken in, then added by hand and undone.
        let refused = try Ledger.run("feed", "add", file, "4", "--to-account", "Bank Service Charges")
        #expect(refused.status == 2)
        #expect(
            refused.stderr
                == "ledger: Bank feed line 4 is excluded; take it back first with 'ledger feed include \(file) 4'.\n")
        let included = try Ledger.run("feed", "include", file, "4")
        #expect(included.stdout == "Included 1 line as new: 4.\n")
        let nowhere = try Ledger.run("feed", "add", file, "4", "--to-account", "Nowhere")
        #expect(nowhere.status == 2)
        #expect(
            nowhere.stderr.hasPrefix(
                "ledger: There is no account 'Nowhere'. Give its full name or its number as 'ledger accounts \(file)' lists them; accounts of the kind needed: "
            ))
        let added = try Ledger.run("feed", "add", file, "4", "--to-account", "6200")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(
            added.stdout
                == "added line 4 (2026-01-31, -15.00, SERVICE FEE) as Check of 2026-01-31 for 15.00 (SERVICE FEE), against Bank Service Charges\n"
        )
        let undone = try Ledger.run("feed", "unmatch", file, "4")
        #expect(undone.status == 0, "\(undone.stderr)")
        #expect(
            undone.stdout
                == "line 4 is new again; Check of 2026-01-31 for 15.00 (SERVICE FEE), which the feed had added, was taken out of the books.\n"
        )
        let notLinked = try Ledger.run("feed", "unmatch", file, "4")
        #expect(notLinked.status == 2)
        #expect(
            notLinked.stderr
                == "ledger: Bank feed line 4 is new, not matched or added, so there is nothing to undo; nothing was changed.\n"
        )

        // A transaction a person has since marked cleared stays; the line then matches it.
        try editWithPython(file, "UPDATE splits SET cleared = 'c' WHERE transaction_id = 1;")
        let kept = try Ledger.run("feed", "unmatch", file, "1")
        #expect(
            kept.stdout
                == "line 1 is new again; Check 1043 of 2026-01-05 for 45.10 (Acme Supply), which the feed had added, stays in the books: it is marked cleared.\n"
        )
        let again = try Ledger.run("feed", "match", file)
        #expect(
            again.stdout == """
                matched line 1 (2026-01-05, -45.10, Acme Supply) to Check 1043 of 2026-01-05 for 45.10 (Acme Supply)
                1 matched, 0 added, 1 still new.

                """)
        let unmatched = try Ledger.run("feed", "unmatch", file, "1")
        #expect(
            unmatched.stdout
                == "line 1 is new again; Check 1043 of 2026-01-05 for 45.10 (Acme Supply), which it was matched to, stays in the books.\n"
        )
        let excludeAdded = try Ledger.run("feed", "exclude", file, "2")
        #expect(
            excludeAdded.stderr
                == "ledger: Bank feed line 2 was added to the books as Deposit of 2026-01-10 for 1,200.00 (Baker Co); excluding it now would leave that transaction behind. Undo the add first with 'ledger feed unmatch \(file) 2'.\n"
        )
        #expect(try Ledger.run("verify", file).status == 0)

        // The chart of accounts, with balances as their types read them.
        let accounts = try Ledger.run("accounts", file)
        #expect(accounts.status == 0)
        let rows = accounts.stdout.split(separator: "\n").map(String.init)
        #expect(rows.first == "Chart of accounts of Acme Plumbing (USD)")
        #expect(
            rows[1]
                == "Number  Account                                           Type                               Balance"
        )
        #expect(
            rows[2]
                == "1000    Checking                                          bank                               -860.10"
        )
        #expect(
            rows.contains(
                "2230    Payroll Liabilities:Social Security and Medicare  other current liability               0.00"))
        #expect(
            rows.contains(
                "4900    Uncategorized Income                              income                            1,200.00"))
        #expect(
            rows.contains(
                "6990    Uncategorized Expense                             expense                           2,060.10"))
        #expect(rows.last == "54 accounts")
        let json = try Ledger.run("accounts", file, "--json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let checking = try #require((object["accounts"] as? [[String: Any]])?.first)
        #expect(
            checking["name"] as? String == "Checking" && checking["balance"] as? Int == -86_010
                && checking["type"] as? String == "bank")
    }

    @Test func bankOfAmericaSummaryRowsArePassedOver() throws {
        let file = try folder.books()
        let csv = try folder.write(
            "bofa.csv",
            """
            Description,,Summary Amt.
            Beginning balance as of 01/01/2026,,"1,000.00"
            Total credits,,"500.00"
            Total debits,,"-120.00"
            Ending balance as of 01/31/2026,,"1,380.00"

            Date,Description,Amount,Running Bal.
            01/01/2026,Beginning balance as of 01/01/2026,,"1,000.00"
            01/05/2026,"ZELLE PAYMENT TO JOHN","-120.00","880.00"
            01/20/2026,"DEPOSIT","500.00","1,380.00"

            """)
        for columns in [["Date", "Amount", "Description"], ["1", "3", "2"]] {
            let result = try Ledger.run(
                "import", file, csv, "--account", "Checking", "--date-col", columns[0], "--amount-col", columns[1],
                "--payee-col", columns[2], "--date-format", "MM/DD/YYYY")
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            let added = columns[0] == "Date" ? 2 : 0
            #expect(
                result.stdout == """
                    bofa.csv into Checking: \(added) added, \(2 - added) already present.
                      1 balance or summary row passed over: line 8 (Beginning balance as of 01/01/2026).

                    """)
        }
    }

    @Test func aDateInAnotherLayoutNamesTheFormatThatReadsIt() throws {
        let file = try folder.books()
        let dayFirst = try folder.write("day-first.csv", "Date,Amount\n31/01/2026,-5.00\n15/01/2026,3.00\n")
        let result = try Ledger.run(
            "import", file, dayFirst, "--account", "Checking", "--date-col", "1", "--amount-col", "2",
            "--date-format", "MM/DD/YYYY")
        #expect(result.status == 1)
        #expect(
            result.stdout == """
                day-first.csv: nothing was imported; 2 lines cannot be read:
                  line 2: the date '31/01/2026' is not a real date written MM/DD/YYYY; import with --date-format DD/MM/YYYY, which reads it
                  line 3: the date '15/01/2026' is not a real date written MM/DD/YYYY; import with --date-format DD/MM/YYYY, which reads it

                """)
        let either = try folder.write("either.csv", "Date,Amount\n01/02/2026,-5.00\n")
        let unsure = try Ledger.run(
            "import", file, either, "--account", "Checking", "--date-col", "1", "--amount-col", "2")
        #expect(
            unsure.stdout.contains(
                "  line 2: the date '01/02/2026' is not a real date written YYYY-MM-DD; import with --date-format MM/DD/YYYY, or --date-format DD/MM/YYYY if the bank writes the day first\n"
            ), "\(unsure.stdout)")
    }

    @Test func trialBalanceKeepsWholeNames() throws {
        let file = try folder.sample(transactions: 300)
        let report = try Ledger.run("report", "trial-balance", file)
        #expect(report.status == 0)
        let rows = report.stdout.split(separator: "\n").map(String.init)
        let long = try #require(rows.first { $0.hasPrefix("2230 ") })
        #expect(long.hasPrefix("2230 Payroll Liabilities:Social Security and Medicare  "))
        // Every amount column ends at the same place.
        let widths = Set(rows.dropFirst().dropLast().map(\.count))
        #expect(widths == [rows[1].count])
    }

    @Test func versionSaysTheToolAndTheFormat() throws {
        let result = try Ledger.run("--version")
        #expect(result.status == 0)
        #expect(result.stdout == "ledger 0.9.0 (company file format 1)\n")
    }
}
