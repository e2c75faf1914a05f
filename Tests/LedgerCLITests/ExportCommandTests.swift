import Foundation
import Testing

/// `ledger export` on books it cannot carry faithfully: what a person sees,
/// and the exit status a script sees.
@Suite struct ExportCommandTests {
    let folder = TemporaryDirectory()

    /// Hidden files (a temporary export left behind) and the output, if any.
    private func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix(".") || $0.hasPrefix("out") }.sorted()
    }

    @Test func anAmountThatWouldOverflowIsRefusedWithStatusTwo() throws {
        let file = try folder.sample()
        try editWithPython(
            file,
            """
            INSERT INTO transactions (id, kind, date, created_at, modified_at)
            VALUES (9001, 'journal', '2024-01-01', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z');
            INSERT INTO splits (id, transaction_id, account_id, amount) VALUES
            (90001, 9001, 1, 9223372036854775807), (90002, 9001, 2, 1),
            (90003, 9001, 1, -9223372036854775807), (90004, 9001, 2, -1);
            """)
        for format in ["csv", "hledger"] {
            let result = try Ledger.run("export", file, "--format", format, "--out", folder.file("out"))
            #expect(result.status == 2)
            #expect(
                result.stderr
                    == "ledger: Split 90001 (transaction 9001) of \(file) stores 9223372036854775807 as its amount, which must be a whole number of cents, at most 10,000,000,000,000.00 either way (invalid-value); 1 other split does too. An export cannot carry such an amount: run 'ledger verify \(file)' to list them, and correct each by hand (rebuild cannot).\n"
            )
            #expect(try leftovers() == [])
            let standardOutput = try Ledger.run("export", file, "--format", format)
            #expect(standardOutput.status == 2)
            #expect(standardOutput.stdout == "")
        }
    }

    @Test func splitsOfADeletedTransactionAreRefusedWithStatusTwo() throws {
        let file = try folder.sample()
        try editWithPython(
            file,
            """
            DELETE FROM transactions WHERE id = 1;
            DELETE FROM splits WHERE transaction_id = 1;
            INSERT INTO splits (transaction_id, account_id, amount) VALUES (1, 1, 4500000), (1, 2, -4500000);
            """)
        let result = try Ledger.run("export", file, "--format", "hledger", "--out", folder.file("out"))
        #expect(result.status == 2)
        #expect(
            result.stderr
                == "ledger: 2 splits of \(file) belong to no transaction (orphan-split): 45,000.00 in debits and 45,000.00 in credits that an export would leave out, so that its balances would disagree with the trial balance. Run 'ledger verify \(file)' to see them, then 'ledger rebuild \(file)' to gather them into a transaction.\n"
        )
        #expect(try leftovers() == [])
    }

    @Test func aNameThatIsNotUTF8IsWrittenSaidAndExitsOne() throws {
        let file = try folder.sample()
        try editWithPython(file, "UPDATE accounts SET name = X'FF' WHERE id = 1;")
        let said =
            "1 stored text of \(file) held bytes that are not UTF-8, written as U+FFFD (\u{FFFD}): every amount is exported, but correct those names or memos to keep them exact.\n"
        let csv = try Ledger.run("export", file, "--format", "csv")
        #expect(csv.status == 1)
        #expect(csv.stderr == said)
        #expect(csv.stdout.contains(",\u{FFFD},1000,"))
        let journal = try Ledger.run("export", file, "--format", "hledger", "--out", folder.file("out.journal"))
        #expect(journal.status == 1)
        #expect(journal.stderr == "Wrote 400 transactions to \(folder.file("out.journal")).\n" + said)
    }
}
