import Foundation

/// What the manifest of an incremental snapshot adds (docs/incremental.md):
/// its pages' size and number, and the size of its page table.
public struct IncrementalLayout: Codable, Equatable, Sendable {
    /// The bytes of one page (the file header's page size).
    public var pageSize: Int
    /// How many pages the file has.
    public var pageCount: Int
    /// How many bytes the snapshot's data inflates to (its page table).
    public var tableBytes: Int
    /// The page key it was made with, as `IncrementalKey.check` gives it
    /// (nil in snapshots of earlier versions): another key's hashes say
    /// nothing about its pages.
    public var keyCheck: String? = nil
    /// Whom its packs were encrypted to, as `IncrementalKey.sealedTo` gives
    /// it (nil in snapshots of earlier versions): a later incremental shares
    /// its packs only when encrypted to the very same recipients.
    public var sealedTo: String? = nil

    /// Whether the layout can be a SQLite file's: a page size that is a power
    /// of two from 512 to 65,536, and a page count SQLite allows. Stored
    /// layouts are read from someone else's disk: check before using them.
    var isSound: Bool {
        pageSize >= 512 && pageSize <= 65_536 && pageSize & (pageSize - 1) == 0 && pageCount >= 0
            && pageCount <= Self.largestPageCount && tableBytes >= 0
    }

    /// The most pages a SQLite file can have (2^32 - 2).
    static let largestPageCount = 4_294_967_294

    enum CodingKeys: String, CodingKey {
        case pageSize = "page_size"
        case pageCount = "page_count"
        case tableBytes = "table_bytes"
        case keyCheck = "key_check"
        case sealedTo = "sealed_to"
    }
}
