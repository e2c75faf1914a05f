import Foundation
import GRDB

/// Salvage of a company file SQLite cannot read whole (docs/findings.md, sqlite-corruption):
/// a fresh file with the schema of docs/company-file.md receives every row that can still be
/// read, table by table.
///
/// A table is read in rowid order from its own b-tree (never through an index,
/// which may be the damaged part), one leaf page at a time: the keys of the
/// interior pages bound the rowids each leaf may hold (`PageFile.leafKeys`), and
/// a row outside them, or not among the cells of the leaf's page, is not this
/// table's row of that place (another table's page swapped in, or garbage): it
/// is not kept, and the leaf's whole place is what the damage took. When a page
/// cannot be read, the reader seeks past it within the leaf, and goes on at the
/// next leaf; where no leaf is known, it probes ever further rowids until a seek
/// succeeds, then narrows down to the first rowid it can reach. The rows in
/// between are what the damage took; the table's indexes still list their
/// rowids (so the loss is counted exactly) and some of their columns, from which
/// whole rows are rebuilt where the schema allows it: a transaction from its
/// date (and party), a customer or vendor from its kind and name.
enum Salvage {
    /// What a salvage read, and the damaged file's integrity check when it ran one.
    struct Salvaged {
        /// Per table of docs/company-file.md, what came back.
        var tables: [SalvagedTable]
        /// The check salvage ran on the damaged file; nil when SQLite could not read its list of tables.
        var check: DamagedPages.Check?
    }

    static func run(from source: String, into destination: String, original: String, now: Date) throws
        -> Salvaged
    {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        configuration.label = "ledger-salvage"
        // Made private first: the salvaged rows, and SQLite's -wal and -shm, are the books.
        AtomicFile.removeDatabaseFiles(at: destination)
        try PrivateFile.create(at: destination)
        let writer = try DatabaseQueue(path: destination, configuration: configuration)
        defer { try? writer.close() }
        return try writer.writeWithoutTransaction { dst in
            try dst.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA temp_store = FILE")
            // CHECK constraints stay on: a salvaged file is one that integrity_check
            // calls ok; a value a CHECK refuses is replaced (`CheckedValues`) and counted.
            var report = Salvaged(tables: [], check: nil)
            try dst.inTransaction(.immediate) {
                for table in Schema.tables { try dst.execute(sql: table.sql) }
                try dst.execute(
                    sql: """
                        CREATE TABLE \(indexValues) (tbl TEXT NOT NULL, id INTEGER NOT NULL, col TEXT NOT NULL, value,
                          PRIMARY KEY (tbl, id, col)) WITHOUT ROWID
                        """)
                try dst.execute(
                    sql:
                        "PRAGMA application_id = \(Schema.applicationID); PRAGMA user_version = \(Schema.formatVersion)"
                )
                do {
                    report = try throughSQLite(from: source, to: dst, now: now)
                } catch let error as SchemaUnreadable {
                    // SQLite refuses the file altogether: read its pages ourselves.
                    guard let pages = try PageSalvage.run(from: source, into: dst, now: now) else {
                        throw RebuildError.unsalvageable(path: original, detail: error.detail)
                    }
                    report = Salvaged(tables: pages, check: nil)
                }
                try FormatMigrations.markApplied(upTo: Schema.formatVersion, in: dst)
                // The repairs need the lookup indexes (and so do the next two steps); the unique
                // ones are made after them.
                for index in Schema.indexes where !index.sql.hasPrefix("CREATE UNIQUE") {
                    try dst.execute(sql: index.sql)
                }
                try inferKinds(
                    dst, rebuilt: report.tables.first { $0.table == "transactions" }?.damage.rebuiltIDs ?? [])
                try headersNamedByOtherRows(dst, tables: &report.tables, now: now)
                return .commit
            }
            return report
        }
    }

    /// SQLite cannot read the list of tables.
    private struct SchemaUnreadable: Error {
        let detail: String
    }

