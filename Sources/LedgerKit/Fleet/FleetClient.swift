import Foundation

/// One client of a fleet: a company file, the name the firm gave it, and the
/// folder or prefix its snapshots and status record go under (docs/fleet.md).
public struct FleetClient: Codable, Equatable, Sendable {
    /// The name from the list file, else the file's name without its extension.
    public var name: String
    /// The client's folder or prefix in a backup location: safe, and unique within the fleet.
    public var slug: String
    /// The company file's path, as named or found.
    public var file: String
    /// Why a client that its status record in the location says was found in a folder or by a
    /// pattern named now is not found there any more (its file missing, or no longer a company
    /// file: damaged, or encrypted by ransomware); nil for a client found as it is. Such a client
    /// fails whatever its step finds: a client never drops out of a run silently.
    public var lost: String?

    /// A client of `name`, under `slug`, whose company file is `file`.
    public init(name: String, slug: String, file: String, lost: String? = nil) {
        self.name = name
        self.slug = slug
        self.file = file
        self.lost = lost
    }
}
