import Foundation
import LedgerKit
import LedgerTestSupport
import Testing

/// `ledger schedule`: one schedule per file, whatever its name; `--list`; a
/// missing file refused; what the unit leaves out said (issue 26).
@Suite struct ScheduleCommandTests {
    let folder = TemporaryDirectory()

    private func unit(of file: String) -> String {
        BackupSchedule(ledger: "", file: file, folder: "", time: "02:00", policy: RetentionPolicy()).unitName
    }

    /// The environment of a run: this one's, without AWS keys, with `crontab`
    /// answering `crontab` (nil: no crontab at all).
    private func environment(crontab: String?, extra: [String: String] = [:]) throws -> [String: String] {
        let bin = folder.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let script = bin + "/crontab"
        let body =
            crontab.map { "cat <<'LEDGER_END'\n\($0)\nLEDGER_END\n" } ?? "echo 'no crontab for you' >&2; exit 1\n"
        try writeScript("#!/bin/sh\n" + body, to: script)
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        environment["PATH"] = bin + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        return environment.merging(extra) { $1 }
    }

    @Test func twoFilesOfOneNameGetTwoSchedulesAndListShowsThem() throws {
        try FileManager.default.createDirectory(atPath: folder.file("clientA"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder.file("clientB"), withIntermediateDirectories: true)
        let first = try folder.sample("clientA/books.db", transactions: 50)
        let second = try folder.sample("clientB/books.db", transactions: 50)
        let units = folder.file("units")
        let env = try environment(crontab: nil)

        let a = try Ledger.run(
            ["schedule", first, "--to", folder.file("backups"), "--unit-dir", units], environment: env)
        #expect(a.status == 0, "\(a.stderr)")
        let unitA = unit(of: first)
        #expect(unitA.hasPrefix("ledger-backup-books-") && unitA.count == "ledger-backup-books-".count + 8)
        #expect(
            a.stdout == """
                Wrote \(units)/\(unitA).service
                Wrote \(units)/\(unitA).timer
                Now run: systemctl --user daemon-reload && systemctl --user enable --now \(unitA).timer
                The timer runs only while you are logged in unless you run once: loginctl enable-linger \(NSUserName())

                """)
        let b = try Ledger.run(
            ["schedule", second, "--to", folder.file("backups"), "--at", "03:15", "--unit-dir", units], environment: env
        )
        #expect(b.status == 0, "\(b.stderr)")
        let unitB = unit(of: second)
        #expect(unitA != unitB)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: units).sorted()
                == ["\(unitA).service", "\(unitA).timer", "\(unitB).service", "\(unitB).timer"].sorted(),
            "neither replaced the other")

