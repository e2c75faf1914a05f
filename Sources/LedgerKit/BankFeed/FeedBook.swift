import Foundation
import GRDB

/// One line of the bank feed, as `ledger feed` lists it.
public struct FeedLine: Codable, Sendable, Equatable {
    public let id: Int64
    public let account: String
    public let fitid: String
    public let posted: String
    public let amount: Int64
    public let payee: String?
    public let memo: String?
    public let status: String
    public let transactionID: Int64?

    enum CodingKeys: String, CodingKey {
        case id, account, fitid, posted, amount, payee, memo, status, transactionID = "transaction_id"
    }
}

/// A feed line joined to a transaction by `match`.
public struct FeedLink: Codable, Sendable, Equatable {
    public let line: Int64
    public let transactionID: Int64
    public let posted: String
    public let amount: Int64
    public let payee: String?

    enum CodingKeys: String, CodingKey {
        case line, transactionID = "transaction_id", posted, amount, payee
    }
}

/// What `ledger feed match` did.
public struct MatchReport: Codable, Sendable {
    public let matched: [FeedLink]
    public let added: [FeedLink]
    /// New lines left as they were.
    public let unmatched: Int
}

/// The bank feed of a company file: listing, matching, adding and excluding
/// lines, each in one write transaction that keeps the verify catalog's feed
/// checks (feed-link-invalid, feed-amount-mismatch, duplicate-feed-line) clean.
public enum FeedBook {
    /// How many days a transaction's date may be from the bank's posted date to match.
    public static let matchWindow = 5

    /// The feed's lines, oldest first, of one account and one status when given.
    public static func lines(file: String, account: String? = nil, status: String? = nil) throws -> [FeedLine] {
        try CompanyFile.read(file) { db in
            let only = try account.map { try AccountLookup.find($0, in: db).id }
            return try Row.fetchAll(db, sql: """
                SELECT f.id, f.account_id, n.full_name, f.fitid, f.posted_date, f.amount, f.payee, f.memo, f.status, f.transaction_id
                FROM bank_feed f LEFT JOIN (\(AccountNames.sql)) n ON n.id = f.account_id
                WHERE (?1 IS NULL OR f.account_id = ?1) AND (?2 IS NULL OR f.status = ?2)
                ORDER BY f.posted_date, f.id
                """, arguments: [only, status]).map { row in
                FeedLine(id: row["id"], account: row["full_name"] ?? "account \(row["account_id"] as Int64? ?? 0)",
                         fitid: row["fitid"], posted: row["posted_date"], amount: row["amount"], payee: row["payee"],
                         memo: row["memo"], status: row["status"], transactionID: row["transaction_id"])
            }
        }
    }

