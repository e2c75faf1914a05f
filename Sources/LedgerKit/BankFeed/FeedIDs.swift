import GRDB

/// A line of a statement whose bank id (FITID, a CSV's `--id-col`) a line the
/// feed had before this import has too, but which is not that line: its day or
/// amount differs, or the statement has more such lines than the feed. It is
/// added, as a line of its own, under `storedAs` (`FITID#2`, …) and listed, so
/// that a person can tell a bank that reuses ids from one that corrected a line.
public struct ReusedID: Codable, Sendable, Equatable {
    /// The new feed line.
    public let line: Int64
    /// Where it starts in the statement file (1-based).
    public let fileLine: Int
    /// The bank's id, as the statement gives it.
    public let fitid: String
    /// The id it is stored under, unique in the account's feed.
    public let storedAs: String
    /// The new line's day, `YYYY-MM-DD`.
    public let posted: String
    /// The new line's amount, in cents.
    public let amount: Int64
    /// The new line's payee.
    public let payee: String?
    /// The feed line that had the id first.
    public let original: Int64
    /// That line's day, as stored.
    public let originalPosted: String?
    /// That line's amount in cents, nil when what is stored is no whole number of cents.
    public let originalAmount: Int64?

    enum CodingKeys: String, CodingKey {
        case line
        case fileLine = "file_line"
        case fitid
        case storedAs = "stored_as"
        case posted, amount, payee, original
        case originalPosted = "original_posted"
        case originalAmount = "original_amount"
    }
}

/// Which lines of an import one account's feed already has, and under which
/// id each other line is stored (docs/company-file.md, `bank_feed`).
///
/// A bank id names a line only with its day and amount: banks reuse ids, and a
/// statement may give one id to several lines. A line is already present when
/// the feed has an unpaired line under its id, or under its id with a `#k`
/// suffix this import gave an earlier repeat, on the same day for the same
/// amount; each stored line stands for one line of the file. Every other line
/// is added under its own id when the feed and this import have no line under
/// it, else under the first free `ID#k` (k ≥ 2) that no line of the file
/// names itself.
///
/// The lines are those of the import's spool (`StatementSpool`, attached as
/// `spool`), and what is learnt of them is kept there, not in memory: the
/// lines present (`spool.present`), the feed lines they pair with
/// (`spool.paired`), the ids given (`spool.assigned`).
struct FeedIDs {
    /// A feed line that has a line's id, or its id with a `#k` suffix.
    struct Stored {
        let id: Int64
        let fitid: String
        let posted: String?
        let amount: Int64?
    }

    private let account: Int64
    private let lastBefore: Int64
    private let sharingStatement: Statement
    private let existsStatement: Statement
    private let namedStatement: Statement
    private let assignStatement: Statement

    /// Places the spool's lines of `statements` (the statements of the file going to `account`)
    /// in that account's feed, whose lines before this import have ids up to `lastBefore`: the
    /// lines present are found now, in file order; `id(for:)` gives each other line its id.
    init(_ db: Database, account: Int64, statements: [Int], lastBefore: Int64) throws {
        self.account = account
        self.lastBefore = lastBefore
        let list = statements.map(String.init).joined(separator: ", ")
        sharingStatement = try db.makeStatement(
            sql: """
                SELECT id, fitid, posted_date, amount FROM main.bank_feed
                WHERE account_id = ? AND fitid = ? AND id <= ? ORDER BY id
                """)
        existsStatement = try db.makeStatement(
            sql: "SELECT EXISTS (SELECT 1 FROM main.bank_feed WHERE account_id = ? AND fitid = ? AND id <= ?)")
        namedStatement = try db.makeStatement(
            sql: "SELECT EXISTS (SELECT 1 FROM spool.line WHERE fitid = ? AND statement IN (\(list)))")
        assignStatement = try db.makeStatement(
            sql: "INSERT OR IGNORE INTO spool.assigned (account, name) VALUES (?, ?)")
        try Self.pair(db, account: account, statements: list)
    }

    /// Finds the lines the feed has already, under the very id first, then under a repeat's
    /// suffix, so that a bank's own "X#2" keeps its line.
    private static func pair(_ db: Database, account: Int64, statements list: String) throws {
        let candidates = try db.makeStatement(
            sql: """
                SELECT id, fitid, posted_date, amount FROM main.bank_feed
                WHERE account_id = ? AND (fitid = ? OR (fitid >= ? AND fitid < ?))
                  AND NOT EXISTS (SELECT 1 FROM spool.paired p WHERE p.feed_id = bank_feed.id)
                ORDER BY id
                """)
        let present = try db.makeStatement(sql: "INSERT INTO spool.present (seq, feed_id) VALUES (?, ?)")
        let paired = try db.makeStatement(sql: "INSERT INTO spool.paired (feed_id) VALUES (?)")
        for exact in [true, false] {
            // Only lines the feed has an id like theirs for (their id, or it and more before '$',
            // which the index finds at once): of a new account's feed, none.
            let lines = try Row.fetchCursor(
                db,
                sql: """
                    SELECT seq, fitid, posted, amount FROM spool.line l
                    WHERE statement IN (\(list)) AND NOT EXISTS (SELECT 1 FROM spool.present p WHERE p.seq = l.seq)
                      AND EXISTS (
                        SELECT 1 FROM main.bank_feed f
                        WHERE f.account_id = ? AND f.fitid >= l.fitid AND f.fitid < l.fitid || '$')
                    ORDER BY seq
                    """, arguments: [account])
            while let line = try lines.next() {
                guard let seq = line.integer("seq"), let fitid = line.text("fitid") else { continue }
                let posted = line.text("posted")
                let amount = line.integer("amount")
                let rows = try Row.fetchCursor(candidates, arguments: [account, fitid, fitid + "#", fitid + "$"])
                while let row = try rows.next() {
                    guard let id = row.integer("id"), let stored = row.text("fitid") else { continue }
                    let suffix = stored.dropFirst(fitid.count + 1)
                    guard stored == fitid || (!suffix.isEmpty && suffix.allSatisfy(\.isASCIIDigit)) else { continue }
                    guard
                        (!exact || stored == fitid) && row.text("posted_date") == posted
                            && row.integer("amount") == amount
                    else { continue }
                    try present.execute(arguments: [seq, id])
                    try paired.execute(arguments: [id])
                    break
                }
            }
        }
    }

    /// The id a new line whose bank id is `fitid` is stored under, and the feed line that had
    /// `fitid` before this import, if any. Called for the new lines in file order.
    func id(for fitid: String, in db: Database) throws -> (id: String, sharing: Stored?) {
        var sharing: Stored?
        let rows = try Row.fetchCursor(sharingStatement, arguments: [account, fitid, lastBefore])
        while let row = try rows.next() {
            guard let id = row.integer("id"), let stored = row.text("fitid"), stored == fitid else { continue }
            sharing = Stored(id: id, fitid: stored, posted: row.text("posted_date"), amount: row.integer("amount"))
            break
        }
        func assign(_ name: String) throws -> Bool {
            try assignStatement.execute(arguments: [account, name])
            return db.changesCount > 0
        }
        var name = fitid
        if try sharing != nil || !assign(fitid) {
            var count = 1
            while true {
                count += 1
                name = "\(fitid)#\(count)"
                if try Bool.fetchOne(namedStatement, arguments: [name]) == true
                    || Bool.fetchOne(existsStatement, arguments: [account, name, lastBefore]) == true
                {
                    continue
                }
                if try assign(name) { break }
            }
        }
        return (name, sharing)
    }
}
