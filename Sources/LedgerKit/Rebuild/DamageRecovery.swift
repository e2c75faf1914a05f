import Foundation
import GRDB

/// What a rebuild keeps after damage (docs/rebuild.md, "After damage, rebuild keeps
/// everything that can be kept"), inside the repairs' write transaction on the
/// salvaged working copy:
/// - rows the damage took are brought back from the last good snapshot
///   (attached as `snap`), exactly, wherever the surviving rows do not show
///   that their transaction changed after it; rows read from damaged pages are
///   checked against it the same way;
/// - the balances accounts and names showed before the damage are kept by one
///   "Lost in damage" journal when splits were lost beyond recovery;
/// - the rows of the damaged original missing from the rebuilt file are
///   counted per table, whoever removed them.
///
/// Not Sendable: it works through the repairs' `RepairContext`.
final class DamageRecovery {
    /// The tables whose rows belong to one transaction, and the column naming it.
    static let transactionKey: [String: String] = [
        "transactions": "id", "splits": "transaction_id", "documents": "transaction_id",
        "document_lines": "transaction_id", "applications": "payment_id",
    ]
    /// The order rows are brought back in: the log of changes first, so that
    /// the rows recording this run's own changes come after the ones it restores.
    static let order = [
        "repair_actions", "maintenance_runs", "company", "accounts", "parties", "items", "reconciliations",
        "transactions", "documents", "splits", "document_lines", "applications", "bank_feed",
    ]

    let context: RepairContext
    let salvage: [SalvagedTable]
    let copy: LastGoodCopy?
    private var db: Database { context.db }
    private(set) var restored: [String: Int] = [:]
    /// Per table, rows read from damaged pages whose values the snapshot's replaced.
    private(set) var replaced: [String: Int] = [:]
    /// Each value of those rows that the snapshot's replaced, as read and as now.
    private(set) var replacedValues: [ReplacedValue] = []
    /// Per table, rows brought back that no index of the file named: the
    /// snapshot alone says they were there (one deleted since would be among them).
    private(set) var restoredUnlisted: [String: Int] = [:]
    /// Tables with damage whose every lost rowid an index read to its end named.
    private var listedTables: Set<String> = []
    /// Each value of a row brought back from the snapshot that the file's
    /// indexes show changed after it: the snapshot's (`old`) and the row's now
    /// (`new`, the index's unless another row holds that name).
    private(set) var changedValues: [ReplacedValue] = []
    /// Bank lines brought back from the snapshot that ledger's own bank-feed
    /// commands, run after it (the file's `maintenance_runs` says so), may
    /// have changed since; and those commands, "feed match at TIME".
    /// Lines brought back whose cleared mark a reconciliation made (or
    /// changed) after the snapshot may have changed are among them too.
    private(set) var perhapsChanged: [DoubtfulRow] = []
    private(set) var laterCommands: [String] = []
    /// Those reconciliations, "reconciliation 36 of Checking for 2026-11-30".
    private(set) var laterReconciliations: [String] = []
    /// Rows in the snapshot that the damage took but whose transaction changed since.
    private(set) var changedSince: [String: Int] = [:]
    /// Tables the snapshot could not be read for (a column missing).
    private(set) var unusable: [String] = []
    private var snapshotMax: [String: Int64] = [:]

