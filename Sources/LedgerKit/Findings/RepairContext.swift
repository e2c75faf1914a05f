import Foundation
import GRDB

/// The write transaction the repairs run in, on the working copy: it records
/// every changed row in `repair_actions` and makes the Rebuild Suspense account
/// when a repair first needs it.
///
/// Not Sendable: it wraps a `Database`, which belongs to one connection's queue.
final class RepairContext {
    let db: Database
    let runID: Int64
    /// The day of the rebuild (UTC), for recovered transactions with no better date.
    let today: String
    /// The moment of the rebuild, for created and modified timestamps.
    let timestamp: String
    /// Whether the repairs look only at the suspects of the native pass
    /// (`temp.suspect_*`, as `Suspects.store` leaves them), which grow with
    /// every row a repair changes; otherwise they look at every row.
    let onlySuspects: Bool
    private var suspenseID: Int64?
    /// The last `repair_actions` row whose rows the suspects already hold.
    private var grownTo: Int64 = 0

    init(db: Database, runID: Int64, now: Date, onlySuspects: Bool = false) throws {
        self.db = db
        self.runID = runID
        self.onlySuspects = onlySuspects
        self.timestamp = Timestamp.string(from: now)
        self.today = String(timestamp.prefix(10))
        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS rebuild_rows (id INTEGER PRIMARY KEY)")
    }

    /// SQL returning the ids of the rows the checks of `code` find in `table`:
    /// among the suspects only, when the repairs look at them alone.
    func rows(of code: FindingCode, in table: String) -> String {
        Catalog.rowIDs(of: code, in: table, onlySuspects: onlySuspects)
    }

    /// `AND key IN (the suspects of table)` when the repairs look at the
    /// suspects alone, else nothing: for a repair's own selection of rows.
    func amongSuspects(_ table: String, key: String) -> String {
        onlySuspects ? Catalog.suspectRestriction(of: table, key: key).map { "AND \($0)" } ?? "" : ""
    }

    /// `json_object(…)` of every column of `table` for the row aliased `alias`.
    /// JSON holds no blob, and any column may hold one (docs/findings.md): a blob is
    /// written as the text `x'…'` of its bytes in hex, as SQL writes it.
    static func json(of table: String, alias: String) -> String {
        let columns = (Schema.columns[table] ?? []).map(\.name)
        return "json_object("
            + columns.map { column in
                let value = "\(alias).\(column)"
                return
                    "'\(column)', CASE WHEN typeof(\(value)) = 'blob' THEN 'x''' || hex(\(value)) || '''' ELSE \(value) END"
            }.joined(separator: ", ") + ")"
    }

    /// Updates or deletes the rows of `table` whose rowids `rows` selects,
    /// recording each row before and after.
    ///
    /// - Parameters:
    ///   - rows: SQL returning rowids (its first column).
    ///   - apply: the change, reading the chosen rowids from `temp.rebuild_rows`.
    /// - Returns: how many rows were changed.
    @discardableResult
    func change(
        _ code: FindingCode, _ table: String, rows: String, arguments: StatementArguments = [],
        _ action: RepairAction.Kind, apply: String, applyArguments: StatementArguments = []
    ) throws -> Int {
        let count = try choose(rows, arguments)
        guard count > 0 else { return 0 }
        let first = try nextActionID()
        try db.execute(
            sql: """
                INSERT INTO repair_actions (run_id, code, table_name, row_id, action, before)
                SELECT ?, ?, ?, t.rowid, ?, \(Self.json(of: table, alias: "t")) FROM \(table) t
                WHERE t.rowid IN (SELECT id FROM temp.rebuild_rows) ORDER BY t.rowid
                """, arguments: [runID, code.rawValue, table, action.rawValue])
        try db.execute(sql: apply, arguments: applyArguments)
        if action == .update {
            try recordAfter(table, since: first)
        }
        return count
    }

    /// Updates, with `set`, the rows of `table` that the checks of `code` find
    /// (on the table `found`, by default `table` itself; the two share row ids).
    @discardableResult
    func update(
        _ code: FindingCode, _ table: String, found: String? = nil, set: String,
        arguments: StatementArguments = []
    ) throws -> Int {
        try change(
            code, table, rows: rows(of: code, in: found ?? table), .update,
            apply: "UPDATE \(table) SET \(set) WHERE rowid IN (SELECT id FROM temp.rebuild_rows)",
            applyArguments: arguments)
    }

    /// Deletes the rows of `table` that `rows` selects, by default those the checks of `code` find.
    @discardableResult
    func delete(_ code: FindingCode, _ table: String, rows: String? = nil) throws -> Int {
        try change(
            code, table, rows: rows ?? self.rows(of: code, in: table), .delete,
            apply: "DELETE FROM \(table) WHERE rowid IN (SELECT id FROM temp.rebuild_rows)")
    }

