import Foundation
import GRDB

/// A file read page by page with `pread`; owns its descriptor.
final class PageFile {
    private let descriptor: Int32
    let pageSize: Int
    /// Bytes of a page that hold content (the page size less the reserved bytes).
    let usable: Int
    let pageCount: Int

    init(path: String) throws {
        let header = try FileHeader.read(path: path)
        guard let descriptor = try? SystemCalls.open(path, O_RDONLY) else {
            throw CompanyFileError.unreadable(path: path)
        }
        self.descriptor = descriptor
        // A wrecked header may give any page size: one SQLite cannot have is
        // taken for its default, 4096, the size of nearly every company file.
        let size = header.pageSize
        pageSize = (512...65_536).contains(size) && size & (size - 1) == 0 ? size : 4096
        var first = [UInt8](repeating: 0, count: 100)
        _ = try? first.withUnsafeMutableBytes { try SystemCalls.pread(descriptor, into: $0, at: 0, path: path) }
        // SQLite needs at least 480 usable bytes a page; more reserved bytes than that are damage.
        let reserved = Int(first[20])
        usable = pageSize - reserved >= 480 ? pageSize - reserved : pageSize
        pageCount = Int(header.fileSize / Int64(pageSize))
    }

    deinit {
        SystemCalls.close(descriptor)
    }

    /// Page `number` (1-based), or nil past the end of the file.
    func page(_ number: Int) -> [UInt8]? {
        guard number >= 1, number <= pageCount else { return nil }
        var bytes = [UInt8](repeating: 0, count: pageSize)
        let count = try? bytes.withUnsafeMutableBytes {
            try SystemCalls.pread(descriptor, into: $0, at: Int64(number - 1) * Int64(pageSize), path: "")
        }
        return count == pageSize ? bytes : nil
    }

    /// The pages on the freelist, as far as its trunk pages can be read, and
    /// whether it can be believed: its chain ends, every page it names lies
    /// in the file (past page 1) and is named once, no trunk claims more
    /// leaves than it has room for, and it holds as many pages as the header
    /// says. A trunk of garbage fails this, though the numbers it gives may
    /// outnumber the header's count.
    /// Walked once: the file is a copy no one writes while it is read page by page.
    func freelistRead() -> (pages: Set<Int>, sound: Bool) {
        if let walked = freelistWalked { return walked }
        let walked = walkFreelist()
        freelistWalked = walked
        return walked
    }

    /// The freelist as `freelistRead` found it, once it has.
    private var freelistWalked: (pages: Set<Int>, sound: Bool)?

    private func walkFreelist() -> (pages: Set<Int>, sound: Bool) {
        guard let first = page(1) else { return ([], false) }
        var free: Set<Int> = []
        var named = 0
        var sound = true
        func name(_ number: Int) {
            named += 1
            if number < 2 || number > pageCount || !free.insert(number).inserted { sound = false }
        }
        var trunk = Int(Self.uint32(first, 32))
        var seen: Set<Int> = []
        while trunk != 0, seen.insert(trunk).inserted {
            name(trunk)
            guard let bytes = page(trunk) else {
                sound = false
                break
            }
            let claimed = Int(Self.uint32(bytes, 4))
            if claimed > (usable - 8) / 4 { sound = false }
            for index in 0..<min(claimed, (usable - 8) / 4) { name(Int(Self.uint32(bytes, 8 + 4 * index))) }
            trunk = Int(Self.uint32(bytes, 0))
        }
        if trunk != 0 { sound = false }
        return (free, sound && named == Int(Self.uint32(first, 36)))
    }

    /// The pages on the freelist, as far as its trunk pages can be read.
    func freelist() -> Set<Int> {
        freelistRead().pages
    }

    /// Name and root page of every table `sqlite_master` still lists.
    func tableRoots() -> [(String, Int)] {
        var roots: [(String, Int)] = []
        for number in leaves(from: 1, skipping: []) {
            guard let bytes = page(number), let rows = rows(ofLeaf: bytes, headerAt: number == 1 ? 100 : 0) else {
                continue
            }
            for row in rows where row.values.count == 5 {
                guard case .string("table") = row.values[0].storage, case .string(let name) = row.values[1].storage,
                    case .int64(let root) = row.values[3].storage
                else { continue }
                roots.append((name, Int(root)))
            }
        }
        return roots
    }

