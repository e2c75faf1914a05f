import Foundation
import Testing

@Suite struct FoundationCommandTests {
    let folder = TemporaryDirectory()

    @Test func initCreatesACompanyAndRefusesToOverwrite() throws {
        let path = folder.file("Acme Plumbing ü.db")
        let made = try Ledger.run("init", path, "--name", "Acme Plumbing", "--currency", "CAD")
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout == "Created \(path) for Acme Plumbing (CAD) with 54 accounts.\n")
        #expect(made.stderr.isEmpty)
        let again = try Ledger.run("init", path, "--name", "Other")
        #expect(again.status == 2)
        #expect(again.stdout.isEmpty)
        #expect(
            again.stderr
                == "ledger: \(path) already exists; ledger will not overwrite it. Choose another name or move the old file away.\n"
        )
    }

    @Test func initChecksItsArguments() throws {
        let noName = try Ledger.run("init", folder.file("a.db"))
        #expect(noName.status == 64)
        #expect(noName.stderr.contains("--name"))
        let blank = try Ledger.run("init", folder.file("a.db"), "--name", "   ")
        #expect(blank.status == 64)
        let currency = try Ledger.run("init", folder.file("a.db"), "--name", "A", "--currency", "dollars")
        #expect(currency.status == 2)
        #expect(
            currency.stderr
                == "ledger: 'dollars' is not a currency code. Use three capital letters, as in USD, EUR or GBP.\n")
        #expect(!FileManager.default.fileExists(atPath: folder.file("a.db")))
    }

    @Test func sampleThenInfoAsJSON() throws {
        let path = folder.file("sample.db")
        let made = try Ledger.run("sample", path, "--transactions", "800", "--seed", "9", "--name", "Birch & Co")
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.hasPrefix("Created \(path): 800 transactions, "))
        #expect(made.stderr.isEmpty, "no progress when stderr is not a terminal")
        let info = try Ledger.run("info", path, "--json")
        #expect(info.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        #expect(object["company"] as? String == "Birch & Co")
        #expect(object["currency"] as? String == "USD")
        #expect(object["format_version"] as? Int == 1)
        #expect(object["journal_mode"] as? String == "wal")
        #expect(object["page_size"] as? Int == 4096)
        let counts = try #require(object["row_counts"] as? [String: Int])
        #expect(counts["transactions"] == 800)
        #expect(counts["accounts"] == 54)
        #expect(counts.count == 13)
        #expect((object["last_runs"] as? [Any])?.isEmpty == true)
    }

    @Test func infoAsText() throws {
        let path = folder.file("text.db")
        #expect(try Ledger.run("init", path, "--name", "Text Co").status == 0)
        let info = try Ledger.run("info", path)
        #expect(info.status == 0)
        #expect(info.stdout.contains("Company:        Text Co\n"))
        #expect(info.stdout.contains("  accounts          54\n"))
        #expect(info.stdout.contains("Maintenance:    none recorded\n"))
    }

    @Test func sampleRefusesToOverwriteWithoutForce() throws {
        let path = folder.file("s.db")
        #expect(try Ledger.run("sample", path, "--transactions", "5").status == 0)
        let again = try Ledger.run("sample", path, "--transactions", "5")
        #expect(again.status == 2)
        #expect(again.stderr.contains("already exists"))
        #expect(try Ledger.run("sample", path, "--transactions", "7", "--force").status == 0)
        #expect(try Ledger.run("sample", path, "--transactions", "0").status == 64)
    }

    @Test func infoRefusesWhatIsNotACompanyFile() throws {
        let text = folder.file("notes.txt")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
        let cases: [(String, String)] = [
            (folder.file("missing.db"), "no such file"),
            (folder.path, "is a folder"),
            (text, "not a company file"),
        ]
        for (path, words) in cases {
            let result = try Ledger.run("info", path)
            #expect(result.status == 2, "\(path)")
            #expect(result.stderr.hasPrefix("ledger: ") && result.stderr.contains(words), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
            #expect(result.stdout.isEmpty)
        }
    }

    @Test func helpExplainsTheCommands() throws {
        let help = try Ledger.run("--help")
        #expect(help.status == 0)
        for command in ["init", "sample", "info"] { #expect(help.stdout.contains(command)) }
        let unknown = try Ledger.run("frobnicate")
        #expect(unknown.status == 64)
    }
}

@Suite struct InfoMaintenanceTests {
    let folder = TemporaryDirectory()

    @Test func infoListsTheNewestMaintenanceRuns() throws {
        let path = folder.file("runs.db")
        #expect(try Ledger.run("init", path, "--name", "Runs Co").status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            for i in range(1, 8):
                c.execute("INSERT INTO maintenance_runs (command, started_at, finished_at, outcome) VALUES ('rebuild', ?, ?, 'repaired')",
                          ('2026-11-%02dT02:00:00Z' % i, '2026-11-%02dT02:01:00Z' % i))
            c.commit()
            """, path,
        ]
        try process.run()
        process.waitUntilExit()
        let info = try Ledger.run("info", path)
        #expect(info.stdout.contains("Maintenance (newest first):\n  #7 rebuild 2026-11-07T02:00:00Z repaired\n"))
        #expect(!info.stdout.contains("#2 rebuild"))
        let json = try Ledger.run("info", path, "--json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let runs = try #require(object["last_runs"] as? [[String: Any]])
        #expect(runs.count == 5)
        #expect(runs.first?["id"] as? Int == 7)
        #expect(runs.first?["started_at"] as? String == "2026-11-07T02:00:00Z")
    }
}
