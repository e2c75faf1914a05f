import Foundation
import GRDB

@testable import LedgerKit

/// What a test expects Verify to name: a code, a table and a row.
struct Expected: Hashable, CustomStringConvertible {
    let code: FindingCode
    let table: String?
    let row: Int64?

    init(_ code: FindingCode, _ table: String?, _ row: Int64?) {
        self.code = code
        self.table = table
        self.row = row
    }

    init(_ finding: Finding) {
        self.init(finding.code, finding.table, finding.rowID)
    }

    var description: String { "\(code.rawValue) \(table ?? "-") \(row.map(String.init) ?? "-")" }
}

/// Makes company files and damages them the way real damage happens: with
/// foreign keys and CHECK constraints off, as a crash or an older tool would.
enum Damage {
    /// A fresh sample company in `folder`.
    static func sample(
        in folder: TemporaryDirectory, name: String = "books.db", transactions: Int = 1_500,
        seed: UInt64 = 1
    ) throws -> String {
        let path = folder.file(name)
        _ = try SampleCompany.generate(at: path, options: SampleOptions(transactions: transactions, seed: seed))
        return path
    }

    /// Runs `work` on a raw connection with foreign keys and CHECKs off, then
    /// checkpoints so that the main file holds everything.
    @discardableResult
    static func apply<T>(to path: String, _ work: (Database) throws -> T) throws -> T {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let result = try queue.writeWithoutTransaction { db -> T in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            return try work(db)
        }
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try queue.close()
        return result
    }

    /// Overwrites `count` bytes of page `page` (1-based) from `offset` within it.
    static func scribble(on path: String, page: Int, offset: Int = 0, count: Int = 4096, byte: UInt8 = 0xA5) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64((page - 1) * 4096 + offset))
        try handle.write(contentsOf: Data(repeating: byte, count: count))
    }

    /// The root page of `table` in the file at `path`.
    static func rootPage(of table: String, in path: String) throws -> Int {
        let sql = "SELECT rootpage FROM sqlite_master WHERE name = ?"
        guard let root = try DatabaseQueue(path: path).read({ try Int.fetchOne($0, sql: sql, arguments: [table]) })
        else { throw DamageError.noSuchRow(sql) }
        return root
    }

    /// `count` bytes of the file from `offset` (fewer at its end).
    static func read(_ path: String, at offset: Int, _ count: Int) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        return [UInt8](try handle.read(upToCount: count) ?? Data())
    }

    /// Overwrites the file's bytes from `offset` with `bytes`.
    static func write(_ path: String, at offset: Int, _ bytes: [UInt8]) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(bytes))
    }

    static func one(_ db: Database, _ sql: String, _ arguments: StatementArguments = []) throws -> Int64 {
        guard let value = try Int64.fetchOne(db, sql: sql, arguments: arguments) else {
            throw DamageError.noSuchRow(sql)
        }
        return value
    }

    static func all(_ db: Database, _ sql: String, _ arguments: StatementArguments = []) throws -> [Int64] {
        try Int64.fetchAll(db, sql: sql, arguments: arguments)
    }
}

enum DamageError: Error {
    case noSuchRow(String)
}
