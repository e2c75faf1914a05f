import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// The native pass hands the rows' side of the index check to the structure
/// check, so the big tables are read once. A handed side may only ever save a
/// read: one that is partial, stale or of a damaged index never makes an
/// index agree, and the findings stay SQLite's.
@Suite struct RowSidesTests {
    /// The sides the native pass hands over while it reads `path`.
    private static func handedSides(_ path: String) throws -> RowSides {
        let sides = RowSides()
        let access = ReadOnlyAccess(path: path)
        defer { access.close() }
        _ = try access.connect().inDatabase { try NativePass.suspects($0, sides: sides) }
        sides.finish()
        return sides
    }

    private static func entries(_ path: String, _ table: String) throws -> IndexAgreement.Entries? {
        try DatabaseQueue(path: path).read { IndexAgreement.entries($0, table: table) }
    }

    /// Every table the pass reads is handed over whole, and each side agrees
    /// with its indexes exactly as a scan of the table's own would.
    @Test func thePassHandsEveryTableItReadsAndTheyAgree() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("books.db")
        try FileManager.default.copyItem(atPath: StructureCheckTests.template.path, toPath: path)
        let sides = try Self.handedSides(path)
        for table in RowSides.passTables.sorted() {
            let entries = try #require(try Self.entries(path, table), "\(table)")
            #expect(!entries.indexes.isEmpty, "\(table)")
            let handed = try #require(sides.side(of: table), "\(table)")
            let own = try DatabaseQueue(path: path).read { IndexAgreement.rows($0, entries: entries) }
            #expect(handed.sets != nil && handed.sets == own?.sets, "\(table)")
            #expect(IndexAgreement.holds(entries, rows: handed) == true, "\(table)")
        }
        #expect(sides.side(of: "items") == nil)
    }

    /// An index whose entries hold another column than the schema says: the
    /// rows' side the pass hands over does not agree, and the split check
    /// gives the same lines as SQLite's whole-file check.
    @Test func aHandedSideNeverHidesARewrittenIndex() throws {
        let folder = TemporaryDirectory()
        let path = try IndexAgreementTests.rewrittenIndexFile(folder)
        let sides = try Self.handedSides(path)
        let entries = try #require(try Self.entries(path, "splits"))
        #expect(sides.side(of: "splits")?.sets != nil)
        #expect(IndexAgreement.holds(entries, rows: sides.side(of: "splits")) == nil)
        try IndexAgreementTests.expectSQLitesFindings(path, sides: sides)
    }

    /// A side handed over before the last row (here: no row at all) differs
    /// from the entries; the check reads the table itself and finds a clean
    /// file clean.
    @Test func aPartialSideIsReadAgainNotBelieved() throws {
        let folder = TemporaryDirectory()
        let path = folder.file("books.db")
        try FileManager.default.copyItem(atPath: StructureCheckTests.template.path, toPath: path)
        let entries = try #require(try Self.entries(path, "splits"))
        let columns = entries.indexes.flatMap(\.columns)
        let partial = try #require(
            IndexAgreement.TableSide(table: "splits", indexes: entries.indexes, columns: columns))
        #expect(IndexAgreement.holds(entries, rows: partial) == nil)

        let sides = RowSides()
        sides.hand("splits", partial)
        sides.finish()
        let access = ReadOnlyAccess(path: path)
        defer { access.close() }
        let parts = try StructureCheck.integrity(
            path: path, connections: [try access.connect(), try access.connect()], quick: false, sides: sides)
        #expect(parts.isEmpty)
    }

    /// The structure check waits for a side the pass will hand over, and not
    /// for one it never will: the pass's end releases every waiter.
    @Test func aWaiterIsReleasedByTheSideOrByTheEnd() throws {
        let sides = RowSides(expecting: ["splits", "parties"])
        let entries = IndexAgreement.Index(name: "i", columns: ["a"], descending: [false], unique: false)
        let side = try #require(IndexAgreement.TableSide(table: "splits", indexes: [entries], columns: ["a"]))
        let got = Worker<[Bool]>.run(
            { [sides.side(of: "splits") != nil, sides.side(of: "parties") == nil, sides.side(of: "items") == nil] },
            during: { worker -> [Bool] in
                sides.hand("splits", side)
                sides.finish()
                return (try? worker.wait().get()) ?? []
            })
        #expect(got == [true, true, true])
    }
}
