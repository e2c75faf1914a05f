import Foundation

/// Reads OFX 1.x (SGML: leaf elements left unclosed, a colon-separated header,
/// CRLF, Windows-1252 or Latin-1) and OFX 2.x (XML) bank and credit-card
/// statements, and the QFX variant (Intuit's extra INTU.* elements are passed
/// over). Only what a statement line needs is read: STMTTRN's FITID, DTPOSTED,
/// TRNAMT, NAME or PAYEE and MEMO, LEDGERBAL and CURDEF.
public enum OFXReader {
    public static func read(path: String, style: AmountStyle = AmountStyle()) throws -> BankStatement {
        guard let data = FileManager.default.contents(atPath: path) else { throw StatementError.unreadable(path: path) }
        return try parse(statementText(data), path: path, style: style)
    }

    static func parse(_ text: String, path: String, style: AmountStyle) throws -> BankStatement {
        guard text.contains("<OFX>") || text.contains("<OFX ") else {
            throw StatementError.notAStatement(path: path, reason: "it has no <OFX> element (is it an OFX, QFX or QBO file?)")
        }
        var statement = BankStatement()
        var open: [String] = []
        var fields: [String: String] = [:]
        var transactionLine = 0
        var balance: [String: String] = [:]
        for token in tokens(of: text) {
            switch token.kind {
            case .open(let name):
                if name == "STMTTRN" {
                    fields = [:]
                    transactionLine = token.line
                }
                open.append(name)
            case .close(let name):
                // SGML leaves leaf elements open: closing an aggregate closes them too.
                if let index = open.lastIndex(of: name) { open.removeSubrange(index...) }
                if name == "STMTTRN" { statement.add(fields, at: transactionLine, style: style) }
            case .value(let value):
                guard let element = open.last else { continue }
                if open.contains("STMTTRN") {
                    fields[element] = value
                } else if open.contains("LEDGERBAL") {
                    balance[element] = value
                } else if element == "CURDEF" {
                    statement.currency = value
                }
                // A leaf element of SGML has no end tag: its value ends it.
                if !isAggregate(element) { open.removeLast() }
            }
        }
        if let amount = balance["BALAMT"].flatMap({ try? style.cents($0).get() }),
           let date = balance["DTASOF"].flatMap(day) {
            statement.ledgerBalance = BankStatement.Balance(amount: amount, date: date)
        }
        if statement.lines.isEmpty && statement.rejected.isEmpty && !text.contains("STMTRS>") && !text.contains("CCSTMTRS>") {
            throw StatementError.notAStatement(path: path, reason: "it holds no bank or credit-card statement (STMTRS or CCSTMTRS)")
        }
        return statement
    }

    private static let aggregates: Set<String> = [
        "OFX", "SIGNONMSGSRSV1", "SONRS", "STATUS", "FI", "BANKMSGSRSV1", "STMTTRNRS", "STMTRS", "BANKACCTFROM",
        "BANKTRANLIST", "STMTTRN", "LEDGERBAL", "AVAILBAL", "CREDITCARDMSGSRSV1", "CCSTMTTRNRS", "CCSTMTRS",
        "CCACCTFROM", "PAYEE", "BANKACCTTO", "CCACCTTO", "CURRENCY", "ORIGCURRENCY", "BALLIST", "BAL", "MKTGINFO",
    ]

    /// Whether `element` holds other elements (and so has an end tag in SGML too).
    static func isAggregate(_ element: String) -> Bool { aggregates.contains(element) }

    /// `YYYY-MM-DD` from an OFX date (`YYYYMMDD[HHMMSS[.XXX]][[±hh:TZ]]`), if it is a real day.
    static func day(_ text: String) -> String? {
        let digits = text.prefix(8)
        guard digits.count == 8, digits.allSatisfy(\.isASCIIDigit) else { return nil }
        let candidate = digits.prefix(4) + "-" + digits.dropFirst(4).prefix(2) + "-" + digits.suffix(2)
        return CivilDate(String(candidate)) == nil ? nil : String(candidate)
    }

    struct Token {
        enum Kind { case open(String), close(String), value(String) }
        let kind: Kind
        let line: Int
    }

    /// Start tags, end tags and the text between them, with line numbers. The
    /// SGML header and XML declarations are skipped.
    static func tokens(of text: String) -> [Token] {
        var tokens: [Token] = []
        var line = 1
        var index = text.startIndex
        while index < text.endIndex {
            guard let open = text[index...].firstIndex(of: "<") else { break }
            line += text[index..<open].reduce(0) { $1 == "\n" || $1 == "\r\n" ? $0 + 1 : $0 }
            let value = text[index..<open].trimmingCharacters(in: .whitespacesAndNewlines)
            if !value.isEmpty, !tokens.isEmpty { tokens.append(Token(kind: .value(unescape(value)), line: line)) }
            guard let close = text[open...].firstIndex(of: ">") else { break }
            let inside = text[text.index(after: open)..<close]
            line += inside.reduce(0) { $1 == "\n" || $1 == "\r\n" ? $0 + 1 : $0 }
            if inside.hasPrefix("/") {
                tokens.append(Token(kind: .close(inside.dropFirst().trimmingCharacters(in: .whitespaces).uppercased()), line: line))
            } else if !inside.hasPrefix("?") && !inside.hasPrefix("!") {
                let name = inside.split(separator: " ").first.map(String.init)?.uppercased() ?? ""
                if inside.hasSuffix("/") {
                    tokens.append(Token(kind: .open(name), line: line))
                    tokens.append(Token(kind: .close(name), line: line))
                } else {
                    tokens.append(Token(kind: .open(name), line: line))
                }
            }
            index = text.index(after: close)
        }
        return tokens
    }

    private static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = text
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&nbsp;", " ")] {
            result = result.replacingOccurrences(of: entity, with: character)
        }
        while let range = result.range(of: "&#[0-9]+;", options: .regularExpression) {
            let number = result[range].dropFirst(2).dropLast()
            result.replaceSubrange(range, with: UInt32(number).flatMap(Unicode.Scalar.init).map { String($0) } ?? "")
        }
        return result.replacingOccurrences(of: "&amp;", with: "&")
    }
}

extension BankStatement {
    /// Adds one STMTTRN, or the reason it cannot be imported.
    mutating func add(_ fields: [String: String], at line: Int, style: AmountStyle) {
        func reject(_ reason: String) { rejected.append(RejectedLine(line: line, reason: reason)) }
        guard let fitid = fields["FITID"]?.trimmingCharacters(in: .whitespaces), !fitid.isEmpty else {
            return reject("the transaction has no FITID (the bank's id of the line)")
        }
        guard let postedText = fields["DTPOSTED"] else { return reject("transaction \(fitid) has no DTPOSTED date") }
        guard let posted = OFXReader.day(postedText) else {
            return reject("transaction \(fitid) is dated '\(postedText)', which is not a real YYYYMMDD date")
        }
        guard let amountText = fields["TRNAMT"] else { return reject("transaction \(fitid) has no TRNAMT amount") }
        switch style.cents(amountText) {
        case .failure(let error):
            reject("transaction \(fitid): \(error.message)")
        case .success(let amount):
            let payee = (fields["NAME"] ?? fields["PAYEEID"]).map { $0.trimmingCharacters(in: .whitespaces) }
            let memo = fields["MEMO"].map { $0.trimmingCharacters(in: .whitespaces) }
            lines.append(StatementLine(fitid: fitid, posted: posted, amount: amount,
                                       payee: payee?.isEmpty == false ? payee : nil, memo: memo?.isEmpty == false ? memo : nil,
                                       line: line))
        }
    }
}
