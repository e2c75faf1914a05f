import Foundation
import GRDB

/// The formats `ledger export` writes.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// An hledger journal: account declarations with their types, then every
    /// transaction with its postings.
    case hledger
    /// One row per split.
    case csv
}

/// Writes the whole book in a format other tools read, streaming: one
/// transaction in memory at a time.
public enum JournalExport {
    /// Exports the company file at `file` to `output` (a path, or nil for standard output).
    ///
    /// A file written to a path appears there only when complete.
    /// - Returns: how many transactions were written.
    /// - Throws: `CompanyFileError`, `ExportError` (nothing is left at `output`).
    @discardableResult
    public static func export(file: String, format: ExportFormat, to output: String?, now: Date = Date()) throws -> Int
    {
        guard let output else {
            return try write(file: file, format: format, into: FileHandle.standardOutput, now: now)
        }
        let temporary = AtomicFile.temporaryPath(beside: output, purpose: "export")
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: temporary)
        else {
            throw ExportError.cannotWrite(path: output, reason: "the file cannot be created")
        }
        defer { unlink(temporary) }
        let count: Int
        do {
            count = try write(file: file, format: format, into: handle, now: now)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        do {
            try AtomicFile.replace(output, with: temporary, database: false)
        } catch let error as SystemCallError {
            throw ExportError.cannotWrite(path: output, reason: error.reason)
        }
        return count
    }

    private static func write(file: String, format: ExportFormat, into handle: FileHandle, now: Date) throws -> Int {
        var out = BufferedOutput(handle: handle)
        return try CompanyFile.read(file) { db in
            // Refused before a line is written, so that standard output gets nothing either.
            try AmountCheck.refuseInvalid(db, path: file)
            try OrphanCheck.refuse(db, path: file)
            let currency = try String.fetchOne(db, sql: "SELECT currency FROM company WHERE id = 1") ?? "USD"
            var names: [Int64: (name: String, number: String?, type: String)] = [:]
            for row in try Row.fetchAll(db, sql: AccountNames.sql) {
                names[row["id"]] = (sanitizedAccount(row["full_name"]), row["number"], row["type"])
            }
            if format == .hledger {
                try out.write(
                    "; The books of \(URL(fileURLWithPath: file).lastPathComponent), exported by ledger on \(Timestamp.string(from: now)).\n"
                )
                try out.write("commodity 1000.00 \(currency)\n\n")
                for (_, account) in names.sorted(by: { $0.value.name < $1.value.name }) {
                    try out.write("account \(account.name)  ; type: \(hledgerType(account.type))\n")
                }
            } else {
                try out.write(
                    "date,transaction_id,kind,number,payee,account,account_number,amount,currency,memo,cleared\n")
            }
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT t.id, s.id AS split_id, t.date, t.kind, t.number, t.memo AS transaction_memo, p.name AS payee,
                           s.account_id, s.amount, s.memo AS split_memo, s.cleared
                    FROM transactions t JOIN splits s ON s.transaction_id = t.id LEFT JOIN parties p ON p.id = t.party_id
                    ORDER BY t.date, t.id, s.id
                    """)
            var current: Int64?
            var sum = CentsSum()
            var count = 0
            while let row = try rows.next() {
                guard let id = row.integer("id"), let split = row.integer("split_id") else {
                    throw CompanyFileError.damaged(path: file, detail: "a transaction or split has no row id")
                }
                let value = row.stored("amount")
                guard let amount = AmountCheck.cents(value) else {
                    throw ExportError.invalidAmounts(
                        path: file, splits: 1, first: split, transaction: String(id), value: value.described)
                }
                if id != current {
                    if let current, !sum.isZero { throw ExportError.unbalanced(path: file, transaction: current) }
                    current = id
                    sum = CentsSum()
                    count += 1
                    if format == .hledger { try out.write(hledgerHeader(row)) }
                }
                sum.add(amount)
                let accountID: Int64 = row["account_id"]
                let account = names[accountID] ?? ("Missing account \(accountID)", nil, "other_asset")
                let money = Money(cents: amount).formatted(grouping: false)
                switch format {
                case .hledger:
                    let memo = (row["split_memo"] as String?).map { "  ; " + oneLine($0) } ?? ""
                    try out.write("    \(account.name)  \(money) \(currency)\(memo)\n")
                case .csv:
                    // A transaction without a party names its payee in its memo (as the bank feed books
                    // them); with a party, its memo is the memo of splits that have none of their own.
                    let payee = row.value("payee", as: String.self)
                    let memo = row.value("transaction_memo", as: String.self)
                    let fields: [String?] = [
                        row["date"], String(id), row["kind"], row["number"], payee ?? memo,
                        account.name, account.number, money, currency,
                        row.value("split_memo", as: String.self) ?? (payee == nil ? nil : memo), row["cleared"],
                    ]
                    try out.write(fields.map { csvField($0 ?? "") }.joined(separator: ",") + "\n")
                }
            }
            if let current, !sum.isZero { throw ExportError.unbalanced(path: file, transaction: current) }
            try out.flush()
            return count
        }
    }

    /// "2025-01-02 (1043) Acme Supply  ; memo".
    private static func hledgerHeader(_ row: Row) -> String {
        let kind = (row["kind"] as String?).flatMap(TransactionKind.init(rawValue:))?.displayName ?? "Transaction"
        let code =
            (row["number"] as String?).map { " (" + oneLine($0).replacingOccurrences(of: ")", with: "]") + ")" } ?? ""
        let payee: String? = row["payee"]
        let memo: String? = row["transaction_memo"]
        let description = oneLine(payee ?? memo ?? kind).replacingOccurrences(of: ";", with: ",")
        let comment = memo.map { payee == nil ? "" : "  ; " + oneLine($0) } ?? ""
        return "\n\(row["date"] as String)\(code) \(description)\(comment)\n"
    }

    /// An hledger account name: no run of two spaces (which would end it), no
    /// leading bracket (which would make the posting virtual).
    static func sanitizedAccount(_ name: String) -> String {
        var text = oneLine(name).replacingOccurrences(of: "\t", with: " ")
        while text.contains("  ") { text = text.replacingOccurrences(of: "  ", with: " ") }
        text = text.trimmingCharacters(in: .whitespaces)
        if let first = text.first, "([".contains(first) { text = "_" + text }
        return text.isEmpty ? "Unnamed" : text
    }

    private static func hledgerType(_ type: String) -> String {
        switch AccountType(rawValue: type) {
        case .bank, .accountsReceivable, .otherCurrentAsset, .fixedAsset, .otherAsset: return "A"
        case .accountsPayable, .creditCard, .otherCurrentLiability, .longTermLiability: return "L"
        case .equity: return "E"
        case .income, .otherIncome: return "R"
        case .costOfGoodsSold, .expense, .otherExpense, nil: return "X"
        }
    }

    private static func oneLine(_ text: String) -> String {
        text.components(separatedBy: .newlines).joined(separator: " ")
    }

    private static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Text written in 64 KiB pieces.
struct BufferedOutput {
    let handle: FileHandle
    private var buffer = Data()

    init(handle: FileHandle) {
        self.handle = handle
        buffer.reserveCapacity(1 << 16)
    }

    mutating func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