    /// Inserts rows into `table` with `insert` and records them.
    ///
    /// The new rows are told by a temporary trigger, not by their rowids being
    /// the highest: when the table holds rowid Int64.max, SQLite picks new
    /// rowids at random below it.
    /// - Returns: the new rows' rowids, ascending.
    @discardableResult
    func insertNew(_ code: FindingCode, _ table: String, insert: String, arguments: StatementArguments = []) throws
        -> [Int64]
    {
        try db.execute(
            sql: """
                CREATE TEMP TABLE IF NOT EXISTS rebuild_new (id INTEGER PRIMARY KEY);
                CREATE TEMP TRIGGER IF NOT EXISTS rebuild_new_\(table) AFTER INSERT ON main.\(table)
                BEGIN INSERT OR IGNORE INTO rebuild_new (id) VALUES (NEW.rowid); END;
                DELETE FROM temp.rebuild_new;
                """)
        let ceiling = try referenceCeiling(of: table)
        try db.execute(sql: insert, arguments: arguments)
        try db.execute(sql: "DROP TRIGGER temp.rebuild_new_\(table)")
        try moveAbove(ceiling, newRowsOf: table)
        try db.execute(
            sql: """
                INSERT INTO repair_actions (run_id, code, table_name, row_id, action, after)
                SELECT ?, ?, ?, t.rowid, 'insert', \(Self.json(of: table, alias: "t")) FROM \(table) t
                WHERE t.rowid IN (SELECT id FROM temp.rebuild_new) ORDER BY t.rowid
                """, arguments: [runID, code.rawValue, table])
        return try Int64.fetchAll(db, sql: "SELECT id FROM temp.rebuild_new ORDER BY id")
    }

    /// The columns (`table`, `column`) that reference `table`'s rows, read once a run.
    private func references(to table: String) throws -> [(table: String, column: String)] {
        if let known = referencing[table] { return known }
        var found: [(table: String, column: String)] = []
        for other in try String.fetchAll(db, sql: "SELECT name FROM main.sqlite_master WHERE type = 'table'") {
            let keys = try Row.fetchAll(
                db, sql: "SELECT \"table\", \"from\" FROM pragma_foreign_key_list(?)", arguments: [other])
            for key in keys where (key["table"] as String?)?.lowercased() == table.lowercased() {
                if let column: String = key["from"] { found.append((other, column)) }
            }
        }
        referencing[table] = found
        return found
    }

    /// The highest id that a column referencing `table` names, whether its row
    /// is there or not (0 when none does); read once a run: a repair makes no
    /// reference to a row that is not there.
    private func referenceCeiling(of table: String) throws -> Int64 {
        if let known = ceilings[table] { return known }
        var ceiling: Int64 = 0
        for (other, column) in try references(to: table) {
            // Only numbers: text sorts above every number, and names no rowid.
            let highest = try DatabaseValue.fetchOne(
                db,
                sql: "SELECT MAX(\"\(column)\") FROM main.\"\(other)\" WHERE \"\(column)\" <= 9223372036854775807")
            switch highest?.storage {
            case .int64(let value): ceiling = max(ceiling, value)
            case .double(let value): ceiling = max(ceiling, value >= 9.2e18 ? .max : Int64(max(value, 0).rounded(.up)))
            default: break
            }
        }
        ceilings[table] = ceiling
        return ceiling
    }

    /// The referencing columns, and their highest ids, by the table they reference.
    private var referencing: [String: [(table: String, column: String)]] = [:]
    private var ceilings: [String: Int64] = [:]

    /// Moves the rows just inserted into `table` (their ids in `temp.rebuild_new`)
    /// to ids above `ceiling`, when they took ids at or below it: a new row must
    /// never take an id that a dangling reference names (a split of a lost account,
    /// a line of a lost transaction), or it would adopt that row without a word.
    private func moveAbove(_ ceiling: Int64, newRowsOf table: String) throws {
        let made = try Int64.fetchAll(db, sql: "SELECT id FROM temp.rebuild_new ORDER BY id")
        guard let lowest = made.first, lowest <= ceiling else { return }
        let highest = try Int64.fetchOne(db, sql: "SELECT MAX(rowid) FROM main.\(table)") ?? 0
        let start = max(highest, ceiling)
        guard start <= Int64.max - Int64(made.count) else {
            // No room above (a reference names the largest id): they stay where no reference names them.
            for (other, column) in try references(to: table) {
                let named = try Bool.fetchOne(
                    db,
                    sql:
                        "SELECT EXISTS (SELECT 1 FROM main.\"\(other)\" WHERE \"\(column)\" IN (SELECT id FROM temp.rebuild_new))"
                )
                if named == true {
                    throw RepairFailure.noRowMade("a row of \(table) with an id no reference names")
                }
            }
            return
        }
        // Each row to the next free id past both the table's rows and the references.
        var moved: [Int64] = []
        for (offset, id) in made.enumerated() {
            let target = start + 1 + Int64(offset)
            try db.execute(sql: "UPDATE main.\(table) SET rowid = ? WHERE rowid = ?", arguments: [target, id])
            moved.append(target)
        }
        try db.execute(sql: "DELETE FROM temp.rebuild_new")
        for id in moved { try db.execute(sql: "INSERT INTO temp.rebuild_new (id) VALUES (?)", arguments: [id]) }
    }

