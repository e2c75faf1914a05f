import Foundation
import GRDB

/// The physical layer of Verify: SQLite's own structure check and the schema
/// objects of docs/company-file.md.
enum StructureCheck {
    /// The structure check on two connections at once: SQLite checks one table
    /// and its indexes at a time (`PRAGMA integrity_check(TABLE)`), so the
    /// tables are shared between them, biggest first, and what only a check of
    /// the whole file sees (pages used twice, or never) is checked by
    /// accounting for every page: each b-tree's pages (`dbstat`) and the
    /// freelist's (read from the file) must together be every page once.
    ///
    /// When the pages do not add up, or the file cannot be checked in parts (a
    /// log of changes not yet written back, auto-vacuum's pointer pages), the
    /// whole-file check runs and its findings are the answer: the verdict is
    /// always `integrity_check`'s (or `quick_check`'s).
    ///
    /// The full check proves each table's indexes in two parts (`IndexAgreement`):
    /// the indexes' entries first, then the rows, taken from `sides` when the
    /// native pass hands them over, so that the big tables are read once.
    static func integrity(
        path: String, connections: [DatabaseQueue], quick: Bool, sides: RowSides? = nil
    ) throws -> [Finding] {
        guard let first = connections.first else { return [] }
        guard connections.count > 1, let tables = try? first.inDatabase({ try tablesToCheck($0, path: path) }) else {
            return try first.inDatabase { try integrity($0, quick: quick) }
        }
        /// One part of the split check.
        enum Job: Sendable {
            /// Check this one table (and its indexes) alone.
            case table(String)
            /// Check that the file's pages add up: every page used once.
            case pages
        }
        // The page accounting goes third, after the two biggest tables have started.
        let jobs = Array(tables.map(Job.table).prefix(2)) + [.pages] + tables.dropFirst(2).map(Job.table)
        let pool = ConnectionPool(connections)
        // Each part says whether it can stand for its share of the whole check.
        let results = Results<Part>(count: jobs.count)
        try Parallel.forEach(jobs.count, width: connections.count) { index in
            try pool.with { queue in
                try queue.inDatabase { db in
                    switch jobs[index] {
                    case .table(let name):
                        results.set(index, try soundly { try firstPart(db, quick: quick, table: name) })
                    case .pages:
                        results.set(index, (try? pagesAddUp(db, path: path)) == true ? .done([]) : .unsound)
                    }
                }
            }
        }
        let parts = results.values
        guard parts.count == jobs.count else { return try first.inDatabase { try integrity($0, quick: quick) } }
        // The rows' side of each index agreement, once its entries are read.
        let agreements = parts.compactMap { part -> IndexAgreement.Entries? in
            guard case .agreement(let entries) = part else { return nil }
            return entries
        }
        let agreed = Results<Part>(count: agreements.count)
        try Parallel.forEach(agreements.count, width: connections.count) { index in
            try pool.with { queue in
                try queue.inDatabase { db in
                    agreed.set(
                        index,
                        try soundly {
                            .done(
                                try secondPart(
                                    db, entries: agreements[index], handed: sides?.side(of: agreements[index].table)))
                        })
                }
            }
        }
        let checked = agreed.values
        var findings: [Finding] = []
        for part in parts + checked {
            switch part {
            case .done(let found): findings += found
            case .agreement: continue
            case .unsound: return try first.inDatabase { try integrity($0, quick: quick) }
            }
        }
        guard checked.count == agreements.count else { return try first.inDatabase { try integrity($0, quick: quick) } }
        return findings
    }

    /// Where one table's part of the split check stands.
    enum Part: Sendable {
        /// Checked: these are its findings.
        case done([Finding])
        /// Its indexes' entries are read; their agreement with the rows is still to prove.
        case agreement(IndexAgreement.Entries)
        /// SQLite will not check the table alone: the whole file is checked.
        case unsound
    }

    /// Runs `part`, turning an error that is not a lock into `unsound`.
    private static func soundly(_ part: () throws -> Part) throws -> Part {
        do {
            return try part()
        } catch let error as DatabaseError where error.resultCode != .SQLITE_BUSY && error.resultCode != .SQLITE_LOCKED
        {
            return .unsound
        }
    }

    /// `quick_check` of the table, and for the full check its indexes'
    /// entries, read in order: the agreement with the rows is then still to prove.
    private static func firstPart(_ db: Database, quick: Bool, table: String) throws -> Part {
        let found = try integrity(db, quick: true, table: table)
        if quick { return .done(found) }
        if found.isEmpty, let entries = IndexAgreement.entries(db, table: table) {
            return entries.indexes.isEmpty ? .done([]) : .agreement(entries)
        }
        return .done(try integrity(db, quick: false, table: table))
    }

