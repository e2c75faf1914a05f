import Crypto
import Foundation

/// One line of a bank or card statement, as the ledger sees it.
public struct StatementLine: Sendable, Equatable, Codable {
    /// The bank's own id of the line (OFX FITID), as the file gives it: a bank may
    /// give one id to several lines, which the import tells apart (`FeedIDs`).
    public var fitid: String
    /// `YYYY-MM-DD`.
    public var posted: String
    /// Cents: deposits and card payments > 0, withdrawals and charges < 0.
    public var amount: Int64
    /// The payee (OFX NAME or PAYEE), if given.
    public var payee: String?
    /// The memo (OFX MEMO), if given.
    public var memo: String?
    /// Where it starts in the statement file (1-based), for messages.
    public var line: Int
    /// The check's number (OFX CHECKNUM, a CSV's `--check-col`), when the line is a check.
    public var checkNumber: String? = nil
    /// The currency the line itself says its amount is in (OFX CURRENCY's CURSYM, a CSV
    /// amount's `€` or `EUR`): an ISO 4217 code, or `$` or `¥`, which several currencies
    /// write; nil when the line does not say.
    public var currency: String? = nil

    /// Whether the line's own currency, if it gives one, can be `books` (ISO 4217).
    func isIn(_ books: String) -> Bool { Self.currency(currency, canBe: books) }

    /// Whether a line whose own currency is `currency` (nil: it does not say) can be in `books`.
    static func currency(_ currency: String?, canBe books: String) -> Bool {
        guard let currency else { return true }
        switch currency {
        case "$": return Self.dollars.contains(books)
        case "¥": return books == "JPY" || books == "CNY"
        default: return currency.uppercased() == books
        }
    }

    /// Currencies written with `$`.
    private static let dollars: Set<String> = [
        "USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "TWD", "ARS", "CLP", "COP", "BSD", "BBD", "BZD", "BMD", "FJD",
        "JMD", "LRD", "NAD", "SBD", "SRD", "TTD", "XCD", "BND", "GYD", "KYD",
    ]
}

/// How much of a statement ledger holds at once: a bank's file is hostile
/// input of any size, so the readers stream it (README.md, *Bank feeds*).
public enum StatementLimits {
    /// The longest payee, memo, id or check number of one line, in UTF-8 bytes: 64 KiB.
    public static let fieldBytes = 64 << 10
    /// How many bytes a reader asks for at a time: 64 KiB.
    static let chunkBytes = 64 << 10
    /// The most bytes held while looking for a place to end a piece of text
    /// (`StatementCharacters`): 1 MiB.
    static let carryBytes = 1 << 20
    /// The most of one value (an OFX element's text, a CSV field) kept, in UTF-8 bytes:
    /// 1 MiB, past which it is cut, which `fieldBytes` rejects anyway.
    static let valueBytes = 1 << 20
    /// The most of one CSV row kept, in UTF-8 bytes (1 MiB), and of its fields (4,096): past them
    /// the row is rejected, not read.
    static let rowBytes = 1 << 20
    static let rowFields = 4_096
    /// The most OFX elements open inside one another: far more than any statement nests.
    static let depth = 1_000
    /// The most lines a statement lists as rejected, passed over or left out, each kind on its
    /// own: past it they are counted, so that a file of nothing but bad lines takes no more memory.
    static let listedLines = 1_000

    /// Why a line with these fields (name and value) cannot be imported, when one is longer than `fieldBytes`.
    static func overlong(_ fields: [(String, String?)]) -> String? {
        for (name, value) in fields {
            guard let count = value?.utf8.count, count > fieldBytes else { continue }
            return
                "its \(name) is \(count) bytes long, more than the \(fieldBytes) a line's \(name) may hold: "
                + "no bank writes one so long; download the file again or ask the bank"
        }
        return nil
    }
}

/// Ids for lines the bank gave none: a digest of a line's date, amount, payee
/// and memo and how many such lines came before it in its statement, so that
/// the same file gives the same ids and two equal lines two ids. The count of
/// each content is kept where the lines go (`StatementLines`), not in memory.
struct ContentIDs: Sendable, Equatable {
    let prefix: String

    /// The id of the next line with this content in statement `statement`.
    func next(
        posted: String, amount: Int64, payee: String?, memo: String?, statement: Int, counts: any StatementLines
    ) throws -> String {
        let key = [posted, String(amount), payee ?? "", memo ?? ""].joined(separator: "\u{1F}")
        let occurrence = try counts.occurrence(of: key, statement: statement)
        let digest = SHA256.hash(data: Data((key + "\u{1F}\(occurrence)").utf8))
        return prefix + "-" + digest.prefix(12).hex
    }
}

