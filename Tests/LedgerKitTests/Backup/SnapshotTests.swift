import Crypto
import Foundation
import GRDB
import Testing

@testable import LedgerKit

@Suite struct SnapshotTests {
    let folder = TemporaryDirectory()

    private func shell(_ command: String) throws -> (Int32, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }

    /// The manifest's `split_sum` is the sum of the integer amounts within the
    /// limit, whether the native pass sums them or (with another program's
    /// column types, which send every row to SQL) SQLite does.
    @Test(arguments: [false, true])
    func theSplitSumCountsExactlyTheIntegerAmounts(foreignTypes: Bool) throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        // The sample balances: every split's amount sums to 0.
        let dropped = try Damage.apply(to: path) { db -> Int64 in
            #expect(try Damage.one(db, "SELECT SUM(amount) FROM splits") == 0)
            let dropped = try Damage.one(db, "SELECT SUM(amount) FROM splits WHERE id IN (8, 9, 10)")
            try db.execute(sql: "UPDATE splits SET amount = amount + 12345 WHERE id = 7")
            try db.execute(sql: "UPDATE splits SET amount = 'twelve' WHERE id = 8")
            try db.execute(sql: "UPDATE splits SET amount = ? WHERE id = 9", arguments: [Money.limit + 1])
            try db.execute(sql: "UPDATE splits SET amount = 250.5 WHERE id = 10")
            if foreignTypes {
                try db.execute(
                    sql: """
                        PRAGMA writable_schema = ON;
                        UPDATE sqlite_master SET sql = replace(sql, 'amount            INTEGER NOT NULL', 'amount            NUMERIC NOT NULL')
                        WHERE name = 'splits';
                        PRAGMA writable_schema = OFF;
                        """)
            }
            return dropped
        }
        #expect(try DatabaseQueue(path: path).read(NativePass.typesAreStandard) == !foreignTypes)
        let snapshot = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(folder.file("backups")))
        #expect(snapshot.manifest?.verify == "findings")
        #expect(snapshot.manifest?.splitSum == 12345 - dropped)
    }

    @Test func roundTripsThroughPlainGzip() throws {
        let path = try Damage.sample(in: folder, name: "Café Books.db", transactions: 3_000)
        let moment = Timestamp.parse("2026-11-21T02:00:00Z")!
        let snapshot = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .scheduled, now: moment), into: SnapshotStore.open(folder.file("backups")))
        #expect(snapshot.path == folder.file("backups/Café Books-20261121T020000Z.db.gz"))
        let attributes = try FileManager.default.attributesOfItem(atPath: snapshot.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try shell("gzip -t '\(snapshot.path)'").0 == 0)
        let restored = folder.file("restored.db")
        #expect(try shell("gzip -dc '\(snapshot.path)' > '\(restored)'").0 == 0)
        let (_, digest) = try shell("sha256sum '\(restored)' | cut -c1-64")
        #expect(
            String(decoding: digest, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                == snapshot.manifest?.databaseSha256)
        let size = try FileManager.default.attributesOfItem(atPath: restored)[.size] as! Int
        #expect(Int64(size) == snapshot.manifest?.databaseBytes)
        #expect(try Verifier.verify(path: restored).ok)
        let original = try CompanyFile.open(path).database.read(Invariants.contentDigest)
        #expect(try CompanyFile.open(restored).database.read(Invariants.contentDigest) == original)

        let manifest = try #require(snapshot.manifest)
        #expect(manifest.createdAt == "2026-11-21T02:00:00Z")
        #expect(manifest.kind == .scheduled)
        #expect(manifest.company == "Sample Company")
        #expect(manifest.source == "Café Books.db")
        #expect(manifest.formatVersion == 1)
        #expect(manifest.verify == "clean")
        #expect(manifest.counts?["transactions"] == 3_000)
        #expect(manifest.splitSum == 0)
        #expect(try SnapshotCatalog.read(snapshot.path) == snapshot)
    }

    @Test func theManifestIsASCIIInTheHeader() throws {
        let path = try Damage.sample(in: folder, name: "müller.db", transactions: 20)
        let snapshot = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(folder.path))
        let head = [UInt8](try Data(contentsOf: URL(fileURLWithPath: snapshot.path)).prefix(2_000))
        #expect(head[3] == 0x10, "FCOMMENT is set")
        let end = head[10...].firstIndex(of: 0)!
        #expect(head[10..<end].allSatisfy { $0 < 0x80 })
        #expect(String(decoding: head[10..<end], as: UTF8.self).contains("\"source\":\"m\\u00fcller.db\""))
    }

    @Test func twoSnapshotsInOneSecondGetNumbers() throws {
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 50)
        let moment = Timestamp.parse("2026-11-21T02:00:00Z")!
        let backups = folder.file("b")
        let names = try (0..<3).map { _ in
            URL(
                fileURLWithPath: try SnapshotWriter.take(
                    SnapshotRequest(of: path, kind: .manual, now: moment), into: SnapshotStore.open(backups)
                ).path
            ).lastPathComponent
        }
        #expect(
            names == ["acme-20261121T020000Z.db.gz", "acme-20261121T020000Z-2.db.gz", "acme-20261121T020000Z-3.db.gz"])
        let listed = try SnapshotCatalog.list(backups)
        #expect(listed.snapshots.map { URL(fileURLWithPath: $0.path).lastPathComponent } == names)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: backups).sorted() == [".ledger.lock"] + names.sorted(),
            "no partial files left")
    }

    @Test func aSnapshotIsOneCommittedMomentWhileAnotherProcessWrites() throws {
        let path = try Damage.sample(in: folder, name: "busy.db", transactions: 1_500)
        // Another program commits balanced transfers, keeping the cached balances right, as fast as it can.
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        writer.arguments = [
            "python3", "-c",
            """
            import sqlite3, sys, itertools
            c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            c.execute('PRAGMA busy_timeout = 30000')
            print('ready', flush=True)
            for n in itertools.count(1):
                c.execute('BEGIN IMMEDIATE')
                t = c.execute("INSERT INTO transactions (kind, date, created_at, modified_at) VALUES ('transfer', '2025-12-31', '2025-12-31T12:00:00Z', '2025-12-31T12:00:00Z')").lastrowid
                c.execute('INSERT INTO splits (transaction_id, account_id, amount) VALUES (?, 1, ?), (?, 2, ?)', (t, n, t, -n))
                c.execute('UPDATE accounts SET balance = balance + ? WHERE id = 1', (n,))
                c.execute('UPDATE accounts SET balance = balance - ? WHERE id = 2', (n,))
                c.execute('COMMIT')
            """, path,
        ]
        let out = Pipe()
        writer.standardOutput = out
        try writer.run()
        defer {
            kill(writer.processIdentifier, SIGKILL)
            writer.waitUntilExit()
        }
        _ = out.fileHandleForReading.availableData
        var transactions: [Int] = []
        for index in 0..<20 {
            let snapshot = try SnapshotWriter.take(
                SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(folder.file("online")))
            #expect(snapshot.manifest?.verify == "clean", "snapshot \(index)")
            #expect(snapshot.manifest?.splitSum == 0)
            transactions.append(snapshot.manifest?.counts?["transactions"] ?? 0)
        }
        #expect(transactions.last! > 1_500, "the writer was really writing meanwhile")
    }

    @Test func withoutVerifyTheManifestSaysSkipped() throws {
        let path = try Damage.sample(in: folder, name: "fast.db", transactions: 100)
        let snapshot = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, verify: false), into: SnapshotStore.open(folder.file("s")))
        #expect(snapshot.manifest?.verify == "skipped")
        #expect(snapshot.manifest?.company == "Sample Company")
        #expect(snapshot.manifest?.counts == nil)
        #expect(try SnapshotCatalog.read(snapshot.path).manifest == snapshot.manifest)
    }

    @Test func aFileSQLiteCannotReadIsKeptAsItIs() throws {
        let path = try Damage.sample(in: folder, name: "broken.db", transactions: 200)
        try Damage.scribble(on: path, page: 1, offset: 100, count: 3_996, byte: 0)
        let snapshot = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .preRebuild), into: SnapshotStore.open(folder.file("s")))
        #expect(snapshot.manifest?.verify == "skipped")
        #expect(snapshot.manifest?.kind == .preRebuild)
        var bytes: [UInt8] = []
        try Gzip.decompress(path: snapshot.path) { bytes += $0 }
        #expect(Data(bytes) == (try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test func damagedSnapshotsAreCaught() throws {
        let path = try Damage.sample(in: folder, name: "d.db", transactions: 500)
        let snapshot = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(folder.file("s")))
        var data = try Data(contentsOf: URL(fileURLWithPath: snapshot.path))
        data[data.count / 2] ^= 0x40
        let flipped = folder.file("s/flipped.db.gz")
        try data.write(to: URL(fileURLWithPath: flipped))
        #expect(throws: BackupError.self) { try Gzip.decompress(path: flipped) { _ in } }
        let cut = folder.file("s/cut.db.gz")
        try data.prefix(data.count / 3).write(to: URL(fileURLWithPath: cut))
        #expect(throws: BackupError.damagedSnapshot("it is cut short")) { try Gzip.decompress(path: cut) { _ in } }
        let junk = folder.file("s/junk.db.gz")
        try Data("not gzip at all".utf8).write(to: URL(fileURLWithPath: junk))
        let listed = try SnapshotCatalog.list(folder.file("s"))
        #expect(listed.snapshots.count == 3, "the original, the flipped and the cut one: their headers are intact")
        #expect(listed.unreadable.map(\.path) == [junk])
    }

    @Test func bigSnapshotsAreSeveralMembersThatGzipAndRestoreReadWhole() throws {
        let path = try Damage.sample(in: folder, name: "big.db", transactions: 8_000)
        let snapshot = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, verify: false), into: SnapshotStore.open(folder.file("s")))
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: snapshot.path)))
        // Members start with 1F 8B 08 00 (no flags) after the first, whose header has the manifest.
        let starts = (1..<data.count - 4).filter {
            data[$0] == 0x1F && data[$0 + 1] == 0x8B && data[$0 + 2] == 8 && data[$0 + 3] == 0
        }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(starts.count >= (size - 1) / Gzip.pieceSize, "one member a MiB: \(starts.count) for \(size) bytes")
        let restored = folder.file("restored.db")
        #expect(try shell("gzip -dc '\(snapshot.path)' > '\(restored)'").0 == 0)
        let digest = SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: restored))).map {
            String(format: "%02x", $0)
        }.joined()
        #expect(digest == snapshot.manifest?.databaseSha256)

        // Whatever follows the last member must be a member: garbage is damage.
        let tailed = folder.file("s/tailed.db.gz")
        try Data(data + Array("garbage".utf8)).write(to: URL(fileURLWithPath: tailed))
        #expect(throws: BackupError.damagedSnapshot("what follows its last gzip member is not one")) {
            try Gzip.decompress(path: tailed) { _ in }
        }
        // Cut exactly between two members, it is valid gzip but not the snapshot: the manifest's size and SHA-256 say so.
        let boundary = try #require(starts.last)
        let cut = folder.file("s/cut-at-member.db.gz")
        try Data(data.prefix(boundary)).write(to: URL(fileURLWithPath: cut))
        var cutSnapshot = snapshot
        cutSnapshot.path = cut
        #expect(throws: RestoreError.checksumMismatch(path: cut)) {
            try Restorer.decompress(cutSnapshot, to: folder.file("x.db"))
        }
    }

    @Test func refusesWhatIsNotACompanyFile() throws {
        let text = folder.file("notes.db")
        try Data(String(repeating: "x", count: 200).utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: CompanyFileError.notSQLite(path: text)) {
            try SnapshotWriter.take(
                SnapshotRequest(of: text, kind: .manual), into: SnapshotStore.open(folder.file("s")))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file("s")))
    }
}