    /// The leaf pages of the table b-tree rooted at `root`, left to right, as
    /// far as its interior pages can be read.
    func leaves(from root: Int, skipping free: Set<Int>) -> [Int] {
        var leaves: [Int] = []
        var stack = [root]
        var seen: Set<Int> = []
        while let number = stack.popLast() {
            guard !free.contains(number), seen.insert(number).inserted, let bytes = page(number) else { continue }
            let header = number == 1 ? 100 : 0
            switch bytes[header] {
            case 0x0D:
                leaves.append(number)
            case 0x05:
                let count = Int(Self.uint16(bytes, header + 3))
                guard header + 12 + 2 * count <= bytes.count else { continue }
                var children: [Int] = []
                for index in 0..<count {
                    let offset = Int(Self.uint16(bytes, header + 12 + 2 * index))
                    guard offset + 4 <= bytes.count else { continue }
                    children.append(Int(Self.uint32(bytes, offset)))
                }
                children.append(Int(Self.uint32(bytes, header + 8)))
                stack.append(contentsOf: children.reversed())
            default:
                continue
            }
        }
        return leaves
    }

    /// The rowid ranges of the table b-tree rooted at `root` that lie on pages
    /// which cannot be read (past the end of a cut file, or not b-tree pages),
    /// bounded by the keys of the interior pages that lead to them. Empty when
    /// every page the b-tree leads to is there.
    func unreadable(from root: Int, skipping free: Set<Int>) -> [ClosedRange<Int64>] {
        var gaps: [ClosedRange<Int64>] = []
        var stack: [(page: Int, range: ClosedRange<Int64>)] = [(root, Int64.min...Int64.max)]
        var seen: Set<Int> = []
        while let (number, range) = stack.popLast() {
            guard !free.contains(number), seen.insert(number).inserted, let bytes = page(number) else {
                gaps.append(range)
                continue
            }
            let header = number == 1 ? 100 : 0
            switch bytes[header] {
            case 0x0D:
                continue
            case 0x05:
                let count = Int(Self.uint16(bytes, header + 3))
                guard header + 12 + 2 * count <= bytes.count else {
                    gaps.append(range)
                    continue
                }
                var low = range.lowerBound
                for index in 0..<count {
                    var offset = Int(Self.uint16(bytes, header + 12 + 2 * index))
                    guard offset + 4 <= bytes.count else { continue }
                    let child = Int(Self.uint32(bytes, offset))
                    offset += 4
                    guard let key = Self.varint(bytes, &offset), key >= low, key <= range.upperBound else {
                        gaps.append(range)
                        break
                    }
                    stack.append((child, low...key))
                    guard key < Int64.max else { break }
                    low = key + 1
                }
                if low <= range.upperBound {
                    stack.append((Int(Self.uint32(bytes, header + 8)), low...range.upperBound))
                }
            default:
                gaps.append(range)
            }
        }
        return gaps.sorted { $0.lowerBound < $1.lowerBound }
    }

    /// The leaf pages of the table b-tree rooted at `root` with the rowids each
    /// may hold, as the keys of the interior pages above it bound them, in rowid
    /// order. A leaf is bounded by those keys whatever its own cells say, so a
    /// damaged leaf still has its true range. Leaves under an interior page that
    /// cannot be read, or whose keys are out of order, are left out.
    /// - Parameter unreadable: whether a page whose type byte is no b-tree
    ///   page's (a header lost) is given too, as a leaf of its place.
    func leafKeys(
        from root: Int, skipping free: Set<Int>, unreadable: Bool = false
    ) -> [(page: Int, keys: ClosedRange<Int64>)] {
        var leaves: [(page: Int, keys: ClosedRange<Int64>)] = []
        var stack: [(page: Int, range: ClosedRange<Int64>)] = [(root, Int64.min...Int64.max)]
        var seen: Set<Int> = []
        while let (number, range) = stack.popLast() {
            guard !free.contains(number), seen.insert(number).inserted, let bytes = page(number) else { continue }
            let header = number == 1 ? 100 : 0
            switch bytes[header] {
            case 0x0D:
                leaves.append((number, range))
            case 0x05:
                let count = Int(Self.uint16(bytes, header + 3))
                guard header + 12 + 2 * count <= bytes.count else { continue }
                var children: [(page: Int, range: ClosedRange<Int64>)] = []
                var low = range.lowerBound
                var ordered = true
                for index in 0..<count {
                    var offset = Int(Self.uint16(bytes, header + 12 + 2 * index))
                    guard offset + 4 <= bytes.count else {
                        ordered = false
                        break
                    }
                    let child = Int(Self.uint32(bytes, offset))
                    offset += 4
                    guard let key = Self.varint(bytes, &offset), key >= low, key <= range.upperBound else {
                        ordered = false
                        break
                    }
                    children.append((child, low...key))
                    guard key < Int64.max else { break }
                    low = key + 1
                }
                guard ordered else { continue }
                if low <= range.upperBound, children.last?.range.upperBound != Int64.max {
                    children.append((Int(Self.uint32(bytes, header + 8)), low...range.upperBound))
                }
                stack.append(contentsOf: children.reversed())
            case 0x02, 0x0A:
                continue
            default:
                if unreadable { leaves.append((number, range)) }
            }
        }
        return leaves
    }

