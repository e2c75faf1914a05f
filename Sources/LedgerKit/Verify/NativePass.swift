import GRDB

/// The native pass of Verify: each big table read once, in rowid order,
/// through SQLite's C API, with the sums of docs/findings.md's balance checks kept in
/// arrays indexed by id.
///
/// The pass decides nothing on its own. It only clears rows that surely pass
/// every check (values in their canonical form, references to rows that
/// exist, sums that agree); the catalog's SQL then runs on every other row, so
/// the findings, their rows and their messages are the SQL's, whatever the
/// file holds. Where the pass cannot vouch for its arithmetic (sums that could
/// overflow) it returns nil and the SQL checks every row.
enum NativePass {
    /// The pass met something it does not judge; the SQL checks everything.
    struct Abandoned: Error {}

    /// Runs the pass on `db`, a connection to a file whose schema is complete
    /// (every table, column and index of docs/company-file.md) and typed as docs/company-file.md says.
    ///
    /// - Returns: the suspects, or nil when every row must go through the SQL
    ///   (also while an entry of the catalog has checks the pass does not judge).
    /// The rows' sides of the index check go to `sides` as the tables are read.
    /// - Throws: `DatabaseError` when a table cannot be read (damage).
    static func suspects(_ db: Database, sides: RowSides? = nil) throws -> Suspects? {
        guard FindingCatalog.nativePassJudgesAll() else { return nil }
        // One read transaction, so that every table is read as of one moment.
        guard !db.isInsideTransaction else { return try pass(db, sides: sides) }
        var result: Suspects?
        try db.inTransaction(.deferred) {
            result = try pass(db, sides: sides)
            return .commit
        }
        return result
    }

    private static func pass(_ db: Database, sides: RowSides?) throws -> Suspects? {
        var state = try State(db, sides: sides)
        do {
            try state.run(db)
            return state.suspects()
        } catch is Abandoned {
            return nil
        }
    }

    /// Whether the columns of every table are declared as docs/company-file.md declares them,
    /// so that SQLite converts values on write as the checks expect (an INTEGER
    /// column keeps no numeric text); another program's types send every row to SQL.
    static func typesAreStandard(_ db: Database) throws -> Bool {
        for table in Schema.tableNames {
            let declared = try Row.fetchAll(db, sql: "PRAGMA table_info(\"\(table)\")")
            var types: [String: String] = [:]
            for row in declared {
                guard let name = row.text("name") else { return false }
                types[name] = (row.text("type") ?? "").uppercased()
            }
            for column in Schema.columns[table] ?? [] where types[column.name] != column.type {
                return false
            }
        }
        return true
    }
}
