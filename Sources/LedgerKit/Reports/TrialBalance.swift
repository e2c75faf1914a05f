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

    /// Whether the debits equal the credits, as double entry requires.
    public var isBalanced: Bool { totalDebits == totalCredits }

    /// Sums the splits of the company file at `path`, up to and including `asOf`.
    ///
    /// Accounts with no splits and a zero balance are left out.
    /// - Throws: `CompanyFileError` when the file cannot be opened or read.
    public static func read(path: String, asOf: CivilDate? = nil) throws -> TrialBalance {
        do {
            return try CompanyFile.read(path) { db in
                let company = try Row.fetchOne(db, sql: "SELECT name, currency FROM company WHERE id = 1")
                let filter =
                    asOf == nil ? "" : "WHERE s.transaction_id IN (SELECT id FROM transactions WHERE date <= ?)"
                let arguments: StatementArguments = asOf.map { [$0.description] } ?? []
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        WITH sums AS (SELECT s.account_id, SUM(s.amount) AS total FROM splits s \(filter) GROUP BY s.account_id)
                        SELECT s.account_id, a.number, f.full_name AS name, a.type, s.total
                        FROM sums s LEFT JOIN accounts a ON a.id = s.account_id LEFT JOIN (\(AccountNames.sql)) f ON f.id = s.account_id
                        WHERE s.total != 0
                        ORDER BY a.number IS NULL, a.number, f.full_name, s.account_id
                        """, arguments: arguments)
                var lines: [Line] = []
                var debits = Money.zero
                var credits = Money.zero
                while let row = try rows.next() {
                    let id: Int64 = row["account_id"]
                    let total = Money(cents: row["total"])
                    lines.append(
                        Line(
                            accountID: id, number: row["number"], name: row["name"] ?? "Missing account \(id)",
                            type: row["type"], debit: total.cents > 0 ? total : .zero,
                            credit: total.cents < 0 ? -total : .zero))
                    if total.cents > 0 { debits += total } else { credits -= total }
                }
                return TrialBalance(
                    company: company?["name"], currency: company?["currency"], asOf: asOf?.description,
                    lines: lines, totalDebits: debits, totalCredits: credits)
            }
        } catch let error as DatabaseError {
            throw CompanyFileError(error, path: path)
        }
    }
}
