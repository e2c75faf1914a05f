import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// Snapshots written by whoever can write the backup location: a manifest
/// that lies, content that is not books, a stream longer than it says. Restore
/// installs only a company file, believes `verify: clean` only from a manifest
/// this machine signed, and never writes past the manifest's size.
@Suite struct HostileSnapshotTests {
    let folder = TemporaryDirectory()

    /// The company file a restore would replace, and its bytes.
    private func target() throws -> (path: String, bytes: Data) {
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 60)
        return (path, try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A snapshot named `name` holding the file `content`, with a manifest
    /// that says `clean` over its exact size and SHA-256, as `edit` leaves it.
    private func craft(
        _ content: String, named name: String = "acme-20261121T020000Z.db.gz",
        _ edit: (inout Manifest) -> Void = { _ in }
    ) throws -> Snapshot {
        let (bytes, sha) = try FileDigest.of(content)
        var manifest = Manifest(
            createdAt: "2026-11-21T02:00:00Z", kind: .scheduled, company: "Sample Company", source: "acme.db",
            formatVersion: 1, databaseBytes: bytes, databaseSha256: sha, verify: "clean", counts: nil, splitSum: nil)
        edit(&manifest)
        let path = folder.file(name)
        let descriptor = try SystemCalls.open(path, O_WRONLY | O_CREAT | O_EXCL)
        defer { SystemCalls.close(descriptor) }
        _ = try Gzip.compress(
            file: content, into: { try Gzip.write($0, to: descriptor, path: path) },
            comment: try manifest.commentText(), modified: Date(), level: 6, threads: 1,
            observe: { _ in })
        return try SnapshotCatalog.read(path)
    }

    /// A single-file copy of the company file at `path` (its -wal folded in), edited by `edit`.
    private func companyCopy(of path: String, named name: String, _ edit: (Database) throws -> Void = { _ in }) throws
        -> String
    {
        let copy = folder.file(name)
        try PrivateCopy.consistent(of: path, to: copy, wait: 1)
        try Damage.apply(to: copy, edit)
        return copy
    }

    private func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    private func restoring(_ snapshot: Snapshot, to path: String, key: ManifestKey? = nil) throws -> RestoreResult {
        try Restorer.restore(snapshot, to: path, backupFolder: folder.file("backups"), force: true, manifestKey: key)
    }

    @Test func randomBytesUnderACleanManifestAreRefused() throws {
        let (path, before) = try target()
        let noise = try folder.randomFile("noise", size: 229 * 1024)
        let snapshot = try craft(noise)
        #expect(snapshot.manifest?.verify == "clean" && snapshot.manifest?.databaseBytes == 234_496)
        #expect(throws: RestoreError.notCompanyFile(path: snapshot.path)) {
            try restoring(snapshot, to: path, key: .random())
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(
            try names() == ["acme-20261121T020000Z.db.gz", "acme.db", "noise"], "no backups folder, no temporary file")
    }

    @Test func anSQLiteFileOfAnotherProgramIsRefused() throws {
        let (path, before) = try target()
        let other = folder.file("other.db")
        let queue = try DatabaseQueue(path: other)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hello')")
        }
        try queue.close()
        let snapshot = try craft(other)
        #expect(throws: RestoreError.notCompanyFile(path: snapshot.path)) { try restoring(snapshot, to: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try names() == ["acme-20261121T020000Z.db.gz", "acme.db", "other.db"])
    }

    @Test func aCompanyFileOfANewerFormatIsRefused() throws {
        let (path, before) = try target()
        let newer = try companyCopy(of: path, named: "newer.db") { db in try db.execute(sql: "PRAGMA user_version = 2")
        }
        let snapshot = try craft(newer) { $0.formatVersion = 1 }
        #expect(throws: RestoreError.newerFormat(path: snapshot.path, version: 2)) { try restoring(snapshot, to: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try names() == ["acme-20261121T020000Z.db.gz", "acme.db", "newer.db"])
    }

    @Test func aCompanyFileThatFailsQuickCheckIsRefused() throws {
        let (path, before) = try target()
        let damaged = try companyCopy(of: path, named: "damaged.db")
        try Damage.scribble(on: damaged, page: 3)
        let snapshot = try craft(damaged)
        #expect(throws: RestoreError.failsCheck(path: snapshot.path)) { try restoring(snapshot, to: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func onlyThisMachinesSignatureSkipsTheVerify() throws {
        let (path, _) = try target()
        let key = ManifestKey.random()
        let signed = try SnapshotWriter.take(
            SnapshotRequest(
                of: path, kind: .manual, signing: key,
                now: Timestamp.parse("2026-11-21T02:00:00Z")!), into: SnapshotStore.open(folder.file("b")))
        #expect(signed.manifest.map(key.signed) == true)
        let trusted = try restoring(signed, to: folder.file("one.db"), key: key)
        #expect(trusted.verify == "clean" && !trusted.verifiedNow)
        let stranger = try restoring(signed, to: folder.file("two.db"), key: .random())
        #expect(stranger.verify == "clean" && stranger.verifiedNow)
        let keyless = try restoring(signed, to: folder.file("three.db"))
        #expect(keyless.verify == "clean" && keyless.verifiedNow)
    }

