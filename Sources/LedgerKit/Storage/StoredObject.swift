import Foundation

/// One object of a `ByteStore`, as the store reports it: every field is
/// hostile (a size below zero or past the bytes, a name of any characters).
public struct StoredObject: Sendable, Equatable {
    /// Its name within the store.
    public let name: String
    /// Its size in bytes, as the store says.
    public let size: Int64
    /// When it was written, as `YYYY-MM-DDTHH:MM:SSZ`; nil when the store does not say it readably.
    public let modified: String?
    /// Its attributes (object storage's user metadata), when read with it.
    public let attributes: [String: String]

    /// An object as a store reported it; nothing is checked here.
    public init(name: String, size: Int64, modified: String? = nil, attributes: [String: String] = [:]) {
        self.name = name
        self.size = size
        self.modified = modified
        self.attributes = attributes
    }
}
