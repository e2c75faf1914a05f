import GRDB
import Testing

@testable import LedgerKit

/// Rebuild's native sums of the splits (`SplitGroups`) make the very table the
/// catalog's SQL makes, row for row and type for type, or leave it to the SQL.
@Suite struct SplitGroupsTests {
    let folder = TemporaryDirectory()

    /// Every row of `temp.v_grp` with its rowid and each value's storage class.
    static func table(_ db: Database) throws -> [String] {
        try String.fetchAll(
            db,
            sql: """
                SELECT rowid || ':' || quote(account_id) || ',' || quote(party_id) || ',' || quote(reconciliation_id)
                       || ',' || quote(total) || ',' || quote(bad) || ',' || typeof(total) || typeof(bad)
                FROM temp.v_grp ORDER BY rowid
                """)
    }

    static var entry: Catalog.Staging {
        get throws {
            guard let entry = Catalog.staging(.byAccountPartyStatement) else {
                throw DatabaseError(message: "no staging entry for temp.v_grp")
            }
            return entry
        }
    }

    /// The native table and the SQL's, both over every split or both over the suspects'.
    static func both(_ db: Database, onlySuspects: Bool) throws -> (native: [String]?, sql: [String]) {
        try db.execute(sql: "DROP TABLE IF EXISTS temp.v_grp")
        let native = try SplitGroups.make(db, onlySuspects: onlySuspects) ? try table(db) : nil
        try db.execute(sql: "DROP TABLE IF EXISTS temp.v_grp")
        try db.execute(sql: onlySuspects ? try entry.suspectsOnly : try entry.sql)
        return (native, try table(db))
    }

    static func suspects(_ db: Database, accounts: [Int64], parties: [Int64], statements: [Int64]) throws {
        for (name, ids) in [("accounts", accounts), ("parties", parties), ("reconciliations", statements)] {
            try db.execute(
                sql:
                    "DROP TABLE IF EXISTS temp.suspect_\(name); CREATE TEMP TABLE suspect_\(name) (id INTEGER PRIMARY KEY)"
            )
            for id in ids { try db.execute(sql: "INSERT INTO temp.suspect_\(name) VALUES (?)", arguments: [id]) }
        }
    }

    @Test func sameTableAsTheSQLOnASampleAndOnItsSuspects() throws {
        let path = try Damage.sample(in: folder, transactions: 400)
        try Damage.apply(to: path) { db in
            let whole = try Self.both(db, onlySuspects: false)
            #expect(whole.sql.count > 20)
            #expect(whole.native == whole.sql)

            let statement = try Damage.one(db, "SELECT MIN(reconciliation_id) FROM splits")
            try Self.suspects(db, accounts: [1, 3], parties: [2], statements: [statement])
            let some = try Self.both(db, onlySuspects: true)
            #expect(!some.sql.isEmpty && some.sql.count < whole.sql.count)
            #expect(some.native == some.sql)
        }
    }

