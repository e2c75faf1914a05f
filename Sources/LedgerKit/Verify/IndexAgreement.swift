import Foundation
import GRDB
import GRDBSQLite

/// What `PRAGMA integrity_check(TABLE)` adds to `quick_check(TABLE)`, proven
/// by reading in order instead of searching: each index of the table holds
/// exactly the table's rows (its entries, as (key values, rowid) pairs, are the
/// rows' own, as many and the same), its entries are in key order, and a
/// UNIQUE index holds no key twice.
///
/// SQLite's check searches every index for every row; on the 1,000,000
/// transaction sample that is 8.4 s against 3.1 s for `quick_check`. One scan
/// of the table and one of each index (covering, so the values are the
/// index's own) take under 1.5 s. Each side is summed as a multiset: the sum,
/// modulo 2⁶⁴, of a keyed hash of every pair (keys drawn at random for each
/// run), and the count.
///
/// The check only ever says "agrees" or "cannot tell": whenever it cannot tell
/// (an index on an expression, a partial index, a collation other than
/// BINARY, a table without rowids, a scan SQLite would not make from the
/// index alone, a read that fails, anything that differs), the caller runs
/// SQLite's own `integrity_check` of the table, whose findings are the answer.
enum IndexAgreement {
    /// One index of the table, as this check reads it.
    struct Index: Equatable, Sendable {
        let name: String
        /// The key columns, in index order.
        let columns: [String]
        /// Whether each key column sorts descending.
        let descending: [Bool]
        let unique: Bool
    }

    /// A multiset of (key values, rowid) pairs: how many, and the sum of their hashes.
    struct Multiset: Equatable, Sendable {
        var count = 0
        var sum: UInt64 = 0
    }

    /// What a table's indexes hold, as read from their entries: the half of
    /// the check that needs no read of the table.
    struct Entries: Sendable {
        let table: String
        let indexes: [Index]
        let sets: [Multiset]
    }

    /// Whether the indexes' entries are the rows' own: true, or nil when this
    /// check cannot tell (`rows` is nil, or read other indexes, or anything differs).
    static func holds(_ entries: Entries, rows: TableSide?) -> Bool? {
        if entries.indexes.isEmpty { return true }
        guard let rows, rows.table == entries.table, rows.indexes == entries.indexes, rows.sets == entries.sets
        else { return nil }
        return true
    }

    /// Each index's entries of `table`, read in order (each in key order, no
    /// key twice in a UNIQUE index), or nil when this check cannot tell.
    static func entries(_ db: Database, table: String) -> Entries? {
        do {
            guard let indexes = try indexes(db, table: table) else { return nil }
            var sets: [Multiset] = []
            for (number, index) in indexes.enumerated() {
                guard let set = try indexSide(db, table: table, index: index, number: number) else { return nil }
                sets.append(set)
            }
            return Entries(table: table, indexes: indexes, sets: sets)
        } catch {
            return nil
        }
    }

    /// The rows' side of `entries`' indexes, from a scan of the table of its
    /// own; nil when it cannot be read.
    static func rows(_ db: Database, entries: Entries) -> TableSide? {
        var names: [String] = []
        for index in entries.indexes {
            for column in index.columns where !names.contains(column) { names.append(column) }
        }
        guard !names.isEmpty,
            var side = TableSide(table: entries.table, indexes: entries.indexes, columns: names),
            let rows = try? RawRows(
                db,
                sql:
                    "SELECT \(names.map(quoted).joined(separator: ", ")), rowid FROM \(quoted(entries.table)) NOT INDEXED"
            )
        else { return nil }
        do {
            while try rows.next() { side.add(rows) }
        } catch {
            return nil
        }
        return side
    }

    private static func quoted(_ name: String) -> String {
        Quoting.sqlIdentifier(name)
    }

