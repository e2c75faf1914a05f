import GRDB

/// Splits whose transaction does not exist (verify's `orphan-split`, or a
/// NULL transaction): an export writes transactions, so it would leave them
/// out and its balances would disagree with the trial balance. It refuses the
/// file instead; rebuild gathers them into a transaction of their own.
enum OrphanCheck {
    /// Refuses the file when any split belongs to no transaction.
    /// - Throws: `ExportError.orphanSplits`, with how many and what they move.
    static func refuse(_ db: Database, path: String) throws {
        let amounts = try DatabaseValue.fetchCursor(
            db,
            sql: """
                SELECT amount FROM splits s
                WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = s.transaction_id)
                """)
        var count = 0
        // No sum of splits overflows an Int128.
        var debits: Int128 = 0
        var credits: Int128 = 0
        while let amount = try amounts.next() {
            count += 1
            // Amounts an export cannot carry were refused first.
            guard let cents = AmountCheck.cents(amount) else { continue }
            if cents > 0 { debits += Int128(cents) } else { credits -= Int128(cents) }
        }
        if count > 0 {
            throw ExportError.orphanSplits(
                path: path, splits: count, debits: Int64(exactly: debits).map(Money.init(cents:)),
                credits: Int64(exactly: credits).map(Money.init(cents:)))
        }
    }
}
