import Foundation
import GRDB

/// Why a bank-feed command could not do its work. The file is unchanged in every case.
public enum FeedError: LocalizedError, Equatable, Sendable {
    /// No account has the name or number a person gave; `known` lists those of the kind needed.
    case unknownAccount(name: String, file: String, known: [String])
    /// The account named is of a type the command cannot use; `wanted` says which it needs.
    case wrongAccountType(name: String, type: String, wanted: String)
    /// The file has damage the command cannot work around (`reason` says what): rebuild it first.
    case needsRebuild(path: String, reason: String)
    /// No bank feed line has these ids.
    case unknownLines([Int64])
    /// `feed exclude` of a line added to the books, whose transaction would be left behind.
    case lineAdded(line: Int64, transaction: String, file: String)
    /// `feed add` of a line that is not new; `transaction` names the one it is linked to.
    case lineNotNew(line: Int64, status: String, file: String, transaction: String?)
    /// `feed add` told to book a line's other side to the line's own account.
    case sameAccount(line: Int64, account: String)
    /// `feed unmatch` of a line that is neither matched nor added.
    case notLinked(line: Int64, status: String)
    /// `feed include` of a line that is matched or added.
    case notExcluded(line: Int64, status: String)
    /// The statement's currency is not the books'.
    case currency(statement: String, company: String)
    /// A file of several statements without an account for each.
    case severalStatements(file: String, statements: [String], example: String)
    /// A brokerage's investment statement, which ledger does not import.
    case investment(statement: String)
    /// A card statement for a bank account or the reverse, without `--force`.
    case kindMismatch(statement: String, account: String, type: String)
    /// An `ACCTID=NAME` for an account number the file has no statement of.
    case unknownStatement(accountID: String, known: [String])
    /// Adding line `line` would take `account`'s cached balance past `Money.limit`.
    case balanceTooLarge(line: Int64, amount: Int64, account: String, file: String)

    /// What is wrong and how to put it right, in a bookkeeper's words.
    public var errorDescription: String? {
        switch self {
        case .unknownAccount(let name, let file, let known):
            return
                "There is no account '\(name)'. Give its full name or its number as 'ledger accounts \(file)' lists them"
                + (known.isEmpty ? "." : "; accounts of the kind needed: \(known.joined(separator: ", ")).")
        case .wrongAccountType(let name, let type, let wanted):
            return "'\(name)' is a \(type.replacingOccurrences(of: "_", with: " ")) account; \(wanted)."
        case .needsRebuild(let path, let reason):
            return "\(path) \(reason). Run 'ledger verify \(path)', then 'ledger rebuild \(path)', and try again."
        case .unknownLines(let ids):
            return
                "There is no bank feed line \(ids.map(String.init).joined(separator: ", ")); 'ledger feed FILE' lists them."
        case .lineAdded(let line, let transaction, let file):
            return
                "Bank feed line \(line) was added to the books as \(transaction); excluding it now would leave that transaction behind. Undo the add first with 'ledger feed unmatch \(file) \(line)'."
        case .lineNotNew(let line, let status, let file, let transaction):
            switch status {
            case "matched":
                return
                    "Bank feed line \(line) is matched to \(transaction ?? "a transaction"); undo that first with 'ledger feed unmatch \(file) \(line)'."
            case "added":
                return
                    "Bank feed line \(line) was added to the books already, as \(transaction ?? "a transaction"); nothing was changed."
            case "excluded":
                return
                    "Bank feed line \(line) is excluded; take it back first with 'ledger feed include \(file) \(line)'."
            default:
                return
                    "Bank feed line \(line) has the status '\(status)', which is not one of new, matched, added, excluded. Run 'ledger verify \(file)'."
            }
        case .sameAccount(let line, let account):
            return
                "Bank feed line \(line) is a line of \(account) itself; name the account its other side goes to, such as \"Uncategorized Expense\"."
        case .notLinked(let line, let status):
            return
                "Bank feed line \(line) is \(status), not matched or added, so there is nothing to undo; nothing was changed."
        case .notExcluded(let line, let status):
            return
                "Bank feed line \(line) is \(status), not excluded; 'ledger feed unmatch' makes a matched or added line new again. Nothing was changed."
        case .currency(let statement, let company):
            return
                "The statement is in \(statement) and the company's books are in \(company); a company file holds one currency, so nothing was imported."
        case .severalStatements(let file, let statements, let example):
            return
                "\(file) holds \(statements.count) statements: \(statements.joined(separator: "; ")). Say which account each goes to, as in: \(example). Nothing was imported."
        case .investment(let statement):
            return
                "The \(statement) is a brokerage's investment statement; ledger imports bank and card statements only. Nothing was imported."
        case .kindMismatch(let statement, let account, let type):
            return
                "The \(statement) is not of a \(type.replacingOccurrences(of: "_", with: " ")) account like \(account); check --account, or import with --force if it is right. Nothing was imported."
        case .balanceTooLarge(let line, let amount, let account, let file):
            return
                "Adding bank feed line \(line) (\(Money(cents: amount))) would take the balance of \(account) past \(Money(cents: Money.limit)) either way, more than the books can hold; nothing was changed. Check the line against the bank's statement, and set it aside with 'ledger feed exclude \(file) \(line)' if it is wrong."
        case .unknownStatement(let accountID, let known):
            return
                "The file has no statement of account \(accountID); its statements are of \(known.joined(separator: ", ")). Nothing was imported."
        }
    }
}