    /// The indexes' agreement with the rows: with the rows' side `handed`
    /// over, else (or when it differs) read here; `integrity_check` of the
    /// table when they do not agree.
    private static func secondPart(
        _ db: Database, entries: IndexAgreement.Entries, handed: IndexAgreement.TableSide?
    ) throws -> [Finding] {
        if IndexAgreement.holds(entries, rows: handed) == true { return [] }
        if IndexAgreement.holds(entries, rows: IndexAgreement.rows(db, entries: entries)) == true { return [] }
        return try integrity(db, quick: false, table: entries.table)
    }

    /// The tables to check one by one, biggest first, with `sqlite_master`;
    /// nil when the file must be checked whole.
    private static func tablesToCheck(_ db: Database, path: String) throws -> [String]? {
        if WriteAheadLog.isBeside(path) { return nil }
        guard try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == 0 else { return nil }
        let names = try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND rootpage > 0 ORDER BY rootpage")
        let biggestFirst = ["splits", "transactions", "document_lines", "bank_feed", "applications", "documents"]
        return biggestFirst.filter(names.contains) + names.filter { !biggestFirst.contains($0) } + ["sqlite_master"]
    }

    /// Whether every page of the file is in exactly one b-tree or on the
    /// freelist, and the freelist is as long as the header says.
    static func pagesAddUp(_ db: Database, path: String) throws -> Bool {
        guard let pageCount = try Int.fetchOne(db, sql: "PRAGMA page_count"),
            let freePages = try Int.fetchOne(db, sql: "PRAGMA freelist_count"),
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size"), pageCount > 0
        else { return false }
        var seen = [UInt64](repeating: 0, count: pageCount / 64 + 1)
        var marked = 0
        func mark(_ page: Int) -> Bool {
            guard page >= 1, page <= pageCount else { return false }
            let (word, bit) = (page / 64, UInt64(1) << UInt64(page % 64))
            guard seen[word] & bit == 0 else { return false }
            seen[word] |= bit
            marked += 1
            return true
        }
        let pages = try RawRows(db, sql: "SELECT pageno FROM dbstat")
        while try pages.next() {
            guard let page = pages.integer(0), mark(Int(page)) else { return false }
        }
        // The freelist, from the file: there is no log whose pages would be newer.
        let file = try PageFile(path: path)
        guard file.pageSize == pageSize, let header = file.page(1) else { return false }
        var trunk = Int(PageFile.uint32(header, 32))
        var listed = 0
        while trunk != 0 {
            guard mark(trunk), let bytes = file.page(trunk) else { return false }
            let leaves = Int(PageFile.uint32(bytes, 4))
            guard leaves <= (file.usable - 8) / 4 else { return false }
            for index in 0..<leaves where !mark(Int(PageFile.uint32(bytes, 8 + 4 * index))) { return false }
            listed += 1 + leaves
            trunk = Int(PageFile.uint32(bytes, 0))
        }
        guard listed == freePages, Int(PageFile.uint32(header, 36)) == freePages else { return false }
        // The page that holds the lock bytes, past 1 GiB, belongs to no one.
        let lockPage = 1_073_741_824 / pageSize + 1
        if lockPage <= pageCount, !mark(lockPage) { return false }
        return marked == pageCount
    }
    /// Runs `PRAGMA integrity_check` (or `quick_check`), of one table and its
    /// indexes when `table` is given, and turns what it reports
    /// into `sqlite-corruption` findings, leaving out constraint failures, which
    /// the `invalid-value` check reports instead.
    static func integrity(_ db: Database, quick: Bool, table: String? = nil) throws -> [Finding] {
        var findings: [Finding] = []
        let pragma = quick ? "PRAGMA quick_check" : "PRAGMA integrity_check"
        do {
            let lines = try String.fetchCursor(
                db,
                sql: table.map { pragma + "(" + Quoting.sqlIdentifier($0) + ")" } ?? pragma)
            // A row may hold several lines ("*** in database main ***" and what follows).
            while let row = try lines.next() {
                for line in row.split(separator: "\n").map(String.init) {
                    if let finding = finding(forIntegrityLine: line, db: db) { findings.append(finding) }
                }
            }
        } catch let error as DatabaseError where isDamage(error) {
            findings.append(stopped(error.message ?? "damaged"))
        }
        return findings
    }

    /// The check could not go on: SQLite's words for why.
    static func stopped(_ reason: String) -> Finding {
        Finding(
            code: .sqliteCorruption, table: nil, rowID: nil,
            message:
                "SQLite stopped checking the file's structure: \(reason); ledger rebuild salvages every readable row")
    }

