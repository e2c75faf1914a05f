import GRDB

/// Rebuild's `temp.v_grp` (the splits' sums by account, party and statement)
/// made in one read of the splits in rowid order, summed in a hash map,
/// instead of SQL's `GROUP BY`, which sorts every split it reads.
///
/// It makes the very table the catalog's SQL makes, row for row, or nothing:
/// a key that is not an integer (SQL groups 5 and 5.0 alike), an amount that is
/// not an integer, or a sum beyond 64 bits (where SQL's `SUM` fails) leaves
/// the table to the SQL, which then says what it says on every row.
enum SplitGroups {
    private struct Key: Hashable, Comparable {
        let account: Int64?, party: Int64?, statement: Int64?

        /// `GROUP BY`'s order: NULL first, then by value, column by column.
        static func < (lhs: Key, rhs: Key) -> Bool {
            for (left, right) in [(lhs.account, rhs.account), (lhs.party, rhs.party), (lhs.statement, rhs.statement)]
            where left != right {
                guard let left else { return true }
                guard let right else { return false }
                return left < right
            }
            return false
        }
    }

    private struct Sum {
        var total: Int64?
        var bad = false

        /// Adds a split's amount as the catalog's SQL sums it (NULL adds
        /// nothing; an amount beyond the money limit marks the group bad).
        /// - Returns: false when the sum leaves 64 bits.
        mutating func add(_ amount: Int64?) -> Bool {
            guard let amount else { return true }
            guard amount >= -Money.limit, amount <= Money.limit else {
                bad = true
                return true
            }
            let (added, overflow) = (total ?? 0).addingReportingOverflow(amount)
            total = added
            return !overflow
        }
    }

    /// Makes `temp.v_grp` on `db` over every split, or over those of the
    /// suspect accounts, parties and statements (`temp.suspect_*`) when
    /// `onlySuspects`. Returns false, having made nothing, when the SQL must.
    static func make(_ db: Database, onlySuspects: Bool) throws -> Bool {
        var suspects: (accounts: Set<Int64>, parties: Set<Int64>, statements: Set<Int64>)?
        if onlySuspects {
            suspects = (
                try Set(Int64.fetchAll(db, sql: "SELECT id FROM temp.suspect_accounts")),
                try Set(Int64.fetchAll(db, sql: "SELECT id FROM temp.suspect_parties")),
                try Set(Int64.fetchAll(db, sql: "SELECT id FROM temp.suspect_reconciliations"))
            )
        }
        var groups: [Key: Sum] = [:]
        let rows = try RawRows(
            db, sql: "SELECT account_id, party_id, reconciliation_id, amount FROM splits NOT INDEXED")
        while try rows.next() {
            guard let account = integerOrNull(rows, 0), let party = integerOrNull(rows, 1),
                let statement = integerOrNull(rows, 2), let amount = integerOrNull(rows, 3)
            else { return false }
            let key = Key(account: account, party: party, statement: statement)
            if let suspects {
                let wanted =
                    key.account.map(suspects.accounts.contains) == true
                    || key.party.map(suspects.parties.contains) == true
                    || key.statement.map(suspects.statements.contains) == true
                guard wanted else { continue }
            }
            // One lookup a split: the group's sum changes where it is kept.
            guard groups[key, default: Sum()].add(amount) else { return false }
        }
        try db.execute(
            sql: """
                DROP TABLE IF EXISTS temp.v_grp;
                CREATE TEMP TABLE v_grp (account_id INT, party_id INT, reconciliation_id INT, total, bad)
                """)
        let insert = try BulkStatement(db, sql: "INSERT INTO temp.v_grp VALUES (?, ?, ?, ?, ?)")
        for key in groups.keys.sorted() {
            guard let sum = groups[key] else { continue }
            try insert.run(key.account, key.party, key.statement, sum.total, sum.bad ? 1 : 0)
        }
        return true
    }

    /// The column's value: `.some(nil)` for NULL, `.some(n)` for an integer,
    /// nil for any other storage class.
    private static func integerOrNull(_ rows: RawRows, _ column: Int32) -> Int64?? {
        if rows.isNull(column) { return .some(nil) }
        guard let value = rows.integer(column) else { return nil }
        return .some(value)
    }
}
