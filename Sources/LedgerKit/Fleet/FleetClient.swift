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

    /// A client of `name`, under `slug`, whose company file is `file`.
    public init(name: String, slug: String, file: String) {
        self.name = name
        self.slug = slug
        self.file = file
    }
}
