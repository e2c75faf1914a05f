import Foundation
import Testing

@Suite struct VerifyCommandTests {
    let folder = TemporaryDirectory()

    @Test func cleanFileExitsZero() throws {
        let path = try folder.sample()
        let result = try Ledger.run("verify", path)
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("0 errors, 0 warnings in "))
        #expect(result.stdout.hasSuffix(" s — the file is in order\n"))
        #expect(result.stderr.isEmpty)
    }

    @Test func findingsAreGroupedAndExitOne() throws {
        let path = try folder.sample()
        try editWithPython(
            path,
            """
            UPDATE accounts SET balance = balance + 1 WHERE id IN (1, 2, 3);
            UPDATE document_lines SET amount = amount + 1 WHERE id = 1;
            """)
        let result = try Ledger.run("verify", path, "--limit", "2")
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            lines[0]
                == "account-balance-mismatch — Account balances that disagree with their transactions: 3 (error, rebuild repairs)"
        )
        #expect(lines[1].hasPrefix("  Account 'Checking' (1) shows a balance of "))
        #expect(lines[3] == "  … and 1 more (--all shows every one)")
        #expect(
            lines[4]
                == "document-lines-mismatch — Invoice and bill lines that do not add up to the total: 1 (warning, needs a person)"
        )
        #expect(lines.last(where: { !$0.isEmpty })!.hasPrefix("3 errors, 1 warning in "))
        #expect(lines.last(where: { !$0.isEmpty })!.hasSuffix(" — ledger rebuild \(path) repairs 3"))
        let all = try Ledger.run("verify", path, "--all")
        #expect(!all.stdout.contains("more (--all"))
    }

    @Test func jsonIsExactlyTheSpecObject() throws {
        let path = try folder.sample()
        try editWithPython(path, "UPDATE splits SET amount = amount + 1000 WHERE id = 10;")
        let result = try Ledger.run("verify", path, "--json")
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        // docs/findings.md's keys, and the company's name beside them.
        #expect(Set(object.keys) == ["file", "company", "format_version", "ok", "counts", "findings", "elapsed_ms"])
        #expect(object["company"] as? String == "Sample Company")
        #expect(object["file"] as? String == path)
        #expect(object["format_version"] as? Int == 1)
        #expect(object["ok"] as? Bool == false)
        let counts = try #require(object["counts"] as? [String: Int])
        #expect(counts["transactions"] == 400)
        #expect(counts["accounts"] == 54)
        let findings = try #require(object["findings"] as? [[String: Any]])
        let unbalanced = try #require(findings.first { $0["code"] as? String == "unbalanced-transaction" })
        #expect(Set(unbalanced.keys) == ["code", "severity", "table", "row_id", "repairable", "message"])
        #expect(unbalanced["severity"] as? String == "error")
        #expect(unbalanced["table"] as? String == "transactions")
        #expect(unbalanced["repairable"] as? Bool == true)
        #expect((unbalanced["message"] as? String)?.hasSuffix("is out of balance by 10.00") == true)
        #expect(object["elapsed_ms"] is Int)
    }

    @Test func jsonWritesNullTableAndRowForFileDamage() throws {
        let path = try folder.sample()
        try editWithPython(path, "DROP INDEX splits_party;")
        let result = try Ledger.run("verify", path, "--json", "--quick")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let finding = try #require((object["findings"] as? [[String: Any]])?.first)
        #expect(finding["code"] as? String == "schema-object-missing")
        #expect(finding["table"] as? String == "splits")
        #expect(finding["row_id"] is NSNull)
    }

    @Test func badInputGetsOneLineAndExitTwo() throws {
        let text = folder.file("notes.txt")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
        let empty = folder.file("empty.db")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        for (path, words) in [
            (folder.file("nope.db"), "no such file"), (folder.path, "is a folder"),
            (text, "not a company file"), (empty, "is empty"),
        ] {
            let result = try Ledger.run("verify", path, "--json")
            #expect(result.status == 2, "\(path)")
            #expect(result.stdout.isEmpty, "nothing on stdout for \(path)")
            #expect(result.stderr.hasPrefix("ledger: ") && result.stderr.contains(words), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        #expect(try Ledger.run("verify").status == 64)
        #expect(try Ledger.run("verify", text, "--limit", "-1").status == 64)
    }

    @Test func truncatedCompanyFileIsFindingsNotRefusal() throws {
        let path = try folder.sample(transactions: 3_000)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(truncate(path, off_t(size / 3)) == 0)
        let result = try Ledger.run("verify", path)
        #expect(result.status == 1)
        #expect(result.stdout.contains("sqlite-corruption"))
    }

    @Test func logAppendsARecord() throws {
        let path = try folder.sample()
        let log = folder.file("qbwin.log")
        #expect(try Ledger.run("verify", path, "--log", log).status == 0)
        #expect(try Ledger.run("verify", path, "--log", log, "--quick").status == 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.components(separatedBy: " verify \(path) of Sample Company (format 1").count == 3)
        let json = try Ledger.run("verify", path, "--json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["company"] as? String == "Sample Company")
        #expect(text.contains("  result: 0 errors, 0 warnings, 0 repairable, "))
    }
}

@Suite struct TrialBalanceCommandTests {
    let folder = TemporaryDirectory()

    @Test func printsDebitsAndCreditsThatAgree() throws {
        let path = folder.file("tb.db")
        #expect(try Ledger.run("sample", path, "--transactions", "300").status == 0)
        let text = try Ledger.run("report", "trial-balance", path, "--as-of", "2024-06-30")
        #expect(text.status == 0)
        #expect(text.stdout.hasPrefix("Trial balance of Sample Company as of 2024-06-30 (USD)\n"))
        #expect(text.stdout.hasSuffix("Debits equal credits: the books balance.\n"))
        let json = try Ledger.run("report", "trial-balance", path, "--json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["total_debits"] as? Int == object["total_credits"] as? Int)
        #expect((object["lines"] as? [[String: Any]])?.first?["name"] as? String == "Checking")
        let bad = try Ledger.run("report", "trial-balance", path, "--as-of", "2024-02-30")
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("is not a date"))
    }
}
