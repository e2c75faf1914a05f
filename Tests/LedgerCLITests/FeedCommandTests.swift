import Foundation
import LedgerTestSupport
import Testing

@Suite struct FeedCommandTests {
    let folder = TemporaryDirectory()
    static let sampleData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("SampleData").path

    private func sample() throws -> String {
        let path = folder.file("books.db")
        #expect(try Ledger.run("sample", path, "--transactions", "500", "--seed", "1").status == 0)
        return path
    }

    @Test func importMatchAddAndExport() throws {
        let file = try sample()
        let december = Self.sampleData + "/checking-2025-12.qfx"
        let first = try Ledger.run("import", file, december, "--account", "Checking")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(
            first.stdout == """
                checking-2025-12.qfx: checking 000123456789 at bank 121000358 into Checking: 2 added, 4 already present.
                The statement says Checking had 119,053.64 on 2025-12-31; the books say 119,065.52 (difference -11.88).

                """)
        let again = try Ledger.run("import", file, december, "--account", "Checking", "--json")
        #expect(again.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        #expect(object["added"] as? Int == 0)
        #expect(object["already_present"] as? Int == 6)
        #expect((object["balance_check"] as? [String: Any])?["statement"] as? Int == 11_905_364)

        let listed = try Ledger.run("feed", file, "--status", "new")
        #expect(listed.status == 0)
        #expect(listed.stdout.contains("\t2025-12-31\t-15.00\tnew\tMonthly service fee\tChecking\n"))
        #expect(listed.stdout.hasSuffix("14 lines\n"))

        let matched = try Ledger.run("feed", "match", file, "--add-unmatched", "--to-account", "Uncategorized Expense")
        #expect(matched.status == 0, "\(matched.stderr)")
        #expect(matched.stdout.hasSuffix("12 matched, 2 added, 0 still new.\n"))
        #expect(try Ledger.run("verify", file).status == 0)

        let journal = try Ledger.run("export", file, "--format", "hledger")
        #expect(journal.status == 0)
        #expect(journal.stdout.contains("\naccount Uncategorized Expense  ; type: X\n"))
        #expect(
            journal.stdout.contains(
                "\n2025-12-31 Monthly service fee\n    Checking  -15.00 USD  ; Service charge\n    Uncategorized Expense  15.00 USD  ; Service charge\n"
            ))
        let csv = try Ledger.run("export", file, "--format", "csv", "--out", folder.file("books.csv"))
        #expect(csv.status == 0)
        #expect(csv.stderr.hasPrefix("Wrote 502 transactions to "))
    }

    @Test func aBadStatementAddsNothingAndExitsOne() throws {
        let file = try sample()
        let statement = folder.file("bad.ofx")
        let text = try String(contentsOfFile: Self.sampleData + "/checking-2026-01.ofx", encoding: .utf8)
            .replacingOccurrences(of: "<TRNAMT>1250.00</TRNAMT>", with: "<TRNAMT>1.250,00</TRNAMT>")
        try text.write(toFile: statement, atomically: true, encoding: .utf8)
        let result = try Ledger.run("import", file, statement, "--account", "1000")
        #expect(result.status == 1)
        #expect(
            result.stdout.hasPrefix(
                "bad.ofx: nothing was imported; 1 line cannot be read:\n  line 24: transaction 20260109900004: the amount '1.250,00' uses a comma"
            ))
        #expect(try Ledger.run("feed", file, "--status", "new").stdout.hasSuffix("12 lines\n"))
    }

    @Test func csvAndRefusals() throws {
        let file = try sample()
        let statement = folder.file("bank.csv")
        try "Posted;Amount;Who\n02.01.2026;-12,50;Kiosk\n03.01.2026;100,00;Refund\n".write(
            toFile: statement, atomically: true, encoding: .utf8)
        let imported = try Ledger.run(
            "import", file, statement, "--account", "Checking", "--date-col", "Posted", "--amount-col", "2",
            "--payee-col", "Who", "--date-format", "DD.MM.YYYY", "--delimiter", ";", "--decimal-comma")
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout == "bank.csv into Checking: 2 added, 0 already present.\n")

        let noColumns = try Ledger.run("import", file, statement, "--account", "Checking")
        #expect(noColumns.status == 64)
        let unknown = try Ledger.run(
            "import", file, statement, "--account", "Nowhere", "--date-col", "1", "--amount-col", "2",
            "--date-format", "DD.MM.YYYY", "--delimiter", ";", "--decimal-comma")
        #expect(unknown.status == 2)
        #expect(unknown.stderr.hasPrefix("ledger: There is no account 'Nowhere'."))
        #expect(unknown.stderr.split(separator: "\n").count == 1)
        let excluded = try Ledger.run("feed", "exclude", file, "99999")
        #expect(excluded.status == 2)
        #expect(excluded.stderr == "ledger: There is no bank feed line 99999; 'ledger feed FILE' lists them.\n")
        #expect(try Ledger.run("feed", "match", file, "--add-unmatched").status == 64)
        #expect(try Ledger.run("export", file, "--format", "ledger").status == 64)
    }

    /// An OFX file of one checking statement of account `id` with `count` lines.
    private func statement(_ name: String, id: String, count: Int, cutAt: Int? = nil) throws -> String {
        let lines = (1...count).map {
            "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>202601\(String(format: "%02d", $0 % 28 + 1))<TRNAMT>-\($0).25<FITID>\(id)-\($0)<NAME>Payee \($0)</STMTTRN>"
        }
        var text = """
            OFXHEADER:100
            DATA:OFXSGML

            <OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD
            <BANKACCTFROM><BANKID>021000021<ACCTID>\(id)<ACCTTYPE>CHECKING</BANKACCTFROM>
            <BANKTRANLIST>
            \(lines.joined(separator: "\n"))
            </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
            """
        if let cutAt { text = String(text.prefix(cutAt)) }
        let path = folder.file(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func severalStatementsNeedAnAccountEachAndCutFilesAddNothing() throws {
        let file = try sample()
        let first = try String(contentsOfFile: try statement("a.ofx", id: "1111", count: 2), encoding: .utf8)
        let second = try String(contentsOfFile: try statement("b.ofx", id: "2222", count: 3), encoding: .utf8)
        // Two statements in one download.
        let both =
            first.replacingOccurrences(of: "</BANKMSGSRSV1></OFX>", with: "")
            + second[second.range(of: "<STMTTRNRS>")!.lowerBound...]
        let path = folder.file("both.ofx")
        try both.write(toFile: path, atomically: true, encoding: .utf8)
        let refused = try Ledger.run("import", file, path, "--account", "Checking")
        #expect(refused.status == 2)
        #expect(
            refused.stderr.hasPrefix(
                "ledger: both.ofx holds 2 statements: checking 1111 at bank 021000021, 2 lines, 2026-01-02 to 2026-01-03; checking 2222 at bank 021000021, 3 lines"
            ), "\(refused.stderr)")
        #expect(refused.stderr.contains("--account 1111=\"Checking\" --account 2222=\"Savings\""))
        let imported = try Ledger.run("import", file, path, "--account", "1111=Checking", "--account", "2222=Savings")
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(
            imported.stdout.hasPrefix(
                """
                both.ofx: checking 1111 at bank 021000021 into Checking: 2 added, 0 already present.
                both.ofx: checking 2222 at bank 021000021 into Savings: 3 added, 0 already present.
                """), "\(imported.stdout)")

        let cut = try statement("cut.ofx", id: "3333", count: 4, cutAt: 400)
        let partial = try Ledger.run("import", file, cut, "--account", "Checking")
        #expect(partial.status == 1)
        #expect(
            partial.stdout.contains("the file ends before the statement does: download it again"), "\(partial.stdout)")
        #expect(try Ledger.run("feed", file, "--status", "new", "--json").stdout.contains("3333") == false)
        #expect(try Ledger.run("verify", file).status == 0)
    }

    @Test func importsAtOnceWaitForEachOther() throws {
        let file = try sample()
        let paths = try (1...4).map { try statement("s\($0).ofx", id: "90\($0)", count: 200) }
        let results = ResultBox()
        DispatchQueue.concurrentPerform(iterations: paths.count) { index in
            let result = try? Ledger.run("import", file, paths[index], "--account", "Checking")
            results.add(result?.status ?? -1, result?.stderr ?? "could not run")
        }
        #expect(results.statuses == [0, 0, 0, 0], "\(results.errors)")
        let count = try Ledger.run("feed", file, "--json")
        let lines = try #require(try JSONSerialization.jsonObject(with: Data(count.stdout.utf8)) as? [[String: Any]])
            .filter { ($0["fitid"] as? String)?.hasPrefix("90") == true }
        #expect(lines.count == 800)
        // The four files hold the same days and amounts under other ids: whichever landed first is
        // new, and each line of the other three is set aside as a probable duplicate of one of its lines.
        #expect(lines.filter { $0["status"] as? String == "new" }.count == 200)
        #expect(lines.filter { ($0["memo"] as? String)?.hasPrefix("Probable duplicate of line ") == true }.count == 600)

        // A file held locked: waited for, then refused with exit 2, nothing added.
        let holder = try FileHolder(file, .exclusive)
        defer { holder.release() }
        let busy = try Ledger.run(
            "import", file, try statement("late.ofx", id: "777", count: 2), "--account", "Checking", "--wait", "1")
        #expect(busy.status == 2)
        #expect(
            busy.stderr
                == "ledger: \(file) is open in another program; close it there (or wait for it to finish) and run the command again. Nothing was changed.\n"
        )
    }
}

