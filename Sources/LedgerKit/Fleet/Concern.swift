/// One reason a client of the fleet report needs a person's attention.
///
/// The cases are declared worst first and `weight` says how much worse: the report
/// ranks clients by their worst concern (docs/fleet-report.md). A check that failed
/// or never ran always weighs more than a good backup: nothing is green that was
/// not checked.
public enum Concern: String, Codable, Sendable, CaseIterable {
    /// The status record in the location could not be read or is not ours.
    case unreadableRecord = "unreadable-record"
    /// The last verify found the file damaged: it could not be read whole.
    case damaged
    /// The last verify failed to run, ended in a way this version does not know,
    /// never ran, or is older than the schedule plus its grace.
    case notVerified = "not-verified"
    /// The last verify found errors.
    case errors
    /// No good backup, or the last good one is older than the schedule plus its grace.
    case backupOverdue = "backup-overdue"
    /// The last check of the backups (`fleet check-backups`) failed: a snapshot not whole,
    /// the newest not a good copy, or no recent good copy. It stands until a check passes.
    case checkFailed = "check-failed"
    /// The last restore drill failed.
    case drillFailed = "drill-failed"
    /// The last verify found warnings only.
    case warnings
    /// No restore drill ever passed, or the last pass is older than the drill interval plus its grace.
    case notProven = "not-proven"
    /// The file grew by more than the policy's limit over the last week.
    case growingFast = "growing-fast"
    /// More of the file than the policy's limit is free pages.
    case freePages = "free-pages"

    /// How bad the concern is: 100 the worst, 0 none.
    public var weight: Int {
        switch self {
        case .unreadableRecord, .damaged: return 100
        case .notVerified: return 90
        case .errors: return 80
        case .backupOverdue, .checkFailed: return 70
        case .drillFailed: return 60
        case .warnings: return 50
        case .notProven: return 40
        case .growingFast: return 20
        case .freePages: return 10
        }
    }

    /// What a client's worst concern makes of its row.
    public var level: ReportLevel { weight >= ReportLevel.attentionWeight ? .attention : .watch }
}

/// The colour of a client's row: the worst of its concerns, or good when it has none.
public enum ReportLevel: String, Codable, Sendable, Comparable {
    /// A check failed or the books are at risk: look today.
    case attention
    /// Nothing is failing, but something is late or unproven: look this week.
    case watch
    /// Verified, backed up and proven restorable within the policy's times.
    case good

    /// Concerns weighing this much or more make a row `attention`.
    static let attentionWeight = 60

    /// Words for a bookkeeper.
    public var words: String {
        switch self {
        case .attention: return "Needs attention"
        case .watch: return "Keep an eye on"
        case .good: return "Good"
        }
    }

    /// Orders levels worst first: `attention` sorts before `watch`, then `good`.
    public static func < (lhs: ReportLevel, rhs: ReportLevel) -> Bool { lhs.order < rhs.order }

    private var order: Int {
        switch self {
        case .attention: return 0
        case .watch: return 1
        case .good: return 2
        }
    }
}
