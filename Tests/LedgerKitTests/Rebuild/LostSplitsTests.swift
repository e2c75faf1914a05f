import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// The feed lines `LostSplits` plans from, read for every planned transaction
/// in one pass, are exactly those a query of each one at a time finds: a
/// file's own declared column types (rebuild repairs files of other programs'
/// making) and stored values compare and come back as they are.
@Suite struct LostSplitsTests {
    /// A file whose `bank_feed.transaction_id` is declared TEXT and whose
    /// `amount` has no type, with three checks that lost their splits.
    private func file() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE accounts (id INTEGER PRIMARY KEY, parent_id, name, type);
                    CREATE TABLE parties (id INTEGER PRIMARY KEY, name);
                    CREATE TABLE transactions (id INTEGER PRIMARY KEY, kind, number, party_id);
                    CREATE TABLE bank_feed (id INTEGER PRIMARY KEY, account_id, amount, status, transaction_id TEXT);
                    INSERT INTO accounts VALUES (1, NULL, 'Checking', 'bank'), (2, NULL, 'Receivable', 'accounts_receivable');
                    INSERT INTO transactions VALUES (5, 'check', '105', NULL), (6, 'check', '106', NULL),
                                                    (7, 'check', '107', NULL), (8, 'check', '108', NULL);
                    -- '5' equals 5 under the column's TEXT affinity, as it did one at a time.
                    INSERT INTO bank_feed VALUES (1, 1, 500, 'matched', '5');
                    -- '06' is not 6 as text: no line of transaction 6.
                    INSERT INTO bank_feed VALUES (2, 1, 600, 'matched', '06');
                    -- Text '700' is no amount: the line is left out.
                    INSERT INTO bank_feed VALUES (3, 1, '700', 'added', 7);
                    -- A receivable account's line, and a new line: neither is taken.
                    INSERT INTO bank_feed VALUES (4, 2, 800, 'matched', 8), (5, 1, 800, 'new', 8);
                    """)
        }
        return queue
    }

    @Test func eachTransactionGetsTheLinesItsOwnQueryWouldFind() throws {
        let queue = try file()
        try queue.write { db in
            var lost = LostSplits(db)
            let (rebuilt, unknown) = try lost.plan([5, 6, 7, 8, 5])
            #expect(rebuilt.map(\.transaction) == [5, 5])
            let memo = "Rebuilt by rebuild from bank feed line 1"
            #expect(
                rebuilt.first?.splits == [
                    LostSplits.Split(account: 1, party: nil, amount: 500, memo: memo + " (its splits were lost)"),
                    LostSplits.Split(
                        account: nil, party: nil, amount: -500,
                        memo: memo + "; the other account is unknown (Rebuild Suspense, empty-transaction)"),
                ])
            #expect(unknown == [6, 7, 8])
            // Nothing of the pass is left behind on the connection.
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM temp.sqlite_master") == 0)
        }
    }
}