/// An account found by the name a person typed.
struct AccountMatch {
    let id: Int64
    let name: String
    let type: AccountType
}

enum AccountLookup {
    /// The account `name` names: its full name, its own name if only one
    /// account has it, or its number; of one of `types` when given.
    static func find(_ name: String, in db: Database, file: String, types: Set<AccountType>? = nil, wanted: String = "")
        throws -> AccountMatch
    {
        let rows = try Row.fetchAll(db, sql: AccountNames.sql)
        let wantedName = name.trimmingCharacters(in: .whitespaces)
        func leaf(_ full: String) -> String { String(full.split(separator: ":").last ?? "") }
        var found = rows.filter { ($0["full_name"] as String).caseInsensitiveCompare(wantedName) == .orderedSame }
        if found.isEmpty { found = rows.filter { ($0["number"] as String?) == wantedName } }
        if found.isEmpty {
            found = rows.filter { leaf($0["full_name"]).caseInsensitiveCompare(wantedName) == .orderedSame }
        }
        let candidates = rows.filter { types?.contains(AccountType(rawValue: $0["type"]) ?? .expense) ?? true }
            .map { $0["full_name"] as String }.sorted()
        guard found.count == 1, let row = found.first, let type = AccountType(rawValue: row["type"]) else {
            throw FeedError.unknownAccount(name: wantedName, file: file, known: Array(candidates.prefix(12)))
        }
        if let types, !types.contains(type) {
            throw FeedError.wrongAccountType(name: row["full_name"], type: type.rawValue, wanted: wanted)
        }
        return AccountMatch(id: row["id"], name: row["full_name"], type: type)
    }
}

/// What an import did with one statement of the file.
public struct StatementImport: Codable, Sendable {
    /// "checking 1234567 at bank 021000021".
    public let name: String
    /// Bank, credit card or unknown (a CSV export).
    public let kind: BankStatement.Kind
    /// The account's number at the bank (ACCTID), when the file gives it.
    public let accountID: String?
    /// The ledger account it went to.
    public let account: String
    /// Lines added to the feed as `new`.
    public let added: Int
    /// Lines whose id the account's feed already had.
    public let alreadyPresent: Int
    /// Lines that repeat a line the feed had from another file: set aside as `excluded`.
    public let probableDuplicates: [ProbableDuplicate]
    /// Lines added under a bank id an earlier line of the feed has too (another day or amount).
    public let reusedIDs: [ReusedID]
    /// CSV rows that give a balance or a total, passed over.
    public let summaries: [RejectedLine]
    /// Lines without the bank's id, given one made from their content.
    public let madeIDs: Int
    /// Lines with fractions of a cent rounded to whole cents (`--round-cents`).
    public let rounded: Rounding
    /// Trailing lines left out as the file's footer (`--skip-footer`).
    public let skipped: [RejectedLine]
    /// Lines that cannot be imported; when any statement has some, nothing was added.
    public let rejected: [RejectedLine]
    /// The statement's ledger balance against the books, when it gives one.
    public let balanceCheck: ImportReport.BalanceCheck?
    /// How many lines of each kind the lists above leave out (`StatementLimits.listedLines`), when any.
    public var unlisted: BankStatement.Unlisted? = nil

