import GRDB

/// The physical layer of Verify: SQLite's own structure check and the schema
/// objects of SPEC §1.
enum StructureCheck {
    /// Runs `PRAGMA integrity_check` (or `quick_check`) and turns what it reports
    /// into `sqlite-corruption` findings, leaving out constraint failures, which
    /// the `invalid-value` check reports instead.
    static func integrity(_ db: Database, quick: Bool) throws -> [Finding] {
        var findings: [Finding] = []
        do {
            let lines = try String.fetchCursor(db, sql: quick ? "PRAGMA quick_check" : "PRAGMA integrity_check")
            // A row may hold several lines ("*** in database main ***" and what follows).
            while let row = try lines.next() {
                for line in row.split(separator: "\n").map(String.init) {
                    if let finding = finding(forIntegrityLine: line, db: db) { findings.append(finding) }
                }
            }
        } catch let error as DatabaseError where isDamage(error) {
            findings.append(Finding(code: .sqliteCorruption, table: nil, rowID: nil,
                                    message: "SQLite stopped checking the file's structure: \(error.message ?? "damaged"); ledger rebuild salvages every readable row"))
        }
        return findings
    }

    static func finding(forIntegrityLine line: String, db: Database) -> Finding? {
        if line == "ok" || line.hasPrefix("*** in database") || line.hasPrefix("NULL value in ")
            || line.hasPrefix("CHECK constraint failed") || line.hasPrefix("NOT NULL constraint failed") {
            return nil
        }
        let words = line.split(separator: " ").map(String.init)
        // "row 12 missing from index splits_account"
        if words.count == 6, words[0] == "row", words[2] == "missing", let row = Int64(words[1]) {
            let index = words[5]
            let table = tableOf(index: index, db: db)
            return Finding(code: .sqliteCorruption, table: table, rowID: row,
                           message: "The index \(index) has lost row \(row) of \(table ?? "its table"); ledger rebuild rebuilds the index")
        }
        // "wrong # of entries in index splits_account"
        if line.hasPrefix("wrong # of entries in index "), let index = words.last {
            let table = tableOf(index: index, db: db)
            return Finding(code: .sqliteCorruption, table: table, rowID: nil,
                           message: "The index \(index) has the wrong number of entries; ledger rebuild rebuilds the index")
        }
        // "Tree 5 page 7 cell 0: ..." names the b-tree by its root page.
        var table: String?
        if words.count > 1, words[0] == "Tree", let root = Int(words[1]) {
            table = try? String.fetchOne(db, sql: "SELECT tbl_name FROM sqlite_master WHERE rootpage = ?", arguments: [root])
        }
        return Finding(code: .sqliteCorruption, table: table, rowID: nil,
                       message: "The file's structure is damaged (SQLite says: \(line)); ledger rebuild salvages every readable row")
    }

    private static func tableOf(index: String, db: Database) -> String? {
        if let known = Schema.indexes.first(where: { $0.name == index }) { return known.table }
        return try? String.fetchOne(db, sql: "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = ?",
                                    arguments: [index])
    }

    /// Whether an SQLite error means the file itself is damaged (rather than busy or refused).
    static func isDamage(_ error: DatabaseError) -> Bool {
        [.SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_IOERR, .SQLITE_FORMAT, .SQLITE_RANGE, .SQLITE_MISMATCH]
            .contains(error.resultCode)
    }

    /// The column names of each table of SPEC §1.
    static let expectedColumns: [String: [String]] = Schema.columns.mapValues { $0.map(\.name) }

    /// Finds missing tables, columns and indexes of SPEC §1.
    ///
    /// - Returns: the findings, and the tables that are whole (present with every
    ///   column), which are the only ones the logical checks may read, with a
    ///   `no-index:NAME` entry for each missing index.
    static func schema(_ db: Database) throws -> (findings: [Finding], wholeTables: Set<String>) {
        var findings: [Finding] = []
        var whole: Set<String> = []
        let present = try Row.fetchAll(db, sql: "SELECT type, name FROM sqlite_master")
        // A damaged list of tables may hold anything: read it as stored values.
        let tables = Set(present.filter { $0.text("type") == "table" }.compactMap { $0.text("name") })
        let indexes = Set(present.filter { $0.text("type") == "index" }.compactMap { $0.text("name") })
        for table in Schema.tables {
            guard tables.contains(table.name) else {
                findings.append(Finding(code: .schemaObjectMissing, table: table.name, rowID: nil,
                                        message: "The table \(table.name) is missing from the file; ledger rebuild recreates it"))
                continue
            }
            let have = Set(try Row.fetchAll(db, sql: "PRAGMA table_info(\"\(table.name)\")").compactMap { $0.text("name") })
            let missing = (expectedColumns[table.name] ?? []).filter { !have.contains($0) }
            for column in missing {
                findings.append(Finding(code: .schemaObjectMissing, table: table.name, rowID: nil,
                                        message: "The column \(table.name).\(column) is missing; ledger rebuild recreates it"))
            }
            if missing.isEmpty { whole.insert(table.name) }
        }
        for index in Schema.indexes where !indexes.contains(index.name) {
            findings.append(Finding(code: .schemaObjectMissing, table: index.table, rowID: nil,
                                    message: "The index \(index.name) of \(index.table) is missing; ledger rebuild recreates it"))
            // A check that a unique index makes impossible runs only without it.
            whole.insert("no-index:" + index.name)
        }
        return (findings, whole)
    }
}