    /// The table's indexes, or nil when one is outside what this check reads.
    static func indexes(_ db: Database, table: String) throws -> [Index]? {
        // BINARY is bytewise on UTF-8 only.
        guard try String.fetchOne(db, sql: "PRAGMA encoding") == "UTF-8" else { return nil }
        let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(\(quoted(table)))").compactMap { $0.text("name") }
        // A column named like the rowid hides it.
        guard !columns.isEmpty, !columns.contains(where: { ["rowid", "_rowid_", "oid"].contains($0.lowercased()) })
        else { return nil }
        var indexes: [Index] = []
        for row in try Row.fetchAll(db, sql: "PRAGMA index_list(\(quoted(table)))") {
            guard let name = row.text("name"), let unique = row.integer("unique"), row.integer("partial") == 0
            else { return nil }
            var keys: [(seqno: Int64, name: String, descending: Bool)] = []
            for column in try Row.fetchAll(db, sql: "PRAGMA index_xinfo(\(quoted(name)))")
            where column.integer("key") == 1 {
                guard let seqno = column.integer("seqno"), let cid = column.integer("cid"), cid >= 0,
                    let columnName = column.text("name"), columns.contains(columnName),
                    column.text("coll") == "BINARY", let descending = column.integer("desc")
                else { return nil }
                keys.append((seqno, columnName, descending == 1))
            }
            keys.sort { $0.seqno < $1.seqno }
            guard !keys.isEmpty else { return nil }
            indexes.append(
                Index(name: name, columns: keys.map(\.name), descending: keys.map(\.descending), unique: unique == 1))
        }
        return indexes
    }

    /// Each index's multiset of (key values, rowid) as a table's rows make
    /// them, summed as the rows are read: by a scan of the table here, or by
    /// another reader of the table (the native pass) that selects the index
    /// columns, then the rowid.
    struct TableSide: Sendable {
        let table: String
        let indexes: [Index]
        /// The position of each index's key columns in the query's row.
        private let positions: [[Int32]]
        /// The position of the rowid, after the columns.
        private let rowid: Int32
        private let keys = EntryHash.keys
        /// False once a row's rowid was not an integer: the sets then stand for nothing.
        private var readable = true
        private var summed: [Multiset]

        /// The sides of `indexes` for a query whose row is `columns`, then the
        /// rowid; nil when an index reads a column the query does not select.
        init?(table: String, indexes: [Index], columns: [String]) {
            var positions: [[Int32]] = []
            for index in indexes {
                var places: [Int32] = []
                for column in index.columns {
                    guard let place = columns.firstIndex(of: column) else { return nil }
                    places.append(Int32(place))
                }
                positions.append(places)
            }
            self.table = table
            self.indexes = indexes
            self.positions = positions
            rowid = Int32(columns.count)
            summed = Array(repeating: Multiset(), count: indexes.count)
        }

        /// The sides of every index of `table` for a query on `db` whose row is
        /// `columns`, then the rowid; nil when this check does not read an
        /// index of the table, or the query does not select its columns.
        init?(_ db: Database, table: String, columns: [String]) {
            guard let indexes = try? IndexAgreement.indexes(db, table: table) else { return nil }
            self.init(table: table, indexes: indexes, columns: columns)
        }

        /// The sets, or nil when a row could not be read as one.
        var sets: [Multiset]? { readable ? summed : nil }

        /// Adds the current row of `rows`.
        mutating func add(_ rows: RawRows) {
            guard let rowid = rows.integer(rowid) else {
                readable = false
                return
            }
            for number in indexes.indices {
                var hash = EntryHash(index: number, keys: keys)
                for column in positions[number] { hash.add(rows.value(column)) }
                summed[number].count += 1
                summed[number].sum &+= hash.finish(rowid: rowid)
            }
        }
    }

