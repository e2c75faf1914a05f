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

    /// Zeroes the header and cell pointers of the b-tree page `page` (a leaf's or an interior page's).
    private func loseHeader(of page: Int, in path: String) throws {
        let bytes = try Damage.read(path, at: (page - 1) * 4096, 12)
        let header = bytes[0] == 0x05 ? 12 : 8
        try Damage.scribble(on: path, page: page, count: header + 2 * Int(PageFile.uint16(bytes, 3)), byte: 0x00)
    }

    /// Runs `sql` on the file at `path` as another program would (secure_delete
    /// off, the file's own CHECKs aside), then zeroes the header of `page` and rebuilds.
    private func change(
        _ path: String, _ sql: String, _ arguments: StatementArguments = [], thenLoseHeaderOf page: Int
    ) throws -> RebuildReport {
        try Damage.apply(to: path) { db in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            try db.execute(sql: sql, arguments: arguments)
        }
        try loseHeader(of: page, in: path)
        return try rebuild(path)
    }

    /// `column` of the row `id` of `table`, as the rebuilt file holds it (nil when the row is gone).
    private func value(_ path: String, _ table: String, _ column: String, of id: Int64) throws -> String? {
        try CompanyFile.read(path) { db in
            try String.fetchOne(db, sql: "SELECT \(column) FROM \(table) WHERE id = ?", arguments: [id])
        }
    }

    /// The sample at `path` rebuilt (VACUUMed: no free blocks), with 300 vendors added by
    /// another program (secure_delete off): the parties root leaf grew into an interior
    /// page, whose bytes still hold the cells it had as a leaf.
    private func promotedPartiesRoot(_ path: String) throws {
        _ = try rebuild(path)
        try Damage.apply(to: path) { db in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            for n in 0..<300 {
                try db.execute(
                    sql: "INSERT INTO parties (kind, name) VALUES ('vendor', ?)", arguments: ["Imported Vendor \(n)"])
            }
        }
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
    func aDeletedVendorStaysDeletedOrIsListed(withSnapshot: Bool) throws {
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
        let report = try change(path, "DELETE FROM parties WHERE id = ?", [id], thenLoseHeaderOf: root)

        let back = try value(path, "parties", "name", of: id) != nil
        let onItsWord = report.damage?.restoredUnlisted["parties", default: 0] ?? 0
        #expect(!back || listed(report).contains("parties \(id)") || onItsWord > 0)
        #expect(report.exitStatus == 1 || !back)
    }

    /// A vendor renamed after the last clean snapshot; its old cell stays whole
    /// (it lay at the start of the content area, secure_delete off) and the new
    /// one goes into a free block further up. The leaf then loses its header.
    /// The new name comes back, or the row is listed.
    @Test func aRenamedVendorKeepsItsNameOrIsListed() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        _ = try rebuild(path)
        let small = try Damage.apply(to: path) { db -> Int64 in
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            try db.execute(
                sql:
                    "INSERT INTO parties (kind, name) VALUES ('vendor', 'A Vendor With A Rather Long Name, Incorporated')"
            )
            let big = db.lastInsertedRowID
            try db.execute(sql: "INSERT INTO parties (kind, name) VALUES ('vendor', 'Ann')")
            let small = db.lastInsertedRowID
            try db.execute(sql: "DELETE FROM parties WHERE id = ?", arguments: [big])
            return small
        }
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let root = try Damage.rootPage(of: "parties", in: path)
        let report = try change(
            path, "UPDATE parties SET name = 'Ann Renamed Ltd' WHERE id = ?", [small], thenLoseHeaderOf: root)

        let name = try value(path, "parties", "name", of: small)
        #expect(name == "Ann Renamed Ltd" || listed(report).contains("parties \(small)"))
        #expect(report.exitStatus == 1 || name == "Ann Renamed Ltd")
    }

    /// Many vendors added with secure_delete off (as another program would): the
    /// parties root leaf splits and becomes an interior page, whose bytes still
    /// hold the cells it had as a leaf. A clean snapshot; then an unused vendor
    /// whose old cell the root still holds is deleted; then the root loses its
    /// header. The deleted vendor stays deleted, or is listed.
    @Test(arguments: [false, true])
    func aStaleCellOnAPromotedRootBringsBackNoDeletedVendorUnlisted(withSnapshot: Bool) throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        try promotedPartiesRoot(path)
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
        let report = try change(path, "DELETE FROM parties WHERE id = ?", [victim], thenLoseHeaderOf: root)

        let back = try value(path, "parties", "name", of: victim) != nil
        #expect(!back || listed(report).contains("parties \(victim)"))
        #expect(report.exitStatus == 1 || !back)
    }

    /// As above, but a vendor whose old cell the promoted root still holds is
    /// renamed after the snapshot (no deletion). The root's stale cell must not
    /// win over the live one on the orphaned leaf unlisted: the rename stays, or
    /// the row is listed.
    @Test func aStaleCellOnAPromotedRootUndoesNoRenameUnlisted() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        try promotedPartiesRoot(path)
        _ = try SnapshotWriter.take(SnapshotRequest(of: path, kind: .manual), into: SnapshotStore.open(backups))
        let root = try Damage.rootPage(of: "parties", in: path)
        let victim: Int64 = 100
        let report = try change(
            path, "UPDATE parties SET name = 'Imported Vendor 83 (renamed)' WHERE id = ?", [victim],
            thenLoseHeaderOf: root)

        let name = try value(path, "parties", "name", of: victim)
        #expect(name == "Imported Vendor 83 (renamed)" || listed(report).contains("parties \(victim)"))
        #expect(report.exitStatus == 1 || name == "Imported Vendor 83 (renamed)")
    }

    /// Memos edited by another program (secure_delete off) leave stale copies of
    /// lines in the free space of splits leaves. A clean snapshot; then the
    /// cleared mark of a line whose stale copy lies before its live cell is
    /// changed (its transaction's `modified_at` with it); then the leaf loses
    /// its header. The older value never comes back unlisted.
    @Test func anOlderValueNeverComesBackUnlisted() throws {
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
        var target: (page: Int, rowid: Int64)?
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
            where offsets[rowid].map({ abs($0 - at) > 4 }) == true && at > 8 + 2 * live.count {
                target = (leaf.page, rowid)
                break search
            }
        }
        let (page, x) = try #require(target)
        try Damage.apply(to: path) { db in
            try db.execute(
                sql: "UPDATE splits SET cleared = CASE cleared WHEN 'n' THEN 'c' ELSE 'n' END WHERE id = ?",
                arguments: [x])
            try db.execute(
                sql:
                    "UPDATE transactions SET modified_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+5 seconds') WHERE id = (SELECT transaction_id FROM splits WHERE id = ?)",
                arguments: [x])
        }
        let before = try value(path, "splits", "cleared", of: x)
        try loseHeader(of: page, in: path)

        let report = try rebuild(path)
        #expect(try value(path, "splits", "cleared", of: x) == before || listed(report).contains("splits \(x)"))
    }
}
