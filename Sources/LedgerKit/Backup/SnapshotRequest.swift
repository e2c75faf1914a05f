import Foundation

/// What a snapshot is to be (`SnapshotWriter.take`): of which company file,
/// of what kind, how compressed, checked, encrypted and signed.
public struct SnapshotRequest: Sendable {
    /// A private copy of the file its caller already made (`PrivateCopy.make`),
    /// which the caller keeps and removes.
    struct Copy: Sendable {
        /// Where it is.
        var path: String
        /// Whether SQLite could read the file (the copy is consistent).
        var readable: Bool
        /// The company's name in it, if it could be read.
        var company: String?
        /// Its company's `created_at`, if it could be read.
        var companyCreatedAt: String? = nil
        /// The file's format version (`FileHeader.userVersion`).
        var formatVersion: Int
    }

    /// The company file.
    public var file: String
    /// Why the snapshot is taken: it becomes part of its name (`manual`, `scheduled`, `pre-rebuild`, `pre-restore`).
    public var kind: SnapshotKind
    /// The deflate level, 1 (fast) to 9 (small).
    public var level: Int
    /// Run a quick verify of the copy (beside the compression); when false the manifest says `skipped`.
    public var verify: Bool
    /// Encrypt the snapshot to these, and to those `config` sets for the store
    /// (`LocationRecipients.sealing`); then nothing readable is ever written to
    /// the store, not even for a moment: the copy and the plain snapshot stay
    /// beside the company file.
    public var recipients: SnapshotRecipients
    /// The owner's recipients per store; nil reads this machine's (`RecipientsConfig.load`).
    public var config: RecipientsConfig?
    /// This machine's `ManifestKey`, whose HMAC of the manifest goes in its
    /// `hmac` field (restore believes no other's `verify: clean`).
    public var signing: ManifestKey?
    /// How long to wait for another program's lock (a write transaction,
    /// `locking_mode=EXCLUSIVE`) before refusing with `CompanyFileError.locked`:
    /// busy is never taken for unreadable.
    public var wait: TimeInterval
    /// The clock, injectable for tests.
    public var now: Date
    /// Taken from this copy rather than a new one. Without `verify` the copy's
    /// bytes are only read, not opened with SQLite, so the caller may read it
    /// with SQLite meanwhile.
    var copy: Copy?
    /// What `SnapshotWriter.sealing(for:)` gave; nil works it out.
    var sealing: SnapshotRecipients?
    /// How many threads compress (nil: one per core).
    var threads: Int?
    /// The fleet client's slug, for the manifest's `fleet_client`; nil for a single backup.
    public var fleetClient: String?
    /// The location holding the backup location (a fleet's), whose own
    /// `.ledger-recipients` is compared too (`LocationRecipients.sealing`).
    public var within: String?
    /// Given the findings of the copy's quick verify, when it ran.
    var findings: (@Sendable ([Finding]) -> Void)?

    /// A request to snapshot `file`, with the gzip level, whether to verify the copy first, and the rest as `ledger backup` sets them.
    public init(
        of file: String, kind: SnapshotKind, level: Int = 6, verify: Bool = true,
        recipients: SnapshotRecipients = SnapshotRecipients(), config: RecipientsConfig? = nil,
        signing: ManifestKey? = nil, wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()
    ) {
        self.file = file
        self.kind = kind
        self.level = level
        self.verify = verify
        self.recipients = recipients
        self.config = config
        self.signing = signing
        self.wait = wait
        self.now = now
    }
}
