import Foundation
import GRDB

/// Reads the record rebuild keeps inside the company file (docs/rebuild.md).
public enum MaintenanceLog {
    /// Every run, newest first.
    /// - Throws: `CompanyFileError` when the file cannot be read.
    public static func runs(path: String) throws -> [MaintenanceRun] {
        try CompanyFile.read(path) { db in try runs(db) }
    }

    static func runs(_ db: Database) throws -> [MaintenanceRun] {
        try MaintenanceRun.fetchAll(db, sql: "SELECT * FROM maintenance_runs ORDER BY id DESC")
    }

    /// Streams the repair actions of run `runID`, in the order they were made,
    /// at most `limit` of them; returns how many there are in all.
    @discardableResult
    public static func actions(path: String, runID: Int64, limit: Int? = nil, _ body: (RepairAction) throws -> Void)
        throws -> Int
    {
        try CompanyFile.read(path) { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT code, table_name, row_id, action, before, after FROM repair_actions WHERE run_id = ? ORDER BY id LIMIT ?
                    """, arguments: [runID, limit ?? -1])
            let wording = RepairWording(db: db)
            while let row = try rows.next() {
                var action = action(row)
                action.words = wording.describe(action)
                try body(action)
            }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM repair_actions WHERE run_id = ?", arguments: [runID])
                ?? 0
        }
    }

    static func actions(_ db: Database, runID: Int64, code: FindingCode, limit: Int) throws -> [RepairAction] {
        let wording = RepairWording(db: db)
        return try Row.fetchAll(
            db,
            sql: """
                SELECT code, table_name, row_id, action, before, after FROM repair_actions WHERE run_id = ? AND code = ? ORDER BY id LIMIT ?
                """, arguments: [runID, code.rawValue, limit]
        ).map { row in
            var action = action(row)
            action.words = wording.describe(action)
            return action
        }
    }

    private static func action(_ row: Row) -> RepairAction {
        RepairAction(
            code: row.text("code").flatMap(FindingCode.init(rawValue:)) ?? .sqliteCorruption,
            table: row.text("table_name") ?? "?", rowID: row.integer("row_id"),
            action: row.text("action").flatMap(RepairAction.Kind.init(rawValue:)) ?? .update,
            before: row.text("before"), after: row.text("after"))
    }
}
