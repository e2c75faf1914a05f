import Foundation

/// How `fleet backup` backs up each client: what a single `ledger backup` is told.
public struct FleetBackupOptions: Sendable {
    public var kind: SnapshotKind
    /// The deflate level, 1…9.
    public var level: Int
    public var recipients: SnapshotRecipients
    public var policy: RetentionPolicy
    /// This machine's key, which signs each manifest (`ManifestKey`).
    public var signing: ManifestKey?
    /// Seconds to wait for another program's lock on a company file.
    public var wait: TimeInterval

    public init(
        kind: SnapshotKind = .manual, level: Int = 6, recipients: SnapshotRecipients = SnapshotRecipients(),
        policy: RetentionPolicy = RetentionPolicy(), signing: ManifestKey? = nil,
        wait: TimeInterval = CompanyFile.lockWait
    ) {
        self.kind = kind
        self.level = level
        self.recipients = recipients
        self.policy = policy
        self.signing = signing
        self.wait = wait
    }
}
