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
/// amount, each the original of at most one new line of that import: kept in
/// the import's spool (`spool.original`), not in memory.
struct FeedOriginals {
    private let account: Int64
    private let find: Statement
    private let remove: Statement

    /// Copies the lines of `account` with ids up to `lastID` (those before this
    /// import) posted between the first and last day of the spool's lines of
    /// `statements`, except lines that were themselves set aside as probable
    /// duplicates and lines the import found present (`FeedIDs`).
    init(_ db: Database, account: Int64, lastID: Int64, statements: [Int]) throws {
        self.account = account
        let list = statements.map(String.init).joined(separator: ", ")
        find = try db.makeStatement(
            sql: "SELECT id FROM spool.original WHERE account = ? AND posted = ? AND amount = ? ORDER BY id LIMIT 1")
        remove = try db.makeStatement(sql: "DELETE FROM spool.original WHERE id = ?")
        guard
            let span = try Row.fetchOne(
                db, sql: "SELECT MIN(posted) AS first, MAX(posted) AS last FROM spool.line WHERE statement IN (\(list))"
            ),
            let first = span.text("first"), let last = span.text("last")
        else { return }
        try db.execute(
            sql: """
                INSERT INTO spool.original (id, account, posted, amount)
                SELECT id, account_id, posted_date, amount FROM main.bank_feed
                WHERE account_id = ? AND id <= ? AND posted_date BETWEEN ? AND ? AND typeof(amount) = 'integer'
                  AND typeof(id) = 'integer' AND typeof(posted_date) = 'text'
                  AND NOT (status = 'excluded' AND substr(COALESCE(memo, ''), 1, ?) = ?)
                  AND id NOT IN (SELECT feed_id FROM spool.present)
                """,
            arguments: [account, lastID, first, last, ProbableDuplicate.prefix.count, ProbableDuplicate.prefix])
    }

    /// The oldest unpaired line posted on `posted` for `amount`, now paired.
    func take(posted: String, amount: Int64) throws -> Int64? {
        guard let id = try Int64.fetchOne(find, arguments: [account, posted, amount]) else { return nil }
        try remove.execute(arguments: [id])
        return id
    }
}
