import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// Rows found in the bytes of a page whose header was lost (`PageFile.scannedRows`) are
/// old cells as often as live ones: a row deleted or changed since must never come back
/// unlisted, with or without a snapshot (an attacker's review of the search, kept).
@Suite struct ByteSearchTests {
    let folder = TemporaryDirectory()
    private var backups: String { folder.file("backups") }

    private func rebuild(_ path: String) throws -> RebuildReport {
        try Rebuilder.rebuild(path: path, options: RebuildOptions(backupFolder: backups, now: Date()))
    }

    private func digest(_ path: String) throws -> [String: String] {
        try CompanyFile.read(path) { try Invariants.contentDigest(of: $0) }
            .filter { !["maintenance_runs", "repair_actions", "sqlite_stat1"].contains($0.key) }
    }

    /// Zeroes the header and cell pointers of the leaf `page`.
    private func loseHeader(of page: Int, in path: String) throws {
        let file = try PageFile(path: path)
        let rows = try #require(file.page(page).flatMap { file.rows(ofLeaf: $0) })
        try Damage.scribble(on: path, page: page, count: 8 + 2 * rows.count, byte: 0x00)
    }

    /// The rows `report` lists as read from damaged pages, as "table id".
    private func listed(_ report: RebuildReport) -> [String] {
        report.damage?.unconfirmed.map { "\($0.table) \($0.rowID)" } ?? []
    }

    private func cellOffsets(_ path: String, page: Int) throws -> [Int64: Int] {
        let bytes = try Damage.read(path, at: (page - 1) * 4096, 4096)
        var offsets: [Int64: Int] = [:]
        for index in 0..<Int(PageFile.uint16(bytes, 3)) {
            let start = Int(PageFile.uint16(bytes, 8 + 2 * index))
            var offset = start
            _ = PageFile.varint(bytes, &offset)
            if let rowid = PageFile.varint(bytes, &offset) { offsets[rowid] = start }
        }
        return offsets
    }

