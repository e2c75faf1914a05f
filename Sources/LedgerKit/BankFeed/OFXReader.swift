import Foundation

/// Reads OFX 1.x (SGML: leaf elements left unclosed, a colon-separated header,
/// CRLF, Windows-1252 or Latin-1) and OFX 2.x (XML) statement files, and the
/// QFX and QBO variants (Intuit's extra INTU.* elements are passed over). A
/// file may hold several statements (checking and savings, two accounts and a
/// card): each comes back with its account (BANKID, ACCTID, ACCTTYPE) and kind
/// (bank, card, investment), its lines (STMTTRN's FITID, DTPOSTED, TRNAMT,
/// NAME or PAYEE, MEMO and CHECKNUM), LEDGERBAL and CURDEF.
public enum OFXReader {
    /// Every statement of the file at `path`, its lines in memory. A transaction whose fields run
    /// into another's, or that begins inside one a file ends elsewhere, comes
    /// back rejected, as does a transaction's field outside any STMTTRN.
    /// - Throws: `StatementError` when the file cannot be read, is not OFX, is
    ///   the bank's error reply (its message is given), or has a statement that
    ///   begins inside another or a transaction outside any statement.
    public static func readFile(path: String, style: AmountStyle = AmountStyle()) throws -> StatementFile {
        let lines = CollectedLines()
        return lines.filled(try read(StatementSource(path: path), style: style, into: lines))
    }

    /// Every statement of the file at `path`, its lines going into `spool` rather than each
    /// statement's `lines`, for `FeedImport`.
    /// - Throws: as `readFile(path:style:)`.
    public static func readFile(path: String, style: AmountStyle = AmountStyle(), into spool: StatementSpool) throws
        -> StatementFile
    {
        try spool.fill { lines in try read(StatementSource(path: path), style: style, into: lines) }
    }

    /// The one statement of a file that holds one.
    public static func read(path: String, style: AmountStyle = AmountStyle()) throws -> BankStatement {
        let file = try readFile(path: path, style: style)
        guard file.statements.count == 1, let only = file.statements.first else {
            throw StatementError.severalStatements(path: path, names: file.statements.map(\.name))
        }
        return only
    }

    /// The statements of OFX text, read whole (tests, the fuzzer).
    static func parse(_ text: String, path: String, style: AmountStyle) throws -> StatementFile {
        let lines = CollectedLines()
        let source = StatementSource(data: Data(text.utf8), path: path)
        return lines.filled(try read(source, style: style, into: lines))
    }

    /// What the first pass learns of a file.
    private struct Survey {
        /// Whether it has an <OFX> element.
        var isOFX = false
        /// What its amounts say of the decimal separator.
        var votes = AmountStyle.Votes()
        /// Whether it ends some transaction with </STMTTRN>.
        var closesTransactions = false
    }

    /// The first pass over `source`.
    private static func survey(_ source: StatementSource) throws -> Survey {
        var survey = Survey()
        var last = ""
        let characters = try source.characters()
        var window: [Character] = []
        var isOFX = false
        characters.watch = { character in
            guard !isOFX else { return }
            if window.count == 5 { window.removeFirst() }
            window.append(character)
            isOFX =
                window.count == 5 && window.starts(with: ["<", "O", "F", "X"]) && (window[4] == ">" || window[4] == " ")
        }
        try tokens(of: characters) { token in
            switch token.kind {
            case .open(let name): last = name
            case .value(let value) where last == "TRNAMT" || last == "BALAMT": survey.votes.count(value)
            case .close("STMTTRN"): survey.closesTransactions = true
            default: break
            }
        }
        survey.isOFX = isOFX
        return survey
    }