    /// The rows of a table leaf page; nil when its header makes no sense. Cells
    /// that cannot be decoded are left out.
    func rows(ofLeaf bytes: [UInt8], headerAt header: Int = 0) -> [(rowid: Int64, values: [DatabaseValue])]? {
        guard bytes.count > header + 8, bytes[header] == 0x0D else { return nil }
        let count = Int(Self.uint16(bytes, header + 3))
        guard header + 8 + 2 * count <= usable else { return nil }
        var rows: [(rowid: Int64, values: [DatabaseValue])] = []
        for index in 0..<count {
            var offset = Int(Self.uint16(bytes, header + 8 + 2 * index))
            guard offset < usable,
                let size = Self.varint(bytes, &offset), let rowid = Self.varint(bytes, &offset),
                size >= 0, size < 1 << 30, let payload = payload(bytes, at: offset, size: Int(size)),
                let values = Self.record(payload)
            else { continue }
            rows.append((rowid, values))
        }
        return rows
    }

    /// The rowid of every cell of a table leaf page, whatever its payload
    /// holds; nil when the page is not a table leaf or its header makes no
    /// sense. A cell whose rowid cannot be decoded is left out.
    func rowids(ofLeaf bytes: [UInt8], headerAt header: Int = 0) -> [Int64]? {
        guard bytes.count > header + 8, bytes[header] == 0x0D else { return nil }
        let count = Int(Self.uint16(bytes, header + 3))
        guard header + 8 + 2 * count <= usable else { return nil }
        var rowids: [Int64] = []
        for index in 0..<count {
            var offset = Int(Self.uint16(bytes, header + 8 + 2 * index))
            guard offset < usable, Self.varint(bytes, &offset) != nil, let rowid = Self.varint(bytes, &offset) else {
                continue
            }
            rowids.append(rowid)
        }
        return rowids
    }

    /// The rows that the bytes of a table leaf whose header or cell pointers
    /// were lost still hold, found as `sqlite3_recover` finds them: at every
    /// offset, a cell (payload size, rowid, record) whose rowid lies in `keys`,
    /// whose record is exactly as long as its size says, and whose values
    /// `accept` takes. A cell found is stepped over whole. Such a row may be a
    /// deleted one or an older copy (a freed cell's bytes stay until reused).
    func scannedRows(
        of bytes: [UInt8], keys: ClosedRange<Int64>, accept: ([DatabaseValue]) -> Bool
    ) -> [(rowid: Int64, values: [DatabaseValue])] {
        var rows: [(rowid: Int64, values: [DatabaseValue])] = []
        var start = 0
        while start < usable {
            var offset = start
            start += 1
            guard let size = Self.varint(bytes, &offset), size >= 1, size <= 1 << 20,
                let rowid = Self.varint(bytes, &offset), keys.contains(rowid),
                // A record header on the page that gives another length: no cell, and no overflow
                // chain followed for it (crafted claims would make each candidate cost pages).
                Self.recordLength(bytes, at: offset, before: min(usable, offset + localSize(Int(size))))
                    .map({ $0 == size }) ?? true,
                let payload = payload(bytes, at: offset, size: Int(size)),
                let values = Self.record(payload, exact: true), accept(values)
            else { continue }
            rows.append((rowid, values))
            start = offset + localSize(Int(size))
        }
        return rows
    }

    /// How many bytes of a table leaf cell's payload of `size` lie on the page itself.
    private func localSize(_ size: Int) -> Int {
        let maxLocal = usable - 35
        guard size > maxLocal else { return size }
        let minLocal = (usable - 12) * 32 / 255 - 23
        let local = minLocal + (size - minLocal) % (usable - 4)
        return local > maxLocal ? minLocal : local
    }

