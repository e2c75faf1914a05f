import Foundation

/// What `IncrementalWriter.take` did: an incremental snapshot, or a full one
/// and why.
public struct IncrementalRun: Sendable {
    /// The snapshot taken.
    public var snapshot: Snapshot
    /// Why a full snapshot was taken instead; nil for an incremental one.
    public var fullBecause: String?
    /// Packs new in the location.
    public var packsCreated: Int
    /// Bytes sent: new packs and the snapshot object.
    public var bytesWritten: Int64
    /// Pages of the file.
    public var pages: Int
    /// Pages the location did not hold yet.
    public var newPages: Int
    /// Of the new pages, those stored as changes to an earlier version (delta blobs).
    public var deltaPages: Int
}
