import GRDB

/// How far the transactions that survived damage agree with a snapshot's: the
/// evidence that a snapshot holds these books when the damage took the company
/// row that would say so (docs/rebuild.md, "Recovery from the last good snapshot").
struct TransactionAgreement: Equatable, Sendable {
    /// Surviving transactions whose id the snapshot holds too.
    let shared: Int
    /// Those of them identical to the snapshot's in every column, down to the
    /// moments they were created and last changed.
    let identical: Int

    /// Identical transactions needed, at the least, to take a snapshot as these books'.
    static let leastIdentical = 10

    /// Whether the snapshot is shown to hold these books: at least
    /// `leastIdentical` transactions identical, and nine in ten of those it
    /// shares. Another company's books share ids, not the moments their
    /// transactions were created; the edits of the weeks since a snapshot
    /// change far fewer than one in ten.
    var vouches: Bool { identical >= Self.leastIdentical && identical * 10 >= shared * 9 }

    /// Compares the transactions of `survivors` (the salvaged file) with those
    /// of the company file at `snapshot`; nil when either cannot be read.
    static func measure(survivors: String, snapshot: String) -> TransactionAgreement? {
        let columns = (StructureCheck.expectedColumns["transactions"] ?? []).filter { $0 != "id" }
        guard !columns.isEmpty else { return nil }
        let same = columns.map { "m.\"\($0)\" IS s.\"\($0)\"" }.joined(separator: " AND ")
        let access = ReadOnlyAccess(path: survivors)
        defer { access.close() }
        do {
            // ATTACH cannot run inside a transaction: outside one, on a connection of our own.
            return try access.connect().inDatabase { db in
                try db.execute(sql: "ATTACH DATABASE ? AS snap", arguments: [snapshot])
                guard
                    let row = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT COUNT(*) AS shared, COALESCE(SUM(\(same)), 0) AS identical
                            FROM main.transactions m JOIN snap.transactions s ON s.id = m.id
                            """),
                    let shared = row.integer("shared"), let identical = row.integer("identical")
                else { return nil }
                return TransactionAgreement(shared: Int(shared), identical: Int(identical))
            }
        } catch {
            return nil
        }
    }
}
