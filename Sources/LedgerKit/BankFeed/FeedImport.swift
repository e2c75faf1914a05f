import Foundation
import GRDB

/// Why a bank-feed command could not do its work. The file is unchanged in every case.
public enum FeedError: LocalizedError, Equatable, Sendable {
    case unknownAccount(name: String, known: [String])
    case wrongAccountType(name: String, type: String, wanted: String)
    case needsRebuild(path: String, reason: String)
    case unknownLines([Int64])
    case lineAdded(line: Int64, transaction: Int64)
    case currency(statement: String, company: String)

    public var errorDescription: String? {
        switch self {
        case .unknownAccount(let name, let known):
            return "There is no account '\(name)'. Give its name as the trial balance shows it, or its number"
                + (known.isEmpty ? "." : "; accounts of the kind needed: \(known.joined(separator: ", ")).")
        case .wrongAccountType(let name, let type, let wanted):
            return "'\(name)' is a \(type.replacingOccurrences(of: "_", with: " ")) account; \(wanted)."
        case .needsRebuild(let path, let reason):
            return "\(path) \(reason). Run 'ledger verify \(path)', then 'ledger rebuild \(path)', and try again."
        case .unknownLines(let ids):
            return "There is no bank feed line \(ids.map(String.init).joined(separator: ", ")); 'ledger feed FILE' lists them."
        case .lineAdded(let line, let transaction):
            return "Bank feed line \(line) was added to the books as transaction \(transaction); excluding it now would leave that transaction behind."
        case .currency(let statement, let company):
            return "The statement is in \(statement) and the company's books are in \(company); a company file holds one currency, so nothing was imported."
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
    static func find(_ name: String, in db: Database, types: Set<AccountType>? = nil, wanted: String = "") throws -> AccountMatch {
        let rows = try Row.fetchAll(db, sql: AccountNames.sql)
        let wantedName = name.trimmingCharacters(in: .whitespaces)
        func leaf(_ full: String) -> String { String(full.split(separator: ":").last ?? "") }
        var found = rows.filter { ($0["full_name"] as String).caseInsensitiveCompare(wantedName) == .orderedSame }
        if found.isEmpty { found = rows.filter { ($0["number"] as String?) == wantedName } }
        if found.isEmpty { found = rows.filter { leaf($0["full_name"]).caseInsensitiveCompare(wantedName) == .orderedSame } }
        let candidates = rows.filter { types?.contains(AccountType(rawValue: $0["type"]) ?? .expense) ?? true }
            .map { $0["full_name"] as String }.sorted()
        guard found.count == 1, let row = found.first, let type = AccountType(rawValue: row["type"]) else {
            throw FeedError.unknownAccount(name: wantedName, known: Array(candidates.prefix(12)))
        }
        if let types, !types.contains(type) {
            throw FeedError.wrongAccountType(name: row["full_name"], type: type.rawValue, wanted: wanted)
        }
        return AccountMatch(id: row["id"], name: row["full_name"], type: type)
    }
}

/// What an import did.
public struct ImportReport: Codable, Sendable {
    public let file: String
    public let statement: String
    public let account: String
    public let added: Int
    /// Lines whose FITID the account's feed already had (or that the file repeats).
    public let alreadyPresent: Int
    /// Lines that cannot be imported; when there are any, nothing was added.
    public let rejected: [RejectedLine]
    /// The statement's ledger balance against the books, when the statement gives one.
    public let balanceCheck: BalanceCheck?

    public struct BalanceCheck: Codable, Sendable {
        public let date: String
        public let statement: Int64
        public let books: Int64
        public var agrees: Bool { statement == books }
    }

    enum CodingKeys: String, CodingKey {
        case file, statement, account, added, alreadyPresent = "already_present", rejected, balanceCheck = "balance_check"
    }
}

/// Brings a bank's statement into the company file's bank feed (SPEC §1, `bank_feed`).
public enum FeedImport {
    /// Adds the lines of `statement` to the feed of `account`, status `new`, in
    /// one write transaction: a line whose FITID the account already has is
    /// counted and skipped, and a statement with a rejected line adds nothing.
    /// - Throws: `CompanyFileError`, `FeedError`.
    public static func run(file: String, statement: BankStatement, from statementPath: String, account: String,
                           now: Date = Date()) throws -> ImportReport {
        let company = try CompanyFile.open(file, mode: .readWrite)
        defer { try? company.database.close() }
        return try company.database.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'index' AND name = 'bank_feed_fitid'") == true else {
                throw FeedError.needsRebuild(path: file, reason: "has lost the index that keeps bank lines from being imported twice")
            }
            let books = try String.fetchOne(db, sql: "SELECT currency FROM company WHERE id = 1") ?? "USD"
            if let currency = statement.currency?.uppercased(), currency != books {
                throw FeedError.currency(statement: currency, company: books)
            }
            let target = try AccountLookup.find(account, in: db, types: [.bank, .creditCard, .otherCurrentAsset],
                                                wanted: "bank lines go to a bank, credit card or other current asset account")
            var balanceCheck: ImportReport.BalanceCheck?
            if let balance = statement.ledgerBalance {
                let books = try Int64.fetchOne(db, sql: """
                    SELECT COALESCE(SUM(s.amount), 0) FROM splits s JOIN transactions t ON t.id = s.transaction_id
                    WHERE s.account_id = ? AND t.date <= ?
                    """, arguments: [target.id, balance.date]) ?? 0
                balanceCheck = ImportReport.BalanceCheck(date: balance.date, statement: balance.amount, books: books)
            }
            let name = URL(fileURLWithPath: statementPath).lastPathComponent
            guard statement.rejected.isEmpty else {
                return ImportReport(file: file, statement: name, account: target.name, added: 0, alreadyPresent: 0,
                                    rejected: statement.rejected, balanceCheck: balanceCheck)
            }
            let insert = try db.makeStatement(sql: """
                INSERT INTO bank_feed (account_id, fitid, posted_date, amount, payee, memo, status, transaction_id, downloaded_at)
                VALUES (?, ?, ?, ?, ?, ?, 'new', NULL, ?) ON CONFLICT (account_id, fitid) DO NOTHING
                """)
            let stamp = Timestamp.string(from: now)
            var added = 0
            for line in statement.lines {
                try insert.execute(arguments: [target.id, line.fitid, line.posted, line.amount, line.payee, line.memo, stamp])
                added += db.changesCount
            }
            let report = ImportReport(file: file, statement: name, account: target.name, added: added,
                                      alreadyPresent: statement.lines.count - added, rejected: [], balanceCheck: balanceCheck)
            try MaintenanceRecord.add("import", startedAt: now, outcome: "ok", summary: report, in: db)
            return report
        }
    }
}

/// Rows of `maintenance_runs` for commands other than rebuild.
enum MaintenanceRecord {
    static func add<T: Encodable>(_ command: String, startedAt: Date, outcome: String, summary: T, in db: Database) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try db.execute(sql: """
            INSERT INTO maintenance_runs (command, started_at, finished_at, outcome, summary) VALUES (?, ?, ?, ?, ?)
            """, arguments: [command, Timestamp.string(from: startedAt), Timestamp.string(from: Date()), outcome,
                             String(decoding: try encoder.encode(summary), as: UTF8.self)])
    }
}