/// A line of the statement that cannot be imported, and why.
public struct RejectedLine: Sendable, Equatable, Codable {
    /// Where the line starts in the file (1-based).
    public var line: Int
    /// Why it cannot be imported, in a bookkeeper's words.
    public var reason: String
}

/// One statement of a statement file: one account's lines.
public struct BankStatement: Sendable, Equatable {
    /// A statement's ledger balance (OFX LEDGERBAL) and its day.
    public struct Balance: Sendable, Equatable {
        /// Cents, as the bank states it.
        public var amount: Int64
        /// `YYYY-MM-DD`.
        public var date: String
    }

    /// What kind of account the statement is of.
    public enum Kind: String, Sendable, Codable {
        /// OFX STMTRS: checking, savings, money market, a line of credit.
        case bank
        /// OFX CCSTMTRS.
        case creditCard = "credit_card"
        /// OFX INVSTMTRS: a brokerage's, which ledger does not import.
        case investment
        /// A CSV export, which does not say.
        case unknown
    }

    /// What kind of account the statement is of; `unknown` for a CSV export.
    public var kind: Kind = .unknown
    /// The bank's routing number (OFX BANKID), for bank statements.
    public var bankID: String?
    /// The account's number at the bank (OFX ACCTID).
    public var accountID: String?
    /// OFX ACCTTYPE: CHECKING, SAVINGS, MONEYMRKT, CREDITLINE, CD.
    public var accountType: String?
    /// The lines that can be imported, in file order.
    public var lines: [StatementLine] = []
    /// The lines that cannot, and why.
    public var rejected: [RejectedLine] = []
    /// The statement's ledger balance, if it gives one.
    public var ledgerBalance: Balance?
    /// ISO 4217 (OFX CURDEF), if given.
    public var currency: String?
    /// Lines that came without the bank's id, given one made from their content.
    public var madeIDs = 0
    /// How many lines can be imported, and their first and last day: `lines` holds
    /// them only when read into memory, a spool (`StatementSpool`) otherwise.
    var span = LineSpan()
    /// Lines with fractions of a cent rounded to whole cents (`--round-cents`).
    public var rounded = Rounding()
    /// Trailing lines that are not transactions, left out with `--skip-footer`.
    public var skipped: [RejectedLine] = []
    /// Rows of a CSV export that give a balance or a total ("Beginning balance as
    /// of 01/01/2026"), not a transaction: passed over and counted; the reason is the row's words.
    public var summaries: [RejectedLine] = []

    /// Lines past `StatementLimits.listedLines` of each kind, counted rather than listed.
    public var unlisted = Unlisted()

    /// How many lines a statement did not list, of each kind.
    public struct Unlisted: Sendable, Equatable, Codable {
        /// Lines that cannot be imported, past those in `rejected`.
        public var rejected = 0
        /// Balance and total rows passed over, past those in `summaries`.
        public var summaries = 0
        /// Footer lines left out, past those in `skipped`.
        public var skipped = 0

        /// Whether every line is listed.
        public var isEmpty: Bool { rejected == 0 && summaries == 0 && skipped == 0 }
    }

    /// An empty statement of unknown kind.
    public init() {}

    /// Lists `line` as one that cannot be imported, or counts it past the limit.
    mutating func reject(_ line: RejectedLine) {
        if rejected.count < StatementLimits.listedLines {
            rejected.append(line)
        } else {
            unlisted.rejected += 1
        }
    }

    /// Lists `line` as a balance or total row passed over, or counts it past the limit.
    mutating func pass(over line: RejectedLine) {
        if summaries.count < StatementLimits.listedLines {
            summaries.append(line)
        } else {
            unlisted.summaries += 1
        }
    }

    /// Lists `line` as the file's footer, left out, or counts it past the limit.
    mutating func leaveOut(_ line: RejectedLine) {
        if skipped.count < StatementLimits.listedLines {
            skipped.append(line)
        } else {
            unlisted.skipped += 1
        }
    }

    /// "checking 1234567 at bank 021000021", "card 4000…1234", "the statement".
    public var name: String {
        var words: [String] = []
        switch kind {
        case .bank: words.append(accountType?.lowercased() ?? "bank account")
        case .creditCard: words.append("card")
        case .investment: words.append("investment account")
        case .unknown: break
        }
        if let accountID { words.append(accountID) }
        if let bankID, kind == .bank { words.append("at bank \(bankID)") }
        return words.isEmpty ? "the statement" : words.joined(separator: " ")
    }
}

