/// How bad a finding is.
public enum Severity: String, Codable, Sendable, Comparable {
    /// The books are wrong or damaged.
    case error
    /// Suspicious; a person should look.
    case warning

    /// Errors come before warnings.
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .error && rhs == .warning }
}

/// The stable codes of SPEC §2's finding catalog, in the catalog's order.
public enum FindingCode: String, CaseIterable, Codable, Sendable {
    case sqliteCorruption = "sqlite-corruption"
    case schemaObjectMissing = "schema-object-missing"
    case orphanSplit = "orphan-split"
    case splitAccountMissing = "split-account-missing"
    case emptyTransaction = "empty-transaction"
    case partyMissing = "party-missing"
    case accountParentMissing = "account-parent-missing"
    case accountCycle = "account-cycle"
    case lineDocumentMissing = "line-document-missing"
    case lineItemMissing = "line-item-missing"
    case applicationInvalid = "application-invalid"
    case documentRowMissing = "document-row-missing"
    case reconciliationAccountMissing = "reconciliation-account-missing"
    case reconciliationLinkInvalid = "reconciliation-link-invalid"
    case feedLinkInvalid = "feed-link-invalid"
    case unbalancedTransaction = "unbalanced-transaction"
    case accountBalanceMismatch = "account-balance-mismatch"
    case partyBalanceMismatch = "party-balance-mismatch"
    case documentTotalMismatch = "document-total-mismatch"
    case documentBalanceMismatch = "document-balance-mismatch"
    case documentOverapplied = "document-overapplied"
    case paymentOverapplied = "payment-overapplied"
    case documentLinesMismatch = "document-lines-mismatch"
    case reconciliationDiscrepancy = "reconciliation-discrepancy"
    case feedAmountMismatch = "feed-amount-mismatch"
    case duplicateFeedLine = "duplicate-feed-line"
    case feedAccountMissing = "feed-account-missing"
    case itemAccountMissing = "item-account-missing"
    case duplicateName = "duplicate-name"
    case receivablePayableWithoutParty = "receivable-payable-without-party"
    case invalidDate = "invalid-date"
    case invalidValue = "invalid-value"

    /// The severity SPEC §2 gives the code.
    public var severity: Severity { FindingCatalog.entry(self).severity }

    /// Whether `ledger rebuild` repairs it without a person (SPEC §2).
    public var isRepairable: Bool { FindingCatalog.entry(self).isRepairable }

    /// A heading for the group of findings, in a bookkeeper's words.
    public var title: String { FindingCatalog.entry(self).title }
}

/// One problem Verify found: SPEC §2's finding object.
public struct Finding: Codable, Sendable, Equatable, Hashable {
    /// The catalog code of the problem.
    public let code: FindingCode
    /// The code's severity, from the catalog.
    public let severity: Severity
    /// The table the row belongs to; nil when SQLite names no table.
    public let table: String?
    /// The primary key of the row in `table`; nil when no single row is meant.
    public let rowID: Int64?
    /// Whether `ledger rebuild` repairs it without a person, from the catalog.
    public let repairable: Bool
    /// One line a bookkeeper understands.
    public let message: String

    /// A finding of `code`; its severity and whether it is repairable come from the catalog.
    public init(code: FindingCode, table: String?, rowID: Int64?, message: String) {
        self.code = code
        self.severity = code.severity
        self.table = table
        self.rowID = rowID
        self.repairable = code.isRepairable
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case code, severity, table, rowID = "row_id", repairable, message
    }

    /// Always writes `table` and `row_id`, as `null` when absent (SPEC §2).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(severity, forKey: .severity)
        try container.encode(table, forKey: .table)
        try container.encode(rowID, forKey: .rowID)
        try container.encode(repairable, forKey: .repairable)
        try container.encode(message, forKey: .message)
    }
}
