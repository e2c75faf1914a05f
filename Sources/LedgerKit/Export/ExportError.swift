import Foundation

/// Why an export could not be made.
public enum ExportError: LocalizedError, Equatable, Sendable {
    /// A transaction does not balance, so no other tool would take the export.
    case unbalanced(path: String, transaction: Int64)
    /// Splits hold amounts no tool could take (`invalid-value`): not a whole
    /// number of cents, or more than `Money.limit` either way. `first` is the
    /// lowest such split, with its transaction and amount as stored.
    case invalidAmounts(path: String, splits: Int, first: Int64, transaction: String, value: String)
    /// Splits belong to no transaction (`orphan-split`), moving `debits` and
    /// `credits` (nil: more than one sum can hold) that an export would leave out.
    case orphanSplits(path: String, splits: Int, debits: Money?, credits: Money?)
    /// The output could not be written; `reason` says why.
    case cannotWrite(path: String, reason: String)

    /// What went wrong, in a sentence for the person who asked for the export.
    public var errorDescription: String? {
        switch self {
        case .unbalanced(let path, let transaction):
            return
                "Transaction \(transaction) of \(path) does not balance, so no other tool would accept the export. Run 'ledger rebuild \(path)' first."
        case .invalidAmounts(let path, let splits, let first, let transaction, let value):
            let others = splits == 1 ? "" : "; \(splits - 1) other split\(splits == 2 ? " does" : "s do") too"
            return
                "Split \(first) (transaction \(transaction)) of \(path) stores \(value) as its amount, which must be a whole number of cents, at most \(Money(cents: Money.limit)) either way (invalid-value)\(others). An export cannot carry such an amount: run 'ledger verify \(path)' to list them, and correct each by hand (rebuild cannot)."
        case .orphanSplits(let path, let splits, let debits, let credits):
            let figure = { (sum: Money?) in sum?.description ?? "more than \(Money(cents: .max))" }
            let subject = splits == 1 ? "1 split of \(path) belongs" : "\(splits) splits of \(path) belong"
            return
                "\(subject) to no transaction (orphan-split): \(figure(debits)) in debits and \(figure(credits)) in credits that an export would leave out, so that its balances would disagree with the trial balance. Run 'ledger verify \(path)' to see them, then 'ledger rebuild \(path)' to gather them into a transaction."
        case .cannotWrite(let path, let reason):
            return "Cannot write \(path): \(reason). Check that the folder exists and is writable."
        }
    }
}