/// How many lines a statement has that can be imported, and their first and last day.
struct LineSpan: Sendable, Equatable {
    var count = 0
    var first: String?
    var last: String?

    mutating func add(_ posted: String) {
        count += 1
        if first.map({ posted < $0 }) ?? true { first = posted }
        if last.map({ posted > $0 }) ?? true { last = posted }
    }

    /// "2026-01-01 to 2026-01-31".
    var dates: String? {
        guard let first, let last else { return nil }
        return first == last ? first : "\(first) to \(last)"
    }
}

/// How many amounts were rounded to whole cents, and by how much in all.
public struct Rounding: Sendable, Equatable, Codable {
    /// How many amounts were rounded.
    public var lines = 0
    /// The sum of (rounded − as written), in cents, exactly.
    public var byCents: Decimal = 0

    enum CodingKeys: String, CodingKey {
        case lines
        case byCents = "by_cents"
    }
}

/// A statement file: one or more statements (several accounts in one download).
public struct StatementFile: Sendable, Equatable {
    /// The statements, in file order.
    public var statements: [BankStatement]

    /// A file of these statements.
    public init(statements: [BankStatement]) {
        self.statements = statements
    }
}

/// How amounts in a statement are written.
public struct AmountStyle: Sendable, Equatable {
    /// The character before the cents.
    public enum Separator: Character, Sendable {
        /// A point (`12.34`) or a comma (`12,34`).
        case point = "."
        case comma = ","
    }

    /// Nil: found from the file's own amounts (`detected(from:)`), else a point.
    public var decimal: Separator?
    /// Round amounts with fractions of a cent to whole cents, half to even.
    public var roundCents: Bool

    /// Amounts with `decimal` before the cents (found from the file when nil), rounded to cents only if told.
    public init(decimal: Separator? = nil, roundCents: Bool = false) {
        self.decimal = decimal
        self.roundCents = roundCents
    }

    /// `12,34` means twelve and 34 cents.
    public init(decimalComma: Bool) {
        self.init(decimal: decimalComma ? .comma : nil)
    }

    /// What an amount says.
    struct Parsed {
        var cents: Int64
        /// Rounded − as written, in cents (0 unless it had fractions of a cent).
        var rounding: Decimal
        /// The currency its sign or code says (`EUR` for `€`, `$` for `$`), if it has one.
        var currency: String? = nil
    }

    /// The same style with the decimal separator the file's amounts show, when
    /// the style does not say and the amounts agree: a separator followed by
    /// one or two digits is the decimal one; one that comes twice, or before
    /// the other, separates thousands. `1,120` alone says nothing.
    func detected(from texts: [String]) -> AmountStyle {
        var votes = Votes()
        for text in texts { votes.count(text) }
        return detected(by: votes)
    }

    /// The same style with the separator `votes` agree on, when the style does not say.
    func detected(by votes: Votes) -> AmountStyle {
        guard decimal == nil else { return self }
        var style = self
        if votes.marks.count == 1, let only = votes.marks.first { style.decimal = Separator(rawValue: only) }
        return style
    }

    /// What a file's amounts say of the decimal separator, counted one amount at a time.
    struct Votes: Sendable {
        /// The separators some amount shows before its cents.
        private(set) var marks: Set<Character> = []

        mutating func count(_ text: String) {
            let body = text.filter { $0.isASCIIDigit || $0 == "." || $0 == "," }
            guard let last = body.lastIndex(where: { $0 == "." || $0 == "," }) else { return }
            let mark = body[last]
            let other: Character = mark == "." ? "," : "."
            let digitsAfter = body.distance(from: body.index(after: last), to: body.endIndex)
            if body.contains(other) {
                marks.insert(mark)
            } else if body.filter({ $0 == mark }).count > 1 {
                marks.insert(other)
            } else if digitsAfter != 3 {
                marks.insert(mark)
            }
        }
    }

    /// Cents from an amount as banks write it: "-1,234.56", "1.234,56", "(12.00)",
    /// "12.00-", "$1,120.00", "+ $73.01", "€ 5"; a reason when it is not one.
    func cents(_ text: String) -> Result<Int64, AmountError> {
        parse(text).map(\.cents)
    }

