import Foundation
import GRDB

/// What `ledger verify` found: docs/findings.md's JSON object.
public struct VerifyReport: Codable, Sendable {
    /// The path verified, as given.
    public let file: String
    /// The file's `user_version`.
    public let formatVersion: Int
    /// True when Verify found nothing, not even a warning.
    public let ok: Bool
    /// Rows of accounts, transactions and splits (absent for an unreadable table).
    public let counts: [String: Int]
    /// The company's name, as its file says (absent when it cannot be read).
    public var company: String?
    /// In catalog order, then by table and row.
    public let findings: [Finding]
    /// How long the verification took, in milliseconds.
    public let elapsedMS: Int
    /// The sum of every split amount that is an integer within the limit, when
    /// the native pass read a file whose structure is sound (a snapshot's
    /// `split_sum`); not part of verify's JSON.
    var splitTotal: Int64?
    /// Each account's sum of split amounts, from the same pass under the same
    /// conditions as `splitTotal` (a snapshot's trial balance digest); not part
    /// of verify's JSON.
    var accountTotals: [Int64: Int64]?

    enum CodingKeys: String, CodingKey {
        case file, company
        case formatVersion = "format_version"
        case ok, counts, findings
        case elapsedMS = "elapsed_ms"
    }

    /// How many findings are errors.
    public var errorCount: Int { findings.filter { $0.severity == .error }.count }
    /// How many findings are warnings.
    public var warningCount: Int { findings.filter { $0.severity == .warning }.count }
    /// How many findings `ledger rebuild` would repair.
    public var repairableCount: Int { findings.filter(\.repairable).count }
}
