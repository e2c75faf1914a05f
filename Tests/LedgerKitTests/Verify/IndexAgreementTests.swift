import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// The full structure check reads each table's indexes in order instead of
/// letting `integrity_check` search them row by row: it may say "agrees" only
/// when SQLite's check would find nothing, and every index fault that
/// `quick_check` misses must send the table to `integrity_check`.
@Suite struct IndexAgreementTests {
    /// A file made by `sql`, then its schema rewritten by `rewrite` (through
    /// `writable_schema`, as damage to sqlite_master would), read afresh.
    private static func file(_ folder: TemporaryDirectory, _ sql: String, rewrite: String? = nil) throws -> String {
        let path = folder.file("t.db")
        try DatabaseQueue(path: path).write { try $0.execute(sql: sql) }
        if let rewrite {
            try DatabaseQueue(path: path).writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA writable_schema = ON")
                try db.execute(sql: rewrite)
                try db.execute(sql: "PRAGMA writable_schema = OFF")
            }
        }
        return path
    }

    private static func lines(_ path: String, _ pragma: String) throws -> [String] {
        try DatabaseQueue(path: path).read { try String.fetchAll($0, sql: pragma) }
    }

    private static func holds(_ path: String, _ table: String) throws -> Bool? {
        try DatabaseQueue(path: path).read { db in
            guard let entries = IndexAgreement.entries(db, table: table) else { return nil }
            return IndexAgreement.holds(entries, rows: IndexAgreement.rows(db, entries: entries))
        }
    }

    /// Every table of a sample company agrees, read in order; only `accounts`,
    /// whose unique index is on an expression, is left to `integrity_check`.
    @Test func aCompanyFileAgreesTableByTable() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("books.db")
        _ = try SampleCompany.generate(at: path, options: SampleOptions(transactions: 400, seed: 3))
        let tables = try DatabaseQueue(path: path).read {
            try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        }
        #expect(tables.contains("splits") && tables.contains("accounts"))
        for table in tables {
            #expect(try Self.holds(path, table) == (table == "accounts" ? nil : true), "\(table)")
        }
    }

    /// Values of every storage class, NULLs, a descending key and a UNIQUE
    /// index over mixed types: all in SQLite's order, so the check agrees.
    @Test func mixedValuesInSQLitesOrderAgree() throws {
        let folder = TemporaryDirectory()
        let path = try Self.file(
            folder,
            """
            CREATE TABLE t(a, b, c);
            CREATE INDEX t_a_desc ON t(a DESC, c);
            CREATE UNIQUE INDEX t_b ON t(b);
            INSERT INTO t VALUES (1, 1, 'x'), (1.5, 2.25, 'y'), (-3, 'text', NULL), (NULL, NULL, 1),
              (NULL, NULL, 2), ('1', x'00ff', 3), (x'01', -9223372036854775808, 4), (2, 9223372036854775807, 5),
              (2.0, 'texu', 6), (9007199254740993, 1.0e300, 7), (9007199254740992.0, -0.5, 8);
            """)
        #expect(try Self.lines(path, "PRAGMA integrity_check") == ["ok"])
        #expect(try Self.holds(path, "t") == true)
    }

    /// The index's entries hold another column than the schema says (its
    /// definition rewritten): `quick_check` is content, `integrity_check` is not,
    /// and neither may the agreement be.
    @Test func anIndexHoldingOtherValuesIsNotAgreed() throws {
        let folder = TemporaryDirectory()
        let path = try Self.file(
            folder,
            "CREATE TABLE t(a INTEGER, b INTEGER); CREATE INDEX t_a ON t(a); "
                + "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 300) "
                + "INSERT INTO t SELECT v, v * 7 % 13 FROM n;",
            rewrite: "UPDATE sqlite_master SET sql = 'CREATE INDEX t_a ON t(b)' WHERE name = 't_a'")
        #expect(try Self.lines(path, "PRAGMA quick_check") == ["ok"])
        #expect(try Self.lines(path, "PRAGMA integrity_check") != ["ok"])
        #expect(try Self.holds(path, "t") == nil)
    }

    /// Equal keys in an index the schema now calls UNIQUE: only
    /// `integrity_check` says "non-unique entry", and the agreement does not hold.
    @Test func aRepeatedKeyInAUniqueIndexIsNotAgreed() throws {
        let folder = TemporaryDirectory()
        let path = try Self.file(
            folder,
            "CREATE TABLE t(a TEXT, b); CREATE INDEX t_a ON t(a); "
                + "INSERT INTO t VALUES ('one', 1), ('two', 2), ('two', 3), (NULL, 4), (NULL, 5);",
            rewrite: "UPDATE sqlite_master SET sql = 'CREATE UNIQUE INDEX t_a ON t(a)' WHERE name = 't_a'")
        #expect(try Self.lines(path, "PRAGMA quick_check") == ["ok"])
        #expect(try Self.lines(path, "PRAGMA integrity_check").contains("non-unique entry in index t_a"))
        #expect(try Self.holds(path, "t") == nil)
    }

    /// Repeated NULLs are not repeated keys, as SQLite says.
    @Test func nullsInAUniqueIndexAgree() throws {
        let folder = TemporaryDirectory()
        let path = try Self.file(
            folder,
            "CREATE TABLE t(a, b); CREATE UNIQUE INDEX t_ab ON t(a, b); "
                + "INSERT INTO t VALUES (1, NULL), (1, NULL), (NULL, NULL), (2, 3);")
        #expect(try Self.lines(path, "PRAGMA integrity_check") == ["ok"])
        #expect(try Self.holds(path, "t") == true)
    }

    /// Entries out of the order the schema says (an ascending index declared
    /// descending): the agreement does not hold, whatever the sums.
    @Test func entriesOutOfOrderAreNotAgreed() throws {
        let folder = TemporaryDirectory()
        let path = try Self.file(
            folder,
            "CREATE TABLE t(a INTEGER); CREATE INDEX t_a ON t(a); "
                + "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 50) INSERT INTO t SELECT v FROM n;",
            rewrite: "UPDATE sqlite_master SET sql = 'CREATE INDEX t_a ON t(a DESC)' WHERE name = 't_a'")
        #expect(try Self.holds(path, "t") == nil)
    }

    /// Indexes this reading does not judge go to `integrity_check`.
    @Test(arguments: [
        "CREATE INDEX i ON t(a) WHERE b > 0",
        "CREATE INDEX i ON t(a + b)",
        "CREATE INDEX i ON t(a COLLATE NOCASE)",
    ])
    func indexesItDoesNotReadAreLeftToSQLite(index: String) throws {
        let folder = TemporaryDirectory()
        let path = try Self.file(folder, "CREATE TABLE t(a, b); \(index); INSERT INTO t VALUES ('A', 1), ('b', 2);")
        #expect(try Self.holds(path, "t") == nil)
    }

    /// A copy of the structure template whose `splits_party` index is said to
    /// be on `account_id`: its entries hold other values than the rows make.
    static func rewrittenIndexFile(_ folder: TemporaryDirectory) throws -> String {
        let path = folder.file("books.db")
        try FileManager.default.copyItem(atPath: StructureCheckTests.template.path, toPath: path)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "PRAGMA writable_schema = ON")
            try db.execute(
                sql: "UPDATE sqlite_master SET sql = 'CREATE INDEX splits_party ON splits(account_id)' "
                    + "WHERE name = 'splits_party'")
        }
        return path
    }

    /// The split check of `rewrittenIndexFile` (given `sides`) says what
    /// SQLite's whole-file check says, about `splits_party` only.
    static func expectSQLitesFindings(_ path: String, sides: RowSides?) throws {
        let access = ReadOnlyAccess(path: path)
        defer { access.close() }
        let parts = try StructureCheck.integrity(
            path: path, connections: [try access.connect(), try access.connect()], quick: false, sides: sides)
        let whole = try access.connect().inDatabase { try StructureCheck.integrity($0, quick: false) }
        #expect(!parts.isEmpty)
        #expect(Set(parts) == Set(whole))
        #expect(parts.allSatisfy { $0.table == "splits" && $0.message.contains("splits_party") })
    }

    /// The split structure check takes SQLite's findings for a table whose
    /// index does not agree: the same lines a whole-file check gives.
    @Test func theFindingsOfADisagreeingIndexAreSQLites() throws {
        let folder = TemporaryDirectory()
        let path = try Self.rewrittenIndexFile(folder)
        #expect(StructureCheckTests.sqliteVerdict(path, quick: true))
        #expect(!StructureCheckTests.sqliteVerdict(path, quick: false))
        try Self.expectSQLitesFindings(path, sides: nil)
    }
}
