import Foundation
import GRDB

/// One row of `maintenance_runs`: what rebuild, restore, import or migrate did.
public struct MaintenanceRun: Codable, Sendable, Equatable, FetchableRecord {
    public var id: Int64
    public var command: String
    public var startedAt: String
    public var finishedAt: String?
    public var outcome: String?
    public var summary: String?

    public init(row: Row) throws {
        id = row["id"]
        command = row["command"]
        startedAt = row["started_at"]
        finishedAt = row["finished_at"]
        outcome = row["outcome"]
        summary = row["summary"]
    }
}

/// What `ledger info` shows about a company file.
public struct CompanyInfo: Codable, Sendable, Equatable {
    public var file: String
    public var company: String?
    public var currency: String?
    public var formatVersion: Int
    /// Size of the database file itself, without its `-wal`.
    public var fileBytes: Int64
    public var walBytes: Int64
    public var pageSize: Int
    public var pageCount: Int
    public var journalMode: String
    /// Rows per table of SPEC §1; a table that is missing has no entry.
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
                let lastRuns = try db.tableExists("maintenance_runs")
                    ? try MaintenanceRun.fetchAll(db, sql: "SELECT * FROM maintenance_runs ORDER BY id DESC LIMIT ?", arguments: [runs])
                    : []
                return CompanyInfo(
                    file: path,
                    company: company?["name"],
                    currency: company?["currency"],
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