    enum CodingKeys: String, CodingKey {
        case name, kind, unlisted
        case accountID = "account_id"
        case account, added
        case alreadyPresent = "already_present"
        case madeIDs = "made_ids"
        case rounded, skipped, rejected
        case balanceCheck = "balance_check"
        case probableDuplicates = "probable_duplicates"
        case reusedIDs = "reused_ids"
        case summaries
    }
}

/// What an import did.
public struct ImportReport: Codable, Sendable {
    /// The company file imported into, as given.
    public let file: String
    /// The statement file's name, without its folder.
    public let statement: String
    /// The ledger accounts the statements went to, in file order.
    public let account: String
    /// Lines added to the feed as `new`.
    public let added: Int
    /// Lines whose FITID the account's feed already had.
    public let alreadyPresent: Int
    /// Lines set aside as `excluded`: each repeats a line the feed had from another file.
    public let probableDuplicates: [ProbableDuplicate]
    /// Lines added under a bank id an earlier line of the feed has too (another day or amount).
    public let reusedIDs: [ReusedID]
    /// Lines that cannot be imported; when there are any, nothing was added.
    public let rejected: [RejectedLine]
    /// How many lines cannot be imported in all, `rejected` and those past what a statement lists.
    public var rejectedCount: Int { rejected.count + statements.reduce(0) { $0 + ($1.unlisted?.rejected ?? 0) } }
    /// The statement's ledger balance against the books, for a file of one statement.
    public let balanceCheck: BalanceCheck?
    /// Each statement of the file, in order.
    public let statements: [StatementImport]

    /// A statement's ledger balance against the books' balance on its day.
    public struct BalanceCheck: Codable, Sendable {
        /// The statement's day, `YYYY-MM-DD`.
        public let date: String
        /// The balance the statement gives, in cents.
        public let statement: Int64
        /// The account's balance in the books on that day, in cents.
        public let books: Int64
        /// Whether the books agree with the bank.
        public var agrees: Bool { statement == books }
    }

    enum CodingKeys: String, CodingKey {
        case file, statement, account, added
        case alreadyPresent = "already_present"
        case rejected
        case balanceCheck = "balance_check"
        case statements
        case probableDuplicates = "probable_duplicates"
        case reusedIDs = "reused_ids"
    }

    init(file: String, statement: String, statements: [StatementImport]) {
        self.file = file
        self.statement = statement
        self.statements = statements
        account = statements.map(\.account).joined(separator: ", ")
        added = statements.reduce(0) { $0 + $1.added }
        alreadyPresent = statements.reduce(0) { $0 + $1.alreadyPresent }
        probableDuplicates = statements.flatMap(\.probableDuplicates)
        reusedIDs = statements.flatMap(\.reusedIDs)
        rejected = statements.flatMap(\.rejected)
        balanceCheck = statements.count == 1 ? statements[0].balanceCheck : nil
    }
}

/// Which ledger account each statement of a file goes to: `--account NAME`
/// for a file of one statement, `--account ACCTID=NAME` for each of several.
public struct AccountChoice: Sendable {
    /// Ledger account names by the bank's account number (ACCTID).
    public var byAccountID: [String: String] = [:]
    /// The account for a statement no `ACCTID=` names.
    public var plain: String?

    /// From `--account` values: `ACCTID=NAME` where ACCTID is one of `accountIDs`, else a plain name.
    public init(_ values: [String], accountIDs: [String]) {
        for value in values {
            if let equals = value.firstIndex(of: "="), accountIDs.contains(String(value[..<equals])) {
                byAccountID[String(value[..<equals])] = String(value[value.index(after: equals)...])
            } else {
                plain = value
            }
        }
    }