    /// Reads `source` in two passes, each line that can be imported going to `lines`.
    static func read(_ source: StatementSource, style: AmountStyle, into lines: any StatementLines) throws
        -> StatementFile
    {
        let path = source.path
        let survey = try survey(source)
        guard survey.isOFX else {
            throw StatementError.notAStatement(
                path: path, reason: "it has no <OFX> element (is it an OFX, QFX or QBO file?)")
        }
        // The decimal separator is the file's: found from all its amounts first.
        let style = style.detected(by: survey.votes)
        // A file that ends some transactions with </STMTTRN> ends them all: one opened
        // inside another there means the file is not what it seems.
        let closesTransactions = survey.closesTransactions

        var statements: [BankStatement] = []
        var current: BankStatement?
        var statementLine = 0
        var open: [String] = []
        var fields: [String: String]?
        var transactionLine = 0
        /// Why the transaction being read cannot be imported, in words that follow "transaction FITID".
        var transactionFault: String?
        /// The fields the transaction being read gives itself (not inside its PAYEE, say), those
        /// it gives twice, and the line of the first second one.
        var given: Set<String> = []
        var repeated: [String] = []
        var repeatedLine = 0
        /// Whether fields of a transaction outside any STMTTRN were rejected since the last STMTTRN began.
        var strayRejected = false
        var balance: [String: String] = [:]
        var status: [String: String] = [:]
        /// The first error a STATUS reports, the only one told.
        var error: String?
        var lastLine = 1
        /// A transaction as messages name it: its FITID, else its line.
        func transactionLabel(_ fields: [String: String]) -> String {
            let fitid = fields["FITID"]?.trimmingCharacters(in: .whitespaces) ?? ""
            return fitid.isEmpty ? "of line \(transactionLine)" : fitid
        }
        /// Ends the transaction being read, if any (an end tag, or an SGML file that leaves it out).
        func endTransaction() throws {
            guard let done = fields else { return }
            fields = nil
            defer {
                transactionFault = nil
                given = []
                repeated = []
            }
            guard current?.kind != .investment, var statement = current else { return }
            // Taken out while it changes, so that its lists are not copied.
            current = nil
            defer { current = statement }
            var fault = transactionFault
            if fault == nil, !repeated.isEmpty {
                let names =
                    repeated.count == 1
                    ? repeated[0] : repeated.dropLast().joined(separator: ", ") + " and " + (repeated.last ?? "")
                fault =
                    "gives \(names) twice (the second time from line \(repeatedLine) on): it may be two "
                    + "transactions run together; download the file again or ask the bank"
            }
            if let fault {
                statement.reject(
                    RejectedLine(line: transactionLine, reason: "transaction \(transactionLabel(done)) \(fault)"))
            } else {
                try statement.add(done, at: transactionLine, style: style, into: lines, statement: statements.count)
            }
        }
        try tokens(of: try source.characters()) { token in
            lastLine = token.line
            switch token.kind {
            case .open(let name):
                switch name {
                case "STMTRS", "CCSTMTRS", "INVSTMTRS":
                    if let outer = current {
                        // Its lines would be read as the inner statement's, or lost with it.
                        throw StatementError.notAStatement(
                            path: path,
                            reason:
                                "a statement (\(name), line \(token.line)) begins inside \(outer.name) (line \(statementLine)), "
                                + "which has not ended; download the file again or ask the bank")
                    }
                    var statement = BankStatement()
                    statement.kind = name == "STMTRS" ? .bank : name == "CCSTMTRS" ? .creditCard : .investment
                    current = statement
                    statementLine = token.line
                    balance = [:]
                case "STMTTRN":
                    guard current != nil else {
                        // No statement says whose line it is, and leaving it out would lose it.
                        let after = statements.last.map { ", after the end of \($0.name)" } ?? ""
                        throw StatementError.notAStatement(
                            path: path,
                            reason:
                                "a transaction (STMTTRN, line \(token.line)) stands outside any statement\(after); "
                                + "download the file again or ask the bank")
                    }
                    var fault: String?
                    if let before = fields {
                        // SGML may leave </STMTTRN> out: the next transaction ends the one before.
                        if let index = open.lastIndex(of: "STMTTRN") { open.removeSubrange(index...) }
                        if closesTransactions {
                            let unclear =
                                "though the file ends its other transactions with </STMTTRN>: which fields are whose "
                                + "is unclear; download the file again or ask the bank"
                            fault =
                                "begins inside transaction \(transactionLabel(before)) (line \(transactionLine)), "
                                + unclear
                            transactionFault =
                                "has not ended when the transaction of line \(token.line) begins, \(unclear)"
                        }
                    }
                    try endTransaction()
                    fields = [:]
                    transactionLine = token.line
                    transactionFault = fault
                    strayRejected = false
                case "STATUS":
                    status = [:]
                default:
                    break
                }
                guard open.count < StatementLimits.depth else {
                    throw StatementError.notAStatement(
                        path: path,
                        reason:
                            "more than \(StatementLimits.depth) elements are open inside one another at line \(token.line), "
                            + "deeper than any statement nests; download the file again or ask the bank")
                }
                open.append(name)
            case .close(let name):
                // SGML leaves leaf elements open: closing an aggregate closes them too.
                if let index = open.lastIndex(of: name) { open.removeSubrange(index...) }
                switch name {
                case "STMTTRN", "BANKTRANLIST", "INVTRANLIST":
                    try endTransaction()
                case "STMTRS", "CCSTMTRS", "INVSTMTRS":
                    try endTransaction()
                    if var statement = current {
                        if let amount = balance["BALAMT"].flatMap({ try? style.cents($0).get() }),
                            let date = balance["DTASOF"].flatMap(day)
                        {
                            statement.ledgerBalance = BankStatement.Balance(amount: amount, date: date)
                        }
                        statements.append(statement)
                    }
                    current = nil
                case "STATUS":
                    if error == nil, let code = status["CODE"], code != "0", status["SEVERITY"] != "INFO" {
                        error = (status["MESSAGE"].map { "\($0) " } ?? "") + "(code \(code))"
                    }
                default:
                    break
                }
            case .value(let value):
                guard let element = open.last else { return }
                if fields != nil && open.contains("STMTTRN") {
                    // A transaction's fields are taken at its own level only; inside PAYEE or
                    // CURRENCY a value is kept as "PAYEE.NAME", "CURRENCY.CURSYM".
                    let container = open.dropLast().last(where: isAggregate) ?? "STMTTRN"
                    let key = container == "STMTTRN" ? element : container + "." + element
                    if container != "STMTTRN", Self.ownFields.contains(element) {
                        // A transaction's own field inside PAYEE: that aggregate was left unclosed and
                        // the field is most likely the next transaction's, run into this one.
                        if transactionFault == nil {
                            transactionFault =
                                "gives \(element) inside its \(container) (line \(token.line)), which has not ended there: "
                                + "it may be two transactions run together; download the file again or ask the bank"
                        }
                    } else if Self.onceInTransaction.contains(element), !given.insert(key).inserted {
                        // A field given twice is two transactions run together (an SGML file that
                        // left out </STMTTRN> and <STMTTRN>): keeping either value would lose the other.
                        if repeated.isEmpty { repeatedLine = token.line }
                        if !repeated.contains(element) { repeated.append(element) }
                    } else if Self.keptFields.contains(key) {
                        fields?[key] = value
                    }
                } else if ["DTPOSTED", "TRNAMT", "FITID"].contains(element), current == nil,
                    open.contains("BANKTRANLIST")
                {
                    throw StatementError.notAStatement(
                        path: path,
                        reason:
                            "\(element) '\(value)' (line \(token.line)) stands outside any statement and any "
                            + "transaction; download the file again or ask the bank")
                } else if ["DTPOSTED", "TRNAMT", "FITID"].contains(element),
                    current?.kind == .bank || current?.kind == .creditCard
                {
                    // A transaction whose <STMTTRN> is missing: its fields are no other transaction's.
                    if !strayRejected {
                        current?.reject(
                            RejectedLine(
                                line: token.line,
                                reason:
                                    "\(element) '\(value)' stands outside any transaction (no <STMTTRN> before it): "
                                    + "a transaction's start may be missing; download the file again or ask the bank"))
                        strayRejected = true
                    }
                } else if open.contains("LEDGERBAL") {
                    if element == "BALAMT" || element == "DTASOF" { balance[element] = value }
                } else if element == "CURDEF" {
                    current?.currency = value
                } else if open.contains("BANKACCTFROM") || open.contains("CCACCTFROM") || open.contains("INVACCTFROM") {
                    switch element {
                    case "BANKID", "BROKERID": current?.bankID = value
                    case "ACCTID": current?.accountID = value
                    case "ACCTTYPE": current?.accountType = value
                    default: break
                    }
                } else if open.last == element, open.dropLast().last == "STATUS",
                    ["CODE", "SEVERITY", "MESSAGE"].contains(element)
                {
                    status[element] = value
                }
                // A leaf element of SGML has no end tag: its value ends it.
                if !isAggregate(element) { open.removeLast() }
            }
        }
        if var statement = current {
            // The file ends inside a statement: a download cut short. Nothing of it is imported.
            statement.reject(
                RejectedLine(line: lastLine, reason: "the file ends before the statement does: download it again"))
            statements.append(statement)
        }
        if statements.isEmpty {
            if let error {
                throw StatementError.bankReply(path: path, message: error)
            }
            throw StatementError.notAStatement(
                path: path,
                reason: "it holds no bank, credit-card or investment statement (STMTRS, CCSTMTRS, INVSTMTRS)")
        }
        return StatementFile(statements: statements)
    }