        // Scheduling a file again replaces its own units, never adds a third.
        #expect(
            try Ledger.run(
                ["schedule", first, "--to", folder.file("backups"), "--at", "01:45", "--unit-dir", units],
                environment: env
            ).status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: units).count == 4)

        // A crontab line ledger printed, installed, and a line of someone else's.
        let cron = try Ledger.run(
            ["schedule", first, "--to", "s3://acme-books/ledger", "--at", "23:05", "--cron"], environment: env)
        #expect(cron.status == 0)
        #expect(
            cron.stderr
                == "AWS keys set in this shell are not written into the line: the job reads them from ~/.aws/credentials (chmod 600).\n"
        )
        let crontab = "MAILTO=me@example.com\n15 4 * * * /usr/bin/backup-photos\n" + cron.stdout
        let listed = try Ledger.run(
            ["schedule", "--list", "--unit-dir", units], environment: try environment(crontab: crontab))
        #expect(listed.status == 0, "\(listed.stderr)")
        let systemd = [(unitA, first, "01:45"), (unitB, second, "03:15")].sorted { $0.0 < $1.0 }.map {
            "\($0.0): \($0.1) to \(folder.file("backups")) at \($0.2) (systemd timer \(units)/\($0.0).timer)"
        }
        #expect(
            listed.stdout.split(separator: "\n").map(String.init) == systemd + [
                "\(unitA): \(first) to s3://acme-books/ledger at 23:05 (crontab line)",
                "3 schedules",
            ])
        let json = try #require(
            try JSONSerialization.jsonObject(
                with: Data(
                    try Ledger.run(
                        ["schedule", "--list", "--json", "--unit-dir", units],
                        environment: try environment(crontab: crontab)
                    ).stdout.utf8)) as? [[String: Any]])
        #expect(json.map { $0["kind"] as? String } == ["systemd", "systemd", "cron"])

        let none = try Ledger.run(
            ["schedule", "--list", "--unit-dir", folder.file("empty")], environment: try environment(crontab: nil))
        #expect(none.status == 0)
        #expect(
            none.stdout
                == "No nightly backups: no ledger timer in \(folder.file("empty")) and no ledger line in your crontab.\n"
        )
        #expect(try Ledger.run(["schedule", "--list", first], environment: env).status == 64)
        #expect(try Ledger.run(["schedule", first], environment: env).status == 64)
    }

    /// `--every 15m --incremental`: written, listed, and the job it runs takes incremental snapshots.
    @Test func aBackupEveryFifteenMinutesIsIncrementalAndListed() throws {
        let file = try folder.sample("books.db", transactions: 200)
        let units = folder.file("units")
        let backups = folder.file("backups")
        let env = try environment(crontab: nil)
        let made = try Ledger.run(
            [
                "schedule", file, "--to", backups, "--every", "15m", "--incremental", "--keep-last", "96", "--unit-dir",
                units,
            ],
            environment: env)
        #expect(made.status == 0, "\(made.stderr)")
        let name = unit(of: file)
        let timer = try String(contentsOfFile: "\(units)/\(name).timer", encoding: .utf8)
        #expect(timer.contains("OnCalendar=*-*-* *:00/15:00\n"))
        let service = try String(contentsOfFile: "\(units)/\(name).service", encoding: .utf8)
        #expect(
            service.contains(
                "\"--kind\" \"scheduled\" \"--keep-last\" \"96\" \"--incremental\" \"--full-every\" \"7d\"\n"))

        let cron = try Ledger.run(
            ["schedule", file, "--to", backups, "--every", "30m", "--incremental", "--cron"], environment: env)
        #expect(cron.status == 0 && cron.stdout.hasPrefix("*/30 * * * * status=$("), "\(cron.stdout)")
        let listed = try Ledger.run(
            ["schedule", "--list", "--unit-dir", units], environment: try environment(crontab: cron.stdout))
        #expect(
            listed.stdout.split(separator: "\n").map(String.init) == [
                "\(name): \(file) to \(backups) every 15m, incremental (systemd timer \(units)/\(name).timer)",
                "\(name): \(file) to \(backups) every 30m, incremental (crontab line)", "2 schedules",
            ])
        let json = try #require(
            try JSONSerialization.jsonObject(
                with: Data(
                    try Ledger.run(["schedule", "--list", "--json", "--unit-dir", units], environment: env).stdout.utf8)
            )
                as? [[String: Any]])
        // The crontab answers the line printed above.
        #expect(json.map { $0["every"] as? String } == ["15m", "30m"])
        #expect(json.allSatisfy { $0["incremental"] as? Bool == true && $0["time"] == nil })

        // What the job runs, twice: a full snapshot first (the location has none), then an incremental one.
        let job = ["backup", file, "--to", backups, "--kind", "scheduled", "--incremental", "--full-every", "7d"]
        let first = try Ledger.run(job, environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.hasPrefix("Full snapshot instead of an incremental one: this file has no full snapshot"))
        try editWithPython(file, "UPDATE transactions SET memo = 'changed' WHERE id = 7;")
        let second = try Ledger.run(job, environment: env)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.hasPrefix("Incremental: "), "\(second.stdout)")
        let restored = folder.file("restored.db")
        // The newest snapshot as `snapshots` orders them (two taken in one second differ by a suffix).
        let listing = try #require(
            try JSONSerialization.jsonObject(
                with: Data(try Ledger.run(["snapshots", backups, "--json"], environment: env).stdout.utf8))
                as? [[String: Any]])
        #expect(listing.count == 2)
        let newest = try #require(listing.last?["path"] as? String)
        let restore = try Ledger.run(["restore", newest, "--to", restored], environment: env)
        #expect(restore.status == 0, "\(restore.stderr)")
        let memo = Process()
        memo.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        memo.arguments = [
            "python3", "-c",
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT memo FROM transactions WHERE id = 7').fetchone()[0])",
            restored,
        ]
        let out = Pipe()
        memo.standardOutput = out
        try memo.run()
        memo.waitUntilExit()
        #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "changed\n")

        for (words, said) in [
            (["--every", "7m"], "--every '7m' is not an interval a schedule takes"),
            (["--every", "15m", "--at", "02:00"], "--at and --every do not go together"),
            (["--identity", "key.txt"], "--identity goes with --incremental"),
            (["--recipients-file", "r.txt\n[Service]\nExecStartPre=/bin/sh"], "has a line break or another control"),
        ] {
            let refused = try Ledger.run(
                ["schedule", file, "--to", backups, "--unit-dir", units] + words, environment: env)
            #expect(refused.status == 64 && refused.stderr.contains(said), "\(words): \(refused.stderr)")
        }
    }

    @Test func aMissingFileOrAnotherProgramsFileIsRefused() throws {
        let units = folder.file("units")
        let env = try environment(crontab: nil)
        let missing = try Ledger.run(
            ["schedule", "nosuch.db", "--to", folder.file("backups"), "--unit-dir", units], environment: env,
            in: folder.path)
        #expect(missing.status == 2)
        #expect(
            missing.stderr == "ledger: nosuch.db: no such file. Check the path and the spelling of the file name.\n")
        #expect(missing.stdout == "")
        let cron = try Ledger.run(
            ["schedule", "nosuch.db", "--to", folder.file("backups"), "--cron"], environment: env, in: folder.path)
        #expect(cron.status == 2 && cron.stdout == "")

        let other = folder.file("photos.db")
        try editWithPython(other, "CREATE TABLE photos (id INTEGER PRIMARY KEY);")
        let foreign = try Ledger.run(
            ["schedule", other, "--to", folder.file("backups"), "--unit-dir", units], environment: env)
        #expect(foreign.status == 2)
        #expect(
            foreign.stderr
                == "ledger: \(other) is an SQLite database of another program, not a ledger company file; ledger will not touch it.\n"
        )
        #expect(!FileManager.default.fileExists(atPath: units), "nothing written")
    }

    @Test func awsKeysStayOutOfTheUnitAndTheOutputSaysWhere() throws {
        let file = try folder.sample("acme.db", transactions: 50)
        let units = folder.file("units")
        let env = try environment(
            crontab: nil,
            extra: [
                "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY": "secret-of-acme",
                "AWS_REGION": "eu-west-1",
            ])
        let made = try Ledger.run(
            ["schedule", file, "--to", "s3://acme-books/ledger", "--unit-dir", units], environment: env)
        #expect(made.status == 0, "\(made.stderr)")
        let lines = made.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.last
                == "AWS keys set in this shell are not written into the unit: put them in ~/.aws/credentials, or in a file only you can read (chmod 600) named by EnvironmentFile= in the .service."
        )
        #expect(
            lines.contains(
                "The timer runs only while you are logged in unless you run once: loginctl enable-linger \(NSUserName())"
            ))
        let service = try String(contentsOfFile: "\(units)/\(unit(of: file)).service", encoding: .utf8)
        #expect(service.contains("Environment=\"AWS_REGION=eu-west-1\"\n"))
        #expect(!service.contains("AKIA") && !service.contains("secret-of-acme"))
    }

    /// Each `ExecStart=` value of `unit`, as the words its process gets, with
    /// `HOME` set to a folder no test path names.
    private func commandWords(in unit: String) -> [[String]?] {
        SystemdRules.lines(of: unit).filter { $0.hasPrefix("ExecStart=") }.map {
            SystemdRules.commandWords(
                String($0.dropFirst("ExecStart=".count)), environment: ["HOME": "/home/elsewhere"])
        }
    }

    /// A folder of the test's, named `name`, holding a sample `books.db`; its path and the file's.
    private func companyIn(_ name: String) throws -> (folder: String, file: String) {
        try FileManager.default.createDirectory(atPath: folder.file(name), withIntermediateDirectories: true)
        return (folder.file(name), try folder.sample(name + "/books.db", transactions: 30))
    }

    /// systemd reads `$$`, `${NAME}` and `%x` in a unit's command, and `\` and
    /// `"` end or escape its quotes: a path holding them (and a combining mark
    /// after them, one Swift character but two bytes to systemd) reaches the
    /// job as written, the descriptions say it, and `--list` shows it.
    @Test func aPathWithDollarsPercentsAndQuotesReachesTheJobAsWritten() throws {
        let odd = try companyIn(
            #"co$$x ${HOME}y $HOME %n 100%% \q \%x "q" it's"# + " \"\u{301} %\u{301}n $\u{301}$ \\\u{301}")
        let backups = odd.folder + "/bk$$ ${HOME}"
        let units = folder.file("units")
        let env = try environment(crontab: nil)
        let made = try Ledger.run(["schedule", odd.file, "--to", backups, "--unit-dir", units], environment: env)
        #expect(made.status == 0, "\(made.stderr)")
        let name = unit(of: odd.file)
        let service = try String(contentsOfFile: "\(units)/\(name).service", encoding: .utf8)
        let timer = try String(contentsOfFile: "\(units)/\(name).timer", encoding: .utf8)
        #expect(
            commandWords(in: service) == [
                [Ledger.binary.path, "backup", odd.file, "--to", backups, "--kind", "scheduled"]
            ], "\(service)")
        #expect(
            SystemdRules.value(of: "Description", in: service).map(SystemdRules.specifiers)
                == "Nightly ledger backup of \(odd.file)")
        #expect(
            SystemdRules.value(of: "Description", in: timer).map(SystemdRules.specifiers)
                == "Nightly ledger backup of \(odd.file) at 02:00")

        let listed = try Ledger.run(["schedule", "--list", "--unit-dir", units], environment: env)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(
            listed.stdout
                == "\(name): \(odd.file) to \(backups) at 02:00 (systemd timer \(units)/\(name).timer)\n1 schedule\n")
    }

    /// Cron ends a command at a bare `%` and reads `\%` as `%`, so a path
    /// holding `\%` once made the line stop inside a quote, and the backup never
    /// ran. The line, as cron hands it to `/bin/sh`, now backs up the file into
    /// the folder named, and `--list` shows both.
    @Test func aCrontabLineBacksUpAPathWithBackslashPercentAsWritten() throws {
        let odd = try companyIn(#"co\%x 50% \\%% it's \'%'"# + " '\u{301}; %\u{301}")
        let backups = odd.folder + #"/bk\%"#
        let env = try environment(crontab: nil)
        let cron = try Ledger.run(["schedule", odd.file, "--to", backups, "--cron"], environment: env)
        #expect(cron.status == 0, "\(cron.stderr)")
        let lines = cron.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines.last == "", "one line")
        let run = CronRules.command(of: String(lines[0]))
        #expect(run.input == nil, "no bare % ends the command early: \(cron.stdout)")

        // Run it as cron would, with a logger that keeps what the job says.
        let said = folder.file("said.txt")
        try writeScript("#!/bin/sh\ncat >> '\(said)'\n", to: folder.file("bin/logger"))
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", run.command]
        shell.environment = env
        shell.standardInput = FileHandle.nullDevice
        try shell.run()
        shell.waitUntilExit()
        let log = (try? String(contentsOfFile: said, encoding: .utf8)) ?? ""
        #expect(shell.terminationStatus == 0, "\(log)")
        let taken = (try? FileManager.default.contentsOfDirectory(atPath: backups)) ?? []
        #expect(
            taken.filter { $0.hasPrefix("books-") && $0.hasSuffix(".db.gz") }.count == 1,
            "\(taken) in \(backups)")

        let listed = try Ledger.run(
            ["schedule", "--list", "--unit-dir", folder.file("units")],
            environment: try environment(crontab: cron.stdout))
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(
            listed.stdout == "\(unit(of: odd.file)): \(odd.file) to \(backups) at 02:00 (crontab line)\n1 schedule\n")
    }

    /// A path may hold U+2028, U+2029 or U+0085, which Swift counts as line
    /// breaks but systemd and cron do not: `--list` reads a unit and a crontab
    /// line by their `\n` alone and gives the path as written. `schedule`
    /// itself refuses them, as the crontab line it prints would show them
    /// escaped and so name another path.
    @Test func aPathWithUnicodeLineSeparatorsIsListedAsWrittenAndNotScheduled() throws {
        let odd = try companyIn("line\u{2028}sep\u{85}next\u{2029}para")
        let backups = odd.folder + "/bk\u{2028}\u{85}"
        let units = folder.file("units")
        let schedule = BackupSchedule(
            ledger: Ledger.binary.path, file: odd.file, folder: backups, time: "02:00", policy: RetentionPolicy())
        _ = try schedule.writeUnits(into: units)
        let env = try environment(crontab: schedule.cronLine)
        let json = try #require(
            try JSONSerialization.jsonObject(
                with: Data(
                    try Ledger.run(["schedule", "--list", "--json", "--unit-dir", units], environment: env).stdout
                        .utf8)) as? [[String: Any]])
        #expect(json.map { $0["kind"] as? String } == ["systemd", "cron"])
        #expect(json.map { $0["file"] as? String } == [odd.file, odd.file])
        #expect(json.map { $0["folder"] as? String } == [backups, backups])
        let listed = try Ledger.run(["schedule", "--list", "--unit-dir", units], environment: env)
        let shown = { (path: String) in
            path.replacingOccurrences(of: "\u{2028}", with: #"\u{2028}"#)
                .replacingOccurrences(of: "\u{2029}", with: #"\u{2029}"#)
                .replacingOccurrences(of: "\u{85}", with: #"\u{85}"#)
        }
        let name = schedule.unitName
        #expect(
            listed.stdout == """
                \(name): \(shown(odd.file)) to \(shown(backups)) at 02:00 (systemd timer \(units)/\(name).timer)
                \(name): \(shown(odd.file)) to \(shown(backups)) at 02:00 (crontab line)
                2 schedules

                """)

        for words in [["--unit-dir", folder.file("more")], ["--cron"]] {
            let refused = try Ledger.run(["schedule", odd.file, "--to", folder.file("bk")] + words, environment: env)
            #expect(refused.status == 64 && refused.stdout == "")
            #expect(
                refused.stderr.hasPrefix(
                    "Error: '\(shown(odd.file))' has a line break or another control character (or an invisible "
                        + "direction mark), which a unit file or a crontab line cannot hold safely; rename it, then "
                        + "schedule again.\n"), "\(refused.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file("more")))
    }
}
