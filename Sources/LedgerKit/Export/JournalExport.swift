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

/// What an export wrote.
public struct ExportSummary: Equatable, Sendable {
    /// How many transactions were written.
    public let transactions: Int
    /// How many stored texts (names, numbers, memos, dates…) held bytes that are
    /// not UTF-8, which were written as U+FFFD (�): the export is whole, but
    /// those texts are not quite what the file holds.
    public let textsNotUTF8: Int
}

/// Writes the whole book in a format other tools read, streaming: one
/// transaction in memory at a time.
public enum JournalExport {
    /// Exports the company file at `file` to `output` (a path, or nil for standard output).
    ///
    /// A file written to a path appears there only when complete.
    /// - Throws: `CompanyFileError`, `ExportError` (nothing is left at `output`).
    @discardableResult
    public static func export(file: String, format: ExportFormat, to output: String?, now: Date = Date()) throws
        -> ExportSummary
    {
        guard let given = output else {
            return try write(file: file, format: format, into: FileHandle.standardOutput, now: now)
        }
        // The file a link names is written, and the link kept.
        let output = AtomicFile.resolvedTarget(of: given)
        try refuseDatabase(at: output, shown: given)
        let temporary = AtomicFile.temporaryPath(beside: output, purpose: "export")
        // Made 0600 from the start (the books are in it), never through a link.
        let descriptor: Int32
        do {
            descriptor = try PrivateFile.opened(at: temporary)
        } catch let error as SystemCallError {
            throw ExportError.cannotWrite(path: given, reason: error.reason)
        }
        defer { unlink(temporary) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        let summary: ExportSummary
        do {
            summary = try write(file: file, format: format, into: handle, now: now)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        do {
            try AtomicFile.replace(output, with: temporary, database: false)
        } catch let error as SystemCallError {
            throw ExportError.cannotWrite(path: given, reason: error.reason)
        }
        return summary
    }

    /// Refuses an output that is an SQLite database (the company file itself,
    /// or another): an export replaces what is at `--out`, and a slip of the
    /// command line must not turn books into a CSV file.
    private static func refuseDatabase(at output: String, shown: String) throws {
        guard FileHeader.holdsDatabase(output) else { return }
        throw ExportError.cannotWrite(
            path: shown,
            reason: "it is an SQLite database (a company file?), which an export never replaces; choose another --out")
    }

    /// One transaction's own columns, read once for all its splits.
    private struct Header {
        let id: Int64
        let date: String
        let kind: String?
        let number: String?
        let memo: String?
        let payee: String?
    }

    private static func write(file: String, format: ExportFormat, into handle: FileHandle, now: Date) throws
        -> ExportSummary
    {
        var out = BufferedOutput(handle: handle)
        return try CompanyFile.read(file) { db in
            // Refused before a line is written, so that standard output gets nothing either.
            try AmountCheck.refuseInvalid(db, path: file)
            try OrphanCheck.refuse(db, path: file)
            var text = StoredText()
            let company = try Row.fetchOne(
                db, sql: "SELECT CAST(currency AS BLOB) AS currency FROM company WHERE id = 1")
            let currency = text.read(company, "currency") ?? "USD"
            let accounts = try ExportAccounts.read(db, text: &text)
            if format == .hledger {
                try out.write(
                    "; The books of \(URL(fileURLWithPath: file).lastPathComponent), exported by ledger on \(Timestamp.string(from: now)).\n"
                )
                try out.write("commodity 1000.00 \(currency)\n\n")
                for account in accounts.declared {
                    try out.write("account \(account.name)  ; type: \(hledgerType(account.type ?? ""))\n")
                }
            } else {
                try out.write(
                    "date,transaction_id,kind,number,payee,account,account_number,amount,currency,memo,cleared\n")
            }
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT t.id, s.id AS split_id, CAST(t.date AS BLOB) AS date, CAST(t.kind AS BLOB) AS kind,
                           CAST(t.number AS BLOB) AS number, CAST(t.memo AS BLOB) AS transaction_memo,
                           CAST(p.name AS BLOB) AS payee, s.account_id, s.amount, CAST(s.memo AS BLOB) AS split_memo,
                           CAST(s.cleared AS BLOB) AS cleared
                    FROM transactions t JOIN splits s ON s.transaction_id = t.id LEFT JOIN parties p ON p.id = t.party_id
                    ORDER BY t.date, t.id, s.id
                    """)
            var current: Header?
            // No sum of splits overflows an Int128.
            var sum: Int128 = 0
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
                if id != current?.id {
                    if let current, sum != 0 { throw ExportError.unbalanced(path: file, transaction: current.id) }
                    let header = Header(
                        id: id, date: text.read(row, "date") ?? "", kind: text.read(row, "kind"),
                        number: text.read(row, "number"), memo: text.read(row, "transaction_memo"),
                        payee: text.read(row, "payee"))
                    current = header
                    sum = 0
                    count += 1
                    if format == .hledger { try out.write(hledgerHeader(header)) }
                }
                guard let header = current else { continue }
                sum += Int128(amount)
                let account = accounts.account(for: row.stored("account_id"))
                let money = Money(cents: amount).formatted(grouping: false)
                let splitMemo = text.read(row, "split_memo")
                switch format {
                case .hledger:
                    let memo = splitMemo.map { "  ; " + oneLine($0) } ?? ""
                    try out.write("    \(account.name)  \(money) \(currency)\(memo)\n")
                case .csv:
                    // A transaction without a party names its payee in its memo (as the bank feed books
                    // them); with a party, its memo is the memo of splits that have none of their own.
                    let fields = [
                        csvText(header.date), String(id), csvText(header.kind), csvText(header.number),
                        csvText(header.payee ?? header.memo), csvText(account.name), csvText(account.number), money,
                        csvText(currency), csvText(splitMemo ?? (header.payee == nil ? nil : header.memo)),
                        csvText(text.read(row, "cleared")),
                    ]
                    try out.write(fields.map(Quoting.csvField).joined(separator: ",") + "\n")
                }
            }
            if let current, sum != 0 { throw ExportError.unbalanced(path: file, transaction: current.id) }
            if format == .hledger && text.notUTF8 > 0 {
                try out.write(
                    "\n; \(text.notUTF8) stored text\(text.notUTF8 == 1 ? "" : "s") held bytes that are not UTF-8, written here as U+FFFD.\n"
                )
            }
            try out.flush()
            return ExportSummary(transactions: count, textsNotUTF8: text.notUTF8)
        }
    }

    /// "2025-01-02 (1043) Acme Supply  ; memo".
    private static func hledgerHeader(_ header: Header) -> String {
        let kind = header.kind.flatMap(TransactionKind.init(rawValue:))?.displayName ?? "Transaction"
        let code = header.number.map { " (" + oneLine($0).replacingOccurrences(of: ")", with: "]") + ")" } ?? ""
        let description = oneLine(header.payee ?? header.memo ?? kind).replacingOccurrences(of: ";", with: ",")
        let comment = header.memo.map { header.payee == nil ? "" : "  ; " + oneLine($0) } ?? ""
        return "\n\(oneLine(header.date))\(code) \(description)\(comment)\n"
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

    /// Text as a CSV field may hold it: text a spreadsheet would take for a formula
    /// (a leading =, +, -, @, tab or carriage return) gets a leading ', as OWASP's
    /// advice on CSV injection has it. Only text: the amount column keeps its minus.
    static func csvText(_ text: String?) -> String {
        guard let text else { return "" }
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
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