    /// Every statement of the file to `account`.
    public init(account: String) {
        plain = account
    }
}

/// Brings a bank's statements into the company file's bank feed (docs/company-file.md, `bank_feed`).
public enum FeedImport {
    /// Adds the lines of one statement to the feed of `account`.
    public static func run(
        file: String, statement: BankStatement, from statementPath: String, account: String,
        force: Bool = false, wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()
    ) throws -> ImportReport {
        try run(
            file: file, statements: StatementFile(statements: [statement]), from: statementPath,
            accounts: AccountChoice(account: account), force: force, wait: wait, now: now)
    }

    /// Adds the lines of every statement of a file, read into memory, to the feed of its
    /// account, as `run(file:statements:lines:from:accounts:force:wait:now:)` does.
    public static func run(
        file: String, statements: StatementFile, from statementPath: String, accounts: AccountChoice,
        force: Bool = false, wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()
    ) throws -> ImportReport {
        var counted = statements
        for index in counted.statements.indices {
            var span = LineSpan()
            for line in counted.statements[index].lines { span.add(line.posted) }
            counted.statements[index].span = span
        }
        let spool = try StatementSpool()
        try spool.fill(with: statements)
        return try run(
            file: file, statements: counted, lines: spool, from: statementPath, accounts: accounts, force: force,
            wait: wait, now: now)
    }

