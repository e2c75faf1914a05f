import Foundation
import GRDB
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// A company file reached through a symbolic link (`home/acme.db ->
/// ../nas/acme.db`): restore and rebuild replace the file the link names and
/// keep the link; verify leaves nothing beside either.
@Suite struct SymlinkTests {
    let folder = TemporaryDirectory()

    /// `home/acme.db -> ../nas/acme.db`, the file a sample company.
    private func linked() throws -> (link: String, target: String) {
        for name in ["home", "nas"] {
            try FileManager.default.createDirectory(atPath: folder.file(name), withIntermediateDirectories: true)
        }
        let target = folder.file("nas/acme.db")
        _ = try SampleCompany.generate(at: target, options: SampleOptions(transactions: 60, seed: 3))
        try FileManager.default.createSymbolicLink(
            atPath: folder.file("home/acme.db"), withDestinationPath: "../nas/acme.db")
        return (folder.file("home/acme.db"), target)
    }

    private func names(_ sub: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.file(sub)).sorted()
    }

    private func expectLinkKept(_ link: String) throws {
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "../nas/acme.db")
        #expect(try names("home") == ["acme.db"])
        #expect(try names("nas") == ["acme.db"])
    }

    private func company(_ path: String) throws -> String? {
        try CompanyFile.read(path) { try String.fetchOne($0, sql: "SELECT name FROM company") }
    }

    @Test func restoreReplacesTheFileTheLinkNames() throws {
        let (link, target) = try linked()
        let key = ManifestKey.random()
        let snapshot = try SnapshotWriter.take(
            SnapshotRequest(
                of: link, kind: .manual, signing: key,
                now: Timestamp.parse("2026-11-21T02:00:00Z")!), into: SnapshotStore.open(folder.file("b")))
        #expect(snapshot.source == "acme.db")
        try Damage.apply(to: target) { db in try db.execute(sql: "UPDATE company SET name = 'Changed since'") }
        let result = try Restorer.restore(
            snapshot, to: link, backupFolder: folder.file("b"), force: true, manifestKey: key,
            now: Timestamp.parse("2026-11-22T02:00:00Z")!)
        #expect(result.target == link && result.replaced?.manifest?.company == "Changed since")
        try expectLinkKept(link)
        #expect(try company(target) == "Sample Company")
        #expect(try FileDigest.of(target).1 == snapshot.manifest?.databaseSha256)
    }

    @Test func rebuildReplacesTheFileTheLinkNames() throws {
        let (link, target) = try linked()
        try Damage.apply(to: target) { db in
            try db.execute(sql: "UPDATE accounts SET balance = balance + 7 WHERE id = 1")
        }
        let report = try Rebuilder.rebuild(path: link, options: RebuildOptions(backupFolder: folder.file("b")))
        #expect(report.file == link && report.repairs.map(\.code) == [.accountBalanceMismatch])
        try expectLinkKept(link)
        #expect(try Verifier.verify(path: target).ok)
        #expect(
            try names("b") == [".ledger.lock", URL(fileURLWithPath: try #require(report.snapshot)).lastPathComponent])
    }

    @Test func verifyThroughALinkLeavesNothingBesideEither() throws {
        let (link, target) = try linked()
        #expect(try Verifier.verify(path: link).ok)
        try expectLinkKept(link)
        #expect(try company(target) == "Sample Company")
    }

    /// On a plain file too: the side files verify makes are removed, and a
    /// -wal that was there (committed transactions) stays, without a -shm.
    @Test func verifyOfAPlainFileLeavesOnlyTheLogThatWasThere() throws {
        let path = try Damage.sample(in: folder, name: "plain.db", transactions: 60)
        #expect(try Verifier.verify(path: path).ok)
        #expect(try names("") == ["plain.db"])
        try ForcedShutdown.commitInLogOnly(path, transactions: 2)
        let log = try Data(contentsOf: URL(fileURLWithPath: path + "-wal"))
        _ = try Verifier.verify(path: path)
        #expect(try names("") == ["plain.db", "plain.db-wal"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "-wal")) == log)
    }

    /// `sample --force` replaces the file a link names, keeping the link, and
    /// never a file another program has open.
    @Test func aSampleMadeAgainReplacesTheFileTheLinkNamesAndNoneInUse() throws {
        let (link, target) = try linked()
        _ = try SampleCompany.generate(at: link, options: SampleOptions(transactions: 30, seed: 4), replacing: true)
        try expectLinkKept(link)
        #expect(try CompanyFile.read(target) { try Int.fetchOne($0, sql: "SELECT count(*) FROM transactions") } == 30)
        let holder = try FileHolder(target, .open)
        defer { holder.release() }
        #expect(throws: CompanyFileError.locked(path: link)) {
            try SampleCompany.generate(at: link, options: SampleOptions(transactions: 40, seed: 5), replacing: true)
        }
        #expect(try CompanyFile.read(target) { try Int.fetchOne($0, sql: "SELECT count(*) FROM transactions") } == 30)
    }
}