    /// The fields of a STMTTRN that `BankStatement.add` reads, the only ones kept.
    private static let keptFields: Set<String> = [
        "FITID", "NAME", "PAYEE.NAME", "PAYEEID", "MEMO", "CHECKNUM", "DTPOSTED", "TRNAMT", "CURRENCY.CURSYM",
    ]

    /// The fields of a STMTTRN that the reader keeps or that begin a transaction; each comes once in one.
    private static let onceInTransaction: Set<String> = [
        "TRNTYPE", "DTPOSTED", "TRNAMT", "FITID", "NAME", "PAYEEID", "MEMO", "CHECKNUM", "CURSYM", "CURRATE",
    ]

    /// The fields a STMTTRN gives at its own level only, never inside its PAYEE, CURRENCY or
    /// BANKACCTTO (whose NAME, CURSYM and ACCTID are theirs).
    private static let ownFields: Set<String> = [
        "TRNTYPE", "DTPOSTED", "DTUSER", "DTAVAIL", "TRNAMT", "FITID", "CORRECTFITID", "CORRECTACTION", "SRVRTID",
        "CHECKNUM", "REFNUM", "SIC", "PAYEEID", "MEMO",
    ]

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

    /// Start tags, end tags and the text between them, with line numbers, each
    /// given to `take` as it is read. The
    /// SGML header and XML declarations are skipped. A value keeps at most
    /// `StatementLimits.valueBytes`, and a tag longer than `fieldBytes` is taken
    /// for text, so that no part of a file is held whole.
    static func tokens(of characters: StatementCharacters, _ take: (Token) throws -> Void) throws {
        var line = 1
        var any = false
        /// Text of the value being read, and the line it started on: a '<' that begins no tag
        /// ("A<B CO") and CDATA are part of it.
        var pending = ""
        var pendingLine = 1
        /// How many '>' the characters read so far hold, of `characters.closers` in all.
        var closers = 0
        func read() throws -> Character? {
            guard let character = try characters.next() else { return nil }
            if character == ">" {
                closers += 1
            } else if !character.isASCII {
                closers += character.unicodeScalars.reduce(0) { $1 == ">" ? $0 + 1 : $0 }
            }
            return character
        }
        func giveBack(_ read: [Character]) {
            for character in read { closers -= character.unicodeScalars.reduce(0) { $1 == ">" ? $0 + 1 : $0 } }
            characters.giveBack(read)
        }
        func isBreak(_ character: Character) -> Bool {
            character == "\n" || character == "\r\n" || character == "\r"
        }
        func append(_ text: String) {
            guard pending.utf8.count < StatementLimits.valueBytes else { return }
            pending += text
        }
        func flush() throws {
            let value = pending.trimmingCharacters(in: .whitespacesAndNewlines)
            if !value.isEmpty, any { try take(Token(kind: .value(value), line: pendingLine)) }
            pending = ""
        }
        func emit(_ kind: Token.Kind) throws {
            any = true
            try take(Token(kind: kind, line: line))
        }
        let cdata = Array("![CDATA[")
        while true {
            var segment = ""
            var breaks = 0
            var found = false
            while let character = try read() {
                if character == "<" {
                    found = true
                    break
                }
                if isBreak(character) { breaks += 1 }
                if segment.utf8.count < StatementLimits.valueBytes { segment.append(character) }
            }
            guard found else { break }
            line += breaks
            if pending.isEmpty { pendingLine = line }
            append(unescape(segment))
            var look: [Character] = []
            while look.count < cdata.count, let character = try read() {
                look.append(character)
                if character != cdata[look.count - 1] { break }
            }
            if look == cdata {
                // Taken as it is, '>' and '&' included, up to "]]>".
                var content = ""
                var brackets = 0
                func keep(_ character: Character) {
                    if isBreak(character) { line += 1 }
                    if content.utf8.count < StatementLimits.valueBytes { content.append(character) }
                }
                while let character = try read() {
                    if character == "]" {
                        brackets += 1
                        continue
                    }
                    if character == ">" && brackets >= 2 {
                        for _ in 0..<(brackets - 2) { keep("]") }
                        brackets = -1
                        break
                    }
                    for _ in 0..<brackets { keep("]") }
                    brackets = 0
                    keep(character)
                }
                for _ in 0..<max(0, brackets) { keep("]") }
                append(content)
                continue
            }
            giveBack(look)
            var inside: [Character] = []
            var insideBytes = 0
            var end: Character?
            while let character = try read() {
                if character == ">" || character == "<" {
                    end = character
                    break
                }
                inside.append(character)
                insideBytes += character.utf8.count
                if insideBytes > StatementLimits.fieldBytes { break }
            }
            // No '>' after this '<' in the whole file: the rest is no tag and no value.
            if end == nil && insideBytes <= StatementLimits.fieldBytes { break }
            if end == "<" && closers == characters.closers { break }
            let text = String(inside)
            if end != ">" || text.first.map({ !$0.isLetter && !"/?!".contains($0) }) ?? true {
                // "A<B CO<MEMO>": no tag begins at this '<'; it is the value's own.
                append("<")
                giveBack(inside + (end.map { [$0] } ?? []))
                continue
            }
            try flush()
            line += inside.reduce(0) { isBreak($1) ? $0 + 1 : $0 }
            if text.hasPrefix("/") {
                try emit(.close(text.dropFirst().trimmingCharacters(in: .whitespaces).uppercased()))
            } else if !text.hasPrefix("?") && !text.hasPrefix("!") {
                let name = text.split(separator: " ").first.map(String.init)?.uppercased() ?? ""
                try emit(.open(name))
                if text.hasSuffix("/") { try emit(.close(name)) }
            }
        }
        try flush()
    }

