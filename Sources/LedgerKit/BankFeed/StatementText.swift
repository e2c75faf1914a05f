import Foundation

/// One pass over a statement's bytes, a piece at a time.
protocol StatementBytes: AnyObject {
    /// Up to `count` more bytes; empty once the statement has no more.
    /// - Throws: `StatementError.unreadable` when the bytes cannot be read.
    func read(upTo count: Int) throws -> [UInt8]
}

/// Where a statement's bytes come from: read a piece at a time, from the first
/// byte again for each pass, so that no reader holds the whole file.
struct StatementSource {
    /// The statement file's path, as messages name it.
    let path: String
    /// A new pass over the bytes, from the first.
    let open: () throws -> any StatementBytes

    /// The file at `path`.
    init(path: String) {
        self.path = path
        open = { try FileBytes(path: path) }
    }

    /// Bytes already in memory (tests, the fuzzer), named `path` in messages.
    init(data: Data, path: String) {
        self.path = path
        open = { DataBytes(data) }
    }

    /// Bytes from `open`, which the tests use to see how a reader reads.
    init(path: String, open: @escaping () throws -> any StatementBytes) {
        self.path = path
        self.open = open
    }

    /// The encoding, found by the first pass that needs it.
    private let found = Found()

    private final class Found {
        var encoding: (StatementEncoding, closers: Int)?
    }

    /// The characters of the statement, decoded as `statementText` decodes the whole file:
    /// the first call reads all the bytes once for their encoding.
    /// - Throws: `StatementError.unreadable`.
    func characters() throws -> StatementCharacters {
        let (encoding, closers) = try found.encoding ?? StatementEncoding.detect(try open(), path: path)
        found.encoding = (encoding, closers)
        return StatementCharacters(try open(), encoding: encoding, closers: closers)
    }
}

/// A statement file read through a `FileHandle`.
final class FileBytes: StatementBytes {
    private let handle: FileHandle
    private let path: String

    init(path: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue,
            let handle = FileHandle(forReadingAtPath: path)
        else { throw StatementError.unreadable(path: path) }
        self.handle = handle
        self.path = path
    }

    deinit { try? handle.close() }

    func read(upTo count: Int) throws -> [UInt8] {
        do {
            return [UInt8](try handle.read(upToCount: count) ?? Data())
        } catch {
            throw StatementError.unreadable(path: path)
        }
    }
}

/// Bytes held in memory.
final class DataBytes: StatementBytes {
    private let data: Data
    private var offset: Int

    init(_ data: Data) {
        self.data = data
        offset = data.startIndex
    }

    func read(upTo count: Int) throws -> [UInt8] {
        let end = min(data.endIndex, offset + count)
        defer { offset = end }
        return [UInt8](data[offset..<end])
    }
}

/// How a statement's bytes are text, found from all of them first (`statementText`).
enum StatementEncoding: Equatable {
    /// UTF-16 after its byte-order mark; `valid` is false when a surrogate is unpaired, which reads as no text.
    case utf16(bigEndian: Bool, valid: Bool)
    /// UTF-8, from byte `start` (past one or two byte-order marks).
    case utf8(start: Int)
    /// Windows-1252, every byte one character.
    case windows1252
    /// UTF-8 with each byte that is none replaced: bytes Windows-1252 does not define either.
    case lossyUTF8

    /// The encoding of all the bytes `bytes` gives, and how many '>' its text holds.
    static func detect(_ bytes: any StatementBytes, path: String) throws -> (StatementEncoding, closers: Int) {
        var head: [UInt8] = []
        var utf8 = UTF8Check()
        var afterMark = UTF8Check()
        var utf16 = UTF16Check()
        var windows1252 = true
        var closers = 0
        var total = 0
        while true {
            let piece = try bytes.read(upTo: StatementLimits.chunkBytes)
            if piece.isEmpty { break }
            if head.count < 6 { head += piece.prefix(6 - head.count) }
            piece.withUnsafeBufferPointer { buffer in
                for (index, byte) in buffer.enumerated() {
                    let position = total + index
                    if position >= 2 { utf16.add(byte) }
                    if position >= 3 { afterMark.add(byte) }
                    utf8.add(byte)
                    if byte == 0x3E { closers += 1 }
                    if byte == 0x81 || byte == 0x8D || byte == 0x8F || byte == 0x90 || byte == 0x9D {
                        windows1252 = false
                    }
                }
            }
            total += piece.count
        }
        for bigEndian in [false, true] where head.starts(with: bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]) {
            let valid = utf16.valid(bigEndian: bigEndian)
            return (.utf16(bigEndian: bigEndian, valid: valid), valid ? utf16.closers(bigEndian: bigEndian) : 0)
        }
        let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
        if head.starts(with: mark), afterMark.valid {
            // Foundation drops a second mark too, as the start of the UTF-8 it decodes.
            return (.utf8(start: head.dropFirst(3).starts(with: mark) ? 6 : 3), closers)
        }
        if utf8.valid { return (.utf8(start: 0), closers) }
        return (windows1252 ? .windows1252 : .lossyUTF8, closers)
    }
}

