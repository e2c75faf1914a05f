import Foundation
import GRDB
import LedgerTestSupport
import Testing

@testable import LedgerKit

@Suite struct RestoreTests {
    let folder = TemporaryDirectory()
    /// This machine's key, as the CLI's backups sign with.
    let key = ManifestKey.random()

    private func moment(_ text: String) -> Date { Timestamp.parse(text)! }

    /// Three nights of snapshots of acme.db, the books changing between them.
    private func nights() throws -> (file: String, backups: String, snapshots: [Snapshot]) {
        let file = try Damage.sample(in: folder, name: "acme.db", transactions: 300)
        let backups = folder.file("backups")
        var taken: [Snapshot] = []
        for (night, name) in ["Monday Co", "Tuesday Co", "Wednesday Co"].enumerated() {
            try Damage.apply(to: file) { db in try db.execute(sql: "UPDATE company SET name = ?", arguments: [name]) }
            taken.append(
                try SnapshotWriter.take(
                    SnapshotRequest(
                        of: file, kind: .scheduled, signing: key,
                        now: moment("2026-11-1\(6 + night)T02:00:00Z")), into: SnapshotStore.open(backups)))
        }
        return (file, backups, taken)
    }

    /// A snapshot of `file` taken at `time` into `backups` with no machine's signature:
    /// what another computer, or anyone who can write there, puts in the place.
    private func unsigned(_ file: String, into backups: String, at time: String) throws -> Snapshot {
        try SnapshotWriter.take(
            SnapshotRequest(of: file, kind: .scheduled, now: moment(time)), into: SnapshotStore.open(backups))
    }

    private func company(_ path: String) throws -> String? {
        try CompanyFile.read(path) { try String.fetchOne($0, sql: "SELECT name FROM company") }
    }