    @Test func aSignedManifestEditedToSayCleanIsVerifiedAndItsFindingsReported() throws {
        let (path, _) = try target()
        let key = ManifestKey.random()
        try Damage.apply(to: path) { db in try db.execute(sql: "UPDATE splits SET amount = amount + 1 WHERE id = 1") }
        let genuine = try SnapshotWriter.take(
            SnapshotRequest(
                of: path, kind: .manual, signing: key,
                now: Timestamp.parse("2026-11-21T02:00:00Z")!), into: SnapshotStore.open(folder.file("b")))
        let manifest = try #require(genuine.manifest)
        #expect(manifest.verify == "findings" && key.signed(manifest))
        var forged = manifest
        forged.verify = "clean"
        #expect(!key.signed(forged))
        // The same books under the edited manifest, its signature kept.
        let content = try companyCopy(of: path, named: "content.db")
        let snapshot = try craft(content) { $0 = forged }
        let result = try restoring(snapshot, to: folder.file("restored.db"), key: key)
        #expect(result.verify == "findings" && result.verifiedNow && result.findings >= 1)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: folder.file("restored.db")))
                == Data(contentsOf: URL(fileURLWithPath: content)),
            "a genuine snapshot with findings is still installed")
    }

    /// A planted snapshot whose manifest names this company over another
    /// company's books: a restore into a missing file (a new computer, a file
    /// deleted) has no file to compare with, but the books must be the ones
    /// the manifest names. Nothing is installed.
    @Test func booksOfAnotherCompanyUnderThisCompanysManifestAreRefused() throws {
        let other = folder.file("other.db")
        _ = try SampleCompany.generate(
            at: other, options: SampleOptions(transactions: 40, seed: 2, name: "Other Co"))
        let content = try companyCopy(of: other, named: "content.db")
        let snapshot = try craft(content) {
            $0.company = "Sample Company"
            $0.companyCreatedAt = "2023-01-01T09:00:00Z"
        }
        let target = folder.file("new-computer/acme.db")
        try FileManager.default.createDirectory(atPath: folder.file("new-computer"), withIntermediateDirectories: true)
        #expect {
            _ = try restoring(snapshot, to: target)
        } throws: { error in
            guard case RestoreError.notAsClaimed(_, let claimed, let holds) = error else { return false }
            return claimed == "Sample Company (created 2023-01-01T09:00:00Z)" && holds.hasPrefix("Other Co (created ")
        }
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.file("new-computer")) == [])
    }

    @Test func aStreamLongerThanItsManifestIsRefusedBeforeWritingPastIt() throws {
        let (path, before) = try target()
        let long = try folder.randomFile("long", size: 2_000_000)
        let snapshot = try craft(long) { $0.databaseBytes = 229_376 }
        var handed: Int64 = 0
        #expect(throws: BackupError.damagedSnapshot("it holds more than the 229376 bytes its manifest gives")) {
            try Gzip.decompress(path: snapshot.path, limit: 229_376) { handed += Int64($0.count) }
        }
        #expect(handed <= 229_376)
        #expect(throws: BackupError.damagedSnapshot("it holds more than the 229376 bytes its manifest gives")) {
            try restoring(snapshot, to: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try names() == ["acme-20261121T020000Z.db.gz", "acme.db", "long"])
    }

    /// A place that lists a snapshot far larger than its books could make is
    /// not believed: nothing is read or downloaded, so it cannot fill the disk.
    @Test func aSnapshotListedLargerThanItsBooksCanMakeIsNotRead() throws {
        let (path, before) = try target()
        let content = try companyCopy(of: path, named: "content.db")
        let made = try craft(content)
        let bytes = try #require(made.manifest?.databaseBytes)
        // Sparse: 64 MiB listed, nothing written.
        #expect(truncate(made.path, 64 << 20) == 0)
        let snapshot = try SnapshotCatalog.read(made.path)
        #expect(snapshot.bytes == 64 << 20)
        #expect(
            throws: BackupError.damagedSnapshot(
                "its place lists 67108864 bytes, more than a snapshot of \(bytes) bytes of books can take")
        ) {
            try restoring(snapshot, to: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test(arguments: [false, true])
    func aMemberPastTheEndIsRefused(empty: Bool) throws {
        let (path, before) = try target()
        let content = try companyCopy(of: path, named: "content.db")
        let snapshot = try craft(content)
        // Another member after the last, as `cat a.gz b.gz` makes.
        let extra: [UInt8] = empty ? [] : Array("SQLite format 3\0".utf8)
        let deflated = try extra.withUnsafeBytes { try WholeDeflater(level: 6).compress($0) }
        let member =
            Gzip.header(comment: nil, modified: Date(), level: 6) + deflated
            + Gzip.littleEndian(extra.withUnsafeBytes { CRC32.of($0) }) + Gzip.littleEndian(UInt32(extra.count))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: snapshot.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(member))
        try handle.close()
        let limit = try #require(snapshot.manifest?.databaseBytes)
        #expect(throws: BackupError.damagedSnapshot("it goes on past the \(limit) bytes its manifest gives")) {
            try restoring(snapshot, to: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func aSizeThatDoesNotFitIsRefusedBeforeAnythingIsWritten() throws {
        let (path, before) = try target()
        let content = try companyCopy(of: path, named: "content.db")
        let huge = try craft(content) { $0.databaseBytes = 1 << 62 }
        #expect {
            try restoring(huge, to: path)
        } throws: { error in
            guard case .noRoom(let place, let needed, let free)? = error as? RestoreError else { return false }
            return place == folder.path && needed == 1 << 62 && free < needed
                && error.localizedDescription.hasSuffix(
                    "free and the restored file needs 4398046511104.0 MiB: nothing was restored. Free some space there, then restore again."
                )
        }
        let negative = try craft(content, named: "acme-20261122T020000Z.db.gz") { $0.databaseBytes = -1 }
        #expect(throws: BackupError.damagedSnapshot("its manifest gives a size below zero")) {
            try restoring(negative, to: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try names() == ["acme-20261121T020000Z.db.gz", "acme-20261122T020000Z.db.gz", "acme.db", "content.db"])
    }
}

/// This machine's manifest key: made once, private, and signing every field.
@Suite struct ManifestKeyTests {
    let folder = TemporaryDirectory()

    private func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    /// A manifest to sign.
    static let signable = Manifest(
        createdAt: "2026-11-21T02:00:00Z", kind: .manual, company: "Acme", source: "acme.db", formatVersion: 1,
        databaseBytes: 4096, databaseSha256: String(repeating: "a", count: 64), verify: "clean",
        counts: ["splits": 3], splitSum: 0)

    @Test func theKeyIsMadeOnceAndPrivate() throws {
        let path = folder.file("config/ledger/manifest.key")
        let made = try ManifestKey.loadOrCreate(at: path)
        #expect(try mode(path) == 0o600)
        #expect(try mode(folder.file("config/ledger")) == 0o700)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.utf8.count == 65 && text.hasSuffix("\n"))
        let manifest = Self.signable
        let again = try #require(ManifestKey.load(at: path))
        #expect(try again.signature(of: manifest) == made.signature(of: manifest))
        #expect(try ManifestKey.loadOrCreate(at: path).signature(of: manifest) == made.signature(of: manifest))
        // Readable by others: not trusted.
        chmod(path, 0o644)
        #expect(ManifestKey.load(at: path) == nil)
    }

    /// A command that only reads snapshots (prune) finds the key, and makes none.
    @Test func readingTheKeyMakesNone() throws {
        let environment = ["XDG_CONFIG_HOME": folder.file("fresh")]
        #expect(ManifestKey.existing(environment: environment) == nil)
        #expect(!FileManager.default.fileExists(atPath: folder.file("fresh")))
        let made = try #require(ManifestKey.forThisMachine(environment: environment))
        let manifest = Self.signable
        let found = try #require(ManifestKey.existing(environment: environment))
        #expect(try found.signature(of: manifest) == made.signature(of: manifest))
    }

    @Test func theSignatureCoversEveryField() throws {
        let key = ManifestKey.random()
        var manifest = Manifest(
            createdAt: "2026-11-21T02:00:00Z", kind: .manual, company: "Acme", source: "acme.db", formatVersion: 1,
            databaseBytes: 4096, databaseSha256: String(repeating: "a", count: 64), verify: "clean",
            counts: ["splits": 3], splitSum: 0)
        manifest.hmac = try key.signature(of: manifest)
        #expect(key.signed(manifest))
        let edits: [(inout Manifest) -> Void] = [
            { $0.createdAt = "2026-11-21T02:00:01Z" }, { $0.kind = .scheduled }, { $0.company = "Acme2" },
            { $0.source = "b.db" },
            { $0.formatVersion = 2 }, { $0.databaseBytes = 4097 },
            { $0.databaseSha256 = String(repeating: "b", count: 64) },
            { $0.verify = "findings" }, { $0.counts = ["splits": 4] }, { $0.splitSum = 1 },
            { $0.hmac = String(repeating: "0", count: 64) },
            { $0.hmac = nil }, { $0.hmac = "zz" },
        ]
        for edit in edits {
            var changed = manifest
            edit(&changed)
            #expect(!key.signed(changed))
        }
        #expect(
            ManifestKey.defaultPath(environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"]) == "/x/ledger/manifest.key")
        #expect(
            ManifestKey.defaultPath(environment: ["XDG_CONFIG_HOME": "relative", "HOME": "/h"])
                == "/h/.config/ledger/manifest.key")
        #expect(ManifestKey.defaultPath(environment: [:]) == nil)
    }
}
