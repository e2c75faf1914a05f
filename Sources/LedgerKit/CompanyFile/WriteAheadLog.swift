import Foundation

/// SQLite's write-ahead log (`FILE-wal`) read without SQLite, for a file SQLite
/// cannot open: the committed transactions it holds are part of the company
/// file (docs/rebuild.md, §4), and are written onto a raw copy of the main file the way
/// SQLite's own recovery would.
///
/// The format (sqlite.org/fileformat2.html#walformat): a 32-byte header (magic,
/// version, page size, checkpoint sequence, two salts, a checksum), then frames
/// of a 24-byte header (page number, the database size in pages on a commit
/// frame, else 0, the salts, a cumulative checksum) and one page. Read as
/// SQLite's recovery (`walIndexRecover`) reads it: a log is ignored whole unless
/// its magic is one of the two, its format version 3,007,000, its page size a
/// power of two from 512 to 65,536 and its header checksum right; frames are
/// valid while their page number is not 0, their salts are the header's and
/// the checksum chain holds; only valid frames up to the last valid commit
/// frame count. A log is also ignored whole when its page size is not the
/// database's (`apply`): SQLite calls such a pair malformed.
struct WriteAheadLog {
    let pageSize: Int
    /// Where the committed frames end (bytes from the start of the log).
    let committedEnd: Int64
    /// The database size in pages after the last committed transaction.
    let databasePages: Int64
    /// How many committed frames there are.
    let committedFrames: Int
    /// Where the page of the last committed frame of page 1 begins, if any.
    let pageOneOffset: Int64?
    /// The header's salts, which every frame of this generation of the log repeats.
    let salts: (UInt32, UInt32)

    static let headerSize = 32

    /// Whether a `-wal` holding anything lies beside the database at `path`.
    static func isBeside(_ path: String) -> Bool {
        var status = stat()
        return stat(path + "-wal", &status) == 0 && status.st_size > 0
    }
    static let frameHeaderSize = 24
    /// The only format version of the log SQLite writes or reads (`WAL_MAX_VERSION`).
    static let formatVersion: UInt32 = 3_007_000

    /// Whether the log at `path` has SQLite's magic but another format version:
    /// SQLite then refuses to open the database at all (SQLITE_CANTOPEN), as it
    /// would a missing permission, though nothing but the log's bytes is wrong.
    static func hasUnknownVersion(path: String) -> Bool {
        guard let descriptor = try? SystemCalls.open(path, O_RDONLY) else { return false }
        defer { SystemCalls.close(descriptor) }
        var header = [UInt8](repeating: 0, count: 8)
        guard
            (try? header.withUnsafeMutableBytes({ try SystemCalls.pread(descriptor, into: $0, at: 0, path: path) }))
                == header.count
        else { return false }
        let magic = word(header, 0, bigEndian: true)
        return (magic == 0x377F_0682 || magic == 0x377F_0683) && word(header, 4, bigEndian: true) != formatVersion
    }

    /// A log's header, read as SQLite's recovery reads it: nil unless its magic
    /// is one of the two, its format version 3,007,000, its page size a power of
    /// two from 512 to 65,536 and its checksum right.
    private struct Header {
        let pageSize: Int
        let bigEndian: Bool
        let salts: (UInt32, UInt32)
        /// The checksum of the header, which the frames' chain starts from.
        let sums: (UInt32, UInt32)

        init?(_ descriptor: Int32, path: String) throws {
            var header = [UInt8](repeating: 0, count: headerSize)
            let read = try header.withUnsafeMutableBytes {
                try SystemCalls.pread(descriptor, into: $0, at: 0, path: path)
            }
            guard read == headerSize else { return nil }
            let magic = word(header, 0, bigEndian: true)
            guard magic == 0x377F_0682 || magic == 0x377F_0683, word(header, 4, bigEndian: true) == formatVersion
            else { return nil }
            bigEndian = magic & 1 == 1
            // The log writes 65,536 as it is (a database header writes it as 1).
            pageSize = Int(word(header, 8, bigEndian: true))
            guard pageSize >= 512, pageSize <= 65_536, pageSize & (pageSize - 1) == 0 else { return nil }
            sums = checksum(header[0..<24], bigEndian: bigEndian, seed: (0, 0))
            guard sums.0 == word(header, 24, bigEndian: true), sums.1 == word(header, 28, bigEndian: true) else {
                return nil
            }
            salts = (word(header, 16, bigEndian: true), word(header, 20, bigEndian: true))
        }
    }

