import Foundation
import GRDB
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// A forced shutdown leaves committed transactions in the -wal only; they are
/// part of the file (docs/rebuild.md, §4), damaged main file or not. A file another
/// program holds locked is waited for, then refused: busy is not unreadable.
@Suite struct ForcedShutdownTests {
    let folder = TemporaryDirectory()

    /// The ids of `transactions` found in the company file at `path`.
    private func present(_ ids: [Int64], in path: String) throws -> [Int64] {
        try CompanyFile.read(path) { db in
            try Int64.fetchAll(
                db,
                sql:
                    "SELECT id FROM transactions WHERE id IN (\(ids.map(String.init).joined(separator: ","))) ORDER BY id"
            )
        }
    }

    /// The company file a snapshot holds, decompressed beside the test's files.
    private func unpacked(_ snapshot: Snapshot) throws -> String {
        let path = folder.file("unpacked-\(UUID().uuidString).db")
        try Restorer.decompress(snapshot, to: path)
        return path
    }

    /// A leaf page of `table`, found before the log is written.
    private func leafPage(_ path: String, of table: String) throws -> Int {
        try DatabaseQueue(path: path).read { db in
            try Int.fetchOne(
                db, sql: "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno LIMIT 1",
                arguments: [table]) ?? 0
        }
    }

    @Test(arguments: [false, true])
    func committedTransactionsInTheLogSurviveRebuildAndBackup(mainFileDamaged: Bool) throws {
        let path = try Damage.sample(in: folder, transactions: 400)
        let page = try leafPage(path, of: "document_lines")
        let ids = try ForcedShutdown.commitInLogOnly(path, transactions: 20)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        if mainFileDamaged { try Damage.scribble(on: path, page: page, byte: 0xFF) }

        let backup = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, wait: 1), into: SnapshotStore.open(folder.file("offsite")))
        #expect(try present(ids, in: try unpacked(backup)) == ids, "the backup lacks committed transactions")

        let report = try Rebuilder.rebuild(
            path: path, options: RebuildOptions(backupFolder: folder.file("backups"), wait: 1))
        #expect((report.salvage != nil) == mainFileDamaged)
        #expect(try present(ids, in: path) == ids, "the rebuilt file lacks committed transactions")
        let snapshot = try #require(try SnapshotCatalog.list(folder.file("backups")).snapshots.first)
        #expect(
            try present(ids, in: try unpacked(snapshot)) == ids, "the pre-rebuild snapshot lacks committed transactions"
        )
        // Their money came along to the cent.
        let moved = try CompanyFile.read(path) { db in
            try Int64.fetchOne(
                db,
                sql:
                    "SELECT SUM(amount) FROM splits WHERE amount > 0 AND transaction_id IN (\(ids.map(String.init).joined(separator: ",")))"
            )
        }
        #expect(moved == (0..<20).reduce(Int64(0)) { $0 + 12_345 + Int64($1) })
        if mainFileDamaged { #expect(report.exitStatus == 1, "a salvage of a damaged page is loud") }
    }

    @Test func aLockedFileIsWaitedForThenRefusedAndNothingIsWritten() throws {
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 100)
        _ = try ForcedShutdown.commitInLogOnly(path, transactions: 20)
        let spare = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, wait: 1), into: SnapshotStore.open(folder.file("spare")))
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let holder = try FileHolder(path, .exclusive)
        defer { holder.release() }

        let started = Date()
        #expect(throws: CompanyFileError.locked(path: path)) {
            try SnapshotWriter.take(
                SnapshotRequest(of: path, kind: .manual, wait: 1), into: SnapshotStore.open(folder.file("backups")))
        }
        #expect(Date().timeIntervalSince(started) >= 1, "backup did not wait")
        #expect(try SnapshotCatalog.list(folder.file("backups")).snapshots.isEmpty)
        #expect(throws: RebuildError.inUse(path: path)) {
            try Rebuilder.rebuild(path: path, options: RebuildOptions(backupFolder: folder.file("backups"), wait: 1))
        }
        #expect(throws: RestoreError.targetInUse(path: path)) {
            try Restorer.restore(spare, to: path, backupFolder: folder.file("backups"), wait: 1)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try SnapshotCatalog.list(folder.file("backups")).snapshots.isEmpty)
    }

    /// A company file that may not be written (here an immutable flag, which
    /// stops root too) is said to be so at once, not waited on for --wait and
    /// then called open in another program.
    @Test func aFileThatMayNotBeWrittenIsSaidToBeSo() throws {
        let folder = TemporaryDirectory()
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 60)
        func chattr(_ flag: String) -> Bool {
            let tool = Process()
            tool.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
            tool.arguments = [flag, path]
            guard (try? tool.run()) != nil else { return false }
            tool.waitUntilExit()
            return tool.terminationStatus == 0
        }
        // A file system without the flag cannot set this up.
        guard chattr("+i") else { return }
        defer { _ = chattr("-i") }
        let started = Date()
        #expect(throws: RebuildError.readOnly(path: path, reason: "Operation not permitted")) {
            try Rebuilder.rebuild(path: path, options: RebuildOptions(backupFolder: folder.file("backups"), wait: 5))
        }
        #expect(Date().timeIntervalSince(started) < 4, "it did not wait")
    }
}