    /// Matches `new` lines to transactions of their account that no other line
    /// is matched to: the same amount in that account, dated within
    /// `matchWindow` days; the closest date wins, then the most words shared by
    /// the payee and the transaction's name or memo, then the oldest transaction.
    /// With `addTo`, each line left gets a transaction of its own against that
    /// account (status `added`).
    public static func match(file: String, account: String? = nil, addTo: String? = nil,
                             wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()) throws -> MatchReport {
        let company = try CompanyFile.open(file, mode: .readWrite, wait: wait)
        defer { try? company.database.close() }
        return try company.database.write { db in
            let only = try account.map { try AccountLookup.find($0, in: db, types: [.bank, .creditCard, .otherCurrentAsset],
                                                              wanted: "bank lines belong to a bank, credit card or other current asset account").id }
            let other = try addTo.map {
                try AccountLookup.find($0, in: db, types: Set(AccountType.allCases).subtracting([.accountsReceivable, .accountsPayable]),
                                       wanted: "lines cannot be added against receivables or payables, which need a customer or vendor")
            }
            var matched: [FeedLink] = [], added: [FeedLink] = []
            let accounts = try Int64.fetchAll(db, sql: """
                SELECT DISTINCT account_id FROM bank_feed WHERE status = 'new' AND (?1 IS NULL OR account_id = ?1)
                  AND account_id IN (SELECT id FROM accounts) ORDER BY account_id
                """, arguments: [only])
            for accountID in accounts {
                var taken = Set(try Int64.fetchAll(db, sql: """
                    SELECT transaction_id FROM bank_feed WHERE account_id = ? AND status IN ('matched', 'added') AND transaction_id IS NOT NULL
                    """, arguments: [accountID]))
                let lines = try Row.fetchAll(db, sql: """
                    SELECT id, posted_date, amount, payee, memo FROM bank_feed
                    WHERE account_id = ? AND status = 'new' AND typeof(amount) = 'integer' ORDER BY posted_date, id
                    """, arguments: [accountID])
                var window = CandidateWindow(account: accountID)
                for line in lines {
                    let id: Int64 = line["id"], amount: Int64 = line["amount"], posted: String = line["posted_date"]
                    let payee: String? = line["payee"]
                    if let transaction = try window.bestMatch(db, amount: amount, posted: posted, payee: payee, taken: taken) {
                        try db.execute(sql: "UPDATE bank_feed SET status = 'matched', transaction_id = ? WHERE id = ?",
                                       arguments: [transaction, id])
                        taken.insert(transaction)
                        matched.append(FeedLink(line: id, transactionID: transaction, posted: posted, amount: amount, payee: payee))
                    } else if let other, other.id != accountID {
                        let transaction = try book(db, account: accountID, against: other, amount: amount, posted: posted,
                                                   payee: payee, memo: line["memo"], now: now)
                        try db.execute(sql: "UPDATE bank_feed SET status = 'added', transaction_id = ? WHERE id = ?",
                                       arguments: [transaction, id])
                        added.append(FeedLink(line: id, transactionID: transaction, posted: posted, amount: amount, payee: payee))
                    }
                }
            }
            let left = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bank_feed WHERE status = 'new' AND (?1 IS NULL OR account_id = ?1)",
                                        arguments: [only]) ?? 0
            let report = MatchReport(matched: matched, added: added, unmatched: left)
            if !matched.isEmpty || !added.isEmpty {
                try MaintenanceRecord.add("feed match", startedAt: now, outcome: "ok", summary: [
                    "matched": matched.count, "added": added.count, "unmatched": left,
                ], in: db)
            }
            return report
        }
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
        mutating func bestMatch(_ db: Database, amount: Int64, posted: String, payee: String?, taken: Set<Int64>) throws -> Int64? {
            guard let day = CivilDate(posted) else { return nil }
            if first == nil || day + -matchWindow < first! || day + matchWindow > last! { try load(db, from: day) }
            let payeeWords = FeedBook.words(payee ?? "")
            return byAmount[amount, default: []].compactMap { candidate -> (id: Int64, distance: Int, shared: Int)? in
                let distance = abs(candidate.date - day)
                guard distance <= matchWindow, !taken.contains(candidate.id) else { return nil }
                return (candidate.id, distance, FeedBook.words(candidate.words).intersection(payeeWords).count)
            }.min { ($0.distance, -$0.shared, $0.id) < ($1.distance, -$1.shared, $1.id) }?.id
        }

