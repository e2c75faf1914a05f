import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// The structure check in parts (issue 15): tables checked one by one on two
/// connections, pages accounted for by `dbstat` and the freelist. Its verdict
/// must be SQLite's whole-file check's on every damaged file.
@Suite struct StructureCheckTests {
    /// A checkpointed company (no log) with pages on the freelist, made once.
    static let template: (path: String, pages: Int) = {
        let folder = FileManager.default.temporaryDirectory.path + "/ledger-structure-template-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/books.db"
        do {
            if !FileManager.default.fileExists(atPath: path) {
                _ = try SampleCompany.generate(at: path, options: SampleOptions(transactions: 1_200, seed: 12))
                try Damage.apply(to: path) { db in
                    try db.execute(sql: "DELETE FROM bank_feed WHERE id > (SELECT MAX(id) / 2 FROM bank_feed)")
                }
            }
            let pages = try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "PRAGMA page_count") ?? 0 }
            return (path, pages)
        } catch {
            Issue.record("could not make the template: \(error)")
            return (path, 0)
        }
    }()

    /// What SQLite's whole-file check says, constraint lines aside.
    static func sqliteVerdict(_ path: String, quick: Bool) -> Bool {
        (try? DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: quick ? "PRAGMA quick_check" : "PRAGMA integrity_check")
                .flatMap { $0.split(separator: "\n") }
                .allSatisfy { $0 == "ok" || $0.hasPrefix("NULL value in ") || $0.hasPrefix("CHECK constraint failed") }
        }) ?? false
    }

    static func partsVerdict(_ path: String, quick: Bool) throws -> Bool {
        let access = ReadOnlyAccess(path: path)
        defer { access.close() }
        do {
            let findings = try StructureCheck.integrity(
                path: path, connections: [try access.connect(), try access.connect()],
                quick: quick)
            return findings.isEmpty
        } catch CompanyFileError.damaged {
            return false  // SQLite cannot open it: what Verify reports as sqlite-corruption.
        }
    }

    @Test func aWholeFileIsCheckedInParts() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("books.db")
        try FileManager.default.copyItem(atPath: Self.template.path, toPath: path)
        #expect(try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "PRAGMA freelist_count") ?? 0 } > 0)
        #expect(try DatabaseQueue(path: path).read { try StructureCheck.pagesAddUp($0, path: path) })
        #expect(try Self.partsVerdict(path, quick: false))
        #expect(try Self.partsVerdict(path, quick: true))
    }

    /// A page no one holds: the freelist cut off in the header.
    @Test func aPageNoOneHoldsIsFound() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("books.db")
        try FileManager.default.copyItem(atPath: Self.template.path, toPath: path)
        try Damage.write(path, at: 32, [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(!Self.sqliteVerdict(path, quick: false))
        #expect(try DatabaseQueue(path: path).read { try StructureCheck.pagesAddUp($0, path: path) } == false)
        #expect(try Self.partsVerdict(path, quick: false) == false)
        let report = try Verifier.verify(path: path)
        #expect(report.findings.contains { $0.code == .sqliteCorruption && $0.message.contains("never used") })
    }

    /// A page held twice: a b-tree's root also listed on the freelist.
    @Test func aPageHeldTwiceIsFound() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("books.db")
        try FileManager.default.copyItem(atPath: Self.template.path, toPath: path)
        let root = try DatabaseQueue(path: path).read {
            try Int.fetchOne($0, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'items'") ?? 0
        }
        let trunk = Int(try Damage.read(path, at: 32, 4).reduce(0) { $0 << 8 | UInt32($1) })
        #expect(trunk > 0)
        let offset = (trunk - 1) * 4096 + 8
        try Damage.write(
            path, at: offset,
            [UInt8(root >> 24 & 0xFF), UInt8(root >> 16 & 0xFF), UInt8(root >> 8 & 0xFF), UInt8(root & 0xFF)])
        #expect(!Self.sqliteVerdict(path, quick: false))
        #expect(try Self.partsVerdict(path, quick: false) == false)
    }

    /// SQLite says a failed read either as the check's error or as a bare
    /// line, varying between runs on one file (seed 303 of the damage tests,
    /// under load): both must make the same finding, or two verifies differ.
    @Test func aFailedReadIsOneFindingHoweverSQLiteSaysIt() throws {
        let line = try DatabaseQueue().read {
            StructureCheck.finding(forIntegrityLine: "database disk image is malformed", db: $0)
        }
        #expect(line == StructureCheck.stopped("database disk image is malformed"))
        #expect(
            line?.message
                == "SQLite stopped checking the file's structure: database disk image is malformed; ledger rebuild salvages every readable row"
        )
    }

    /// Seeded damage of every kind a disk does: the verdicts must agree.
    @Test(arguments: Array(0..<40))
    func theVerdictIsSQLitesOnDamage(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 31_337 &+ 5)
        let folder = TemporaryDirectory()
        let path = folder.file("books.db")
        try FileManager.default.copyItem(atPath: Self.template.path, toPath: path)
        let pages = Self.template.pages
        try #require(pages > 2)
        var done = ""
        switch seed % 4 {
        case 0:  // bytes of a page overwritten
            let page = 2 + Int(random.next() % UInt64(pages - 1))
            let offset = Int(random.next() % 4000)
            let bytes = (0..<(1 + Int(random.next() % 96))).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            try Damage.write(path, at: (page - 1) * 4096 + offset, bytes)
            done = "page \(page) at \(offset): \(bytes.count) bytes"
        case 1:  // one page copied over another
            let from = 2 + Int(random.next() % UInt64(pages - 1))
            let to = 2 + Int(random.next() % UInt64(pages - 1))
            try Damage.write(path, at: (to - 1) * 4096, try Damage.read(path, at: (from - 1) * 4096, 4096))
            done = "page \(from) copied over \(to)"
        case 2:  // a child or freelist pointer changed
            let page = 2 + Int(random.next() % UInt64(pages - 1))
            let slot = Int(random.next() % 12)
            let target = 1 + Int(random.next() % UInt64(pages))
            try Damage.write(
                path, at: (page - 1) * 4096 + 8 + 4 * slot,
                [
                    UInt8(target >> 24 & 0xFF), UInt8(target >> 16 & 0xFF), UInt8(target >> 8 & 0xFF),
                    UInt8(target & 0xFF),
                ])
            done = "page \(page) word \(slot) = \(target)"
        default:  // a page zeroed
            let page = 2 + Int(random.next() % UInt64(pages - 1))
            try Damage.write(path, at: (page - 1) * 4096, [UInt8](repeating: 0, count: 4096))
            done = "page \(page) zeroed"
        }
        for quick in [false, true] {
            let sqlite = Self.sqliteVerdict(path, quick: quick)
            #expect(
                try Self.partsVerdict(path, quick: quick) == sqlite,
                "seed \(seed), \(done), quick \(quick): SQLite says ok: \(sqlite)")
        }
    }
}
