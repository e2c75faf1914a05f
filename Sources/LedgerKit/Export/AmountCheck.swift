import GRDB

/// The amounts an export may carry: whole numbers of cents, at most
/// `Money.limit` either way. verify calls any other amount `invalid-value` and
/// leaves it out of every sum; an export cannot leave it out without changing
/// the books, so it refuses the file instead.
enum AmountCheck {
    /// The cents of a stored amount, or nil when it is not one an export may carry.
    static func cents(_ value: DatabaseValue) -> Int64? {
        guard case .int64(let cents) = value.storage, cents >= -Money.limit, cents <= Money.limit else { return nil }
        return cents
    }

    /// Refuses the file when any split's amount is not one an export may carry.
    /// - Throws: `ExportError.invalidAmounts`, naming the first such split and how many there are.
    static func refuseInvalid(_ db: Database, path: String) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT id, transaction_id, amount FROM splits
                WHERE typeof(amount) != 'integer' OR amount NOT BETWEEN -\(Money.limit) AND \(Money.limit)
                ORDER BY id
                """)
        var count = 0
        var first: (split: Int64, transaction: String, value: String)?
        while let row = try rows.next() {
            let amount = row.stored("amount")
            guard cents(amount) == nil else { continue }
            count += 1
            if first == nil {
                first = (row.integer("id") ?? 0, row.stored("transaction_id").described, amount.described)
            }
        }
        if let first {
            throw ExportError.invalidAmounts(
                path: path, splits: count, first: first.split, transaction: first.transaction, value: first.value)
        }
    }
}