    static func finding(forIntegrityLine line: String, db: Database) -> Finding? {
        if line == "ok" || line.hasPrefix("*** in database") || line.hasPrefix("NULL value in ")
            || line.hasPrefix("CHECK constraint failed") || line.hasPrefix("NOT NULL constraint failed")
        {
            return nil
        }
        // SQLite reports the same failed read either as the statement's error or
        // as this bare line, and which one varies from run to run on one file
        // (seen under load, beside the other connections): one fact, one finding.
        if line == "database disk image is malformed" { return stopped(line) }
        let words = line.split(separator: " ").map(String.init)
        // "row 12 missing from index splits_account"
        if words.count == 6, words[0] == "row", words[2] == "missing", let row = Int64(words[1]) {
            let index = words[5]
            let table = tableOf(index: index, db: db)
            return Finding(
                code: .sqliteCorruption, table: table, rowID: row,
                message:
                    "The index \(index) has lost row \(row) of \(table ?? "its table"); ledger rebuild rebuilds the index"
            )
        }
        // "wrong # of entries in index splits_account"
        if line.hasPrefix("wrong # of entries in index "), let index = words.last {
            let table = tableOf(index: index, db: db)
            return Finding(
                code: .sqliteCorruption, table: table, rowID: nil,
                message: "The index \(index) has the wrong number of entries; ledger rebuild rebuilds the index")
        }
        // "Tree 5 page 7 cell 0: ..." names the b-tree by its root page.
        var table: String?
        if words.count > 1, words[0] == "Tree", let root = Int(words[1]) {
            table = try? String.fetchOne(
                db, sql: "SELECT tbl_name FROM sqlite_master WHERE rootpage = ?", arguments: [root])
        }
        return Finding(
            code: .sqliteCorruption, table: table, rowID: nil,
            message:
                "The file's structure is damaged (SQLite says: \(line)); ledger rebuild salvages every readable row")
    }

    private static func tableOf(index: String, db: Database) -> String? {
        if let known = Schema.indexes.first(where: { $0.name == index }) { return known.table }
        return try? String.fetchOne(
            db, sql: "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = ?",
            arguments: [index])
    }

    /// Whether an SQLite error means the file itself is damaged (rather than busy or refused).
    static func isDamage(_ error: DatabaseError) -> Bool {
        CompanyFileError.isDamage(error)
    }

    /// The column names of each table of docs/company-file.md.
    static let expectedColumns: [String: [String]] = Schema.columns.mapValues { $0.map(\.name) }

    /// Finds missing tables, columns and indexes of docs/company-file.md.
    ///
    /// - Returns: the findings, and what the file has for the logical checks:
    ///   the tables that are whole (present with every column), the only ones
    ///   they may read, and each missing index.
    static func schema(_ db: Database) throws -> (findings: [Finding], has: Set<Need>) {
        var findings: [Finding] = []
        var has: Set<Need> = []
        let present = try Row.fetchAll(db, sql: "SELECT type, name FROM sqlite_master")
        // A damaged list of tables may hold anything: read it as stored values.
        let tables = Set(present.filter { $0.text("type") == "table" }.compactMap { $0.text("name") })
        let indexes = Set(present.filter { $0.text("type") == "index" }.compactMap { $0.text("name") })
        for table in Schema.tables {
            guard tables.contains(table.name) else {
                findings.append(
                    Finding(
                        code: .schemaObjectMissing, table: table.name, rowID: nil,
                        message: "The table \(table.name) is missing from the file; ledger rebuild recreates it"))
                continue
            }
            let have = Set(
                try Row.fetchAll(db, sql: "PRAGMA table_info(\"\(table.name)\")").compactMap { $0.text("name") })
            let missing = (expectedColumns[table.name] ?? []).filter { !have.contains($0) }
            for column in missing {
                findings.append(
                    Finding(
                        code: .schemaObjectMissing, table: table.name, rowID: nil,
                        message: "The column \(table.name).\(column) is missing; ledger rebuild recreates it"))
            }
            if missing.isEmpty { has.insert(.table(table.name)) }
        }
        for index in Schema.indexes where !indexes.contains(index.name) {
            findings.append(
                Finding(
                    code: .schemaObjectMissing, table: index.table, rowID: nil,
                    message: "The index \(index.name) of \(index.table) is missing; ledger rebuild recreates it"))
            // A check that a unique index makes impossible runs only without it.
            has.insert(.missingIndex(index.name))
        }
        return (findings, has)
    }
}
