import Foundation
import GRDB

/// One line of the bank feed, as `ledger feed` lists it.
public struct FeedLine: Codable, Sendable, Equatable {
    /// The line's id in `bank_feed`.
    public let id: Int64
    /// The full name of the ledger account the line belongs to.
    public let account: String
    /// The bank's id of the line (OFX FITID, or one made from its content).
    public let fitid: String
    /// `YYYY-MM-DD`.
    public let posted: String
    /// Cents: deposits positive, withdrawals negative.
    public let amount: Int64
    /// The payee, as the bank wrote it.
    public let payee: String?
    /// The memo, as the bank wrote it.
    public let memo: String?
    /// `new`, `matched`, `added` or `excluded`.
    public let status: String
    /// The transaction the line is matched to or was added as.
    public let transactionID: Int64?
    /// The transaction the line is matched to or was added as, as a bookkeeper
    /// names it: "Check 1043 of 2026-01-04 to Acme Supply for 45.00".
    public let transaction: String?

    enum CodingKeys: String, CodingKey {
        case id, account, fitid, posted, amount, payee, memo, status
        case transactionID = "transaction_id"
        case transaction
    }
}

/// A feed line joined to a transaction by `match` or `add`.
public struct FeedLink: Codable, Sendable, Equatable {
    /// The feed line's id.
    public let line: Int64
    /// The id of the transaction it is joined to.
    public let transactionID: Int64
    /// The transaction as a bookkeeper names it: "Check 1043 of 2026-01-04 to Acme Supply for 45.00".
    public let transaction: String
    /// The line's date, `YYYY-MM-DD`.
    public let posted: String
    /// The line's amount in cents.
    public let amount: Int64
    /// The line's payee.
    public let payee: String?
    /// For a line added to the books: the account the other side went to.
    public let account: String?

    enum CodingKeys: String, CodingKey {
        case line
        case transactionID = "transaction_id"
        case transaction, posted, amount, payee, account
    }
}

/// What `ledger feed match` did.
public struct MatchReport: Codable, Sendable {
    /// Lines matched to transactions already in the books.
    public let matched: [FeedLink]
    /// Lines booked as new transactions (`--add-unmatched`).
    public let added: [FeedLink]
    /// New lines left as they were.
    public let unmatched: Int
}

/// What `feed match` logs in `maintenance_runs`: its counts, and the lines it
/// changed, which a rebuild after damage reads (docs/rebuild-after-damage.md).
struct MatchSummary: Encodable {
    let matched: Int
    let added: Int
    let unmatched: Int
    let lines: [Int64]
}

/// A line `ledger feed unmatch` made new again.
public struct UnmatchedLine: Codable, Sendable, Equatable {
    /// The feed line's id.
    public let line: Int64
    /// `matched` or `added`: what the line was.
    public let was: String
    /// The id of the transaction it was joined to.
    public let transactionID: Int64
    /// "Check of 2025-12-31 for 15.00 (Monthly service fee)".
    public let transaction: String
    /// For an added line: its transaction was taken out of the books, because
    /// only the feed line made it and nothing else refers to it.
    public let removed: Bool
    /// Why an added line's transaction stays in the books, when it does.
    public let keptBecause: String?

    enum CodingKeys: String, CodingKey {
        case line, was
        case transactionID = "transaction_id"
        case transaction, removed
        case keptBecause = "kept_because"
    }
}

/// Where `feed match --add-unmatched` books the lines no transaction matches.
public struct AddTargets: Sendable, Equatable {
    /// The other side of deposits (amount ≥ 0); nil leaves them new.
    public var deposits: String?
    /// The other side of withdrawals and charges; nil leaves them new.
    public var withdrawals: String?

    /// Deposits to one account and withdrawals to another; nil leaves that side new.
    public init(deposits: String?, withdrawals: String?) {
        self.deposits = deposits
        self.withdrawals = withdrawals
    }

    /// Both sides to one account.
    public init(_ account: String) {
        self.init(deposits: account, withdrawals: account)
    }
}

