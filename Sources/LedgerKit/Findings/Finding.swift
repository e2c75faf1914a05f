/// How bad a finding is.
public enum Severity: String, Codable, Sendable, Comparable {
    /// The books are wrong or damaged.
    case error
    /// Suspicious; a person should look.
    case warning

    /// Errors come before warnings.
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .error && rhs == .warning }
}

/// The stable codes of docs/findings.md's finding catalog, in the catalog's order.
public enum FindingCode: String, CaseIterable, Codable, Sendable {
    /// Damaged file structure.
    case sqliteCorruption = "sqlite-corruption"
    /// Missing tables, columns or indexes.
    case schemaObjectMissing = "schema-object-missing"
    /// Lines of transactions that no longer exist.
    case orphanSplit = "orphan-split"
    /// Lines posted to accounts that no longer exist.
    case splitAccountMissing = "split-account-missing"
    /// Transactions with no lines.
    case emptyTransaction = "empty-transaction"
    /// Customers, vendors or other names that no longer exist.
    case partyMissing = "party-missing"
    /// Sub-accounts of accounts that no longer exist.
    case accountParentMissing = "account-parent-missing"
    /// Accounts that are their own parent.
    case accountCycle = "account-cycle"
    /// Invoice or bill lines without their invoice or bill.
    case lineDocumentMissing = "line-document-missing"
    /// Invoice or bill lines naming items that no longer exist.
    case lineItemMissing = "line-item-missing"
    /// Payments applied to the wrong invoice or bill.
    case applicationInvalid = "application-invalid"
    /// Invoices and bills without their header, or headers without them.
    case documentRowMissing = "document-row-missing"
    /// Reconciliations of accounts that no longer exist.
    case reconciliationAccountMissing = "reconciliation-account-missing"
    /// Reconciled marks that do not match a reconciliation.
    case reconciliationLinkInvalid = "reconciliation-link-invalid"
    /// Bank feed lines with a wrong link to a transaction.
    case feedLinkInvalid = "feed-link-invalid"
    /// Transactions out of balance.
    case unbalancedTransaction = "unbalanced-transaction"
    /// Account balances that disagree with their transactions.
    case accountBalanceMismatch = "account-balance-mismatch"
    /// Customer and vendor balances that disagree with their transactions.
    case partyBalanceMismatch = "party-balance-mismatch"
    /// Invoice and bill totals that disagree with their postings.
    case documentTotalMismatch = "document-total-mismatch"
    /// Open balances of invoices and bills that disagree with their payments.
    case documentBalanceMismatch = "document-balance-mismatch"
    /// Invoices and bills paid more than their total.
    case documentOverapplied = "document-overapplied"
    /// Payments applied for more than they were.
    case paymentOverapplied = "payment-overapplied"
    /// Invoice and bill lines that do not add up to the total.
    case documentLinesMismatch = "document-lines-mismatch"
    /// Reconciliations that no longer add up.
    case reconciliationDiscrepancy = "reconciliation-discrepancy"
    /// Bank feed lines matched to a different amount.
    case feedAmountMismatch = "feed-amount-mismatch"
    /// Bank feed lines downloaded twice.
    case duplicateFeedLine = "duplicate-feed-line"
    /// Bank feed lines of accounts that no longer exist.
    case feedAccountMissing = "feed-account-missing"
    /// Items posting to accounts that no longer exist.
    case itemAccountMissing = "item-account-missing"
    /// Names used twice.
    case duplicateName = "duplicate-name"
    /// Receivable or payable lines without a customer or vendor.
    case receivablePayableWithoutParty = "receivable-payable-without-party"
    /// Dates that are not real dates.
    case invalidDate = "invalid-date"
    /// Values outside what the field allows.
    case invalidValue = "invalid-value"

    /// The severity docs/findings.md gives the code.
    public var severity: Severity { FindingCatalog.entry(self).severity }

    /// Whether `ledger rebuild` repairs it without a person (docs/findings.md).
    public var isRepairable: Bool { FindingCatalog.entry(self).isRepairable }

    /// A heading for the group of findings, in a bookkeeper's words.
    public var title: String { FindingCatalog.entry(self).title }
}

/// One problem Verify found: docs/findings.md's finding object.
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
        case code, severity, table
        case rowID = "row_id"
        case repairable, message
    }

    /// Always writes `table` and `row_id`, as `null` when absent (docs/findings.md).
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
