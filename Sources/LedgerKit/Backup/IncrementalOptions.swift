import Foundation

/// How `ledger backup --incremental` works (docs/incremental.md).
public struct IncrementalOptions: Sendable {
    /// Open the location's page key and earlier page tables when it has recipients.
    public var keys: SnapshotIdentities
    /// The longest a file goes without a full snapshot.
    public var fullEvery: TimeInterval

    /// Options with `keys` and `fullEvery` (seven days unless told).
    public init(
        keys: SnapshotIdentities = SnapshotIdentities(), fullEvery: TimeInterval = IncrementalWriter.defaultFullEvery
    ) {
        self.keys = keys
        self.fullEvery = fullEvery
    }
}
