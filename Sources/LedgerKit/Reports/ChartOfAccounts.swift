import GRDB

/// The chart of accounts: every account by number and full name, with its type
/// and its balance summed from its splits (never from the cached column). What
/// `--account`, `--to-account` and the other account options take.
public struct ChartOfAccounts: Codable, Sendable {
    /// One account of the chart.
    public struct Account: Codable, Sendable, Equatable {
        /// The account's id in the company file.
        public let id: Int64
        /// The account number; nil for an account without one.
        public let number: String?
        /// "Payroll Liabilities:Federal Withholding": every parent's name, then its own.
        public let name: String
        /// The `accounts.type` of docs/company-file.md; nil when the stored value is none of them.
        public let type: AccountType?
        /// Whether the account is still in use.
        public let isActive: Bool
        /// The sum of its splits, debits positive, as the company file keeps money.
        public let balance: Money

        /// The balance as the account's type reads it: a liability's, equity's or
        /// income's credit balance positive, as a chart of accounts shows it.
        public var naturalBalance: Money {
            switch type {
            case .accountsPayable, .creditCard, .otherCurrentLiability, .longTermLiability, .equity, .income,
                .otherIncome:
                return -balance
            default:
                return balance
            }
        }
    }

    /// The company's name, when the file says.
    public let company: String?
    /// The company's currency code, when the file says.
    public let currency: String?
    /// By number (accounts without one last), then by full name.
    public let accounts: [Account]

    /// Reads the chart of the company file at `path`.
    /// - Throws: `CompanyFileError` when the file cannot be opened or read.
    public static func read(path: String) throws -> ChartOfAccounts {
        do {
            return try CompanyFile.read(path) { db in
                let company = try Row.fetchOne(db, sql: "SELECT name, currency FROM company WHERE id = 1")
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        WITH sums AS (SELECT account_id, SUM(\(ValueRule.summable("amount"))) AS total FROM splits GROUP BY account_id)
                        SELECT n.id, n.number, n.full_name, n.type, a.is_active, COALESCE(s.total, 0) AS total
                        FROM (\(AccountNames.sql)) n JOIN accounts a ON a.id = n.id LEFT JOIN sums s ON s.account_id = n.id
                        ORDER BY n.number IS NULL, n.number, n.full_name, n.id
                        """)
                let accounts = rows.compactMap { row -> Account? in
                    guard let id = row.integer("id") else { return nil }
                    return Account(
                        id: id, number: row.value("number", as: String.self),
                        name: row.value("full_name", as: String.self) ?? "Account \(id)",
                        type: row.text("type").flatMap(AccountType.init(rawValue:)),
                        isActive: row.integer("is_active") != 0,
                        balance: Money(cents: row.integer("total") ?? 0))
                }
                return ChartOfAccounts(
                    company: company?.value("name", as: String.self),
                    currency: company?.value("currency", as: String.self),
                    accounts: accounts)
            }
        } catch let error as DatabaseError {
            throw CompanyFileError(error, path: path)
        }
    }
}

extension AccountType {
    /// How a bookkeeper writes the type: "bank", "accounts receivable", "credit card".
    public var displayName: String { rawValue.replacingOccurrences(of: "_", with: " ") }
}
