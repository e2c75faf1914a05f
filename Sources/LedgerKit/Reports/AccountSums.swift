import Foundation
import GRDB

/// Every account's sum of its splits' amounts, as Verify sums them (docs/findings.md):
/// an amount that is NULL or not whole cents within `Money.limit` is left out, and so is a
/// split naming no account by an integer id; with a day, so is a split whose
/// transaction is missing or has no readable date. Each is counted in `leftOut`,
/// never dropped unsaid.
///
/// SQLite's SUM of integers stops with an error past an Int64, which enough
/// amounts near the limit reach; each amount is summed in two parts that cannot
/// (its billions and the rest), joined here in an Int128.
struct AccountSums {
    /// One account id's figures: its sum, and its number, full name and type when the account exists.
    struct Account {
        var id: Int64
        var total: Int128
        /// Its splits the sums took in or left out for their amount (not those left out for their date).
        var splits: Int
        var number: String?
        var name: String?
        var type: String?
    }

    /// Accounts with splits, by number (accounts without one last), then by full name and id.
    var accounts: [Account] = []
    /// The splits the sums left out, by why.
    var leftOut = SplitsLeftOut()

    private static let part: Int64 = 1_000_000_000

    /// Sums the splits of `db`, up to and including `asOf` when given.
    static func read(_ db: Database, asOf: CivilDate? = nil) throws -> AccountSums {
        let summable = ValueRule.summable("s.amount")
        // With a day: a split counts when its transaction's date is a real day up to it; a
        // transaction missing, or dated in a way no day can be read from, leaves it out.
        let dated = "t.date IS NOT NULL AND NOT \(ValueRule.date.violation("t.date"))"
        let within = asOf == nil ? "1" : "(\(dated) AND t.date <= :asOf)"
        let undated = asOf == nil ? "0" : "NOT (\(dated))"
        let join = asOf == nil ? "" : "LEFT JOIN transactions t ON t.id = s.transaction_id"
        let rows = try Row.fetchCursor(
            db,
            sql: """
                WITH sums AS (
                  SELECT s.account_id,
                    SUM(CASE WHEN \(within) THEN \(summable) / \(part) END) AS high,
                    SUM(CASE WHEN \(within) THEN \(summable) % \(part) END) AS low,
                    SUM(CASE WHEN \(within) AND (\(summable)) IS NULL THEN 1 ELSE 0 END) AS bad,
                    SUM(CASE WHEN \(within) THEN 1 ELSE 0 END) AS counted,
                    SUM(CASE WHEN \(undated) THEN 1 ELSE 0 END) AS undated
                  FROM splits s \(join) GROUP BY s.account_id)
                SELECT s.account_id, typeof(s.account_id) = 'integer' AS named, a.number, f.full_name, a.type,
                  s.high, s.low, s.bad, s.counted, s.undated
                FROM sums s LEFT JOIN accounts a ON a.id = s.account_id AND typeof(s.account_id) = 'integer'
                LEFT JOIN (\(AccountNames.sql)) f ON f.id = a.id
                ORDER BY a.number IS NULL, a.number, f.full_name, s.account_id
                """, arguments: asOf.map { ["asOf": $0.description] } ?? [:])
        var sums = AccountSums()
        while let row = try rows.next() {
            let bad = Int(row.integer("bad") ?? 0)
            sums.leftOut.undated += Int(row.integer("undated") ?? 0)
            guard row.integer("named") == 1, let id = row.integer("account_id") else {
                // A split naming no account: no line can show it, whatever its amount.
                sums.leftOut.noAccount += Int(row.integer("counted") ?? 0)
                continue
            }
            sums.leftOut.badAmounts += bad
            let total = Int128(row.integer("high") ?? 0) * Int128(part) + Int128(row.integer("low") ?? 0)
            sums.accounts.append(
                Account(
                    id: id, total: total, splits: Int(row.integer("counted") ?? 0),
                    number: row.value("number", as: String.self),
                    name: row.value("full_name", as: String.self), type: row.value("type", as: String.self)))
        }
        return sums
    }

    /// `total` as money, or `SumError.beyondMoney` naming `account` when no
    /// Int64 of cents holds it either way (Int64.min is refused too, so every
    /// amount made here can be negated).
    static func money(_ total: Int128, of account: String) throws -> Money {
        guard total >= -Int128(Int64.max), total <= Int128(Int64.max) else {
            throw SumError.beyondMoney(what: account)
        }
        return Money(cents: Int64(total))
    }
}

/// The splits a report's sums left out, by why (`AccountSums`).
public struct SplitsLeftOut: Codable, Sendable, Equatable {
    /// Splits whose amount is NULL or not whole cents within `Money.limit` (`invalid-value`).
    public var badAmounts = 0
    /// Splits whose account is NULL or not an integer id, and in the chart of
    /// accounts, splits of an account that does not exist (the trial balance
    /// shows those as "Missing account N").
    public var noAccount = 0
    /// With a day: splits whose transaction is missing or has no real date.
    public var undated = 0

    /// Splits left out, in all.
    public var count: Int { badAmounts + noAccount + undated }

    /// "3 splits left out of the sums (2 with an amount that is not whole cents within
    /// the limit, 1 naming no account): run ledger verify", or nil when none was.
    public var sentence: String? {
        guard count > 0 else { return nil }
        let parts = [
            badAmounts > 0 ? "\(badAmounts) with an amount that is missing or not whole cents within the limit" : nil,
            noAccount > 0 ? "\(noAccount) naming no account" : nil,
            undated > 0 ? "\(undated) whose transaction is missing or has no real date" : nil,
        ].compactMap { $0 }
        return "\(count) split\(count == 1 ? "" : "s") left out of the sums (\(parts.joined(separator: ", "))): "
            + "run ledger verify"
    }
}

/// Why a report could not be made.
public enum SumError: LocalizedError, Equatable, Sendable {
    /// A sum no Int64 of cents holds: amounts no real book has.
    case beyondMoney(what: String)

    /// The one line a person reads: what happened and what to do.
    public var errorDescription: String? {
        switch self {
        case .beyondMoney(let what):
            return
                "The splits of \(what) sum past \(Money(cents: Int64.max)) either way, more than ledger can show. Run ledger verify and correct the amounts."
        }
    }
}
