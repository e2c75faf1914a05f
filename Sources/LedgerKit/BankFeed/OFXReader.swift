import Foundation

/// Reads OFX 1.x (SGML: leaf elements left unclosed, a colon-separated header,
/// CRLF, Windows-1252 or Latin-1) and OFX 2.x (XML) statement files, and the
/// QFX and QBO variants (Intuit's extra INTU.* elements are passed over). A
/// file may hold several statements (checking and savings, two accounts and a
/// card): each comes back with its account (BANKID, ACCTID, ACCTTYPE) and kind
/// (bank, card, investment), its lines (STMTTRN's FITID, DTPOSTED, TRNAMT,
/// NAME or PAYEE, MEMO and CHECKNUM), LEDGERBAL and CURDEF.
public enum OFXReader {
    /// Every statement of the file at `path`.
    /// - Throws: `StatementError` when the file cannot be read, is not OFX, or
    ///   is the bank's error reply (its message is given).
    public static func readFile(path: String, style: AmountStyle = AmountStyle()) throws -> StatementFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw StatementError.unreadable(path: path) }
        return try parse(statementText(data), path: path, style: style)
    }

    /// The one statement of a file that holds one.
    public static func read(path: String, style: AmountStyle = AmountStyle()) throws -> BankStatement {
        let file = try readFile(path: path, style: style)
        guard file.statements.count == 1, let only = file.statements.first else {
            throw StatementError.severalStatements(path: path, names: file.statements.map(\.name))
        }
        return only
    }

    static func parse(_ text: String, path: String, style: AmountStyle) throws -> StatementFile {
        guard text.contains("<OFX>") || text.contains("<OFX ") else {
            throw StatementError.notAStatement(
                path: path, reason: "it has no <OFX> element (is it an OFX, QFX or QBO file?)")
        }
        let tokens = tokens(of: text)
        // The decimal separator is the file's: found from all its amounts first.
        var amounts: [String] = []
        var last = ""
        for token in tokens {
            switch token.kind {
            case .open(let name): last = name
            case .value(let value) where last == "TRNAMT" || last == "BALAMT": amounts.append(value)
            default: break
            }
        }
        let style = style.detected(from: amounts)

        var statements: [BankStatement] = []
        var current: BankStatement?
        var open: [String] = []
        var fields: [String: String]?
        var transactionLine = 0
        var balance: [String: String] = [:]
        var status: [String: String] = [:]
        var errors: [String] = []
        /// Ends the transaction being read, if any (an end tag, or an SGML file that leaves it out).
        func endTransaction() {
            guard let done = fields else { return }
            fields = nil
            if current?.kind != .investment { current?.add(done, at: transactionLine, style: style) }
        }
        for token in tokens {
            switch token.kind {
            case .open(let name):
                switch name {
                case "STMTRS", "CCSTMTRS", "INVSTMTRS":
                    var statement = BankStatement()
                    statement.kind = name == "STMTRS" ? .bank : name == "CCSTMTRS" ? .creditCard : .investment
                    current = statement
                    balance = [:]
                case "STMTTRN":
                    endTransaction()
                    fields = [:]
                    transactionLine = token.line
                case "STATUS":
                    status = [:]
                default:
                    break
                }
                open.append(name)
            case .close(let name):
                // SGML leaves leaf elements open: closing an aggregate closes them too.
                if let index = open.lastIndex(of: name) { open.removeSubrange(index...) }
                switch name {
                case "STMTTRN", "BANKTRANLIST", "INVTRANLIST":
                    endTransaction()
                case "STMTRS", "CCSTMTRS", "INVSTMTRS":
                    endTransaction()
                    if var statement = current {
                        if let amount = balance["BALAMT"].flatMap({ try? style.cents($0).get() }),
                            let date = balance["DTASOF"].flatMap(day)
                        {
                            statement.ledgerBalance = BankStatement.Balance(amount: amount, date: date)
                        }
                        statement.distinguishRepeatedIDs()
                        statements.append(statement)
                    }
                    current = nil
                case "STATUS":
                    if let code = status["CODE"], code != "0", status["SEVERITY"] != "INFO" {
                        errors.append((status["MESSAGE"].map { "\($0) " } ?? "") + "(code \(code))")
                    }
                default:
                    break
                }
            case .value(let value):
                guard let element = open.last else { continue }
                if fields != nil && open.contains("STMTTRN") {
                    fields?[element] = value
                } else if open.contains("LEDGERBAL") {
                    balance[element] = value
                } else if element == "CURDEF" {
                    current?.currency = value
                } else if open.contains("BANKACCTFROM") || open.contains("CCACCTFROM") || open.contains("INVACCTFROM") {
                    switch element {
                    case "BANKID", "BROKERID": current?.bankID = value
                    case "ACCTID": current?.accountID = value
                    case "ACCTTYPE": current?.accountType = value
                    default: break
                    }
                } else if open.last == element, open.dropLast().last == "STATUS" {
                    status[element] = value
                }
                // A leaf element of SGML has no end tag: its value ends it.
                if !isAggregate(element) { open.removeLast() }
            }
        }
        if var statement = current {
            // The file ends inside a statement: a download cut short. Nothing of it is imported.
            statement.rejected.append(
                RejectedLine(
                    line: tokens.last?.line ?? 1,
                    reason: "the file ends before the statement does: download it again"))
            statements.append(statement)
        }
        if statements.isEmpty {
            if let error = errors.first {
                throw StatementError.bankReply(path: path, message: error)
            }
            throw StatementError.notAStatement(
                path: path,
                reason: "it holds no bank, credit-card or investment statement (STMTRS, CCSTMTRS, INVSTMTRS)")
        }
        return StatementFile(statements: statements)
    }

    private static let aggregates: Set<String> = [
        "OFX", "SIGNONMSGSRSV1", "SONRS", "STATUS", "FI", "BANKMSGSRSV1", "STMTTRNRS", "STMTRS", "BANKACCTFROM",
        "BANKTRANLIST", "STMTTRN", "LEDGERBAL", "AVAILBAL", "CREDITCARDMSGSRSV1", "CCSTMTTRNRS", "CCSTMTRS",
        "CCACCTFROM", "PAYEE", "BANKACCTTO", "CCACCTTO", "CURRENCY", "ORIGCURRENCY", "BALLIST", "BAL", "MKTGINFO",
        "INVSTMTMSGSRSV1", "INVSTMTTRNRS", "INVSTMTRS", "INVACCTFROM", "INVTRANLIST", "INVBANKTRAN", "INVPOSLIST",
        "INVBAL", "SECLISTMSGSRSV1", "SECLIST",
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
        /// What the token is.
        enum Kind {
            /// An opening tag, `<NAME>`, its name in capitals.
            case open(String)
            /// A closing tag, `</NAME>`, its name in capitals.
            case close(String)
            /// The text after a tag, unescaped.
            case value(String)
        }
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
                tokens.append(
                    Token(
                        kind: .close(inside.dropFirst().trimmingCharacters(in: .whitespaces).uppercased()), line: line))
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
        var fitid = fields["FITID"]?.trimmingCharacters(in: .whitespaces) ?? ""
        let label = fitid.isEmpty ? "of line \(line)" : fitid
        guard let postedText = fields["DTPOSTED"] else { return reject("transaction \(label) has no DTPOSTED date") }
        guard let posted = OFXReader.day(postedText) else {
            return reject("transaction \(label) is dated '\(postedText)', which is not a real YYYYMMDD date")
        }
        guard let amountText = fields["TRNAMT"] else { return reject("transaction \(label) has no TRNAMT amount") }
        switch style.parse(amountText) {
        case .failure(let error):
            reject("transaction \(label): \(error.message)")
        case .success(let parsed):
            let payee = (fields["NAME"] ?? fields["PAYEEID"]).map { $0.trimmingCharacters(in: .whitespaces) }
            let memo = fields["MEMO"].map { $0.trimmingCharacters(in: .whitespaces) }
            if parsed.rounding != 0 {
                rounded.lines += 1
                rounded.byCents += parsed.rounding
            }
            let cleanPayee = payee?.isEmpty == false ? payee : nil
            let cleanMemo = memo?.isEmpty == false ? memo : nil
            if fitid.isEmpty {
                // No id from the bank: one made from the content, as for CSV lines.
                fitid = contentIDs.next(posted: posted, amount: parsed.cents, payee: cleanPayee, memo: cleanMemo)
                madeIDs += 1
            }
            let check = fields["CHECKNUM"]?.trimmingCharacters(in: .whitespaces)
            lines.append(
                StatementLine(
                    fitid: fitid, posted: posted, amount: parsed.cents, payee: cleanPayee, memo: cleanMemo,
                    line: line, checkNumber: check?.isEmpty == false ? check : nil))
        }
    }
}
