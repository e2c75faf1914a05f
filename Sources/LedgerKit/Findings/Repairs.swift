import GRDB

/// The repair of docs/findings.md's "what rebuild does" column for one finding code
/// (from its `FindingEntry`). Each selects its rows with the very SQL its
/// code's checks use, so it changes exactly what Verify reports.
struct Repair: Sendable {
    let code: FindingCode
    let run: @Sendable (RepairContext) throws -> Void
}

/// The repairs of the finding catalog's entries (`FindingEntry.Remedy`), in
/// the order they run, and the helpers they share.
enum Repairs {
    /// Every entry's repair, by phase and position within it.
    static let ordered: [Repair] = FindingCatalog.entries.compactMap { entry -> (RepairPhase, Int, Repair)? in
        guard case .repair(let phase, let position, let run) = entry.remedy else { return nil }
        return (phase, position, Repair(code: entry.code, run: run))
    }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)

    /// Adds a Rebuild Suspense split for whatever the integer amounts of
    /// `transaction` lack to sum to 0; a transaction with an amount that is not
    /// an integer is left alone (docs/findings.md, invalid-value).
    static func balance(_ transaction: Int64, _ context: RepairContext, code: FindingCode, memo: String) throws {
        let row = try Row.fetchOne(
            context.db,
            sql: """
                SELECT SUM(\(ValueRule.summable("amount"))) AS total, MAX(\(ValueRule.isBadAmount("amount"))) AS bad
                FROM splits WHERE transaction_id = ?
                """, arguments: [transaction])
        guard let row, row.integer("bad") == 0, let total = row.integer("total"), total != 0 else { return }
        let suspense = try context.suspense(for: code)
        try context.insertNew(
            code, "splits",
            insert: """
                INSERT INTO splits (transaction_id, account_id, party_id, amount, memo, cleared, reconciliation_id)
                VALUES (?, ?, NULL, ?, \(memo), 'n', NULL)
                """, arguments: [transaction, suspense, -total])
    }

    /// `base`, or `base (2)`, `base (3)`… whichever `taken` (given the extra
    /// arguments and the name) counts no row for.
    static func freeName(_ base: String, _ db: Database, taken: String, _ arguments: [DatabaseValueConvertible]) throws
        -> String
    {
        var candidate = base
        var number = 2
        while try Int.fetchOne(db, sql: taken, arguments: StatementArguments(arguments + [candidate])) ?? 0 > 0 {
            candidate = "\(base) (\(number))"
            number += 1
        }
        return candidate
    }

    /// `text` as an SQL string literal.
    static func sqlLiteral(_ text: String) -> String {
        Quoting.sqlLiteral(text)
    }
}
