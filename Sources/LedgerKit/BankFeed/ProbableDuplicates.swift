import GRDB

/// A line of a statement that agrees on account, date and amount with a line
/// the feed already had from another file, under another id: most likely the
/// same line, downloaded twice in two formats (an OFX statement and an
/// overlapping CSV export). It is imported `excluded` (the status set of docs/company-file.md
/// is closed), its memo beginning "Probable duplicate of line N", so that match
/// and add leave it alone until a person takes it in with `ledger feed include`.
public struct ProbableDuplicate: Codable, Sendable, Equatable {
    /// The new feed line, set aside.
    public let line: Int64
    /// The line already there that it repeats.
    public let original: Int64
    /// The lines' day, `YYYY-MM-DD`.
    public let posted: String
    /// The lines' amount in cents.
    public let amount: Int64
    /// The new line's payee.
    public let payee: String?

    static let prefix = "Probable duplicate of line "

    /// The stored memo of a line set aside as a duplicate of `original`.
    static func memo(_ memo: String?, original: Int64) -> String {
        prefix + String(original) + (memo.map { "; " + $0 } ?? "")
    }

    /// `memo` without the words `memo(_:original:)` put before it.
    static func memoWithout(_ memo: String?) -> String? {
        guard let memo, memo.hasPrefix(prefix) else { return memo }
        let rest = memo.dropFirst(prefix.count).drop { $0.isASCIIDigit }
        if rest.isEmpty { return nil }
        return rest.hasPrefix("; ") ? String(rest.dropFirst(2)) : memo
    }
}

/// The lines an account's feed already had before an import, by day and
/// amount, each the original of at most one new line of that import.
struct FeedOriginals {
    private var byKey: [String: [Int64]] = [:]
    private var keyOf: [Int64: String] = [:]

    /// The lines of `account` with ids up to `lastID` (those before this
    /// import) posted between the statement's first and last day, except lines
    /// that were themselves set aside as probable duplicates.
    init(_ db: Database, account: Int64, lastID: Int64, lines: [StatementLine]) throws {
        guard let first = lines.map(\.posted).min(), let last = lines.map(\.posted).max() else { return }
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT id, posted_date, amount FROM bank_feed
                WHERE account_id = ? AND id <= ? AND posted_date BETWEEN ? AND ? AND typeof(amount) = 'integer'
                  AND NOT (status = 'excluded' AND substr(COALESCE(memo, ''), 1, ?) = ?)
                ORDER BY id
                """,
            arguments: [account, lastID, first, last, ProbableDuplicate.prefix.count, ProbableDuplicate.prefix])
        while let row = try rows.next() {
            guard let id = row.integer("id"), let posted = row.text("posted_date"), let amount = row.integer("amount")
            else { continue }
            byKey[Self.key(posted, amount), default: []].append(id)
            keyOf[id] = Self.key(posted, amount)
        }
    }

    /// The oldest unpaired line posted on `posted` for `amount`, now paired.
    mutating func take(posted: String, amount: Int64) -> Int64? {
        let key = Self.key(posted, amount)
        guard var ids = byKey[key], !ids.isEmpty else { return nil }
        let first = ids.removeFirst()
        byKey[key] = ids
        return first
    }

    /// Takes line `id` out of the originals: it is paired already.
    mutating func pair(_ id: Int64) {
        guard let key = keyOf[id] else { return }
        byKey[key]?.removeAll { $0 == id }
    }

    private static func key(_ posted: String, _ amount: Int64) -> String { posted + " " + String(amount) }
}
