import Foundation
import Testing

/// Issue 25's hostile snapshots and files, as a person meets them through the
/// built binary: crafted gzip files that lie in their manifest, a stream that
/// would fill the disk, a -wal of another page size, a symlinked company file.
@Suite struct HostileRestoreCommandTests {
    let folder = TemporaryDirectory()

    /// The environment with this test's own config folder (and manifest key).
    private func environment(config: String = "config") -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = folder.file(config)
        return environment
    }

    private func ledger(_ arguments: String..., config: String = "config") throws -> CommandResult {
        try Ledger.run(arguments, environment: environment(config: config))
    }

    /// Runs python3 with `script` and `arguments` as sys.argv[1:].
    private func python(_ script: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    /// Writes, with no tool of ours, a gzip file at `snapshot` holding the file
    /// `content` under a manifest that says `verify: clean` over its exact size
    /// and SHA-256, or over `claimedBytes` when given.
    private func craft(
        _ snapshot: String, holding content: String, claimedBytes: Int? = nil,
        createdAt: String = "2026-11-21T02:00:00Z"
    ) throws {
        try python(
            """
            import hashlib, json, struct, sys, zlib
            snapshot, content, claimed = sys.argv[1], open(sys.argv[2], 'rb').read(), int(sys.argv[3])
            manifest = {'created_at': sys.argv[4], 'kind': 'scheduled', 'company': 'Sample Company',
                        'source': 'acme.db', 'format_version': 1,
                        'database_bytes': claimed if claimed >= 0 else len(content),
                        'database_sha256': hashlib.sha256(content).hexdigest(), 'verify': 'clean'}
            deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
            body = deflate.compress(content) + deflate.flush()
            with open(snapshot, 'wb') as out:
                out.write(b'\\x1f\\x8b\\x08\\x10' + struct.pack('<I', 0) + b'\\x00\\x03' + json.dumps(manifest).encode() + b'\\x00')
                out.write(body + struct.pack('<II', zlib.crc32(content), len(content) & 0xffffffff))
            """, snapshot, content, String(claimedBytes ?? -1), createdAt)
    }

    private func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// A file `name` of `size` random bytes.
    private func randomFile(_ name: String, size: Int) throws -> String {
        try python(
            "import os, sys\nopen(sys.argv[1], 'wb').write(os.urandom(int(sys.argv[2])))", folder.file(name),
            String(size))
        return folder.file(name)
    }

    /// Runs `arguments` under python3 and returns what it did, as `Ledger.run` does.
    private func underPython(_ arguments: [String]) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.environment = environment()
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

    private func names(_ sub: String = "") throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.file(sub)).sorted()
    }

    @Test func aCraftedSnapshotOfRandomBytesIsRefusedWithExit2() throws {
        let target = try folder.sample("acme.db", transactions: 60)
        let before = try bytes(target)
        let noise = try randomFile("noise", size: 229 * 1024)
        let snapshot = folder.file("acme-20261121T020000Z.db.gz")
        try craft(snapshot, holding: noise)
        let refused = try ledger("restore", snapshot, "--to", target)
        #expect(refused.status == 2)
        #expect(
            refused.stderr
                == "ledger: \(snapshot) does not hold a company file, whatever its manifest says: nothing was restored. Choose another snapshot.\n"
        )
        #expect(refused.stdout == "")
        #expect(try bytes(target) == before)
        #expect(
            try names() == ["acme-20261121T020000Z.db.gz", "acme.db", "config", "noise"],
            "config holds the manifest key")
    }

    /// A 2 MB stream whose manifest says 229,376 bytes, restored by a process
    /// that may not write a byte more to any file (RLIMIT_FSIZE: past it the
    /// kernel would kill it with SIGXFSZ): refused with exit 2, nothing left.
    @Test func aStreamLongerThanItsManifestNeverWritesPastIt() throws {
        let target = try folder.sample("acme.db", transactions: 60)
        let before = try bytes(target)
        let long = try randomFile("long", size: 2_000_000)
        let snapshot = folder.file("acme-20261121T020000Z.db.gz")
        try craft(snapshot, holding: long, claimedBytes: 229_376)
        let bounded = try underPython([
            "-c",
            """
            import os, resource, sys
            resource.setrlimit(resource.RLIMIT_FSIZE, (229376, 229376))
            os.execv(sys.argv[1], sys.argv[1:])
            """, Ledger.binary.path, "restore", snapshot, "--to", target,
        ])
        #expect(bounded.status == 2, "killed by SIGXFSZ (status \(bounded.status)) means it wrote past 229,376 bytes")
        #expect(
            bounded.stderr
                == "ledger: The snapshot is damaged: it holds more than the 229376 bytes its manifest gives. Use an older snapshot; 'ledger snapshots DIR' lists them.\n"
        )
        #expect(try bytes(target) == before)
        #expect(try names() == ["acme-20261121T020000Z.db.gz", "acme.db", "config", "long"])
    }

    @Test func onlyThisMachinesSnapshotsSkipTheVerify() throws {
        let file = try folder.sample("acme.db", transactions: 60)
        let backup = try ledger("backup", file, "--to", folder.file("b"))
        #expect(backup.status == 0, "\(backup.stderr)")
        let key = folder.file("config/ledger/manifest.key")
        #expect(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int == 0o600)
        let snapshot = try #require(try names("b").first { $0.hasSuffix(".db.gz") })
        let mine = try ledger("restore", folder.file("b/" + snapshot), "--to", folder.file("mine.db"))
        #expect(mine.status == 0)
        #expect(
            mine.stdout.hasSuffix(
                "verify: clean (verified when this machine took it; its signature and SHA-256 match)\n"))
        // Another machine (another key) verifies it first.
        let theirs = try ledger(
            "restore", folder.file("b/" + snapshot), "--to", folder.file("theirs.db"), config: "elsewhere")
        #expect(theirs.status == 0)
        #expect(
            theirs.stdout.hasSuffix(
                "verify: clean\nThis snapshot was not made with this computer's ledger key (another user account or "
                    + "computer made it, or someone who can write where it was): it was checked as a company file "
                    + "and verified in full before it was put in place.\n"))
        #expect(try bytes(folder.file("mine.db")) == bytes(folder.file("theirs.db")))
    }

    /// A snapshot another computer wrote (or anyone who can write to the
    /// backup place) after this one's last is not put over the books unless
    /// the person says to trust it.
    @Test func aNewerSnapshotThisComputerDidNotTakeIsRestoredOnlyWhenTrusted() throws {
        let target = try folder.sample("acme.db", transactions: 60)
        let location = folder.file("offsite")
        #expect(try ledger("backup", target, "--to", location).status == 0)
        let ours = try names("offsite")
        try python(
            "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE transactions SET memo = 'planted' WHERE id = 1\"); c.commit()",
            target)
        #expect(try ledger("backup", target, "--to", location, config: "elsewhere").status == 0)
        let planted = try #require(try names("offsite").first { !ours.contains($0) })
        try python(
            "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE transactions SET memo = 'ours' WHERE id = 1\"); c.commit()",
            target)
        let before = try bytes(target)

        let refused = try ledger("restore", location, "--to", target)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("\(planted) was not made with this computer's ledger key"))
        #expect(refused.stderr.contains("--trust-unsigned"))
        #expect(try bytes(target) == before, "nothing was restored")

        let trusted = try ledger("restore", location, "--to", target, "--trust-unsigned")
        #expect(trusted.status == 0, "\(trusted.stderr)")
        #expect(trusted.stdout.contains(planted))
    }

    /// A newer snapshot another key signed (another computer, or anyone who can
    /// write there): restore refuses it without --trust-unsigned, so
    /// check-backups never calls it the last good copy, and its drill fails.
    @Test func checkBackupsNeverCallsGoodASnapshotRestoreRefusesForItsSignature() throws {
        let target = try folder.sample("acme.db", transactions: 60)
        let location = folder.file("offsite")
        #expect(try ledger("backup", target, "--to", location).status == 0)
        let ours = try #require(try names("offsite").first { $0.hasSuffix(".db.gz") })
        #expect(try ledger("backup", target, "--to", location, config: "elsewhere").status == 0)
        let planted = try #require(try names("offsite").first { $0.hasSuffix(".db.gz") && $0 != ours })
        #expect(try ledger("restore", location, "--to", target).status == 2)

        let checked = try ledger("check-backups", location)
        #expect(checked.status == 1, "\(checked.stdout)")
        let lines = checked.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.contains {
                $0.hasPrefix(
                    "REFUSED \(location)/\(planted): restore refuses it: it was not made with this "
                        + "computer's ledger key, though other snapshots of its company there were (the newest: "
                        + "\(location)/\(ours)); restore takes it only with --trust-unsigned")
            }, "\(checked.stdout)")
        #expect(lines.contains { $0.hasPrefix("acme: last good copy ") && $0.hasSuffix(", \(location)/\(ours)") })
        #expect(
            lines.contains(
                "acme: NOT SAFE: restore refuses its newest snapshot (this computer's ledger key did not make it, "
                    + "though it made others of the company there): \(location)/\(planted)"), "\(checked.stdout)")

        let drilled = try ledger("check-backups", location, "--drill")
        #expect(drilled.status == 1)
        #expect(
            drilled.stdout.contains("acme: DRILL FAILED: drill failed: restore refuses it: it was not made with "),
            "\(drilled.stdout)")
    }

    /// A snapshot whose books are another company's than its manifest names
    /// (planted, or its manifest changed): restore refuses it even where
    /// nothing is signed, and so check-backups and its drill never call it good.
    @Test func checkBackupsNeverCallsGoodBooksOtherThanTheManifestNames() throws {
        let evil = folder.file("evil.db")
        let made = try ledger("sample", evil, "--transactions", "50", "--name", "Evil Co", "--seed", "7")
        #expect(made.status == 0, "\(made.stderr)")
        try FileManager.default.createDirectory(atPath: folder.file("offsite"), withIntermediateDirectories: true)
        let planted = folder.file("offsite/acme-20261121T020000Z.db.gz")
        try craft(planted, holding: evil)
        #expect(try ledger("restore", folder.file("offsite"), "--to", folder.file("acme.db")).status == 2)

        let checked = try ledger("check-backups", folder.file("offsite"), "--max-age", "36500d")
        #expect(checked.status == 1, "\(checked.stdout)")
        #expect(
            checked.stdout.contains(
                "REFUSED \(planted): restore refuses it: its manifest says it holds the books of Sample Company, "
                    + "but it holds those of Evil Co (created "), "\(checked.stdout)")
        #expect(!checked.stdout.contains("last good copy"), "\(checked.stdout)")
        #expect(
            checked.stdout.contains(
                "acme: NOT SAFE: restore refuses its newest snapshot (its books are not those its manifest names): "
                    + planted))

        let drilled = try ledger("check-backups", folder.file("offsite"), "--max-age", "36500d", "--drill")
        #expect(drilled.status == 1)
        #expect(
            drilled.stdout.contains(
                "acme: DRILL FAILED: drill failed: restore refuses it: its manifest says it holds the books of "
                    + "Sample Company, but it holds those of Evil Co"), "\(drilled.stdout)")
        #expect(!drilled.stdout.contains("last proven restorable"))
    }

    /// A snapshot planted newest under this company's manifest, holding
    /// another company's books: prune on a machine without the key that signed
    /// the real ones reads it whole, finds what restore refuses, and keeps the
    /// newest real snapshot as the last good copy.
    @Test func pruneNeverKeepsAsTheLastGoodCopyBooksOtherThanTheManifestNames() throws {
        let file = try folder.sample("acme.db", transactions: 60)
        for _ in 0..<2 { #expect(try ledger("backup", file, "--to", folder.file("offsite")).status == 0) }
        let real = try names("offsite").filter { $0.hasSuffix(".db.gz") }.sorted()
        #expect(real.count == 2)
        let evil = folder.file("evil.db")
        #expect(try ledger("sample", evil, "--transactions", "50", "--name", "Evil Co", "--seed", "7").status == 0)
        // Two minutes ahead (its name, its manifest and the time the folder gives it): newest, yet not so
        // far ahead that it ranks oldest.
        let later = Date().addingTimeInterval(120)
        let soon = ISO8601DateFormatter().string(from: later)
        let stamp = soon.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let planted = folder.file("offsite/acme-\(stamp).db.gz")
        try craft(planted, holding: evil, createdAt: soon)
        try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: planted)

        let pruned = try ledger("prune", folder.file("offsite"), "--keep-last", "1", config: "another-machine")
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.contains("keep   \(planted) (newest, last 1, not whole)"), "\(pruned.stdout)")
        // Newest by its time, then, in one second, by "-2" after it.
        let newest = try #require(
            real.max {
                $0.replacingOccurrences(of: "Z.db", with: "Z-1.db")
                    < $1.replacingOccurrences(of: "Z.db", with: "Z-1.db")
            })
        #expect(
            pruned.stdout.contains(
                "Kept \(folder.file("offsite/" + newest)): the newest clean snapshot of acme.db"))
        let left = try names("offsite").filter { $0.hasSuffix(".db.gz") }
        #expect(Set(left) == [newest, URL(fileURLWithPath: planted).lastPathComponent], "\(pruned.stdout)")
    }

    @Test func aRestoreWhoseVerifyFindsSomethingExits1() throws {
        let file = try folder.sample("acme.db", transactions: 60)
        try editWithPython(file, "UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        let backup = try ledger("backup", file, "--to", folder.file("b"), config: "elsewhere")
        #expect(backup.status == 1)
        let snapshot = try #require(try names("b").first { $0.hasSuffix(".db.gz") })
        let restored = folder.file("restored.db")
        let result = try ledger("restore", folder.file("b/" + snapshot), "--to", restored)
        #expect(result.status == 1)
        #expect(result.stdout.contains("verify: findings\n"))
        #expect(
            result.stderr
                == "ledger: the restored file has 1 finding: run 'ledger verify \(restored)' to see them, 'ledger rebuild \(restored)' to repair them.\n"
        )
        #expect(try bytes(restored).count > 0)
    }

    @Test func restoreThroughALinkKeepsTheLink() throws {
        for name in ["home", "nas"] {
            try FileManager.default.createDirectory(atPath: folder.file(name), withIntermediateDirectories: true)
        }
        let target = try folder.sample("nas/acme.db", transactions: 60)
        let link = folder.file("home/acme.db")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "../nas/acme.db")
        #expect(try ledger("backup", link, "--to", folder.file("b")).status == 0)
        try editWithPython(target, "UPDATE company SET name = 'Changed since'")
        let snapshot = try #require(try names("b").first { $0.hasSuffix(".db.gz") })
        let restored = try ledger(
            "restore", folder.file("b/" + snapshot), "--to", link, "--backup-dir", folder.file("safety"), "--force")
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "../nas/acme.db")
        #expect(try names("home") == ["acme.db"])
        #expect(try names("nas") == ["acme.db"])
        let verified = try ledger("verify", link)
        #expect(verified.status == 0)
        #expect(try names("home") == ["acme.db"] && names("nas") == ["acme.db"], "verify leaves nothing beside either")
    }

    /// A 224 KiB company file with a committed -wal of 1024-byte pages from
    /// another database: backup keeps the file's bytes (not a 2 KiB
    /// "snapshot"), and rebuild keeps every row, naming no file of its own.
    @Test func aLogOfAnotherPageSizeNeitherShrinksTheBackupNorEmptiesTheRebuild() throws {
        let file = try folder.sample("acme.db", transactions: 300)
        try python(
            """
            import shutil, sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA page_size = 1024'); c.execute('PRAGMA journal_mode = WAL')
            c.execute('PRAGMA wal_autocheckpoint = 0'); c.execute('CREATE TABLE t (x)'); c.execute('INSERT INTO t VALUES (1)'); c.commit()
            shutil.copy(sys.argv[1] + '-wal', sys.argv[2]); c.close()
            """, folder.file("other.db"), file + "-wal")
        let before = try bytes(file)
        let backup = try ledger("backup", file, "--to", folder.file("b"))
        #expect(backup.status == 1)
        #expect(backup.stdout.hasSuffix("verify: skipped\n"))
        let snapshot = try #require(try names("b").first { $0.hasSuffix(".db.gz") })
        let unpacked = folder.file("unpacked.db")
        try python(
            "import gzip, shutil, sys\nshutil.copyfileobj(gzip.open(sys.argv[1]), open(sys.argv[2], 'wb'))",
            folder.file("b/" + snapshot), unpacked)
        #expect(try bytes(unpacked) == before, "the file's 228 KiB as they are")
        let rebuilt = try ledger("rebuild", file, "--backup-dir", folder.file("safety"))
        // Every row came back, but a log was set aside for a person to look at.
        #expect(rebuilt.status == 1, "\(rebuilt.stderr)")
        #expect(rebuilt.stdout.contains("every row came back"))
        #expect(
            rebuilt.stdout.contains("The -wal beside the file may hold committed work that is not in the rebuilt file"))
        #expect(
            rebuilt.stdout.contains(
                "; work its -wal committed may be missing (the log is kept as \(file)-wal.not-applied-"))
        let same = try ledger("verify", file)
        #expect(same.status == 0)
        try python(
            """
            import sqlite3, sys
            a, b = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
            for t in ['accounts', 'transactions', 'splits', 'bank_feed']:
                assert a.execute('SELECT * FROM ' + t + ' ORDER BY id').fetchall() == b.execute('SELECT * FROM ' + t + ' ORDER BY id').fetchall(), t
            """, file, unpacked)
    }
}
