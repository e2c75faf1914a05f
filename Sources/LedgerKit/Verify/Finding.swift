/// How bad a finding is.
public enum Severity: String, Codable, Sendable, Comparable {
    /// The books are wrong or damaged.
    case error
    /// Suspicious; a person should look.
    case warning

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
    public var severity: Severity {
        switch self {
        case .lineItemMissing, .documentLinesMismatch, .reconciliationDiscrepancy, .feedAmountMismatch,
             .itemAccountMissing, .receivablePayableWithoutParty:
            return .warning
        default:
            return .error
        }
    }

    /// Whether `ledger rebuild` repairs it without a person (SPEC §2).
    public var isRepairable: Bool {
        switch self {
        case .documentLinesMismatch, .reconciliationDiscrepancy, .receivablePayableWithoutParty,
             .invalidDate, .invalidValue:
            return false
        default:
            return true
        }
    }

    /// A heading for the group of findings, in a bookkeeper's words.
    public var title: String {
        switch self {
        case .sqliteCorruption: return "Damaged file structure"
        case .schemaObjectMissing: return "Missing tables, columns or indexes"
        case .orphanSplit: return "Lines of transactions that no longer exist"
        case .splitAccountMissing: return "Lines posted to accounts that no longer exist"
        case .emptyTransaction: return "Transactions with no lines"
        case .partyMissing: return "Customers, vendors or other names that no longer exist"
        case .accountParentMissing: return "Sub-accounts of accounts that no longer exist"
        case .accountCycle: return "Accounts that are their own parent"
        case .lineDocumentMissing: return "Invoice or bill lines without their invoice or bill"
        case .lineItemMissing: return "Invoice or bill lines naming items that no longer exist"
        case .applicationInvalid: return "Payments applied to the wrong invoice or bill"
        case .documentRowMissing: return "Invoices and bills without their header, or headers without them"
        case .reconciliationAccountMissing: return "Reconciliations of accounts that no longer exist"
        case .reconciliationLinkInvalid: return "Reconciled marks that do not match a reconciliation"
        case .feedLinkInvalid: return "Bank feed lines with a wrong link to a transaction"
        case .unbalancedTransaction: return "Transactions out of balance"
        case .accountBalanceMismatch: return "Account balances that disagree with their transactions"
        case .partyBalanceMismatch: return "Customer and vendor balances that disagree with their transactions"
        case .documentTotalMismatch: return "Invoice and bill totals that disagree with their postings"
        case .documentBalanceMismatch: return "Open balances of invoices and bills that disagree with their payments"
        case .documentOverapplied: return "Invoices and bills paid more than their total"
        case .paymentOverapplied: return "Payments applied for more than they were"
        case .documentLinesMismatch: return "Invoice and bill lines that do not add up to the total"
        case .reconciliationDiscrepancy: return "Reconciliations that no longer add up"
        case .feedAmountMismatch: return "Bank feed lines matched to a different amount"
        case .duplicateFeedLine: return "Bank feed lines downloaded twice"
        case .feedAccountMissing: return "Bank feed lines of accounts that no longer exist"
        case .itemAccountMissing: return "Items posting to accounts that no longer exist"
        case .duplicateName: return "Names used twice"
        case .receivablePayableWithoutParty: return "Receivable or payable lines without a customer or vendor"
        case .invalidDate: return "Dates that are not real dates"
        case .invalidValue: return "Values outside what the field allows"
        }
    }
}

/// One problem Verify found: SPEC §2's finding object.
public struct Finding: Codable, Sendable, Equatable, Hashable {
    public let code: FindingCode
    public let severity: Severity
    /// The table the row belongs to; nil when SQLite names no table.
    public let table: String?
    /// The primary key of the row in `table`; nil when no single row is meant.
    public let rowID: Int64?
    public let repairable: Bool
    /// One line a bookkeeper understands.
    public let message: String

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
