import Crypto
import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// Delta blobs (docs/incremental.md, "Delta blobs"): a changed page stored as
/// a change to its earlier version, against base pages kept beside the
/// company file, which are only ever a hint.
@Suite struct DeltaBlobTests {
    let folder = TemporaryDirectory()
    let start = Date(timeIntervalSince1970: 1_700_000_000)

    private func request(_ path: String, at step: Int, sealing: SnapshotRecipients = SnapshotRecipients())
        -> SnapshotRequest
    {
        SnapshotRequest(
            of: path, kind: .scheduled, recipients: sealing, config: RecipientsConfig.none(environment: [:]),
            now: start.addingTimeInterval(Double(step) * 900))
    }

    /// Memos of `rows` transactions chosen by `random` changed: a few bytes on each of as many pages.
    private func change(_ path: String, _ random: inout SplitMix64, rows: Int = 40) throws {
        try DatabaseQueue(path: path).write { db in
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM transactions") ?? 1
            for _ in 0..<rows {
                try db.execute(
                    sql: "UPDATE transactions SET memo = ? WHERE id = ?",
                    arguments: ["edited \(random.next() % 1000)", Int(random.next() % UInt64(count)) + 1])
            }
        }
    }

    /// A sample file and its full snapshot and first incremental in `location`.
    private func started(_ location: String, seed: UInt64, sealing: SnapshotRecipients = SnapshotRecipients())
        throws -> (path: String, store: SnapshotStore)
    {
        let path = try Damage.sample(in: folder, transactions: 1_500, seed: seed)
        let store = try SnapshotStore.open(folder.file(location))
        let keys = SnapshotIdentities()
        for step in 0..<2 {
            _ = try IncrementalWriter.take(request(path, at: step, sealing: sealing), into: store, keys: keys)
        }
        return (path, store)
    }

    private func rebuilds(_ snapshot: Snapshot, in store: SnapshotStore, keys: SnapshotIdentities = .init()) throws
        -> Bool
    {
        let rebuilt = folder.file("rebuilt-\(UUID().uuidString).db")
        try IncrementalReader.rebuild(snapshot, in: store, to: rebuilt, with: keys)
        return try FileDigest.of(rebuilt).sha256 == snapshot.manifest?.databaseSha256
    }

    /// The bases of every blob of the packs `snapshot` names, as its pack indexes give them.
    private func bases(of snapshot: Snapshot, in store: SnapshotStore) throws -> [PackIndex.Base] {
        let table = try IncrementalReader.table(of: snapshot, in: store, with: SnapshotIdentities())
        return try table.packs.flatMap { pack in
            let index = try IncrementalReader.packIndex(of: pack, for: snapshot, in: store, with: SnapshotIdentities())
            return (0..<index.count).compactMap(index.base)
        }
    }

