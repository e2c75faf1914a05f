import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// The -wal reader against logs SQLite wrote, and against seeded random and
/// adversarial ones: it never crashes, and writes exactly the frames SQLite's
/// recovery would take, onto a database of the log's page size only.
@Suite struct WriteAheadLogTests {
    static let pageSize = 4096
    static let databasePages = 8

    /// A log written frame by frame as SQLite writes one, and what SQLite's
    /// recovery takes from it, kept beside it by construction.
    struct Log {
        var bigEndian: Bool
        var pageSize: Int
        var bytes: [UInt8] = []
        private var sums: (UInt32, UInt32) = (0, 0)
        let salts: (UInt32, UInt32)
        /// The frames recovery takes, in order, until the first it would not.
        var valid: [(page: Int, commit: Int, data: [UInt8])] = []
        /// False once a frame recovery stops at has been written.
        var intact = true

        init(
            bigEndian: Bool, pageSize: Int, salts: (UInt32, UInt32), version: UInt32 = WriteAheadLog.formatVersion,
            magic: UInt32? = nil, breakChecksum: Bool = false
        ) {
            self.bigEndian = bigEndian
            self.pageSize = pageSize
            self.salts = salts
            bytes =
                Self.big(magic ?? (bigEndian ? 0x377F_0683 : 0x377F_0682)) + Self.big(version)
                + Self.big(UInt32(truncatingIfNeeded: pageSize))
                + Self.big(0) + Self.big(salts.0) + Self.big(salts.1)
            sums = WriteAheadLog.checksum(bytes, bigEndian: bigEndian, seed: (0, 0))
            bytes += Self.big(sums.0 &+ (breakChecksum ? 1 : 0)) + Self.big(sums.1)
        }

        static func big(_ value: UInt32) -> [UInt8] {
            [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        }

        /// Appends a frame; `salts`, `page` 0 or a broken checksum make one
        /// recovery stops at (its checksum is otherwise the chain's, so only
        /// the rule broken tells it apart).
        mutating func frame(
            page: Int, commit: Int, data: [UInt8], salts other: (UInt32, UInt32)? = nil, breakChecksum: Bool = false,
            flipAfterChecksum: Bool = false
        ) {
            let header =
                Self.big(UInt32(page)) + Self.big(UInt32(commit)) + Self.big((other ?? salts).0)
                + Self.big((other ?? salts).1)
            sums = WriteAheadLog.checksum(header[0..<8], bigEndian: bigEndian, seed: sums)
            sums = WriteAheadLog.checksum(data, bigEndian: bigEndian, seed: sums)
            var stored = data
            if flipAfterChecksum { stored[stored.count / 2] ^= 0x40 }
            bytes += header + Self.big(sums.0 &+ (breakChecksum ? 1 : 0)) + Self.big(sums.1) + stored
            let taken = other == nil && !breakChecksum && !flipAfterChecksum && page != 0
            if intact && taken { valid.append((page, commit, data)) } else { intact = false }
        }
    }

