/// One client's line in the fleet report: what its status record says, judged by the
/// report's policy. Every text in it came from a location's record: hostile until
/// escaped by whoever shows it.
public struct ReportRow: Codable, Sendable, Equatable {
    /// 1 for the client most at risk.
    public var rank: Int
    public var client: String
    public var slug: String
    public var level: ReportLevel
    /// The weight of the worst concern (`Concern.weight`), 0 when there is none.
    public var risk: Int
    public var concerns: [Noted]
    public var lastVerifyAt: String?
    public var verifyOutcome: ClientStatus.StepOutcome?
    public var errors: Int
    public var warnings: Int
    /// The findings the record kept (at most 50), for the details of the row.
    public var findings: [ClientStatus.FindingLine]
    public var lastGoodBackupAt: String?
    /// Hours since the last good backup, when there is one.
    public var lastGoodBackupAgeHours: Int?
    public var lastGoodBackupBytes: Int64?
    public var lastProvenAt: String?
    public var drillOutcome: ClientStatus.StepOutcome?
    public var fileBytes: Int64?
    /// Free pages as a percentage of the file, when the record has its size.
    public var freePagesPercent: Int?
    /// The last 30 days, oldest first.
    public var nights: [NightMark]
    /// The sizes the record's history holds, oldest first: for the chart.
    public var sizes: [SizePoint]

    /// A concern with the words that explain it for this client.
    public struct Noted: Codable, Sendable, Equatable {
        public var concern: Concern
        public var detail: String
    }

    /// One night of the strip.
    public enum NightMark: String, Codable, Sendable {
        case good, warning, failed, missed
    }

    /// A day's file and snapshot sizes.
    public struct SizePoint: Codable, Sendable, Equatable {
        public var day: String
        public var fileBytes: Int64?
        public var snapshotBytes: Int64?
    }
}
