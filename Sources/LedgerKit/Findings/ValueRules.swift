import GRDB

/// The values each column of docs/company-file.md allows, for the `invalid-value` and
/// `invalid-date` checks. A read-only connection's `integrity_check` does not
/// evaluate CHECK constraints, and a file written with them off can hold
/// anything, so Verify tests every value itself.
enum ValueRule: Sendable {
    /// NOT NULL.
    case required
    /// An integer (ids, flags); with `optional`, NULL is allowed too.
    case integer(optional: Bool)
    /// An amount of money: an integer of at most `Money.limit` cents either way;
    /// with `optional`, NULL is allowed too.
    case amount(optional: Bool)
    /// One of a fixed set of texts; with `optional`, NULL is allowed too.
    case oneOf([String], optional: Bool)
    /// 0 or 1.
    case flag
    /// Greater than zero.
    case positive
    /// Three capital letters (ISO 4217).
    case currency
    /// Exactly 1 (the single company row).
    case one
    /// `YYYY-MM-DD` naming a real day, or NULL.
    case date
    /// `YYYY-MM-DDTHH:MM:SSZ` naming a real moment, or NULL.
    case timestamp
    /// A timestamp that usually equals another column, checked on its own:
    /// equal values are let through without parsing them twice.
    case timestampUsuallyLike(String)

    var isDateRule: Bool {
        switch self {
        case .date, .timestamp, .timestampUsuallyLike: return true
        default: return false
        }
    }

    /// SQL that is true when the column's value breaks the rule.
    ///
    /// These run once per row of the biggest tables, so they avoid function
    /// calls where an operator does: in an INTEGER column SQLite keeps only
    /// non-numeric text, fractions and blobs as non-integers, and
    /// `CAST(x AS INTEGER) IS NOT x` is true exactly for those.
    func violation(_ column: String) -> String {
        switch self {
        case .required:
            return "\(column) IS NULL"
        case .integer(let optional):
            return optional
                ? "CAST(\(column) AS INTEGER) IS NOT \(column)"
                : "(\(column) IS NULL OR CAST(\(column) AS INTEGER) IS NOT \(column))"
        case .amount(let optional):
            return optional
                ? Self.isBadAmount(column)
                : "(\(column) IS NULL OR \(Self.isBadAmount(column)))"
        case .oneOf(let values, let optional):
            let list = values.map { "'\($0)'" }.joined(separator: ", ")
            return optional
                ? "\(column) NOT IN (\(list))"
                : "(\(column) IS NULL OR \(column) NOT IN (\(list)))"
        case .flag:
            return "(\(column) IS NULL OR \(column) NOT IN (0, 1) OR CAST(\(column) AS INTEGER) IS NOT \(column))"
        case .positive:
            return "\(column) <= 0"
        case .currency:
            return "(\(column) IS NULL OR \(column) NOT GLOB '[A-Z][A-Z][A-Z]')"
        case .one:
            return "\(column) IS NOT 1"
        case .date:
            return
                "(\(column) IS NOT NULL AND NOT (\(column) GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]' AND \(Self.realDay(column))))"
        case .timestampUsuallyLike(let other):
            let prefix = column.firstIndex(of: ".").map { String(column[..<$0]) + "." } ?? ""
            return "(\(column) IS NOT \(prefix)\(other) AND \(ValueRule.timestamp.violation(column)))"
        case .timestamp:
            return
                "(\(column) IS NOT NULL AND NOT (\(column) GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z' AND substr(\(column), 12, 2) < '24' AND \(Self.realDay(column))))"
        }
    }

    /// SQL true when a non-NULL amount is not an integer or exceeds
    /// `Money.limit` cents either way (docs/findings.md): such an amount is left out of
    /// every sum, so that no sum overflows.
    static func isBadAmount(_ column: String) -> String {
        "(CAST(\(column) AS INTEGER) IS NOT \(column) OR (\(column) NOT BETWEEN -\(Money.limit) AND \(Money.limit)) IS 1)"
    }

    /// SQL of the amount when it may be summed (an integer within the limit), else
    /// NULL (which SUM skips): a fraction never joins a sum, so no sum is a real.
    static func summable(_ column: String) -> String {
        "CASE WHEN typeof(\(column)) = 'integer' AND \(column) BETWEEN -\(Money.limit) AND \(Money.limit) THEN \(column) END"
    }

    /// SQL true when text that matches the date pattern names a real day.
    /// SQLite's date functions accept 2023-02-30, so only the last days of a
    /// month go through `julianday`, which rolls such a day into the next month.
    private static func realDay(_ column: String) -> String {
        "substr(\(column), 6, 2) BETWEEN '01' AND '12' AND (substr(\(column), 9, 2) BETWEEN '01' AND '28' "
            + "OR (substr(\(column), 9, 2) BETWEEN '29' AND '31' AND date(julianday(substr(\(column), 1, 10))) = substr(\(column), 1, 10)))"
    }

