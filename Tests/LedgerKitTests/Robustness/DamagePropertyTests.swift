import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// Files torn by forced shutdowns, bad disks and sync tools: at least 300
/// seeded damages of a small company, of every kind real damage takes. Verify
/// must report and never refuse a file whose header says LEDG; rebuild must
/// leave a file SQLite calls ok with nothing repairable left, and say so
/// whenever a row did not come back.
@Suite struct DamagePropertyTests {
    enum Kind: String, CaseIterable {
        case randomBytes = "random bytes in a page"
        case zeroedPage = "a zeroed page"
        case garbagePage = "a page of random bytes"
        case swappedPages = "two pages swapped"
        case cutAtPage = "the file cut at a page"
        case cutInsidePage = "the file cut inside a page"
        case acrossBoundary = "a run of bytes across a page boundary"
        case tornLog = "a torn -wal"
        case garbageLog = "a -wal with a garbage tail"
        case zeroedHeader = "a page's header and cell pointers zeroed"
    }

    static let pageSize = 4096

    /// A company file whose last transactions are committed in its -wal only,
    /// made once; each case copies it (both files) and damages the copy.
    static let template: (folder: String, pages: Int, rows: [String: Set<Int64>]) = {
        let folder = FileManager.default.temporaryDirectory.path + "/ledger-damage-template-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/books.db"
        var pages = 0
        var rows: [String: Set<Int64>] = [:]
        do {
            if !FileManager.default.fileExists(atPath: path) {
                _ = try SampleCompany.generate(at: path, options: SampleOptions(transactions: 150, seed: 11))
                try ForcedShutdown.commitInLogOnly(path, transactions: 3)
            }
            pages = Int(try FileHeader.read(path: path).fileSize) / pageSize
            rows = try ForcedShutdown.rows(of: path)
        } catch {
            Issue.record("could not make the damage template: \(error)")
        }
        return (folder, pages, rows)
    }()

    /// Seeds 0..<360: each kind 36 times, and the seeds a campaign once found
    /// failing (79506: bytes across a page boundary that make `integrity_check`
    /// fail with SQLITE_TOOBIG). A longer campaign, outside the suite, names
    /// its own: `LEDGER_DAMAGE_SEEDS=360-3959 swift test --filter DamagePropertyTests`.
    static let seeds: [Int] = {
        let bounds = ProcessInfo.processInfo.environment["LEDGER_DAMAGE_SEEDS"]?.split(separator: "-").compactMap {
            Int($0)
        }
        guard let bounds, bounds.count == 2, bounds[0] <= bounds[1] else { return Array(0..<360) + [79_506] }
        return Array(bounds[0]...bounds[1])
    }()

