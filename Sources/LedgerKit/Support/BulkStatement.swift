import GRDB
import GRDBSQLite

/// A value that binds straight to an SQLite statement parameter.
protocol BulkValue {
    func bind(to statement: OpaquePointer, at index: Int32)
}

extension Int64: BulkValue {
    func bind(to statement: OpaquePointer, at index: Int32) { sqlite3_bind_int64(statement, index, self) }
}

extension Int: BulkValue {
    func bind(to statement: OpaquePointer, at index: Int32) { sqlite3_bind_int64(statement, index, Int64(self)) }
}

extension String: BulkValue {
    func bind(to statement: OpaquePointer, at index: Int32) {
        var text = self
        text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { characters in
                if let start = characters.baseAddress {
                    _ = sqlite3_bind_text(statement, index, start, Int32(characters.count), sqliteTransient)
                } else {
                    // An empty buffer has no address, yet '' is not NULL.
                    _ = sqlite3_bind_text(statement, index, "", 0, sqliteTransient)
                }
            }
        }
    }
}

extension Optional: BulkValue where Wrapped: BulkValue {
    func bind(to statement: OpaquePointer, at index: Int32) {
        switch self {
        case .some(let value): value.bind(to: statement, at: index)
        case .none: sqlite3_bind_null(statement, index)
        }
    }
}

/// SQLite's SQLITE_TRANSIENT: "copy the bytes now", a C macro Swift cannot see.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A statement run many times (millions of rows in the sample generator) with
/// its values bound through the C API.
///
/// GRDB's `execute(arguments:)` boxes every value into a `StatementArguments`
/// array first, which at millions of rows costs more than SQLite's own insert.
/// The GRDB `Statement` still owns the handle and finalizes it; this type only
/// binds, steps and resets. Only for statements that return no rows.
struct BulkStatement {
    private let statement: Statement
    private let handle: OpaquePointer

    init(_ db: Database, sql: String) throws {
        statement = try db.makeStatement(sql: sql)
        handle = statement.sqliteStatement
    }

    /// Binds `values` to parameters 1, 2, … and runs the statement once.
    func run<each Value: BulkValue>(_ values: repeat each Value) throws {
        var index: Int32 = 0
        for value in repeat each values {
            index += 1
            value.bind(to: handle, at: index)
        }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
        sqlite3_reset(handle)
    }
}