    /// A page 1 that says SQLite and `pageSize`, the rest random.
    static func pageOne(_ pageSize: Int, _ random: inout SplitMix64, length: Int) -> [UInt8] {
        var page =
            FileHeader.sqliteMagic + [UInt8(pageSize >> 8 & 0xFF), UInt8(pageSize == 65_536 ? 1 : pageSize & 0xFF)]
        page += (page.count..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        return page
    }

    static func randomPage(_ length: Int, _ random: inout SplitMix64) -> [UInt8] {
        (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// The database after the log's committed frames, as SQLite's checkpoint
    /// writes them (its size bounded to one page per frame past the file's).
    static func expected(_ database: [UInt8], _ log: Log) -> (bytes: [UInt8], frames: Int) {
        guard let last = log.valid.lastIndex(where: { $0.commit > 0 }) else { return (database, 0) }
        let committed = log.valid[...last]
        let size = min(committed[last].commit, database.count / log.pageSize + committed.count)
        var bytes = database + [UInt8](repeating: 0, count: max(0, size * log.pageSize - database.count))
        for frame in committed where frame.page <= size {
            bytes.replaceSubrange((frame.page - 1) * log.pageSize..<frame.page * log.pageSize, with: frame.data)
        }
        return (Array(bytes.prefix(size * log.pageSize)), committed.count)
    }

    enum Kind: CaseIterable {
        case genuine, badMagic, badVersion, invalidPageSize, otherPageSize, badHeaderChecksum
        case otherSalt1, otherSalt2, pageZero, badFrameChecksum, flippedByte, cutInsideFrame, garbageTail, allGarbage
        case pageOneOfOtherSize, damagedMainHeader
    }

    /// One seeded case: a database of 4096-byte pages, a log made as `kind`
    /// says, applied; the result must be exactly what recovery takes.
    func check(seed: Int) throws {
        let kind = Kind.allCases[seed % Kind.allCases.count]
        var random = SplitMix64(seed: UInt64(seed) &* 7_919 &+ 3)
        let folder = TemporaryDirectory()
        let path = folder.file("books.db")
        var database =
            Self.pageOne(Self.pageSize, &random, length: Self.pageSize)
            + Self.randomPage((Self.databasePages - 1) * Self.pageSize, &random)
        if kind == .damagedMainHeader { database.replaceSubrange(0..<100, with: Self.randomPage(100, &random)) }
        let logPageSize: Int
        switch kind {
        case .otherPageSize: logPageSize = [512, 1024, 8192, 65_536][Int(random.next() % 4)]
        case .invalidPageSize: logPageSize = [1, 256, 3000, 131_072, 0][Int(random.next() % 5)]
        default: logPageSize = Self.pageSize
        }
        let salts = (UInt32(truncatingIfNeeded: random.next()), UInt32(truncatingIfNeeded: random.next()))
        var log = Log(
            bigEndian: random.next() % 2 == 0, pageSize: logPageSize, salts: salts,
            version: kind == .badVersion ? 3_007_001 : WriteAheadLog.formatVersion,
            magic: kind == .badMagic ? 0x377F_0684 : nil, breakChecksum: kind == .badHeaderChecksum)
        let frames = 3 + Int(random.next() % 10)
        let broken = Int(random.next() % UInt64(frames))
        var highest = 0
        for index in 0..<frames {
            let framePageSize = max(512, min(logPageSize, 65_536))
            var page = 1 + Int(random.next() % 12)
            if kind == .pageOneOfOtherSize && index == 0 { page = 1 }
            highest = max(highest, page)
            let commit =
                index == frames - 1 || random.next() % 3 == 0
                ? (random.next() % 8 == 0 ? Int(random.next() % 100_000) + highest : highest + Int(random.next() % 3))
                : 0
            let data =
                page == 1
                ? Self.pageOne(kind == .pageOneOfOtherSize ? 1024 : logPageSize, &random, length: framePageSize)
                : Self.randomPage(framePageSize, &random)
            let here = index == broken
            switch kind {
            case .otherSalt1 where here:
                log.frame(page: page, commit: commit, data: data, salts: (salts.0 &+ 1, salts.1))
            case .otherSalt2 where here:
                log.frame(page: page, commit: commit, data: data, salts: (salts.0, salts.1 ^ 0x8000_0000))
            case .pageZero where here: log.frame(page: 0, commit: commit, data: data)
            case .badFrameChecksum where here: log.frame(page: page, commit: commit, data: data, breakChecksum: true)
            case .flippedByte where here: log.frame(page: page, commit: commit, data: data, flipAfterChecksum: true)
            case .cutInsideFrame where here:
                log.frame(page: page, commit: commit, data: data)
                log.bytes.removeLast(1 + Int(random.next() % UInt64(framePageSize + 23)))
                log.valid.removeLast()
                log.intact = false
            default: log.frame(page: page, commit: commit, data: data)
            }
            if kind == .cutInsideFrame && here { break }
        }
        if kind == .garbageTail { log.bytes += Self.randomPage(Int(random.next() % 9000), &random) }
        if kind == .allGarbage { log.bytes = Self.randomPage(Int(random.next() % 20_000), &random) }

        try Data(database).write(to: URL(fileURLWithPath: path))
        try Data(log.bytes).write(to: URL(fileURLWithPath: path + "-wal"))
        let written = try WriteAheadLog.apply(logAt: path + "-wal", onto: path)
        let after = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))

        let refusedWhole: Set<Kind> = [
            .badMagic, .badVersion, .invalidPageSize, .otherPageSize, .badHeaderChecksum, .allGarbage,
        ]
        // The last committed page 1 is what SQLite reads the page size from.
        let committed = log.valid.prefix((log.valid.lastIndex { $0.commit > 0 } ?? -1) + 1)
        let foreignPageOne = committed.last { $0.page == 1 }.map { Array($0.data[16..<18]) != [0x10, 0x00] } ?? false
        if refusedWhole.contains(kind) || foreignPageOne {
            #expect(
                written == 0 && after == database,
                "seed \(seed) (\(kind)): a log SQLite would not take changed the file")
        } else {
            let want = Self.expected(database, log)
            #expect(
                written == want.frames,
                "seed \(seed) (\(kind)): \(written) frames written, recovery takes \(want.frames)")
            #expect(after == want.bytes, "seed \(seed) (\(kind)): the file is not what recovery makes of it")
        }
    }