    /// Inserts rows whose rowids are known beforehand (`rows` selects them) and records them.
    @discardableResult
    func insertKeyed(
        _ code: FindingCode, _ table: String, rows: String, insert: String,
        arguments: StatementArguments = []
    ) throws -> Int {
        let count = try choose(rows)
        guard count > 0 else { return 0 }
        try db.execute(sql: insert, arguments: arguments)
        try db.execute(
            sql: """
                INSERT INTO repair_actions (run_id, code, table_name, row_id, action, after)
                SELECT ?, ?, ?, t.rowid, 'insert', \(Self.json(of: table, alias: "t")) FROM \(table) t
                WHERE t.rowid IN (SELECT id FROM temp.rebuild_rows) ORDER BY t.rowid
                """, arguments: [runID, code.rawValue, table])
        return count
    }

    /// Puts the rowids `rows` selects into `temp.rebuild_rows`, in place of the
    /// last repair's, and returns how many there are.
    private func choose(_ rows: String, _ arguments: StatementArguments = []) throws -> Int {
        try db.execute(sql: "DELETE FROM temp.rebuild_rows")
        try db.execute(
            sql: "INSERT OR IGNORE INTO temp.rebuild_rows (id) SELECT * FROM (\(rows)) WHERE 1", arguments: arguments)
        return db.changesCount
    }

    /// What tells the Rebuild Suspense account among `accounts`.
    static let isSuspense = "name = 'Rebuild Suspense' AND parent_id IS NULL AND type = 'other_current_asset'"

