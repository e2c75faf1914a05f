import Foundation

/// Why an export could not be made.
public enum ExportError: LocalizedError, Equatable, Sendable {
    /// A transaction does not balance, so no other tool would take the export.
    case unbalanced(path: String, transaction: Int64)
    /// The output could not be written; `reason` says why.
    case cannotWrite(path: String, reason: String)

    /// What went wrong, in a sentence for the person who asked for the export.
    public var errorDescription: String? {
        switch self {
        case .unbalanced(let path, let transaction):
            return
                "Transaction \(transaction) of \(path) does not balance, so no other tool would accept the export. Run 'ledger rebuild \(path)' first."
        case .cannotWrite(let path, let reason):
            return "Cannot write \(path): \(reason). Check that the folder exists and is writable."
        }
    }
}
