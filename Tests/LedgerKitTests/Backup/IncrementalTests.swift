import Crypto
import Foundation
import GRDB
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// Page-level incremental snapshots (docs/incremental.md).
@Suite struct IncrementalTests {
    let folder = TemporaryDirectory()
    let start = Date(timeIntervalSince1970: 1_700_000_000)

    /// Changes a few rows chosen by `random`, so a few pages change.
    private func change(_ path: String, _ random: inout SplitMix64, rows: Int = 8) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM transactions") ?? 1
            for _ in 0..<rows {
                let id = Int(random.next() % UInt64(count)) + 1
                try db.execute(
                    sql: "UPDATE transactions SET memo = ? WHERE id = ?",
                    arguments: ["changed \(random.next())", id])
            }
        }
    }

    private func request(_ path: String, at step: Int, sealing: SnapshotRecipients) -> SnapshotRequest {
        SnapshotRequest(
            of: path, kind: .scheduled, recipients: sealing, config: RecipientsConfig.none(environment: [:]),
            now: start.addingTimeInterval(Double(step) * 900))
    }

    private func sha256(_ path: String) throws -> String {
        try FileDigest.of(path).sha256
    }

    /// What the books hold, as a digest: every transaction's memo and every split's amount.
    private func books(_ path: String) throws -> String {
        let text = try DatabaseQueue(path: path).read { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT (SELECT group_concat(id || ':' || ifnull(memo, ''), ',') FROM (SELECT * FROM transactions ORDER BY id))
                        || '|' || (SELECT group_concat(amount, ',') FROM (SELECT * FROM splits ORDER BY id))
                    """) ?? ""
        }
        return SHA256.hash(data: Data(text.utf8)).hex
    }

    /// Takes `count` snapshots of a file changed at random between them; each rebuilds to its SHA-256.
    private func roundTrips(into store: SnapshotStore, sealed: Bool, count: Int, seed: UInt64) throws {
        let path = try Damage.sample(in: folder, transactions: 1_500, seed: seed)
        let identity = AgeIdentity.generate()
        let sealing = sealed ? SnapshotRecipients(recipients: [identity.recipient]) : SnapshotRecipients()
        let keys = SnapshotIdentities(identities: sealed ? [identity] : [])
        var random = SplitMix64(seed: seed)
        var taken: [(Snapshot, String)] = []
        for step in 0..<count {
            if step > 0 { try change(path, &random) }
            let run = try IncrementalWriter.take(request(path, at: step, sealing: sealing), into: store, keys: keys)
            #expect((run.fullBecause != nil) == (step == 0))
            if step > 1 {
                #expect(run.newPages < run.pages / 4, "step \(step): \(run.newPages) of \(run.pages) pages new")
                // A changed page is a change to its earlier version.
                #expect(run.deltaPages > 0, "step \(step): no delta")
            }
            taken.append((run.snapshot, try books(path)))
        }
        let listed = try store.list(with: keys).snapshots
        #expect(listed.count == count)
        #expect(listed.filter { $0.manifest?.incremental != nil }.count == count - 1)
        for (index, (snapshot, digest)) in taken.enumerated() where index > 0 {
            let rebuilt = folder.file("rebuilt-\(index).db")
            try IncrementalReader.rebuild(snapshot, in: store, to: rebuilt, with: keys)
            #expect(try sha256(rebuilt) == snapshot.manifest?.databaseSha256)
            #expect(try books(rebuilt) == digest)
        }
    }

    @Test(arguments: [false, true])
    func manyIncrementalsInAFolderEachRestoreToTheirSHA256(sealed: Bool) throws {
        try roundTrips(
            into: SnapshotStore.open(folder.file("backups")), sealed: sealed, count: 12, seed: sealed ? 7 : 3)
    }

    @Test(arguments: [false, true])
    func manyIncrementalsInObjectStorageEachRestoreToTheirSHA256(sealed: Bool) throws {
        let bucket = S3TestServer.bucketName()
        let client = S3Client(
            configuration: try S3TestServer.configuration(),
            retries: RetryPolicy(attempts: 6, base: 0.05, cap: 0.5))
        try client.expect("PUT", bucket: bucket)
        let store = SnapshotStore(S3Store(try #require(try S3Location("s3://\(bucket)/acme")), client: client))
        try roundTrips(into: store, sealed: sealed, count: 6, seed: sealed ? 11 : 5)
    }

    @Test func restoreInstallsTheNewestIncrementalAndAtPicksAnOlderOne() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500, seed: 2)
        let backups = folder.file("backups")
        var random = SplitMix64(seed: 2)
        var digests: [String] = []
        for step in 0..<4 {
            if step > 0 { try change(path, &random) }
            _ = try IncrementalWriter.take(
                request(path, at: step, sealing: SnapshotRecipients()),
                into: SnapshotStore.open(backups), keys: SnapshotIdentities())
            digests.append(try books(path))
        }
        let target = folder.file("target/books.db")
        try FileManager.default.createDirectory(atPath: folder.file("target"), withIntermediateDirectories: true)
        let newest = try Restorer.choose(backups, target: target, at: nil)
        #expect(newest.manifest?.incremental != nil)
        _ = try Restorer.restore(newest, to: target, backupFolder: folder.file("pre"), force: true, verify: true)
        #expect(try books(target) == digests[3])
        let older = try Restorer.choose(backups, target: target, at: start.addingTimeInterval(2 * 900 + 10))
        _ = try Restorer.restore(older, to: target, backupFolder: folder.file("pre"), force: true, verify: true)
        #expect(try books(target) == digests[2])
    }

    @Test func aFullSnapshotIsTakenEveryFullEvery() throws {
        let path = try Damage.sample(in: folder, transactions: 300, seed: 4)
        let store = try SnapshotStore.open(folder.file("backups"))
        let day: TimeInterval = 86_400
        func take(after days: Double) throws -> IncrementalRun {
            var request = request(path, at: 0, sealing: SnapshotRecipients())
            request.now = start.addingTimeInterval(days * day)
            return try IncrementalWriter.take(request, into: store, keys: SnapshotIdentities(), fullEvery: 7 * day)
        }
        #expect(try take(after: 0).fullBecause != nil)
        #expect(try take(after: 1).fullBecause == nil)
        #expect(try take(after: 6.9).fullBecause == nil)
        let late = try take(after: 7.5)
        #expect(late.fullBecause?.contains("older than --full-every") == true)
        #expect(late.snapshot.manifest?.incremental == nil)
        #expect(try take(after: 8).fullBecause == nil)
    }

    /// A full snapshot dated ahead (a forged manifest, a clock once wrong)
    /// counts as taken when its location lists it written, and a time still
    /// ahead of now is not believed: it does not put off the full snapshots after it.
    @Test func aFullSnapshotDatedAheadDoesNotPutOffTheNextFullOne() throws {
        func full(createdAt: String, listedAt: String?) -> Snapshot {
            let manifest = Manifest(
                createdAt: createdAt, kind: .scheduled, company: "Acme", source: "books.db", formatVersion: 1,
                databaseBytes: 4_096, databaseSha256: String(repeating: "0", count: 64), verify: "clean",
                counts: nil, splitSum: nil)
            return Snapshot(path: "books-x.db.gz", bytes: 100, manifest: manifest, listedAt: listedAt)
        }
        let now = Timestamp.parse("2026-12-06T12:00:00Z") ?? start
        let week: TimeInterval = 7 * 86_400
        let acme = ManifestCompany(name: "Acme", createdAt: nil)
        func reason(_ earlier: [Snapshot]) -> String? {
            IncrementalWriter.fullReason(earlier, of: acme, signedBy: nil, now: now, every: week)
        }
        let ahead = full(createdAt: "2099-01-01T00:00:00Z", listedAt: "2026-11-20T00:00:00Z")
        #expect(reason([ahead])?.contains("2026-11-20T00:00:00Z") == true)
        let unlisted = full(createdAt: "2099-01-01T00:00:00Z", listedAt: nil)
        #expect(reason([unlisted]) != nil)
        let recent = full(createdAt: "2026-12-05T00:00:00Z", listedAt: "2026-12-05T00:00:01Z")
        #expect(reason([ahead, recent]) == nil)
    }

    /// Two clients' `books.db` backed up incrementally into one place: each
    /// company file gets its own full snapshot, whatever the other's; and a
    /// full snapshot this machine did not sign (planted there, dated recently)
    /// puts off none of its own.
    @Test func onlyThisCompanyFilesOwnFullSnapshotsPutOffTheNextFullOne() throws {
        let key = ManifestKey.random()
        let store = try SnapshotStore.open(folder.file("nas"))
        let day: TimeInterval = 86_400
        for client in ["alpha", "beta"] {
            try FileManager.default.createDirectory(atPath: folder.file(client), withIntermediateDirectories: true)
        }
        let alpha = try Damage.sample(in: folder, name: "alpha/books.db", transactions: 200, seed: 3)
        let beta = try Damage.sample(in: folder, name: "beta/books.db", transactions: 200, seed: 4)
        try Damage.apply(to: beta) { db in
            try db.execute(sql: "UPDATE company SET name = 'Beta', created_at = '2024-02-02T02:02:02Z'")
        }
        func take(_ path: String, after days: Double) throws -> IncrementalRun {
            var request = request(path, at: 0, sealing: SnapshotRecipients())
            request.now = start.addingTimeInterval(days * day)
            request.signing = key
            return try IncrementalWriter.take(request, into: store, keys: SnapshotIdentities(), fullEvery: 7 * day)
        }
        #expect(try take(alpha, after: 0).fullBecause != nil)
        let first = try take(beta, after: 0.1)
        #expect(first.fullBecause != nil && first.snapshot.manifest?.incremental == nil)
        #expect(try take(beta, after: 0.2).fullBecause == nil)
        #expect(try take(alpha, after: 0.3).fullBecause == nil)

        // Alpha's books, unsigned, dated a moment before the next backup: a full snapshot
        // anyone who can write there could have put there.
        _ = try SnapshotWriter.take(
            SnapshotRequest(
                of: alpha, kind: .scheduled, config: RecipientsConfig.none(environment: [:]),
                now: start.addingTimeInterval(7.9 * day)), into: store)
        let due = try take(alpha, after: 8)
        #expect(due.fullBecause?.contains("older than --full-every") == true, "\(due.fullBecause ?? "incremental")")
        #expect(due.snapshot.manifest?.incremental == nil)
    }

    /// A location's page key lost and made anew: the incrementals made with
    /// the old one still restore to their SHA-256 (their pages' hashes under
    /// another key say nothing, and are not held against them).
    @Test func incrementalsOfALostPageKeyStillRestore() throws {
        let path = try Damage.sample(in: folder, transactions: 600, seed: 12)
        let store = try SnapshotStore.open(folder.file("backups"))
        var random = SplitMix64(seed: 12)
        var taken: [Snapshot] = []
        for step in 0..<3 {
            if step > 0 { try change(path, &random) }
            let run = try IncrementalWriter.take(
                request(path, at: step, sealing: SnapshotRecipients()), into: store, keys: SnapshotIdentities())
            taken.append(run.snapshot)
        }
        let before = try #require(taken[2].manifest?.incremental?.keyCheck)
        try FileManager.default.removeItem(atPath: folder.file("backups/" + IncrementalKey.plainName))
        try change(path, &random)
        let after = try IncrementalWriter.take(
            request(path, at: 3, sealing: SnapshotRecipients()), into: store, keys: SnapshotIdentities())
        #expect(after.snapshot.manifest?.incremental?.keyCheck != before)
        // Every page written again (but for pages the file holds twice).
        #expect(after.newPages > after.pages * 9 / 10, "\(after.newPages) of \(after.pages) pages new")
        for (index, snapshot) in (taken.suffix(2) + [after.snapshot]).enumerated() {
            let rebuilt = folder.file("lost-key-\(index).db")
            try IncrementalReader.rebuild(snapshot, in: store, to: rebuilt, with: SnapshotIdentities())
            #expect(try sha256(rebuilt) == snapshot.manifest?.databaseSha256)
        }
    }

    /// After the location's recipients change, an incremental shares no pack
    /// with the ones before: the new identity alone restores it.
    @Test func anIncrementalAfterNewRecipientsNeedsOnlyTheNewIdentity() throws {
        let path = try Damage.sample(in: folder, transactions: 600, seed: 13)
        let store = try SnapshotStore.open(folder.file("backups"))
        let old = AgeIdentity.generate()
        let new = AgeIdentity.generate()
        let both = SnapshotIdentities(identities: [old, new])
        var random = SplitMix64(seed: 13)
        for step in 0..<2 {
            if step > 0 { try change(path, &random) }
            _ = try IncrementalWriter.take(
                request(path, at: step, sealing: SnapshotRecipients(recipients: [old.recipient])), into: store,
                keys: both)
        }
        try change(path, &random)
        let moved = try IncrementalWriter.take(
            request(path, at: 2, sealing: SnapshotRecipients(recipients: [old.recipient, new.recipient])),
            into: store, keys: both)
        #expect(moved.fullBecause == nil)
        #expect(moved.newPages > moved.pages * 9 / 10, "\(moved.newPages) of \(moved.pages) pages new")
        let rebuilt = folder.file("new-identity.db")
        try IncrementalReader.rebuild(
            moved.snapshot, in: store, to: rebuilt, with: SnapshotIdentities(identities: [new]))
        #expect(try sha256(rebuilt) == moved.snapshot.manifest?.databaseSha256)

        // The same recipients again: pages are shared as before.
        try change(path, &random)
        let again = try IncrementalWriter.take(
            request(path, at: 3, sealing: SnapshotRecipients(recipients: [new.recipient, old.recipient])),
            into: store, keys: both)
        #expect(again.newPages < again.pages / 4)
    }

    /// In an encrypted location, a pack cut short is not pointed at again:
    /// the next incremental writes its pages anew and restores alone.
    @Test func aSealedPackCutShortIsNotSharedAgain() throws {
        let path = try Damage.sample(in: folder, transactions: 600, seed: 14)
        let store = try SnapshotStore.open(folder.file("backups"))
        let identity = AgeIdentity.generate()
        let sealing = SnapshotRecipients(recipients: [identity.recipient])
        let keys = SnapshotIdentities(identities: [identity])
        var random = SplitMix64(seed: 14)
        for step in 0..<2 {
            if step > 0 { try change(path, &random) }
            _ = try IncrementalWriter.take(request(path, at: step, sealing: sealing), into: store, keys: keys)
        }
        let packs = folder.file("backups/packs")
        let biggest = try #require(
            try FileManager.default.contentsOfDirectory(atPath: packs).filter { !$0.hasSuffix(".index") }
                .max { (try SystemCalls.size(of: packs + "/" + $0)) < (try SystemCalls.size(of: packs + "/" + $1)) })
        #expect(truncate(packs + "/" + biggest, 1_000) == 0)
        try change(path, &random)
        let next = try IncrementalWriter.take(request(path, at: 2, sealing: sealing), into: store, keys: keys)
        #expect(next.newPages > next.pages / 2, "\(next.newPages) of \(next.pages) pages new")
        let rebuilt = folder.file("after-cut.db")
        try IncrementalReader.rebuild(next.snapshot, in: store, to: rebuilt, with: keys)
        #expect(try sha256(rebuilt) == next.snapshot.manifest?.databaseSha256)
    }

    @Test func aVacuumMakesACorrectIncremental() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500, seed: 9)
        let store = try SnapshotStore.open(folder.file("backups"))
        _ = try IncrementalWriter.take(
            request(path, at: 0, sealing: SnapshotRecipients()), into: store, keys: SnapshotIdentities())
        _ = try IncrementalWriter.take(
            request(path, at: 1, sealing: SnapshotRecipients()), into: store, keys: SnapshotIdentities())
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: "DELETE FROM splits WHERE id % 3 = 0") }
        try queue.writeWithoutTransaction { try $0.execute(sql: "VACUUM") }
        try queue.close()
        let run = try IncrementalWriter.take(
            request(path, at: 2, sealing: SnapshotRecipients()), into: store,
            keys: SnapshotIdentities())
        #expect(run.fullBecause == nil)
        let rebuilt = folder.file("vacuumed.db")
        try IncrementalReader.rebuild(run.snapshot, in: store, to: rebuilt, with: SnapshotIdentities())
        #expect(try books(rebuilt) == (try books(path)))
    }

    /// Three incrementals; returns the store, its folder and the snapshots.
    private func threeIncrementals(seed: UInt64) throws -> (SnapshotStore, String, [Snapshot]) {
        let path = try Damage.sample(in: folder, transactions: 1_500, seed: seed)
        let backups = folder.file("backups")
        let store = try SnapshotStore.open(backups)
        var random = SplitMix64(seed: seed)
        var snapshots: [Snapshot] = []
        for step in 0..<4 {
            if step > 0 { try change(path, &random) }
            snapshots.append(
                try IncrementalWriter.take(
                    request(path, at: step, sealing: SnapshotRecipients()), into: store,
                    keys: SnapshotIdentities()
                ).snapshot)
        }
        return (store, backups, snapshots)
    }

    @Test(arguments: ["missing", "damaged"])
    func aBrokenPackIsFoundByCheckBackupsAndRefusedByRestore(how: String) throws {
        let (store, backups, snapshots) = try threeIncrementals(seed: 13)
        // The first incremental's first pack holds most pages: every incremental needs it.
        let table = try IncrementalReader.table(of: snapshots[1], in: store, with: SnapshotIdentities())
        let pack = "packs/" + table.packs[0]
        let packPath = backups + "/" + pack
        if how == "missing" {
            try FileManager.default.removeItem(atPath: packPath)
        } else {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: packPath))
            for offset in stride(from: 100, to: bytes.count, by: 997) { bytes[offset] ^= 0x5A }
            try bytes.write(to: URL(fileURLWithPath: packPath))
        }
        let checks = try SnapshotChecker.check(backups)
        let broken = checks.filter { !$0.ok }.map(\.path)
        #expect(Set(broken) == Set(snapshots[1...].map(\.path)))
        #expect(checks.filter { !$0.ok }.allSatisfy { $0.problem?.contains(pack) == true })
        let target = folder.file("restored.db")
        #expect {
            try Restorer.decompress(snapshots[3], to: target)
        } throws: { error in
            (error as? IncrementalError)?.errorDescription?.contains(pack) == true
        }
    }

    /// A pack rotted in place (its size kept): the next incremental points at it
    /// again, as it trusts a pack by its index and size, and so restores no more
    /// than the earlier ones. Keep rules leave the newest full snapshot, which
    /// stands alone, beside that incremental last good copy: a location is never
    /// left with only snapshots that lean on a rotted pack.
    @Test func keepRulesLeaveTheNewestFullSnapshotBesideIncrementals() throws {
        let (store, backups, snapshots) = try threeIncrementals(seed: 29)
        let table = try IncrementalReader.table(of: snapshots[1], in: store, with: SnapshotIdentities())
        let packPath = backups + "/packs/" + table.packs[0]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: packPath))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: packPath))
        let path = folder.file("books.db")
        let next = try IncrementalWriter.take(
            request(path, at: 4, sealing: SnapshotRecipients()), into: store, keys: SnapshotIdentities())
        #expect(next.fullBecause == nil)
        let decisions = try Retention.prune(
            backups, policy: RetentionPolicy(last: 1), dryRun: false, taken: next.snapshot, now: later
        ).decisions
        let full = try #require(decisions.first { $0.snapshot.path == snapshots[0].path })
        #expect(full.keep && full.safeguard == .newestFullClean, "\(full.reasons)")
        #expect(decisions.filter(\.keep).map(\.snapshot.path) == [snapshots[0].path, next.snapshot.path])
        let restored = folder.file("restored.db")
        try Restorer.decompress(snapshots[0], to: restored)
        #expect(try sha256(restored) == snapshots[0].manifest?.databaseSha256)
    }

    /// A pack lost after it was written (gone, or cut short) is not pointed at by the next
    /// incremental: its pages are written again (into a pack of the same bytes, so of the
    /// same name, which replaces what was cut), and the new snapshot restores.
    @Test(arguments: ["missing", "cut short"])
    func aLostPackIsWrittenAgainByTheNextIncremental(how: String) throws {
        let path = try Damage.sample(in: folder, transactions: 1_500, seed: 21)
        let backups = folder.file("backups")
        let store = try SnapshotStore.open(backups)
        let keys = SnapshotIdentities()
        var runs: [IncrementalRun] = []
        for step in 0..<2 {
            runs.append(
                try IncrementalWriter.take(
                    request(path, at: step, sealing: SnapshotRecipients()), into: store, keys: keys))
        }
        let table = try IncrementalReader.table(of: runs[1].snapshot, in: store, with: keys)
        let packPath = backups + "/packs/" + table.packs[0]
        if how == "missing" {
            try FileManager.default.removeItem(atPath: packPath)
        } else {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: packPath))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: packPath))
        }
        let next = try IncrementalWriter.take(
            request(path, at: 2, sealing: SnapshotRecipients()), into: store, keys: keys)
        #expect(next.fullBecause == nil)
        #expect(next.newPages > 0, "the lost pack's pages are stored again")
        #expect(try SnapshotChecker.check(backups).allSatisfy(\.ok), "the earlier snapshots are whole again too")
        let rebuilt = folder.file("rebuilt.db")
        try IncrementalReader.rebuild(next.snapshot, in: store, to: rebuilt, with: keys)
        #expect(try books(rebuilt) == (try books(path)))
    }

    @Test func pruneRemovesOrphanPacksAndKeepsNeededOnes() throws {
        let (store, backups, snapshots) = try threeIncrementals(seed: 17)
        // An orphan, as a backup killed before its snapshot object would leave.
        let orphan = backups + "/packs/" + String(repeating: "ab", count: 32)
        try Data("orphan".utf8).write(to: URL(fileURLWithPath: orphan))
        let decisions = try Retention.prune(backups, policy: RetentionPolicy(last: 1), dryRun: false, now: later)
            .decisions
        let kept = decisions.filter(\.keep).map(\.snapshot)
        #expect(kept.map(\.path).contains(snapshots[3].path))
        #expect(!FileManager.default.fileExists(atPath: orphan))
        let rebuilt = folder.file("after-prune.db")
        try IncrementalReader.rebuild(snapshots[3], in: store, to: rebuilt, with: SnapshotIdentities())
        #expect(try sha256(rebuilt) == snapshots[3].manifest?.databaseSha256)
        #expect(Set(try store.store.list(prefix: "packs/").map(\.name)) == (try needed(in: store)))
    }

    /// A file there that cannot be read as a snapshot may need any pack: every
    /// pack stays, and prune says why the space was not reclaimed.
    @Test func pruneSaysWhyItLeftOrphanPacksBesideAnUnreadableSnapshot() throws {
        let (store, backups, _) = try threeIncrementals(seed: 19)
        let orphan = backups + "/packs/" + String(repeating: "cd", count: 32)
        try Data("orphan".utf8).write(to: URL(fileURLWithPath: orphan))
        let unreadable = backups + "/books-20261101T020000Z.db.gz"
        try Data("not a gzip file\n\u{1b}[31m".utf8).write(to: URL(fileURLWithPath: unreadable))
        let held = try PackPrune.removeUnneeded(in: store, with: SnapshotIdentities(), now: later)
        #expect(held.removed.isEmpty)
        #expect(FileManager.default.fileExists(atPath: orphan))
        let why = try #require(held.heldBack)
        #expect(
            why
                == "1 file there cannot be read as a snapshot and may need packs (\(unreadable): move it away if it is not a backup, or see 'ledger check-backups')"
        )
        #expect(!why.unicodeScalars.contains { $0.properties.generalCategory == .control })
        try FileManager.default.removeItem(atPath: unreadable)
        let removed = try PackPrune.removeUnneeded(in: store, with: SnapshotIdentities(), now: later)
        #expect(removed == PackPruneOutcome(removed: ["packs/" + String(repeating: "cd", count: 32)]))
    }

    /// Past `PackPrune.grace` after every pack a test writes.
    private let later = Date().addingTimeInterval(2 * PackPrune.grace)

    /// A listing that does not show the snapshot a backup has just taken (a store that
    /// lists new objects only after a while, or leaves one out): its packs stay, and so
    /// do packs written within the grace period; past it, with the listing still
    /// wrong and no word from the backup, they would go.
    @Test func packsOfASnapshotTheListingDoesNotShowYetStay() throws {
        let (store, backups, snapshots) = try threeIncrementals(seed: 23)
        let newest = snapshots[3]
        let name = URL(fileURLWithPath: newest.path).lastPathComponent
        func packs(of snapshot: Snapshot) throws -> Set<String> {
            Set(
                try IncrementalReader.table(of: snapshot, in: store, with: SnapshotIdentities()).packs.map {
                    "packs/" + $0
                })
        }
        // The packs the newest alone needs.
        let own = try packs(of: newest).subtracting(try packs(of: snapshots[2]))
        #expect(!own.isEmpty)
        let hidden = folder.file(name)
        try FileManager.default.moveItem(atPath: newest.path, toPath: hidden)
        func packs() throws -> Set<String> { Set(try store.store.list(prefix: "packs/").map(\.name)) }

        _ = try Retention.prune(backups, policy: RetentionPolicy(last: 1), dryRun: false, taken: newest, now: later)
        #expect(own.isSubset(of: try packs()))
        try PackPrune.removeUnneeded(in: store, with: SnapshotIdentities())
        #expect(own.isSubset(of: try packs()))
        try PackPrune.removeUnneeded(in: store, with: SnapshotIdentities(), now: later)
        #expect(own.isDisjoint(with: try packs()))
    }

    /// The same listing that leaves out the newest incremental, which this
    /// machine signed and remembers: past the grace period too, no pack is
    /// removed, and prune says why; once the listing shows it, the orphans go.
    @Test func packsOfTheNewestSignedSnapshotStayWhileTheListingLeavesItOut() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500, seed: 31)
        let backups = folder.file("backups")
        let store = try SnapshotStore.open(backups)
        let key = ManifestKey.random()
        var random = SplitMix64(seed: 31)
        var snapshots: [Snapshot] = []
        for step in 0..<3 {
            if step > 0 { try change(path, &random) }
            var signed = request(path, at: step, sealing: SnapshotRecipients())
            signed.signing = key
            snapshots.append(try IncrementalWriter.take(signed, into: store, keys: SnapshotIdentities()).snapshot)
        }
        let newest = try #require(snapshots.last)
        let own = Set(
            try IncrementalReader.table(of: newest, in: store, with: SnapshotIdentities()).packs.map { "packs/" + $0 }
        ).subtracting(
            try IncrementalReader.table(of: snapshots[1], in: store, with: SnapshotIdentities()).packs.map {
                "packs/" + $0
            })
        #expect(!own.isEmpty)
        let orphan = "packs/" + String(repeating: "cd", count: 32)
        try Data("orphan".utf8).write(to: URL(fileURLWithPath: backups + "/" + orphan))
        let hidden = folder.file("hidden.db.gz")
        try FileManager.default.moveItem(atPath: newest.path, toPath: hidden)
        func packs() throws -> Set<String> { Set(try store.store.list(prefix: "packs/").map(\.name)) }

        let held = try PackPrune.removeUnneeded(in: store, with: SnapshotIdentities(), now: later)
        #expect(own.union([orphan]).isSubset(of: try packs()))
        #expect(held.heldBack?.contains(URL(fileURLWithPath: newest.path).lastPathComponent) == true)
        try FileManager.default.moveItem(atPath: hidden, toPath: newest.path)
        let removed = try PackPrune.removeUnneeded(in: store, with: SnapshotIdentities(), now: later)
        #expect(removed.removed == [orphan])
        #expect(own.isSubset(of: try packs()))
    }

    /// The packs the incremental snapshots in `store` need, and their index objects.
    private func needed(in store: SnapshotStore) throws -> Set<String> {
        let snapshots = try store.list(with: SnapshotIdentities()).snapshots.filter { $0.manifest?.incremental != nil }
        return Set(
            try snapshots.flatMap {
                try IncrementalReader.table(of: $0, in: store, with: SnapshotIdentities()).packs.flatMap {
                    ["packs/" + $0, PackIndex.objectName(of: $0)]
                }
            })
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func aPruneKilledAtAnyMomentLeavesEveryNeededPack(seed: UInt64) throws {
        let (store, backups, _) = try threeIncrementals(seed: 40 + seed)
        // An orphan, as a backup killed before its snapshot object would leave.
        try Data("orphan".utf8).write(
            to: URL(fileURLWithPath: backups + "/packs/" + String(repeating: "cd", count: 32)))
        var random = SplitMix64(seed: seed)
        // The prune is killed after `cut` of its steps: the snapshots it removes, then the orphans.
        let removed = Retention.decide(
            try store.list(with: SnapshotIdentities()).snapshots, policy: RetentionPolicy(last: 1)
        )
        .filter { !$0.keep }.map(\.snapshot)
        let cut = Int(random.next() % UInt64(removed.count + 2))
        for snapshot in removed.prefix(cut) { try store.remove(snapshot) }
        if cut > removed.count {
            let orphans = Set(try store.store.list(prefix: "packs/").map(\.name)).subtracting(try needed(in: store))
            for name in orphans where random.next() % 2 == 0 { try store.store.remove(name) }
        }
        // Nothing needed is gone: every snapshot left rebuilds.
        for (index, snapshot) in try store.list(with: SnapshotIdentities()).snapshots.enumerated()
        where snapshot.manifest?.incremental != nil {
            try IncrementalReader.rebuild(
                snapshot, in: store, to: folder.file("killed-\(index).db"), with: SnapshotIdentities())
        }
        // And the next prune leaves no orphan behind.
        _ = try Retention.prune(backups, policy: RetentionPolicy(last: 1), dryRun: false, now: later)
        #expect(Set(try store.store.list(prefix: "packs/").map(\.name)) == (try needed(in: store)))
    }

    @Test func aSubsetCheckStillRebuildsTheNewestIncremental() throws {
        let (_, backups, snapshots) = try threeIncrementals(seed: 50)
        let checks = try SnapshotChecker.check(backups, sample: 0.01)
        let newest = try #require(checks.first { $0.path == snapshots[3].path })
        #expect(newest.read && newest.ok)
        #expect(checks.filter(\.read).count <= 2)
    }

    @Test func aSnapshotOfFewChangedPagesHasASmallObject() throws {
        let (store, _, snapshots) = try threeIncrementals(seed: 60)
        for snapshot in snapshots[1...] {
            let layout = try #require(snapshot.manifest?.incremental)
            let table = try IncrementalReader.table(of: snapshot, in: store, with: SnapshotIdentities())
            #expect(table.version == 2 && table.hashes == nil)
            // A run per stretch of pages: less than half what the pages' hashes alone took in version 1.
            #expect(
                layout.tableBytes < layout.pageCount * IncrementalTable.hashBytes * 4 / 3 / 2,
                "\(layout.tableBytes) bytes for \(layout.pageCount) pages")
            #expect(snapshot.bytes < 4096, "\(snapshot.bytes) bytes")
        }
        // Every pack has its index object, and nothing else is under packs/.
        let names = Set(try store.store.list(prefix: "packs/").map(\.name))
        #expect(names == (try needed(in: store)))
    }

    /// Rewrites the incremental `snapshot` of a folder as the code before pack
    /// indexes wrote it: a table of version 1 (offsets, lengths and every
    /// page's hash). The caller then removes the index objects.
    private func downgrade(_ snapshot: Snapshot, in store: SnapshotStore) throws {
        let keys = SnapshotIdentities()
        let table = try IncrementalReader.table(of: snapshot, in: store, with: keys)
        var manifest = try #require(snapshot.manifest)
        let layout = try #require(manifest.incremental)
        let indexes = try table.packs.map {
            try IncrementalReader.packIndex(of: $0, for: snapshot, in: store, with: keys)
        }
        var runs: [[Int]] = []
        var hashes = Data()
        var previous: (pack: Int, end: Int)?
        for (page, place) in try table.places(pageCount: layout.pageCount).enumerated() {
            guard case .blob(let pack, let number) = place, indexes[pack].base(number) == nil else {
                throw BackupError.damagedSnapshot("not version 2 of whole pages")
            }
            let range = indexes[pack].range(number)
            hashes.append(indexes[pack].hash(number))
            if let previous, previous.pack == pack, previous.end == range.lowerBound {
                runs[runs.count - 1][1] += 1
                runs[runs.count - 1].append(range.count)
            } else {
                runs.append([page + 1, 1, pack, range.lowerBound, range.count])
            }
            previous = (pack, range.upperBound)
        }
        let old = IncrementalTable(
            version: nil, packs: table.packs, runs: PageRuns(runs), hashes: hashes.base64EncodedString())
        let bytes = try old.encoded()
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("{\"hashes\":"))
        manifest.incremental?.tableBytes = bytes.count
        let object = try IncrementalObjects.gzip(
            bytes, comment: try manifest.commentText(), modified: start, level: 6)
        try Data(object).write(to: URL(fileURLWithPath: snapshot.path))
    }

    @Test func version1TablesStillRestoreCheckPruneAndServeTheNextIncremental() throws {
        let path = try Damage.sample(in: folder, transactions: 1_500, seed: 70)
        let backups = folder.file("backups")
        let store = try SnapshotStore.open(backups)
        let keys = SnapshotIdentities()
        var random = SplitMix64(seed: 70)
        var snapshots: [Snapshot] = []
        for step in 0..<4 {
            if step > 0 { try change(path, &random) }
            snapshots.append(
                try IncrementalWriter.take(
                    request(path, at: step, sealing: SnapshotRecipients()), into: store, keys: keys
                )
                .snapshot)
            // Code before delta blobs kept no base pages: every page it stored was whole.
            try? FileManager.default.removeItem(atPath: PageBases.path(for: path, location: store.description))
        }
        for snapshot in snapshots[1...] { try downgrade(snapshot, in: store) }
        for name in try store.store.list(prefix: "packs/").map(\.name) where name.hasSuffix(".index") {
            try store.store.remove(name)
        }
        let old = try store.list(with: keys).snapshots.filter { $0.manifest?.incremental != nil }
        #expect(old.count == 3)
        #expect(try store.store.list(prefix: "packs/").allSatisfy { !$0.name.hasSuffix(".index") })
        for (index, snapshot) in old.enumerated() {
            #expect(try IncrementalReader.table(of: snapshot, in: store, with: keys).version == nil)
            let rebuilt = folder.file("v1-\(index).db")
            try IncrementalReader.rebuild(snapshot, in: store, to: rebuilt, with: keys)
            #expect(try sha256(rebuilt) == snapshot.manifest?.databaseSha256)
        }
        #expect(try SnapshotChecker.check(backups).allSatisfy(\.ok))

        // The newest version 1 table is the next incremental's dedupe index:
        // few pages are new, and the packs it points into get index objects.
        try change(path, &random)
        let next = try IncrementalWriter.take(
            request(path, at: 4, sealing: SnapshotRecipients()), into: store, keys: keys)
        #expect(next.fullBecause == nil)
        #expect(next.newPages < next.pages / 4, "\(next.newPages) of \(next.pages) pages new")
        let table = try IncrementalReader.table(of: next.snapshot, in: store, with: keys)
        #expect(table.version == 2)
        let names = Set(try store.store.list(prefix: "packs/").map(\.name))
        #expect(table.packs.allSatisfy { names.contains(PackIndex.objectName(of: $0)) })
        let rebuilt = folder.file("v2-after-v1.db")
        try IncrementalReader.rebuild(next.snapshot, in: store, to: rebuilt, with: keys)
        #expect(try books(rebuilt) == (try books(path)))

        // A prune keeps what both versions need, and both still rebuild.
        let orphan = backups + "/packs/" + String(repeating: "ef", count: 32)
        try Data("orphan".utf8).write(to: URL(fileURLWithPath: orphan + ".index"))
        _ = try Retention.prune(backups, policy: RetentionPolicy(last: 2), dryRun: false, now: later)
        #expect(!FileManager.default.fileExists(atPath: orphan + ".index"))
        let kept = try store.list(with: keys).snapshots.filter { $0.manifest?.incremental != nil }
        #expect(kept.map(\.path) == [snapshots[3].path, next.snapshot.path])
        for (index, snapshot) in kept.enumerated() {
            try IncrementalReader.rebuild(snapshot, in: store, to: folder.file("pruned-\(index).db"), with: keys)
        }
        #expect(try SnapshotChecker.check(backups).allSatisfy(\.ok))
    }

    /// The text of a hostile version 1 table for a file of `pages` pages
    /// naming `pack`, in pieces, never whole: what a few hundred KB of gzip
    /// inflate to. `shape` 0: its runs right, then MBs of one repeated hash;
    /// 1: a run of one page with MBs of lengths; 2: a run claiming every page
    /// and more, with as many lengths.
    private static func hostileVersion1(shape: UInt64, pages: Int, pack: String, bulk: Int) -> [[UInt8]] {
        let chunk = 1 << 16
        func repeated(_ text: String) -> [[UInt8]] {
            let piece = Array(String(repeating: text, count: chunk / text.utf8.count).utf8)
            return Array(repeating: piece, count: bulk / piece.count)
        }
        let lengths = (0..<pages).map { _ in "100" }.joined(separator: ",")
        switch shape {
        case 0:
            return [Array("{\"packs\":[\"\(pack)\"],\"runs\":[[1,\(pages),0,0,\(lengths)]],\"hashes\":\"".utf8)]
                + repeated("AAAA") + [Array("\"}".utf8)]
        case 1:
            return [Array("{\"packs\":[\"\(pack)\"],\"runs\":[[1,1,0,0".utf8)] + repeated(",1") + [Array("]]}".utf8)]
        default:
            return [Array("{\"packs\":[\"\(pack)\"],\"runs\":[[1,\(pages + 1),0,0".utf8)] + repeated(",1")
                + [Array("]]}".utf8)]
        }
    }

    /// A version 1 table that inflates to far more than its pages could need
    /// (MBs of one hash, of lengths) is refused as damaged as soon as it holds
    /// more than that, never decoded whole: prune then removes no pack, and
    /// restore and check-backups name the snapshot.
    @Test(arguments: 0..<6 as Range<UInt64>)
    func aVersion1TableHoldingMoreThanItsPagesIsRefusedAsItInflates(seed: UInt64) throws {
        let (store, backups, snapshots) = try threeIncrementals(seed: 100 + seed % 2)
        var random = SplitMix64(seed: seed)
        let shape = seed % 3
        let snapshot = snapshots[3]
        var manifest = try #require(snapshot.manifest)
        let layout = try #require(manifest.incremental)
        let pack = try IncrementalReader.table(of: snapshot, in: store, with: SnapshotIdentities()).packs[0]
        let bulk = (8 + Int(random.next() % 8)) << 20
        let pieces = Self.hostileVersion1(shape: shape, pages: layout.pageCount, pack: pack, bulk: bulk)

        // The reader stops within what the pages could need, whatever follows.
        for keep in [IncrementalTableReader.Keep.everything, .packs] {
            var reader = IncrementalTableReader(pageCount: layout.pageCount, keep: keep)
            #expect(throws: BackupError.self) {
                for piece in pieces { try piece.withUnsafeBytes { try reader.read($0) } }
                _ = try reader.finish()
            }
            let need = 256 + 100 * layout.pageCount
            #expect(
                reader.bytesRead <= need + (1 << 16), "\(reader.bytesRead) bytes read for \(layout.pageCount) pages")
        }

        // In a location: a few hundred KB of gzip, refused with a one-line reason.
        let text = pieces.reduce(into: [UInt8]()) { $0 += $1 }
        manifest.incremental?.tableBytes = text.count
        let object = try IncrementalObjects.gzip(text, comment: try manifest.commentText(), modified: start, level: 9)
        #expect(object.count < text.count / 100, "\(object.count) bytes of gzip for \(text.count)")
        try Data(object).write(to: URL(fileURLWithPath: snapshot.path))
        let listed = try #require(
            try store.list(with: SnapshotIdentities()).snapshots.first { $0.path == snapshot.path })
        #expect {
            try IncrementalReader.table(of: listed, in: store, with: SnapshotIdentities())
        } throws: { error in
            guard case .tableDamaged(_, let reason)? = error as? IncrementalError else { return false }
            return !reason.contains("\n") && reason.contains("add up")
        }
        let before = Set(try store.store.list(prefix: "packs/").map(\.name))
        let held = try PackPrune.removeUnneeded(in: store, with: SnapshotIdentities())
        #expect(held.removed.isEmpty)
        #expect(held.heldBack?.hasPrefix("the page table of \(snapshot.path) cannot be read (") == true)
        #expect(Set(try store.store.list(prefix: "packs/").map(\.name)) == before)
        #expect(throws: IncrementalError.self) {
            try IncrementalReader.rebuild(
                listed, in: store, to: folder.file("hostile-v1.db"), with: SnapshotIdentities())
        }
        #expect(try SnapshotChecker.check(backups).contains { $0.path == snapshot.path && !$0.ok })
    }

    @Test(arguments: ["missing", "damaged", "cut short", "another pack's"])
    func aBrokenPackIndexIsFoundByCheckBackupsAndRefusedByRestore(how: String) throws {
        let (store, backups, snapshots) = try threeIncrementals(seed: 80)
        let packs = try IncrementalReader.table(of: snapshots[3], in: store, with: SnapshotIdentities()).packs
        // The first incremental's first pack holds most pages: every incremental needs it.
        let pack = try IncrementalReader.table(of: snapshots[1], in: store, with: SnapshotIdentities()).packs[0]
        let indexPath = backups + "/" + PackIndex.objectName(of: pack)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: indexPath))
        switch how {
        case "missing":
            try FileManager.default.removeItem(atPath: indexPath)
        case "damaged":
            for offset in stride(from: 3, to: bytes.count, by: 97) { bytes[offset] ^= 0x5A }
        case "cut short":
            bytes = bytes.prefix(bytes.count - 20)
        default:
            let other = try #require(packs.last { $0 != pack })
            bytes = try Data(contentsOf: URL(fileURLWithPath: backups + "/" + PackIndex.objectName(of: other)))
        }
        if how != "missing" { try bytes.write(to: URL(fileURLWithPath: indexPath)) }
        let checks = try SnapshotChecker.check(backups)
        let broken = checks.filter { !$0.ok }
        #expect(Set(broken.map(\.path)) == Set(snapshots[1...].map(\.path)))
        #expect(broken.allSatisfy { $0.problem?.contains("packs/" + pack) == true }, "\(broken.map(\.problem))")
        #expect {
            try Restorer.decompress(snapshots[3], to: folder.file("restored.db"))
        } throws: { error in
            (error as? IncrementalError)?.errorDescription?.contains("packs/" + pack) == true
        }
        // The next backup does not point into a pack whose index it cannot read: it restores.
        let path = folder.file("books.db")
        var random = SplitMix64(seed: 81)
        try change(path, &random)
        let next = try IncrementalWriter.take(
            request(path, at: 4, sealing: SnapshotRecipients()), into: store, keys: SnapshotIdentities())
        #expect(
            try !IncrementalReader.table(of: next.snapshot, in: store, with: SnapshotIdentities()).packs.contains(pack))
        try IncrementalReader.rebuild(next.snapshot, in: store, to: folder.file("next.db"), with: SnapshotIdentities())
        #expect(try books(folder.file("next.db")) == (try books(path)))
    }

    @Test(arguments: 0..<12 as Range<UInt64>)
    func hostileIndexObjectsAreRefusedByRestore(seed: UInt64) throws {
        let (store, backups, snapshots) = try threeIncrementals(seed: 90 + seed % 3)
        let packs = try IncrementalReader.table(of: snapshots[3], in: store, with: SnapshotIdentities()).packs
        var random = SplitMix64(seed: seed)
        let pack = packs[Int(random.next() % UInt64(packs.count))]
        let indexPath = backups + "/" + PackIndex.objectName(of: pack)
        let valid = [UInt8](try Data(contentsOf: URL(fileURLWithPath: indexPath)))
        let hostile = IncrementalHostileTests.hostileIndex(from: valid, &random)
        try Data(hostile).write(to: URL(fileURLWithPath: indexPath))
        let rebuilt = folder.file("hostile.db")
        do {
            try IncrementalReader.rebuild(snapshots[3], in: store, to: rebuilt, with: SnapshotIdentities())
            // Only bytes that change nothing the snapshot reads may restore.
            #expect(try sha256(rebuilt) == snapshots[3].manifest?.databaseSha256)
        } catch let error as IncrementalError {
            #expect(error.errorDescription?.contains("packs/" + pack) == true, "\(error)")
        }
    }
}