    /// The index's multiset of (key values, rowid) as its own entries hold
    /// them, or nil when SQLite would not read them from the index alone, or
    /// when two entries are out of order or a UNIQUE index holds a key twice.
    private static func indexSide(
        _ db: Database, table: String, index: Index, number: Int
    ) throws -> Multiset? {
        let sql =
            "SELECT \(index.columns.map(quoted).joined(separator: ", ")), rowid FROM \(quoted(table)) INDEXED BY \(quoted(index.name))"
        let plan = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).compactMap { $0.text("detail") }
        guard plan.count == 1, plan[0].hasSuffix("USING COVERING INDEX \(index.name)") else { return nil }
        let entries = try RawRows(db, sql: sql)
        let keyCount = Int32(index.columns.count)
        var side = Multiset()
        var lastRowid = Int64.min
        var previous = [Slot](repeating: Slot(), count: index.columns.count)
        var first = true
        let keys = EntryHash.keys
        while try entries.next() {
            guard let rowid = entries.integer(keyCount) else { return nil }
            var hash = EntryHash(index: number, keys: keys)
            // -1 or 1 once a key column tells the two entries apart; 0 while equal.
            var order = first ? 1 : 0
            var holdsNull = false
            for column in 0..<Int(keyCount) {
                let value = entries.value(Int32(column))
                let type = hash.add(value)
                holdsNull = holdsNull || type == SQLITE_NULL
                if order == 0 {
                    let step = previous[column].compare(to: value, type: type)
                    if step != 0 { order = index.descending[column] ? -step : step }
                }
                previous[column].hold(value, type: type)
            }
            if order == 0 {
                // Equal keys: a UNIQUE index may not repeat one without a NULL; rowids ascend.
                guard !index.unique || holdsNull, rowid > lastRowid else { return nil }
            } else if order < 0 {
                return nil
            }
            first = false
            lastRowid = rowid
            side.count += 1
            side.sum &+= hash.finish(rowid: rowid)
        }
        return side
    }

    /// SQLite's order of a real against an integer, exactly (no rounding of either): -1, 0 or 1.
    private static func compareReal(_ real: Double, _ integer: Int64) -> Int {
        if real < -9.223_372_036_854_775_808e18 { return -1 }
        if real >= 9.223_372_036_854_775_808e18 { return 1 }
        let whole = Int64(real.rounded(.down))
        if whole != integer { return whole < integer ? -1 : 1 }
        return real > Double(whole) ? 1 : 0
    }

    /// The place of a storage class in SQLite's order: NULL, numbers, text, blobs.
    private static func rank(_ type: Int32) -> Int {
        switch type {
        case SQLITE_NULL: 0
        case SQLITE_INTEGER, SQLITE_FLOAT: 1
        case SQLITE_TEXT: 2
        default: 3
        }
    }

    /// The bytes of a text or blob value of the current row.
    private static func bytes(_ value: OpaquePointer?, type: Int32) -> UnsafeRawBufferPointer {
        let start: UnsafeRawPointer? =
            type == SQLITE_TEXT ? sqlite3_value_text(value).map(UnsafeRawPointer.init) : sqlite3_value_blob(value)
        guard let start else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: start, count: Int(sqlite3_value_bytes(value)))
    }

    /// One key column of the entry before, kept to order the next entry
    /// against it (BINARY: numbers by value, text and blobs bytewise).
    private struct Slot {
        var type = SQLITE_NULL
        var integer: Int64 = 0
        var real: Double = 0
        var bytes: [UInt8] = []

        /// How `value`, a column's value in the current row, sorts after this
        /// one: 1 after, -1 before, 0 equal.
        func compare(to value: OpaquePointer?, type: Int32) -> Int {
            let (mine, theirs) = (IndexAgreement.rank(self.type), IndexAgreement.rank(type))
            if mine != theirs { return theirs > mine ? 1 : -1 }
            switch (self.type, type) {
            case (SQLITE_NULL, _):
                return 0
            case (SQLITE_INTEGER, SQLITE_INTEGER):
                let number = sqlite3_value_int64(value)
                return number == integer ? 0 : (number > integer ? 1 : -1)
            case (SQLITE_FLOAT, SQLITE_FLOAT):
                let number = sqlite3_value_double(value)
                return number == real ? 0 : (number > real ? 1 : -1)
            case (SQLITE_FLOAT, SQLITE_INTEGER):
                return -IndexAgreement.compareReal(real, sqlite3_value_int64(value))
            case (SQLITE_INTEGER, SQLITE_FLOAT):
                return IndexAgreement.compareReal(sqlite3_value_double(value), integer)
            default:
                let other = IndexAgreement.bytes(value, type: type)
                let common = min(other.count, bytes.count)
                let order = bytes.withUnsafeBytes { mine -> Int32 in
                    guard common > 0, let theirs = other.baseAddress, let ours = mine.baseAddress else { return 0 }
                    return memcmp(theirs, ours, common)
                }
                if order != 0 { return order > 0 ? 1 : -1 }
                return other.count == bytes.count ? 0 : (other.count > bytes.count ? 1 : -1)
            }
        }

        /// Keeps `value`, a column's value in the current row.
        mutating func hold(_ value: OpaquePointer?, type: Int32) {
            self.type = type
            switch type {
            case SQLITE_INTEGER: integer = sqlite3_value_int64(value)
            case SQLITE_FLOAT: real = sqlite3_value_double(value)
            case SQLITE_NULL: break
            default:
                bytes.removeAll(keepingCapacity: true)
                bytes.append(contentsOf: IndexAgreement.bytes(value, type: type))
            }
        }
    }

    /// A keyed 64-bit hash of one entry (the index's number, its key values
    /// with their storage classes, the rowid): wyhash's multiply-and-fold
    /// under keys drawn at random for each run, so which entries collide is
    /// unknown to whoever made the file.
    fileprivate struct EntryHash {
        /// The keys of one hash.
        struct Keys {
            fileprivate let first: UInt64, second: UInt64, third: UInt64
        }

        /// The run's keys, drawn once; a scan reads them once, not per value.
        static let keys: Keys = {
            var random = SystemRandomNumberGenerator()
            return Keys(first: random.next(), second: random.next(), third: random.next())
        }()

        private let keys: Keys
        private var state: UInt64

        init(index: Int, keys: Keys) {
            self.keys = keys
            state = keys.first ^ UInt64(truncatingIfNeeded: index)
        }

        @inline(__always) private static func fold(_ left: UInt64, _ right: UInt64) -> UInt64 {
            let product = left.multipliedFullWidth(by: right)
            return product.high ^ product.low
        }

        @inline(__always) private mutating func mix(_ value: UInt64, tag: Int32) {
            state = Self.fold(state ^ keys.second, value ^ keys.third) ^ UInt64(UInt32(bitPattern: tag)) &* keys.first
        }

        /// Adds `value`, a column's value in the current row; returns its storage class.
        @discardableResult
        mutating func add(_ value: OpaquePointer?) -> Int32 {
            let type = sqlite3_value_type(value)
            switch type {
            case SQLITE_INTEGER:
                mix(UInt64(bitPattern: sqlite3_value_int64(value)), tag: type)
            case SQLITE_FLOAT:
                mix(sqlite3_value_double(value).bitPattern, tag: type)
            case SQLITE_NULL:
                mix(0, tag: type)
            default:
                let bytes = IndexAgreement.bytes(value, type: type)
                mix(UInt64(bytes.count), tag: type)
                var offset = 0
                while offset < bytes.count {
                    var word: UInt64 = 0
                    let take = min(8, bytes.count - offset)
                    for byte in 0..<take { word |= UInt64(bytes[offset + byte]) << UInt64(8 * byte) }
                    mix(word, tag: 0)
                    offset += take
                }
            }
            return type
        }

        /// The hash, once the rowid is added.
        mutating func finish(rowid: Int64) -> UInt64 {
            mix(UInt64(bitPattern: rowid), tag: 7)
            return Self.fold(state, keys.first | 1)
        }
    }
}
