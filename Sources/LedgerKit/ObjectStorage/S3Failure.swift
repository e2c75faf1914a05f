import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What went wrong with a request.
enum S3Failure: Error, Equatable {
    case notHTTP
    case status(Int, code: String?, request: String)
    /// An answer that is not the document expected: a listing that is no
    /// `<ListBucketResult>`, an upload's start without an upload id.
    case badListing
    /// A listing page of more entries than this, more than S3 ever puts in one.
    case tooManyEntries(most: Int)
    /// A listing that does not end: why, and how far it was followed.
    case endlessListing(ListingBound.Stop, objects: Int, pages: Int)
    /// A multipart upload the storage did not surely complete: why not.
    case notCompleted(key: String, reason: String)
    /// A create-only write met an object of that name (412).
    case exists(key: String)
    /// An answer longer than it may be (`bytes`): a page, a setting, or more than the object.
    case tooLarge(bytes: Int64)
    /// An object whose HEAD gives another size than its listing.
    case sizeMismatch(key: String, listed: Int64, head: Int64)
    /// A request that took longer in all than its bytes could need: cancelled after this many seconds.
    case tooSlow(request: String, seconds: Int)
    /// A `206` holding other bytes than the `Range` asked (its `Content-Range`).
    case badRange(asked: String, got: String, request: String)
}
