import Foundation
import GRDB
import Testing

@testable import LedgerKit

@Suite struct VerifyCorruptionTests {
    let folder = TemporaryDirectory()

    private func leafPage(_ path: String, of table: String) throws -> Int {
        try DatabaseQueue(path: path).read { db in
            try Int.fetchOne(
                db,
                sql: "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET 3",
                arguments: [table])!
        }
    }

    @Test func aDamagedIndexPageIsReportedAndTheBooksStillChecked() throws {
        let path = try Damage.sample(in: folder, transactions: 3_000)
        try Damage.apply(to: path) { db in try db.execute(sql: "UPDATE accounts SET balance = balance + 7 WHERE id = 2")
        }
        let page = try leafPage(path, of: "splits_account")
        try Damage.scribble(on: path, page: page)
        let report = try Verifier.verify(path: path)
        let corruption = report.findings.filter { $0.code == .sqliteCorruption }
        #expect(!corruption.isEmpty)
        #expect(corruption.allSatisfy { !$0.message.isEmpty })
        // The logical checks still ran and found the planted balance error.
        #expect(report.findings.contains { $0.code == .accountBalanceMismatch && $0.rowID == 2 })
        #expect(!report.ok)
    }

    @Test func aDamagedTablePageIsReported() throws {
        let path = try Damage.sample(in: folder, transactions: 3_000)
        let page = try leafPage(path, of: "splits")
        try Damage.scribble(on: path, page: page, offset: 0, count: 4_096, byte: 0xFF)
        let report = try Verifier.verify(path: path)
        #expect(report.findings.contains { $0.code == .sqliteCorruption })
        let quick = try Verifier.verify(path: path, quick: true)
        #expect(quick.findings.contains { $0.code == .sqliteCorruption })
    }

    @Test func aTruncatedCompanyFileIsDamageNotRefusal() throws {
        let path = try Damage.sample(in: folder, transactions: 3_000)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(truncate(path, off_t(size / 2)) == 0)
        let report = try Verifier.verify(path: path)
        #expect(report.findings.contains { $0.code == .sqliteCorruption })
        #expect(!report.ok)
    }

    @Test func aDamagedFirstPageWithTheLedgerHeaderIsDamage() throws {
        let path = try Damage.sample(in: folder, transactions: 200)
        // Keep the 100-byte header (it still says LEDG); wreck the schema that follows.
        try Damage.scribble(on: path, page: 1, offset: 100, count: 3_996, byte: 0x00)
        let report = try Verifier.verify(path: path)
        #expect(report.findings.contains { $0.code == .sqliteCorruption })
    }
}
