import GRDB

/// How the transactions that survived damage agree with a snapshot's: the
/// evidence that a snapshot holds these books when the damage took the company
/// row that would say so (docs/rebuild-after-damage.md).
struct TransactionAgreement: Equatable, Sendable {
    /// Surviving transactions, read whole from sound pages, whose id the snapshot holds too.
    let shared: Int
    /// Those of them identical to the snapshot's in every column, down to the
    /// moments they were created and last changed.
    let identical: Int
    /// Those of them that differ from the snapshot's, though they were last
    /// changed before it was taken: the snapshot is not of these books.
    let contradicted: Int

    /// Identical transactions needed, at the least, to take a snapshot as these books'.
    static let leastIdentical = 10

    /// Whether the snapshot is shown to hold these books: at least
    /// `leastIdentical` transactions identical, and every other one it holds
    /// too changed after it was taken. Another company's books (even a copy of
    /// one template, after its first transaction of its own) hold some
    /// transaction of these ids that these books did not change since.
    var vouches: Bool { identical >= Self.leastIdentical && contradicted == 0 }

    /// Compares the transactions of `survivors` (the salvaged file) with those
    /// of the company file at `snapshot`, taken at `takenAt` (its manifest's
    /// `created_at`), leaving out `doubtful` ids (rebuilt from indexes, or read
    /// from damaged pages); nil when either cannot be read.
    static func measure(survivors: String, snapshot: String, takenAt: String, doubtful: Set<Int64>)
        -> TransactionAgreement?
    {
        let columns = (StructureCheck.expectedColumns["transactions"] ?? []).filter { $0 != "id" }
        guard !columns.isEmpty else { return nil }
        let same = columns.map { "m.\"\($0)\" IS s.\"\($0)\"" }.joined(separator: " AND ")
        let access = ReadOnlyAccess(path: survivors)
        defer { access.close() }
        do {
            // ATTACH cannot run inside a transaction: outside one, on a connection of our own.
            return try access.connect().inDatabase { db in
                try db.execute(sql: "ATTACH DATABASE ? AS snap", arguments: [snapshot])
                var (shared, identical, contradicted) = (0, 0, 0)
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT m.id AS id, \(same) AS same, m.modified_at > ? AS later
                        FROM main.transactions m JOIN snap.transactions s ON s.id = m.id
                        """, arguments: [takenAt])
                while let row = try rows.next() {
                    guard let id = row.integer("id"), !doubtful.contains(id) else { continue }
                    shared += 1
                    if row.integer("same") == 1 {
                        identical += 1
                    } else if row.integer("later") != 1 {
                        contradicted += 1
                    }
                }
                return TransactionAgreement(shared: shared, identical: identical, contradicted: contradicted)
            }
        } catch {
            return nil
        }
    }
}
