import Foundation

/// The rows' sides of the index check (`IndexAgreement.TableSide`), handed
/// from the native pass, which reads the big tables anyway, to the structure
/// check, which then need not read them again.
///
/// The structure check asks for a table's side once it has read the table's
/// indexes, and waits until the pass has handed it over or is done. A table
/// the pass did not hand over (it stopped, or does not read it) the structure
/// check reads itself: the sides only ever save a read, never decide.
final class RowSides: @unchecked Sendable {
    /// The tables whose sides the pass hands over, read or not.
    private let expected: Set<String>
    // `sides` and `done` are guarded by `condition`.
    private let condition = NSCondition()
    private var sides: [String: IndexAgreement.TableSide?] = [:]
    private var done = false

    /// The tables the native pass hands over (docs/company-file.md's with an
    /// index the pass reads every column of).
    static let passTables: Set<String> = [
        "parties", "reconciliations", "transactions", "bank_feed", "splits", "document_lines", "applications",
    ]

    init(expecting tables: Set<String> = RowSides.passTables) {
        expected = tables
    }

    /// Hands over the side of a table the pass read whole (nil: it could not sum it).
    func hand(_ table: String, _ side: IndexAgreement.TableSide?) {
        condition.lock()
        defer { condition.unlock() }
        sides[table] = .some(side)
        condition.broadcast()
    }

    /// The pass hands nothing more over (it ended, stopped, or never ran).
    func finish() {
        condition.lock()
        defer { condition.unlock() }
        done = true
        condition.broadcast()
    }

    /// The side of `table`, waiting for it while the pass still runs; nil when
    /// the pass does not read it or ended without handing it over.
    func side(of table: String) -> IndexAgreement.TableSide? {
        guard expected.contains(table) else { return nil }
        condition.lock()
        defer { condition.unlock() }
        while sides[table] == nil, !done { condition.wait() }
        return sides[table] ?? nil
    }
}