    /// A vendor nobody used, deleted after the last clean snapshot (secure_delete
    /// off, as the commit's own test); then the parties leaf loses its header.
    /// It stays deleted, or comes back only as a row the snapshot alone vouches
    /// for, listed, with exit 1.
    @Test(arguments: [false, true])
    func aDeletedVendorComesBackSilently(withSnapshot: Bool) throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        _ = try rebuild(path)  // compact (VACUUM): no free blocks on the parties page
        let id = try Damage.apply(to: path) { db -> Int64 in
            try db.execute(sql: "INSERT INTO parties (kind, name) VALUES ('vendor', 'Short-lived Supplies')")
            return db.lastInsertedRowID
        }
        if withSnapshot {
            _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        }
        let root = try Damage.rootPage(of: "parties", in: path)
        #expect(try cellOffsets(path, page: root)[id] != nil)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            try db.execute(sql: "DELETE FROM parties WHERE id = ?", arguments: [id])
        }
        try loseHeader(of: root, in: path)

        let report = try rebuild(path)
        let back = try CompanyFile.read(path) { db in
            try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM parties WHERE id = ?", arguments: [id])
        }
        let unconfirmed = listed(report)
        let onItsWord = report.damage?.restoredUnlisted["parties", default: 0] ?? 0
        #expect(back == 0 || unconfirmed.contains("parties \(id)") || onItsWord > 0)
        #expect(report.exitStatus == 1 || back == 0)
    }

    /// A vendor renamed after the last clean snapshot; its old cell stays whole
    /// (it lay at the start of the content area, secure_delete off) and the new
    /// one goes into a free block further up. The leaf then loses its header.
    /// The new name comes back, or the row is listed.
    @Test func anOlderCopyOfARowWinsAndIsConfirmed() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        _ = try rebuild(path)
        let (big, small) = try Damage.apply(to: path) { db -> (Int64, Int64) in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            try db.execute(
                sql:
                    "INSERT INTO parties (kind, name) VALUES ('vendor', 'A Vendor With A Rather Long Name, Incorporated')"
            )
            let big = db.lastInsertedRowID
            try db.execute(sql: "INSERT INTO parties (kind, name) VALUES ('vendor', 'Ann')")
            let small = db.lastInsertedRowID
            try db.execute(sql: "DELETE FROM parties WHERE id = ?", arguments: [big])
            return (big, small)
        }
        _ = big
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let root = try Damage.rootPage(of: "parties", in: path)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            try db.execute(sql: "UPDATE parties SET name = 'Ann Renamed Ltd' WHERE id = ?", arguments: [small])
        }
        try loseHeader(of: root, in: path)

        let report = try rebuild(path)
        let name = try CompanyFile.read(path) { db in
            try String.fetchOne(db, sql: "SELECT name FROM parties WHERE id = ?", arguments: [small])
        }
        let unconfirmed = listed(report)
        #expect(name == "Ann Renamed Ltd" || unconfirmed.contains("parties \(small)"))
        #expect(report.exitStatus == 1 || name == "Ann Renamed Ltd")
    }

    /// Many vendors added with secure_delete off (as another program would): the
    /// parties root leaf splits and becomes an interior page, whose bytes still
    /// hold the cells it had as a leaf. A clean snapshot; then an unused vendor
    /// whose old cell the root still holds is deleted; then the root loses its
    /// header. The deleted vendor stays deleted, or is listed.
    @Test(arguments: [false, true])
    func aStaleCellOnAPromotedRootBringsBackADeletedVendor(withSnapshot: Bool) throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        _ = try rebuild(path)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            for n in 0..<300 {
                try db.execute(
                    sql: "INSERT INTO parties (kind, name) VALUES ('vendor', ?)", arguments: ["Imported Vendor \(n)"])
            }
        }
        if withSnapshot {
            _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        }
        let root = try Damage.rootPage(of: "parties", in: path)
        let file = try PageFile(path: path)
        let bytes = try #require(file.page(root))
        let stale = file.scannedRows(of: bytes, keys: Int64.min...Int64.max) { PageSalvage.Shape.fits($0, "parties") }
        let unused = try CompanyFile.read(path) { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM parties p WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.party_id = p.id)
                      AND NOT EXISTS (SELECT 1 FROM splits s WHERE s.party_id = p.id)
                    """)
        }
        let victim = try #require(stale.map(\.rowid).last { unused.contains($0) })
        try Damage.apply(to: path) { db in
            try db.execute(sql: "DELETE FROM parties WHERE id = ?", arguments: [victim])
        }
        try Damage.scribble(on: path, page: root, count: 12 + 2 * Int(PageFile.uint16(bytes, 3)), byte: 0x00)

        let report = try rebuild(path)
        let back = try CompanyFile.read(path) { db in
            try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM parties WHERE id = ?", arguments: [victim])
        }
        let unconfirmed = listed(report)
        #expect(back == 0 || unconfirmed.contains("parties \(victim)"))
        #expect(report.exitStatus == 1 || back == 0)
    }

    /// As above, but a vendor whose old cell the promoted root still holds is
    /// renamed after the snapshot (no deletion). The root's stale cell must not
    /// win over the live one on the orphaned leaf unlisted: the rename stays, or
    /// the row is listed.
    @Test func aStaleCellOnAPromotedRootUndoesARename() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        _ = try rebuild(path)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            for n in 0..<300 {
                try db.execute(
                    sql: "INSERT INTO parties (kind, name) VALUES ('vendor', ?)", arguments: ["Imported Vendor \(n)"])
            }
        }
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let root = try Damage.rootPage(of: "parties", in: path)
        let bytes = try Damage.read(path, at: (root - 1) * 4096, 4096)
        let victim: Int64 = 100
        try Damage.apply(to: path) { db in
            try db.execute(
                sql: "UPDATE parties SET name = 'Imported Vendor 83 (renamed)' WHERE id = ?", arguments: [victim])
        }
        try Damage.scribble(on: path, page: root, count: 12 + 2 * Int(PageFile.uint16(bytes, 3)), byte: 0x00)

        let report = try rebuild(path)
        let name = try CompanyFile.read(path) { db in
            try String.fetchOne(db, sql: "SELECT name FROM parties WHERE id = ?", arguments: [victim])
        }
        let unconfirmed = listed(report)
        #expect(name == "Imported Vendor 83 (renamed)" || unconfirmed.contains("parties \(victim)"))
        #expect(report.exitStatus == 1 || name == "Imported Vendor 83 (renamed)")
    }

    /// Memos edited by another program (secure_delete off) leave stale copies of
    /// lines in the free space of splits leaves. A clean snapshot; then one
    /// line's amount is edited (the transaction kept balanced, balances kept),
    /// a line that has a stale copy before its live cell; then the leaf loses
    /// its header. The older value never comes back unlisted.
    @Test func anOlderAmountComesBackConfirmed() throws {
        let path = try Damage.sample(in: folder, name: "money.db", transactions: 3_000, seed: 3)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            try db.execute(
                sql: "UPDATE splits SET memo = COALESCE(memo, '') || ' edited after import' WHERE id % 3 = 0")
            try db.execute(sql: "UPDATE splits SET memo = NULL WHERE id % 7 = 0")
        }
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let file = try PageFile(path: path)
        let root = try Damage.rootPage(of: "splits", in: path)
        var target: (page: Int, rowid: Int64, count: Int)?
        search: for leaf in file.leafKeys(from: root, skipping: file.freelist()) {
            guard let page = file.page(leaf.page), let live = file.rows(ofLeaf: page) else { continue }
            let offsets = try cellOffsets(path, page: leaf.page)
            // Where the scan finds each rowid first.
            var start = 0
            var firstAt: [Int64: Int] = [:]
            while start < 4096 {
                var offset = start
                guard let size = PageFile.varint(page, &offset), size >= 1, size < 4000,
                    let rowid = PageFile.varint(page, &offset), leaf.keys.contains(rowid),
                    offset + Int(size) <= 4096,
                    let values = PageFile.record(Array(page[offset..<offset + Int(size)]), exact: true),
                    PageSalvage.Shape.fits(values, "splits")
                else {
                    start += 1
                    continue
                }
                if firstAt[rowid] == nil, live.first(where: { $0.rowid == rowid })?.values == values {
                    firstAt[rowid] = start
                }
                start = offset + Int(size)
            }
            for (rowid, at) in firstAt.sorted(by: { $0.key < $1.key })
            where offsets[rowid] != nil && abs(offsets[rowid]! - at) > 4
                && at > 8 + 2 * live.count
            {

                target = (leaf.page, rowid, live.count)
                break search
            }
        }
        let (page, x, count) = try #require(target)
        try Damage.apply(to: path) { db in
            try db.execute(
                sql: "UPDATE splits SET cleared = CASE cleared WHEN 'n' THEN 'c' ELSE 'n' END WHERE id = ?",
                arguments: [x])
            try db.execute(
                sql:
                    "UPDATE transactions SET modified_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+5 seconds') WHERE id = (SELECT transaction_id FROM splits WHERE id = ?)",
                arguments: [x])
        }
        let amountBefore = try CompanyFile.read(path) { db in
            try String.fetchOne(db, sql: "SELECT cleared FROM splits WHERE id = ?", arguments: [x])
        }
        try Damage.scribble(on: path, page: page, count: 8 + 2 * count, byte: 0x00)

        let report = try rebuild(path)
        let amountAfter = try CompanyFile.read(path) { db in
            try String.fetchOne(db, sql: "SELECT cleared FROM splits WHERE id = ?", arguments: [x])
        }
        let unconfirmed = listed(report)
        #expect(amountAfter == amountBefore || unconfirmed.contains("splits \(x)"))
    }
}
