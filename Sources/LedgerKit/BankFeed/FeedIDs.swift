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
struct FeedIDs {
    /// A feed line that has a line's id, or its id with a `#k` suffix.
    struct Stored {
        let id: Int64
        let fitid: String
        let posted: String?
        let amount: Int64?
    }

    /// What the import does with one line.
    enum Outcome {
        /// The feed has it already: feed line `Int64`.
        case present(Int64)
        /// A new line, stored under `id`; `sharing` is the earlier feed line under the bank's own id, if any.
        case new(id: String, sharing: Stored?)
    }

    /// One outcome per line of `lines`, in order.
    let outcomes: [Outcome]

    /// Places `lines` (every line of the import going to `account`, in file order) in that account's feed.
    init(_ db: Database, account: Int64, lines: [StatementLine]) throws {
        let candidatesStatement = try db.makeStatement(
            sql: """
                SELECT id, fitid, posted_date, amount FROM bank_feed
                WHERE account_id = ? AND (fitid = ? OR (fitid >= ? AND fitid < ?)) ORDER BY id
                """)
        let existsStatement = try db.makeStatement(
            sql: "SELECT EXISTS (SELECT 1 FROM bank_feed WHERE account_id = ? AND fitid = ?)")
        var candidates: [String: [Stored]] = [:]
        for fitid in Set(lines.map(\.fitid)) {
            let rows = try Row.fetchCursor(
                candidatesStatement, arguments: [account, fitid, fitid + "#", fitid + "$"])
            var found: [Stored] = []
            while let row = try rows.next() {
                guard let id = row.integer("id"), let stored = row.text("fitid") else { continue }
                let suffix = stored.dropFirst(fitid.count + 1)
                guard stored == fitid || (!suffix.isEmpty && suffix.allSatisfy(\.isASCIIDigit)) else { continue }
                found.append(
                    Stored(id: id, fitid: stored, posted: row.text("posted_date"), amount: row.integer("amount")))
            }
            candidates[fitid] = found
        }
        var paired: Set<Int64> = []
        var present: [Int64?] = Array(repeating: nil, count: lines.count)
        // Under the very id first, then under a repeat's suffix, so that a bank's own "X#2" keeps its line.
        for exact in [true, false] {
            for (index, line) in lines.enumerated() where present[index] == nil {
                let match = candidates[line.fitid]?.first { stored in
                    (!exact || stored.fitid == line.fitid) && !paired.contains(stored.id)
                        && stored.posted == line.posted && stored.amount == line.amount
                }
                if let match {
                    paired.insert(match.id)
                    present[index] = match.id
                }
            }
        }
        let named = Set(lines.map(\.fitid))
        var assigned: Set<String> = []
        var outcomes: [Outcome] = []
        for (index, line) in lines.enumerated() {
            if let id = present[index] {
                outcomes.append(.present(id))
                continue
            }
            let sharing = candidates[line.fitid]?.first { $0.fitid == line.fitid }
            var name = line.fitid
            if sharing != nil || assigned.contains(name) {
                var count = 1
                var taken = true
                while taken {
                    count += 1
                    name = "\(line.fitid)#\(count)"
                    taken =
                        try assigned.contains(name) || named.contains(name)
                        || Bool.fetchOne(existsStatement, arguments: [account, name]) == true
                }
            }
            assigned.insert(name)
            outcomes.append(.new(id: name, sharing: sharing))
        }
        self.outcomes = outcomes
    }
}