    /// A cell's payload, following its overflow pages (SQLite's file format, §1.6).
    private func payload(_ bytes: [UInt8], at offset: Int, size: Int) -> [UInt8]? {
        let local = localSize(size)
        guard offset + local <= usable else { return nil }
        var payload = Array(bytes[offset..<offset + local])
        guard local < size else { return payload }
        guard offset + local + 4 <= usable else { return nil }
        var next = Int(Self.uint32(bytes, offset + local))
        var seen: Set<Int> = []
        while payload.count < size {
            guard next != 0, seen.insert(next).inserted, let overflow = page(next) else { return nil }
            let take = min(usable - 4, size - payload.count)
            payload += overflow[4..<4 + take]
            next = Int(Self.uint32(overflow, 0))
        }
        return payload
    }

    /// The values of a record (SQLite's record format, §2.1).
    /// - Parameter exact: whether bytes past the last value make it no record.
    static func record(_ payload: [UInt8], exact: Bool = false) -> [DatabaseValue]? {
        var offset = 0
        guard let headerSize = varint(payload, &offset), headerSize >= 1, Int(headerSize) <= payload.count else {
            return nil
        }
        var types: [Int64] = []
        while offset < Int(headerSize) {
            guard let type = varint(payload, &offset) else { return nil }
            types.append(type)
        }
        var position = Int(headerSize)
        var values: [DatabaseValue] = []
        for type in types {
            guard let width = valueWidth(type).map(Int.init), position + width <= payload.count else { return nil }
            let bytes = payload[position..<position + width]
            position += width
            switch type {
            case 0:
                values.append(.null)
            case 1...6:
                var value = Int64(Int8(bitPattern: bytes[bytes.startIndex]))
                for byte in bytes.dropFirst() { value = value << 8 | Int64(byte) }
                values.append(value.databaseValue)
            case 7:
                let bits = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                values.append(Double(bitPattern: bits).databaseValue)
            case 8:
                values.append(Int64(0).databaseValue)
            case 9:
                values.append(Int64(1).databaseValue)
            default:
                if type % 2 == 0 {
                    values.append(Data(bytes).databaseValue)
                } else {
                    guard let text = String(validating: Array(bytes), as: UTF8.self) else { return nil }
                    values.append(text.databaseValue)
                }
            }
        }
        return exact && position != payload.count ? nil : values
    }

    /// The length of the record whose header starts at `start`, as its header
    /// says (the header and every value's width): -1 when a serial type is
    /// none of SQLite's; nil when the header does not end before `end`.
    static func recordLength(_ bytes: [UInt8], at start: Int, before end: Int) -> Int64? {
        var offset = start
        guard let headerSize = varint(bytes, &offset), headerSize >= 1, headerSize <= end - start else { return nil }
        var length = headerSize
        while offset < start + Int(headerSize) {
            guard let type = varint(bytes, &offset) else { return nil }
            guard let width = valueWidth(type) else { return -1 }
            length += width
        }
        return offset == start + Int(headerSize) ? length : -1
    }

    /// How many bytes a value of serial `type` takes in a record (SQLite's
    /// record format, §2.1); nil for a type that is none of SQLite's (10, 11,
    /// negative) or that claims more than a terabyte.
    static func valueWidth(_ type: Int64) -> Int64? {
        switch type {
        case 0, 8, 9: return 0
        case 1...4: return type
        case 5: return 6
        case 6, 7: return 8
        case 12...(1 << 41): return (type - (type % 2 == 0 ? 12 : 13)) / 2
        default: return nil
        }
    }

    /// A big-endian variable-length integer of one to nine bytes.
    static func varint(_ bytes: [UInt8], _ offset: inout Int) -> Int64? {
        var value: UInt64 = 0
        for index in 0..<9 {
            guard offset < bytes.count else { return nil }
            let byte = bytes[offset]
            offset += 1
            if index == 8 { return Int64(bitPattern: value << 8 | UInt64(byte)) }
            value = value << 7 | UInt64(byte & 0x7F)
            if byte & 0x80 == 0 { return Int64(bitPattern: value) }
        }
        return nil
    }

    static func uint16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        guard offset + 2 <= bytes.count else { return 0 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    static func uint32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        guard offset + 4 <= bytes.count else { return 0 }
        return bytes[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }
}
