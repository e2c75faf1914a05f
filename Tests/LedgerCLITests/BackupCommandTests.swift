import Foundation
import LedgerTestSupport
import Testing

@Suite struct BackupCommandTests {
    let folder = TemporaryDirectory()

    private func sha256(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }

    private func snapshotNames(_ backups: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: backups).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test func aFileHeldLockedIsWaitedForThenRefusedWithExit2() throws {
        let file = try folder.sample("acme.db")
        let backups = folder.file("backups")
        let holder = try FileHolder(file, .exclusive)
        defer { holder.release() }

        let started = Date()
        let busy = try Ledger.run("backup", file, "--to", backups, "--wait", "1")
        #expect(busy.status == 2)
        #expect(Date().timeIntervalSince(started) >= 1)
        #expect(
            busy.stderr
                == "ledger: \(file) is open in another program; close it there (or wait for it to finish) and run the command again. Nothing was changed.\n"
        )
        #expect(try snapshotNames(backups).isEmpty, "nothing is written")
        #expect(try Ledger.run("backup", file, "--to", backups, "--wait", "-1").status == 64)
    }

    @Test func backupSnapshotsRestoreEndToEnd() throws {
        let file = try folder.sample("acme.db")
        let backups = folder.file("backups")
        let made = try Ledger.run("backup", file, "--to", backups, "--json")
        #expect(made.status == 0, "\(made.stderr)")
        let snapshot = try #require(try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any])
        #expect(snapshot["kind"] as? String == "manual")
        #expect(snapshot["verify"] as? String == "clean")
        #expect(snapshot["source"] as? String == "acme.db")
        let listed = try Ledger.run("snapshots", backups, "--json")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 1)
        #expect(
            Set(array[0].keys).isSuperset(of: [
                "path", "bytes", "created_at", "kind", "company", "source", "format_version",
                "database_bytes", "database_sha256", "verify",
            ]))
        let check = try Ledger.run("check-backups", backups)
        #expect(check.status == 0)
        #expect(check.stdout.hasSuffix("1 of 1 snapshots are whole.\n"))
        // A snapshot whose head cannot be read counts as checked and not whole.
        let lone = folder.file("lone")
        try FileManager.default.createDirectory(atPath: lone, withIntermediateDirectories: true)
        try Data("not gzip".utf8).write(to: URL(fileURLWithPath: lone + "/acme-20261120T020000Z.db.gz"))
        let unreadable = try Ledger.run("check-backups", lone)
        #expect(
            unreadable.status == 1 && unreadable.stdout.hasSuffix("0 of 1 snapshots are whole.\n"),
            "\(unreadable.stdout)")

        let target = folder.file("restored.db")
        let restored = try Ledger.run("restore", backups, "--to", target, "--stem", "acme", "--at", "2099-01-01")
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try sha256(target) == snapshot["database_sha256"] as? String)
        #expect(try Ledger.run("verify", target).status == 0)
        let early = try Ledger.run("restore", backups, "--to", target, "--stem", "acme", "--at", "2001-01-01T00:00:00Z")
        #expect(early.status == 2)
        #expect(early.stderr.contains("the oldest is from"))
        #expect(try Ledger.run("restore", backups, "--to", target, "--at", "soon").status == 64)
    }

    @Test func backupWithKeepFlagsPrunes() throws {
        let file = try folder.sample("acme.db", transactions: 50)
        let backups = folder.file("b")
        for _ in 0..<3 { #expect(try Ledger.run("backup", file, "--to", backups, "--keep-last", "2").status == 0) }
        #expect(try snapshotNames(backups).count == 2)
        let dry = try Ledger.run("prune", backups, "--keep-last", "1", "--dry-run")
        #expect(dry.stdout.hasSuffix("1 kept, 1 would be removed.\n"))
        #expect(try snapshotNames(backups).count == 2)
        #expect(try Ledger.run("prune", backups).status == 64)
    }

    @Test func twoBackupsAtOnceDoNotClash() throws {
        let file = try folder.sample("acme.db", transactions: 2_000)
        let backups = folder.file("b")
        let group = DispatchGroup()
        let results = Results()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) {
                results.add((try? Ledger.run("backup", file, "--to", backups).status) ?? -1)
            }
        }
        group.wait()
        #expect(results.values == [0, 0])
        let names = try snapshotNames(backups)
        #expect(names.count == 2)
        #expect(try Ledger.run("check-backups", backups).status == 0)
    }

    @Test func killedBackupsLeaveNoPartialSnapshot() throws {
        let file = try folder.sample("acme.db", transactions: 6_000)
        let before = try sha256(file)
        let backups = folder.file("b")
        var generator = SeededDelays(seed: 7)
        for _ in 0..<20 {
            try Ledger.runKilled(after: generator.next(upTo: 0.6), "backup", file, "--to", backups)
        }
        #expect(try sha256(file) == before, "the company file is never touched")
        // One run left whole, so that the location holds a snapshot however slow the machine
        // was (check-backups calls a location with none not safe).
        #expect(try Ledger.run("backup", file, "--to", backups).status == 0)
        let check = try Ledger.run("check-backups", backups, "--json")
        #expect(check.status == 0, "every listed snapshot is whole: \(check.stdout)")
        #expect(try snapshotNames(backups).allSatisfy { $0.hasSuffix(".db.gz") })
    }

    @Test func killedRestoresLeaveTheOldOrTheNewFile() throws {
        let file = try folder.sample("acme.db", transactions: 6_000)
        let backups = folder.file("b")
        #expect(try Ledger.run("backup", file, "--to", backups).status == 0)
        let snapshot = try #require(try snapshotNames(backups).first)
        let target = try folder.sample("target.db", transactions: 3_000)
        let listed = try Ledger.run("snapshots", backups, "--json")
        let manifest = try #require(
            (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first)
        let old = try sha256(target)
        let new = try #require(manifest["database_sha256"] as? String)
        var generator = SeededDelays(seed: 11)
        for trial in 0..<20 {
            try Ledger.runKilled(
                after: generator.next(upTo: 0.8), "restore", backups + "/" + snapshot, "--to", target,
                "--force", "--backup-dir", folder.file("pre"))
            let now = try sha256(target)
            #expect(now == old || now == new, "trial \(trial): the target is whole")
            if now == new {
                // Put the old file back for the next trial.
                #expect(try Ledger.run("sample", target, "--transactions", "3000", "--force").status == 0)
            }
        }
        #expect(try Ledger.run("verify", target).status == 0)
    }
}