    func parse(_ text: String) -> Result<Parsed, AmountError> {
        func failure(_ reason: String) -> Result<Parsed, AmountError> {
            .failure(AmountError(text: text, reason: reason))
        }
        // Spaces (also no-break and thin spaces) and apostrophes group digits or pad signs.
        var body = String(text.unicodeScalars.filter { !$0.properties.isWhitespace && $0 != "'" && $0 != "\u{2019}" })
        var negative = false
        // "(-12.00)", "--12", "-12-": two signs say nothing sure about the direction.
        var signs = 0
        if body.hasPrefix("("), body.hasSuffix(")") {
            negative = true
            signs += 1
            body = String(body.dropFirst().dropLast())
        }
        var stripping = true
        var symbols: [String] = []
        while stripping {
            stripping = false
            if let first = body.first, first == "-" || first == "+" || first == "\u{2212}" {
                negative = negative || first != "+"
                signs += 1
                body.removeFirst()
                stripping = true
            }
            if let last = body.last, last == "-" || last == "\u{2212}" {
                negative = true
                signs += 1
                body.removeLast()
                stripping = true
            }
            for symbol in ["$", "€", "£", "¥", "₹", "USD", "EUR", "GBP", "CAD", "AUD"] {
                if body.hasPrefix(symbol) {
                    body.removeFirst(symbol.count)
                    stripping = true
                    symbols.append(symbol)
                }
                if body.hasSuffix(symbol) {
                    body.removeLast(symbol.count)
                    stripping = true
                    symbols.append(symbol)
                }
            }
        }
        guard signs <= 1 else { return failure("has more than one sign") }
        if decimal == nil, let reason = Self.ambiguity(body) { return failure(reason) }
        let currencies = Set(symbols.map { Self.currencyOfSymbol[$0] ?? $0 })
        guard currencies.count <= 1 else { return failure("gives two currencies") }
        let separator = (decimal ?? .point).rawValue
        let thousands: Character = separator == "." ? "," : "."
        let parts = body.split(separator: separator, omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first else { return failure("is not an amount") }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        if fraction.contains(thousands) || whole.contains(thousands) && !Self.isGrouped(whole, by: thousands) {
            if decimal == nil && separator == "." && text.contains(",") {
                return failure(
                    "uses a comma as its decimal separator; if the bank writes 12,34 for twelve and 34 cents, import with --decimal-comma"
                )
            }
            return failure("is not an amount")
        }
        let digits = whole.filter { $0 != thousands }
        guard !digits.isEmpty || !fraction.isEmpty, digits.allSatisfy(\.isASCIIDigit),
            fraction.allSatisfy(\.isASCIIDigit),
            !(parts.count == 2 && fraction.isEmpty && digits.isEmpty)
        else {
            return failure("is not an amount")
        }
        guard digits.count <= 15 else { return failure("is too large") }
        while fraction.count > 2 && fraction.hasSuffix("0") { fraction.removeLast() }
        var rounding: Decimal = 0
        guard let units = Int64(digits.isEmpty ? "0" : digits), let hundredths = Int64((fraction + "00").prefix(2))
        else { return failure("is not an amount") }
        var cents = units * 100 + hundredths
        if fraction.count > 2 {
            guard roundCents else {
                return failure(
                    "has fractions of a cent; import with --round-cents to round such amounts to whole cents")
            }
            // Half to even on the digits past the cents, read as digits: a Decimal holds 38 of them,
            // and 0.5000…0001 cut there is a half, rounded down.
            let rest = fraction.dropFirst(2)
            let restValue = Decimal(string: "0." + rest) ?? 0
            let first = rest.first ?? "0"
            let overHalf = first > "5" || (first == "5" && rest.dropFirst().contains { $0 != "0" })
            let up = overHalf || (first == "5" && cents % 2 == 1)
            if up { cents += 1 }
            rounding = (up ? 1 : 0) - restValue
        }
        // What one stored amount may hold (docs/findings.md): larger would be left out of every sum.
        guard cents <= Money.limit else {
            return failure("is too large: no amount may exceed \(Money(cents: Money.limit))")
        }
        return .success(
            Parsed(
                cents: negative ? -cents : cents, rounding: negative ? -rounding : rounding, currency: currencies.first)
        )
    }

    /// The ISO 4217 code a sign stands for, where only one currency writes it.
    private static let currencyOfSymbol = ["€": "EUR", "£": "GBP", "₹": "INR"]

    /// Why `body` (an amount without its sign) says nothing sure when the file never shows which
    /// separator comes before the cents: one `.` or `,` with exactly three digits after it is
    /// 1.5 one way and 1500 the other. Nil when it is not so.
    private static func ambiguity(_ body: String) -> String? {
        let marks = body.filter { $0 == "." || $0 == "," }
        guard marks.count == 1, let mark = marks.first, let index = body.firstIndex(of: mark) else { return nil }
        let whole = body[..<index]
        let after = body[body.index(after: index)...]
        guard !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit), after.count == 3, after.allSatisfy(\.isASCIIDigit)
        else { return nil }
        let units = whole.drop { $0 == "0" }
        var small = (units.isEmpty ? "0" : String(units)) + "." + after
        while small.hasSuffix("0") { small.removeLast() }
        if small.hasSuffix(".") { small.removeLast() }
        let thousands = (whole + after).drop { $0 == "0" }
        let large = thousands.isEmpty ? "0" : String(thousands)
        let pointMeans = mark == "." ? small : large
        let commaMeans = mark == "." ? large : small
        return
            "could mean \(small) or \(large): nothing in the file shows whether the bank writes '.' or ',' before the "
            + "cents; import with --decimal-point if it means \(pointMeans), or --decimal-comma if it means \(commaMeans)"
    }

