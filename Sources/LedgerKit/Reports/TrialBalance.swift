import GRDB

/// Every account's balance summed from its splits (never from the cached
/// column), as debits and credits: what a bookkeeper reads after a verify to see
/// that the books still balance.
public struct TrialBalance: Codable, Sendable {
    /// One account's line: its balance as a debit or a credit.
    public struct Line: Codable, Sendable, Equatable {
        /// The account's id (the id the splits name, for a missing account).
        public let accountID: Int64
        /// The account number; nil for an account without one.
        public let number: String?
        /// "Payroll Expenses:Wages"; "Missing account 77" when the split names no account.
        public let name: String
        /// The account's `accounts.type`; nil for a missing account.
        public let type: String?
        /// The balance as a debit (positive) or nothing.
        public let debit: Money
        /// The balance as a credit (shown positive) or nothing.
        public let credit: Money
    }

    /// The company's name, when the file says.
    public let company: String?
    /// The company's currency code, when the file says.
    public let currency: String?
    /// The last day included, or nil for every transaction.
    public let asOf: String?
    /// Every account with splits, by number (accounts without one last), then by name.
    public let lines: [Line]
    /// The sum of the debit column.
    public let totalDebits: Money
    /// The sum of the credit column.
    public let totalCredits: Money

    /// Splits the sums left out: amounts that are not whole cents within the limit, splits
    /// naming no account, and, as of a day, splits of a missing or undated transaction.
    public let leftOut: SplitsLeftOut

    /// Whether the debits equal the credits, as double entry requires.
    public var isBalanced: Bool { totalDebits == totalCredits }

    /// Sums the splits of the company file at `path`, up to and including `asOf`.
    ///
    /// Accounts with no splits and a zero balance are left out; so are the splits
    /// `AccountSums` cannot sum, counted in `leftOut`.
    /// - Throws: `CompanyFileError` when the file cannot be opened or read;
    ///   `SumError` when a sum is past what an Int64 of cents holds.
    public static func read(path: String, asOf: CivilDate? = nil) throws -> TrialBalance {
        let (company, sums): (Row?, AccountSums)
        do {
            (company, sums) = try CompanyFile.read(path) { db in
                (
                    try Row.fetchOne(db, sql: "SELECT name, currency FROM company WHERE id = 1"),
                    try AccountSums.read(db, asOf: asOf)
                )
            }
        } catch let error as DatabaseError {
            throw CompanyFileError(error, path: path)
        }
        var lines: [Line] = []
        var debits: Int128 = 0
        var credits: Int128 = 0
        for account in sums.accounts where account.total != 0 {
            let name = account.name ?? "Missing account \(account.id)"
            let total = try AccountSums.money(account.total, of: name)
            lines.append(
                Line(
                    accountID: account.id, number: account.number, name: name, type: account.type,
                    debit: total.cents > 0 ? total : .zero, credit: total.cents < 0 ? -total : .zero))
            if account.total > 0 { debits += account.total } else { credits -= account.total }
        }
        return TrialBalance(
            company: company?.shown("name"), currency: company?.shown("currency"),
            asOf: asOf?.description, lines: lines, totalDebits: try AccountSums.money(debits, of: "the debit column"),
            totalCredits: try AccountSums.money(credits, of: "the credit column"), leftOut: sums.leftOut)
    }
}
