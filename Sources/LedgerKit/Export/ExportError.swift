import Foundation

/// Why an export could not be made.
public enum ExportError: LocalizedError, Equatable, Sendable {
    /// A transaction does not balance, so no other tool would take the export.
    case unbalanced(path: String, transaction: Int64)
    /// Splits hold amounts no tool could take (`invalid-value`): not a whole
    /// number of cents, or more than `Money.limit` either way. `first` is the
    /// lowest such split, with its transaction and amount as stored.
    case invalidAmounts(path: String, splits: Int, first: Int64, transaction: String, value: String)
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
        case .cannotWrite(let path, let reason):
            return "Cannot write \(path): \(reason). Check that the folder exists and is writable."
        }
    }
}