/// The bank feed of a company file: listing, matching, adding, unmatching,
/// excluding and including lines, each in one write transaction that keeps the
/// verify catalog's feed checks (feed-link-invalid, feed-amount-mismatch,
/// duplicate-feed-line) clean.
public enum FeedBook {
    /// How many days a transaction's date may be from the bank's posted date to match.
    public static let matchWindow = 5

    /// The feed's lines, oldest first, of one account and one status when given.
    public static func lines(file: String, account: String? = nil, status: String? = nil) throws -> [FeedLine] {
        try CompanyFile.read(file) { db in
            let only = try account.map { try AccountLookup.find($0, in: db, file: file).id }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT f.id, f.account_id, n.full_name, f.fitid, f.posted_date, f.amount, f.payee, f.memo, f.status, f.transaction_id
                    FROM bank_feed f LEFT JOIN (\(AccountNames.sql)) n ON n.id = f.account_id
                    WHERE (?1 IS NULL OR f.account_id = ?1) AND (?2 IS NULL OR f.status = ?2)
                    ORDER BY f.posted_date, f.id
                    """, arguments: [only, status]
            ).map { row in
                // Another program may have written anything: a line that cannot be read whole is the rebuild's.
                guard let id = row.integer("id"), let amount = row.integer("amount"), let fitid = row.text("fitid"),
                    let posted = row.text("posted_date"), let status = row.text("status")
                else {
                    throw FeedError.needsRebuild(
                        path: file,
                        reason: "has bank line \(row.shown("id") ?? "?") with a value that cannot be read")
                }
                let transactionID = row.integer("transaction_id")
                return FeedLine(
                    id: id, account: row.text("full_name") ?? "account \(row.shown("account_id") ?? "?")",
                    fitid: fitid, posted: posted, amount: amount, payee: row.text("payee"),
                    memo: row.text("memo"), status: status, transactionID: transactionID,
                    transaction: try transactionID.map { try TransactionTitle.of($0, amount: amount, in: db) })
            }
        }
    }

    /// Matches with every line left added to one account (see the other `match`).
    public static func match(
        file: String, account: String? = nil, addTo: String?,
        wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()
    ) throws -> MatchReport {
        try match(file: file, account: account, adding: addTo.map(AddTargets.init), wait: wait, now: now)
    }

    /// Matches `new` lines to transactions of their account that no other line
    /// is matched to: the same amount in that account, dated within
    /// `matchWindow` days; the closest date wins, then the most words shared by
    /// the payee (and check number) and the transaction's name, memo or number,
    /// then the oldest transaction. With `adding`, each deposit left gets a
    /// transaction of its own against `deposits`, each withdrawal one against
    /// `withdrawals` (status `added`).
    public static func match(
        file: String, account: String? = nil, adding: AddTargets? = nil,
        wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()
    ) throws -> MatchReport {
        try writing(file, wait: wait) { db in
            let only = try account.map {
                try AccountLookup.find(
                    $0, in: db, file: file, types: feedAccountTypes,
                    wanted: "bank lines belong to a bank, credit card or other current asset account"
                ).id
            }
            let deposits = try adding?.deposits.map { try otherSide($0, in: db, file: file) }
            let withdrawals = try adding?.withdrawals.map { try otherSide($0, in: db, file: file) }
            var matched: [FeedLink] = []
            var added: [FeedLink] = []
            let accounts = try Int64.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT account_id FROM bank_feed WHERE status = 'new' AND (?1 IS NULL OR account_id = ?1)
                      AND account_id IN (SELECT id FROM accounts) ORDER BY account_id
                    """, arguments: [only])
            for accountID in accounts {
                var taken = Set(
                    try Int64.fetchAll(
                        db,
                        sql: """
                            SELECT transaction_id FROM bank_feed WHERE account_id = ? AND status IN ('matched', 'added') AND transaction_id IS NOT NULL
                            """, arguments: [accountID]))
                let lines = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, posted_date, amount, payee, memo FROM bank_feed
                        WHERE account_id = ? AND status = 'new' AND typeof(amount) = 'integer' ORDER BY posted_date, id
                        """, arguments: [accountID])
                var window = CandidateWindow(account: accountID)
                for line in lines {
                    let id: Int64 = line["id"]
                    let amount: Int64 = line["amount"]
                    let posted: String = line["posted_date"]
                    let payee = line.value("payee", as: String.self)
                    let memo = line.value("memo", as: String.self)
                    let words = [payee, CheckNumber.found(payee: payee, memo: memo)].compactMap { $0 }.joined(
                        separator: " ")
                    if let transaction = try window.bestMatch(
                        db, amount: amount, posted: posted, payee: words, taken: taken)
                    {
                        try db.execute(
                            sql: "UPDATE bank_feed SET status = 'matched', transaction_id = ? WHERE id = ?",
                            arguments: [transaction, id])
                        taken.insert(transaction)
                        matched.append(
                            FeedLink(
                                line: id, transactionID: transaction,
                                transaction: try TransactionTitle.of(transaction, amount: amount, in: db),
                                posted: posted, amount: amount, payee: payee, account: nil))
                    } else if let other = amount >= 0 ? deposits : withdrawals, other.id != accountID {
                        let link = try add(
                            db, line: id, account: accountID, against: other, amount: amount, posted: posted,
                            payee: payee, memo: memo, now: now, file: file)
                        // The line's own transaction: no later line of the run may match it too.
                        taken.insert(link.transactionID)
                        added.append(link)
                    }
                }
            }
            let left =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM bank_feed WHERE status = 'new' AND (?1 IS NULL OR account_id = ?1)",
                    arguments: [only]) ?? 0
            let report = MatchReport(matched: matched, added: added, unmatched: left)
            if !matched.isEmpty || !added.isEmpty {
                try MaintenanceRecord.add(
                    "feed match", startedAt: now, outcome: "ok",
                    summary: MatchSummary(
                        matched: matched.count, added: added.count, unmatched: left,
                        lines: (matched + added).map(\.line).sorted()), in: db)
            }
            return report
        }
    }

    /// Adds one `new` line to the books as a transaction of its own: the line's
    /// amount in its account, the opposite in `account` (status `added`).
    /// - Throws: `FeedError.unknownLines`, `.lineNotNew` (matched, added or
    ///   excluded: what to do is in the message), `.unknownAccount`, `.wrongAccountType`.
    public static func add(
        file: String, line id: Int64, to account: String,
        wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()
    ) throws -> FeedLink {
        try writing(file, wait: wait) { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT f.account_id, f.posted_date, f.amount, f.payee, f.memo, f.status, f.transaction_id, a.type
                        FROM bank_feed f LEFT JOIN accounts a ON a.id = f.account_id WHERE f.id = ?
                        """, arguments: [id])
            else { throw FeedError.unknownLines([id]) }
            guard let status = row.text("status"), status == "new" else {
                throw FeedError.lineNotNew(
                    line: id, status: row.text("status") ?? "unreadable", file: file,
                    transaction: try linkedTitle(row, in: db))
            }
            guard let accountID = row.integer("account_id"), row.text("type") != nil else {
                throw FeedError.needsRebuild(
                    path: file, reason: "has bank line \(id) in an account that does not exist")
            }
            guard let amount = row.integer("amount"), let posted = row.text("posted_date"), CivilDate(posted) != nil
            else {
                throw FeedError.needsRebuild(
                    path: file, reason: "has bank line \(id) with an amount or date that cannot be read")
            }
            let other = try otherSide(account, in: db, file: file)
            guard other.id != accountID else { throw FeedError.sameAccount(line: id, account: other.name) }
            let link = try add(
                db, line: id, account: accountID, against: other, amount: amount, posted: posted,
                payee: row.value("payee", as: String.self), memo: row.value("memo", as: String.self), now: now,
                file: file)
            try MaintenanceRecord.add("feed add", startedAt: now, outcome: "ok", summary: link, in: db)
            return link
        }
    }

    /// Makes matched and added lines `new` again. A matched line's transaction
    /// stays as it is. An added line's transaction is taken out of the books only
    /// when the feed line alone made it and nothing refers to it (two splits as
    /// the feed wrote them, none cleared or reconciled, no party, document,
    /// application or other feed line, never modified); otherwise it stays, and
    /// the result says why. Removed rows are recorded whole in the
    /// `maintenance_runs` row of the command.
    /// - Throws: `FeedError.unknownLines`, `.notLinked` for a line that is new or
    ///   excluded; nothing changes then.
    public static func unmatch(
        file: String, lines ids: [Int64], wait: TimeInterval = CompanyFile.lockWait,
        now: Date = Date()
    ) throws -> [UnmatchedLine] {
        try writing(file, wait: wait) { db in
            let rows = try feedRows(ids, columns: "account_id, amount, status, transaction_id", in: db)
            for (id, row) in rows {
                guard let status = row.text("status"), status == "matched" || status == "added",
                    row.integer("transaction_id") != nil
                else {
                    throw FeedError.notLinked(line: id, status: row.text("status") ?? "unreadable")
                }
            }
            var done: [UnmatchedLine] = []
            var removedJSON: [String] = []
            for (id, row) in rows {
                guard let transaction = row.integer("transaction_id") else { continue }
                let amount = row.integer("amount") ?? 0
                let title = try TransactionTitle.of(transaction, amount: amount, in: db)
                try db.execute(
                    sql: "UPDATE bank_feed SET status = 'new', transaction_id = NULL WHERE id = ?", arguments: [id])
                guard row.text("status") == "added" else {
                    done.append(
                        UnmatchedLine(
                            line: id, was: "matched", transactionID: transaction, transaction: title,
                            removed: false, keptBecause: nil))
                    continue
                }
                if let reason = try keptReason(
                    db, transaction: transaction, account: row.integer("account_id"), amount: amount)
                {
                    done.append(
                        UnmatchedLine(
                            line: id, was: "added", transactionID: transaction, transaction: title,
                            removed: false, keptBecause: reason))
                    continue
                }
                removedJSON.append(
                    try String.fetchOne(
                        db,
                        sql: """
                            SELECT json_object('transaction', (SELECT json_object('id', id, 'kind', kind, 'date', date, 'number', number,
                                     'party_id', party_id, 'memo', memo, 'created_at', created_at, 'modified_at', modified_at)
                                     FROM transactions WHERE id = ?1),
                                   'splits', (SELECT json_group_array(json_object('id', id, 'transaction_id', transaction_id,
                                     'account_id', account_id, 'party_id', party_id, 'amount', amount, 'memo', memo, 'cleared', cleared,
                                     'reconciliation_id', reconciliation_id)) FROM splits WHERE transaction_id = ?1))
                            """, arguments: [transaction]) ?? "null")
                try db.execute(
                    sql: """
                        UPDATE accounts SET balance = balance - (SELECT SUM(s.amount) FROM splits s
                          WHERE s.transaction_id = ?1 AND s.account_id = accounts.id)
                        WHERE id IN (SELECT account_id FROM splits WHERE transaction_id = ?1)
                        """, arguments: [transaction])
                try db.execute(sql: "DELETE FROM splits WHERE transaction_id = ?", arguments: [transaction])
                try db.execute(sql: "DELETE FROM transactions WHERE id = ?", arguments: [transaction])
                done.append(
                    UnmatchedLine(
                        line: id, was: "added", transactionID: transaction, transaction: title,
                        removed: true, keptBecause: nil))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let lines = String(decoding: try encoder.encode(done), as: UTF8.self)
            try MaintenanceRecord.add(
                "feed unmatch", startedAt: now, outcome: "ok",
                summaryJSON: "{\"lines\":\(lines),\"removed\":[\(removedJSON.joined(separator: ","))]}", in: db)
            return done
        }
    }

    /// Why the transaction an added line made must stay in the books, or nil
    /// when the line alone made it and nothing else refers to it.
    private static func keptReason(_ db: Database, transaction: Int64, account: Int64?, amount: Int64) throws -> String?
    {
        guard
            let header = try Row.fetchOne(
                db, sql: "SELECT party_id, created_at, modified_at FROM transactions WHERE id = ?",
                arguments: [transaction])
        else { return "it could not be read" }
        let splits = try Row.fetchAll(
            db,
            sql: """
                SELECT account_id, party_id, amount, cleared, reconciliation_id FROM splits WHERE transaction_id = ? ORDER BY id
                """, arguments: [transaction])
        if splits.contains(where: { $0.text("cleared") == "r" || !$0.stored("reconciliation_id").isNull }) {
            return "it is reconciled"
        }
        if splits.contains(where: { $0.text("cleared") != "n" }) { return "it is marked cleared" }
        if try Bool.fetchOne(
            db,
            sql: "SELECT EXISTS (SELECT 1 FROM bank_feed WHERE transaction_id = ? AND status IN ('matched', 'added'))",
            arguments: [transaction]) == true
        {
            return "another bank line is matched to it"
        }
        if try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM documents WHERE transaction_id = ?1) OR EXISTS (SELECT 1 FROM document_lines WHERE transaction_id = ?1)
                    OR EXISTS (SELECT 1 FROM applications WHERE payment_id = ?1 OR document_id = ?1)
                """, arguments: [transaction]) == true
        {
            return "a document or a payment refers to it"
        }
        let asBooked =
            splits.count == 2 && header.stored("party_id").isNull
            && splits.allSatisfy { $0.stored("party_id").isNull }
            && splits.contains { $0.integer("account_id") == account && $0.integer("amount") == amount }
            && splits.contains { $0.integer("account_id") != account && $0.integer("amount") == -amount }
            && header.text("created_at") == header.text("modified_at")
        return asBooked ? nil : "it has changed since the feed added it"
    }

    /// Takes excluded lines back into the feed as `new`, so that match and add
    /// see them: a probable duplicate a person says is a real line of its own, or
    /// a line excluded by mistake. A probable duplicate's memo loses its
    /// "Probable duplicate of line N" words.
    /// - Returns: the lines changed (lines already new are left as they are).
    /// - Throws: `FeedError.unknownLines`, `.notExcluded` for a matched or added line.
    public static func include(
        file: String, lines ids: [Int64], wait: TimeInterval = CompanyFile.lockWait,
        now: Date = Date()
    ) throws -> [Int64] {
        try writing(file, wait: wait) { db in
            var changed: [(Int64, String?)] = []
            for (id, row) in try feedRows(ids, columns: "status, memo", in: db) {
                switch row.text("status") {
                case "excluded": changed.append((id, ProbableDuplicate.memoWithout(row.value("memo", as: String.self))))
                case "new": continue
                default: throw FeedError.notExcluded(line: id, status: row.text("status") ?? "unreadable")
                }
            }
            for (id, memo) in changed {
                try db.execute(
                    sql: "UPDATE bank_feed SET status = 'new', transaction_id = NULL, memo = ? WHERE id = ?",
                    arguments: [memo, id])
            }
            if !changed.isEmpty {
                try MaintenanceRecord.add(
                    "feed include", startedAt: now, outcome: "ok", summary: ["included": changed.map(\.0)], in: db)
            }
            return changed.map(\.0)
        }
    }

    static let feedAccountTypes: Set<AccountType> = [.bank, .creditCard, .otherCurrentAsset]

    /// Runs `body` in one write transaction on the company file at `file`.
    private static func writing<T>(_ file: String, wait: TimeInterval, _ body: (Database) throws -> T) throws -> T {
        let company = try CompanyFile.open(file, mode: .readWrite, wait: wait)
        defer { try? company.database.close() }
        return try company.write(body)
    }

    /// `columns` of the feed lines `ids`, in that order, each once however often it is given.
    /// - Throws: `FeedError.unknownLines` naming every id that is no line.
    private static func feedRows(_ ids: [Int64], columns: String, in db: Database) throws -> [(id: Int64, row: Row)] {
        var rows: [(id: Int64, row: Row)] = []
        var missing: [Int64] = []
        var seen: Set<Int64> = []
        for id in ids where seen.insert(id).inserted {
            if let row = try Row.fetchOne(db, sql: "SELECT \(columns) FROM bank_feed WHERE id = ?", arguments: [id]) {
                rows.append((id, row))
            } else {
                missing.append(id)
            }
        }
        guard missing.isEmpty else { throw FeedError.unknownLines(missing) }
        return rows
    }

    /// The account the other side of an added line goes to.
    private static func otherSide(_ name: String, in db: Database, file: String) throws -> AccountMatch {
        try AccountLookup.find(
            name, in: db, file: file,
            types: Set(AccountType.allCases).subtracting([.accountsReceivable, .accountsPayable]),
            wanted: "lines cannot be added against receivables or payables, which need a customer or vendor")
    }

    /// "Check 1043 of …" for a line's transaction, when it has one.
    private static func linkedTitle(_ row: Row, in db: Database) throws -> String? {
        guard let transaction = row.integer("transaction_id") else { return nil }
        return try TransactionTitle.of(transaction, amount: row.integer("amount") ?? 0, in: db)
    }

    /// Books line `id` as a transaction of its own and marks it `added`.
    private static func add(
        _ db: Database, line id: Int64, account: Int64, against other: AccountMatch, amount: Int64,
        posted: String, payee: String?, memo: String?, now: Date, file: String
    ) throws -> FeedLink {
        // A cached balance past what verify accepts would be invalid-value, and past 64 bits a float.
        for (side, cents) in [(account, amount), (other.id, -amount)] {
            let row = try Row.fetchOne(db, sql: "SELECT name, balance FROM accounts WHERE id = ?", arguments: [side])
            guard case .int64(let balance) = (row?["balance"] as DatabaseValue?)?.storage else { continue }
            let (sum, overflow) = balance.addingReportingOverflow(cents)
            if overflow || sum > Money.limit || sum < -Money.limit {
                throw FeedError.balanceTooLarge(
                    line: id, amount: amount, account: row?.text("name") ?? "account \(side)", file: file)
            }
        }
        let transaction = try book(
            db, account: account, against: other, amount: amount, posted: posted, payee: payee, memo: memo, now: now)
        try db.execute(
            sql: "UPDATE bank_feed SET status = 'added', transaction_id = ? WHERE id = ?", arguments: [transaction, id])
        return FeedLink(
            line: id, transactionID: transaction,
            transaction: try TransactionTitle.of(transaction, amount: amount, in: db),
            posted: posted, amount: amount, payee: payee, account: other.name)
    }

    /// The transactions of one account near the lines being matched, read a
    /// month of dates at a time (the lines come oldest first), by what they move
    /// in the account: one query per month rather than one per line.
    struct CandidateWindow {
        let account: Int64
        private var first: CivilDate?
        private var last: CivilDate?
        private var byAmount: [Int64: [(id: Int64, date: CivilDate, words: String)]] = [:]
        static let span = 31

        init(account: Int64) {
            self.account = account
        }

        /// The best transaction for a line, or nil.
        mutating func bestMatch(_ db: Database, amount: Int64, posted: String, payee: String?, taken: Set<Int64>) throws
            -> Int64?
        {
            guard let day = CivilDate(posted) else { return nil }
            if !covers(day) { try load(db, from: day) }
            let payeeWords = FeedBook.words(payee ?? "")
            return byAmount[amount, default: []].compactMap { candidate -> (id: Int64, distance: Int, shared: Int)? in
                let distance = abs(candidate.date - day)
                guard distance <= matchWindow, !taken.contains(candidate.id) else { return nil }
                return (candidate.id, distance, FeedBook.words(candidate.words).intersection(payeeWords).count)
            }.min { ($0.distance, -$0.shared, $0.id) < ($1.distance, -$1.shared, $1.id) }?.id
        }

        /// Whether the loaded transactions cover the match window around `day`.
        private func covers(_ day: CivilDate) -> Bool {
            guard let first, let last else { return false }
            return day + -matchWindow >= first && day + matchWindow <= last
        }

        /// Reads the transactions dated from `day` less the match window to a month on.
        private mutating func load(_ db: Database, from day: CivilDate) throws {
            let first = day + -matchWindow
            let last = day + Self.span + matchWindow
            self.first = first
            self.last = last
            byAmount = [:]
            // Walk the dates by their index, and each transaction's splits by theirs.
            let indexed =
                try Bool.fetchOne(
                    db,
                    sql:
                        "SELECT COUNT(*) = 2 FROM sqlite_master WHERE name IN ('transactions_date', 'splits_transaction')"
                ) ?? false
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT t.id, t.date, COALESCE(p.name, '') || ' ' || COALESCE(t.memo, '') || ' ' || COALESCE(t.number, '') AS words,
                           SUM(s.amount) AS moved, MAX(typeof(s.amount) != 'integer') AS bad
                    FROM transactions t \(indexed ? "INDEXED BY transactions_date" : "")
                    CROSS JOIN splits s ON s.transaction_id = t.id AND +s.account_id = ?
                    LEFT JOIN parties p ON p.id = t.party_id
                    WHERE t.date BETWEEN ? AND ?
                    GROUP BY t.id
                    """, arguments: [account, first.description, last.description])
            while let row = try rows.next() {
                // A transaction with an amount that is not an integer (invalid-value) matches nothing.
                guard (row["bad"] as Int64?) == 0, let date = (row["date"] as String?).flatMap(CivilDate.init),
                    case .int64(let moved) = (row["moved"] as DatabaseValue).storage
                else { continue }
                byAmount[moved, default: []].append((row["id"], date, row["words"]))
            }
        }
    }

    static func words(_ text: String) -> Set<String> {
        Set(text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).filter { $0.count > 1 })
    }

    /// A transaction for a bank line no existing one matches: the line's amount
    /// in its account, the opposite in `other`; both cached balances follow. The
    /// bank's payee stands as the transaction's memo (it has no party, so exports
    /// show it as the payee), the bank's memo as each split's, and a check
    /// number as the transaction's number.
    private static func book(
        _ db: Database, account: Int64, against other: AccountMatch, amount: Int64, posted: String,
        payee: String?, memo: String?, now: Date
    ) throws -> Int64 {
        let type = try String.fetchOne(db, sql: "SELECT type FROM accounts WHERE id = ?", arguments: [account])
        let kind = amount >= 0 ? "deposit" : (type == AccountType.creditCard.rawValue ? "credit_card_charge" : "check")
        let stamp = Timestamp.string(from: now)
        let number = CheckNumber.found(payee: payee, memo: memo)
        let memo = CheckNumber.memoWithout(memo, number: number)
        try db.execute(
            sql: """
                INSERT INTO transactions (kind, date, number, party_id, memo, created_at, modified_at) VALUES (?, ?, ?, NULL, ?, ?, ?)
                """, arguments: [kind, posted, number, payee ?? memo ?? "Added from the bank feed", stamp, stamp])
        let transaction = db.lastInsertedRowID
        for (id, cents) in [(account, amount), (other.id, -amount)] {
            try db.execute(
                sql: "INSERT INTO splits (transaction_id, account_id, amount, memo, cleared) VALUES (?, ?, ?, ?, 'n')",
                arguments: [transaction, id, cents, memo])
            try db.execute(sql: "UPDATE accounts SET balance = balance + ? WHERE id = ?", arguments: [cents, id])
        }
        return transaction
    }

    /// Sets lines aside (status `excluded`, no transaction): lines the books
    /// should never hold, such as a transfer the other account already shows.
    /// - Throws: `FeedError.unknownLines`, or `.lineAdded` for a line that made a transaction.
    public static func exclude(
        file: String, lines ids: [Int64], wait: TimeInterval = CompanyFile.lockWait,
        now: Date = Date()
    ) throws -> [Int64] {
        try writing(file, wait: wait) { db in
            var changed: [Int64] = []
            for (id, row) in try feedRows(ids, columns: "status, transaction_id, amount", in: db) {
                if row.text("status") == "added", let transaction = row.integer("transaction_id") {
                    throw FeedError.lineAdded(
                        line: id,
                        transaction: try TransactionTitle.of(transaction, amount: row.integer("amount") ?? 0, in: db),
                        file: file)
                }
                if row.text("status") != "excluded" { changed.append(id) }
            }
            for id in changed {
                try db.execute(
                    sql: "UPDATE bank_feed SET status = 'excluded', transaction_id = NULL WHERE id = ?", arguments: [id]
                )
            }
            if !changed.isEmpty {
                try MaintenanceRecord.add(
                    "feed exclude", startedAt: now, outcome: "ok", summary: ["excluded": changed], in: db)
            }
            return changed
        }
    }
}