    /// Adds the lines of every statement of a file to the feed of its account,
    /// status `new`, in one write transaction: a line the account already has
    /// (its id, day and amount, `FeedIDs`) is counted and skipped; a line under
    /// an id the feed has for another line is added as its own and listed as a
    /// `ReusedID`; a line that agrees on day and amount
    /// with a line the account had before this import is added `excluded` as a
    /// `ProbableDuplicate`; a file with a rejected line adds nothing. A check
    /// number is kept in the line's memo (`CheckNumber`). The lines are read
    /// from `spool`, where a reader put them (`CSVReader.read(path:mapping:style:into:)`,
    /// `OFXReader.readFile(path:style:into:)`), and added as they are read.
    /// - Throws: `CompanyFileError`, `FeedError` (several statements without a
    ///   mapping, an investment statement, a card statement for a bank account
    ///   or the reverse without `force`, another currency).
    public static func run(
        file: String, statements: StatementFile, lines spool: StatementSpool, from statementPath: String,
        accounts: AccountChoice, force: Bool = false, wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()
    ) throws -> ImportReport {
        let name = URL(fileURLWithPath: statementPath).lastPathComponent
        if let investment = statements.statements.first(where: { $0.kind == .investment }) {
            throw FeedError.investment(statement: investment.name)
        }
        let ids = statements.statements.compactMap(\.accountID)
        for id in accounts.byAccountID.keys where !ids.contains(id) {
            throw FeedError.unknownStatement(accountID: id, known: ids)
        }
        // Each statement's account: by its ACCTID, or the one name for a file of one statement.
        let targets = try statements.statements.map { statement -> String in
            if let id = statement.accountID, let mapped = accounts.byAccountID[id] { return mapped }
            if statements.statements.count == 1, let plain = accounts.plain ?? accounts.byAccountID.values.first {
                return plain
            }
            throw FeedError.severalStatements(
                file: name,
                statements: statements.statements.map {
                    "\($0.name), \($0.span.count) lines" + ($0.span.dates.map { ", \($0)" } ?? "")
                },
                example: "ledger import FILE \(name) "
                    + statements.statements.enumerated().map { index, statement in
                        "--account \(statement.accountID ?? "ACCTID")=\"\(statement.kind == .creditCard ? "Credit Card" : index == 0 ? "Checking" : "Savings")\""
                    }.joined(separator: " "))
        }
        let company = try CompanyFile.open(file, mode: .readWrite, wait: wait)
        defer { try? company.database.close() }
        try spool.close()
        try company.database.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS spool", arguments: [spool.path])
            try db.execute(sql: "PRAGMA spool.journal_mode = OFF; PRAGMA spool.cache_size = -4096")
        }
        return try company.write { db in
            var statements = statements
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'index' AND name = 'bank_feed_fitid'")
                    == true
            else {
                throw FeedError.needsRebuild(
                    path: file, reason: "has lost the index that keeps bank lines from being imported twice")
            }
            let books = try String.fetchOne(db, sql: "SELECT currency FROM company WHERE id = 1") ?? "USD"
            var matches: [AccountMatch] = []
            for (statement, target) in zip(statements.statements, targets) {
                if let currency = statement.currency?.uppercased(), currency != books {
                    throw FeedError.currency(statement: currency, company: books)
                }
                let match = try AccountLookup.find(
                    target, in: db, file: file, types: FeedBook.feedAccountTypes,
                    wanted: "bank lines go to a bank, credit card or other current asset account")
                // A card statement belongs in a card account, a bank statement in a bank account.
                let fits =
                    switch statement.kind {
                    case .creditCard: match.type == .creditCard
                    case .bank: match.type != .creditCard
                    case .investment, .unknown: true
                    }
                if !fits && !force {
                    throw FeedError.kindMismatch(
                        statement: statement.name, account: match.name, type: match.type.rawValue)
                }
                matches.append(match)
            }
            // A line in another currency than the books' would be stored as so many of the books' cents.
            let foreign = try Row.fetchCursor(
                db,
                sql: "SELECT statement, line, amount, currency FROM spool.line WHERE currency IS NOT NULL ORDER BY seq")
            var withForeign: Set<Int> = []
            while let row = try foreign.next() {
                guard let index = row.integer("statement").map(Int.init), statements.statements.indices.contains(index),
                    let currency = row.text("currency"), !StatementLine.currency(currency, canBe: books)
                else { continue }
                statements.statements[index].reject(
                    RejectedLine(
                        line: row.integer("line").map(Int.init) ?? 0,
                        reason:
                            "its amount \(Money(cents: row.integer("amount") ?? 0)) is in \(currency) and the company's books are in \(books): "
                            + "a company file holds one currency; leave this line out of the file and enter it by hand "
                            + "in \(books), at the rate the bank used"))
                withForeign.insert(index)
            }
            for index in withForeign { statements.statements[index].rejected.sort { $0.line < $1.line } }
            let rejectedAny = statements.statements.contains { !$0.rejected.isEmpty || $0.unlisted.rejected > 0 }
            // A unique index conflict here would be a line lost: FeedIDs gives every new line a free id.
            let insert = try db.makeStatement(
                sql: """
                    INSERT INTO bank_feed (account_id, fitid, posted_date, amount, payee, memo, status, transaction_id, downloaded_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)
                    """)
            // Lines up to this id were there before this import: only they can be another file's.
            let lastBefore = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM bank_feed") ?? 0
            let stamp = Timestamp.string(from: now)
            // Every line of the file going to one account is placed at once: two statements of one
            // file (two bank accounts) sent to one ledger account may give one id to two lines.
            var placing: [Int64: (ids: FeedIDs, originals: FeedOriginals)] = [:]
            if !rejectedAny {
                // For the ids of repeats (`FeedIDs.id(for:in:)`): whether a line of the file names one itself.
                try db.execute(sql: "CREATE INDEX IF NOT EXISTS spool.line_fitid ON line (fitid, statement)")
                for account in Set(matches.map(\.id)) {
                    let indices = matches.indices.filter { matches[$0].id == account }
                    let ids = try FeedIDs(db, account: account, statements: indices, lastBefore: lastBefore)
                    // A line the feed has already is no other line's original.
                    let originals = try FeedOriginals(db, account: account, lastID: lastBefore, statements: indices)
                    placing[account] = (ids, originals)
                }
            }
            var reports: [StatementImport] = []
            for (index, (statement, target)) in zip(statements.statements, matches).enumerated() {
                var balanceCheck: ImportReport.BalanceCheck?
                if let balance = statement.ledgerBalance {
                    let books =
                        try Int64.fetchOne(
                            db,
                            sql: """
                                SELECT COALESCE(SUM(\(ValueRule.summable("s.amount"))), 0) FROM splits s JOIN transactions t ON t.id = s.transaction_id
                                WHERE s.account_id = ? AND t.date <= ?
                                """, arguments: [target.id, balance.date])
                        ?? 0
                    balanceCheck = ImportReport.BalanceCheck(
                        date: balance.date, statement: balance.amount, books: books)
                }
                var added = 0
                var alreadyPresent = 0
                var duplicates: [ProbableDuplicate] = []
                var reused: [ReusedID] = []
                if !rejectedAny, let (ids, originals) = placing[target.id] {
                    let lines = try Row.fetchCursor(
                        db,
                        sql: """
                            SELECT l.fitid, l.posted, l.amount, l.payee, l.memo, l.line, l.check_number, p.feed_id
                            FROM spool.line l LEFT JOIN spool.present p ON p.seq = l.seq
                            WHERE l.statement = ? ORDER BY l.seq
                            """, arguments: [index])
                    while let row = try lines.next() {
                        guard row.integer("feed_id") == nil else {
                            alreadyPresent += 1
                            continue
                        }
                        guard let bankID = row.text("fitid"), let posted = row.text("posted"),
                            let amount = row.integer("amount")
                        else { continue }
                        let payee = row.text("payee")
                        let (fitid, sharing) = try ids.id(for: bankID, in: db)
                        let memo = CheckNumber.memo(row.text("memo"), payee: payee, number: row.text("check_number"))
                        if let original = try originals.take(posted: posted, amount: amount) {
                            try insert.execute(arguments: [
                                target.id, fitid, posted, amount, payee,
                                ProbableDuplicate.memo(memo, original: original), "excluded", stamp,
                            ])
                            duplicates.append(
                                ProbableDuplicate(
                                    line: db.lastInsertedRowID, original: original, posted: posted,
                                    amount: amount, payee: payee))
                        } else {
                            try insert.execute(arguments: [
                                target.id, fitid, posted, amount, payee, memo, "new", stamp,
                            ])
                            added += 1
                        }
                        if let sharing {
                            reused.append(
                                ReusedID(
                                    line: db.lastInsertedRowID, fileLine: row.integer("line").map(Int.init) ?? 0,
                                    fitid: bankID, storedAs: fitid, posted: posted, amount: amount, payee: payee,
                                    original: sharing.id, originalPosted: sharing.posted,
                                    originalAmount: sharing.amount))
                        }
                    }
                }
                reports.append(
                    StatementImport(
                        name: statement.name, kind: statement.kind, accountID: statement.accountID,
                        account: target.name, added: added, alreadyPresent: alreadyPresent,
                        probableDuplicates: duplicates, reusedIDs: reused, summaries: statement.summaries,
                        madeIDs: statement.madeIDs, rounded: statement.rounded, skipped: statement.skipped,
                        rejected: statement.rejected, balanceCheck: balanceCheck,
                        unlisted: statement.unlisted.isEmpty ? nil : statement.unlisted))
            }
            let report = ImportReport(file: file, statement: name, statements: reports)
            if !rejectedAny {
                try MaintenanceRecord.add("import", startedAt: now, outcome: "ok", summary: report, in: db)
            }
            return report
        }
    }
}

/// Rows of `maintenance_runs` for commands other than rebuild.
enum MaintenanceRecord {
    static func add<T: Encodable>(_ command: String, startedAt: Date, outcome: String, summary: T, in db: Database)
        throws
    {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try add(
            command, startedAt: startedAt, outcome: outcome,
            summaryJSON: String(decoding: try encoder.encode(summary), as: UTF8.self), in: db)
    }

    /// With the summary already JSON text.
    static func add(_ command: String, startedAt: Date, outcome: String, summaryJSON: String, in db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO maintenance_runs (command, started_at, finished_at, outcome, summary) VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [
                command, Timestamp.string(from: startedAt), Timestamp.string(from: Date()), outcome, summaryJSON,
            ])
    }
}
