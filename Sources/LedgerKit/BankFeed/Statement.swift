import Foundation

/// One line of a bank or card statement, as the ledger sees it.
public struct StatementLine: Sendable, Equatable, Codable {
    /// The bank's own id of the line (OFX FITID).
    public var fitid: String
    /// `YYYY-MM-DD`.
    public var posted: String
    /// Cents: deposits and card payments > 0, withdrawals and charges < 0.
    public var amount: Int64
    public var payee: String?
    public var memo: String?
    /// Where it starts in the statement file (1-based), for messages.
    public var line: Int
}

/// A line of the statement that cannot be imported, and why.
public struct RejectedLine: Sendable, Equatable, Codable {
    public var line: Int
    public var reason: String
}

/// What a statement file holds.
public struct BankStatement: Sendable, Equatable {
    /// A statement's ledger balance (OFX LEDGERBAL) and its day.
    public struct Balance: Sendable, Equatable {
        public var amount: Int64
        /// `YYYY-MM-DD`.
        public var date: String
    }

    public var lines: [StatementLine] = []
    public var rejected: [RejectedLine] = []
    /// The statement's ledger balance, if it gives one.
    public var ledgerBalance: Balance?
    /// ISO 4217 (OFX CURDEF), if given.
    public var currency: String?
}

/// How amounts in a statement are written.
public struct AmountStyle: Sendable {
    /// `12,34` means twelve and 34 cents (and `.` is not allowed).
    public var decimalComma: Bool

    public init(decimalComma: Bool = false) {
        self.decimalComma = decimalComma
    }

    /// Cents from "-1234.56", "+12", "12.5"; a reason when the text is not an amount.
    func cents(_ text: String) -> Result<Int64, AmountError> {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if let sign = body.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        let separator: Character = decimalComma ? "," : "."
        let other: Character = decimalComma ? "." : ","
        if body.contains(other) {
            return .failure(AmountError(text: text, reason: decimalComma
                ? "has a '.' but --decimal-comma says ',' separates the cents"
                : "uses a comma as its decimal separator; if the bank writes 12,34 for twelve and 34 cents, import with --decimal-comma"))
        }
        let parts = body.split(separator: separator, omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty || parts.count == 2,
              whole.allSatisfy(\.isASCIIDigit), whole.count <= 15 else {
            return .failure(AmountError(text: text, reason: "is not an amount"))
        }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.allSatisfy(\.isASCIIDigit), !(parts.count == 2 && fraction.isEmpty && whole.isEmpty) else {
            return .failure(AmountError(text: text, reason: "is not an amount"))
        }
        while fraction.count > 2 && fraction.hasSuffix("0") { fraction.removeLast() }
        guard fraction.count <= 2 else {
            return .failure(AmountError(text: text, reason: "has fractions of a cent"))
        }
        fraction += String(repeating: "0", count: 2 - fraction.count)
        let cents = (Int64(whole.isEmpty ? "0" : String(whole)) ?? 0) * 100 + (Int64(fraction) ?? 0)
        return .success(negative ? -cents : cents)
    }
}

struct AmountError: Error {
    let text: String
    let reason: String

    var message: String { "the amount '\(text)' \(reason)" }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// Why a statement could not be read at all.
public enum StatementError: LocalizedError, Equatable, Sendable {
    case unreadable(path: String)
    case notAStatement(path: String, reason: String)
    case badOption(String)

    public var errorDescription: String? {
        switch self {
        case .unreadable(let path):
            return "Cannot read the statement \(path). Check the path and that the file is readable."
        case .notAStatement(let path, let reason):
            return "\(path) is not a statement ledger can read: \(reason)."
        case .badOption(let reason):
            return reason
        }
    }
}

/// Bytes of a statement as text: UTF-8 when they are, else Windows-1252 (which
/// Latin-1 is a part of), the encodings banks' files declare.
func statementText(_ data: Data) -> String {
    if let text = String(data: data, encoding: .utf8) { return text }
    return String(data: data, encoding: .windowsCP1252) ?? String(decoding: data, as: UTF8.self)
}