/// Whether bytes are UTF-8, a byte at a time.
private struct UTF8Check {
    private var needed = 0
    private var low: UInt8 = 0x80
    private var high: UInt8 = 0xBF
    private(set) var broken = false

    var valid: Bool { !broken && needed == 0 }

    mutating func add(_ byte: UInt8) {
        guard !broken else { return }
        if needed > 0 {
            guard byte >= low && byte <= high else {
                broken = true
                return
            }
            needed -= 1
            low = 0x80
            high = 0xBF
            return
        }
        switch byte {
        case 0x00...0x7F: break
        case 0xC2...0xDF: needed = 1
        case 0xE0: (needed, low) = (2, 0xA0)
        case 0xE1...0xEC, 0xEE...0xEF: needed = 2
        case 0xED: (needed, high) = (2, 0x9F)
        case 0xF0: (needed, low) = (3, 0x90)
        case 0xF1...0xF3: needed = 3
        case 0xF4: (needed, high) = (3, 0x8F)
        default: broken = true
        }
    }
}

/// Whether bytes are UTF-16 with every surrogate paired, both ways round, a byte at a time.
private struct UTF16Check {
    private var odd: UInt8?
    private var little = Pairing()
    private var big = Pairing()

    struct Pairing {
        var awaitingLow = false
        var broken = false
        var closers = 0

        mutating func add(_ unit: UInt16) {
            if unit == 0x3E { closers += 1 }
            guard !broken else { return }
            let isHigh = (0xD800...0xDBFF).contains(unit)
            let isLow = (0xDC00...0xDFFF).contains(unit)
            if awaitingLow {
                if isLow { awaitingLow = false } else { broken = true }
            } else if isHigh {
                awaitingLow = true
            } else if isLow {
                broken = true
            }
        }
    }

    mutating func add(_ byte: UInt8) {
        guard let first = odd else {
            odd = byte
            return
        }
        odd = nil
        little.add(UInt16(first) | UInt16(byte) << 8)
        big.add(UInt16(first) << 8 | UInt16(byte))
    }

    func closers(bigEndian: Bool) -> Int { bigEndian ? big.closers : little.closers }

    func valid(bigEndian: Bool) -> Bool {
        let pairing = bigEndian ? big : little
        return !pairing.broken && !pairing.awaitingLow
    }
}

/// The characters of a statement, decoded a piece at a time: each piece ends
/// between two ASCII characters (never a carriage return and its line feed),
/// where no character can continue, so the pieces give the characters the
/// whole text gives. A NUL, which would end the text where SQLite stores it,
/// is a space. Holds at most `StatementLimits.carryBytes` and a piece.
final class StatementCharacters {
    /// How many '>' the whole text holds.
    let closers: Int
    /// Sees each character the first time it is read (not again when given back).
    var watch: ((Character) -> Void)?
    private let bytes: any StatementBytes
    private let encoding: StatementEncoding
    private var carry: [UInt8] = []
    private var skip: Int
    private var ended = false
    private var piece = ""
    private var index: String.Index
    /// Characters read ahead and given back, the next one last.
    private var returned: [Character] = []
    /// The most bytes held at once waiting to be decoded.
    private(set) var mostHeld = 0

