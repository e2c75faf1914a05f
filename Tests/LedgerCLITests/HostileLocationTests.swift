import Foundation
import LedgerTestSupport
import Testing

/// A backup location is someone else's disk: it cannot choose who reads the
/// books, it never receives them in clear where the owner encrypts, and what
/// it says is printed without being obeyed by the terminal.
@Suite struct HostileLocationTests {
    let folder = TemporaryDirectory()

    /// This process's environment with this test's own recipients file and scratch folder.
    private var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = folder.file("config")
        environment["TMPDIR"] = folder.file("tmp")
        return environment
    }

    private func run(_ arguments: String...) throws -> CommandResult {
        try Ledger.run(arguments, environment: environment)
    }

    private func newKey(_ name: String) throws -> (path: String, recipient: String) {
        let made = try run("key", "new", "--out", folder.file(name))
        #expect(made.status == 0, "\(made.stderr)")
        return (folder.file(name), made.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Writes this machine's recipients file (mode 0600).
    private func configure(_ text: String) throws {
        try folder.recipientsConfig(text)
    }

    private func names(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    @Test func recipientsComeFromThisMachineAndTheLocationsListIsOnlyCompared() throws {
        let file = try folder.sample("acme.db")
        let (key, office) = try newKey("office.txt")
        let (_, intruder) = try newKey("intruder.txt")
        let backups = folder.file("backups")
        let config = folder.file("config/ledger/recipients")
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: true)
        try "\(office)\n".write(toFile: backups + "/.ledger-recipients", atomically: true, encoding: .utf8)

        // The location asks for encryption this machine did not set up: refused, nothing written.
        let unset = try run("backup", file, "--to", backups)
        #expect(unset.status == 2 && unset.stdout.isEmpty)
        #expect(
            unset.stderr
                == "ledger: \(backups)/.ledger-recipients asks for encrypted snapshots, but no recipients are set for "
                + "\(backups) on this machine; nothing was written. Give --encrypt-to, or add the line '\(backups) age1…' to \(config).\n"
        )
        #expect(try names(backups) == [".ledger-recipients"])

        // Set here, the same: encrypted to them.
        try configure("# the office's key\n\(backups) \(office)\n")
        let sealed = try run("backup", file, "--to", backups)
        #expect(sealed.status == 0, "\(sealed.stderr)")
        #expect(
            sealed.stdout.hasPrefix("Snapshot \(backups)/acme-") && sealed.stdout.contains(".db.gz.age (encrypted)\n"))
        let first = try names(backups).filter { $0.hasSuffix(".age") }
        #expect(first.count == 1)

        // Whoever writes to the location adds a reader: refused, saying who.
        try "\(office)\n\(intruder)\n".write(toFile: backups + "/.ledger-recipients", atomically: true, encoding: .utf8)
        let added = try run("backup", file, "--to", backups)
        #expect(added.status == 2)
        #expect(
            added.stderr
                == "ledger: \(backups)/.ledger-recipients names \(intruder), which this machine does not; nothing was "
                + "written. If the location's list is right, set the same recipients here (--encrypt-to, or its line in \(config)); "
                + "if not, someone changed it: correct or remove it.\n")
        // Or removes the list and the owner's line goes missing too: never a plain snapshot beside the encrypted one.
        try FileManager.default.removeItem(atPath: backups + "/.ledger-recipients")
        try FileManager.default.removeItem(atPath: config)
        let plain = try run("backup", file, "--to", backups, "--kind", "scheduled")
        #expect(plain.status == 2)
        #expect(
            plain.stderr
                == "ledger: \(backups) holds encrypted snapshots (\(first[0])) and no recipients are set for it on this "
                + "machine, so this snapshot would be readable there by anyone; nothing was written. Give --encrypt-to, or add the "
                + "line '\(backups) age1…' to \(config).\n")
        let rebuilt = try run("rebuild", file, "--backup-dir", backups)
        #expect(rebuilt.status == 2 && rebuilt.stderr.contains("holds encrypted snapshots"), "\(rebuilt.stderr)")
        #expect(try names(backups) == [".ledger.lock"] + first)

        // Given on the command line, and named by another path (a link): encrypted, and it opens with the key.
        try FileManager.default.createSymbolicLink(atPath: folder.file("nas"), withDestinationPath: backups)
        try configure("\(folder.file("nas")) \(office)\n")
        let again = try run("backup", file, "--to", backups, "--json")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("\"encrypted\" : true"))
        let listed = try run("snapshots", backups, "--identity", key)
        #expect(listed.status == 0 && listed.stdout.split(separator: "\n").count == 2, "\(listed.stdout)")
        let rebuiltNow = try run("rebuild", file, "--backup-dir", backups)
        #expect(rebuiltNow.status == 0, "\(rebuiltNow.stderr)")
        #expect(try names(backups).filter { !$0.hasPrefix(".") }.allSatisfy { $0.hasSuffix(".db.gz.age") })
        #expect(try names(backups).filter { !$0.hasPrefix(".") }.count == 3)
    }

    /// `restore` and `rebuild` take no recipients on their command line: where
    /// the snapshot of the file they replace would be plain among encrypted
    /// ones, the refusal names what they accept, and doing so works.
    @Test func aPlainSnapshotBeforeReplacingAsksForWhatRestoreAndRebuildAccept() throws {
        let file = try folder.sample("acme.db")
        let (key, office) = try newKey("office.txt")
        // Restore decrypts in the private scratch folder, made under TMPDIR.
        try FileManager.default.createDirectory(atPath: folder.file("tmp"), withIntermediateDirectories: true)
        let backups = folder.file("backups")
        let sealed = try run("backup", file, "--to", backups, "--encrypt-to", office)
        #expect(sealed.status == 0, "\(sealed.stderr)")
        let config = folder.file("config/ledger/recipients")
        let advice =
            " and no recipients are set for it on this machine, so the snapshot of the file about to be replaced "
            + "would be readable there by anyone; nothing was written. Add the line '\(backups) age1…' (the "
            + "recipients its snapshots are encrypted to) to \(config), or give --backup-dir another folder for that "
            + "snapshot.\n"
        let restored = try run("restore", backups, "--to", file, "--identity", key)
        #expect(restored.status == 2)
        #expect(
            restored.stderr.hasPrefix("ledger: \(backups) holds encrypted snapshots (acme-")
                && restored.stderr.hasSuffix(advice), "\(restored.stderr)")
        let rebuilt = try run("rebuild", file)
        #expect(rebuilt.status == 2 && rebuilt.stderr.hasSuffix(advice), "\(rebuilt.stderr)")
        #expect(try names(backups).filter { !$0.hasPrefix(".") }.count == 1)

        // Another --backup-dir, or the location's line: each works, and the location stays encrypted.
        let elsewhere = try run("rebuild", file, "--backup-dir", folder.file("mine"))
        #expect(elsewhere.status == 0, "\(elsewhere.stderr)")
        try configure("\(backups) \(office)\n")
        let again = try run("restore", backups, "--to", file, "--identity", key)
        #expect(again.status == 0, "\(again.stderr)")
        let kept = try names(backups).filter { !$0.hasPrefix(".") }
        #expect(kept.count == 2 && kept.allSatisfy { $0.hasSuffix(".db.gz.age") }, "\(kept)")
    }

    /// A location's list changed to add a reader: restore and rebuild refuse to
    /// snapshot the file they replace there, and the advice names only what
    /// they accept (this machine's line, or another --backup-dir).
    @Test func aChangedListBeforeReplacingAsksForWhatRestoreAndRebuildAccept() throws {
        let file = try folder.sample("acme.db")
        let (_, office) = try newKey("office.txt")
        let (_, intruder) = try newKey("intruder.txt")
        let backups = folder.file("backups")
        try configure("\(backups) \(office)\n")
        #expect(try run("backup", file, "--to", backups).status == 0)
        try "\(office)\n\(intruder)\n".write(toFile: backups + "/.ledger-recipients", atomically: true, encoding: .utf8)
        let rebuilt = try run("rebuild", file)
        #expect(rebuilt.status == 2)
        #expect(
            rebuilt.stderr
                == "ledger: \(backups)/.ledger-recipients names \(intruder), which this machine does not; nothing was "
                + "written. If the location's list is right, set the same recipients in its line in "
                + "\(folder.file("config/ledger/recipients")); if not, someone changed it: correct or remove it. Or "
                + "give --backup-dir another folder for the snapshot of the file about to be replaced.\n",
            "\(rebuilt.stderr)")
    }

    @Test func anObjectStoragePrefixIsHeldToTheSameRules() throws {
        var environment = try S3TestServer.environment()
        environment["XDG_CONFIG_HOME"] = folder.file("config")
        let bucket = S3TestServer.bucketName()
        let aws = try ExternalTool.require("aws", install: "pip install awscli")
        let endpoint = try S3TestServer.endpoint.get()
        #expect(
            try aws.run(["--endpoint-url", endpoint, "s3", "mb", "s3://\(bucket)"], environment: environment).status
                == 0)
        let file = try folder.sample("acme.db")
        let (_, office) = try newKey("office.txt")
        let (_, intruder) = try newKey("intruder.txt")
        let prefix = "s3://\(bucket)/acme"
        try configure("\(prefix)/ \(office)\n")
        let sealed = try Ledger.run(["backup", file, "--to", prefix], environment: environment)
        #expect(sealed.status == 0 && sealed.stdout.contains(".db.gz.age (encrypted)\n"), "\(sealed.stderr)")

        // Whoever holds the bucket adds a reader to the prefix's list: refused.
        try "\(office)\n\(intruder)\n".write(toFile: folder.file("list"), atomically: true, encoding: .utf8)
        #expect(
            try aws.run(
                ["--endpoint-url", endpoint, "s3", "cp", folder.file("list"), "\(prefix)/.ledger-recipients"],
                environment: environment
            ).status == 0)
        let added = try Ledger.run(["backup", file, "--to", prefix], environment: environment)
        #expect(
            added.status == 2
                && added.stderr.contains("\(prefix)/.ledger-recipients names \(intruder), which this machine does not;"),
            "\(added.stderr)")
        // Removes the list, and the owner's line is gone: never a plain snapshot beside the encrypted one.
        #expect(
            try aws.run(
                ["--endpoint-url", endpoint, "s3", "rm", "\(prefix)/.ledger-recipients"], environment: environment
            ).status == 0)
        try configure("")
        let plain = try Ledger.run(["backup", file, "--to", prefix], environment: environment)
        #expect(
            plain.status == 2 && plain.stderr.contains("\(prefix) holds encrypted snapshots (acme-"), "\(plain.stderr)")
        let listed = try aws.run(["--endpoint-url", endpoint, "s3", "ls", "\(prefix)/"], environment: environment)
        let objects = listed.output.split(separator: "\n").map { String($0.split(separator: " ").last ?? "") }
        #expect(objects.count == 1 && objects.allSatisfy { $0.hasSuffix(".db.gz.age") }, "\(listed.output)")
    }

    /// Whether `path` holds books in clear: SQLite's header, or gzip.
    private func holdsBooksInClear(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 16)) ?? Data()
        return head.starts(with: Data("SQLite format 3".utf8)) || head.starts(with: [0x1F, 0x8B])
    }

    /// Every file under `path`, at any depth.
    private func everyFile(under path: String) -> [String] {
        (FileManager.default.subpaths(atPath: path) ?? []).map { path + "/" + $0 }
    }

    @Test func aCheckKilledMidwayLeavesNoPlaintextInTheLocation() throws {
        let file = try folder.sample("acme.db", transactions: 20_000)
        let (key, office) = try newKey("office.txt")
        let backups = folder.file("backups")
        try configure("\(backups) \(office)\n")
        #expect(try run("backup", file, "--to", backups).status == 0)
        // What a check by an earlier version, killed, left in the folder: decrypted books, and the decompressed ones.
        let snapshot = try #require(try names(backups).first { $0.hasSuffix(".age") })
        let old = backups + "/..\(snapshot).checking-2147483646-zz.decrypting-2147483646-zy"
        try Data([0x1F, 0x8B, 8, 0]).write(to: URL(fileURLWithPath: old))
        try Data("SQLite format 3\0".utf8).write(
            to: URL(fileURLWithPath: backups + "/.\(snapshot).checking-2147483646-zz"))

        // Killed as soon as it has something in the scratch folder.
        let scratch = folder.file("tmp/ledger-\(getuid())")
        let process = Process()
        process.executableURL = Ledger.binary
        process.arguments = ["check-backups", backups, "--identity", key]
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try FileManager.default.createDirectory(atPath: folder.file("tmp"), withIntermediateDirectories: true)
        try process.run()
        var seen: [String] = []
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && seen.isEmpty && Date() < deadline {
            seen = (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(!seen.isEmpty, "the check was caught with its files in the scratch folder")
        #expect(
            seen.allSatisfy { $0.hasPrefix(".\(snapshot).") && $0.contains("-\(process.processIdentifier)-") },
            "\(seen)")
        var status = stat()
        #expect(lstat(scratch, &status) == 0 && status.st_mode & 0o777 == 0o700)
        // Nothing in clear there: not its own files, nor (removed first) the earlier version's.
        #expect(everyFile(under: backups).filter(holdsBooksInClear) == [])
        #expect(!FileManager.default.fileExists(atPath: old))

        // The next run reads it whole and leaves nothing, there or here.
        let checked = try run("check-backups", backups, "--identity", key)
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.hasPrefix("ok      \(backups)/\(snapshot) (verify: clean)\n"), "\(checked.stdout)")
        #expect(everyFile(under: backups).filter(holdsBooksInClear).isEmpty)
        #expect(try names(backups) == [".ledger.lock", snapshot])
        #expect(try names(scratch) == [])

        // A plain location too: the check decompresses here, never there.
        let plainBackups = folder.file("plain-backups")
        try configure("")
        #expect(try run("backup", file, "--to", plainBackups).status == 0)
        let plainCheck = try run("check-backups", plainBackups)
        #expect(plainCheck.status == 0, "\(plainCheck.stdout)")
        #expect(try names(plainBackups).filter { $0.hasPrefix(".") } == [".ledger.lock"])
        #expect(try names(scratch) == [])
    }

    /// A snapshot of `file` whose manifest's `created_at` is changed (its
    /// content and SHA-256 left as they are), as anyone with the location can make.
    private func crafted(from file: String, createdAt: String, into location: String) throws -> String {
        let made = try run("backup", file, "--to", folder.file("honest"), "--json")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any], "\(made.stderr)")
        let path = try #require(json["path"] as? String)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes[3] == 0x10, "the header has a comment and nothing else")
        let end = try #require(bytes[10...].firstIndex(of: 0))
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(bytes[10..<end])) as? [String: Any])
        manifest["created_at"] = createdAt
        let text = String(
            decoding: try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]), as: UTF8.self)
        // ASCII, as RFC 1952 wants a comment: anything past it as \u escapes.
        let comment = text.unicodeScalars.map { $0.isASCII ? String($0) : String(format: "\\u%04x", $0.value) }.joined()
        #expect(!comment.utf8.contains(0x1B), "JSON carries ESC as \\u001b")
        bytes.replaceSubrange(10..<end, with: Array(comment.utf8))
        try FileManager.default.createDirectory(atPath: location, withIntermediateDirectories: true)
        let target = location + "/" + URL(fileURLWithPath: path).lastPathComponent
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    @Test func escapeSequencesFromAManifestArePrintedEscaped() throws {
        let file = try folder.sample("acme.db")
        try editWithPython(
            file,
            "UPDATE company SET name = 'Acme' || char(27) || ']0;pwned' || char(7) || char(27) || '[2J' "
                + "|| char(155) || '1m' || char(10) || 'ledger: all good'")
        let createdAt = "2026-11-21T02:00:00Z\u{1B}[8m"
        let snapshot = try crafted(from: file, createdAt: createdAt, into: folder.file("crafted"))
        let shownCompany = "Acme\\u{1B}]0;pwned\\u{07}\\u{1B}[2J\\u{9B}1m\\u{0A}ledger: all good"
        let shownTime = "2026-11-21T02:00:00Z\\u{1B}[8m"

        let listed = try run("snapshots", folder.file("crafted"))
        #expect(listed.status == 0, "\(listed.stderr)")
        let lines = listed.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "one line, and no line of the manifest's own")
        #expect(lines[0].hasPrefix("\(shownTime)  manual      \(shownCompany)  "), "\(listed.stdout)")
        #expect(lines[0].hasSuffix("  verify: clean  \(snapshot)"), "\(listed.stdout)")
        #expect(
            !listed.stdout.unicodeScalars.contains {
                ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value)
            })

        // Restored over another company's file: refused, the name shown escaped in one line.
        let other = try folder.sample("other.db")
        try editWithPython(other, "UPDATE company SET name = 'Other Books'")
        let refused = try run("restore", snapshot, "--to", other)
        #expect(refused.status == 2)
        #expect(refused.stderr.hasSuffix("\n") && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("the snapshot is of \(shownCompany)"), "\(refused.stderr)")
        #expect(
            !refused.stderr.unicodeScalars.contains {
                ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value)
            })
        // Restored to a new file: its time shown escaped.
        let restored = try run("restore", snapshot, "--to", folder.file("restored.db"))
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(
            restored.stdout.hasPrefix(
                "Restored \(folder.file("restored.db")) from \(snapshot) (taken \(shownTime)), verify: "),
            "\(restored.stdout)")
        // Its first line, and the line that says this computer's key did not make it.
        #expect(!restored.stdout.contains("\u{1B}") && restored.stdout.split(separator: "\n").count == 2)
    }

    @Test func aScheduleNamesTheRunningProgramAndKeepsTheJobsStatus() throws {
        let file = try folder.sample("acme.db")
        let (_, office) = try newKey("office.txt")
        let program = Ledger.binary.resolvingSymlinksInPath().path
        // Run by its bare name from PATH, in another folder, as a person types it.
        var environment = [
            "PATH": Ledger.binary.deletingLastPathComponent().path + ":/usr/bin:/bin", "HOME": folder.path,
            "XDG_CONFIG_HOME": folder.file("config"),
        ]
        let backups = folder.file("backups")
        let scheduled = try ExternalTool.require("sh", install: "apt-get install dash").run(
            [
                "-c",
                "cd '\(folder.path)' && ledger schedule acme.db --to backups --at 01:30 --keep-daily 7 --encrypt-to \(office) --unit-dir units",
            ],
            environment: environment)
        #expect(scheduled.status == 0, "\(scheduled.output)")
        // Named after the file and a mark of its full path (two books.db never collide).
        let unit = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder.file("units"))
                .first { $0.hasPrefix("ledger-backup-acme-") && $0.hasSuffix(".service") })
        let name = String(unit.dropLast(".service".count))
        let service = try String(contentsOfFile: folder.file("units/\(unit)"), encoding: .utf8)
        #expect(
            service == """
                [Unit]
                Description=Nightly ledger backup of \(file)

                [Service]
                Type=oneshot
                Environment="XDG_CONFIG_HOME=\(folder.file("config"))"
                ExecStart="\(program)" "backup" "\(file)" "--to" "\(backups)" "--kind" "scheduled" "--keep-daily" "7" "--encrypt-to" "\(office)"
                Nice=10
                IOSchedulingClass=idle

                """)

        environment["XDG_CONFIG_HOME"] = nil
        let cron = try ExternalTool.require("sh", install: "apt-get install dash").run(
            ["-c", "cd '\(folder.path)' && ledger schedule acme.db --to backups --cron --encrypt-to \(office)"],
            environment: environment)
        #expect(cron.status == 0)
        let line = cron.output.trimmingCharacters(in: .newlines)
        let command =
            "'\(program)' 'backup' '\(file)' '--to' '\(backups)' '--kind' 'scheduled' '--encrypt-to' '\(office)'"
        #expect(
            line
                == "0 2 * * * status=$( { { \(command); echo $? >&3; } | logger -t \(name); } 3>&1 ); exit \"${status:-1}\""
        )

        // As cron runs it (/bin/sh, a PATH without ledger): the job's output goes to
        // logger, its error to cron, and its status is the line's.
        let bin = folder.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try writeScript("#!/bin/sh\ncat >> '\(folder.file("logged"))'\n", to: bin + "/logger")
        let job = String(line.split(separator: " ", maxSplits: 5)[5])
        func cronRuns(_ job: String) throws -> CommandResult {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", job]
            process.environment = ["PATH": bin + ":/usr/bin:/bin", "HOME": folder.path, "TMPDIR": folder.file("tmp")]
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return CommandResult(
                status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                stderr: String(decoding: stderr, as: UTF8.self))
        }
        let good = try cronRuns(job)
        #expect(good.status == 0 && good.stdout.isEmpty && good.stderr.isEmpty, "\(good)")
        let logged = try String(contentsOfFile: folder.file("logged"), encoding: .utf8)
        #expect(
            logged.hasPrefix("Snapshot \(backups)/acme-") && logged.contains(".db.gz.age (encrypted)\n"), "\(logged)")
        try FileManager.default.removeItem(atPath: file)
        let failed = try cronRuns(job)
        #expect(failed.status == 2 && failed.stdout.isEmpty, "\(failed)")
        #expect(
            failed.stderr.hasPrefix("ledger: ") && failed.stderr.split(separator: "\n").count == 1, "\(failed.stderr)")
    }
}