/// Exit statuses gathered from several threads.
final class Results: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var stored: [Int32] = []
    var values: [Int32] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
    func add(_ value: Int32) {
        lock.lock()
        stored.append(value)
        lock.unlock()
    }
}

/// Deterministic delays for kill trials.
struct SeededDelays {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(upTo limit: Double) -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 53) * limit
    }
}

extension Ledger {
    /// Starts the binary and SIGKILLs it after `seconds` if it is still running.
    /// - Returns: whether it was still running, so the kill interrupted it.
    @discardableResult
    static func runKilled(after seconds: Double, _ arguments: String...) throws -> Bool {
        try runKilled(after: seconds, arguments)
    }

    @discardableResult
    static func runKilled(after seconds: Double, _ arguments: [String], environment: [String: String]? = nil) throws
        -> Bool
    {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(UInt32(seconds * 1_000_000))
        let running = process.isRunning
        if running { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return running && process.terminationReason == .uncaughtSignal
    }
}

/// `backup --incremental`: what it stored, in words and in `--json`.
@Suite struct IncrementalBackupCommandTests {
    let folder = TemporaryDirectory()

    private func backup(_ file: String, _ backups: String) throws -> [String: Any] {
        let made = try Ledger.run("backup", file, "--to", backups, "--incremental", "--json")
        #expect(made.status == 0, "\(made.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any])
        return try #require(object["incremental_backup"] as? [String: Any])
    }

    @Test func theOutputSaysWhatWasStoredAndHow() throws {
        let file = try folder.sample("acme.db", transactions: 1_500)
        let backups = folder.file("backups")
        let first = try backup(file, backups)
        #expect((first["full_because"] as? String)?.contains("no full snapshot") == true)
        let second = try backup(file, backups)
        #expect(second["full_because"] == nil)
        // The first incremental stores every page (but for pages that repeat another).
        #expect((second["new_pages"] as? Int ?? 0) > (second["pages"] as? Int ?? 0) / 2)
        #expect(second["delta_pages"] as? Int == 0)

        try editWithPython(file, "UPDATE transactions SET memo = 'edited ' || id WHERE id % 50 = 0")
        let third = try backup(file, backups)
        let newPages = third["new_pages"] as? Int ?? 0
        #expect(newPages > 5 && newPages < (third["pages"] as? Int ?? 0) / 2)
        #expect((third["delta_pages"] as? Int ?? 0) > 0)
        #expect((third["bytes_written"] as? Int ?? 0) > 0)
        #expect(third["packs_created"] as? Int == 1)

        try editWithPython(file, "UPDATE transactions SET memo = 'again ' || id WHERE id % 50 = 0")
        let text = try Ledger.run("backup", file, "--to", backups, "--incremental")
        #expect(text.status == 0)
        #expect(text.stdout.contains("stored as changes to their earlier versions"), "\(text.stdout)")
        // A few KiB are said in KiB, not as "0.0 MiB".
        let line = try #require(text.stdout.split(separator: "\n").first.map(String.init))
        #expect(line.hasPrefix("Incremental: ") && line.contains(" stored as changes to their earlier versions), "))
        #expect(line.wholeMatch(of: /.*, 1 pack created, \d+(\.\d)? (bytes|KiB) written\./) != nil, "\(line)")
    }
}