    init(_ bytes: any StatementBytes, encoding: StatementEncoding, closers: Int = 0) {
        self.bytes = bytes
        self.closers = closers
        self.encoding = encoding
        switch encoding {
        case .utf16(_, let valid):
            skip = 2
            // Foundation reads no text at all from UTF-16 with an unpaired surrogate.
            ended = !valid
        case .utf8(let start): skip = start
        case .windows1252, .lossyUTF8: skip = 0
        }
        index = piece.endIndex
    }

    /// The next character, nil at the end of the text.
    func next() throws -> Character? {
        if let character = returned.popLast() { return character }
        while index == piece.endIndex {
            guard let more = try nextPiece() else { return nil }
            piece = more
            index = piece.startIndex
        }
        let character = piece[index]
        piece.formIndex(after: &index)
        watch?(character)
        return character
    }

    /// Gives `characters` back, to be read again before any other, in their order.
    func giveBack<C: BidirectionalCollection>(_ characters: C) where C.Element == Character {
        returned.append(contentsOf: characters.reversed())
    }

    /// The next piece of text, nil when there is no more.
    private func nextPiece() throws -> String? {
        while !ended {
            let read = try bytes.read(upTo: StatementLimits.chunkBytes)
            if read.isEmpty {
                ended = true
                break
            }
            carry += read
            mostHeld = max(mostHeld, carry.count)
            if skip > 0 {
                let dropped = min(skip, carry.count)
                carry.removeFirst(dropped)
                skip -= dropped
            }
            if let cut = cut(force: carry.count >= StatementLimits.carryBytes), cut > 0 {
                let text = decode(carry[..<cut])
                carry.removeFirst(cut)
                return text
            }
        }
        guard !carry.isEmpty else { return nil }
        if case .utf16 = encoding, carry.count % 2 == 1 { carry.removeLast() }
        defer { carry = [] }
        return decode(carry[...])
    }

    /// Where to end the next piece in `carry`: between two ASCII characters, else (when
    /// `force`, the carry being full) at any character's start; nil for not yet.
    private func cut(force: Bool) -> Int? {
        if case .utf16 = encoding {
            let units = carry.count / 2
            func unit(_ number: Int) -> UInt16 {
                guard case .utf16(true, _) = encoding else {
                    return UInt16(carry[2 * number]) | UInt16(carry[2 * number + 1]) << 8
                }
                return UInt16(carry[2 * number]) << 8 | UInt16(carry[2 * number + 1])
            }
            var number = units - 1
            while number >= 1 {
                let before = unit(number - 1)
                let after = unit(number)
                if before < 0x80 && after < 0x80 && !(before == 0x0D && after == 0x0A) { return 2 * number }
                number -= 1
            }
            guard force else { return nil }
            number = units - 1
            while number >= 1 && (0xDC00...0xDFFF).contains(unit(number)) { number -= 1 }
            return number >= 1 ? 2 * number : 2 * units
        }
        var position = carry.count - 1
        while position >= 1 {
            let before = carry[position - 1]
            let after = carry[position]
            if before < 0x80 && after < 0x80 && !(before == 0x0D && after == 0x0A) { return position }
            position -= 1
        }
        guard force else { return nil }
        position = carry.count - 1
        if encoding != .windows1252 {
            while position >= 1 && carry[position] & 0xC0 == 0x80 { position -= 1 }
        }
        // Nothing but continuation bytes: each reads as a replacement character however it is cut.
        return position >= 1 ? position : carry.count
    }

    private func decode(_ slice: ArraySlice<UInt8>) -> String {
        switch encoding {
        case .utf16(let bigEndian, _):
            var units: [UInt16] = []
            units.reserveCapacity(slice.count / 2)
            var position = slice.startIndex
            while position + 1 < slice.endIndex {
                let first = UInt16(slice[position])
                let second = UInt16(slice[position + 1])
                let unit = bigEndian ? first << 8 | second : first | second << 8
                units.append(unit == 0 ? 0x20 : unit)
                position += 2
            }
            return String(decoding: units, as: UTF16.self)
        case .utf8, .lossyUTF8:
            return String(decoding: slice.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        case .windows1252:
            let bytes = slice.map { $0 == 0 ? 0x20 : $0 }
            return String(bytes: bytes, encoding: .windowsCP1252) ?? String(decoding: bytes, as: UTF8.self)
        }
    }
}