    /// Whether the `-wal` beside the database at `path` may hold committed
    /// work that no copy takes in. SQLite checkpoints, and `apply` writes, a
    /// log whose header reads; a log with such a header and no committed frame
    /// holds nothing. One of another page size (`isForeign`), or whose header
    /// does not read (a version SQLite does not know, damage), is taken in by neither.
    static func holdsUntakenWork(beside path: String) -> Bool {
        guard isBeside(path) else { return false }
        let log = path + "-wal"
        // One walk of the log: its header, its committed frames, and a commit past a tear.
        guard let walked = try? walk(path: log), walked.headerReads, !walked.commitsAfterTear else { return true }
        guard let read = walked.log else { return false }
        return (try? isForeign(read, logAt: log, database: path)) ?? true
    }

    /// Reads the log at `path` and finds its committed frames, one frame in
    /// memory at a time. Nil when there is no log, or no committed frame in it
    /// (a torn or garbage log yields what was committed before the tear).
    static func read(path: String) throws -> WriteAheadLog? {
        try walk(path: path).log
    }

    /// Walks the log at `path` as `read` does, and from the first frame that
    /// breaks its chain of checksums on: `commitsAfterTear` when a frame of this
    /// log's salts marks a commit there, that frame itself included. SQLite's own recovery stops at the break
    /// too, so what that transaction committed is in no copy (a write that reached
    /// the disk out of order, a damaged frame): it must not go unsaid.
    /// `headerReads` is false when there is no log, or its header does not read.
    private static func walk(path: String) throws -> (log: WriteAheadLog?, headerReads: Bool, commitsAfterTear: Bool) {
        let descriptor: Int32
        do {
            descriptor = try SystemCalls.open(path, O_RDONLY)
        } catch let error as SystemCallError where error.isMissing {
            return (nil, false, false)
        }
        defer { SystemCalls.close(descriptor) }
        guard let header = try Header(descriptor, path: path) else { return (nil, false, false) }
        let (pageSize, bigEndian, salts) = (header.pageSize, header.bigEndian, header.salts)
        var sums = header.sums

        var frame = [UInt8](repeating: 0, count: frameHeaderSize + pageSize)
        var offset = Int64(headerSize)
        var committedEnd: Int64 = 0
        var pages: Int64 = 0
        var frames = 0
        var count = 0
        var pageOne: Int64?
        var committedPageOne: Int64?
        while true {
            let got = try frame.withUnsafeMutableBytes {
                try SystemCalls.pread(descriptor, into: $0, at: offset, path: path)
            }
            guard got == frame.count else { break }
            guard word(frame, 8, bigEndian: true) == salts.0, word(frame, 12, bigEndian: true) == salts.1,
                word(frame, 0, bigEndian: true) > 0
            else { break }
            sums = checksum(frame[0..<8], bigEndian: bigEndian, seed: sums)
            sums = checksum(frame[frameHeaderSize...], bigEndian: bigEndian, seed: sums)
            guard sums.0 == word(frame, 16, bigEndian: true), sums.1 == word(frame, 20, bigEndian: true) else { break }
            if word(frame, 0, bigEndian: true) == 1 { pageOne = offset + Int64(frameHeaderSize) }
            offset += Int64(frame.count)
            count += 1
            let size = word(frame, 4, bigEndian: true)
            if size > 0 {
                committedEnd = offset
                pages = Int64(size)
                frames = count
                committedPageOne = pageOne
            }
        }
        // From the break on, only the frames' headers: one of this log's salts marking a commit. The
        // frame that broke the chain counts too: a commit frame whose bytes fail their checksum (a
        // flipped bit, or a write cut short) may be a transaction the program was told was saved.
        var commitsAfterTear = false
        var head = [UInt8](repeating: 0, count: frameHeaderSize)
        var next = offset
        while !commitsAfterTear {
            let got = try head.withUnsafeMutableBytes {
                try SystemCalls.pread(descriptor, into: $0, at: next, path: path)
            }
            guard got == head.count else { break }
            commitsAfterTear =
                word(head, 8, bigEndian: true) == salts.0 && word(head, 12, bigEndian: true) == salts.1
                && word(head, 0, bigEndian: true) > 0 && word(head, 4, bigEndian: true) > 0
            next += Int64(frame.count)
        }
        guard frames > 0 else { return (nil, true, commitsAfterTear) }
        let log = WriteAheadLog(
            pageSize: pageSize, committedEnd: committedEnd, databasePages: pages, committedFrames: frames,
            pageOneOffset: committedPageOne, salts: salts)
        return (log, true, commitsAfterTear)
    }