    @Test func atPicksTheNewestSnapshotAtOrBeforeTheTime() throws {
        let (file, backups, taken) = try nights()
        #expect(try Restorer.choose(backups, target: file, at: moment("2026-11-17T02:00:00Z")) == taken[1])
        #expect(try Restorer.choose(backups, target: file, at: moment("2026-11-17T01:59:59Z")) == taken[0])
        #expect(try Restorer.choose(backups, target: file, at: nil) == taken[2])
        #expect(try Restorer.choose(backups, target: file, at: moment("2030-01-01T00:00:00Z")) == taken[2])
        #expect(throws: RestoreError.beforeOldest(time: "2026-11-16T01:00:00Z", oldest: "2026-11-16T02:00:00Z")) {
            try Restorer.choose(backups, target: file, at: moment("2026-11-16T01:00:00Z"))
        }
    }

    /// Anyone who can write where the backups are can put a snapshot there
    /// dated after the last one this machine took: restore does not install it
    /// in its place unless told to trust it.
    @Test func aNewerSnapshotThisMachineDidNotSignIsNotRestoredOverOneItDid() throws {
        let (file, backups, taken) = try nights()
        let planted = try unsigned(file, into: backups, at: "2026-11-19T02:00:00Z")
        #expect(
            throws: RestoreError.notSignedHere(
                chosen: planted.path, signed: taken[2].path, signedAt: "2026-11-18T02:00:00Z")
        ) {
            try Restorer.choose(backups, target: file, at: nil, signedBy: key)
        }
        #expect(try Restorer.choose(backups, target: file, at: nil, signedBy: key, trustUnsigned: true) == planted)
        // Before it, the newest is this machine's own; without this machine's key, none is known as its own.
        #expect(
            try Restorer.choose(backups, target: file, at: moment("2026-11-18T03:00:00Z"), signedBy: key).path
                == taken[2].path)
        #expect(try Restorer.choose(backups, target: file, at: nil, signedBy: ManifestKey.random()) == planted)
        #expect(try Restorer.choose(backups, target: file, at: nil) == planted)
        // One this machine signs later is chosen again.
        let signed = try SnapshotWriter.take(
            SnapshotRequest(of: file, kind: .scheduled, signing: key, now: moment("2026-11-20T02:00:00Z")),
            into: SnapshotStore.open(backups))
        #expect(try Restorer.choose(backups, target: file, at: nil, signedBy: key).path == signed.path)
        // An older signed snapshot of another company (its own creation time) does not hold one back.
        try FileManager.default.createDirectory(atPath: folder.file("other"), withIntermediateDirectories: true)
        let other = try Damage.sample(in: folder, name: "other/acme.db", transactions: 20)
        try Damage.apply(to: other) { db in
            try db.execute(sql: "UPDATE company SET created_at = '2020-01-01T00:00:00Z'")
        }
        try FileManager.default.removeItem(atPath: backups)
        let theirs = try SnapshotWriter.take(
            SnapshotRequest(of: other, kind: .scheduled, signing: key, now: moment("2026-11-21T02:00:00Z")),
            into: SnapshotStore.open(backups))
        let unsigned = try unsigned(file, into: backups, at: "2026-11-22T02:00:00Z")
        #expect(theirs.manifest?.companyCreatedAt != unsigned.manifest?.companyCreatedAt)
        #expect(try Restorer.choose(backups, target: file, at: nil, signedBy: key) == unsigned)
    }

    /// A planted snapshot dated before this machine's first one (restore
    /// `--at` an early time), or one whose company bears another name at the
    /// same creation time (a rename, to restore's eyes): refused as not made
    /// here, never chosen, nor pointed to as the company's newest.
    @Test func anUnsignedSnapshotIsRefusedWhenOlderOrRenamedToo() throws {
        let (file, backups, taken) = try nights()
        let early = try unsigned(file, into: backups, at: "2026-11-15T02:00:00Z")
        #expect(
            throws: RestoreError.notSignedHere(
                chosen: early.path, signed: taken[2].path, signedAt: "2026-11-18T02:00:00Z")
        ) {
            try Restorer.choose(backups, target: file, at: moment("2026-11-15T12:00:00Z"), signedBy: key)
        }
        try Damage.apply(to: file) { db in try db.execute(sql: "UPDATE company SET name = 'Renamed Co'") }
        let renamed = try unsigned(file, into: backups, at: "2026-11-19T02:00:00Z")
        try Damage.apply(to: file) { db in try db.execute(sql: "UPDATE company SET name = 'Wednesday Co'") }
        #expect(
            throws: RestoreError.notSignedHere(
                chosen: renamed.path, signed: taken[2].path, signedAt: "2026-11-18T02:00:00Z")
        ) {
            try Restorer.choose(backups, target: file, at: nil, signedBy: key)
        }
        // Without this machine's key, a rename is what restore sees.
        #expect(throws: RestoreError.self) { try Restorer.choose(backups, target: file, at: nil) }
    }

    /// Whoever can write the place can remove every snapshot this machine took
    /// there and put one of their own in their place: this machine remembers
    /// the newest it signed there, and restore refuses the stranger.
    @Test func anUnsignedSnapshotIsRefusedWhereThisMachinesWereRemoved() throws {
        let (file, backups, taken) = try nights()
        for snapshot in taken { try FileManager.default.removeItem(atPath: snapshot.path) }
        let planted = try unsigned(file, into: backups, at: "2026-11-19T02:00:00Z")
        #expect(
            throws: RestoreError.signedGone(
                chosen: planted.path, newest: URL(fileURLWithPath: taken[2].path).lastPathComponent,
                takenAt: "2026-11-18T02:00:00Z")
        ) {
            try Restorer.choose(backups, target: file, at: nil, signedBy: key)
        }
        #expect(try Restorer.choose(backups, target: file, at: nil, signedBy: key, trustUnsigned: true) == planted)
        // Another company's snapshot under the name is no stranger to this one's record.
        try Damage.apply(to: file) { db in
            try db.execute(sql: "UPDATE company SET created_at = '2020-01-01T00:00:00Z'")
        }
        try FileManager.default.removeItem(atPath: planted.path)
        let other = try unsigned(file, into: backups, at: "2026-11-20T02:00:00Z")
        #expect(try Restorer.choose(backups, target: file, at: nil, signedBy: key) == other)
    }

    /// Anyone can encrypt a file to a recipient of their own and put it in
    /// the place, dated after the owner's: restore from the place names the
    /// newest snapshot the owner's keys open instead of failing on it.
    @Test func aNewerSnapshotNoKeyGivenOpensIsNotChosenBlindly() throws {
        let file = try Damage.sample(in: folder, name: "acme.db", transactions: 60)
        let owner = AgeIdentity.generate()
        let stranger = AgeIdentity.generate()
        let location = folder.file("location")
        let start = Date().addingTimeInterval(-3_600)
        let ours = try BackupRun.perform(
            of: file, into: location, kind: .manual,
            recipients: SnapshotRecipients(recipients: [owner.recipient]), policy: RetentionPolicy(), now: start
        ).snapshot
        let theirs = try BackupRun.perform(
            of: file, into: location, kind: .manual,
            recipients: SnapshotRecipients(recipients: [stranger.recipient]), policy: RetentionPolicy(),
            now: start.addingTimeInterval(60)
        ).snapshot
        let keys = SnapshotIdentities(identities: [owner])
        #expect(throws: RestoreError.notOpenable(chosen: theirs.path, opened: ours.path)) {
            try Restorer.choose(location, target: file, at: nil, with: keys)
        }
        #expect(
            try Restorer.choose(location, target: file, at: start.addingTimeInterval(30), with: keys).path == ours.path)
        // Without any key the person is asked for one, as before.
        #expect(try Restorer.choose(location, target: file, at: nil).path == theirs.path)
    }

    @Test func restoresAndKeepsTheReplacedFile() throws {
        let (file, backups, taken) = try nights()
        try Damage.apply(to: file) { db in try db.execute(sql: "DELETE FROM bank_feed") }
        let result = try Restorer.restore(
            taken[0], to: file, backupFolder: backups, force: true, manifestKey: key,
            now: moment("2026-11-20T09:00:00Z"))
        #expect(
            result.verify == "clean" && !result.verifiedNow,
            "the very bytes this machine verified when taken are not verified again")
        #expect(result.replaced?.manifest.map(key.signed) == true, "the pre-restore snapshot is signed too")
        #expect(try company(file) == "Monday Co")
        #expect(try Verifier.verify(path: file).ok)
        let replaced = try #require(result.replaced)
        #expect(replaced.manifest?.kind == .preRestore)
        #expect(replaced.manifest?.company == "Wednesday Co")
        #expect(replaced.path.hasSuffix("/acme-20261120T090000Z.db.gz"))
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["acme.db", "backups"], "no temporary file is left behind")
    }

    @Test func contentIsVerifiedAgainWhenItsSnapshotWasNotVerifiedClean() throws {
        let file = try Damage.sample(in: folder, name: "acme.db", transactions: 300)
        // A snapshot taken without verify, then one of books with an unbalanced transaction.
        let unverified = try SnapshotWriter.take(
            SnapshotRequest(
                of: file, kind: .manual, verify: false,
                now: moment("2026-11-16T02:00:00Z")), into: SnapshotStore.open(folder.file("b")))
        try Damage.apply(to: file) { db in try db.execute(sql: "UPDATE splits SET amount = amount + 1 WHERE id = 1") }
        let findings = try SnapshotWriter.take(
            SnapshotRequest(of: file, kind: .manual, now: moment("2026-11-17T02:00:00Z")),
            into: SnapshotStore.open(folder.file("b")))
        #expect(unverified.manifest?.verify == "skipped" && findings.manifest?.verify == "findings")

        let first = try Restorer.restore(unverified, to: folder.file("one.db"), backupFolder: folder.file("b"))
        #expect(first.verify == "clean" && first.verifiedNow)
        let second = try Restorer.restore(findings, to: folder.file("two.db"), backupFolder: folder.file("b"))
        #expect(second.verify == "findings" && second.verifiedNow)
        // --verify verifies a clean one too.
        let clean = try SnapshotWriter.take(
            SnapshotRequest(of: folder.file("one.db"), kind: .manual, now: moment("2026-11-18T02:00:00Z")),
            into: SnapshotStore.open(folder.file("b")))
        let third = try Restorer.restore(
            clean, to: folder.file("three.db"), backupFolder: folder.file("b"), reverify: true)
        #expect(third.verify == "clean" && third.verifiedNow)
    }

    @Test func refusesAnotherCompanyUnlessForced() throws {
        let (file, _, taken) = try nights()
        #expect(
            throws: RestoreError.otherCompany(target: file, targetCompany: "Wednesday Co", snapshotCompany: "Monday Co")
        ) {
            try Restorer.restore(taken[0], to: file, backupFolder: folder.file("b"))
        }
        #expect(try company(file) == "Wednesday Co")
    }

    /// Books whose company row is gone, or whose name is no text, may be
    /// anyone's (a planted snapshot needs no more to pass as this company's):
    /// never put in place of a company's file without --force.
    @Test(arguments: ["DELETE FROM company", "UPDATE company SET name = CAST('Evil Co' AS BLOB)"])
    func refusesBooksThatCannotNameTheirCompany(change: String) throws {
        let (file, _, _) = try nights()
        let other = try Damage.sample(in: folder, name: "other.db", transactions: 60, seed: 9)
        try Damage.apply(to: other) { db in try db.execute(sql: change) }
        let planted = try SnapshotWriter.take(
            SnapshotRequest(of: other, kind: .scheduled, now: moment("2026-11-20T02:00:00Z")),
            into: SnapshotStore.open(folder.file("planted")))
        // Its manifest names the blob's bytes as text: the books do not bear it out.
        let expected =
            planted.manifest?.company == nil
            ? RestoreError.otherCompany(
                target: file, targetCompany: "Wednesday Co", snapshotCompany: "books whose company row cannot be read")
            : RestoreError.notAsClaimed(
                path: planted.path, claimed: "Evil Co", holds: "a company whose row cannot be read")
        #expect(throws: expected) {
            try Restorer.restore(planted, to: file, backupFolder: folder.file("b"))
        }
        #expect(try company(file) == "Wednesday Co")
    }

    @Test func refusesAnotherCompanyOfTheSameName() throws {
        let (file, _, taken) = try nights()
        // Another company called Monday Co, created a day later, in the same file name.
        try Damage.apply(to: file) { db in
            try db.execute(sql: "UPDATE company SET name = 'Monday Co', created_at = '2023-01-02T09:00:00Z'")
        }
        let created = "2023-01-02T09:00:00Z"
        _ = try Restorer.restore(taken[0], to: folder.file("look.db"), backupFolder: folder.file("b"), verify: false)
        let snapshotIdentity = try #require(CompanyIdentity.read(path: folder.file("look.db")))
        #expect(snapshotIdentity.name == "Monday Co" && snapshotIdentity.createdAt != created)
        #expect(
            throws: RestoreError.otherCompany(
                target: file, targetCompany: "Monday Co (created \(created))",
                snapshotCompany: "Monday Co (created \(snapshotIdentity.createdAt))")
        ) {
            try Restorer.restore(taken[0], to: file, backupFolder: folder.file("b"))
        }
        #expect(CompanyIdentity.read(path: file)?.createdAt == created, "left as it was")
        let forced = try Restorer.restore(taken[0], to: file, backupFolder: folder.file("b"), force: true)
        #expect(forced.replaced != nil)
        #expect(CompanyIdentity.read(path: file) == snapshotIdentity)
    }

    /// Two clients' `acme.db` backed up to one folder: a restore takes the
    /// target's own company's snapshots, however new the other's; when the
    /// target cannot say which is its own (missing, or its company row
    /// destroyed), it names each company's newest and restores nothing.
    @Test func twoCompaniesInOnePlaceEachRestoresItsOwn() throws {
        let (file, backups, taken) = try nights()
        try FileManager.default.createDirectory(atPath: folder.file("beta"), withIntermediateDirectories: true)
        let beta = try Damage.sample(in: folder, name: "beta/acme.db", transactions: 300, seed: 2)
        try Damage.apply(to: beta) { db in
            try db.execute(sql: "UPDATE company SET name = 'Beta Inc', created_at = '2024-05-05T10:00:00Z'")
        }
        let theirs = try SnapshotWriter.take(
            SnapshotRequest(of: beta, kind: .scheduled, signing: key, now: moment("2026-11-19T02:00:00Z")),
            into: SnapshotStore.open(backups))

        #expect(try Restorer.choose(backups, target: file, at: nil) == taken[2])
        #expect(try Restorer.choose(backups, target: file, at: moment("2026-11-19T12:00:00Z")) == taken[2])
        #expect(try Restorer.choose(backups, target: beta, at: nil) == theirs)

        let created = try #require(CompanyIdentity.read(path: file)).createdAt
        // Each company's newest, in the order of their paths.
        // The nights renamed the company: each name's newest is named too (a rename and a copy
        // of one template look alike).
        let newest = [
            (taken[0].path, "Monday Co (created \(created)): \(taken[0].path)"),
            (taken[1].path, "Tuesday Co (created \(created)): \(taken[1].path)"),
            (taken[2].path, "Wednesday Co (created \(created)): \(taken[2].path)"),
            (theirs.path, "Beta Inc (created 2024-05-05T10:00:00Z): \(theirs.path)"),
        ].sorted { $0.0 < $1.0 }.map(\.1)
        let missing = folder.file("new-machine/acme.db")
        #expect(
            throws: RestoreError.severalCompanies(stem: "acme", folder: backups, target: missing, newest: newest)
        ) {
            try Restorer.choose(backups, target: missing, at: nil)
        }
        try Damage.write(file, at: 4096, [UInt8](repeating: 0, count: 4096))
        #expect(CompanyIdentity.read(path: file) == nil, "page 2, the company table, is gone")
        #expect(throws: RestoreError.severalCompanies(stem: "acme", folder: backups, target: file, newest: newest)) {
            try Restorer.choose(backups, target: file, at: nil)
        }
    }

    /// A snapshot taken while damage kept the file's company row from being
    /// read names no company: it is not a second company, and a restore into
    /// a missing file (the disk died) takes the newest that names one; alone,
    /// or named as the source, it is still the one taken.
    @Test func aSnapshotOfADamagedFileIsNoSecondCompany() throws {
        let file = try Damage.sample(in: folder, name: "acme.db", transactions: 200)
        let backups = folder.file("backups")
        let good = try SnapshotWriter.take(
            SnapshotRequest(of: file, kind: .scheduled, signing: key, now: moment("2026-11-16T02:00:00Z")),
            into: SnapshotStore.open(backups))
        try Damage.scribble(on: file, page: 1, offset: 100, count: 3_996, byte: 0x55)
        let damaged = try SnapshotWriter.take(
            SnapshotRequest(of: file, kind: .scheduled, signing: key, now: moment("2026-11-17T02:00:00Z")),
            into: SnapshotStore.open(backups))
        #expect(damaged.manifest?.verify == "skipped" && damaged.manifest?.company == nil)
        let missing = folder.file("new-machine/acme.db")
        #expect(try Restorer.choose(backups, target: missing, at: nil, signedBy: key).path == good.path)
        #expect(try Restorer.choose(damaged.path, target: missing, at: nil, signedBy: key).path == damaged.path)
        try FileManager.default.removeItem(atPath: good.path)
        #expect(try Restorer.choose(backups, target: missing, at: nil, signedBy: key).path == damaged.path)
    }

    /// A location whose clock runs slow lists a snapshot as written before it
    /// was taken: `--at` never brings back books from after the time asked for.
    @Test func atNeverPicksASnapshotTakenAfterTheTime() throws {
        let (file, backups, taken) = try nights()
        try FileManager.default.setAttributes(
            [.modificationDate: moment("2026-11-17T03:00:00Z")], ofItemAtPath: taken[2].path)
        let listed = try Restorer.choose(backups, target: file, at: nil)
        #expect(listed.takenAt == moment("2026-11-17T03:00:00Z"), "the listed time caps the name's")
        #expect(try Restorer.choose(backups, target: file, at: moment("2026-11-17T12:00:00Z")) == taken[1])
    }

    @Test func restoresToANewFile() throws {
        let (_, _, taken) = try nights()
        let fresh = folder.file("fresh.db")
        let result = try Restorer.restore(taken[1], to: fresh, backupFolder: folder.file("b"), verify: false)
        #expect(result.replaced == nil)
        #expect(result.verify == "skipped")
        #expect(try company(fresh) == "Tuesday Co")
    }

    /// A company file whose first page is gone reads as no SQLite database at
    /// all: refused unless forced (the message says how); forced, it is kept
    /// beside by a second name, byte for byte, and the snapshot takes its place.
    @Test func aFileWhoseStartIsDamagedIsKeptBesideWhenForced() throws {
        let (file, backups, taken) = try nights()
        try Damage.write(file, at: 0, [UInt8](repeating: 0, count: 4096))
        let damaged = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(
            throws: RestoreError.targetNotCompanyFile(path: file, why: "it does not start as an SQLite database")
        ) {
            try Restorer.restore(taken[1], to: file, backupFolder: backups)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == damaged)

        let result = try Restorer.restore(
            taken[1], to: file, backupFolder: backups, force: true, now: moment("2026-11-20T09:00:00Z"))
        #expect(result.replaced == nil)
        #expect(result.keptAs == file + ".replaced-20261120T090000Z")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file + ".replaced-20261120T090000Z")) == damaged)
        #expect(try company(file) == "Tuesday Co")
        #expect(try SnapshotCatalog.list(backups).snapshots.count == 3, "no snapshot could take the damaged file")
    }

    /// An empty file (a save cut short) holds nothing to keep: restore, as
    /// verify's message for it says to run, replaces it with no --force.
    @Test func anEmptyFileIsReplacedWithNothingToKeep() throws {
        let (file, backups, taken) = try nights()
        #expect(truncate(file, 0) == 0)
        let result = try Restorer.restore(taken[2], to: file, backupFolder: backups)
        #expect(result.replaced == nil && result.keptAs == nil)
        #expect(try company(file) == "Wednesday Co")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["acme.db", "backups"])

        // An empty file whose -wal holds committed work: both kept beside, by second names.
        #expect(truncate(file, 0) == 0)
        try Data([1, 2, 3, 4]).write(to: URL(fileURLWithPath: file + "-wal"))
        let kept = try Restorer.restore(taken[2], to: file, backupFolder: backups, now: moment("2026-11-21T09:00:00Z"))
        #expect(kept.keptAs == file + ".replaced-20261121T090000Z")
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: file + ".replaced-20261121T090000Z-wal")) == Data([1, 2, 3, 4]))
        #expect(try company(file) == "Wednesday Co")

        // The same with a log SQLite wrote: kept whole, never emptied by a checkpoint first.
        try ForcedShutdown.commitInLogOnly(file, transactions: 2)
        let log = try Data(contentsOf: URL(fileURLWithPath: file + "-wal"))
        #expect(truncate(file, 0) == 0)
        let again = try Restorer.restore(taken[2], to: file, backupFolder: backups, now: moment("2026-11-22T09:00:00Z"))
        #expect(again.keptAs == file + ".replaced-20261122T090000Z")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file + ".replaced-20261122T090000Z-wal")) == log)
    }

    /// Two copies of one template share their creation time: told apart by
    /// name. Where the newest snapshot of that time has another name than the
    /// target, and an older one the target's, the two cannot be told from a
    /// company renamed since: restoring the older one silently would lose what
    /// the newer ones hold, so the choice is the person's.
    @Test func copiesOfOneTemplateAreToldApartByName() throws {
        let (file, backups, taken) = try nights()
        try FileManager.default.createDirectory(atPath: folder.file("beta"), withIntermediateDirectories: true)
        let beta = folder.file("beta/acme.db")
        try FileManager.default.copyItem(atPath: file, toPath: beta)
        try Damage.apply(to: beta) { db in try db.execute(sql: "UPDATE company SET name = 'Beta Inc'") }
        let theirs = try SnapshotWriter.take(
            SnapshotRequest(of: beta, kind: .scheduled, signing: key, now: moment("2026-11-19T02:00:00Z")),
            into: SnapshotStore.open(backups))
        #expect(
            throws: RestoreError.renamedOrCopy(
                target: file, company: "Wednesday Co", own: taken[2].path, newest: theirs.path,
                newestCompany: "Beta Inc")
        ) {
            try Restorer.choose(backups, target: file, at: nil)
        }
        #expect(try Restorer.choose(backups, target: beta, at: nil) == theirs)
        // Before Beta Inc's was taken, Wednesday Co's is the newest of its time: chosen.
        let before = moment("2026-11-18T03:00:00Z")
        #expect(try Restorer.choose(backups, target: file, at: before) == taken[2])
        // A company renamed back to an older name: never set back to that name's older snapshot.
        try Damage.apply(to: file) { db in try db.execute(sql: "UPDATE company SET name = 'Monday Co'") }
        #expect(
            throws: RestoreError.renamedOrCopy(
                target: file, company: "Monday Co", own: taken[0].path, newest: taken[2].path,
                newestCompany: "Wednesday Co")
        ) {
            try Restorer.choose(backups, target: file, at: before)
        }
        try Damage.apply(to: file) { db in try db.execute(sql: "UPDATE company SET name = 'Wednesday Co'") }
        let created = try #require(CompanyIdentity.read(path: file)).createdAt
        let missing = folder.file("new-machine/acme.db")
        let newest = [
            (taken[0].path, "Monday Co (created \(created)): \(taken[0].path)"),
            (taken[1].path, "Tuesday Co (created \(created)): \(taken[1].path)"),
            (taken[2].path, "Wednesday Co (created \(created)): \(taken[2].path)"),
            (theirs.path, "Beta Inc (created \(created)): \(theirs.path)"),
        ].sorted { $0.0 < $1.0 }.map(\.1)
        #expect(
            throws: RestoreError.severalCompanies(stem: "acme", folder: backups, target: missing, newest: newest)
        ) {
            try Restorer.choose(backups, target: missing, at: nil)
        }
    }

    /// Another program's SQLite database is refused unless forced.
    @Test func anotherProgramsDatabaseIsRefusedUnlessForced() throws {
        let (_, backups, taken) = try nights()
        let other = folder.file("acme-other.db")
        try DatabaseQueue(path: other).write { try $0.execute(sql: "CREATE TABLE notes (body TEXT)") }
        #expect(
            throws: RestoreError.targetNotCompanyFile(path: other, why: "it is an SQLite database of another program")
        ) {
            try Restorer.restore(taken[0], to: other, backupFolder: backups)
        }
        #expect(try DatabaseQueue(path: other).read { try $0.tableExists("notes") })
    }

    @Test func aDamagedSnapshotLeavesTheTargetUntouched() throws {
        let (file, backups, taken) = try nights()
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: taken[0].path))
        bytes[bytes.count - 100] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: taken[0].path))
        #expect(throws: (any Error).self) {
            try Restorer.restore(taken[0], to: file, backupFolder: backups, force: true)
        }
        // An edited manifest: the content no longer matches its SHA-256.
        var edited = taken[1]
        edited.manifest?.databaseSha256 = String(repeating: "0", count: 64)
        #expect(throws: RestoreError.checksumMismatch(path: taken[1].path)) {
            try Restorer.restore(edited, to: file, backupFolder: backups, force: true)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["acme.db", "backups"])
        #expect(try SnapshotCatalog.list(backups).snapshots.count == 3, "no pre-restore snapshot was taken")
    }

    /// What the target's -wal committed goes into the file before it is
    /// replaced (`PrivateCopy.settle`), so a restore killed after the -wal is
    /// removed with the old file loses none of it; a refused restore leaves the
    /// file as it was, -wal and all; an empty file's -wal and one SQLite cannot
    /// read are never emptied unread.
    @Test func theTargetsLogIsFoldedInOnlyOnceTheRestoreGoesAhead() throws {
        let (file, backups, taken) = try nights()
        let ids = try ForcedShutdown.commitInLogOnly(file, transactions: 3)
        let log = try Data(contentsOf: URL(fileURLWithPath: file + "-wal"))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: taken[0].path))
        bytes[bytes.count - 100] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: taken[0].path))
        #expect(throws: (any Error).self) {
            try Restorer.restore(taken[0], to: file, backupFolder: backups, force: true)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: file + "-wal")) == log, "refused: untouched")

        #expect(try PrivateCopy.settle(file, wait: 1))
        #expect(!WriteAheadLog.isBeside(file))
        // The main file alone, without any log, holds them.
        let alone = folder.file("alone.db")
        try FileManager.default.copyItem(atPath: file, toPath: alone)
        let found = try CompanyFile.read(alone) { db in
            try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM transactions WHERE id IN (\(ids.map(String.init).joined(separator: ",")))")
        }
        #expect(found == 3)

        // An empty file beside a log: SQLite would remove the log; it is left as it is.
        let empty = folder.file("empty.db")
        try ForcedShutdown.commitInLogOnly(file, transactions: 1)
        try FileManager.default.copyItem(atPath: file + "-wal", toPath: empty + "-wal")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        let emptyLog = try Data(contentsOf: URL(fileURLWithPath: empty + "-wal"))
        #expect(try PrivateCopy.settle(empty, wait: 1))
        #expect(try Data(contentsOf: URL(fileURLWithPath: empty + "-wal")) == emptyLog)
    }

    /// A -wal SQLite cannot read (a version it does not know) is in no copy: it
    /// is kept beside the file by a second name, and the result says so.
    @Test func aLogSQLiteCannotReadIsKeptBeside() throws {
        let (file, backups, taken) = try nights()
        try ForcedShutdown.commitInLogOnly(file, transactions: 3)
        try ForcedShutdown.giveUnknownVersion(toLogOf: file)
        let log = try Data(contentsOf: URL(fileURLWithPath: file + "-wal"))
        let result = try Restorer.restore(
            taken[0], to: file, backupFolder: backups, force: true, now: moment("2026-12-07T05:00:00Z"))
        #expect(result.keptLog == file + "-wal.not-applied-20261207T050000Z")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file + "-wal.not-applied-20261207T050000Z")) == log)
        #expect(!FileManager.default.fileExists(atPath: file + "-wal"))
        #expect(try company(file) == "Monday Co")
    }

    /// A snapshot named by a link the user gives is the file it names; a link
    /// found in a location is not followed, and says so.
    @Test func aLinkTheUserNamesIsFollowedAndOneInTheLocationIsNot() throws {
        let (file, backups, taken) = try nights()
        let link = folder.file("latest.db.gz")
        #expect(symlink(taken[2].path, link) == 0)
        #expect(try Restorer.choose(link, target: file, at: nil).path == taken[2].path)
        let planted = backups + "/acme-20261120T020000Z.db.gz"
        #expect(symlink(taken[0].path, planted) == 0)
        let listing = try SnapshotCatalog.list(backups)
        #expect(listing.snapshots.count == 3)
        #expect(listing.unreadable.map(\.reason).contains { $0.contains("it is a link") })
    }

    @Test func refusesATargetOpenInAnotherProgram() throws {
        let (file, backups, taken) = try nights()
        let holder = try FileHolder(file, .open)
        defer { holder.release() }
        #expect(throws: RestoreError.targetInUse(path: file)) {
            try Restorer.restore(taken[0], to: file, backupFolder: backups, force: true, wait: 1)
        }
    }

    @Test(arguments: [
        ("2026-11-20T23:00:00Z", "2026-11-20T23:00:00Z"),
        ("2026-11-20T18:00:00-05:00", "2026-11-20T23:00:00Z"),
        ("2026-11-21T01:30:00+0230", "2026-11-20T23:00:00Z"),
        ("2026-11-20T23:00", "2026-11-20T22:00:00Z"),
        ("2026-11-20", "2026-11-20T22:59:59Z"),
        ("2026-11-20 23:00", "2026-11-20T22:00:00Z"),
        ("2026-11-20 18:00:00 -05:00", "2026-11-20T23:00:00Z"),
    ])
    func parsesTimes(text: String, utc: String) throws {
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        let parsed = try #require(PointInTime.parse(text, timeZone: berlin))
        #expect(Timestamp.string(from: parsed) == utc)
    }

    /// `today` and `yesterday` are local calendar days, counted from an injected
    /// now in New York on the day its clocks go back (a 25-hour day).
    @Test(arguments: [
        ("2026-11-02T03:00:00Z", "today", "2026-11-02T04:59:59Z"),  // 22:00 EST on Nov 1: its end is EST
        ("2026-11-02T03:00:00Z", "yesterday", "2026-11-01T03:59:59Z"),  // Oct 31 ended in EDT
        ("2026-11-02T03:00:00Z", "Yesterday", "2026-11-01T03:59:59Z"),
        ("2026-11-01T04:30:00Z", "today", "2026-11-02T04:59:59Z"),  // 00:30 EDT, the same long day
        ("2026-11-01T03:30:00Z", "today", "2026-11-01T03:59:59Z"),  // 23:30 EDT on Oct 31; 03:30 of Nov 1 in UTC
    ])
    func todayAndYesterdayAreLocalDays(now: String, text: String, utc: String) throws {
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let moment = try #require(Timestamp.parse(now))
        let parsed = try #require(PointInTime.parse(text, timeZone: newYork, now: moment))
        #expect(Timestamp.string(from: parsed) == utc)
    }

    @Test(arguments: [
        ("2026-11-20T23:00:00Z", "America/New_York", "2026-11-20 18:00:00 -05:00"),
        ("2026-07-01T16:00:00Z", "America/New_York", "2026-07-01 12:00:00 -04:00"),
        ("2026-11-21T02:00:00Z", "America/New_York", "2026-11-20 21:00:00 -05:00"),
        ("2026-11-20T23:00:00Z", "Asia/Kolkata", "2026-11-21 04:30:00 +05:30"),
        ("2026-11-20T23:00:00Z", "UTC", "2026-11-20 23:00:00 +00:00"),
    ])
    func momentsAreShownInLocalTimeWithTheirOffsetAndReadBack(utc: String, zone: String, shown: String) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        let moment = try #require(Timestamp.parse(utc))
        #expect(PointInTime.localText(moment, timeZone: timeZone) == shown)
        #expect(PointInTime.parse(shown, timeZone: timeZone) == moment)
    }

    @Test(arguments: [
        "2026-13-01", "2026-11-20T25:00:00Z", "tomorrow", "yesterday 18:00", "2026-11-20T23:00:00+99:00", "",
    ])
    func rejectsTimes(text: String) {
        #expect(PointInTime.parse(text) == nil)
    }
}
