import GRDB
import GRDBSQLite

/// The rows of one query read through SQLite's C API, one at a time, with no
/// value boxed: what the native pass of Verify reads millions of rows with.
///
/// GRDB's `Statement` owns the handle and finalizes it; this type only steps it
/// and reads the current row's columns. Every reader says what it found
/// without trapping: any column may hold any storage class (docs/findings.md).
final class RawRows {
    private let statement: Statement
    private let handle: OpaquePointer

    init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
        handle = statement.sqliteStatement
    }

    /// Moves to the next row; false after the last.
    /// - Throws: `DatabaseError` when SQLite cannot read on (a damaged page).
    func next() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }

    /// The column's value in the current row, valid until `next()`.
    ///
    /// One call into SQLite per value, where `sqlite3_column_type` and then
    /// `sqlite3_column_int64` make two: the `sqlite3_value_*` readers of the
    /// value do not pass through the statement again. SQLite calls such a
    /// value unprotected, which matters only to a connection shared between
    /// threads at once; GRDB runs each connection on one queue.
    func value(_ column: Int32) -> OpaquePointer? {
        sqlite3_column_value(handle, column)
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_value_type(value(column)) == SQLITE_NULL
    }

    /// The column's value when it is stored as an integer, else nil.
    func integer(_ column: Int32) -> Int64? {
        let value = value(column)
        return sqlite3_value_type(value) == SQLITE_INTEGER ? sqlite3_value_int64(value) : nil
    }

    /// The column's bytes when it is stored as text, else nil; valid until `next()`.
    func text(_ column: Int32) -> UnsafeBufferPointer<UInt8>? {
        let value = value(column)
        guard sqlite3_value_type(value) == SQLITE_TEXT, let start = sqlite3_value_text(value) else { return nil }
        return UnsafeBufferPointer(start: start, count: Int(sqlite3_value_bytes(value)))
    }
}

/// A fixed set of texts, matched against stored bytes without making Strings.
struct Vocabulary {
    private let words: [[UInt8]]

    init(_ words: [String]) {
        self.words = words.map { Array($0.utf8) }
    }

    /// The position of `bytes` in the set, or nil when it is none of them.
    func index(of bytes: UnsafeBufferPointer<UInt8>?) -> Int? {
        guard let bytes else { return nil }
        return words.firstIndex { $0.count == bytes.count && $0.elementsEqual(bytes) }
    }
}

/// Dates and moments as docs/company-file.md writes them, judged from stored bytes.
///
/// Only the canonical form passes: a date that passes here passes the SQL of
/// `ValueRule.date` too, so the native pass may skip its row; anything else is
/// left for that SQL to judge.
enum CanonicalTime {
    /// `YYYY-MM-DD` naming a real day of years 1…9999, as YYYYMMDD; else nil.
    static func date(_ bytes: UnsafeBufferPointer<UInt8>?) -> Int32? {
        guard let bytes, bytes.count == 10 else { return nil }
        return day(bytes)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` naming a real moment; else false.
    static func isTimestamp(_ bytes: UnsafeBufferPointer<UInt8>?) -> Bool {
        guard let bytes, bytes.count == 20, bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"),
            bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "Z"),
            let hour = number(bytes, 11, 2), let minute = number(bytes, 14, 2), let second = number(bytes, 17, 2),
            hour < 24, minute < 60, second < 60
        else { return false }
        return day(bytes) != nil
    }

    /// A canonical date (YYYYMMDD) as a small day number that orders as the
    /// dates do: 1 for 1970-01-01 on to 2149-06-05; 0 for any other date,
    /// which the caller then leaves to the SQL.
    static func day(_ date: Int32) -> UInt16 {
        guard let civil = CivilDate(year: Int(date / 10_000), month: Int(date / 100 % 100), day: Int(date % 100)) else {
            return 0
        }
        return UInt16(exactly: civil.dayNumber + 1) ?? 0
    }

    private static func day(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = number(bytes, 0, 4), let month = number(bytes, 5, 2), let day = number(bytes, 8, 2),
            year >= 1, (1...12).contains(month), day >= 1,
            Int(day) <= CivilDate.daysIn(month: Int(month), year: Int(year))
        else { return nil }
        return year * 10_000 + month * 100 + day
    }

    private static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int32? {
        var value: Int32 = 0
        for offset in start..<(start + count) {
            let digit = bytes[offset] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int32(digit)
        }
        return value
    }
}