    private static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = text
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&nbsp;", " ")] {
            result = result.replacingOccurrences(of: entity, with: character)
        }
        while let range = result.range(of: "&#[0-9]+;", options: .regularExpression) {
            let number = result[range].dropFirst(2).dropLast()
            // A NUL or another control character would end or garble the text where it is stored: a space.
            let scalar = UInt32(number).flatMap(Unicode.Scalar.init).map {
                $0.properties.generalCategory == .control ? " " : String($0)
            }
            result.replaceSubrange(range, with: scalar ?? "")
        }
        return result.replacingOccurrences(of: "&amp;", with: "&")
    }
}

extension BankStatement {
    /// Adds one STMTTRN to `lines` as a line of statement `index`, or the reason it cannot be imported.
    mutating func add(
        _ fields: [String: String], at line: Int, style: AmountStyle, into lines: any StatementLines,
        statement index: Int
    ) throws {
        func reject(_ reason: String) { self.reject(RejectedLine(line: line, reason: reason)) }
        var fitid = fields["FITID"]?.trimmingCharacters(in: .whitespaces) ?? ""
        let label = fitid.isEmpty || fitid.utf8.count > 64 ? "of line \(line)" : fitid
        if let reason = StatementLimits.overlong([
            ("FITID", fitid), ("NAME", fields["NAME"] ?? fields["PAYEE.NAME"] ?? fields["PAYEEID"]),
            ("MEMO", fields["MEMO"]), ("CHECKNUM", fields["CHECKNUM"]),
        ]) {
            return reject("transaction \(label): \(reason)")
        }
        guard let postedText = fields["DTPOSTED"] else { return reject("transaction \(label) has no DTPOSTED date") }
        guard let posted = OFXReader.day(postedText) else {
            return reject("transaction \(label) is dated '\(postedText)', which is not a real YYYYMMDD date")
        }
        guard let amountText = fields["TRNAMT"] else { return reject("transaction \(label) has no TRNAMT amount") }
        switch style.parse(amountText) {
        case .failure(let error):
            reject("transaction \(label): \(error.message)")
        case .success(let parsed):
            let payee = (fields["NAME"] ?? fields["PAYEE.NAME"] ?? fields["PAYEEID"]).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            let memo = fields["MEMO"].map { $0.trimmingCharacters(in: .whitespaces) }
            if parsed.rounding != 0 {
                rounded.lines += 1
                rounded.byCents += parsed.rounding
            }
            let cleanPayee = payee?.isEmpty == false ? payee : nil
            let cleanMemo = memo?.isEmpty == false ? memo : nil
            if fitid.isEmpty {
                // No id from the bank: one made from the content, as for CSV lines.
                fitid = try ContentIDs(prefix: "ofx").next(
                    posted: posted, amount: parsed.cents, payee: cleanPayee, memo: cleanMemo, statement: index,
                    counts: lines)
                madeIDs += 1
            }
            let check = fields["CHECKNUM"]?.trimmingCharacters(in: .whitespaces)
            span.add(posted)
            try lines.add(
                StatementLine(
                    fitid: fitid, posted: posted, amount: parsed.cents, payee: cleanPayee, memo: cleanMemo,
                    line: line, checkNumber: check?.isEmpty == false ? check : nil,
                    // CURRENCY says the amount is in another currency than CURDEF; ORIGCURRENCY says it was
                    // converted into CURDEF from one, so the amount is the statement's own.
                    currency: fields["CURRENCY.CURSYM"].map { $0.trimmingCharacters(in: .whitespaces) }
                        ?? parsed.currency),
                statement: index)
        }
    }
}