    /// Whether `value` breaks the rule, judged in Swift for the message.
    func isBroken(by value: DatabaseValue) -> Bool {
        switch (self, value.storage) {
        case (.required, .null): return true
        case (.required, _): return false
        case (.integer(let optional), .null): return !optional
        case (.integer, .int64): return false
        case (.integer, _): return true
        case (.amount(let optional), .null): return !optional
        case (.amount, .int64(let number)): return number < -Money.limit || number > Money.limit
        case (.amount, _): return true
        case (.oneOf(_, let optional), .null): return !optional
        case (.oneOf(let values, _), .string(let text)): return !values.contains(text)
        case (.oneOf, _): return true
        case (.flag, .int64(let number)): return number != 0 && number != 1
        case (.flag, _): return true
        case (.positive, .int64(let number)): return number <= 0
        case (.positive, _): return false
        case (.currency, .string(let text)):
            return text.utf8.count != 3
                || !text.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
        case (.currency, _): return true
        case (.one, .int64(let number)): return number != 1
        case (.one, _): return true
        case (.date, .null), (.timestamp, .null), (.timestampUsuallyLike, .null): return false
        case (.date, .string(let text)): return CivilDate(text) == nil
        case (.timestamp, .string(let text)), (.timestampUsuallyLike, .string(let text)):
            return Timestamp.parse(text) == nil
        case (.date, _), (.timestamp, _), (.timestampUsuallyLike, _): return true
        }
    }

    /// What the column should hold, for the message.
    var expectation: String {
        switch self {
        case .required: return "must not be empty"
        case .integer: return "must be a whole number"
        case .amount: return "must be a whole number of cents, at most \(Money(cents: Money.limit)) either way"
        case .oneOf(let values, _): return "must be one of " + values.joined(separator: ", ")
        case .flag: return "must be 0 or 1"
        case .positive: return "must be more than 0"
        case .currency: return "must be three capital letters"
        case .one: return "must be 1"
        case .date: return "must be a real date written YYYY-MM-DD"
        case .timestamp, .timestampUsuallyLike: return "must be a real moment written YYYY-MM-DDTHH:MM:SSZ"
        }
    }

    static let accountTypes = AccountType.allCases.map(\.rawValue)

    /// Rules per table, from docs/company-file.md (NOT NULL, CHECK, comments, INTEGER money).
    /// A reference column (an id of another row) has no integer rule: a value
    /// of another storage class names no row, which is the finding of that
    /// reference (docs/findings.md), not `invalid-value`.
    static let byTable: [String: [(column: String, rule: ValueRule)]] = [
        "company": [
            ("id", .one), ("name", .required), ("currency", .currency), ("created_at", .required),
            ("created_at", .timestamp),
        ],
        "accounts": [
            ("name", .required),
            ("type", .oneOf(accountTypes, optional: false)), ("is_active", .flag),
            ("balance", .amount(optional: false)),
        ],
        "parties": [
            ("kind", .oneOf(PartyKind.allCases.map(\.rawValue), optional: false)), ("name", .required),
            ("is_active", .flag), ("balance", .amount(optional: false)),
        ],
        "items": [("name", .required), ("unit_price", .amount(optional: true))],
        "transactions": [
            ("kind", .oneOf(TransactionKind.allCases.map(\.rawValue), optional: false)),
            ("date", .required),
            ("created_at", .required), ("modified_at", .required),
            ("date", .date), ("created_at", .timestamp), ("modified_at", .timestampUsuallyLike("created_at")),
        ],
        "splits": [
            ("transaction_id", .required), ("account_id", .required), ("amount", .amount(optional: false)),
            ("cleared", .oneOf(["n", "c", "r"], optional: false)),
        ],
        "documents": [
            ("total", .amount(optional: false)), ("balance_due", .amount(optional: false)),
            ("due_date", .date),
        ],
        "document_lines": [("transaction_id", .required), ("amount", .amount(optional: false))],
        "applications": [
            ("payment_id", .required), ("document_id", .required),
            ("amount", .amount(optional: false)), ("amount", .positive),
        ],
        "reconciliations": [
            ("account_id", .required), ("statement_date", .required),
            ("beginning_balance", .amount(optional: false)), ("ending_balance", .amount(optional: false)),
            ("reconciled_at", .required), ("statement_date", .date), ("reconciled_at", .timestamp),
        ],
        "bank_feed": [
            ("account_id", .required), ("fitid", .required), ("posted_date", .required),
            ("amount", .amount(optional: false)),
            ("status", .oneOf(["new", "matched", "added", "excluded"], optional: false)),
            ("downloaded_at", .required),
            ("posted_date", .date), ("downloaded_at", .timestamp),
        ],
        "maintenance_runs": [
            ("command", .required), ("started_at", .required),
            ("outcome", .oneOf(["ok", "findings", "repaired", "failed"], optional: true)),
            ("started_at", .timestamp), ("finished_at", .timestamp),
        ],
        "repair_actions": [
            ("run_id", .integer(optional: false)), ("code", .required), ("table_name", .required),
            ("row_id", .integer(optional: true)),
            ("action", .oneOf(["insert", "update", "delete"], optional: false)),
        ],
    ]

    /// The rules of `table` for dates (`dates: true`) or for every other value.
    static func rules(of table: String, dates: Bool) -> [(column: String, rule: ValueRule)] {
        (byTable[table] ?? []).filter { $0.rule.isDateRule == dates }
    }
}