/// Exit statuses and error output gathered from several threads.
final class ResultBox: @unchecked Sendable {
    // Both arrays are guarded by `lock`.
    private let lock = NSLock()
    private var gathered: [(Int32, String)] = []

    func add(_ status: Int32, _ error: String) {
        lock.lock()
        gathered.append((status, error))
        lock.unlock()
    }

    var statuses: [Int32] {
        lock.lock()
        defer { lock.unlock() }
        return gathered.map(\.0).sorted()
    }

    var errors: [String] {
        lock.lock()
        defer { lock.unlock() }
        return gathered.map(\.1).filter { !$0.isEmpty }
    }
}

@Suite struct FeedListWordsTests {
    let folder = TemporaryDirectory()

    /// `feed FILE` names the transaction a line is matched to or added as, as
    /// `feed match` does, never "→ transaction 90".
    @Test func theListNamesEachLinesTransaction() throws {
        let file = folder.file("books.db")
        #expect(try Ledger.run("sample", file, "--transactions", "500", "--seed", "1").status == 0)
        let listed = try Ledger.run("feed", file)
        #expect(listed.status == 0)
        let lines = listed.stdout.split(separator: "\n").map(String.init)
        #expect(
            Array(lines.prefix(2)) == [
                "1\t2023-01-05\t40.83\tmatched → Deposit of 2023-01-03 for 40.83 (Interest)\tInterest\tChecking",
                "2\t2023-01-11\t-34.69\tadded → Check of 2023-01-11 for 34.69 (Monthly service fee)\tMonthly service fee\tChecking",
            ])
        #expect(lines.contains("36\t2023-07-15\t-227.98\tnew\tOffice Depot\tChecking"))
        #expect(!listed.stdout.contains("→ transaction"))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(try Ledger.run("feed", file, "--json").stdout.utf8))
                as? [[String: Any]])
        #expect(json.first?["transaction"] as? String == "Deposit of 2023-01-03 for 40.83 (Interest)")
        #expect(json.first?["transaction_id"] as? Int == 2)
    }
}