        /// Reads the transactions dated from `day` less the match window to a month on.
        private mutating func load(_ db: Database, from day: CivilDate) throws {
            first = day + -matchWindow
            last = day + Self.span + matchWindow
            byAmount = [:]
            // Walk the dates by their index, and each transaction's splits by theirs.
            let indexed = try Bool.fetchOne(db, sql: "SELECT COUNT(*) = 2 FROM sqlite_master WHERE name IN ('transactions_date', 'splits_transaction')") ?? false
            let rows = try Row.fetchCursor(db, sql: """
                SELECT t.id, t.date, COALESCE(p.name, '') || ' ' || COALESCE(t.memo, '') || ' ' || COALESCE(t.number, '') AS words,
                       SUM(s.amount) AS moved, MAX(typeof(s.amount) != 'integer') AS bad
                FROM transactions t \(indexed ? "INDEXED BY transactions_date" : "")
                CROSS JOIN splits s ON s.transaction_id = t.id AND +s.account_id = ?
                LEFT JOIN parties p ON p.id = t.party_id
                WHERE t.date BETWEEN ? AND ?
                GROUP BY t.id
                """, arguments: [account, first!.description, last!.description])
            while let row = try rows.next() {
                // A transaction with an amount that is not an integer (invalid-value) matches nothing.
                guard (row["bad"] as Int64?) == 0, let date = (row["date"] as String?).flatMap(CivilDate.init),
                      case .int64(let moved) = (row["moved"] as DatabaseValue).storage else { continue }
                byAmount[moved, default: []].append((row["id"], date, row["words"]))
            }
        }
    }

    static func words(_ text: String) -> Set<String> {
        Set(text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).filter { $0.count > 1 })
    }

    /// A transaction for a bank line no existing one matches: the line's amount
    /// in its account, the opposite in `other`; both cached balances follow.
    private static func book(_ db: Database, account: Int64, against other: AccountMatch, amount: Int64, posted: String,
                             payee: String?, memo: String?, now: Date) throws -> Int64 {
        let type = try String.fetchOne(db, sql: "SELECT type FROM accounts WHERE id = ?", arguments: [account])
        let kind = amount >= 0 ? "deposit" : (type == AccountType.creditCard.rawValue ? "credit_card_charge" : "check")
        let text = [payee, memo].compactMap { $0 }.joined(separator: " — ")
        let stamp = Timestamp.string(from: now)
        try db.execute(sql: """
            INSERT INTO transactions (kind, date, number, party_id, memo, created_at, modified_at) VALUES (?, ?, NULL, NULL, ?, ?, ?)
            """, arguments: [kind, posted, text.isEmpty ? "Added from the bank feed" : text, stamp, stamp])
        let transaction = db.lastInsertedRowID
        for (id, cents) in [(account, amount), (other.id, -amount)] {
            try db.execute(sql: "INSERT INTO splits (transaction_id, account_id, amount, memo, cleared) VALUES (?, ?, ?, ?, 'n')",
                           arguments: [transaction, id, cents, payee])
            try db.execute(sql: "UPDATE accounts SET balance = balance + ? WHERE id = ?", arguments: [cents, id])
        }
        return transaction
    }

    /// Sets lines aside (status `excluded`, no transaction): lines the books
    /// should never hold, such as a transfer the other account already shows.
    /// - Throws: `FeedError.unknownLines`, or `.lineAdded` for a line that made a transaction.
    public static func exclude(file: String, lines ids: [Int64], wait: TimeInterval = CompanyFile.lockWait,
                               now: Date = Date()) throws -> [Int64] {
        let company = try CompanyFile.open(file, mode: .readWrite, wait: wait)
        defer { try? company.database.close() }
        return try company.database.write { db in
            var changed: [Int64] = []
            var missing: [Int64] = []
            for id in ids {
                guard let row = try Row.fetchOne(db, sql: "SELECT status, transaction_id FROM bank_feed WHERE id = ?", arguments: [id]) else {
                    missing.append(id)
                    continue
                }
                if (row["status"] as String?) == "added", let transaction = row["transaction_id"] as Int64? {
                    throw FeedError.lineAdded(line: id, transaction: transaction)
                }
                if (row["status"] as String?) != "excluded" { changed.append(id) }
            }
            guard missing.isEmpty else { throw FeedError.unknownLines(missing) }
            for id in changed {
                try db.execute(sql: "UPDATE bank_feed SET status = 'excluded', transaction_id = NULL WHERE id = ?", arguments: [id])
            }
            if !changed.isEmpty {
                try MaintenanceRecord.add("feed exclude", startedAt: now, outcome: "ok", summary: ["excluded": changed], in: db)
            }
            return changed
        }
    }
}
