import Foundation

/// Reads a page table's JSON (docs/incremental.md) piece by piece as it is
/// inflated, so that its text is never held whole, and refuses it as soon as
/// it holds more than the pages its manifest gives could need: a run longer
/// than the pages left, a length past its run's count, page hashes past 16
/// bytes a page. What it keeps is what the table itself spells out, never a
/// count it claims: a table of a few hundred KB that inflates to hundreds of MB
/// of one repeated hash is refused at 16 bytes a page, not decoded.
///
/// It reads what `JSONEncoder` writes for `IncrementalTable`: one object of
/// the keys `version`, `packs`, `runs` and `hashes` (each at most once, in any
/// order, with whitespace and string escapes), integers without fraction or
/// exponent. Anything else is damage.
struct IncrementalTableReader {
    /// What the caller needs beside the pack names.
    enum Keep {
        /// The runs and page hashes too, for a restore.
        case everything
        /// Only the pack names, for a prune or a dedupe index: the runs and
        /// hashes are checked as they pass, and dropped.
        case packs
    }

    private let pageCount: Int
    private let keep: Keep
    /// The most base64 characters of page hashes the pages can need.
    private let hashCharacters: Int

    private var version: Int??
    private var packs: [String]?
    private var runs: PageRuns?
    /// The hashes' characters as read (kept only for `.everything`), nil until the key is read.
    private var hashes: [UInt8]??
    /// Pages the runs read so far cover.
    private var covered = 0
    /// The run being read: its first four numbers (its lengths go straight
    /// into `runs`, only for `.everything`), how many numbers it has had, and
    /// where its blobs end (version 1).
    private var run: [Int] = []
    private var runNumbers = 0
    private var runEnd = 0
    /// The highest pack number a run gives, and whether runs of each version's shape were read.
    private var largestPack = -1
    private var rangeRuns = false
    private var blobRuns = false
    /// Characters of the hashes string read so far.
    private var hashCount = 0
    /// The key or pack name being read: short, or damage.
    private var text: [UInt8] = []

    /// Bytes read so far.
    private(set) var bytesRead = 0

    private enum Field { case version, packs, runs, hashes }

    private enum State {
        case start, keyOrEnd, key, colon, value, afterValue
        case packsFirst, packsNext, runsFirst, runsNext, runFirst, runNext
        case end
    }

    /// A token being read across pieces.
    private enum Token {
        case none
        case string
        case hashString
        case escape(inHashes: Bool, unicode: [UInt8]?)
        case number(negative: Bool, value: Int, digits: Int)
        case null(matched: Int)
    }

    private var state = State.start
    private var token = Token.none
    private var field: Field?
    private var seen: Set<Field> = []
    /// A "," was read in a list: an item must follow, not its end.
    private var itemDue = false

    /// - Parameter pageCount: the pages the manifest gives (checked against the runs as they come).
    init(pageCount: Int, keep: Keep) {
        self.pageCount = max(0, pageCount)
        self.keep = keep
        let (bytes, overflow) = self.pageCount.multipliedReportingOverflow(by: IncrementalTable.hashBytes)
        hashCharacters = overflow ? Int.max : (bytes + 2) / 3 * 4
    }

    private static let notJSON = BackupError.damagedSnapshot("its page table is not the JSON it should be")
    private static let badRun = BackupError.damagedSnapshot("a run of its page table does not add up")
    private static let badName = BackupError.damagedSnapshot("its page table names a pack wrongly")
    private static let badHashes = BackupError.damagedSnapshot("its page hashes do not add up")

    /// Reads the next piece of the table's text.
    /// - Throws: `BackupError.damagedSnapshot` as soon as the text is not a
    ///   page table's, or holds more than its pages could need.
    mutating func read(_ piece: UnsafeRawBufferPointer) throws {
        bytesRead += piece.count
        for byte in piece { try step(byte) }
    }