    /// Records where the damage lay (temp tables on the repairing connection)
    /// and the balances the surviving accounts and names show, before any repair.
    /// - Parameter damagedPages: per table, rowids salvage read from pages that
    ///   SQLite's integrity check named.
    init(context: RepairContext, salvage: [SalvagedTable], damagedPages: [String: [Int64]], copy: LastGoodCopy?) throws
    {
        self.context = context
        self.salvage = salvage
        self.copy = copy
        try db.execute(
            sql: """
                CREATE TEMP TABLE recovery_gap (tbl TEXT NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL);
                CREATE TEMP TABLE recovery_known (tbl TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (tbl, id));
                CREATE TEMP TABLE recovery_named (tbl TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (tbl, id));
                CREATE TEMP TABLE recovery_alone (tbl TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (tbl, id));
                CREATE TEMP TABLE recovery_read (id INTEGER PRIMARY KEY);
                CREATE TEMP TABLE recovery_doubt (tbl TEXT NOT NULL, id INTEGER NOT NULL, why TEXT NOT NULL, PRIMARY KEY (tbl, id));
                CREATE TEMP TABLE recovery_changed (id PRIMARY KEY);
                CREATE TEMP TABLE recovery_restored (tbl TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (tbl, id));
                CREATE TEMP TABLE recovery_evidence (tbl TEXT NOT NULL, id INTEGER NOT NULL, balance INTEGER NOT NULL, PRIMARY KEY (tbl, id));
                CREATE TEMP TABLE recovery_maybe_free (tbl TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (tbl, id));
                """)
        // What the damaged file's indexes said of the rows the damage took (kept by salvage).
        try db.execute(
            sql: """
                CREATE TEMP TABLE recovery_indexed (tbl TEXT NOT NULL, id INTEGER NOT NULL, col TEXT NOT NULL, value,
                  PRIMARY KEY (tbl, id, col)) WITHOUT ROWID
                """)
        if try db.tableExists(Salvage.indexValues, in: "main") {
            try db.execute(
                sql: """
                    INSERT INTO temp.recovery_indexed (tbl, id, col, value)
                    SELECT tbl, id, col, value FROM main.\(Salvage.indexValues)
                    """)
        }
        let gap = try db.makeStatement(sql: "INSERT INTO temp.recovery_gap (tbl, lo, hi) VALUES (?, ?, ?)")
        let known = try db.makeStatement(sql: "INSERT OR IGNORE INTO temp.recovery_known (tbl, id) VALUES (?, ?)")
        let named = try db.makeStatement(sql: "INSERT OR IGNORE INTO temp.recovery_named (tbl, id) VALUES (?, ?)")
        let doubt = try db.makeStatement(
            sql: "INSERT OR IGNORE INTO temp.recovery_doubt (tbl, id, why) VALUES (?, ?, ?)")
        let maybeFree = try db.makeStatement(
            sql: "INSERT OR IGNORE INTO temp.recovery_maybe_free (tbl, id) VALUES (?, ?)")
        for table in salvage where Schema.tableNames.contains(table.table) {
            for range in table.damage.gaps {
                try gap.execute(arguments: [table.table, range.lowerBound, range.upperBound])
            }
            for id in table.damage.lostIDs {
                try known.execute(arguments: [table.table, id])
                try named.execute(arguments: [table.table, id])
                // A row read whole but refused by the schema lies outside every gap.
                if !table.damage.gaps.contains(where: { $0.contains(id) }) {
                    try gap.execute(arguments: [table.table, id, id])
                }
            }
            for id in table.damage.rebuiltIDs { try doubt.execute(arguments: [table.table, id, "index"]) }
            // The rows salvage read from pages that may be free ones, from old cells, or that two
            // pages gave: they may be rows deleted before the damage, or older copies (each is
            // among the damaged pages' rows too, so in doubt).
            for id in table.damage.doubtedIDs { try maybeFree.execute(arguments: [table.table, id]) }
            // An index read to its end lists every row the gaps held: a row it lacks was not in the file.
            if table.metDamage, table.damage.listsEveryRow { listedTables.insert(table.table) }
        }
        for (table, ids) in damagedPages where Schema.tableNames.contains(table) {
            for id in ids { try doubt.execute(arguments: [table, id, "page"]) }
        }
        // The transaction headers read from the file, not rebuilt from its indexes: what they hold is
        // the file's own word (the snapshot's values may replace a rebuilt one's later).
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO temp.recovery_read (id)
                SELECT id FROM main.transactions WHERE typeof(id) = 'integer'
                  AND id NOT IN (SELECT id FROM temp.recovery_doubt WHERE tbl = 'transactions' AND why = 'index')
                """)
        // Rows that were not there to read (the damaged page held them) are no doubt.
        for table in Schema.tableNames {
            try db.execute(
                sql:
                    "DELETE FROM temp.recovery_doubt WHERE tbl = ? AND id NOT IN (SELECT rowid FROM main.\"\(table)\")",
                arguments: [table])
        }
        for table in ["accounts", "parties"] {
            try db.execute(
                sql: """
                    INSERT INTO temp.recovery_evidence (tbl, id, balance)
                    SELECT ?, id, balance FROM main.\(table)
                    WHERE typeof(id) = 'integer' AND typeof(balance) = 'integer' AND NOT \(ValueRule.isBadAmount("balance"))
                      AND id NOT IN (SELECT id FROM temp.recovery_doubt WHERE tbl = ?)
                    """, arguments: [table, table])
        }
    }

    // MARK: Recovery from the snapshot

    /// Brings back from the snapshot every row the damage took whose
    /// transaction has not changed since, and replaces rows read from damaged
    /// pages (or rebuilt from indexes) where the snapshot and the surviving
    /// rows agree.
    func restore() throws {
        guard copy != nil else { return }
        for table in Self.order where try !snapshotHas(table) { unusable.append(table) }
        for table in Self.order where !unusable.contains(table) {
            snapshotMax[table] = try Int64.fetchOne(db, sql: "SELECT MAX(rowid) FROM snap.\"\(table)\"")
            // What the snapshot knows the damage took (rows in the gaps, not read), where no
            // index listed them all: with one, a row of the snapshot it lacks was deleted since.
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO temp.recovery_known (tbl, id)
                    SELECT ?, s.rowid FROM temp.recovery_gap g JOIN snap."\(table)" s ON s.rowid BETWEEN g.lo AND g.hi
                    WHERE g.tbl = ? AND NOT EXISTS (SELECT 1 FROM main."\(table)" m WHERE m.rowid = s.rowid)
                      AND NOT \(listed(table))
                    """, arguments: [table, table])
        }
        try markChangedTransactions()
        for table in Self.order where !unusable.contains(table) {
            try bringBack(table)
            try replaceDoubted(table)
        }
        context.invalidate(.byTransaction)
        context.invalidate(.byAccountPartyStatement)
    }

    private func snapshotHas(_ table: String) throws -> Bool {
        let columns = try Row.fetchAll(db, sql: "PRAGMA snap.table_info(\"\(table)\")").compactMap { $0.text("name") }
        return (StructureCheck.expectedColumns[table] ?? []).allSatisfy(columns.contains)
    }

    private func columns(_ table: String) -> [String] {
        (StructureCheck.expectedColumns[table] ?? []).map { "\"\($0)\"" }
    }

    private func differs(_ table: String, _ first: String, _ second: String) -> String {
        "(" + columns(table).map { "\(first).\($0) IS NOT \(second).\($0)" }.joined(separator: " OR ") + ")"
    }

    private func inGap(_ table: String, _ rowid: String) -> String {
        "EXISTS (SELECT 1 FROM temp.recovery_gap g WHERE g.tbl = '\(table)' AND \(rowid) BETWEEN g.lo AND g.hi)"
    }

    /// Whether an index of `table` was read to its end: it names every row the gaps held.
    /// (As SQL: known before any query, so a constant.)
    private func listed(_ table: String) -> String {
        listedTables.contains(table) ? "1" : "0"
    }

    /// Whether the snapshot's row of rowid `rowid` was in the file when the
    /// damage struck, as far as the file tells: in a gap, and named by the
    /// table's index when one was read to its end.
    /// A transaction the file's own rows still point at (its lines, its
    /// invoice or bill, its payments applied) was there too, whatever an
    /// index says: an index page that lost cells must not make it "deleted since".
    private func takenByDamage(_ table: String, _ rowid: String) -> String {
        "(\(inGap(table, rowid)) AND (NOT \(listed(table)) OR \(vouchedFor(table, rowid, by: "recovery_known"))))"
    }

    /// Whether the file itself says the row of rowid `rowid` was there when
    /// the damage struck: an index of `table` names it (in `named`, the temp
    /// table of those rowids: `recovery_named`, or `recovery_known` when the
    /// table's indexes list every row); for a transaction, rows read from the
    /// file point at it (asked before its lines come back); for a row of a
    /// transaction, that transaction's header was read from the file (not
    /// rebuilt from indexes, not brought back): it has not changed since the
    /// snapshot, so neither have its rows. A row brought back without this is
    /// on the snapshot's word alone.
    private func vouchedFor(_ table: String, _ rowid: String, by named: String = "recovery_named") -> String {
        let pointedAt: String
        if table == "transactions" {
            pointedAt = """
                OR EXISTS (SELECT 1 FROM main.splits r WHERE r.transaction_id = \(rowid))
                OR EXISTS (SELECT 1 FROM main.documents r WHERE r.transaction_id = \(rowid))
                OR EXISTS (SELECT 1 FROM main.applications r WHERE r.payment_id = \(rowid))
                """
        } else if let key = Self.transactionKey[table], named == "recovery_named" {
            pointedAt = """
                OR EXISTS (SELECT 1 FROM main."\(table)" r JOIN temp.recovery_read h ON h.id = r."\(key)"
                           WHERE r.rowid = \(rowid))
                """
        } else {
            pointedAt = ""
        }
        return """
            (EXISTS (SELECT 1 FROM temp.\(named) k WHERE k.tbl = '\(table)' AND k.id = \(rowid))
             \(pointedAt))
            """
    }

    private func doubted(_ table: String, _ rowid: String) -> String {
        "EXISTS (SELECT 1 FROM temp.recovery_doubt d WHERE d.tbl = '\(table)' AND d.id = \(rowid))"
    }

    /// Whether the value index entry `entry` (a row of `recovery_indexed`)
    /// gives for a column of `table` differs from that of the snapshot's row `row`.
    private func indexDiffers(_ table: String, _ entry: String, _ row: String) -> String {
        let checks = (StructureCheck.expectedColumns[table] ?? []).map {
            "(\(entry).col = '\($0)' AND \(entry).value IS NOT \(row).\"\($0)\")"
        }
        return checks.isEmpty ? "0" : "(" + checks.joined(separator: " OR ") + ")"
    }

    /// The transactions whose surviving rows show they changed after the
    /// snapshot: a trusted row that differs from the snapshot's or is not in
    /// it, or a row of the snapshot that is gone from a part of the file that
    /// could be read, or that a complete index does not name (deleted since);
    /// or a row the damage took whose index entries hold other values than
    /// the snapshot's row, or name a row the snapshot lacks;
    /// or whose header's `modified_at` differs from the snapshot's or is later
    /// than the snapshot (from a damaged page too), or whose header rebuilt from
    /// indexes has another date or party than the snapshot's.
    private func markChangedTransactions() throws {
        for (table, key) in Self.transactionKey.sorted(by: { $0.key < $1.key }) where !unusable.contains(table) {
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO temp.recovery_changed (id)
                    SELECT m."\(key)" FROM main."\(table)" m LEFT JOIN snap."\(table)" s ON s.rowid = m.rowid
                    WHERE (s.rowid IS NULL OR \(differs(table, "m", "s"))) AND NOT \(doubted(table, "m.rowid"))
                    UNION ALL
                    SELECT s."\(key)" FROM main."\(table)" m JOIN snap."\(table)" s ON s.rowid = m.rowid
                    WHERE \(differs(table, "m", "s")) AND NOT \(doubted(table, "m.rowid"))
                    UNION ALL
                    SELECT s."\(key)" FROM snap."\(table)" s
                    WHERE NOT EXISTS (SELECT 1 FROM main."\(table)" m WHERE m.rowid = s.rowid) AND NOT \(takenByDamage(table, "s.rowid"))
                    UNION ALL
                    SELECT s."\(key)" FROM temp.recovery_indexed v JOIN snap."\(table)" s ON s.rowid = v.id
                    WHERE v.tbl = '\(table)' AND \(indexDiffers(table, "v", "s"))
                    UNION ALL
                    SELECT v.value FROM temp.recovery_indexed v
                    WHERE v.tbl = '\(table)' AND v.col = '\(key)' AND typeof(v.value) = 'integer'
                      AND NOT EXISTS (SELECT 1 FROM snap."\(table)" s WHERE s.rowid = v.id AND s."\(key)" IS v.value)
                    """)
        }
        guard !unusable.contains("transactions") else { return }
        // A header says when its transaction last changed, even read from a damaged page: a time
        // other than the snapshot's, or after it, means the rows on a damaged page may be that change.
        // A header rebuilt from indexes has no time of its own, but its date and party were read;
        // one made again from the rows that name it has no date of its own either
        // (`Salvage.fromReferencesMemo`), only the party of its lines.
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO temp.recovery_changed (id)
                SELECT m.id FROM main.transactions m JOIN snap.transactions s ON s.rowid = m.rowid
                WHERE NOT EXISTS (SELECT 1 FROM temp.recovery_doubt d WHERE d.tbl = 'transactions' AND d.id = m.rowid AND d.why = 'index')
                  AND (m.modified_at IS NOT s.modified_at OR m.modified_at > ?1)
                UNION ALL
                SELECT m.id FROM main.transactions m JOIN snap.transactions s ON s.rowid = m.rowid
                WHERE EXISTS (SELECT 1 FROM temp.recovery_doubt d WHERE d.tbl = 'transactions' AND d.id = m.rowid AND d.why = 'index')
                  AND ((m.date IS NOT s.date AND substr(m.memo, 1, length(?2)) IS NOT ?2)
                       OR (m.party_id IS NOT NULL AND m.party_id IS NOT s.party_id))
                """, arguments: [copy?.snapshot.createdAt, Salvage.fromReferencesMemo])
    }

    /// Whether the row aliased `s` of the snapshot's `table` belongs to a
    /// transaction that has not changed since and that the file has (or gets back).
    private func unchanged(_ table: String, _ alias: String) -> String {
        guard let key = Self.transactionKey[table] else { return "1" }
        let id = "\(alias).\"\(key)\""
        return """
            \(id) NOT IN (SELECT id FROM temp.recovery_changed WHERE id IS NOT NULL)
            AND (EXISTS (SELECT 1 FROM main.transactions h WHERE h.id = \(id))
                 OR EXISTS (SELECT 1 FROM snap.transactions h WHERE h.id = \(id) AND \(takenByDamage("transactions", "h.id"))))
            """
    }

    private func bringBack(_ table: String) throws {
        let list = columns(table).joined(separator: ", ")
        let candidates = """
            SELECT s.rowid FROM temp.recovery_gap g JOIN snap."\(table)" s ON s.rowid BETWEEN g.lo AND g.hi
            WHERE g.tbl = '\(table)' AND NOT EXISTS (SELECT 1 FROM main."\(table)" m WHERE m.rowid = s.rowid)
              AND \(takenByDamage(table, "s.rowid"))
            """
        if Self.transactionKey[table] != nil {
            changedSince[table] =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM snap."\(table)" s WHERE s.rowid IN (\(candidates)) AND NOT (\(unchanged(table, "s")))
                        """) ?? 0
        }
        let chosen =
            "SELECT s.rowid FROM snap.\"\(table)\" s WHERE s.rowid IN (\(candidates)) AND \(unchanged(table, "s"))"
        // Outside a transaction's rows (which come back only unchanged), a value the file's indexes
        // still hold is the file's later word: it is kept over the snapshot's, and told.
        let values =
            Self.transactionKey[table] != nil
            ? list
            : (StructureCheck.expectedColumns[table] ?? []).map { column in
                """
                CASE WHEN EXISTS (SELECT 1 FROM temp.recovery_indexed v WHERE v.tbl = '\(table)' AND v.id = s.rowid AND v.col = '\(column)')
                THEN (SELECT v.value FROM temp.recovery_indexed v WHERE v.tbl = '\(table)' AND v.id = s.rowid AND v.col = '\(column)')
                ELSE s."\(column)" END
                """
            }.joined(separator: ", ")
        // A row whose name another row took meanwhile stays out (OR IGNORE) and is counted as lost.
        try context.insertKeyed(
            .sqliteCorruption, table, rows: chosen,
            insert: """
                INSERT OR IGNORE INTO main."\(table)" (\(list))
                SELECT \(values) FROM snap."\(table)" s WHERE s.rowid IN (SELECT id FROM temp.rebuild_rows)
                """)
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO temp.recovery_restored (tbl, id)
                SELECT ?, rowid FROM main."\(table)" WHERE rowid IN (SELECT id FROM temp.rebuild_rows)
                """, arguments: [table])
        let count =
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM temp.recovery_restored WHERE tbl = ?", arguments: [table])
            ?? 0
        if count > 0 { restored[table] = count }
        if count > 0, Self.transactionKey[table] == nil { changedValues += try valuesChangedSince(table) }
        if count > 0, table == "bank_feed" { try weighLaterFeedCommands() }
        if count > 0, table == "splits" { try weighLaterReconciliations() }
        // Where the indexes need not list every row, a row the file does not vouch for came back on the
        // snapshot's word alone (one deleted since would be among them).
        if count > 0, !listedTables.contains(table) {
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO temp.recovery_alone (tbl, id)
                    SELECT tbl, id FROM temp.recovery_restored o WHERE o.tbl = ? AND NOT \(vouchedFor(table, "o.id"))
                    """, arguments: [table])
            let alone =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM temp.recovery_alone WHERE tbl = ?", arguments: [table])
                ?? 0
            if alone > 0 { restoredUnlisted[table] = alone }
        }
    }

    /// Rows rebuilt from indexes, and rows read from damaged pages, take the
    /// snapshot's values where their transaction has not changed since (a
    /// customer or vendor rebuilt from the names index, where the snapshot's
    /// has that very kind and name).
    ///
    /// A row rebuilt from indexes only gets the fields it lacked: it counts as
    /// brought back. A row read from a damaged page had every field: each value
    /// the snapshot's replaces is kept in `replacedValues`, as read and as now,
    /// and the rebuild is not complete (docs/rebuild-after-damage.md).
    private func replaceDoubted(_ table: String) throws {
        let condition: String
        if Self.transactionKey[table] != nil {
            condition = unchanged(table, "s")
        } else if table == "parties" {
            condition = "d.why = 'index' AND s.kind IS m.kind AND s.name IS m.name"
        } else {
            return
        }
        let list = columns(table).joined(separator: ", ")
        let apply = """
            UPDATE main."\(table)" SET (\(list)) = (SELECT \(list) FROM snap."\(table)" s WHERE s.rowid = main."\(table)".rowid)
            WHERE rowid IN (SELECT id FROM temp.rebuild_rows)
            """
        func rows(_ why: String) -> String {
            """
            SELECT m.rowid FROM temp.recovery_doubt d JOIN main."\(table)" m ON m.rowid = d.id JOIN snap."\(table)" s ON s.rowid = m.rowid
            WHERE d.tbl = '\(table)' AND d.why = '\(why)' AND \(differs(table, "m", "s")) AND \(condition)
            """
        }
        let completed = try context.change(.sqliteCorruption, table, rows: rows("index"), .update, apply: apply)
        if completed > 0 { restored[table, default: 0] += completed }
        let values = try valuesReplaced(table, rows: rows("page"))
        let count = try context.change(.sqliteCorruption, table, rows: rows("page"), .update, apply: apply)
        if count > 0 {
            replaced[table] = count
            replacedValues += values
        }
        // Whatever now equals the snapshot is confirmed; but not a row that may be a
        // deleted one or an older copy (a free page's, an old cell's): it equals the
        // snapshot just as well when it was deleted or changed after it.
        try db.execute(
            sql: """
                DELETE FROM temp.recovery_doubt WHERE tbl = ? AND id IN (
                  SELECT m.rowid FROM main."\(table)" m JOIN snap."\(table)" s ON s.rowid = m.rowid
                  WHERE m.rowid IN (SELECT id FROM temp.recovery_doubt WHERE tbl = ?) AND NOT \(differs(table, "m", "s")))
                  AND id NOT IN (SELECT id FROM temp.recovery_maybe_free WHERE tbl = ?)
                """, arguments: [table, table, table])
    }

    /// Each column of the rows `rows` selects whose value differs from the snapshot's, as read and as the snapshot has it.
    private func valuesReplaced(_ table: String, rows: String) throws -> [ReplacedValue] {
        let amounts = amountColumns(table)
        let names = StructureCheck.expectedColumns[table] ?? []
        guard !names.isEmpty else { return [] }
        let select = names.map { name in
            """
            SELECT m.rowid AS id, '\(name)' AS col, m."\(name)" AS old, s."\(name)" AS new
            FROM main."\(table)" m JOIN snap."\(table)" s ON s.rowid = m.rowid
            WHERE m.rowid IN (\(rows)) AND m."\(name)" IS NOT s."\(name)"
            """
        }.joined(separator: " UNION ALL ")
        return try Row.fetchAll(db, sql: "SELECT * FROM (\(select)) ORDER BY id, col").compactMap {
            Self.value(of: table, $0, amounts: amounts)
        }
    }

    /// A row of `id`, `col`, `old` and `new` as a value a person reads.
    private static func value(of table: String, _ row: Row, amounts: Set<String>) -> ReplacedValue? {
        guard let id = row.integer("id"), let column = row.text("col") else { return nil }
        let money = amounts.contains(column)
        return ReplacedValue(
            table: table, rowID: id, column: column,
            old: shown(row["old"] as DatabaseValue, money: money),
            new: shown(row["new"] as DatabaseValue, money: money))
    }

    /// How long before a snapshot's time a bank-feed command's end still
    /// counts as after it: times are whole seconds, and the end is written
    /// just before the command commits.
    static let feedCommandMargin: TimeInterval = 2

    /// The bank lines brought back whose status a bank-feed command logged in
    /// the file's `maintenance_runs` after the snapshot could have changed:
    /// the lines its log names, and where it names none (a `feed match` of
    /// before its log named them), every line of a status it changes.
    private func weighLaterFeedCommands() throws {
        guard let taken = copy?.snapshot.createdAt, let moment = Timestamp.parse(taken) else { return }
        // The snapshot's copy is read after its time, and a command's `finished_at` is
        // written just before it commits: one not in the copy finished at or after that time,
        // give or take the whole second times are kept in.
        let since = Timestamp.string(from: moment.addingTimeInterval(-Self.feedCommandMargin))
        let runs = try Row.fetchAll(
            db,
            sql: """
                SELECT command, started_at, summary FROM main.maintenance_runs
                WHERE typeof(COALESCE(finished_at, started_at)) = 'text' AND COALESCE(finished_at, started_at) >= ?
                  AND command IN (\(FeedBook.loggedCommands.map { "'\($0.command)'" }.joined(separator: ", ")))
                ORDER BY started_at
                """, arguments: [since])
        guard !runs.isEmpty else { return }
        var latest: [String: String] = [:]
        var named: Set<Int64> = []
        var statuses: Set<String> = []
        for run in runs {
            guard let command = run.text("command") else { continue }
            latest[command] = run.text("started_at") ?? "?"
            if let lines = FeedBook.linesNamed(by: command, summary: run.text("summary")) {
                named.formUnion(lines)
            } else {
                statuses.formUnion(FeedBook.loggedCommands.first { $0.command == command }?.statuses ?? [])
            }
        }
        laterCommands = latest.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map { "\($0.key) at \($0.value)" }
        let restored = try Row.fetchCursor(
            db,
            sql: """
                SELECT m.id, m.status FROM temp.recovery_restored r JOIN main.bank_feed m ON m.rowid = r.id
                WHERE r.tbl = 'bank_feed' ORDER BY m.id
                """)
        perhapsChanged.removeAll { $0.table == "bank_feed" }
        while let row = try restored.next() {
            guard let id = row.integer("id"), named.contains(id) || row.text("status").map(statuses.contains) == true
            else { continue }
            perhapsChanged.append(DoubtfulRow(table: "bank_feed", rowID: id))
        }
    }

    /// The lines brought back whose cleared mark a reconciliation of the file
    /// made or changed after the snapshot (none of the snapshot's, or one that
    /// differs from it) may have changed: each posts to its account, in a
    /// transaction dated on or before its statement. They keep the snapshot's
    /// mark, and a person checks them against that statement.
    private func weighLaterReconciliations() throws {
        guard !unusable.contains("reconciliations") else { return }
        let later = try Row.fetchAll(
            db,
            sql: """
                SELECT r.id, r.account_id, r.statement_date, a.name FROM main.reconciliations r
                LEFT JOIN main.accounts a ON a.id = r.account_id
                WHERE typeof(r.statement_date) = 'text' AND NOT EXISTS (
                  SELECT 1 FROM snap.reconciliations s WHERE s.id = r.id AND s.account_id IS r.account_id
                    AND s.statement_date IS r.statement_date AND s.beginning_balance IS r.beginning_balance
                    AND s.ending_balance IS r.ending_balance AND s.reconciled_at IS r.reconciled_at)
                ORDER BY r.id
                """)
        guard !later.isEmpty else { return }
        var lines: Set<Int64> = []
        let touched = try db.makeStatement(
            sql: """
                SELECT m.id FROM temp.recovery_restored o JOIN main.splits m ON m.rowid = o.id
                JOIN main.transactions t ON t.id = m.transaction_id
                WHERE o.tbl = 'splits' AND m.account_id = ? AND typeof(t.date) = 'text' AND t.date <= ?
                """)
        for reconciliation in later {
            guard let id = reconciliation.integer("id"), let account = reconciliation.integer("account_id"),
                let date = reconciliation.text("statement_date")
            else { continue }
            let found = try Int64.fetchAll(touched, arguments: [account, date])
            guard !found.isEmpty else { continue }
            lines.formUnion(found)
            let name = reconciliation.text("name").map { "\($0) (account \(account))" } ?? "account \(account)"
            laterReconciliations.append("reconciliation \(id) of \(name) for \(date)")
        }
        perhapsChanged += lines.sorted().map { DoubtfulRow(table: "splits", rowID: $0) }
    }

    /// Each value of the rows of `table` brought back from the snapshot that
    /// the file's indexes show changed since: the snapshot's, and the row's now.
    private func valuesChangedSince(_ table: String) throws -> [ReplacedValue] {
        let names = StructureCheck.expectedColumns[table] ?? []
        guard !names.isEmpty else { return [] }
        func pick(_ alias: String) -> String {
            "CASE v.col " + names.map { "WHEN '\($0)' THEN \(alias).\"\($0)\"" }.joined(separator: " ") + " END"
        }
        let amounts = amountColumns(table)
        return try Row.fetchAll(
            db,
            sql: """
                SELECT r.id, v.col, \(pick("s")) AS old, \(pick("m")) AS new
                FROM temp.recovery_restored r JOIN temp.recovery_indexed v ON v.tbl = r.tbl AND v.id = r.id
                JOIN snap."\(table)" s ON s.rowid = r.id JOIN main."\(table)" m ON m.rowid = r.id
                WHERE r.tbl = ? AND \(indexDiffers(table, "v", "s")) ORDER BY r.id, v.col
                """, arguments: [table]
        ).compactMap { Self.value(of: table, $0, amounts: amounts) }
    }

    /// The columns of `table` that hold an amount of money.
    private func amountColumns(_ table: String) -> Set<String> {
        Set(
            (ValueRule.byTable[table] ?? []).compactMap { entry -> String? in
                guard case .amount = entry.rule else { return nil }
                return entry.column
            })
    }

    /// A stored value as a bookkeeper reads it: an amount in money, a text in quotes.
    static func shown(_ value: DatabaseValue, money: Bool) -> String {
        switch value.storage {
        case .null: return "empty"
        case .int64(let number):
            return money && number >= -Money.limit && number <= Money.limit
                ? Money(cents: number).description : String(number)
        case .double(let number): return String(number)
        case .string(let text): return "'\(text)'"
        case .blob(let data): return "\(data.count) bytes"
        }
    }

    // MARK: Cached balances as evidence

    /// Whether splits were lost that neither the snapshot nor a reconstruction
    /// gave back (or could be, where the count is unknown).
    func splitsLostBeyondRecovery() throws -> Bool {
        guard let splits = salvage.first(where: { $0.table == "splits" }), !splits.damage.gaps.isEmpty else {
            return false
        }
        let loss = try count("splits")
        return loss.rows > 0 || !loss.exact
    }

    /// Whether splits came back from the snapshot: the balances the accounts
    /// and names they post to showed before the damage then say whether those
    /// lines changed after the snapshot (an edit that left `modified_at` alone).
    func splitsBroughtBack() -> Bool {
        restored["splits", default: 0] > 0
    }

    /// Whether splits read from pages that may be free ones, or that two
    /// pages gave, are still unconfirmed: they may be lines deleted before
    /// the damage or older copies, and the balances the accounts and names
    /// they post to showed are then the better word. (Rows read whole from a
    /// page the integrity check merely names are the file's own: a balance
    /// that differs from them is the ordinary repairs' to mend.)
    func splitsInDoubt() throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (\(Self.maybeFreeSplits) WHERE 1)") ?? false
    }

    /// The splits still unconfirmed that may be free pages' rows or older copies (alias `s`).
    private static let maybeFreeSplits = """
        SELECT 1 FROM temp.recovery_maybe_free f JOIN temp.recovery_doubt d ON d.tbl = f.tbl AND d.id = f.id
        JOIN main.splits s ON s.rowid = f.id AND f.tbl = 'splits'
        """

    /// Books, in one journal dated today against Rebuild Suspense, what each
    /// surviving account and customer or vendor showed before the damage and
    /// its lines now no longer give: their balances stay as they were.
    /// - Parameter onlyAffected: weigh only the accounts and names that a
    ///   split brought back from the snapshot, or still in doubt, posts to (no
    ///   split was lost beyond recovery: any other difference is the ordinary
    ///   repairs' to mend).
    /// - Returns: what was kept, for a person.
    func keepBalances(onlyAffected: Bool = false) throws -> [KeptBalance] {
        try context.refresh(.byAccountPartyStatement)
        // Made only when a balance needs keeping; it takes the other side, never a line of its own.
        let existing = try context.existingSuspense()
        let linesNow =
            splitsBroughtBack()
            ? "the lines that survived and those brought back from the last clean snapshot"
            : "the lines it has now"
        var lines: [(account: Int64, party: Int64?, amount: Int64, memo: String)] = []
        var kept: [KeptBalance] = []
        // Names first: their lines sit in an A/R or A/P account, whose own difference then accounts for them.
        let parties = try Row.fetchAll(
            db,
            sql: """
                SELECT p.id, p.kind, p.name, e.balance AS shown,
                       (SELECT SUM(g.total) FROM temp.v_grp g JOIN accounts a ON a.id = g.account_id
                        WHERE g.party_id = p.id AND a.type IN \(Catalog.receivablePayable)) AS lines,
                       (SELECT MAX(g.bad) FROM temp.v_grp g WHERE g.party_id = p.id) AS bad,
                       (SELECT g.account_id FROM temp.v_grp g JOIN accounts a ON a.id = g.account_id
                        WHERE g.party_id = p.id AND a.type IN \(Catalog.receivablePayable)
                        GROUP BY g.account_id ORDER BY COUNT(*) DESC, g.account_id LIMIT 1) AS used,
                       (SELECT a.id FROM accounts a WHERE a.type = CASE p.kind WHEN 'vendor' THEN 'accounts_payable' ELSE 'accounts_receivable' END
                        AND typeof(a.id) = 'integer' ORDER BY a.id LIMIT 1) AS fallback
                FROM temp.recovery_evidence e JOIN main.parties p ON p.id = e.id
                WHERE e.tbl = 'parties' AND \(affected("party_id", "p.id", onlyAffected)) ORDER BY p.id
                """)
        var movedIn: [Int64: Int64] = [:]
        var unsummable: Set<Int64> = []
        for row in parties {
            guard row.integer("bad") ?? 0 == 0, let id = row.integer("id"), let shown = row.integer("shown") else {
                continue
            }
            let have = row.integer("lines") ?? 0
            guard shown != have, let account = row.integer("used") ?? row.integer("fallback") else { continue }
            // Sums past the money limit are the invalid-value repairs' to judge, not this journal's.
            guard have >= -Money.limit, have <= Money.limit else { continue }
            let difference = shown - have
            let name = row.text("name") ?? "name \(id)"
            lines.append(
                (
                    account, id, difference,
                    "Lost in damage: \(name) showed a balance of \(Money(cents: shown)); \(linesNow) come to \(Money(cents: have))"
                ))
            let (sum, over) = (movedIn[account] ?? 0).addingReportingOverflow(difference)
            if over { unsummable.insert(account) } else { movedIn[account] = sum }
            kept.append(KeptBalance(table: "parties", id: id, name: name, shown: shown, remaining: have))
        }
        let accounts = try Row.fetchAll(
            db,
            sql: """
                SELECT a.id, a.name, e.balance AS shown,
                       (SELECT SUM(g.total) FROM temp.v_grp g WHERE g.account_id = a.id) AS lines,
                       (SELECT MAX(g.bad) FROM temp.v_grp g WHERE g.account_id = a.id) AS bad
                FROM temp.recovery_evidence e JOIN main.accounts a ON a.id = e.id
                WHERE e.tbl = 'accounts' AND a.id IS NOT ? AND \(affected("account_id", "a.id", onlyAffected))
                ORDER BY a.id
                """, arguments: [existing])
        for row in accounts {
            guard row.integer("bad") ?? 0 == 0, let id = row.integer("id"), let shown = row.integer("shown") else {
                continue
            }
            let have = row.integer("lines") ?? 0
            guard have >= -Money.limit, have <= Money.limit, !unsummable.contains(id) else { continue }
            let (difference, overflow) = (shown - have).subtractingReportingOverflow(movedIn[id] ?? 0)
            guard !overflow, difference >= -Money.limit * 8, difference <= Money.limit * 8 else { continue }
            if shown != have {
                kept.append(
                    KeptBalance(
                        table: "accounts", id: id, name: row.text("name") ?? "account \(id)", shown: shown,
                        remaining: have))
            }
            guard difference != 0 else { continue }
            lines.append(
                (
                    id, nil, difference,
                    "Lost in damage: account \(row.text("name") ?? String(id)) showed a balance of \(Money(cents: shown)); \(linesNow) come to \(Money(cents: have))"
                ))
        }
        guard !lines.isEmpty else { return [] }
        let suspense = try context.suspense(for: .sqliteCorruption)
        // Past Int64 nothing is booked: the balances are left to the ordinary repairs.
        let (total, overflow) = lines.reduce((Int64(0), false)) { sum, line in
            let (next, over) = sum.0.addingReportingOverflow(line.amount)
            return (next, sum.1 || over)
        }
        guard !overflow else { return [] }
        let journal = try context.insertNew(
            .sqliteCorruption, "transactions",
            insert: """
                INSERT INTO transactions (kind, date, number, party_id, memo, created_at, modified_at)
                VALUES ('journal', ?, NULL, NULL, ?, ?, ?)
                """,
            arguments: [
                context.today,
                "Lost in damage (rebuild run \(context.runID)): the balances accounts and names showed before the damage, kept against Rebuild Suspense; check them against your records",
                context.timestamp, context.timestamp,
            ]
        ).first
        guard let journal else { throw RepairFailure.noRowMade("the journal of balances lost in damage") }
        for line in lines + [
            (
                suspense, nil, -total,
                "Lost in damage: the other side of what the lost lines held (rebuild run \(context.runID))"
            )
        ] {
            try context.insertNew(
                .sqliteCorruption, "splits",
                insert: """
                    INSERT INTO splits (transaction_id, account_id, party_id, amount, memo, cleared, reconciliation_id)
                    VALUES (?, ?, ?, ?, ?, 'n', NULL)
                    """, arguments: [journal, line.account, line.party, line.amount, line.memo])
        }
        context.invalidate(.byTransaction)
        context.invalidate(.byAccountPartyStatement)
        return kept
    }

    /// Whether the account or name `id` (column `column` of a split) is one a
    /// split brought back from the snapshot, or still in doubt as a possibly
    /// free page's row, posts to; always true unless `only`.
    private func affected(_ column: String, _ id: String, _ only: Bool) -> String {
        guard only else { return "1" }
        return """
            (EXISTS (SELECT 1 FROM temp.recovery_restored r JOIN main.splits s ON s.rowid = r.id
                     WHERE r.tbl = 'splits' AND s.\(column) = \(id))
             OR EXISTS (\(Self.maybeFreeSplits) WHERE s.\(column) = \(id)))
            """
    }

    // MARK: Loss told exactly

    /// The rows of the damaged original that are not in the working copy now,
    /// whether salvage or a repair removed them, and whether that count is
    /// exact. A row the damage took counts as lost unless the snapshot gave it
    /// back, and a row a repair deleted counts unless this run had made it,
    /// even when a repair made a new row with its id (the "Lost in damage"
    /// journal takes the next free id, often that of a deleted transaction).
    func count(_ table: String) throws -> (rows: Int, exact: Bool, why: String?) {
        let salvaged = salvage.first { $0.table == table }
        let gone =
            try Int.fetchOne(
                db,
                sql: """
                    SELECT (SELECT COUNT(*) FROM temp.recovery_known k WHERE k.tbl = ?1
                              AND NOT EXISTS (SELECT 1 FROM temp.recovery_restored r WHERE r.tbl = ?1 AND r.id = k.id
                                              AND EXISTS (SELECT 1 FROM main."\(table)" m WHERE m.rowid = k.id)))
                         + (SELECT COUNT(DISTINCT r.row_id) FROM repair_actions r WHERE r.run_id = ?2 AND r.table_name = ?1 AND r.action = 'delete'
                              AND (NOT EXISTS (SELECT 1 FROM main."\(table)" m WHERE m.rowid = r.row_id)
                                   OR EXISTS (SELECT 1 FROM repair_actions i WHERE i.run_id = ?2 AND i.table_name = ?1
                                              AND i.action = 'insert' AND i.row_id = r.row_id AND i.id > r.id))
                              AND NOT EXISTS (SELECT 1 FROM temp.recovery_known k WHERE k.tbl = ?1 AND k.id = r.row_id)
                              AND NOT EXISTS (SELECT 1 FROM repair_actions i WHERE i.run_id = ?2 AND i.table_name = ?1
                                              AND i.action = 'insert' AND i.row_id = r.row_id AND i.id < r.id))
                    """, arguments: [table, context.runID]) ?? 0
        guard let salvaged, !salvaged.damage.gaps.isEmpty, !salvaged.lostIsExact else { return (gone, true, nil) }
        // Rows past the snapshot's last could have been on the lost pages, unseen.
        if copy != nil, !unusable.contains(table) {
            // The company table holds one row, id 1 (a CHECK of docs/company-file.md): nothing lies past it.
            let last = table == "company" ? Int64.max : snapshotMax[table] ?? Int64.min
            if salvaged.damage.gaps.allSatisfy({ $0.upperBound <= last }) { return (gone, true, nil) }
            return (gone, false, "rows added after the snapshot could have been on the pages that were lost")
        }
        return (gone, false, "pages of the table could not be read and no index or snapshot lists what they held")
    }

    /// Rows read from damaged pages that no snapshot confirmed.
    func unconfirmed() throws -> [DoubtfulRow] {
        try Row.fetchAll(db, sql: "SELECT tbl, id FROM temp.recovery_doubt WHERE why = 'page' ORDER BY tbl, id")
            .compactMap { row in
                guard let id = row.integer("id"), let table = row.text("tbl") else { return nil }
                return DoubtfulRow(table: table, rowID: id)
            }
    }

    /// Rows rebuilt from indexes that the snapshot did not make whole again.
    func stillFromIndexes(_ table: String) throws -> Int {
        try Int.fetchOne(
            db,
            sql: """
                SELECT COUNT(*) FROM temp.recovery_doubt d WHERE d.tbl = ? AND d.why = 'index'
                  AND EXISTS (SELECT 1 FROM main."\(table)" m WHERE m.rowid = d.id)
                """, arguments: [table]) ?? 0
    }

    /// Rows the snapshot holds that the rebuilt file lacks: what restoring it would bring back.
    func snapshotRowsMissing() throws -> Int {
        guard copy != nil else { return 0 }
        var missing = 0
        for table in Self.order where !unusable.contains(table) {
            missing +=
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM temp.recovery_known k WHERE k.tbl = ?
                          AND EXISTS (SELECT 1 FROM snap."\(table)" s WHERE s.rowid = k.id)
                          AND NOT EXISTS (SELECT 1 FROM main."\(table)" m WHERE m.rowid = k.id)
                        """, arguments: [table]) ?? 0
        }
        return missing
    }
}
