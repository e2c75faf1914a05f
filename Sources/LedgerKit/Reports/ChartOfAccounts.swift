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
    /// Splits left out of the balances: amounts that are not whole cents within
    /// the limit, and splits naming no account by an integer id.
    public let leftOut: SplitsLeftOut

    /// Reads the chart of the company file at `path`.
    /// - Throws: `CompanyFileError` when the file cannot be opened or read;
    ///   `SumError` when a balance is past what an Int64 of cents holds.
    public static func read(path: String) throws -> ChartOfAccounts {
        let (company, rows, sums): (Row?, [Row], AccountSums)
        do {
            (company, rows, sums) = try CompanyFile.read(path) { db in
                (
                    try Row.fetchOne(db, sql: "SELECT name, currency FROM company WHERE id = 1"),
                    try Row.fetchAll(
                        db,
                        sql: """
                            SELECT n.id, n.number, n.full_name, n.type, a.is_active
                            FROM (\(AccountNames.sql)) n JOIN accounts a ON a.id = n.id
                            ORDER BY n.number IS NULL, n.number, n.full_name, n.id
                            """),
                    try AccountSums.read(db)
                )
            }
        } catch let error as DatabaseError {
            throw CompanyFileError(error, path: path)
        }
        let totals = Dictionary(sums.accounts.map { ($0.id, $0.total) }, uniquingKeysWith: +)
        let accounts = try rows.compactMap { row -> Account? in
            guard let id = row.integer("id") else { return nil }
            let name = row.value("full_name", as: String.self) ?? "Account \(id)"
            return Account(
                id: id, number: row.value("number", as: String.self), name: name,
                type: row.text("type").flatMap(AccountType.init(rawValue:)),
                isActive: row.integer("is_active") != 0,
                balance: try AccountSums.money(totals[id] ?? 0, of: name))
        }
        // A missing account's splits have no row of the chart to show them.
        let listed = Set(accounts.map(\.id))
        var leftOut = sums.leftOut
        for account in sums.accounts where !listed.contains(account.id) { leftOut.noAccount += account.splits }
        return ChartOfAccounts(
            company: company?.shown("name"),
            currency: company?.shown("currency"),
            accounts: accounts, leftOut: leftOut)
    }
}

extension AccountType {
    /// How a bookkeeper writes the type: "bank", "accounts receivable", "credit card".
    public var displayName: String { rawValue.replacingOccurrences(of: "_", with: " ") }
}
