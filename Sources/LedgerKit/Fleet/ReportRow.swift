/// One client's line in the fleet report: what its status record says, judged by the
/// report's policy. Every text in it came from a location's record: hostile until
/// escaped by whoever shows it.
public struct ReportRow: Codable, Sendable, Equatable {
    /// 1 for the client most at risk.
    public var rank: Int
    /// The client's name, as its record gives it.
    public var client: String
    /// The client's folder or prefix in the location.
    public var slug: String
    /// The row's overall judgement: the level of its worst concern.
    public var level: ReportLevel
    /// The weight of the worst concern (`Concern.weight`), 0 when there is none.
    public var risk: Int
    /// What is wrong or worth watching, worst first.
    public var concerns: [Noted]
    /// When the file was last verified, UTC, ISO 8601.
    public var lastVerifyAt: String?
    /// How that verify ended.
    public var verifyOutcome: ClientStatus.StepOutcome?
    /// Error findings of that verify.
    public var errors: Int
    /// Warning findings of that verify.
    public var warnings: Int
    /// The findings the record kept (at most 50), for the details of the row.
    public var findings: [ClientStatus.FindingLine]
    /// When the newest snapshot with a clean verify was taken.
    public var lastGoodBackupAt: String?
    /// Hours since the last good backup, when there is one.
    public var lastGoodBackupAgeHours: Int?
    /// That snapshot's size in the location, in bytes.
    public var lastGoodBackupBytes: Int64?
    /// When a restore drill last passed: "last proven restorable".
    public var lastProvenAt: String?
    /// How the last restore drill ended.
    public var drillOutcome: ClientStatus.StepOutcome?
    /// When the client's snapshots were last read back (`fleet check-backups`).
    public var lastCheckAt: String?
    /// How that check ended.
    public var checkOutcome: ClientStatus.StepOutcome?
    /// The company file's size in bytes, when the record has it.
    public var fileBytes: Int64?
    /// Free pages as a percentage of the file, when the record has its size.
    public var freePagesPercent: Int?
    /// The last 30 days, oldest first.
    public var nights: [NightMark]
    /// The sizes the record's history holds, oldest first: for the chart.
    public var sizes: [SizePoint]
    /// Whether the report's machine signed the record (`ClientStatus.isSigned`);
    /// nil when the report was built without its key.
    public var signedHere: Bool? = nil

    /// A concern with the words that explain it for this client.
    public struct Noted: Codable, Sendable, Equatable {
        /// The concern found.
        public var concern: Concern
        /// Why, for this client: figures and dates from its record.
        public var detail: String
    }

    /// One night of the strip.
    public enum NightMark: String, Codable, Sendable {
        case good, warning, failed, missed
    }

    /// A day's file and snapshot sizes.
    public struct SizePoint: Codable, Sendable, Equatable {
        /// The local calendar day, `YYYY-MM-DD`.
        public var day: String
        /// The company file's size that day, in bytes, when known.
        public var fileBytes: Int64?
        /// The size of that day's snapshot, in bytes, when known.
        public var snapshotBytes: Int64?
    }
}