    /// Whether the log's page size is not the database's. SQLite reads page 1
    /// from the log when the log has it, so the log's own last committed page 1
    /// decides first: one of another page size is not this log's. When it agrees
    /// with the log, the main file's header is asked too; it may differ only in a
    /// damaged page-size field (every other field SQLite fixes at creation the
    /// same as the log's page 1), which SQLite reads past. Without a page 1 in the
    /// log, the main file's header decides. A header that is not SQLite's (damage)
    /// says nothing either way.
    private static func pageSizeDiffers(
        _ log: WriteAheadLog, logAt source: Int32, path: String,
        database: Int32, databasePath: String
    ) throws -> Bool {
        func header(_ descriptor: Int32, at offset: Int64, path: String) throws -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: 100)
            let got = try bytes.withUnsafeMutableBytes {
                try SystemCalls.pread(descriptor, into: $0, at: offset, path: path)
            }
            guard got == bytes.count, Array(bytes[0..<16]) == FileHeader.sqliteMagic else { return nil }
            return bytes
        }
        func pageSize(_ bytes: [UInt8]) -> Int {
            let raw = Int(bytes[16]) << 8 | Int(bytes[17])
            return raw == 1 ? 65_536 : raw
        }
        let main = try header(database, at: 0, path: databasePath)
        guard let pageOne = try log.pageOneOffset.flatMap({ try header(source, at: $0, path: path) }) else {
            return main.map(pageSize).map { $0 != log.pageSize } ?? false
        }
        guard pageSize(pageOne) == log.pageSize else { return true }
        guard let main, pageSize(main) != log.pageSize else { return false }
        // Fixed when the file was made: the format bytes, the reserved space, the payload fractions, the
        // text encoding and the application id.
        let fixed = [18, 19, 20, 21, 22, 23, 56, 57, 58, 59, 68, 69, 70, 71]
        return fixed.contains { main[$0] != pageOne[$0] }
    }

    /// Whether the log at `path` holds committed frames whose page size is
    /// not the database's at `database`: then it is not SQLite's log of that
    /// file (SQLite calls such a pair malformed, and a checkpoint would write
    /// pages of the wrong size over the file), and it is never applied or
    /// checkpointed. False when there is no log or nothing committed in it.
    static func isForeign(logAt path: String, database: String) throws -> Bool {
        guard let log = try read(path: path) else { return false }
        return try isForeign(log, logAt: path, database: database)
    }

    /// `isForeign` of the log already read from `path`.
    private static func isForeign(_ log: WriteAheadLog, logAt path: String, database: String) throws -> Bool {
        let source = try SystemCalls.open(path, O_RDONLY)
        defer { SystemCalls.close(source) }
        let target = try SystemCalls.open(database, O_RDONLY)
        defer { SystemCalls.close(target) }
        return try pageSizeDiffers(log, logAt: source, path: path, database: target, databasePath: database)
    }

    /// Writes the committed frames of the log at `path` onto the database file
    /// at `database` (a private copy), in log order, then sets its size to the
    /// last commit's, as a checkpoint would. A log whose page size is not the
    /// database's (`isForeign`) is not this file's: nothing is written.
    /// - Returns: how many frames were written (0 without a committed frame).
    @discardableResult
    static func apply(logAt path: String, onto database: String) throws -> Int {
        guard let log = try read(path: path) else { return 0 }
        return try apply(log, at: path, onto: database)
    }

    /// `apply(logAt:onto:)` of the log read as `log`: refused (`EAGAIN`) when
    /// a frame it counted is no longer there as read (the log was reset and
    /// written again since: the copy would be torn).
    static func apply(_ log: WriteAheadLog, at path: String, onto database: String) throws -> Int {
        let source = try SystemCalls.open(path, O_RDONLY)
        defer { SystemCalls.close(source) }
        let target = try SystemCalls.open(database, O_RDWR)
        defer { SystemCalls.close(target) }
        guard try !pageSizeDiffers(log, logAt: source, path: path, database: target, databasePath: database) else {
            return 0
        }
        // A log can add at most one page per frame: a page number or a size past
        // that is not SQLite's doing, and would make a huge sparse file.
        let mainPages = try SystemCalls.size(of: target, path: database) / Int64(log.pageSize)
        let size = min(log.databasePages, mainPages + Int64(log.committedFrames))
        var frame = [UInt8](repeating: 0, count: frameHeaderSize + log.pageSize)
        var offset = Int64(headerSize)
        while offset < log.committedEnd {
            let got = try frame.withUnsafeMutableBytes {
                try SystemCalls.pread(source, into: $0, at: offset, path: path)
            }
            // A frame of another generation: the log was reset and written again since it was read,
            // so the frames counted are no longer all there. The copy would be torn: refused.
            guard word(frame, 8, bigEndian: true) == log.salts.0, word(frame, 12, bigEndian: true) == log.salts.1,
                got == frame.count
            else {
                throw SystemCallError(
                    call: "read", path: path, code: EAGAIN,
                    detail: "the log changed while it was read (another program is writing to the file): try again")
            }
            let page = Int64(word(frame, 0, bigEndian: true))
            offset += Int64(frame.count)
            guard page <= size else { continue }
            try frame.withUnsafeBytes { bytes in
                try SystemCalls.pwrite(
                    target, UnsafeRawBufferPointer(rebasing: bytes[frameHeaderSize...]),
                    at: (page - 1) * Int64(log.pageSize), path: database)
            }
        }
        try SystemCalls.ftruncate(target, to: size * Int64(log.pageSize), path: database)
        try SystemCalls.fsync(target, path: database)
        return log.committedFrames
    }

    private static func word<C: RandomAccessCollection>(_ bytes: C, _ offset: Int, bigEndian: Bool) -> UInt32
    where C.Element == UInt8, C.Index == Int {
        let start = bytes.startIndex + offset
        let b0 = UInt32(bytes[start])
        let b1 = UInt32(bytes[start + 1])
        let b2 = UInt32(bytes[start + 2])
        let b3 = UInt32(bytes[start + 3])
        return bigEndian ? b0 << 24 | b1 << 16 | b2 << 8 | b3 : b3 << 24 | b2 << 16 | b1 << 8 | b0
    }

    /// SQLite's WAL checksum over `bytes` (a multiple of 8 long), continuing from `seed`.
    static func checksum<C: RandomAccessCollection>(_ bytes: C, bigEndian: Bool, seed: (UInt32, UInt32)) -> (
        UInt32, UInt32
    )
    where C.Element == UInt8, C.Index == Int {
        var (s0, s1) = seed
        var index = bytes.startIndex
        while index + 8 <= bytes.endIndex {
            let x0 = word(bytes, index - bytes.startIndex, bigEndian: bigEndian)
            let x1 = word(bytes, index - bytes.startIndex + 4, bigEndian: bigEndian)
            s0 = s0 &+ x0 &+ s1
            s1 = s1 &+ x1 &+ s0
            index += 8
        }
        return (s0, s1)
    }
}