    @Test(arguments: seeds)
    func verifyAndRebuildHoldOnDamage(seed: Int) throws {
        let kind = Kind.allCases[seed % Kind.allCases.count]
        var random = SplitMix64(seed: UInt64(seed) &* 104_729 &+ 17)
        let folder = TemporaryDirectory()
        let path = folder.file("books.db")
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: Self.template.folder + "/books.db" + suffix, toPath: path + suffix)
        }
        // What SQLite's own recovery makes of the files is what must come back:
        // the frames a torn log lost were never there to keep.
        let described = try damage(path, kind, pages: Self.template.pages, &random)
        let original =
            [.tornLog, .garbageLog].contains(kind)
            ? try ForcedShutdown.rows(of: path + ".log-only")
            : Self.template.rows
        let context = "seed \(seed): \(kind.rawValue) (\(described))"

        // Verify: never refuses (the header still says LEDG), never calls a damaged file clean.
        let report: VerifyReport
        do {
            report = try Verifier.verify(path: path)
        } catch {
            Issue.record("\(context): verify refused: \(error)")
            return
        }
        let reference = try Verifier.verify(path: path, engine: .sql).findings
        #expect(
            report.findings == reference,
            """
            \(context): the engines differ; native only: \(report.findings.filter { !reference.contains($0) }.prefix(4).map(\.message)), \
            SQL only: \(reference.filter { !report.findings.contains($0) }.prefix(4).map(\.message))
            """)
        let sqliteSays = ForcedShutdown.integrityCheck(path, constraintsAside: true)
        if sqliteSays != "ok" {
            #expect(
                report.findings.contains { $0.code == .sqliteCorruption },
                "\(context): integrity_check says \(sqliteSays.prefix(200)), verify: \(report.findings.prefix(3).map(\.message))"
            )
        }

        // Rebuild: exit 0 or 1 with a sound file, or 2 only when not one row can be read.
        let rebuilt: RebuildReport
        do {
            rebuilt = try Rebuilder.rebuild(
                path: path, options: RebuildOptions(backupFolder: folder.file("backups"), wait: 1))
        } catch RebuildError.unsalvageable {
            Self.tally(
                kind: kind, verify: report.ok ? 0 : 1, rebuild: 2, kept: 0,
                original: original.values.reduce(0) { $0 + $1.count })
            return
        } catch {
            Issue.record("\(context): rebuild refused: \(error)")
            return
        }
        // A salvaged file is one integrity_check calls ok, constraints and all;
        // a repaired one may keep values a person must look at (invalid-value).
        #expect(ForcedShutdown.integrityCheck(path, constraintsAside: rebuilt.salvage == nil) == "ok", "\(context)")
        #expect(
            rebuilt.remaining.allSatisfy { !$0.repairable },
            "\(context): \(rebuilt.remaining.filter(\.repairable).map(\.message))")
        let after = try ForcedShutdown.rows(of: path)
        Self.tally(
            kind: kind, verify: report.ok ? 0 : 1, rebuild: rebuilt.exitStatus,
            kept: original.reduce(0) { $0 + $1.value.intersection(after[$1.key, default: []]).count },
            original: original.values.reduce(0) { $0 + $1.count })
        // Exit 0 says nothing was lost: every row of the original is there, but
        // for those the repairs deleted, each recorded in repair_actions.
        if rebuilt.exitStatus == 0 {
            let deleted = try CompanyFile.read(path) { db in
                try Row.fetchAll(db, sql: "SELECT table_name, row_id FROM repair_actions WHERE action = 'delete'")
                    .map { "\($0.text("table_name") ?? "") \($0.integer("row_id") ?? 0)" }
            }
            for (table, rows) in original {
                let missing = rows.subtracting(after[table, default: []]).filter { !deleted.contains("\(table) \($0)") }
                #expect(
                    missing.isEmpty, "\(context): exit 0, yet \(missing.count) rows of \(table) are gone unrecorded")
            }
        }
        // Loss is loud: every split and transaction of the original is there, or the exit status is 1.
        for table in ["splits", "transactions", "accounts", "parties", "documents", "bank_feed"] {
            let missing = original[table, default: []].subtracting(after[table, default: []])
            if !missing.isEmpty {
                #expect(
                    rebuilt.exitStatus == 1,
                    "\(context): \(missing.count) rows of \(table) lost, yet exit \(rebuilt.exitStatus)")
            }
        }
    }

    /// With LEDGER_DAMAGE_REPORT naming a file, one line per case is added to
    /// it (kind, verify's and rebuild's exit, rows of the original still there
    /// after the rebuild, rows of the original), for
    /// the figures of a closing note.
    static func tally(kind: Kind, verify: Int, rebuild: Int32, kept: Int, original: Int) {
        guard let report = ProcessInfo.processInfo.environment["LEDGER_DAMAGE_REPORT"],
            let handle = FileHandle(forWritingAtPath: report)
                ?? {
                    FileManager.default.createFile(atPath: report, contents: nil)
                    return FileHandle(forWritingAtPath: report)
                }()
        else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data("\(kind.rawValue)\t\(verify)\t\(rebuild)\t\(kept)\t\(original)\n".utf8))
    }

    /// Damages the file (and its -wal) at `path`; page 1 is always left whole.
    private func damage(_ path: String, _ kind: Kind, pages: Int, _ random: inout SplitMix64) throws -> String {
        let size = Self.pageSize
        let page = Int(random.next() % UInt64(max(pages - 1, 1))) + 2
        switch kind {
        case .randomBytes:
            let offset = Int(random.next() % UInt64(size - 16))
            let count = Int(random.next() % 16) + 1
            try Damage.write(path, at: (page - 1) * size + offset, bytes(count, &random))
            return "page \(page), \(count) bytes at \(offset)"
        case .zeroedPage:
            try Damage.write(path, at: (page - 1) * size, [UInt8](repeating: 0, count: size))
            return "page \(page)"
        case .zeroedHeader:
            let count = Int(random.next() % 1024) + 8
            try Damage.write(path, at: (page - 1) * size, [UInt8](repeating: 0, count: count))
            return "page \(page), its first \(count) bytes"
        case .garbagePage:
            try Damage.write(path, at: (page - 1) * size, bytes(size, &random))
            return "page \(page)"
        case .swappedPages:
            var other = Int(random.next() % UInt64(max(pages - 1, 1))) + 2
            if other == page { other = page == pages ? 2 : page + 1 }
            let first = try Damage.read(path, at: (page - 1) * size, size)
            let second = try Damage.read(path, at: (other - 1) * size, size)
            try Damage.write(path, at: (page - 1) * size, second)
            try Damage.write(path, at: (other - 1) * size, first)
            return "pages \(page) and \(other)"
        case .cutAtPage:
            truncate(path, off_t((page - 1) * size))
            return "at page \(page)"
        case .cutInsidePage:
            let inside = Int(random.next() % UInt64(size - 1)) + 1
            truncate(path, off_t((page - 1) * size + inside))
            return "inside page \(page), at byte \(inside)"
        case .acrossBoundary:
            let count = Int(random.next() % 200) + 2
            let start = page * size - count / 2
            try Damage.write(path, at: start, bytes(count, &random))
            return "\(count) bytes from \(start)"
        case .tornLog:
            let log = path + "-wal"
            let walSize = (try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
            let cut = Int(random.next() % UInt64(max(walSize, 1)))
            truncate(log, off_t(cut))
            try ForcedShutdown.keepLogOnlyCopy(of: path)
            // A torn log often meets a damaged main file.
            if random.next() % 2 == 0 { try Damage.write(path, at: (page - 1) * size, bytes(size, &random)) }
            return "-wal cut at \(cut) of \(walSize)"
        case .garbageLog:
            let log = path + "-wal"
            let walSize = (try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
            let count = Int(random.next() % 9000) + 1
            try Damage.write(log, at: walSize, bytes(count, &random))
            try ForcedShutdown.keepLogOnlyCopy(of: path)
            if random.next() % 2 == 0 { try Damage.write(path, at: (page - 1) * size, bytes(size, &random)) }
            return "\(count) garbage bytes after the -wal's \(walSize)"
        }
    }

    private func bytes(_ count: Int, _ random: inout SplitMix64) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

}