    /// Whether `digits` groups by threes with `mark` ("1,234,567").
    private static func isGrouped(_ digits: Substring, by mark: Character) -> Bool {
        let groups = digits.split(separator: mark, omittingEmptySubsequences: false)
        guard let first = groups.first, (1...3).contains(first.count) else { return false }
        return groups.dropFirst().allSatisfy { $0.count == 3 }
    }
}

struct AmountError: Error {
    let text: String
    let reason: String

    var message: String { "the amount '\(text)' \(reason)" }
}

extension Character {
    /// One of 0…9 alone: "1" with a combining mark, a joiner or a variation
    /// selector is one Character too, and no digit.
    var isASCIIDigit: Bool { isASCII && ("0"..."9").contains(self) }
}

/// Why a statement could not be read at all.
public enum StatementError: LocalizedError, Equatable, Sendable {
    /// The statement file cannot be read.
    case unreadable(path: String)
    /// The file is not a statement ledger reads; `reason` says why.
    case notAStatement(path: String, reason: String)
    /// An option does not fit the file (a CSV column that is not there, say); the text is the whole message.
    case badOption(String)
    /// The file is the bank's error reply, not a statement.
    case bankReply(path: String, message: String)
    /// A file of several statements where one was expected.
    case severalStatements(path: String, names: [String])

    /// What is wrong with the statement file and what to do, in a bookkeeper's words.
    public var errorDescription: String? {
        switch self {
        case .unreadable(let path):
            return "Cannot read the statement \(path). Check the path and that the file is readable."
        case .notAStatement(let path, let reason):
            return "\(path) is not a statement ledger can read: \(reason)."
        case .badOption(let reason):
            return reason
        case .bankReply(let path, let message):
            return
                "\(path) is the bank's error reply, not a statement; the bank says: \(message). Download the statement again, or ask the bank."
        case .severalStatements(let path, let names):
            return
                "\(path) holds \(names.count) statements (\(names.joined(separator: "; "))); name each one's account."
        }
    }
}

/// Bytes of a statement as text, all at once (the readers decode a piece at a
/// time, the same way: `StatementCharacters`): UTF-16 when a byte-order mark says so,
/// UTF-8 when they are (a UTF-8 mark dropped), else Windows-1252 (which
/// Latin-1 is a part of), the encodings banks' files declare. A NUL, which
/// would end the text where SQLite stores it, becomes a space.
func statementText(_ data: Data) -> String {
    let bytes = [UInt8](data.prefix(3))
    var text: String
    if bytes.starts(with: [0xFF, 0xFE]) {
        text = String(data: data.dropFirst(2), encoding: .utf16LittleEndian) ?? ""
    } else if bytes.starts(with: [0xFE, 0xFF]) {
        text = String(data: data.dropFirst(2), encoding: .utf16BigEndian) ?? ""
    } else if bytes.starts(with: [0xEF, 0xBB, 0xBF]), let utf8 = String(data: data.dropFirst(3), encoding: .utf8) {
        text = utf8
    } else if let utf8 = String(data: data, encoding: .utf8) {
        text = utf8
    } else {
        text = String(data: data, encoding: .windowsCP1252) ?? String(decoding: data, as: UTF8.self)
    }
    if text.contains("\0") { text = text.replacingOccurrences(of: "\0", with: " ") }
    return text
}
