import Foundation

/// How `fleet backup` backs up each client: what a single `ledger backup` is told.
public struct FleetBackupOptions: Sendable {
    /// Why the snapshots are taken: `manual` or `scheduled`.
    public var kind: SnapshotKind
    /// The deflate level, 1…9.
    public var level: Int
    /// Who each snapshot is encrypted to; none: plain, unless the location's owner set recipients.
    public var recipients: SnapshotRecipients
    /// The keep rules applied to each client's snapshots after its backup.
    public var policy: RetentionPolicy
    /// This machine's key, which signs each manifest (`ManifestKey`).
    public var signing: ManifestKey?
    /// Seconds to wait for another program's lock on a company file.
    public var wait: TimeInterval
    /// What opens the location's encrypted snapshots for the keep rules (the saved key).
    public var keys: SnapshotIdentities

    /// Options as `ledger backup` takes them; the defaults are its defaults.
    public init(
        kind: SnapshotKind = .manual, level: Int = 6, recipients: SnapshotRecipients = SnapshotRecipients(),
        policy: RetentionPolicy = RetentionPolicy(), signing: ManifestKey? = nil,
        wait: TimeInterval = CompanyFile.lockWait, keys: SnapshotIdentities = SnapshotIdentities()
    ) {
        self.kind = kind
        self.level = level
        self.recipients = recipients
        self.policy = policy
        self.signing = signing
        self.wait = wait
        self.keys = keys
    }
}