    /// Seeds 0..<320: each kind 20 times.
    @Test func randomAndAdversarialLogsApplyOnlyWhatRecoveryTakes() throws {
        for seed in 0..<320 { try check(seed: seed) }
    }

    /// Logs SQLite itself wrote, whole and torn at a random byte: applying
    /// them gives byte for byte what SQLite's own checkpoint gives.
    @Test func logsSQLiteWroteApplyAsItsCheckpointDoes() throws {
        let folder = TemporaryDirectory()
        let path = try Damage.sample(in: folder, name: "books.db", transactions: 80)
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0; PRAGMA wal_checkpoint(TRUNCATE)")
        }
        for step in 0..<6 {
            try queue.write { db in
                try db.execute(sql: "UPDATE company SET name = ?", arguments: ["Step \(step)"])
                try db.execute(sql: "UPDATE splits SET memo = ? WHERE id % 7 = ?", arguments: ["memo \(step)", step])
            }
        }
        // The log as it stands while the writer is open.
        let database = try Data(contentsOf: URL(fileURLWithPath: path))
        let whole = try Data(contentsOf: URL(fileURLWithPath: path + "-wal"))
        try queue.close()
        var random = SplitMix64(seed: 25)
        for trial in 0..<12 {
            let log = trial == 0 ? whole : whole.prefix(Int(random.next() % UInt64(whole.count)))
            let ours = folder.file("ours-\(trial).db")
            let theirs = folder.file("theirs-\(trial).db")
            for copy in [ours, theirs] {
                try database.write(to: URL(fileURLWithPath: copy))
                try log.write(to: URL(fileURLWithPath: copy + "-wal"))
            }
            try WriteAheadLog.apply(logAt: ours + "-wal", onto: ours)
            let checkpointer = try DatabaseQueue(path: theirs)
            try checkpointer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try checkpointer.close()
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: ours)) == Data(contentsOf: URL(fileURLWithPath: theirs)),
                "trial \(trial): a log of \(log.count) bytes")
        }
    }

    /// A -wal cut short within its header (a crash while it was made): neither
    /// SQLite nor ledger reads it, so rebuild keeps it, says so and exits 1, as
    /// restore does.
    @Test func aLogWhoseHeaderDoesNotReadIsKeptByRebuild() throws {
        let folder = TemporaryDirectory()
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 100)
        let torn = Data([0x37, 0x7F, 0x06, 0x82] + [UInt8](repeating: 7, count: 16))
        try torn.write(to: URL(fileURLWithPath: path + "-wal"))
        let report = try Rebuilder.rebuild(
            path: path, options: RebuildOptions(backupFolder: folder.file("backups"), wait: 1))
        let kept = try #require(report.keptLog)
        #expect(try Data(contentsOf: URL(fileURLWithPath: kept)) == torn)
        #expect(report.exitStatus == 1)
    }

    /// A frame damaged before later commits: SQLite's recovery stops at it, so
    /// what those transactions committed is in no copy. Rebuild keeps the log
    /// beside the file, says so and exits 1, rather than removing it unsaid.
    @Test func aCommitPastADamagedFrameIsKeptByRebuild() throws {
        let folder = TemporaryDirectory()
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 80)
        try ForcedShutdown.commitInLogOnly(path, transactions: 3)
        var log = try Data(contentsOf: URL(fileURLWithPath: path + "-wal"))
        let read = try #require(try WriteAheadLog.read(path: path + "-wal"))
        #expect(read.committedFrames >= 3)
        #expect(!WriteAheadLog.holdsUntakenWork(beside: path))
        log[WriteAheadLog.headerSize + WriteAheadLog.frameHeaderSize + 100] ^= 0x40
        let (report, kept) = try rebuildKeeping(log, beside: path, in: folder)
        // Scripts read the same: the log kept, and the rebuild not complete.
        let json = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        #expect(json["kept_log"] as? String == kept)
        #expect(json["complete"] as? Bool == false)
    }

    /// Writes `log` as the -wal beside `path`, which must then hold work no copy
    /// takes, rebuilds, and expects the log kept as it was and exit 1.
    private func rebuildKeeping(_ log: Data, beside path: String, in folder: TemporaryDirectory) throws
        -> (RebuildReport, String)
    {
        try log.write(to: URL(fileURLWithPath: path + "-wal"))
        #expect(WriteAheadLog.holdsUntakenWork(beside: path))
        let report = try Rebuilder.rebuild(
            path: path, options: RebuildOptions(backupFolder: folder.file("backups"), wait: 1))
        let kept = try #require(report.keptLog)
        #expect(try Data(contentsOf: URL(fileURLWithPath: kept)) == log)
        #expect(report.exitStatus == 1)
        return (report, kept)
    }

    /// The frames of a log, each as (offset, whether its header marks a commit).
    private static func frames(of log: Data, pageSize: Int) -> [(offset: Int, commits: Bool)] {
        let size = WriteAheadLog.frameHeaderSize + pageSize
        return stride(from: WriteAheadLog.headerSize, to: log.count, by: size).map { offset in
            let commit = log[(offset + 4)..<(offset + 8)].reduce(0) { $0 << 8 | Int($1) }
            return (offset, commit > 0)
        }
    }

    /// The last transaction's commit frame damaged, nothing after it: SQLite
    /// reads the log without that transaction, which its program may have been
    /// told was saved. Rebuild keeps the log beside the file, says so and exits
    /// 1; a backup's copy leaves the transaction out as SQLite does.
    @Test func aDamagedLastCommitIsKeptByRebuild() throws {
        let folder = TemporaryDirectory()
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 80)
        let ids = try ForcedShutdown.commitInLogOnly(path, transactions: 3)
        var log = try Data(contentsOf: URL(fileURLWithPath: path + "-wal"))
        let read = try #require(try WriteAheadLog.read(path: path + "-wal"))
        let frames = Self.frames(of: log, pageSize: read.pageSize)
        let last = try #require(frames.last)
        #expect(last.commits && frames.count == read.committedFrames)
        #expect(!WriteAheadLog.holdsUntakenWork(beside: path))
        log[last.offset + WriteAheadLog.frameHeaderSize + 100] ^= 0x40
        // SQLite's recovery, as ledger reads it, stops before the damaged commit.
        try log.write(to: URL(fileURLWithPath: path + "-wal"))
        #expect(try WriteAheadLog.read(path: path + "-wal")?.committedFrames ?? 0 < read.committedFrames)
        _ = try rebuildKeeping(log, beside: path, in: folder)
        // The transactions committed before it are in the rebuilt file; the last is not.
        let there = try CompanyFile.read(path) { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM transactions WHERE id >= ? ORDER BY id", arguments: [ids[0]])
        }
        #expect(there == Array(ids.dropLast()))
    }

    /// A log cut inside a frame that marks no commit (a transaction being
    /// written when the power went): nothing it held was ever committed, and
    /// the log is taken in as SQLite takes it, with nothing kept aside.
    @Test func aLogCutInsideAnUncommittedFrameHoldsNothingUntaken() throws {
        let folder = TemporaryDirectory()
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 80)
        _ = try ForcedShutdown.commitInLogOnly(path, transactions: 3)
        let log = try Data(contentsOf: URL(fileURLWithPath: path + "-wal"))
        let read = try #require(try WriteAheadLog.read(path: path + "-wal"))
        let frames = Self.frames(of: log, pageSize: read.pageSize)
        // The last frame of the log that marks no commit, cut in its page: the frames after it go too.
        let open = try #require(frames.lastIndex { !$0.commits })
        let cut = log.prefix(frames[open].offset + WriteAheadLog.frameHeaderSize + 10)
        try cut.write(to: URL(fileURLWithPath: path + "-wal"))
        #expect(!WriteAheadLog.holdsUntakenWork(beside: path))
        // The same cut inside the commit frame that follows it is kept.
        let commit = try #require(frames[open...].first { $0.commits })
        try log.prefix(commit.offset + WriteAheadLog.frameHeaderSize + 10).write(
            to: URL(fileURLWithPath: path + "-wal"))
        #expect(WriteAheadLog.holdsUntakenWork(beside: path))
    }

    /// A log reset and written again between its reading and its applying (a
    /// writer at work): a frame counted is no longer there as read, and the
    /// copy, which would be torn, is refused rather than made of two generations.
    @Test func aLogResetSinceItWasReadIsNotApplied() throws {
        let folder = TemporaryDirectory()
        let copy = try Damage.sample(in: folder, name: "books.db", transactions: 80)
        try ForcedShutdown.commitInLogOnly(copy, transactions: 3)
        var log = try Data(contentsOf: URL(fileURLWithPath: copy + "-wal"))
        let read = try #require(try WriteAheadLog.read(path: copy + "-wal"))
        #expect(read.committedFrames >= 3)
        // The second frame now carries other salts, as a new generation written over the old would.
        let second = WriteAheadLog.headerSize + WriteAheadLog.frameHeaderSize + read.pageSize + 8
        log[second] ^= 0xFF
        try log.write(to: URL(fileURLWithPath: copy + "-wal"))
        #expect(throws: SystemCallError.self) { try WriteAheadLog.apply(read, at: copy + "-wal", onto: copy) }
    }

    /// A 224 KiB company file with a committed -wal of 1024-byte pages beside
    /// it (SQLite calls the pair malformed): the log is not the file's, and
    /// neither the backup nor the rebuild takes its pages.
    @Test func aLogOfAnotherPageSizeIsNotTheFilesLog() throws {
        let folder = TemporaryDirectory()
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 300)
        let other = folder.file("other.db")
        let queue = try DatabaseQueue(path: other)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA page_size = 1024; PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0")
            try db.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1)")
        }
        try FileManager.default.copyItem(atPath: other + "-wal", toPath: path + "-wal")
        try queue.close()
        #expect(try WriteAheadLog.isForeign(logAt: path + "-wal", database: path))
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let copy = folder.file("copy.db")
        #expect(try PrivateCopy.make(of: path, to: copy, wait: 1) == false, "the file is copied by its bytes")
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == before, "without a page of the log")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)

        // Rebuild replaces the file and its -wal with it: the log, which went into no
        // copy, is kept by another name first, and the report says where.
        let log = try Data(contentsOf: URL(fileURLWithPath: path + "-wal"))
        let report = try Rebuilder.rebuild(
            path: path, options: RebuildOptions(backupFolder: folder.file("backups"), wait: 1))
        let kept = try #require(report.keptLog)
        #expect(kept.hasPrefix(path + "-wal.not-applied-2"))
        #expect(report.exitStatus == 1, "what the log committed is in no copy: a person must look")
        #expect(try Data(contentsOf: URL(fileURLWithPath: kept)) == log)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    /// The main file's page-size field damaged (4096 read as 8192) while the -wal
    /// holds a committed page 1 that agrees with the log: SQLite reads page 1 from
    /// the log and the whole file with it. The log is the file's: the copy is
    /// SQLite's and rebuild keeps the transactions committed only in the log, where
    /// they used to be dropped and the log deleted.
    @Test func aDamagedPageSizeFieldDoesNotDisownTheFilesLog() throws {
        let folder = TemporaryDirectory()
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 300)
        let ids = try ForcedShutdown.commitInLogOnly(path, transactions: 200)
        #expect(try WriteAheadLog.read(path: path + "-wal")?.pageOneOffset != nil, "page 1 is in the log")
        try Damage.write(path, at: 16, [0x20, 0x00])
        #expect(try !WriteAheadLog.isForeign(logAt: path + "-wal", database: path))
        let copy = folder.file("copy.db")
        #expect(try PrivateCopy.make(of: path, to: copy, wait: 1), "SQLite's own copy")
        #expect(try ForcedShutdown.rows(of: copy)["transactions"]?.isSuperset(of: ids) == true)

        let report = try Rebuilder.rebuild(
            path: path, options: RebuildOptions(backupFolder: folder.file("backups"), wait: 1))
        #expect(report.salvage == nil, "nothing to salvage")
        #expect(try ForcedShutdown.rows(of: path)["transactions"]?.isSuperset(of: ids) == true)
        #expect(try FileHeader.read(path: path).pageSize == 4096)
    }

    /// The same log beside a main file whose header differs in more than its page
    /// size (another application id): not this file's log, applied to nothing.
    @Test func aLogWhosePageOneIsAnotherFilesIsNotTheFilesLog() throws {
        let folder = TemporaryDirectory()
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 300)
        try ForcedShutdown.commitInLogOnly(path, transactions: 200)
        try Damage.write(path, at: 16, [0x20, 0x00])
        try Damage.write(path, at: 68, Array("XXXX".utf8))
        #expect(try WriteAheadLog.isForeign(logAt: path + "-wal", database: path))
    }

    /// A newer format committed only in the -wal (the main file's header still says 1):
    /// rebuild refuses the file as verify does, where it used to repair it as version 1,
    /// or salvage it down to version 1; an older format SQLite reads is refused, not
    /// called clean.
    @Test func rebuildReadsTheFormatThroughTheLog() throws {
        let folder = TemporaryDirectory()
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 100)
        let crash = folder.file("crash.db")
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0; PRAGMA user_version = 2")
        }
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: crash + suffix)
        }
        try queue.close()
        #expect(try FileHeader.read(path: crash).userVersion == 1)
        let options = RebuildOptions(backupFolder: folder.file("backups"), wait: 1)
        #expect(throws: CompanyFileError.newerFormat(path: crash, version: 2)) {
            try Rebuilder.rebuild(path: crash, options: options)
        }
        // Refused before any repair: every committed frame is where it was (the main file
        // or its log), and SQLite still reads version 2.
        let version = try DatabaseQueue(path: crash).read { try Int.fetchOne($0, sql: "PRAGMA user_version") }
        #expect(version == 2)

        let older = try Damage.sample(in: folder, name: "older.db", transactions: 100)
        try Damage.apply(to: older) { db in try db.execute(sql: "PRAGMA user_version = 0") }
        #expect(throws: CompanyFileError.olderFormat(path: older, version: 0)) {
            try Rebuilder.rebuild(path: older, options: options)
        }
    }

    /// A -wal whose format version field is damaged: SQLite will not open the file at
    /// all (SQLITE_CANTOPEN), which read as "permission denied" with no snapshot and a
    /// raw SQLite error from rebuild. It is damage now: verify says so, the copy is the
    /// file's bytes, and rebuild keeps the log it could not apply.
    @Test func aLogOfAnUnknownVersionIsDamageNotAPermission() throws {
        let folder = TemporaryDirectory()
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 200)
        try ForcedShutdown.commitInLogOnly(path, transactions: 5)
        try ForcedShutdown.giveUnknownVersion(toLogOf: path)
        #expect(WriteAheadLog.hasUnknownVersion(path: path + "-wal"))
        let log = try Data(contentsOf: URL(fileURLWithPath: path + "-wal"))

        let report = try Verifier.verify(path: path)
        #expect(report.findings.map(\.code) == [.sqliteCorruption])
        #expect(report.findings.first?.message.contains("format version SQLite does not know") == true)
        #expect(try PrivateCopy.make(of: path, to: folder.file("copy.db"), wait: 1) == false)

        let rebuilt = try Rebuilder.rebuild(
            path: path, options: RebuildOptions(backupFolder: folder.file("backups"), wait: 1))
        let kept = try #require(rebuilt.keptLog)
        #expect(try Data(contentsOf: URL(fileURLWithPath: kept)) == log)
        #expect(rebuilt.exitStatus == 1)
        #expect(try Verifier.verify(path: path).findings.isEmpty)
    }
}
