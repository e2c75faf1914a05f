import GRDB

/// The rows that the SQL of the finding catalog must still look at, found by
/// `NativePass`: every row that may fail a check, and no row that surely passes.
struct Suspects: Sendable, Equatable {
    /// Row keys of each scanned table whose rows may fail one of its checks
    /// (for `documents`, transaction ids).
    var rows: [String: [Int64]]
    /// Reconciliations that may no longer add up (`reconciliation-discrepancy`).
    var reconciliations: [Int64]
    /// Payments that may be applied for more than they were (`payment-overapplied`).
    var payments: [Int64]
    /// The sum of every split amount that is an integer within `Money.limit`
    /// (it cannot overflow: the pass gives up before the amounts' absolute sum does).
    var splitTotal: Int64 = 0
    /// Each account's sum of split amounts (docs/snapshots.md, `trial_balance_sha256`),
    /// or nil when the pass cannot vouch for them: a split's account is not a
    /// row, or an amount is not an integer within the limit.
    var accountTotals: [Int64: Int64]?

    /// Transactions whose sums of splits a check of a suspect reads.
    var summed: [Int64] {
        Array(Set((rows["transactions"] ?? []) + (rows["documents"] ?? []) + payments)).sorted()
    }

    var count: Int { rows.values.reduce(0) { $0 + $1.count } + reconciliations.count + payments.count }

    /// Puts the suspects in temporary tables of the connection
    /// (`temp.suspect_TABLE`, `_reconciliations`, `_payments`, `_summed`) for the SQL to read.
    func store(in db: Database) throws {
        var lists = Catalog.suspectTables.map { ("suspect_" + $0, rows[$0] ?? []) }
        lists += [
            ("suspect_reconciliations", reconciliations), ("suspect_payments", payments), ("suspect_summed", summed),
        ]
        for (name, ids) in lists {
            try db.execute(sql: "DROP TABLE IF EXISTS temp.\(name); CREATE TEMP TABLE \(name) (id INTEGER PRIMARY KEY)")
            let insert = try BulkStatement(db, sql: "INSERT OR IGNORE INTO temp.\(name) (id) VALUES (?)")
            for id in ids { try insert.run(id) }
        }
    }
}
