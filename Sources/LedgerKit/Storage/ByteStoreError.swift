import Foundation

/// Why a `ByteStore` did not do what was asked, beyond a file's or a
/// request's own failure.
public enum ByteStoreError: LocalizedError, Equatable, Sendable {
    /// `create` met an object of that name: nothing was overwritten.
    case exists(store: String, name: String)
    /// The store's place is not there (a folder never made).
    case noPlace(String)
    /// An object longer than the most that may be read of it whole.
    case tooLarge(path: String, limit: Int)

    /// The one line a person reads: what happened and what to do.
    public var errorDescription: String? {
        switch self {
        case .exists(let store, let name):
            return "\(store) already holds \(name); nothing was overwritten."
        case .noPlace(let place):
            return FileError.cannotRead(path: place, reason: "no such folder").errorDescription
        case .tooLarge(let path, let limit):
            return FileError.cannotRead(path: path, reason: "it is larger than \(limit) bytes").errorDescription
        }
    }
}
