import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// Rebuild of files SQLite itself calls malformed.
@Suite struct SalvageTests {
    let folder = TemporaryDirectory()

    /// A leaf page of `table` (or index) and how many rows (cells) it holds.
    private func leafPage(_ path: String, of table: String, offset: Int = 3) throws -> (page: Int, cells: Int) {
        try DatabaseQueue(path: path).read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT pageno, ncell FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET ?
                    """, arguments: [table, offset])!
            return (row["pageno"], row["ncell"])
        }
    }

    private func rebuild(_ path: String) throws -> RebuildReport {
        try Rebuilder.rebuild(path: path, options: RebuildOptions(backupFolder: folder.file("backups")))
    }

    private func digest(_ path: String) throws -> [String: String] {
        try CompanyFile.read(path) { try Invariants.contentDigest(of: $0) }
            .filter { !["maintenance_runs", "repair_actions", "sqlite_stat1"].contains($0.key) }
    }

    @Test func aDamagedIndexPageLosesNothing() throws {
        let path = try Damage.sample(in: folder, transactions: 3_000)
        let before = try digest(path)
        let splitCount = try CompanyFile.read(path) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM splits") }
        let (page, _) = try leafPage(path, of: "splits_account")
        try Damage.scribble(on: path, page: page)
        #expect(try Verifier.verify(path: path).findings.contains { $0.code == .sqliteCorruption })

        // Copying the damaged index fails, so the rows are salvaged from the tables: all of them.
        let report = try rebuild(path)
        let salvage = try #require(report.salvage)
        #expect(salvage.allSatisfy { $0.lost == 0 && $0.fromIndexes == 0 && $0.lostIsExact && $0.note == nil })
        #expect(salvage.first { $0.table == "splits" }?.recovered == splitCount)
        #expect(report.repairs == [])
        #expect(report.remaining == [])
        #expect(try Verifier.verify(path: path).ok)
        #expect(try digest(path) == before)
    }

    @Test func aDamagedSplitsPageLosesExactlyItsRowsAndRebuildHoldsTheirMoney() throws {
        let path = try Damage.sample(in: folder, transactions: 3_000)
        let splits = try CompanyFile.read(path) { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, amount FROM splits").map {
                    ($0["id"] as Int64, $0["amount"] as Int64)
                })
        }
        let (page, cells) = try leafPage(path, of: "splits")
        try Damage.scribble(on: path, page: page, byte: 0xFF)

        let report = try rebuild(path)
        let table = try #require(report.salvage?.first { $0.table == "splits" })
        #expect(table.lost == cells)
        #expect(table.lostIsExact)
        #expect(table.recovered == splits.count - cells)
        #expect(report.salvage?.filter { $0.table != "splits" }.allSatisfy { $0.lost == 0 } == true)

        let after = try Verifier.verify(path: path)
        #expect(after.findings.filter(\.repairable) == [])
        try CompanyFile.read(path) { db in
            var lostSum: Int64 = 0
            var lostCount = 0
            for (id, amount) in splits {
                if let now = try Int64.fetchOne(db, sql: "SELECT amount FROM splits WHERE id = ?", arguments: [id]) {
                    #expect(now == amount, "split \(id)")
                } else {
                    lostSum += amount
                    lostCount += 1
                }
            }
            #expect(lostCount == cells)
            // What the lost lines carried is held, to the cent, by the lines rebuild
            // added: Rebuild Suspense, and the splits made again from documents,
            // applications and feed lines.
            let added = try Int64.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(s.amount), 0) FROM splits s
                    WHERE s.id IN (SELECT row_id FROM repair_actions WHERE table_name = 'splits' AND action = 'insert')
                    """)
            #expect(added == lostSum)
            #expect(
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM repair_actions WHERE code = 'empty-transaction' AND table_name = 'splits' AND action = 'insert'
                        """) ?? 0 > 0)
            // Only a transaction with nothing to rebuild from was deleted: no
            // invoice, bill or payment of the sample, whose every feed line
            // stays linked.
            let deleted = try Row.fetchAll(
                db,
                sql: """
                    SELECT row_id, json_extract(before, '$.kind') AS kind FROM repair_actions
                    WHERE code = 'empty-transaction' AND table_name = 'transactions' AND action = 'delete'
                    """)
            for header in deleted {
                #expect(
                    !["invoice", "bill", "payment", "bill_payment"].contains(header.text("kind") ?? ""), "\(header)")
            }
            #expect(
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM repair_actions WHERE code = 'feed-link-invalid'") == 0)
            #expect(try Int64.fetchOne(db, sql: "SELECT SUM(amount) FROM splits") == 0)
        }
    }

    @Test func transactionsLostFromTheirTableComeBackFromTheIndexes() throws {
        let path = try Damage.sample(in: folder, transactions: 3_000)
        let (page, cells) = try leafPage(path, of: "transactions")
        let onPage = try CompanyFile.read(path) { db in
            try Row.fetchAll(db, sql: "SELECT id, date, party_id FROM transactions ORDER BY id")
        }
        let related = ["documents", "document_lines", "applications"]
        let countsBefore = try CompanyFile.read(path) { db in
            try related.map { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0)") ?? 0 }
        }
        try Damage.scribble(on: path, page: page, byte: 0xFF)

        let report = try rebuild(path)
        let table = try #require(report.salvage?.first { $0.table == "transactions" })
        #expect(table.fromIndexes == cells)
        #expect(table.lost == 0)
        // Rows rebuilt from indexes lack fields: loud, exit 1.
        #expect(report.exitStatus == 1)
        #expect(!report.isComplete && report.rebuiltFromIndexes == cells)
        // Their invoices' and bills' headers, lines and applications stay: their kinds are told by those rows.
        let countsAfter = try CompanyFile.read(path) { db in
            try related.map { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0)") ?? 0 }
        }
        #expect(countsAfter == countsBefore)
        try CompanyFile.read(path) { db in
            // Every transaction is there, with its date and party; those rebuilt are journals saying so.
            for row in onPage {
                let now = try Row.fetchOne(
                    db, sql: "SELECT date, party_id, kind, memo FROM transactions WHERE id = ?",
                    arguments: [row["id"] as Int64])
                #expect(now?["date"] == row["date"] as String)
                #expect(now?["party_id"] == row["party_id"] as Int64?)
            }
            let rebuilt = try Int.fetchOne(
                db,
                sql:
                    "SELECT COUNT(*) FROM transactions WHERE memo LIKE 'Recovered by rebuild from the file''s indexes%'"
            )
            #expect(rebuilt == cells)
            #expect(try Int64.fetchOne(db, sql: "SELECT SUM(amount) FROM splits") == 0)
        }
        #expect(try Verifier.verify(path: path).findings.filter(\.repairable) == [])
    }

    @Test func aTruncatedFileIsSalvaged() throws {
        let path = try Damage.sample(in: folder, transactions: 3_000)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(truncate(path, off_t(size * 2 / 3)) == 0)
        let report = try rebuild(path)
        #expect(report.salvage != nil)
        #expect(report.salvage!.reduce(0) { $0 + $1.recovered } > 0)
        #expect(try Verifier.verify(path: path).findings.filter(\.repairable) == [])
        let snapshot = try #require(report.snapshot)
        #expect(FileManager.default.fileExists(atPath: snapshot))
    }

    @Test func aWreckedListOfTablesIsReadPageByPage() throws {
        let path = try Damage.sample(in: folder, transactions: 2_000)
        let before = try CompanyFile.read(path) { db in
            try Row.fetchAll(db, sql: "SELECT id, transaction_id, account_id, amount FROM splits ORDER BY id")
        }
        // Keep the 100-byte header (it still says LEDG); wreck the list of tables that follows.
        try Damage.scribble(on: path, page: 1, offset: 100, count: 3_996, byte: 0x00)
        let report = try rebuild(path)
        let splits = try #require(report.salvage?.first { $0.table == "splits" })
        #expect(splits.recovered == before.count)
        #expect(!splits.lostIsExact)
        try CompanyFile.read(path) { db in
            let after = try Row.fetchAll(
                db, sql: "SELECT id, transaction_id, account_id, amount FROM splits ORDER BY id LIMIT ?",
                arguments: [before.count])
            #expect(after == before)
        }
        #expect(try Verifier.verify(path: path).findings.filter(\.repairable) == [])
    }

    @Test func aFileWithNothingReadableIsRefusedAndLeftAlone() throws {
        let path = try Damage.sample(in: folder, transactions: 200)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        try Damage.scribble(on: path, page: 1, offset: 100, count: size - 100, byte: 0x00)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect {
            try rebuild(path)
        } throws: { error in
            guard case RebuildError.unsalvageable = error else { return false }
            return true
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }
        #expect(leftovers == [])
    }
}
