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

    enum CodingKeys: String, CodingKey {
        case pageSize = "page_size"
        case pageCount = "page_count"
        case tableBytes = "table_bytes"
    }
}
