import Foundation

/// Why a backup, a restore or a check of snapshots could not be done.
public enum BackupError: LocalizedError, Equatable, Sendable {
    case compression(String)
    case damagedSnapshot(String)
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String, reason: String)

    /// One line for the person: what is wrong and what to do.
    public var errorDescription: String? {
        switch self {
        case .compression(let reason):
            return "Compression failed: \(reason). Check that the machine has free memory, then try again."
        case .damagedSnapshot(let reason):
            return "The snapshot is damaged: \(reason). Use an older snapshot; 'ledger snapshots DIR' lists them."
        case .cannotWrite(let path, let reason):
            return FileError.cannotWrite(path: path, reason: reason).errorDescription
        case .cannotRead(let path, let reason):
            return FileError.cannotRead(path: path, reason: reason).errorDescription
        }
    }
}
