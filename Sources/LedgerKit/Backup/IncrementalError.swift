import Foundation

/// Why an incremental snapshot could not be taken or read (docs/incremental.md).
public enum IncrementalError: LocalizedError, Equatable, Sendable {
    /// A pack the snapshot needs, or a pack's index object (`packs/<pack>.index`), is not in the location.
    case packMissing(pack: String, snapshot: String)
    /// A pack the snapshot needs does not give its pages back, or its index object cannot be read.
    case packDamaged(pack: String, snapshot: String, reason: String)
    /// The snapshot's page table cannot be read.
    case tableDamaged(snapshot: String, reason: String)
    /// The location has recipients and nothing given opens its page key or page tables.
    case needsIdentity(location: String)

    /// What went wrong and what to do, in a person's words.
    public var errorDescription: String? {
        switch self {
        case .packMissing(let pack, let snapshot):
            return
                "\(pack), which \(snapshot) needs, is missing: nothing was restored from it. Choose another snapshot."
        case .packDamaged(let pack, let snapshot, let reason):
            return "\(pack), which \(snapshot) needs, is damaged (\(reason)): nothing was restored from it. "
                + "Choose another snapshot."
        case .tableDamaged(let snapshot, let reason):
            return "The page table of \(snapshot) cannot be read (\(reason)). Choose another snapshot."
        case .needsIdentity(let location):
            return "\(location) is encrypted: an incremental backup there needs --identity to read its page key "
                + "and earlier page tables."
        }
    }
}