    /// Amounts beyond the limit (alone in a group too) and NULL keys: still the SQL's table.
    @Test func sameTableAsTheSQLWithValuesOutOfBoundsAndNulls() throws {
        let path = try Damage.sample(in: folder, transactions: 200)
        try Damage.apply(to: path) { db in
            let beyond = Money.limit + 1
            try db.execute(sql: "UPDATE splits SET amount = ? WHERE id = 3", arguments: [beyond])
            try db.execute(sql: "UPDATE splits SET amount = ? WHERE id = 4", arguments: [-beyond])
            try db.execute(sql: "UPDATE splits SET amount = ? WHERE id = 5", arguments: [Int64.min])
            try db.execute(sql: "UPDATE splits SET party_id = NULL, reconciliation_id = NULL WHERE id IN (6, 7, 8)")
            try db.execute(
                sql: "UPDATE splits SET party_id = NULL, reconciliation_id = NULL, amount = ? WHERE id = 9",
                arguments: [beyond])
            try db.execute(
                sql: "UPDATE splits SET account_id = 99999, reconciliation_id = 7, amount = ? WHERE id = 10",
                arguments: [-beyond])
            // Text that is an integer is stored as one by the column's affinity.
            try db.execute(sql: "UPDATE splits SET party_id = '2' WHERE id = 11")
            let whole = try Self.both(db, onlySuspects: false)
            #expect(
                whole.sql.contains { $0.contains(":99999,") && $0.hasSuffix(",NULL,1,nullinteger") },
                "\(whole.sql.suffix(3))")
            #expect(whole.sql.contains { $0.hasSuffix(",1,integerinteger") }, "\(whole.sql.prefix(3))")
            #expect(whole.native == whole.sql)

            try Self.suspects(db, accounts: [99999], parties: [2], statements: [])
            let some = try Self.both(db, onlySuspects: true)
            #expect(some.native == some.sql)
        }
    }

    /// A key or an amount that is not an integer, or a sum beyond 64 bits: no
    /// native table, so the SQL says what it says.
    @Test(arguments: [
        "UPDATE splits SET account_id = 'cash' WHERE id = 5",
        "UPDATE splits SET reconciliation_id = 2.5 WHERE id = 5",
        "UPDATE splits SET amount = 12.5 WHERE id = 5",
        "UPDATE splits SET amount = x'00ff' WHERE id = 5",
    ])
    func leavesOtherValuesToTheSQL(damage: String) throws {
        let path = try Damage.sample(in: folder, transactions: 100)
        try Damage.apply(to: path) { db in
            try db.execute(sql: damage)
            try db.execute(sql: "DROP TABLE IF EXISTS temp.v_grp")
            #expect(try SplitGroups.make(db, onlySuspects: false) == false)
            #expect(try Damage.one(db, "SELECT COUNT(*) FROM sqlite_temp_master WHERE name = 'v_grp'") == 0)
        }
    }

    /// Counting the suspects' splits only up to a fifth of the table answers
    /// as counting them all did, on either side of the fifth and at it.
    @Test func suspectSplitsAreManyAnswersAsTheWholeCount() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        try Damage.apply(to: path) { db in
            func wholeCount() throws -> Bool {
                try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT 5 * ((SELECT COUNT(*) FROM splits WHERE account_id IN (SELECT id FROM temp.suspect_accounts))
                                    + (SELECT COUNT(*) FROM splits WHERE party_id IN (SELECT id FROM temp.suspect_parties)))
                               >= (SELECT COALESCE(MAX(rowid) - MIN(rowid) + 1, 0) FROM splits)
                        """) ?? false
            }
            let accounts = try Int64.fetchAll(db, sql: "SELECT DISTINCT account_id FROM splits ORDER BY 1")
            let parties = try Int64.fetchAll(db, sql: "SELECT DISTINCT party_id FROM splits WHERE party_id NOT NULL")
            var random = SplitMix64(seed: 1_003)
            var answers: Set<Bool> = []
            for _ in 0..<60 {
                try Self.suspects(
                    db, accounts: accounts.filter { _ in random.next() % 4 == 0 },
                    parties: parties.filter { _ in random.next() % 3 == 0 }, statements: [])
                let expected = try wholeCount()
                answers.insert(expected)
                #expect(try Catalog.suspectSplitsAreMany(db) == expected)
            }
            #expect(answers == [true, false])

            // Exactly a fifth of the span, and one split fewer.
            let span = try Damage.one(db, "SELECT MAX(rowid) - MIN(rowid) + 1 FROM splits")
            let fifth = (span + 4) / 5
            try db.execute(sql: "UPDATE splits SET party_id = NULL")
            try db.execute(
                sql: "UPDATE splits SET account_id = 99999 WHERE rowid IN (SELECT rowid FROM splits LIMIT ?)",
                arguments: [fifth])
            try Self.suspects(db, accounts: [99999], parties: [], statements: [])
            #expect(try wholeCount() && Catalog.suspectSplitsAreMany(db))
            try db.execute(
                sql:
                    "UPDATE splits SET account_id = 1 WHERE rowid = (SELECT MIN(rowid) FROM splits WHERE account_id = 99999)"
            )
            #expect(try !wholeCount() && !Catalog.suspectSplitsAreMany(db))

            // No splits: as many as a fifth of nothing.
            try db.execute(sql: "DELETE FROM splits")
            #expect(try wholeCount() && Catalog.suspectSplitsAreMany(db))
        }
    }

    @Test func leavesASumBeyond64BitsToTheSQL() throws {
        let path = try Damage.sample(in: folder, transactions: 100)
        try Damage.apply(to: path) { db in
            // 9,300 amounts at the limit (10^15) in one group: beyond Int64.max.
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9300)
                    INSERT INTO splits (transaction_id, account_id, amount) SELECT 1, 1, ? FROM n
                    """, arguments: [Money.limit])
            try db.execute(sql: "DROP TABLE IF EXISTS temp.v_grp")
            #expect(try SplitGroups.make(db, onlySuspects: false) == false)
            #expect(throws: DatabaseError.self) { try db.execute(sql: try Self.entry.sql) }
        }
    }
}