    /// The table read, once its text has ended.
    /// - Throws: `BackupError.damagedSnapshot` when the text ended before the table did.
    mutating func finish() throws -> IncrementalTable {
        try step(0x20)
        guard case .end = state, let packs, seen.contains(.runs) else { throw Self.notJSON }
        // No SQLite file has more pages than 2^32 - 2.
        guard pageCount <= Int(UInt32.max) else { throw BackupError.damagedSnapshot("its page table does not add up") }
        let version = version ?? nil
        guard version == nil || version == 1 || version == 2 else {
            throw BackupError.damagedSnapshot("its page table has a version this ledger does not read")
        }
        guard version == 2 ? !rangeRuns : !blobRuns else { throw Self.badRun }
        if version != 2 {
            guard case .some(.some) = hashes, hashCount == hashCharacters else { throw Self.badHashes }
        }
        guard largestPack < packs.count, Set(packs).count == packs.count else { throw Self.badName }
        guard covered == pageCount else { throw BackupError.damagedSnapshot("its page table misses pages") }
        let runs = self.runs ?? PageRuns()
        let hashes = keep == .everything ? (self.hashes ?? nil).map { String(decoding: $0, as: UTF8.self) } : nil
        return IncrementalTable(version: version, packs: packs, runs: runs, hashes: hashes)
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private mutating func step(_ byte: UInt8) throws {
        switch token {
        case .none:
            try structural(byte)
        case .string:
            if byte == UInt8(ascii: "\"") {
                token = .none
                try endedString()
            } else if byte == UInt8(ascii: "\\") {
                token = .escape(inHashes: false, unicode: nil)
            } else {
                try append(byte)
            }
        case .hashString:
            if byte == UInt8(ascii: "\"") {
                token = .none
                state = .afterValue
            } else if byte == UInt8(ascii: "\\") {
                token = .escape(inHashes: true, unicode: nil)
            } else {
                try hashCharacter(byte)
            }
        case .escape(let inHashes, let unicode):
            guard let decoded = try escaped(byte, inHashes: inHashes, unicode: unicode) else { return }
            token = inHashes ? .hashString : .string
            try inHashes ? hashCharacter(decoded) : append(decoded)
        case .number(let negative, let value, let digits):
            if byte >= 0x30 && byte <= 0x39 {
                let (times, overflow) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflowAgain) = times.addingReportingOverflow(Int(byte - 0x30))
                // As JSONDecoder: no integer past Int, no leading zero.
                guard !overflow, !overflowAgain, !(digits == 1 && value == 0) else { throw Self.notJSON }
                token = .number(negative: negative, value: sum, digits: digits + 1)
                return
            }
            token = .none
            guard digits > 0 else { throw Self.notJSON }
            try ended(number: negative ? -value : value)
            try structural(byte)
        case .null(let matched):
            let null = Array("null".utf8)
            guard byte == null[matched] else { throw Self.notJSON }
            guard matched + 1 == null.count else {
                token = .null(matched: matched + 1)
                return
            }
            token = .none
            try endedNull()
        }
    }

