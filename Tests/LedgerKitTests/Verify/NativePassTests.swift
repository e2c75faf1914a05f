import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// The native pass of Verify (issue 15): it may only send fewer rows to the
/// catalog's SQL, never change what is found. Every test holds its findings,
/// row for row and word for word, equal to the SQL engine's.
@Suite struct NativePassTests {
    let folder = TemporaryDirectory()

    static func suspects(of path: String) throws -> Suspects? {
        try DatabaseQueue(path: path).read { db in try NativePass.suspects(db) }
    }

    @Test func aCleanFileLeavesNothingToTheSQL() throws {
        let path = try Damage.sample(in: folder, transactions: 2_000, seed: 9)
        let suspects = try #require(try Self.suspects(of: path))
        #expect(suspects.count == 0, "\(suspects)")
        #expect(try DatabaseQueue(path: path).read(NativePass.typesAreStandard))
    }

    @Test func oneWrongCentMakesExactlyItsRowsSuspects() throws {
        let path = try Damage.sample(in: folder, transactions: 800, seed: 3)
        let split = try Damage.apply(to: path) { db -> Int64 in
            let id = try Damage.one(db, "SELECT id FROM splits ORDER BY id LIMIT 1 OFFSET 100")
            try db.execute(sql: "UPDATE splits SET amount = amount + 1 WHERE id = ?", arguments: [id])
            return id
        }
        let (transaction, account) = try DatabaseQueue(path: path).read { db in
            (
                try Damage.one(db, "SELECT transaction_id FROM splits WHERE id = ?", [split]),
                try Damage.one(db, "SELECT account_id FROM splits WHERE id = ?", [split])
            )
        }
        let suspects = try #require(try Self.suspects(of: path))
        #expect(suspects.rows["transactions"]?.contains(transaction) == true)
        #expect(suspects.rows["accounts"] == [account])
        #expect(suspects.rows["splits"] == nil)
        let native = try Verifier.verify(path: path, engine: .native)
        #expect(native.findings == (try Verifier.verify(path: path, engine: .sql)).findings)
        #expect(native.findings.contains { $0.code == .unbalancedTransaction && $0.rowID == transaction })
        #expect(native.findings.contains { $0.code == .accountBalanceMismatch && $0.rowID == account })
    }

    @Test func anotherProgramsColumnTypesSendEveryRowToTheSQL() throws {
        let path = try Damage.sample(in: folder, transactions: 50, seed: 4)
        try Damage.apply(to: path) { db in
            try db.execute(
                sql: """
                    PRAGMA writable_schema = ON;
                    UPDATE sqlite_master SET sql = replace(sql, 'amount            INTEGER NOT NULL', 'amount            NUMERIC NOT NULL')
                    WHERE name = 'splits';
                    PRAGMA writable_schema = OFF;
                    """)
        }
        #expect(try DatabaseQueue(path: path).read(NativePass.typesAreStandard) == false)
        #expect(try Verifier.verify(path: path).findings == (try Verifier.verify(path: path, engine: .sql)).findings)
    }

    /// Values a mutation writes: other programs' values, and near misses that
    /// only sums and references can tell from the truth.
    static let literals = [
        "NULL", "''", "2.5", "x'00ff10'", "'abc'", "9223372036854775807", "-9223372036854775808", "0", "1", "-1",
        "1000000000000000", "1000000000000001", "'invoice'", "'bill'", "'payment'", "'bill_payment'", "'journal'",
        "'r'", "'n'", "'c'", "'matched'", "'new'", "'added'", "'excluded'", "'accounts_receivable'", "'bank'",
        "'2026-02-29'", "'2024-02-29'", "'2026-13-01'", "'2026-04-31'", "'2026-1-01'", "'2026-01-01 '",
        "'2026-01-01T25:00:00Z'", "'2026-01-01T12:00:00Z'", "'2026-01-01T12:00:00'", "'0000-01-01'",
    ]

    /// Seeded runs of mutations on a small company: values, near misses, other
    /// rows' ids, deleted rows. Both engines must find the same.
    @Test(arguments: Array(0..<48))
    func bothEnginesFindTheSameAfterRandomMutations(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 7_919 &+ 3)
        let path = try Damage.sample(in: folder, transactions: 300, seed: UInt64(seed % 5 + 1))
        var done: [String] = []
        try Damage.apply(to: path) { db in
            for _ in 0..<(1 + Int(random.next() % 12)) {
                let table = Schema.tableNames[Int(random.next() % UInt64(Schema.tableNames.count))]
                let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
                guard count > 0 else { continue }
                let row = try Damage.one(
                    db, "SELECT rowid FROM \(table) LIMIT 1 OFFSET ?", [Int(random.next() % UInt64(count))])
                let columns = (Schema.columns[table] ?? []).filter { !$0.isKey }
                if random.next() % 10 == 0 || columns.isEmpty {
                    try db.execute(sql: "DELETE FROM \(table) WHERE rowid = ?", arguments: [row])
                    done.append("delete \(table) \(row)")
                    continue
                }
                let column = columns[Int(random.next() % UInt64(columns.count))].name
                let value: String
                switch random.next() % 4 {
                case 0:
                    value = "\(column) + \(Int(random.next() % 3) - 1 == 0 ? 1 : -1)"
                case 1:
                    let other = Schema.tableNames[Int(random.next() % UInt64(Schema.tableNames.count))]
                    value = "(SELECT rowid FROM \(other) LIMIT 1 OFFSET \(random.next() % 40))"
                case 2:
                    value = "(SELECT \(column) FROM \(table) LIMIT 1 OFFSET \(random.next() % 40))"
                default:
                    value = Self.literals[Int(random.next() % UInt64(Self.literals.count))]
                }
                do {
                    try db.execute(sql: "UPDATE \(table) SET \(column) = \(value) WHERE rowid = ?", arguments: [row])
                    done.append("\(table).\(column) = \(value) at \(row)")
                } catch let error as DatabaseError
                    where [.SQLITE_CONSTRAINT, .SQLITE_MISMATCH].contains(error.resultCode)
                {
                    continue
                }
            }
        }
        for quick in [false, true] {
            let native = try Verifier.verify(path: path, quick: quick, engine: .native)
            let reference = try Verifier.verify(path: path, quick: quick, engine: .sql)
            #expect(
                native.findings == reference.findings,
                "seed \(seed) \(done): native only \(Set(native.findings).subtracting(reference.findings).map(\.message)), SQL only \(Set(reference.findings).subtracting(native.findings).map(\.message))"
            )
            #expect(native.counts == reference.counts)
        }
    }
}
