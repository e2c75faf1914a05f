import Foundation
import GRDB

/// Salvage without SQLite, for a file whose list of tables (`sqlite_master`)
/// SQLite cannot read, so that it refuses every query: the file is read page
/// by page and every table b-tree leaf that can be decoded gives back its rows.
///
/// A leaf belongs to a table when a table's root, found in what can still be
/// read of `sqlite_master`, leads to it and its rows lie within the rowids the
/// interior pages' keys give its place; otherwise its rows are matched to the
/// table of docs/company-file.md whose columns they fit. Pages on the freelist hold deleted
/// rows and are never read. With the indexes unreadable too, how many rows were
/// lost cannot be counted.
enum PageSalvage {
    static func run(from source: String, into dst: Database, now: Date) throws -> [SalvagedTable]? {
        guard let file = try? PageFile(path: source) else { return nil }
        // A freelist that does not add up (a trunk of garbage) is believed in nothing:
        // its numbers could name live leaves, and any unreached leaf may be a free page.
        let freelist = file.freelistRead()
        let freelistShort = !freelist.sound
        let free = freelistShort ? [] : freelist.pages
        var inserts: [String: Statement] = [:]
        for table in Schema.tableNames {
            let shape = Schema.columns[table] ?? []
            inserts[table] = try dst.makeStatement(
                sql: "INSERT OR IGNORE INTO \(table) (" + shape.map(\.name).joined(separator: ", ")
                    + ") VALUES (" + Array(repeating: "?", count: shape.count).joined(separator: ", ") + ")")
        }
        var recovered: [String: Int] = [:]
        var altered: [String: Int] = [:]
        /// Inserts a leaf's rows into `table`; a rowid already there (from a page read earlier) is kept.
        /// Returns the rowids it inserted.
        @discardableResult
        func insert(_ rows: [(rowid: Int64, values: [DatabaseValue])], into table: String) throws -> [Int64] {
            let shape = Schema.columns[table] ?? []
            var inserted: [Int64] = []
            for row in rows where row.values.count <= shape.count {
                var values = row.values + Array(repeating: DatabaseValue.null, count: shape.count - row.values.count)
                if let key = shape.firstIndex(where: \.isKey) { values[key] = row.rowid.databaseValue }
                guard let statement = inserts[table] else { continue }
                do {
                    try statement.execute(arguments: StatementArguments(values))
                    if dst.changesCount > 0 {
                        recovered[table, default: 0] += 1
                        inserted.append(row.rowid)
                    } else if let mended = CheckedValues.mended(table, columns: shape.map(\.name), values: values),
                        try Int.fetchOne(dst, sql: "SELECT 1 FROM \(table) WHERE rowid = ?", arguments: [row.rowid])
                            == nil
                    {
                        // OR IGNORE passed over a value a CHECK refuses: kept with a replacement.
                        try statement.execute(arguments: StatementArguments(mended))
                        recovered[table, default: 0] += dst.changesCount
                        altered[table, default: 0] += dst.changesCount
                        if dst.changesCount > 0 { inserted.append(row.rowid) }
                    }
                } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                    continue
                }
            }
            return inserted
        }
        // What sqlite_master still says: the root page of each table, and the leaves it leads to.
        var read: Set<Int> = free.union(file.leaves(from: 1, skipping: free))
        var unread: [String: [ClosedRange<Int64>]] = [:]
        for (name, root) in file.tableRoots() where Schema.tableNames.contains(name) && unread[name] == nil {
            // Where the b-tree leads to a page that is not there, its keys bound the rowids lost.
            unread[name] = file.unreadable(from: root, skipping: free)
            // The rowids each leaf's place holds, as the interior pages' keys bound them.
            let places = Dictionary(
                file.leafKeys(from: root, skipping: free).map { ($0.page, $0.keys) }, uniquingKeysWith: { $1 })
            for number in file.leaves(from: root, skipping: free) where !read.contains(number) {
                guard let page = file.page(number), let rows = file.rows(ofLeaf: page) else {
                    read.insert(number)
                    unread[name, default: []].append(places[number] ?? Int64.min...Int64.max)
                    continue
                }
                // A row outside its leaf's place: the page is not this table's (another's
                // swapped in, or garbage). Its place is what the damage took here, and the page
                // is left to be matched by the shape of its rows, below.
                if let keys = places[number], rows.contains(where: { !keys.contains($0.rowid) }) {
                    unread[name, default: []].append(keys)
                    continue
                }
                read.insert(number)
                try insert(rows, into: name)
            }
        }
        // Table leaves no known root reaches: matched by the shape of their rows. When the
        // freelist could not be read whole, such a leaf may be a free page, whose rows were
        // deleted before the damage: they are kept, but in doubt, for a person or a snapshot.
        var doubted: [String: [Int64]] = [:]
        try unreachedLeaves(in: file, reached: read) { _, table, rows in
            let inserted = try insert(rows, into: table)
            if freelistShort { doubted[table, default: []] += inserted }
        }
        guard !recovered.isEmpty else { return nil }
        return Schema.tableNames.map { table in
            // A table whose every page its b-tree leads to was read came back whole.
            if let gaps = unread[table], gaps.isEmpty {
                var whole = SalvagedTable(
                    table: table, recovered: recovered[table] ?? 0, fromIndexes: 0, lost: 0, lostIsExact: true,
                    altered: altered[table] ?? 0, note: nil)
                whole.damage.doubtedIDs = doubted[table] ?? []
                return whole
            }
            var salvaged = SalvagedTable(
                table: table, recovered: recovered[table] ?? 0, fromIndexes: 0, lost: 0, lostIsExact: false,
                altered: altered[table] ?? 0,
                note:
                    "the file's list of tables was damaged: rows were read page by page, and how many were lost cannot be counted"
            )
            // The rowids its b-tree's keys bound, or any rowid at all.
            salvaged.damage = TableDamage(gaps: unread[table] ?? TableDamage.everything.gaps)
            salvaged.damage.doubtedIDs = doubted[table] ?? []
            return salvaged
        }
    }

    /// Calls `each` with every table leaf of `file` past page 1 that is not in
    /// `reached`, in page order, with the table of docs/company-file.md its
    /// rows fit (`Shape`) and those rows; leaves that fit no one table are left out.
    static func unreachedLeaves(
        in file: PageFile, reached: Set<Int>,
        _ each: (Int, String, [(rowid: Int64, values: [DatabaseValue])]) throws -> Void
    ) rethrows {
        for number in 2...max(2, file.pageCount) where !reached.contains(number) {
            guard let page = file.page(number), page.first == 0x0D, let rows = file.rows(ofLeaf: page),
                let table = Shape.table(fitting: rows.map(\.values))
            else { continue }
            try each(number, table, rows)
        }
    }

    /// Which table of docs/company-file.md rows decoded from a page belong to.
    enum Shape {
        /// The one table whose columns most of `rows` fit, if there is one.
        static func table(fitting rows: [[DatabaseValue]]) -> String? {
            guard !rows.isEmpty else { return nil }
            var best: (table: String, fits: Int)?
            var tie = false
            for (table, shape) in Schema.columns {
                let fits = rows.filter { fit($0, shape) }.count
                guard fits * 5 >= rows.count * 4 else { continue }
                if fits > best?.fits ?? 0 {
                    best = (table, fits)
                    tie = false
                } else if fits == best?.fits {
                    tie = true
                }
            }
            return tie ? nil : best?.table
        }

        /// Whether `values` fit the columns of `table` of docs/company-file.md.
        static func fits(_ values: [DatabaseValue], _ table: String) -> Bool {
            Schema.columns[table].map { fit(values, $0) } ?? false
        }

        private static func fit(_ values: [DatabaseValue], _ shape: [Schema.Column]) -> Bool {
            guard values.count == shape.count else { return false }
            for (value, column) in zip(values, shape) {
                switch value.storage {
                case .null:
                    if column.notNull && !column.isKey { return false }
                case .int64:
                    if !column.isInteger || column.isKey { return false }
                case .string:
                    if column.isInteger { return false }
                case .double, .blob:
                    return false
                }
            }
            return true
        }
    }
}