    /// The same change backed up with the base pages and without: as deltas
    /// it is a fraction of the bytes, and both rebuild to their SHA-256.
    @Test func changedPagesAreDeltasAFractionOfTheirWholeBlobs() throws {
        let (path, store) = try started("with", seed: 3)
        let plainStore = try SnapshotStore.open(folder.file("without"))
        for step in 0..<2 {
            _ = try IncrementalWriter.take(request(path, at: step), into: plainStore, keys: SnapshotIdentities())
        }
        var random = SplitMix64(seed: 3)
        try change(path, &random)
        let withBases = try IncrementalWriter.take(request(path, at: 2), into: store, keys: SnapshotIdentities())
        try FileManager.default.removeItem(atPath: PageBases.path(for: path, location: plainStore.description))
        let whole = try IncrementalWriter.take(request(path, at: 2), into: plainStore, keys: SnapshotIdentities())

        #expect(withBases.newPages == whole.newPages && withBases.newPages > 10)
        // Page 1 and pages made by the change have no earlier version.
        #expect(withBases.deltaPages * 4 >= withBases.newPages * 3, "\(withBases.deltaPages) of \(withBases.newPages)")
        #expect(whole.deltaPages == 0)
        #expect(
            withBases.bytesWritten * 3 < whole.bytesWritten, "\(withBases.bytesWritten) against \(whole.bytesWritten)")
        #expect(try rebuilds(withBases.snapshot, in: store))
        #expect(try rebuilds(whole.snapshot, in: plainStore))
        // Every delta's base is a whole page of a pack the table names.
        let table = try IncrementalReader.table(of: withBases.snapshot, in: store, with: SnapshotIdentities())
        let found = try bases(of: withBases.snapshot, in: store)
        #expect(found.count == withBases.deltaPages)
        #expect(found.allSatisfy { table.packs.contains($0.pack) })
    }

    /// A page changed again is a delta against the same whole base, never
    /// against a delta; many such incrementals, plain and encrypted, each
    /// rebuild to their SHA-256, and a prune that keeps only the newest keeps
    /// the packs its bases lie in.
    @Test(arguments: [false, true])
    func repeatedChangesStayOneDeltaFromAWholePage(sealed: Bool) throws {
        let identity = AgeIdentity.generate()
        let sealing = sealed ? SnapshotRecipients(recipients: [identity.recipient]) : SnapshotRecipients()
        let keys = SnapshotIdentities(identities: sealed ? [identity] : [])
        let path = try Damage.sample(in: folder, transactions: 1_500, seed: 5)
        let location = folder.file("backups")
        let store = try SnapshotStore.open(location)
        var random = SplitMix64(seed: sealed ? 6 : 5)
        var taken: [IncrementalRun] = []
        for step in 0..<8 {
            if step > 1 { try change(path, &random, rows: 20) }
            taken.append(try IncrementalWriter.take(request(path, at: step, sealing: sealing), into: store, keys: keys))
        }
        #expect(taken[2...].allSatisfy { $0.deltaPages > 0 })
        for run in taken[1...] { #expect(try rebuilds(run.snapshot, in: store, keys: keys)) }

        _ = try Retention.prune(location, policy: RetentionPolicy(last: 1), dryRun: false, with: keys)
        let newest = try #require(taken.last?.snapshot)
        #expect(try rebuilds(newest, in: store, keys: keys))
        #expect(try SnapshotChecker.check(location, with: keys).allSatisfy(\.ok))
    }

    /// The base file: beside the company file, mode 0600, one page for each
    /// of the file's, page 1 zeros, so no tool takes it for a company file.
    @Test func theBasePagesArePrivateAndNoCompanyFile() throws {
        let (path, store) = try started("backups", seed: 7)
        let bases = PageBases.path(for: path, location: store.description)
        #expect(
            URL(fileURLWithPath: bases).deletingLastPathComponent()
                == URL(fileURLWithPath: path).deletingLastPathComponent())
        let attributes = try FileManager.default.attributesOfItem(atPath: bases)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let pageSize = try FileHeader.read(path: path).pageSize
        let bytes = try Data(contentsOf: URL(fileURLWithPath: bases))
        #expect(bytes.count == (try SystemCalls.size(of: path)))
        #expect(bytes.prefix(pageSize).allSatisfy { $0 == 0 })
        #expect(!FleetDiscovery.isCompanyFile(bases))
        #expect(FleetDiscovery.isCompanyFile(path))
        // A page past the first is the company file's own.
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes[pageSize..<2 * pageSize] == file[pageSize..<2 * pageSize])
        // Made readable by someone since: private again at the next backup.
        #expect(chmod(bases, 0o644) == 0)
        _ = try IncrementalWriter.take(request(path, at: 2), into: store, keys: SnapshotIdentities())
        #expect((try FileManager.default.attributesOfItem(atPath: bases)[.posixPermissions] as? Int) == 0o600)
    }

    /// Base pages changed by anyone (random bytes), or a link put in their
    /// place: no delta is made against them, nothing is written through the
    /// link, and the snapshot is whole.
    @Test(arguments: ["scribbled", "link", "hard link", "fifo"])
    func basePagesOfOtherBytesOnlyCostBytes(how: String) throws {
        let (path, store) = try started("backups", seed: 9)
        let bases = PageBases.path(for: path, location: store.description)
        let elsewhere = folder.file("elsewhere")
        try Data("not books".utf8).write(to: URL(fileURLWithPath: elsewhere))
        #expect(chmod(elsewhere, 0o644) == 0)
        switch how {
        case "link":
            try FileManager.default.removeItem(atPath: bases)
            try FileManager.default.createSymbolicLink(atPath: bases, withDestinationPath: elsewhere)
        case "hard link":
            try FileManager.default.removeItem(atPath: bases)
            #expect(link(elsewhere, bases) == 0)
        case "fifo":
            try FileManager.default.removeItem(atPath: bases)
            #expect(mkfifo(bases, 0o600) == 0)
        default:
            var random = SplitMix64(seed: 9)
            let size = Int(try SystemCalls.size(of: bases))
            try Data((0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }).write(
                to: URL(fileURLWithPath: bases))
        }
        var random = SplitMix64(seed: 10)
        try change(path, &random)
        let run = try IncrementalWriter.take(request(path, at: 2), into: store, keys: SnapshotIdentities())
        #expect(run.newPages > 0 && run.deltaPages == 0)
        #expect(try rebuilds(run.snapshot, in: store))
        // Nothing was written through the name, and a file of the base's own is in its place.
        #expect(try String(contentsOfFile: elsewhere, encoding: .utf8) == "not books")
        #expect((try FileManager.default.attributesOfItem(atPath: elsewhere)[.posixPermissions] as? Int) == 0o644)
        let made = try FileManager.default.attributesOfItem(atPath: bases)
        #expect(made[.type] as? FileAttributeType == .typeRegular)
        #expect((made[.size] as? Int) == Int(try SystemCalls.size(of: path)))
        if how == "scribbled" {
            // The pages stored whole are the base pages again: the next change is a delta.
            try change(path, &random)
            let next = try IncrementalWriter.take(request(path, at: 3), into: store, keys: SnapshotIdentities())
            #expect(next.deltaPages > 0)
            #expect(try rebuilds(next.snapshot, in: store))
        }
    }

    /// A snapshot whose deltas have lost their base: the base pack damaged,
    /// or left out of its table. Restore refuses it naming the object, and
    /// check-backups says which snapshot it breaks.
    @Test(arguments: ["base pack damaged", "base pack not named"])
    func aDeltaWithoutItsBaseIsRefused(how: String) throws {
        let (path, store) = try started("backups", seed: 11)
        let location = folder.file("backups")
        var random = SplitMix64(seed: 11)
        try change(path, &random)
        let run = try IncrementalWriter.take(request(path, at: 2), into: store, keys: SnapshotIdentities())
        let base = try #require(try bases(of: run.snapshot, in: store).first)
        if how == "base pack damaged" {
            let packPath = location + "/packs/" + base.pack
            var bytes = try Data(contentsOf: URL(fileURLWithPath: packPath))
            for offset in stride(from: 0, to: bytes.count, by: 61) { bytes[offset] ^= 0x33 }
            try bytes.write(to: URL(fileURLWithPath: packPath))
        } else {
            // The index of the pack holding the deltas names another base pack, one the table does not name.
            let table = try IncrementalReader.table(of: run.snapshot, in: store, with: SnapshotIdentities())
            let holder = try #require(
                table.packs.first {
                    (try? IncrementalReader.packIndex(of: $0, for: run.snapshot, in: store, with: SnapshotIdentities()))
                        .map { index in (0..<index.count).contains { index.base($0) != nil } } ?? false
                })
            let indexPath = location + "/" + PackIndex.objectName(of: holder)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: indexPath))
            bytes.replaceSubrange(52..<84, with: [UInt8](repeating: 0xAB, count: 32))
            try bytes.write(to: URL(fileURLWithPath: indexPath))
        }
        let snapshot = try #require(
            try store.list(with: SnapshotIdentities()).snapshots.first { $0.path == run.snapshot.path })
        do {
            _ = try rebuilds(snapshot, in: store)
            Issue.record("a snapshot whose delta lost its base was restored")
        } catch let error as IncrementalError {
            let text = error.errorDescription ?? ""
            #expect(
                how == "base pack damaged" ? text.contains("packs/" + base.pack) : text.contains("base"), "\(text)")
        }
        let check = try #require(try SnapshotChecker.check(location).first { $0.path == snapshot.path })
        #expect(!check.ok)
    }

    /// A pack's name covers its index's base references: the same bytes with
    /// other bases are another pack, so no index is ever replaced by one that
    /// points elsewhere. A pack of whole pages is named by its bytes alone.
    @Test func aPacksNameCoversItsBases() throws {
        let key = IncrementalKey(key: SymmetricKey(data: [UInt8](repeating: 0x3C, count: 32)))
        let bytes = [UInt8](repeating: 7, count: 100)
        let hash = Data(repeating: 1, count: IncrementalTable.hashBytes)
        var first = PackIndex()
        first.append(hash: hash, length: 100, base: PackIndex.Base(pack: String(repeating: "a", count: 64), number: 3))
        var second = PackIndex()
        second.append(hash: hash, length: 100, base: PackIndex.Base(pack: String(repeating: "b", count: 64), number: 3))
        var whole = PackIndex()
        whole.append(hash: hash, length: 100)
        #expect(whole.references.isEmpty)
        #expect(key.packName(of: bytes, references: whole.references) == key.packName(of: bytes))
        let names = [first, second, whole].map { key.packName(of: bytes, references: $0.references) }
        #expect(Set(names).count == 3)
    }

    /// A page table naming a pack twice is damaged: its index would be read as often.
    @Test func aTableNamingAPackTwiceIsRefused() throws {
        let pack = IncrementalHostileTests.pack
        let table = IncrementalTable(
            version: 2, packs: [pack, pack], runs: [[1, 1, 0, 0], [2, 1, 1, 0]], hashes: nil)
        #expect(throws: BackupError.self) { try table.checkRuns(pageCount: 2) }
        let once = IncrementalTable(version: 2, packs: [pack], runs: [[1, 2, 0, 0]], hashes: nil)
        try once.checkRuns(pageCount: 2)
    }

    /// The plan of a restore keeps the indexes it read up to its budget, and
    /// past it has them read again, with the same plan either way.
    @Test func theRestorePlanKeepsIndexesWithinItsBudget() throws {
        let (path, store) = try started("backups", seed: 13)
        var random = SplitMix64(seed: 13)
        try change(path, &random)
        let run = try IncrementalWriter.take(request(path, at: 2), into: store, keys: SnapshotIdentities())
        let snapshot = run.snapshot
        let table = try IncrementalReader.table(of: snapshot, in: store, with: SnapshotIdentities())
        let layout = try #require(snapshot.manifest?.incremental)
        let runs = try table.runsByPack(pageCount: layout.pageCount)
        let read: @Sendable (Int) throws -> PackIndex = { number in
            try IncrementalReader.packIndex(
                of: table.packs[number], for: snapshot, in: store, with: SnapshotIdentities())
        }
        let kept = try IncrementalReader.DeltaPlan(table: table, runsByPack: runs, snapshot: snapshot.path, index: read)
        let none = try IncrementalReader.DeltaPlan(
            table: table, runsByPack: runs, snapshot: snapshot.path, keeping: 0, index: read)
        #expect(kept.holdsDeltas == none.holdsDeltas && kept.holdsDeltas.contains(true))
        #expect(kept.bases.map { $0.map(\.page) } == none.bases.map { $0.map(\.page) })
        var again = 0
        for number in table.packs.indices {
            let fromKept = try kept.index(number) {
                again += 1
                return try read(number)
            }
            let fromNone = try none.index(number) {
                again += 100
                return try read(number)
            }
            #expect(fromKept == fromNone)
        }
        #expect(again == 100 * table.packs.count)
    }

    /// A delta inflates only against its own base, to exactly one page.
    @Test func aDeltaInflatesOnlyAgainstItsBase() throws {
        var random = SplitMix64(seed: 12)
        let base = (0..<4096).map { _ in UInt8(truncatingIfNeeded: random.next() % 7) }
        var page = base
        for _ in 0..<20 { page[Int(random.next() % 4096)] = UInt8(truncatingIfNeeded: random.next()) }
        let deltas = try PageDeltas(level: 6)
        let delta = try page.withUnsafeBytes { page in
            try base.withUnsafeBytes { try deltas.delta(of: page, against: $0) }
        }
        #expect(delta.count < 400, "\(delta.count) bytes")
        func inflated(_ blob: [UInt8], against base: [UInt8]) -> [UInt8]? {
            var out = [UInt8](repeating: 0, count: 4096)
            let ok = blob.withUnsafeBytes { blob in
                base.withUnsafeBytes { base in
                    out.withUnsafeMutableBytes { deltas.inflate(blob, against: base, into: $0) }
                }
            }
            return ok ? out : nil
        }
        #expect(inflated(delta, against: base) == page)
        var other = base
        other[100] ^= 0xFF
        #expect(inflated(delta, against: other) != page)
        #expect(inflated(delta + [0], against: base) == nil)
        #expect(inflated(Array(delta.dropLast()), against: base) == nil)
        #expect(inflated([], against: base) == nil)
    }

    /// Index objects with delta blobs (version 2): what is written reads back
    /// the same, and hostile changes of them are refused or hold together.
    @Test(arguments: 0..<4 as Range<UInt64>)
    func packIndexesWithDeltasRoundTripAndResistHostileBytes(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let pack = IncrementalHostileTests.pack
        let others = (0..<3).map { _ in (0..<32).map { _ in UInt8(truncatingIfNeeded: random.next()) }.hex }
        for _ in 0..<300 {
            var index = PackIndex()
            for _ in 0..<(Int(random.next() % 6) + 1) {
                let hash = Data((0..<IncrementalTable.hashBytes).map { _ in UInt8(truncatingIfNeeded: random.next()) })
                let base =
                    random.next() % 2 == 0
                    ? PackIndex.Base(pack: others[Int(random.next() % 3)], number: Int(random.next() % 100)) : nil
                index.append(hash: hash, length: Int(random.next() % 4096) + 1, base: base)
            }
            let valid = index.encoded(for: pack)
            let decoded = try PackIndex.decode(valid, for: pack)
            #expect(decoded == index)
            #expect((0..<index.count).map(decoded.base) == (0..<index.count).map(index.base))
            let hostile = IncrementalHostileTests.hostileIndex(from: valid, &random)
            do {
                let read = try PackIndex.decode(hostile, for: pack)
                #expect(read.encoded(for: pack) == hostile)
                for number in 0..<read.count {
                    if let base = read.base(number) { #expect(base.pack != pack && PackIndex.isPackName(base.pack)) }
                }
            } catch let error as BackupError {
                guard case .damagedSnapshot = error else { throw error }
            }
        }
    }
}