    /// Copies every table SQLite can find through `sqlite_master`.
    /// - Throws: `SchemaUnreadable` when SQLite cannot read the list of tables.
    private static func throughSQLite(from source: String, to dst: Database, now: Date) throws -> Salvaged {
        let access = ReadOnlyAccess(path: source)
        defer { access.close() }
        let reader: DatabaseQueue
        let layout: [String: [String]]
        let indexes: [(name: String, table: String)]
        do {
            reader = try access.connect()
            (layout, indexes) = try reader.inDatabase { db in
                var layout: [String: [String]] = [:]
                // A damaged list of tables may hold anything: read it as stored values.
                let names = try Row.fetchAll(
                    db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                for table in names.compactMap({ $0.text("name") }) {
                    layout[table] = try Row.fetchAll(db, sql: "PRAGMA table_info(\"\(table)\")").compactMap {
                        $0.text("name")
                    }
                }
                let indexes = try Row.fetchAll(db, sql: "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'")
                    .compactMap { row in
                        row.text("name").flatMap { name in row.text("tbl_name").map { (name: name, table: $0) } }
                    }
                return (layout, indexes)
            }
        } catch let error as DatabaseError {
            throw SchemaUnreadable(detail: error.message ?? "damaged")
        } catch let error as CompanyFileError {
            throw SchemaUnreadable(detail: error.localizedDescription)
        }
        var report: [SalvagedTable] = []
        var check: DamagedPages.Check?
        try reader.inDatabase { src in
            // The integrity check, for the indexes it names, and the file's pages: once for every table.
            let ran = DamagedPages.Check(src)
            check = ran
            let doubted = ran.indexesNamed
            let pages = try? PageFile(path: source)
            let orphans = OrphanLeaves(pages)
            for table in Schema.tableNames {
                guard let columns = layout[table] else {
                    var missing = SalvagedTable(
                        table: table, recovered: 0, fromIndexes: 0, lost: 0, lostIsExact: false,
                        note: "the table was missing; it was made again, empty")
                    missing.damage = .everything
                    report.append(missing)
                    continue
                }
                let own = indexes.filter { $0.table == table }.map(\.name)
                report.append(
                    try copy(
                        table, columns: columns, indexes: own, doubted: doubted, from: src, pages: pages,
                        orphans: orphans, to: dst, now: now))
            }
            // Tables of other tools (GRDB's migrations, a user's own) come along as they are.
            // Not ours to refuse a salvage over, but never dropped in silence: a
            // table that cannot be copied (WITHOUT ROWID, say) is reported as lost.
            for (table, columns) in layout.sorted(by: { $0.key < $1.key }) where !Schema.tableNames.contains(table) {
                do {
                    let definition = try Row.fetchOne(
                        src, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                        arguments: [table])
                    guard let sql = definition?.text("sql") else {
                        throw RebuildError.unsalvageable(path: table, detail: "its definition cannot be read")
                    }
                    try dst.inSavepoint {
                        try dst.execute(sql: sql)
                        report.append(
                            try copy(table, columns: columns, indexes: [], from: src, pages: pages, to: dst, now: now))
                        return .commit
                    }
                } catch {
                    let reason = (error as? DatabaseError)?.message ?? "\(error)"
                    report.append(
                        SalvagedTable(
                            table: table, recovered: 0, fromIndexes: 0, lost: 0, lostIsExact: false,
                            note:
                                "a table of another program, which could not be copied (\(reason)); the pre-rebuild snapshot keeps it"
                        ))
                }
            }
        }
        return Salvaged(tables: report, check: check)
    }

    /// The memo of a transaction rebuilt from the file's indexes.
    static let fromIndexesMemo = "Recovered by rebuild from the file's indexes: its kind, number and memo were lost"

    /// The memo of a transaction made again from the rows that name it.
    static let fromReferencesMemo =
        "Recovered by rebuild from the rows that name it: its kind, date, number and memo were lost"

    /// Makes again, each with its own id, the transactions the damage took
    /// whose rows survived to show they were there: a surviving `documents`
    /// row or lines name it, or splits do together with an application or a
    /// matched bank line. Missing, the repairs would delete those rows as
    /// belonging to nothing, and a row that survived is never deleted because
    /// rows it depends on were lost (SPEC §3).
    ///
    /// Only where the table's indexes cannot say which rows it held (none
    /// read to its end): where one can, a header it does not name was not in
    /// the file (deleted by another program, its links left behind), and one
    /// it names was rebuilt from it already. Only in the table's gaps.
    ///
    /// Dated as `orphan-split` dates its journals, with the party of its
    /// receivable or payable line, else of a transaction applied with it.
    /// Its kind is what its rows show beyond doubt: an invoice (a bill) when
    /// only the receivable side (the payable side) shows, by its lines'
    /// accounts or its party; a payment (a bill payment) likewise; else a
    /// journal, whose document rows the repairs then delete, as before.
    /// Counted with the rows rebuilt from indexes (fields missing), and said
    /// in the table's note.
    private static func headersNamedByOtherRows(_ dst: Database, tables: inout [SalvagedTable], now: Date) throws {
        guard let at = tables.firstIndex(where: { $0.table == "transactions" }) else { return }
        let gaps = tables[at].damage.gaps
        guard !gaps.isEmpty, !tables[at].damage.listsEveryRow else { return }
        let named = try Int64.fetchAll(
            dst,
            sql: """
                WITH orphaned AS (
                  SELECT DISTINCT transaction_id AS id FROM splits WHERE transaction_id NOT IN (SELECT id FROM transactions))
                SELECT id FROM (
                  SELECT transaction_id AS id FROM documents UNION SELECT transaction_id FROM document_lines
                  UNION SELECT id FROM orphaned
                  WHERE id IN (SELECT payment_id FROM applications UNION SELECT document_id FROM applications
                               UNION SELECT transaction_id FROM bank_feed WHERE status IN ('matched', 'added')))
                WHERE typeof(id) = 'integer' AND id NOT IN (SELECT id FROM transactions) ORDER BY id
                """
        ).filter { id in gaps.contains { $0.contains(id) } }
        guard !named.isEmpty else { return }
        let stamp = Timestamp.string(from: now)
        let insert = try dst.makeStatement(
            sql: """
                INSERT INTO transactions (id, kind, date, number, party_id, memo, created_at, modified_at)
                VALUES (?1, 'journal',
                  COALESCE(
                    (SELECT MIN(r.statement_date) FROM splits s JOIN reconciliations r ON r.id = s.reconciliation_id
                     WHERE s.transaction_id = ?1 AND s.cleared = 'r'),
                    (SELECT MIN(posted_date) FROM bank_feed WHERE transaction_id = ?1), ?2),
                  NULL,
                  COALESCE(
                    (SELECT s.party_id FROM splits s JOIN accounts a ON a.id = s.account_id
                     WHERE s.transaction_id = ?1 AND a.type IN ('accounts_receivable', 'accounts_payable')
                       AND s.party_id IN (SELECT id FROM parties) ORDER BY s.id LIMIT 1),
                    (SELECT t.party_id FROM applications ap
                     JOIN transactions t ON t.id = CASE WHEN ap.payment_id = ?1 THEN ap.document_id ELSE ap.payment_id END
                     WHERE ?1 IN (ap.payment_id, ap.document_id) AND t.party_id IN (SELECT id FROM parties)
                     ORDER BY ap.id LIMIT 1)),
                  ?3, ?4, ?4)
                """)
        for id in named {
            try insert.execute(arguments: [id, String(stamp.prefix(10)), fromReferencesMemo, stamp])
        }
        try idTable("salvage_made", of: named, in: dst)
        defer { try? dst.execute(sql: "DROP TABLE IF EXISTS temp.salvage_made") }
        // Each side, by the accounts of its lines or by its party; a kind only where one side alone shows.
        func side(_ types: String, party: String) -> String {
            """
            (EXISTS (SELECT 1 FROM splits s JOIN accounts a ON a.id = s.account_id
                     WHERE s.transaction_id = transactions.id AND a.type IN (\(types)))
             OR EXISTS (SELECT 1 FROM parties p WHERE p.id = transactions.party_id AND p.kind = '\(party)'))
            """
        }
        let receivable = side("'accounts_receivable', 'income', 'other_income'", party: "customer")
        let payable = side("'accounts_payable', 'expense', 'cost_of_goods_sold', 'other_expense'", party: "vendor")
        let paidTo = side("'accounts_receivable'", party: "customer")
        let paidFrom = side("'accounts_payable'", party: "vendor")
        try dst.execute(
            sql: """
                UPDATE transactions SET kind = CASE
                    WHEN EXISTS (SELECT 1 FROM documents d WHERE d.transaction_id = transactions.id)
                      OR EXISTS (SELECT 1 FROM document_lines l WHERE l.transaction_id = transactions.id)
                      OR EXISTS (SELECT 1 FROM applications ap WHERE ap.document_id = transactions.id)
                    THEN CASE WHEN \(receivable) AND NOT \(payable) THEN 'invoice'
                              WHEN \(payable) AND NOT \(receivable) THEN 'bill' ELSE 'journal' END
                    WHEN EXISTS (SELECT 1 FROM applications ap WHERE ap.payment_id = transactions.id)
                    THEN CASE WHEN \(paidTo) AND NOT \(paidFrom) THEN 'payment'
                              WHEN \(paidFrom) AND NOT \(paidTo) THEN 'bill_payment' ELSE 'journal' END
                    ELSE 'journal' END
                WHERE id IN (SELECT id FROM temp.salvage_made)
                """)
        let table = tables[at]
        let wasLost = Set(named).intersection(table.damage.lostIDs)
        let said =
            "\(named.count) transactions were made again with the ids their other rows name (an invoice or bill header, lines, payments or bank lines): their date, number and memo were lost"
        var updated = SalvagedTable(
            table: table.table, recovered: table.recovered, fromIndexes: table.fromIndexes + named.count,
            lost: max(0, table.lost - wasLost.count), lostIsExact: table.lostIsExact, altered: table.altered,
            note: [table.note, said].compactMap { $0 }.joined(separator: "; "))
        updated.damage = table.damage
        updated.damage.lostIDs.removeAll { wasLost.contains($0) }
        updated.damage.rebuiltIDs += named
        tables[at] = updated
    }

    /// Gives the transactions rebuilt from indexes (`rebuilt`, those salvage
    /// made from them, no other row whatever its memo) back the kind their
    /// other rows show, once every table is copied: a `documents` row makes an
    /// invoice (a bill, with a payable line), applications paid from it a
    /// payment (a bill payment). As journals, the repairs would delete their
    /// documents, lines and applications as belonging to no invoice or bill.
    private static func inferKinds(_ dst: Database, rebuilt: [Int64]) throws {
        guard !rebuilt.isEmpty else { return }
        try idTable("salvage_rebuilt", of: rebuilt, in: dst)
        defer { try? dst.execute(sql: "DROP TABLE IF EXISTS temp.salvage_rebuilt") }
        let payable =
            "EXISTS (SELECT 1 FROM splits s JOIN accounts a ON a.id = s.account_id WHERE s.transaction_id = transactions.id AND a.type = 'accounts_payable')"
        try dst.execute(
            sql: """
                UPDATE transactions SET
                  kind = CASE
                    WHEN EXISTS (SELECT 1 FROM documents d WHERE d.transaction_id = transactions.id)
                      THEN CASE WHEN \(payable) THEN 'bill' ELSE 'invoice' END
                    ELSE CASE WHEN \(payable) THEN 'bill_payment' ELSE 'payment' END END,
                  memo = memo || ' (its kind was told by its ' || CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.transaction_id = transactions.id)
                    THEN 'invoice or bill header' ELSE 'payments applied' END || ')'
                WHERE id IN (SELECT id FROM temp.salvage_rebuilt) AND memo = ? AND kind = 'journal'
                  AND (EXISTS (SELECT 1 FROM documents d WHERE d.transaction_id = transactions.id)
                       OR EXISTS (SELECT 1 FROM applications ap WHERE ap.payment_id = transactions.id))
                """, arguments: [fromIndexesMemo])
    }

    /// Makes the temporary table `temp.NAME` holding `ids`, for a statement to
    /// select rows by; the caller drops it.
    private static func idTable(_ name: String, of ids: [Int64], in dst: Database) throws {
        try dst.execute(
            sql: "DROP TABLE IF EXISTS temp.\(name); CREATE TEMP TABLE \(name) (id INTEGER PRIMARY KEY)")
        let add = try dst.makeStatement(sql: "INSERT OR IGNORE INTO temp.\(name) (id) VALUES (?)")
        for id in ids { try add.execute(arguments: [id]) }
    }

    /// What looking for the next row of a table found.
    private enum Probe {
        /// A row with this rowid or the next one above it.
        case row(Int64)
        /// No row at or above the rowid asked for.
        case end
        /// The read hit a damaged page.
        case damaged
    }

    /// Copies the readable rows of `table` (its leaves found through `pages`,
    /// the file's own, when they can be read), stepping over damaged pages, then counts (and where it can, rebuilds) the rows its
    /// indexes know of that the table lost.
    private static func copy(
        _ table: String, columns sourceColumns: [String], indexes: [String], doubted: Set<String>? = nil,
        from src: Database, pages: PageFile?, orphans: OrphanLeaves? = nil, to dst: Database, now: Date
    ) throws -> SalvagedTable {
        let expected = StructureCheck.expectedColumns[table] ?? sourceColumns
        let common = expected.filter(sourceColumns.contains)
        let key = table == "documents" ? "transaction_id" : "id"
        var targets = common.map { "\"\($0)\"" }
        // Without its key column the row's key is its rowid.
        let keyFromRowid = !common.contains(key) && expected.contains(key)
        if keyFromRowid { targets.append("\"\(key)\"") }
        let missing = expected.filter { !common.contains($0) && $0 != key }
        let select =
            "SELECT rowid AS salvage_rowid" + common.map { ", \"\($0)\"" }.joined()
            + " FROM \"\(table)\" NOT INDEXED WHERE rowid >= ? AND rowid <= ? ORDER BY rowid"
        let targetNames = targets.map { String($0.dropFirst().dropLast()) }
        let insert = try dst.makeStatement(
            sql: "INSERT INTO \"\(table)\" (\(targets.joined(separator: ", "))) VALUES ("
                + Array(repeating: "?", count: targets.count).joined(separator: ", ") + ")")

        let present = try dst.makeStatement(sql: "SELECT 1 FROM \"\(table)\" WHERE rowid = ?")
        var recovered = 0
        var altered = 0
        var refused: [Int64] = []
        var gaps: [ClosedRange<Int64>] = []
        // Rows a leaf held that are not the rows its place in the b-tree gives it.
        var outOfPlace = 0
        // The leaves of the b-tree that did not give every row of their place.
        var scanned: [(page: Int, keys: ClosedRange<Int64>)] = []
        // The leaves of the table's own b-tree, by the rowids their place holds.
        var ownLeaves: [(page: Int, keys: ClosedRange<Int64>)] = []
        for segment in segments(of: table, in: pages, src) {
            let keys = segment.keys
            if let page = segment.page { ownLeaves.append((page, keys)) }
            let firstGap = gaps.count
            defer {
                if let page = segment.page, gaps.count > firstGap { scanned.append((page, keys)) }
            }
            // Rowids read from this leaf (kept or refused by the schema).
            var seen: Set<Int64> = []
            var start = keys.lowerBound
            var foreign = 0
            reading: while true {
                var last: Int64?
                do {
                    let rows = try Row.fetchCursor(src, sql: select, arguments: [start, keys.upperBound])
                    while let row = try rows.next() {
                        guard let rowid = row.integer("salvage_rowid") else { continue }
                        // A rowid this leaf gave already: SQLite went on to another page
                        // (a page of another table swapped in after it, whose rowids repeat).
                        if seen.contains(rowid) { break reading }
                        last = rowid
                        // A row that is not on this leaf's page is not the row of this place:
                        // past the leaf's last row, SQLite went on to the next page, which
                        // holds rows of another place (it is read in its own turn).
                        if let cells = segment.cells, !cells.contains(rowid) {
                            if cells.allSatisfy({ !keys.contains($0) || seen.contains($0) }) { break reading }
                            foreign += 1
                            continue
                        }
                        seen.insert(rowid)
                        var values = common.map { row[$0] as DatabaseValue }
                        if keyFromRowid { values.append(rowid.databaseValue) }
                        do {
                            try insert.execute(arguments: StatementArguments(values))
                            recovered += 1
                        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                            // A rowid another leaf gave already is that leaf's row, read in
                            // its place; this one lies where it does not belong.
                            // (Our tables' rowids are their keys; another program's may not be.)
                            if Schema.tableNames.contains(table), try Int.fetchOne(present, arguments: [rowid]) != nil {
                                foreign += 1
                                continue
                            }
                            // A value a CHECK refuses is replaced; a NULL where the schema
                            // forbids one, or a second item of one name, cannot be kept.
                            if let mended = CheckedValues.mended(table, columns: targetNames, values: values),
                                (try? insert.execute(arguments: StatementArguments(mended))) != nil
                            {
                                recovered += 1
                                altered += 1
                            } else {
                                refused.append(rowid)
                            }
                        }
                    }
                    break reading
                } catch let error as DatabaseError where StructureCheck.isDamage(error) {
                    if let last {
                        // Every row of the leaf was read: the damage lies on a page after it.
                        if let cells = segment.cells, cells.allSatisfy({ !keys.contains($0) || $0 <= last }) {
                            break reading
                        }
                        guard last < keys.upperBound else { break reading }
                        start = last + 1
                        continue reading
                    }
                    // Nothing could be read from `start` on: find where reading can resume.
                    let found = probe(table, at: start, src)
                    if segment.cells != nil {
                        // On a known leaf, a seek that gives a rowid out of its place in
                        // the b-tree (or none) is not believed: what the damage took ends
                        // where the leaf's keys end, and reading goes on at the next leaf.
                        guard case .row(let rowid) = found, rowid < keys.upperBound else {
                            gaps.append(start...keys.upperBound)
                            break reading
                        }
                        // The seek works but the row itself cannot be read: it is lost.
                        gaps.append(start...rowid)
                        start = rowid + 1
                        continue reading
                    }
                    switch found {
                    case .row(let rowid) where rowid < keys.upperBound:
                        gaps.append(start...rowid)
                        start = rowid + 1
                    case .damaged:
                        guard let resume = resumePoint(table, after: start, src), resume <= keys.upperBound else {
                            gaps.append(start...keys.upperBound)
                            break reading
                        }
                        gaps.append(start...(resume - 1))
                        start = resume
                    case .row, .end:
                        gaps.append(start...keys.upperBound)
                        break reading
                    }
                }
            }
            guard let cells = segment.cells else { continue }
            // A leaf holding rows its place cannot hold (another table's page, or
            // garbage), or not giving every row it holds, lost what its place held:
            // every rowid of its place not read is what the damage took.
            let misplaced = cells.filter { !keys.contains($0) }.count
            let unread = cells.contains { keys.contains($0) && !seen.contains($0) }
            if misplaced > 0 || foreign > 0 || unread {
                outOfPlace += misplaced + foreign
                gaps.removeSubrange(firstGap...)
                gaps.append(keys)
            }
        }
        // Rows read from pages SQLite could not read them from: the bytes of a leaf whose
        // header was lost, and leaves its b-tree no longer leads to (a page above them was
        // lost). They fill the gaps, as the file has them; those that may be deleted rows or
        // older copies are in doubt.
        var orphanRows = 0
        var unnamedKept = 0
        var scannedIDs: Set<Int64> = []
        var orphanDoubted: [Int64] = []
        let ours = Schema.tableNames.contains(table)
        let stored =
            ours && pages != nil
            ? try dst.makeStatement(sql: "SELECT \(targets.joined(separator: ", ")) FROM \"\(table)\" WHERE rowid = ?")
            : nil
        // Where each target column lies in a row as the file stores it.
        let positions = targetNames.map { (name: $0, at: sourceColumns.firstIndex(of: $0)) }
        /// Puts `row` in its gap; whether it was kept. A row the copy holds
        /// already is not, and is in doubt when its values differ.
        func bringBack(_ row: (rowid: Int64, values: [DatabaseValue]), doubtful: Bool) throws -> Bool {
            guard let stored, gaps.contains(where: { $0.contains(row.rowid) }) else { return false }
            let values = positions.map { column -> DatabaseValue in
                guard let at = column.at, at < row.values.count, !(column.name == key && row.values[at].isNull)
                else { return column.name == key ? row.rowid.databaseValue : .null }
                return row.values[at]
            }
            if let there = try Row.fetchOne(stored, arguments: [row.rowid]) {
                // Two pages give this row: one is an older copy (a page freed by a
                // rebuild of the table, its freelist lost, or an old cell), and which is not known.
                if Array(there.databaseValues) != values { orphanDoubted.append(row.rowid) }
                return false
            }
            do {
                try insert.execute(arguments: StatementArguments(values))
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                // A value a CHECK refuses is replaced; a row that breaks another rule stays out
                // (its indexes count it as lost).
                guard let mended = CheckedValues.mended(table, columns: targetNames, values: values),
                    (try? insert.execute(arguments: StatementArguments(mended))) != nil
                else { return false }
                altered += 1
            }
            recovered += 1
            if doubtful { orphanDoubted.append(row.rowid) }
            return true
        }
        /// Fills the gaps from the leaves the b-tree no longer leads to.
        func readUnreachedLeaves() throws {
            guard let orphans, let pages, stored != nil else { return }
            // Known once the leaves were looked for.
            let leaves = orphans.leaves(of: table)
            let doubtful = orphans.freelistShort
            for number in leaves {
                guard let page = pages.page(number), let rows = pages.rows(ofLeaf: page) else { continue }
                for row in rows where try bringBack(row, doubtful: doubtful) { orphanRows += 1 }
            }
        }
        if !gaps.isEmpty, ours, let pages {
            try readUnreachedLeaves()
            // Then a page of the b-tree whose rows SQLite could not all give: its cells are
            // looked for in its bytes. Cells SQLite moved or replaced stay there until written
            // over (a root that grew into an interior page keeps its old cells), so each row
            // found is in doubt, one another page gave is that page's (and in doubt when they
            // differ), and the live cells, written last at the page's end, are taken first.
            for leaf in scanned {
                guard let page = pages.page(leaf.page) else { continue }
                let rows = pages.scannedRows(of: page, keys: leaf.keys) { PageSalvage.Shape.fits($0, table) }
                for row in rows.reversed() where try bringBack(row, doubtful: true) { scannedIDs.insert(row.rowid) }
            }
        }
        // The table's own indexes say which rows it holds: a row they all name that no leaf
        // gave was taken by the damage, though no leaf read showed where (a root page
        // overwritten by a leaf of its own); a row none of them names is not this table's
        // (another table's page read in its place). Not for another program's tables.
        if ours {
            // A row no index names is still this table's when its own leaf holds it, whole and of
            // the table's shape, and that leaf is no free page: its indexes are older than it (a
            // write to their pages lost), which the indexes made anew mend.
            var free: Set<Int>?
            var leafRows: [Int: [Int64: [DatabaseValue]]] = [:]
            // By their first key, so that a row's leaf is found by halving (stale indexes may leave many out).
            let byKey = ownLeaves.sorted { $0.keys.lowerBound < $1.keys.lowerBound }
            func leaf(holding rowid: Int64) -> (page: Int, keys: ClosedRange<Int64>)? {
                var (low, high) = (0, byKey.count)
                while low < high {
                    let middle = (low + high) / 2
                    if byKey[middle].keys.lowerBound <= rowid { low = middle + 1 } else { high = middle }
                }
                guard low > 0, byKey[low - 1].keys.contains(rowid) else { return nil }
                return byKey[low - 1]
            }
            func onItsOwnLeaf(_ rowid: Int64) -> Bool {
                guard let pages, let leaf = leaf(holding: rowid) else { return false }
                if free == nil {
                    let freelist = pages.freelistRead()
                    // A freelist that does not add up may leave out the page: none is believed.
                    free = freelist.sound ? freelist.pages : nil
                }
                guard let free, !free.contains(leaf.page) else { return false }
                if leafRows[leaf.page] == nil {
                    if leafRows.count > 64 { leafRows.removeAll() }
                    let rows = pages.page(leaf.page).flatMap { pages.rows(ofLeaf: $0) } ?? []
                    leafRows[leaf.page] = Dictionary(rows.map { ($0.rowid, $0.values) }) { first, _ in first }
                }
                guard let values = leafRows[leaf.page]?[rowid] else { return false }
                return PageSalvage.Shape.fits(values, table)
            }
            let evidence = try indexEvidence(
                table, indexes: indexes, refused: Set(refused), found: scannedIDs, ownRow: onItsOwnLeaf,
                src: src, dst: dst)
            // Rowids outside the gaps already found: those are read from the indexes anyway.
            let existing = gaps
            let shown = ranges(of: evidence.unread.filter { id in !existing.contains { $0.contains(id) } })
            gaps += shown
            // A leaf the b-tree no longer leads to may hold them whole (its root and the
            // interior page above it were both lost, and no leaf read showed a gap).
            if !shown.isEmpty { try readUnreachedLeaves() }
            // A row refused by the schema that no index names was never this table's row either.
            let foreignRefused = Set(evidence.unnamedRefused)
            refused.removeAll { foreignRefused.contains($0) }
            outOfPlace += foreignRefused.count
            recovered -= evidence.strayRemoved
            outOfPlace += evidence.strayRemoved
            unnamedKept = evidence.unnamedKept
        }
        // What the person is told of the table, each part that applies, in this order.
        let parts: [String?] = [
            unnamedKept > 0
                ? "\(unnamedKept) rows that no index of the table names were kept: their own pages hold them whole (the indexes were older than the rows, and were made anew)"
                : nil,
            missing.isEmpty
                ? nil
                : "the columns \(missing.joined(separator: ", ")) were missing and were given their default values",
            refused.isEmpty
                ? nil
                : "\(refused.count) rows broke a rule of the schema (a missing required value) and could not be kept",
            altered > 0 ? CheckedValues.note(table, count: altered) : nil,
            outOfPlace > 0
                ? "\(outOfPlace) rows on its pages lay outside the rowids those pages hold and were not taken as its rows"
                : nil,
            scannedIDs.isEmpty
                ? nil
                : "\(scannedIDs.count) rows were read from the bytes of pages whose header was damaged; they may be deleted rows or older copies, and are listed to be checked",
            orphanRows > 0
                ? "\(orphanRows) rows were read from pages its b-tree no longer leads to (a page above them was damaged)"
                : nil,
        ]
        let said = parts.compactMap { $0 }
        let note = said.isEmpty ? nil : said.joined(separator: "; ")
        // Rows an index stray check removed are not in doubt: they are gone.
        let doubtedOrphans = try Set(orphanDoubted).sorted().filter {
            try Int.fetchOne(present, arguments: [$0]) != nil
        }
        guard !gaps.isEmpty else {
            var whole = SalvagedTable(
                table: table, recovered: recovered, fromIndexes: 0, lost: refused.count, lostIsExact: true,
                altered: altered, note: note)
            whole.damage.lostIDs = refused
            whole.damage.doubtedIDs = doubtedOrphans
            return whole
        }
        let (damage, exact) = try fromIndexes(
            table, indexes: indexes, doubted: doubted, gaps: gaps, src: src, dst: dst, now: now)
        var salvaged = SalvagedTable(
            table: table, recovered: recovered, fromIndexes: damage.rebuiltIDs.count,
            lost: damage.lostIDs.count + refused.count, lostIsExact: exact, altered: altered, note: note)
        salvaged.damage = damage
        salvaged.damage.lostIDs += refused
        salvaged.damage.doubtedIDs += doubtedOrphans
        return salvaged
    }

    /// The table leaves of a file that no table's b-tree leads to and that are
    /// not on the freelist: a page above them was lost (`Page N is never
    /// used`), so their rows are the file's own, out of reach of SQLite
    /// (unless the freelist is not believed: see `freelistShort`).
    /// Each is matched to the table of docs/company-file.md whose columns its
    /// rows fit (`PageSalvage.Shape`). Found once, the first time a table
    /// with gaps asks: reading every page costs a pass over the file.
    final class OrphanLeaves {
        private let file: PageFile?
        private var found: [String: [Int]]?
        /// Whether the freelist is not believed (`PageFile.freelistRead`, or
        /// it names a page a b-tree reaches): an unreached leaf may then be a
        /// free page, whose rows were deleted before the damage.
        private(set) var freelistShort = false

        init(_ file: PageFile?) {
            self.file = file
        }

        /// The unreached leaves whose rows fit `table`.
        func leaves(of table: String) -> [Int] {
            if found == nil { found = search() }
            return found?[table] ?? []
        }

        private func search() -> [String: [Int]] {
            guard let file else { return [:] }
            let freelist = file.freelistRead()
            var free = freelist.pages
            var reached = Set(file.leaves(from: 1, skipping: []))
            for (_, root) in file.tableRoots() { reached.formUnion(file.leaves(from: root, skipping: [])) }
            // A freelist that names a page a b-tree reaches, or does not add up, is damaged
            // itself: none of it is believed, and every unreached leaf may be a free page.
            freelistShort = !freelist.sound || !free.isDisjoint(with: reached)
            if freelistShort { free = [] }
            reached.formUnion(free)
            var found: [String: [Int]] = [:]
            PageSalvage.unreachedLeaves(in: file, reached: reached) { number, table, _ in
                found[table, default: []].append(number)
            }
            return found
        }
    }

    /// The parts of a table's rowids that are read one at a time: each leaf
    /// page with the rowids its interior pages' keys let it hold
    /// (`PageFile.leafKeys`) and the rowids of the cells it holds; between
    /// them, and for the whole table when it cannot be read page by page,
    /// stretches whose pages are not known (`cells` nil). In rowid order,
    /// covering every rowid.
    private static func segments(of table: String, in pages: PageFile?, _ src: Database) -> [Segment] {
        let everything = [Segment(keys: Int64.min...Int64.max, cells: nil, page: nil)]
        let sql = "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?"
        guard let row = (try? Row.fetchOne(src, sql: sql, arguments: [table])) ?? nil,
            let root = row.integer("rootpage"), root >= 1, root <= Int64(Int.max), let file = pages
        else { return everything }
        var segments: [Segment] = []
        var next: Int64? = Int64.min
        for leaf in file.leafKeys(from: Int(root), skipping: file.freelist(), unreadable: true) {
            guard let low = next, leaf.keys.lowerBound >= low else { continue }
            if leaf.keys.lowerBound > low {
                segments.append(Segment(keys: low...(leaf.keys.lowerBound - 1), cells: nil, page: nil))
            }
            let cells = file.page(leaf.page).flatMap { file.rowids(ofLeaf: $0) }.map(Set.init)
            segments.append(Segment(keys: leaf.keys, cells: cells, page: leaf.page))
            next = leaf.keys.upperBound == Int64.max ? nil : leaf.keys.upperBound + 1
        }
        if let low = next { segments.append(Segment(keys: low...Int64.max, cells: nil, page: nil)) }
        return segments
    }

    /// A stretch of a table's rowids read at once (see `segments`).
    private struct Segment {
        let keys: ClosedRange<Int64>
        /// The rowids of the cells on the leaf page that holds `keys`; nil when
        /// no one page is known to (or the page's header was lost).
        let cells: Set<Int64>?
        /// The leaf page of the b-tree at this place, when one is known.
        let page: Int?
    }

    private static func probe(_ table: String, at rowid: Int64, _ src: Database) -> Probe {
        do {
            let found = try Int64.fetchOne(
                src, sql: "SELECT rowid FROM \"\(table)\" NOT INDEXED WHERE rowid >= ? ORDER BY rowid LIMIT 1",
                arguments: [rowid])
            return found.map(Probe.row) ?? .end
        } catch {
            return .damaged
        }
    }

    /// The smallest rowid above `damaged` at which a seek into the table works,
    /// found by doubling the distance, then halving it; nil if none does.
    private static func resumePoint(_ table: String, after damaged: Int64, _ src: Database) -> Int64? {
        var low = damaged
        var step: Int64 = 1
        var high: Int64
        while true {
            let (candidate, overflow) = low.addingReportingOverflow(step)
            if overflow {
                guard case .damaged = probe(table, at: Int64.max, src) else {
                    high = Int64.max
                    break
                }
                return nil
            }
            if case .damaged = probe(table, at: candidate, src) {
                low = candidate
                step = step > Int64.max / 2 ? Int64.max : step * 2
            } else {
                high = candidate
                break
            }
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if case .damaged = probe(table, at: middle, src) { low = middle } else { high = middle }
        }
        return high
    }

    /// What the indexes of `table` (those read to their end) say of the rows
    /// copied into `dst`: `unread`, rowids every one of them names that the copy
    /// lacks (and the schema did not refuse); rows the copy holds that none of
    /// them names, removed from it (`strayRemoved` counts them), and
    /// `unnamedRefused`, those of `refused` none names: these two only when two
    /// or more agree (one index that lost an entry must not cost a row). A row
    /// none names that `ownRow` finds on the table's own leaf stays
    /// (`unnamedKept` counts them): the indexes are older than it. Each
    /// index is first compared by its count and rowid sums; only when one
    /// differs (or the schema refused rows) are they read row by row.
    private static func indexEvidence(
        _ table: String, indexes: [String], refused: Set<Int64>, found: Set<Int64>, ownRow: (Int64) -> Bool,
        src: Database, dst: Database
    ) throws -> (unread: [Int64], strayRemoved: Int, unnamedRefused: [Int64], unnamedKept: Int) {
        let sums = "SELECT COUNT(*), TOTAL(rowid), TOTAL((rowid % 65521) * (rowid % 65521))"
        let copied = try Row.fetchOne(dst, sql: "\(sums) FROM main.\"\(table)\"")
        var complete: [String] = []
        var differs = !refused.isEmpty
        for index in indexes {
            do {
                let named = try Row.fetchOne(src, sql: "\(sums) FROM \"\(table)\" INDEXED BY \"\(index)\"")
                complete.append(index)
                if named != copied { differs = true }
            } catch let error as DatabaseError where StructureCheck.isDamage(error) {
                continue
            }
        }
        guard differs, !complete.isEmpty else { return ([], 0, [], 0) }
        try dst.execute(
            sql: """
                DROP TABLE IF EXISTS temp.salvage_named;
                CREATE TEMP TABLE salvage_named (id INTEGER NOT NULL, index_number INTEGER NOT NULL,
                  PRIMARY KEY (id, index_number)) WITHOUT ROWID
                """)
        defer { try? dst.execute(sql: "DROP TABLE IF EXISTS temp.salvage_named") }
        let insert = try dst.makeStatement(sql: "INSERT OR IGNORE INTO temp.salvage_named VALUES (?, ?)")
        var read = 0
        for index in complete {
            do {
                let rowids = try Int64.fetchCursor(src, sql: "SELECT rowid FROM \"\(table)\" INDEXED BY \"\(index)\"")
                while let rowid = try rowids.next() { try insert.execute(arguments: [rowid, read]) }
                read += 1
            } catch let error as DatabaseError where StructureCheck.isDamage(error) {
                try dst.execute(sql: "DELETE FROM temp.salvage_named WHERE index_number = ?", arguments: [read])
            }
        }
        guard read > 0 else { return ([], 0, [], 0) }
        let unread = try Int64.fetchAll(
            dst,
            sql: """
                SELECT id FROM temp.salvage_named GROUP BY id HAVING COUNT(*) = ?
                EXCEPT SELECT rowid FROM main."\(table)" ORDER BY 1
                """, arguments: [read]
        ).filter { !refused.contains($0) }
        // A row found in a damaged page's bytes that an index read whole does not name is
        // an old cell of a row deleted since: one index is enough to leave it out.
        var oldCells = 0
        let named = try dst.makeStatement(
            sql: "SELECT COUNT(*) FROM temp.salvage_named WHERE id = ? GROUP BY id HAVING COUNT(*) = ?")
        let remove = try dst.makeStatement(sql: "DELETE FROM main.\"\(table)\" WHERE rowid = ?")
        for id in found.sorted() where try Int.fetchOne(named, arguments: [id, read]) == nil {
            try remove.execute(arguments: [id])
            oldCells += dst.changesCount
        }
        guard read >= 2 else { return (unread, oldCells, [], 0) }
        let unnamed = try Int64.fetchAll(
            dst, sql: "SELECT rowid FROM main.\"\(table)\" WHERE rowid NOT IN (SELECT id FROM temp.salvage_named)")
        var strayRemoved = oldCells
        var unnamedKept = 0
        for id in unnamed {
            if ownRow(id) {
                unnamedKept += 1
            } else {
                try remove.execute(arguments: [id])
                strayRemoved += dst.changesCount
            }
        }
        let naming = try dst.makeStatement(sql: "SELECT 1 FROM temp.salvage_named WHERE id = ? LIMIT 1")
        let unnamedRefused = try refused.sorted().filter { try Int.fetchOne(naming, arguments: [$0]) == nil }
        return (unread, strayRemoved, unnamedRefused, unnamedKept)
    }

    /// `ids` (ascending) as the fewest ranges.
    static func ranges(of ids: [Int64]) -> [ClosedRange<Int64>] {
        var ranges: [ClosedRange<Int64>] = []
        for id in ids {
            if let last = ranges.last, last.upperBound < Int64.max, last.upperBound + 1 == id {
                ranges[ranges.count - 1] = last.lowerBound...id
            } else {
                ranges.append(id...id)
            }
        }
        return ranges
    }

    /// The table of the salvaged copy that keeps, for the rebuild's recovery
    /// from a snapshot, what the indexes said of each row the damage took:
    /// `(tbl, id, col, value)`, the first index's word where two name one
    /// column. The recovery drops it before the repairs' transaction commits
    /// (docs/rebuild-after-damage.md, "What the indexes still say").
    static let indexValues = "ledger_rebuild_index_values"

    /// Reads the indexes of `table` for rowids inside `gaps` that the copy does
    /// not have, and rebuilds whole rows from them where the schema allows.
    /// What each index said of such a row is kept in `indexValues`.
    /// - Returns: the gaps with the rowids lost and rebuilt in them, and
    ///   whether the lost are all known (an index was read to its end).
    private static func fromIndexes(
        _ table: String, indexes: [String], doubted: Set<String>?, gaps: [ClosedRange<Int64>],
        src: Database, dst: Database, now: Date
    ) throws -> (TableDamage, Bool) {
        let columns = StructureCheck.expectedColumns[table] ?? []
        try dst.execute(sql: "DROP TABLE IF EXISTS temp.salvage_lost")
        try dst.execute(
            sql: "CREATE TEMP TABLE salvage_lost (salvage_rowid INTEGER PRIMARY KEY"
                + columns.map { ", \"\($0)\"" }.joined() + ")")
        // An index read to its end lists every row the gaps held, unless it is
        // damaged itself in a way that reads without an error (a page that lost
        // cells). Two or more read to their end must name the same rows; one
        // alone must be vouched for by an integrity check that ran and did not
        // name it (the check cannot run past some damage, and then vouches for
        // none). Otherwise the snapshot's rows are not judged by the indexes.
        var complete: [(index: String, named: Set<Int64>)] = []
        for index in indexes {
            // Plain columns only: an expression's value cannot be put back in a column.
            let covered: [String] =
                (try? Row.fetchAll(src, sql: "PRAGMA index_info(\"\(index)\")"))?
                .compactMap { $0.text("name") }.filter(columns.contains) ?? []
            let select =
                "SELECT rowid AS salvage_rowid" + covered.map { ", \"\($0)\"" }.joined()
                + " FROM \"\(table)\" INDEXED BY \"\(index)\""
            let upsert =
                "INSERT INTO temp.salvage_lost (salvage_rowid" + covered.map { ", \"\($0)\"" }.joined() + ") VALUES (?"
                + String(repeating: ", ?", count: covered.count) + ") ON CONFLICT (salvage_rowid) DO UPDATE SET "
                + (covered.isEmpty
                    ? "salvage_rowid = excluded.salvage_rowid"
                    : covered.map { "\"\($0)\" = excluded.\"\($0)\"" }.joined(separator: ", "))
            let statement = try dst.makeStatement(sql: upsert)
            let kept = try dst.makeStatement(
                sql: "INSERT OR IGNORE INTO main.\(indexValues) (tbl, id, col, value) VALUES (?, ?, ?, ?)")
            let present = try dst.makeStatement(sql: "SELECT 1 FROM \"\(table)\" WHERE rowid = ?")
            do {
                var named: Set<Int64> = []
                let rows = try Row.fetchCursor(src, sql: select)
                while let row = try rows.next() {
                    guard let rowid = row.integer("salvage_rowid") else { continue }
                    guard gaps.contains(where: { $0.contains(rowid) }),
                        try Int.fetchOne(present, arguments: [rowid]) == nil
                    else { continue }
                    named.insert(rowid)
                    try statement.execute(
                        arguments: StatementArguments([rowid.databaseValue] + covered.map { row[$0] as DatabaseValue }))
                    for column in covered {
                        try kept.execute(arguments: [table, rowid, column, row[column] as DatabaseValue])
                    }
                }
                complete.append((index, named))
            } catch let error as DatabaseError where StructureCheck.isDamage(error) {
                continue
            }
        }
        let stamp = Timestamp.string(from: now)
        switch table {
        case "transactions":
            try dst.execute(
                sql: """
                    INSERT INTO transactions (id, kind, date, number, party_id, memo, created_at, modified_at)
                    SELECT salvage_rowid, 'journal', date, NULL, party_id, ?, ?, ?
                    FROM temp.salvage_lost WHERE date IS NOT NULL
                    """, arguments: [fromIndexesMemo, stamp, stamp])
        case "parties":
            try dst.execute(
                sql: """
                    INSERT INTO parties (id, kind, name, is_active, balance)
                    SELECT salvage_rowid, kind, name, 1, 0 FROM temp.salvage_lost WHERE kind IS NOT NULL AND name IS NOT NULL
                    """)
        default:
            break
        }
        var damage = TableDamage(gaps: gaps)
        let known = try Row.fetchCursor(
            dst,
            sql: """
                SELECT l.salvage_rowid AS id, t.rowid IS NOT NULL AS present FROM temp.salvage_lost l
                LEFT JOIN main."\(table)" t ON t.rowid = l.salvage_rowid ORDER BY 1
                """)
        while let row = try known.next() {
            guard let rowid = row.integer("id") else { continue }
            if row.integer("present") == 1 { damage.rebuiltIDs.append(rowid) } else { damage.lostIDs.append(rowid) }
        }
        try dst.execute(sql: "DROP TABLE temp.salvage_lost")
        // The loss is counted exactly once any index was read to its end; the
        // snapshot's rows are judged by the indexes only when they surely list them all.
        damage.listsEveryRow =
            complete.count == 1
            ? doubted.map { !$0.contains(complete[0].index) } ?? false
            : complete.count > 1 && complete.allSatisfy { $0.named == complete[0].named }
        return (damage, !complete.isEmpty)
    }
}

/// The values a CHECK of docs/company-file.md refuses, in rows salvage keeps: a salvaged
/// file is one that `integrity_check` calls ok, so such a value is replaced by
/// the choice that moves no money and claims the least, and the row is counted
/// as altered (the rebuild then exits 1, and the snapshot keeps the original).
enum CheckedValues {
    /// The replacement of each CHECKed column; the allowed values are the
    /// column's `oneOf` rule in `ValueRule.byTable`.
    static let replacements: [String: [(column: String, allowed: [String], replacement: String)]] = {
        let chosen: [String: (column: String, replacement: String)] = [
            "accounts": ("type", AccountType.otherCurrentAsset.rawValue), "parties": ("kind", PartyKind.other.rawValue),
            "transactions": ("kind", TransactionKind.journal.rawValue), "splits": ("cleared", "n"),
            "bank_feed": ("status", "new"),
        ]
        return Dictionary(
            uniqueKeysWithValues: chosen.map { table, choice in
                let allowed =
                    (ValueRule.byTable[table] ?? []).compactMap { entry -> [String]? in
                        guard entry.column == choice.column, case .oneOf(let values, _) = entry.rule else { return nil }
                        return values
                    }.first ?? [choice.replacement]
                return (table, [(column: choice.column, allowed: allowed, replacement: choice.replacement)])
            })
    }()

    /// `values` (in the order of `columns`) with every value a CHECK refuses
    /// replaced; nil when there is nothing to replace.
    static func mended(_ table: String, columns: [String], values: [DatabaseValue]) -> [DatabaseValue]? {
        guard let rules = replacements[table] else { return nil }
        var mended = values
        var changed = false
        for rule in rules {
            guard let index = columns.firstIndex(of: rule.column), index < mended.count else { continue }
            if case .string(let text) = mended[index].storage, rule.allowed.contains(text) { continue }
            mended[index] = rule.replacement.databaseValue
            changed = true
        }
        return changed ? mended : nil
    }

    static func note(_ table: String, count: Int) -> String {
        let what =
            replacements[table]?.map { "\($0.column) '\($0.replacement)'" }.joined(separator: ", ") ?? "a default"
        return "\(count) rows held a value the schema forbids and were kept with \(what) in its place"
    }
}