    /// The id of the Rebuild Suspense account when the file has one.
    func existingSuspense() throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM accounts WHERE \(Self.isSuspense) ORDER BY id LIMIT 1")
    }

    /// The id of the Rebuild Suspense account, made (top level,
    /// `other_current_asset`) the first time a repair of `code` needs it.
    func suspense(for code: FindingCode) throws -> Int64 {
        if let suspenseID { return suspenseID }
        if let existing = try existingSuspense() {
            suspenseID = existing
            return existing
        }
        let made = try insertNew(
            code, "accounts",
            insert: """
                INSERT INTO accounts (parent_id, number, name, type, is_active, balance)
                VALUES (NULL, NULL, 'Rebuild Suspense', 'other_current_asset', 1, 0)
                """)
        guard let id = made.first else { throw RepairFailure.noRowMade("the Rebuild Suspense account") }
        suspenseID = id
        return id
    }

    /// Staging tables built and still true to the rows they sum.
    private(set) var fresh: Set<SharedSums> = []

    /// Makes a staging table of the catalog ready for the checks that read it:
    /// built the first time, built again only after `invalidate`, since
    /// building one reads a whole big table.
    func refresh(_ sums: SharedSums) throws {
        guard !fresh.contains(sums) else { return }
        guard let entry = Catalog.staging(sums) else { preconditionFailure("no staging entry makes \(sums.rawValue)") }
        try db.execute(sql: "DROP TABLE IF EXISTS \(entry.name)")
        // The splits' sums read in order and summed natively, when they are to
        // be read whole or in good part; else (or when the values ask for SQL) the catalog's SQL.
        var native = false
        if sums == .byAccountPartyStatement, try !onlySuspects || Catalog.suspectSplitsAreMany(db) {
            native = try SplitGroups.make(db, onlySuspects: onlySuspects)
        }
        if !native {
            try db.execute(sql: onlySuspects ? try Catalog.suspectsSQL(of: entry, in: db) : entry.sql)
        }
        if sums == .byAccountPartyStatement {
            try db.execute(
                sql:
                    "CREATE INDEX temp.v_grp_account ON v_grp(account_id); CREATE INDEX temp.v_grp_party ON v_grp(party_id)"
            )
        }
        fresh.insert(sums)
    }

    /// Says that a repair changed what `sums` sum, so they are built again when next needed.
    func invalidate(_ sums: SharedSums) {
        fresh.remove(sums)
    }

    /// Where a changed row's values lead when the repairs look only at the
    /// suspects: for each table, its columns (in the row before and after) and
    /// the suspects their values are (a transaction: see `grow`).
    private static let reach: [(table: String, column: String, suspects: String)] = [
        ("splits", "id", "splits"), ("splits", "transaction_id", "transactions"), ("splits", "account_id", "accounts"),
        ("splits", "party_id", "parties"), ("splits", "reconciliation_id", "reconciliations"),
        ("transactions", "id", "transactions"), ("transactions", "party_id", "parties"),
        ("accounts", "id", "accounts"), ("accounts", "parent_id", "accounts"),
        ("parties", "id", "parties"),
        ("documents", "transaction_id", "transactions"),
        ("document_lines", "id", "document_lines"), ("document_lines", "transaction_id", "transactions"),
        ("applications", "id", "applications"), ("applications", "payment_id", "transactions"),
        ("applications", "document_id", "transactions"),
        ("bank_feed", "id", "bank_feed"), ("bank_feed", "transaction_id", "transactions"),
        ("reconciliations", "id", "reconciliations"),
    ]

    /// After a repair, when the repairs look only at the suspects: makes every
    /// row it changed a suspect, with what those rows lead to (the accounts,
    /// parties and statements of a line before and after; a transaction's
    /// header, lines, document, applications and bank lines, and every sum it
    /// is part of); a staging table whose suspects grew is built again when
    /// next needed, so that it sums every suspect's rows.
    func grow() throws {
        guard onlySuspects else { return }
        let last =
            try Int64.fetchOne(
                db, sql: "SELECT COALESCE(MAX(id), 0) FROM repair_actions WHERE run_id = ?",
                arguments: [runID]) ?? 0
        guard last > grownTo else { return }
        try db.execute(
            sql: "DROP TABLE IF EXISTS temp.rebuild_touched; CREATE TEMP TABLE rebuild_touched (id INTEGER PRIMARY KEY)"
        )
        // The suspects' tables that gained a row: a staging table restricted to them must be built again.
        var grew: Set<String> = []
        func add(_ target: String, _ sql: String, _ arguments: StatementArguments = []) throws {
            try db.execute(sql: "INSERT OR IGNORE INTO \(target) (id) \(sql)", arguments: arguments)
            if db.changesCount > 0 { grew.insert(target) }
        }
        for (table, column, suspects) in Self.reach {
            try add(
                suspects == "transactions" ? "temp.rebuild_touched" : "temp.suspect_\(suspects)",
                """
                SELECT v FROM (
                  SELECT json_extract(before, '$.\(column)') AS v FROM repair_actions
                  WHERE run_id = ?1 AND id > ?2 AND table_name = '\(table)' AND before IS NOT NULL
                  UNION ALL
                  SELECT json_extract(after, '$.\(column)') FROM repair_actions
                  WHERE run_id = ?1 AND id > ?2 AND table_name = '\(table)' AND after IS NOT NULL)
                WHERE typeof(v) = 'integer'
                """, [runID, grownTo])
        }
        for suspects in ["transactions", "documents", "payments", "summed"] {
            try add("temp.suspect_\(suspects)", "SELECT id FROM temp.rebuild_touched")
        }
        for (table, column) in [
            ("splits", "transaction_id"), ("document_lines", "transaction_id"),
            ("applications", "payment_id"), ("applications", "document_id"),
            ("bank_feed", "transaction_id"),
        ] {
            try add(
                "temp.suspect_\(table)",
                "SELECT id FROM \(table) WHERE \(column) IN (SELECT id FROM temp.rebuild_touched)")
        }
        grownTo = last
        // What a repair changed in a staging table's rows it says with `invalidate`.
        for staging in Catalog.staging where grew.contains(where: { staging.suspectsOnly.contains($0) }) {
            invalidate(staging.sums)
        }
    }

    /// Whether the file holds the index `name`.
    func hasIndex(_ name: String) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'index' AND name = ?", arguments: [name])
            ?? false
    }

    private func nextActionID() throws -> Int64 {
        (try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) + 1 FROM repair_actions")) ?? 1
    }

    private func recordAfter(_ table: String, since first: Int64) throws {
        try db.execute(
            sql: """
                UPDATE repair_actions SET after = (SELECT \(Self.json(of: table, alias: "t")) FROM \(table) t WHERE t.rowid = repair_actions.row_id)
                WHERE id >= ?
                """, arguments: [first])
    }

    /// SQL that writes `cents` (an SQL integer expression) as "-1234.56".
    static func moneyText(_ cents: String) -> String {
        "printf('%s%d.%02d', CASE WHEN (\(cents)) < 0 THEN '-' ELSE '' END, ABS(\(cents)) / 100, ABS(\(cents)) % 100)"
    }
}
