import Foundation
import GRDB

/// One row of `maintenance_runs`: what rebuild, restore, import or migrate did.
public struct MaintenanceRun: Codable, Sendable, Equatable, FetchableRecord {
    /// The run's id.
    public var id: Int64
    /// The command that ran: `rebuild`, `restore`, `import` or `migrate`.
    public var command: String
    /// When it began (UTC timestamp).
    public var startedAt: String
    /// When it ended; nil for a run that never finished (killed, or still going).
    public var finishedAt: String?
    /// How it ended, in the command's own word.
    public var outcome: String?
    /// What it did, as JSON the command wrote.
    public var summary: String?

    /// Reads a `maintenance_runs` row, whatever another program stored in it: a
    /// value that is not text is shown as it reads (`DatabaseValue.described`).
    public init(row: Row) throws {
        id = row.integer("id") ?? 0
        command = row.shown("command") ?? "empty"
        startedAt = row.shown("started_at") ?? "empty"
        finishedAt = row.shown("finished_at")
        outcome = row.shown("outcome")
        summary = row.shown("summary")
    }
}

/// What `ledger info` shows about a company file.
public struct CompanyInfo: Codable, Sendable, Equatable {
    /// The path as given.
    public var file: String
    /// The company's name; nil when the file does not say.
    public var company: String?
    /// The company's currency code; nil when the file does not say.
    public var currency: String?
    /// The file's format version (`PRAGMA user_version`).
    public var formatVersion: Int
    /// Size of the database file itself, without its `-wal`.
    public var fileBytes: Int64
    /// Size of the `-wal` beside the file; 0 when there is none.
    public var walBytes: Int64
    /// SQLite's page size, in bytes.
    public var pageSize: Int
    /// How many pages the file has.
    public var pageCount: Int
    /// SQLite's journal mode (`wal` for a company file).
    public var journalMode: String
    /// Rows per table of docs/company-file.md; a table that is missing has no entry.
    public var rowCounts: [String: Int]
    /// The newest maintenance runs, newest first.
    public var lastRuns: [MaintenanceRun]

    /// Reads the facts of the file at `path` on a read-only connection.
    ///
    /// - Parameter runs: how many of the newest maintenance runs to include.
    /// - Throws: `CompanyFileError` when the file cannot be opened as a company file.
    public static func read(path: String, runs: Int = 5) throws -> CompanyInfo {
        do {
            return try CompanyFile.read(path) { db in
                let company = try Row.fetchOne(db, sql: "SELECT name, currency FROM company WHERE id = 1")
                var counts: [String: Int] = [:]
                for table in Schema.tableNames where try db.tableExists(table) {
                    counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \"\(table)\"") ?? 0
                }
                let lastRuns =
                    try db.tableExists("maintenance_runs")
                    ? try MaintenanceRun.fetchAll(
                        db, sql: "SELECT * FROM maintenance_runs ORDER BY id DESC LIMIT ?", arguments: [runs])
                    : []
                return CompanyInfo(
                    file: path,
                    company: company?.shown("name"),
                    currency: company?.shown("currency"),
                    formatVersion: try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0,
                    fileBytes: fileSize(path),
                    walBytes: fileSize(path + "-wal"),
                    pageSize: try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0,
                    pageCount: try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0,
                    journalMode: try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "unknown",
                    rowCounts: counts,
                    lastRuns: lastRuns)
            }
        } catch let error as DatabaseError {
            throw CompanyFileError(error, path: path)
        }
    }

    private static func fileSize(_ path: String) -> Int64 {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_size) : 0
    }
}
