import Foundation

/// Why a file or folder of this machine could not be read or written: the
/// neutral error of the lower folders (Support, CompanyFile, Storage), which
/// know nothing of backups. Each message says what happened and what to do.
public enum FileError: LocalizedError, Equatable, Sendable {
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String, reason: String)

    /// The one line a person reads: what happened and what to do.
    public var errorDescription: String? {
        switch self {
        case .cannotWrite(let path, let reason):
            return "Cannot write \(path): \(reason). Check the folder exists, is writable and has free space."
        case .cannotRead(let path, let reason):
            return "Cannot read \(path): \(reason)."
        }
    }
}