    /// The character an escape stands for, or nil while a `\u` escape is still being read.
    private mutating func escaped(_ byte: UInt8, inHashes: Bool, unicode: [UInt8]?) throws -> UInt8? {
        if var unicode {
            guard let digit = Self.hexDigit(byte) else { throw Self.notJSON }
            unicode.append(digit)
            guard unicode.count == 4 else {
                token = .escape(inHashes: inHashes, unicode: unicode)
                return nil
            }
            // Nothing a page table holds is outside ASCII.
            guard unicode[0] == 0, unicode[1] == 0, unicode[2] < 8 else { throw Self.notJSON }
            return unicode[2] << 4 | unicode[3]
        }
        if byte == UInt8(ascii: "u") {
            token = .escape(inHashes: inHashes, unicode: [])
            return nil
        }
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return byte
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        default: throw Self.notJSON
        }
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x61...0x66: return byte - 0x61 + 10
        case 0x41...0x46: return byte - 0x41 + 10
        default: return nil
        }
    }

    /// A character of a key or a pack name: 64 at most, the length of a pack's name.
    private mutating func append(_ byte: UInt8) throws {
        guard text.count < 64 else { throw Self.badName }
        text.append(byte)
    }

    /// A character of the page hashes: no more than the pages need.
    private mutating func hashCharacter(_ byte: UInt8) throws {
        hashCount += 1
        guard hashCount <= hashCharacters, byte >= 0x20, byte < 0x7F else { throw Self.badHashes }
        if keep == .everything { hashes??.append(byte) }
    }

    private mutating func structural(_ byte: UInt8) throws {
        if Self.isSpace(byte) { return }
        switch state {
        case .start:
            guard byte == UInt8(ascii: "{") else { throw Self.notJSON }
            state = .keyOrEnd
        case .keyOrEnd, .key:
            if case .keyOrEnd = state, byte == UInt8(ascii: "}") {
                state = .end
                return
            }
            guard byte == UInt8(ascii: "\"") else { throw Self.notJSON }
            text = []
            token = .string
            state = .colon
            field = nil
        case .colon:
            guard byte == UInt8(ascii: ":"), field != nil else { throw Self.notJSON }
            state = .value
        case .value:
            try value(byte)
        case .afterValue:
            if byte == UInt8(ascii: ",") {
                state = .key
                return
            }
            guard byte == UInt8(ascii: "}") else { throw Self.notJSON }
            state = .end
        case .packsFirst, .packsNext:
            if try listPunctuation(byte, afterItem: state == .packsNext, next: .packsFirst) { return }
            guard byte == UInt8(ascii: "\"") else { throw Self.badName }
            text = []
            token = .string
        case .runsFirst, .runsNext:
            if try listPunctuation(byte, afterItem: state == .runsNext, next: .runsFirst) { return }
            guard byte == UInt8(ascii: "[") else { throw Self.badRun }
            run = []
            runNumbers = 0
            state = .runFirst
        case .runFirst, .runNext:
            if byte == UInt8(ascii: "]") {
                guard !itemDue else { throw Self.notJSON }
                return try endedRun()
            }
            if case .runNext = state {
                guard byte == UInt8(ascii: ",") else { throw Self.badRun }
                state = .runFirst
                itemDue = true
                return
            }
            itemDue = false
            try startNumber(byte)
        case .end:
            throw Self.notJSON
        }
    }

    /// In the list of packs or of runs: a "]" ends it (never right after a ","),
    /// and after an item a "," leads to the next (`next`, the state before an
    /// item). True when `byte` was one of those; false when an item begins at it.
    private mutating func listPunctuation(_ byte: UInt8, afterItem: Bool, next: State) throws -> Bool {
        if byte == UInt8(ascii: "]") {
            guard !itemDue else { throw Self.notJSON }
            state = .afterValue
            return true
        }
        guard afterItem else {
            itemDue = false
            return false
        }
        guard byte == UInt8(ascii: ",") else { throw Self.notJSON }
        state = next
        itemDue = true
        return true
    }

    private mutating func startNumber(_ byte: UInt8) throws {
        if byte == UInt8(ascii: "-") {
            token = .number(negative: true, value: 0, digits: 0)
            return
        }
        guard byte >= 0x30, byte <= 0x39 else { throw Self.notJSON }
        token = .number(negative: false, value: Int(byte - 0x30), digits: 1)
    }

    private mutating func value(_ byte: UInt8) throws {
        switch field {
        case .version?:
            if byte == UInt8(ascii: "n") {
                token = .null(matched: 1)
                return
            }
            try startNumber(byte)
        case .hashes?:
            if byte == UInt8(ascii: "n") {
                token = .null(matched: 1)
                return
            }
            guard byte == UInt8(ascii: "\"") else { throw Self.badHashes }
            hashes = .some([])
            token = .hashString
        case .packs?:
            guard byte == UInt8(ascii: "[") else { throw Self.badName }
            packs = []
            state = .packsFirst
        case .runs?:
            guard byte == UInt8(ascii: "[") else { throw Self.badRun }
            if keep == .everything { runs = PageRuns() }
            state = .runsFirst
        case nil:
            throw Self.notJSON
        }
    }

    private mutating func endedString() throws {
        let name = String(decoding: text, as: UTF8.self)
        switch state {
        case .colon:
            let fields: [String: Field] = ["version": .version, "packs": .packs, "runs": .runs, "hashes": .hashes]
            guard let known = fields[name], seen.insert(known).inserted else { throw Self.notJSON }
            field = known
        case .packsFirst:
            // A name becomes an object's name: nothing but a pack's name may reach the store.
            guard PackIndex.isPackName(name) else { throw Self.badName }
            packs?.append(name)
            state = .packsNext
        default:
            throw Self.notJSON
        }
    }

    private mutating func ended(number: Int) throws {
        switch state {
        case .value:
            version = .some(number)
            state = .afterValue
        case .runFirst:
            // The first page and the count lead a run of either version: a count
            // past the pages left is refused before any length is read, and a
            // length past the count (version 1 gives one a page) as it comes.
            switch runNumbers {
            case 0: guard number >= 1, number - 1 == covered else { throw Self.badRun }
            case 1: guard number >= 1, number <= pageCount - covered else { throw Self.badRun }
            // Runs are kept flat, in 32 bits a number (a pack is read whole only up to 64 MiB).
            case 2: guard number >= 0, number <= Int(UInt32.max) else { throw Self.badRun }
            case 3:
                guard number >= 0, number <= Int(UInt32.max) else { throw Self.badRun }
                runEnd = number
            default:
                guard runNumbers - 4 < run[1], number > 0, number <= IncrementalTable.largestBlob,
                    runEnd <= Int.max - number
                else { throw Self.badRun }
                runEnd += number
            }
            if runNumbers < 4 {
                run.append(number)
            } else {
                runs?.appendLength(number)
            }
            runNumbers += 1
            state = .runNext
        default:
            throw Self.notJSON
        }
    }

    private mutating func endedRun() throws {
        guard runNumbers >= 4 else { throw Self.badRun }
        if runNumbers == 4 {
            // Blob numbers stay below any count a pack index can give (2^32).
            guard run[3] <= Int(UInt32.max) - run[1] else { throw Self.badRun }
            blobRuns = true
        } else {
            guard runNumbers - 4 == run[1] else { throw Self.badRun }
            rangeRuns = true
        }
        largestPack = max(largestPack, run[2])
        covered += run[1]
        runs?.appendHead(first: run[0], count: run[1], pack: run[2], start: run[3], ranges: runNumbers > 4)
        // Pages past 2^32 - 2 are no SQLite file's.
        guard runs?.isSound ?? true else { throw Self.badRun }
        state = .runsNext
    }

    private mutating func endedNull() throws {
        switch field {
        case .version?: version = .some(nil)
        case .hashes?: hashes = .some(nil)
        default: throw Self.notJSON
        }
        state = .afterValue
    }
}
