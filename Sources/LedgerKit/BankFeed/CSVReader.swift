import Crypto
import Foundation

/// Which columns of a bank's CSV export hold what, and how dates are written.
public struct CSVMapping: Sendable {
    /// A column by its 1-based number or its header's name.
    public var date: String
    /// One signed amount (deposits positive); or nil with `debit` and `credit`.
    public var amount: String?
    /// The column of the payee, if the export has one.
    public var payee: String?
    /// The column of the memo, if the export has one.
    public var memo: String?
    /// The bank's id of each line; without one, an id is made from the line's
    /// date, amount, payee and memo (and how many such lines came before).
    public var id: String?
    /// The check number of lines that are checks (`--check-col`).
    public var check: String?
    /// Withdrawals and deposits in two columns, each as a positive number.
    public var debit: String?
    /// With `debit`: the column of deposits.
    public var credit: String?
    /// A column saying whether the amount is a debit or a credit, and its words for each.
    public var type: String?
    /// The `type` column's words for a withdrawal, matched without case.
    public var debitWords: [String]
    /// The `type` column's words for a deposit, matched without case.
    public var creditWords: [String]
    /// `YYYY-MM-DD`, `MM/DD/YYYY`, `M/D/YYYY`, `DD.MM.YYYY`…: YYYY, MM (or M) and DD (or D) where the parts stand.
    public var dateFormat: String
    /// Whether the first line (after `skip`) names the columns.
    public var hasHeader: Bool
    /// What separates the fields: a comma unless told.
    public var delimiter: Character
    /// Leading lines before the header (or the first line) to pass over; nil:
    /// the header is found among the first lines by its column names.
    public var skip: Int?
    /// Leave out trailing lines that are not transactions (a footer), listing them.
    public var skipFooter: Bool

    /// A mapping with the common banks' words for debit and credit and ISO dates unless told.
    public init(
        date: String, amount: String? = nil, payee: String? = nil, memo: String? = nil, id: String? = nil,
        check: String? = nil, debit: String? = nil, credit: String? = nil, type: String? = nil,
        debitWords: [String] = ["debit", "dr", "withdrawal", "payment", "dbit"],
        creditWords: [String] = ["credit", "cr", "deposit", "crdt"],
        dateFormat: String = "YYYY-MM-DD", hasHeader: Bool = true, delimiter: Character = ",",
        skip: Int? = nil, skipFooter: Bool = false
    ) {
        self.date = date
        self.amount = amount
        self.payee = payee
        self.memo = memo
        self.id = id
        self.check = check
        self.debit = debit
        self.credit = credit
        self.type = type
        self.debitWords = debitWords
        self.creditWords = creditWords
        self.dateFormat = dateFormat
        self.hasHeader = hasHeader
        self.delimiter = delimiter
        self.skip = skip
        self.skipFooter = skipFooter
    }

    /// The columns the mapping names by header name.
    var namedColumns: [String] {
        [date, amount, payee, memo, id, check, debit, credit, type].compactMap { $0 }.filter { Int($0) == nil }
    }
}

/// Reads a bank's CSV export (RFC 4180 quoting) into statement lines, in two
/// passes over the file that hold a few rows at a time: the first finds the
/// header, the columns, the decimal separator the amounts show and the
/// layouts the dates fit; the second reads the lines.
public enum CSVReader {
    /// Reads the CSV file at `path` into memory: a line that cannot be imported is rejected with its reason.
    /// - Throws: `StatementError` for an unreadable file or a mapping that does not fit it.
    public static func read(path: String, mapping: CSVMapping, style: AmountStyle = AmountStyle()) throws
        -> BankStatement
    {
        try collected(StatementSource(path: path), mapping: mapping, style: style)
    }

    /// Reads the CSV file at `path`, its lines going into `spool` rather than `lines`, for `FeedImport`.
    /// - Throws: as `read(path:mapping:style:)`.
    public static func read(
        path: String, mapping: CSVMapping, style: AmountStyle = AmountStyle(), into spool: StatementSpool
    )
        throws -> BankStatement
    {
        try spool.fill { lines in try read(StatementSource(path: path), mapping: mapping, style: style, into: lines) }
    }

    /// Reads the CSV bytes `data` of the file at `path` (named in messages).
    static func read(_ data: Data, path: String, mapping: CSVMapping, style: AmountStyle) throws -> BankStatement {
        try collected(StatementSource(data: data, path: path), mapping: mapping, style: style)
    }

    /// Reads `source` with its lines in memory.
    static func collected(_ source: StatementSource, mapping: CSVMapping, style: AmountStyle) throws -> BankStatement {
        let lines = CollectedLines()
        var statement = try read(source, mapping: mapping, style: style, into: lines)
        statement.lines = lines.lines[0] ?? []
        return statement
    }

    /// What the first pass learns of the file.
    private struct Survey {
        /// The index of the row that is the header (or the first line), counting every row from 0.
        var start = 0
        /// The header's fields, empty without one.
        var header: [String] = []
        /// What the amounts say of the decimal separator.
        var votes = AmountStyle.Votes()
        /// Which usual layouts (`DateFormat.usual`) read each date of the file, by the date's separator.
        var dateShapes: [Character: Set<UInt8>] = [:]
    }

    /// The columns of the mapping, as indexes of the header's fields.
    private struct Columns {
        var date = 0
        var amount: Int?
        var debit: Int?
        var credit: Int?
        var type: Int?
        var payee: Int?
        var memo: Int?
        var id: Int?
        var check: Int?

        var mapped: Set<Int> { Set([date, amount, debit, credit, type, payee, memo, id, check].compactMap { $0 }) }
        var amounts: [Int?] { [amount, debit, credit] }

        init(header: [String], mapping: CSVMapping) throws {
            func column(_ name: String?, _ option: String) throws -> Int? {
                guard let name else { return nil }
                if let number = Int(name) {
                    guard number >= 1 else {
                        throw StatementError.badOption("\(option) \(name): columns are numbered from 1.")
                    }
                    return number - 1
                }
                guard
                    let index = header.firstIndex(where: {
                        $0.trimmingCharacters(in: .whitespaces).caseInsensitiveCompare(name) == .orderedSame
                    })
                else {
                    throw StatementError.badOption(
                        "\(option) '\(name)': the file has no such column; its columns are \(header.map { "'\($0)'" }.joined(separator: ", "))."
                    )
                }
                return index
            }
            date = try column(mapping.date, "--date-col") ?? 0
            amount = try column(mapping.amount, "--amount-col")
            debit = try column(mapping.debit, "--debit-col")
            credit = try column(mapping.credit, "--credit-col")
            type = try column(mapping.type, "--type-col")
            payee = try column(mapping.payee, "--payee-col")
            memo = try column(mapping.memo, "--memo-col")
            id = try column(mapping.id, "--id-col")
            check = try column(mapping.check, "--check-col")
        }
    }

    private static func field(_ record: Record, _ index: Int?) -> String? {
        guard let index, index < record.fields.count else { return nil }
        let field = record.fields[index]
        // Most fields have no space at either end: Foundation's trimming is for those that do.
        func isSpace(_ scalar: Unicode.Scalar?) -> Bool {
            scalar.map { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator } ?? false
        }
        if field.isEmpty { return nil }
        if !isSpace(field.unicodeScalars.first) && !isSpace(field.unicodeScalars.last) { return field }
        let value = field.trimmingCharacters(in: .whitespaces)
        return value.isEmpty ? nil : value
    }

    /// The first pass: where the header is, the columns, and what the amounts and dates say.
    private static func survey(_ source: StatementSource, mapping: CSVMapping, format: DateFormat) throws -> Survey {
        var rows = RecordReader(try source.characters(), delimiter: mapping.delimiter)
        var survey = Survey()
        // Leading lines (the bank's title, the account, a blank line) before the header.
        var head: [Record] = []
        while head.count < 30, let record = try rows.next() { head.append(record) }
        if let skip = mapping.skip {
            survey.start = skip
        } else if mapping.hasHeader, !mapping.namedColumns.isEmpty,
            let start = head.firstIndex(where: { record in
                mapping.namedColumns.allSatisfy { name in
                    record.fields.contains {
                        $0.trimmingCharacters(in: .whitespaces).caseInsensitiveCompare(name) == .orderedSame
                    }
                }
            })
        {
            survey.start = start
        } else if mapping.hasHeader, let number = Int(mapping.date), number >= 1,
            let firstDated = head.firstIndex(where: { record in
                number <= record.fields.count
                    && format.day(record.fields[number - 1].trimmingCharacters(in: .whitespaces)) != nil
            }), firstDated >= 1
        {
            // Columns by number and lines before the header (a bank's summary): the header is the last row
            // before the first dated one whose date column holds no digit, so that a line of the statement
            // with a date that is not real is rejected with its reason, never taken for the header.
            survey.start =
                head[..<firstDated].lastIndex { record in
                    number <= record.fields.count && !record.fields[number - 1].contains(where: \.isASCIIDigit)
                } ?? (firstDated - 1)
        }
        var first: Record?
        var columns = Result<Columns, any Error>.failure(StatementError.badOption("--date-col"))
        var index = 0
        var usual: [Character: [DateFormat]] = [:]
        func look(_ record: Record) {
            defer { index += 1 }
            if index == survey.start {
                first = record
                survey.header = mapping.hasHeader ? record.fields : []
                columns = Result { try Columns(header: survey.header, mapping: mapping) }
            }
            guard index > survey.start || (index == survey.start && !mapping.hasHeader),
                case .success(let columns) = columns
            else { return }
            for column in columns.amounts {
                if let text = field(record, column) { survey.votes.count(text) }
            }
            if let date = field(record, columns.date),
                let (separator, shape) = DateFormat.shape(of: date, usual: &usual)
            {
                survey.dateShapes[separator, default: []].insert(shape)
            }
        }
        for record in head { look(record) }
        while let record = try rows.next() { look(record) }
        // A quote never closed would make every line after it one field: lines lost, not read.
        if let unclosed = rows.unclosedQuote {
            throw StatementError.notAStatement(
                path: source.path,
                reason:
                    "a quote opened on line \(unclosed) is never closed, so every line after it would be read as one field; fix that line, then import again"
            )
        }
        guard let first else { throw StatementError.notAStatement(path: source.path, reason: "it is empty") }
        // Column names are never a date: a first row that has one in the date column is a line,
        // and taking it for the header would lose it.
        if mapping.hasHeader, let number = Int(mapping.date), number >= 1, number <= survey.header.count,
            let day = format.day(survey.header[number - 1].trimmingCharacters(in: .whitespaces))
        {
            throw StatementError.badOption(
                "Line \(first.line) of \(source.path) would be the header, but its column \(number) holds the date \(day): "
                    + "if the file has no row of column names, import with --no-header; if its names come later, "
                    + "say how many lines come before them with --skip. Nothing was imported.")
        }
        _ = try columns.get()
        return survey
    }

    /// Reads `source`, each line that can be imported going to `lines`.
    static func read(_ source: StatementSource, mapping: CSVMapping, style: AmountStyle, into lines: any StatementLines)
        throws -> BankStatement
    {
        guard DateFormat(mapping.dateFormat) != nil else {
            throw StatementError.badOption(
                "--date-format '\(mapping.dateFormat)' must hold YYYY, MM (or M) and DD (or D) once each, as in MM/DD/YYYY or M/D/YYYY."
            )
        }
        guard mapping.amount != nil || mapping.debit != nil || mapping.credit != nil else {
            throw StatementError.badOption(
                "Name the amount column (--amount-col), or the debit and credit columns (--debit-col, --credit-col).")
        }
        guard let format = DateFormat(mapping.dateFormat) else { throw StatementError.badOption("--date-format") }
        let survey = try survey(source, mapping: mapping, format: format)
        let columns = try Columns(header: survey.header, mapping: mapping)
        let header = survey.header
        let headerWidth = Self.width(header)
        let mapped = columns.mapped
        let dateColumn = columns.date
        let amountColumn = columns.amount
        let debitColumn = columns.debit
        let creditColumn = columns.credit
        let typeColumn = columns.type
        let payeeColumn = columns.payee
        let memoColumn = columns.memo
        let idColumn = columns.id
        let checkColumn = columns.check
        // The decimal separator is the file's: found from all its amounts first.
        let style = style.detected(by: survey.votes)
        let debitWords = Set(mapping.debitWords.map { $0.lowercased() })
        let creditWords = Set(mapping.creditWords.map { $0.lowercased() })
        let contentIDs = ContentIDs(prefix: "csv")

        var statement = BankStatement()
        var lastGood = -1
        /// Rows that cannot be imported since the last line that can: the file's footer, if no line follows.
        var problems: [(index: Int, line: RejectedLine, dated: Bool)] = []
        /// Those past `StatementLimits.listedLines`, counted: with a real date, and without.
        var problemsBeyond = (dated: 0, undated: 0)
        var rows = RecordReader(try source.characters(), delimiter: mapping.delimiter)
        var rowIndex = -1
        let bodyStart = survey.start + (mapping.hasHeader ? 1 : 0)
        var index = -1
        while let record = try rows.next() {
            rowIndex += 1
            guard rowIndex >= bodyStart else { continue }
            index += 1
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) && !record.cut {
                continue
            }
            func reject(_ reason: String) {
                let dated = field(record, dateColumn).flatMap(format.day) != nil
                if problems.count < StatementLimits.listedLines {
                    problems.append((index, RejectedLine(line: record.line, reason: reason), dated))
                } else if dated {
                    problemsBeyond.dated += 1
                } else {
                    problemsBeyond.undated += 1
                }
            }
            // A row with no date or no amount that speaks of a balance or a total is the bank's summary.
            func passOver() -> Bool {
                guard let words = summaryWords(record) else { return false }
                statement.pass(over: RejectedLine(line: record.line, reason: words))
                return true
            }
            if record.cut {
                reject(
                    "it is longer than \(StatementLimits.rowBytes >> 20) MiB or has more than \(StatementLimits.rowFields) "
                        + "fields, more than any bank writes on one line: download the file again or ask the bank")
                continue
            }
            // More fields than the header names (empty ones after the last excepted, which a header
            // ending in a delimiter has too): a delimiter in an unquoted field ("-1,234.56") has
            // shifted the columns, and what they would give is not the line.
            let width = Self.width(record.fields)
            if mapping.hasHeader, width > headerWidth {
                // A bank's balance or total row without a date may be wider than its lines.
                if field(record, dateColumn).flatMap(format.day) == nil && passOver() { continue }
                reject(
                    "it has \(width) fields and the header names \(headerWidth): a '\(mapping.delimiter)' inside a field that is not in quotes?"
                )
                continue
            }
            // The same in a column the mapping does not read ("Balance", empty on this line):
            // an amount of one to three digits, then three digits in the next column.
            if let reason = [amountColumn, debitColumn, creditColumn].lazy.compactMap({ column in
                Self.splitAmount(record, column, mapped: mapped, delimiter: mapping.delimiter)
            }).first {
                if field(record, dateColumn).flatMap(format.day) == nil && passOver() { continue }
                reject(reason)
                continue
            }
            guard let dateText = field(record, dateColumn) else {
                if !passOver() { reject("it has no date in column \(dateColumn + 1)") }
                continue
            }
            guard let posted = format.day(dateText) else {
                // A row with a date, even one that is not real ("2026-02-30", not "Total"), and an amount
                // is a line: never a summary, whatever its payee says.
                let amounts = [amountColumn, debitColumn, creditColumn].compactMap { field(record, $0) }
                let dated = dateText.contains(where: \.isASCIIDigit)
                let line = dated && amounts.contains { (try? style.parse($0).get()) != nil }
                if !line && passOver() { continue }
                reject(
                    "the date '\(dateText)' is not a real date written \(mapping.dateFormat)"
                        + DateFormat.suggestion(for: dateText, shapes: survey.dateShapes, instead: format))
                continue
            }
            var parsed: AmountStyle.Parsed
            if let amountColumn {
                guard let text = field(record, amountColumn) else {
                    if !passOver() { reject("it has no amount in column \(amountColumn + 1)") }
                    continue
                }
                switch style.parse(text) {
                case .failure(let error):
                    reject(error.message)
                    continue
                case .success(let value): parsed = value
                }
            } else {
                // Separate columns: a withdrawal in one, a deposit in the other, each written as a positive number.
                let debit = field(record, debitColumn)
                let credit = field(record, creditColumn)
                guard (debit == nil) != (credit == nil), let text = debit ?? credit else {
                    if debit == nil && passOver() { continue }
                    reject(
                        debit == nil
                            ? "it has neither a debit nor a credit amount" : "it has both a debit and a credit amount")
                    continue
                }
                switch style.parse(text) {
                case .failure(let error):
                    reject(error.message)
                    continue
                case .success(let value):
                    // A deposit written negative says nothing sure about which way it went.
                    guard debit != nil || value.cents >= 0 else {
                        reject("its credit amount '\(text)' is negative: credits are written as positive numbers")
                        continue
                    }
                    parsed = value
                    parsed.cents = debit != nil ? -abs(value.cents) : abs(value.cents)
                    parsed.rounding = debit != nil ? -abs(value.rounding) : abs(value.rounding)
                }
            }
            if let typeColumn {
                // A type column says which way the money went, whatever the amount's sign.
                let word = field(record, typeColumn)?.lowercased() ?? ""
                if debitWords.contains(word) {
                    parsed.cents = -abs(parsed.cents)
                } else if creditWords.contains(word) {
                    parsed.cents = abs(parsed.cents)
                } else {
                    reject(
                        "its type '\(word)' is neither a debit (\(mapping.debitWords.joined(separator: ", "))) nor a credit (\(mapping.creditWords.joined(separator: ", ")))"
                    )
                    continue
                }
            }
            if parsed.rounding != 0 {
                statement.rounded.lines += 1
                statement.rounded.byCents += parsed.rounding
            }
            let payee = field(record, payeeColumn)
            let memo = field(record, memoColumn)
            if let reason = StatementLimits.overlong([
                ("payee", payee), ("memo", memo), ("id", field(record, idColumn)),
                ("check number", field(record, checkColumn)),
            ]) {
                reject(reason)
                continue
            }
            var fitid = field(record, idColumn) ?? ""
            if idColumn == nil {
                // The same date, amount, payee and memo twice in one file are two lines.
                fitid = try contentIDs.next(
                    posted: posted, amount: parsed.cents, payee: payee, memo: memo, statement: 0, counts: lines)
            } else if fitid.isEmpty {
                reject("it has no id in column \((idColumn ?? 0) + 1)")
                continue
            }
            try lines.add(
                StatementLine(
                    fitid: fitid, posted: posted, amount: parsed.cents, payee: payee, memo: memo, line: record.line,
                    checkNumber: field(record, checkColumn), currency: parsed.currency),
                statement: 0)
            statement.span.add(posted)
            lastGood = index
            // Rows before a line are no footer: rejected as they are.
            for problem in problems { statement.reject(problem.line) }
            statement.unlisted.rejected += problemsBeyond.dated + problemsBeyond.undated
            problems = []
            problemsBeyond = (0, 0)
        }
        // Lines after the last transaction (a total, "***END OF FILE***") are a
        // footer: left out only when asked, and listed either way. A row with a real
        // date in the date column is a transaction that cannot be read, never a footer.
        for problem in problems {
            if problem.index > lastGood && lastGood >= 0 && !problem.dated {
                if mapping.skipFooter {
                    statement.leaveOut(problem.line)
                } else {
                    statement.reject(
                        RejectedLine(
                            line: problem.line.line,
                            reason: problem.line.reason
                                + " (after the last transaction: if it is the bank's footer, import with --skip-footer)"
                        ))
                }
            } else {
                statement.reject(problem.line)
            }
        }
        if lastGood >= 0 && mapping.skipFooter {
            statement.unlisted.skipped += problemsBeyond.undated
            statement.unlisted.rejected += problemsBeyond.dated
        } else {
            statement.unlisted.rejected += problemsBeyond.dated + problemsBeyond.undated
        }
        if idColumn == nil { statement.madeIDs = statement.span.count }
        return statement
    }

    struct Record {
        let fields: [String]
        let line: Int
        /// Whether the row was longer than `StatementLimits.rowBytes` or `rowFields`, and cut.
        var cut = false
    }

    /// How many fields there are up to the last that is not empty.
    static func width(_ fields: [String]) -> Int {
        (fields.lastIndex { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? -1) + 1
    }

    /// Why the amount in `column` is most likely the first part of an amount the delimiter
    /// split ("1" and "234.56" of an unquoted 1,234.56, the rest in a column no option
    /// names), or nil when it is not.
    static func splitAmount(_ record: Record, _ column: Int?, mapped: Set<Int>, delimiter: Character) -> String? {
        guard delimiter == ",", let column, column + 1 < record.fields.count, !mapped.contains(column + 1) else {
            return nil
        }
        let amount = record.fields[column].trimmingCharacters(in: .whitespaces)
        let next = record.fields[column + 1].trimmingCharacters(in: .whitespaces)
        let digits = amount.filter { !"+-\u{2212}$€£(".contains($0) }
        let whole = next.prefix { $0.isASCIIDigit }
        let rest = next.dropFirst(whole.count)
        guard (1...3).contains(digits.count), digits.allSatisfy(\.isASCIIDigit), whole.count == 3,
            rest.isEmpty || (rest.first == "." && rest.dropFirst().allSatisfy { $0.isASCIIDigit || $0 == ")" })
        else { return nil }
        return
            "the amount '\(amount)' is followed by '\(next)' in column \(column + 2): if the bank means \(amount),\(next), "
            + "the ',' inside it split the field, which is not in quotes; ask the bank for an export with amounts "
            + "in quotes, or put this one in quotes, and import again"
    }

    /// The words of a row that gives a balance or a total rather than a
    /// transaction ("Beginning balance as of 01/01/2026", "Total credits"), or nil.
    static func summaryWords(_ record: Record) -> String? {
        for field in record.fields {
            let text = field.trimmingCharacters(in: .whitespaces)
            let lower = text.lowercased()
            if lower.contains("balance") || lower.hasPrefix("total") { return text }
        }
        return nil
    }

    /// The records of CSV text, with the line each starts on; quoted fields may
    /// hold delimiters, doubled quotes and line breaks. `unclosedQuote` is the
    /// line of a quote the text never closes (nil when every one is).
    static func rows(of text: String, delimiter: Character) -> (records: [Record], unclosedQuote: Int?) {
        let characters = StatementCharacters(DataBytes(Data(text.utf8)), encoding: .utf8(start: 0))
        var reader = RecordReader(characters, delimiter: delimiter, rowBytes: .max, rowFields: .max)
        var records: [Record] = []
        while let record = try? reader.next() { records.append(record) }
        return (records, reader.unclosedQuote)
    }

    /// The records of CSV text one at a time, each row's text held up to
    /// `rowBytes` and `rowFields` (a row past them comes back `cut`).
    struct RecordReader {
        private let characters: StatementCharacters
        private let delimiter: Character
        private let rowBytes: Int
        private let rowFields: Int
        private var quoted = false
        private var quoteLine = 1
        private var line = 1
        private var pending: Character?
        private var started = false

        init(
            _ characters: StatementCharacters, delimiter: Character, rowBytes: Int = StatementLimits.rowBytes,
            rowFields: Int = StatementLimits.rowFields
        ) {
            self.characters = characters
            self.delimiter = delimiter
            self.rowBytes = rowBytes
            self.rowFields = rowFields
        }

        /// The line of a quote the text never closes, once `next()` has given nil.
        var unclosedQuote: Int? { quoted ? quoteLine : nil }

        /// The next record, nil at the end of the text.
        /// - Throws: `StatementError.unreadable` when the file cannot be read on.
        mutating func next() throws -> Record? {
            if !started {
                started = true
                pending = try characters.next()
            }
            var fields: [String] = []
            var field = ""
            var wasQuoted = false
            var kept = 0
            var cut = false
            let start = line
            func keep(_ character: Character) {
                guard !cut else { return }
                kept += character.utf8.count
                if kept > rowBytes {
                    cut = true
                } else {
                    field.append(character)
                }
            }
            func endField() {
                if fields.count < rowFields {
                    fields.append(field)
                } else {
                    cut = true
                }
                field = ""
                wasQuoted = false
            }
            while let character = pending {
                pending = try characters.next()
                if quoted {
                    if character == "\"" {
                        if pending == "\"" {
                            keep("\"")
                            pending = try characters.next()
                        } else {
                            quoted = false
                        }
                    } else {
                        if character == "\n" || character == "\r\n" { line += 1 }
                        keep(character)
                    }
                    continue
                }
                switch character {
                case "\"" where field.isEmpty && !wasQuoted:
                    quoted = true
                    wasQuoted = true
                    quoteLine = line
                case delimiter:
                    endField()
                case "\n", "\r\n", "\r":
                    endField()
                    line += 1
                    return Record(fields: fields, line: start, cut: cut)
                default:
                    keep(character)
                }
            }
            if !field.isEmpty || !fields.isEmpty || wasQuoted || cut {
                endField()
                return Record(fields: fields, line: start, cut: cut)
            }
            return nil
        }
    }

    /// A date layout made of YYYY, MM (or M) and DD (or D) with separators
    /// between them. Months and days may be written with one digit or two
    /// whatever the layout says, and a time after the date (ISO date-times,
    /// `2016-03-18T10:22:00`, `2016-03-18 10:22`) is passed over.
    struct DateFormat {
        /// One piece of the layout.
        enum Part: Equatable {
            /// The year, four digits.
            case year
            /// The month, one or two digits.
            case month
            /// The day of the month, one or two digits.
            case day
            /// A character written between the numbers, as it is.
            case separator(Character)
        }
        let parts: [Part]

        init?(_ format: String) {
            var parts: [Part] = []
            var rest = Substring(format)
            while let first = rest.first {
                if rest.hasPrefix("YYYY") {
                    parts.append(.year)
                    rest = rest.dropFirst(4)
                } else if first == "M" {
                    parts.append(.month)
                    rest = rest.drop { $0 == "M" }
                } else if first == "D" {
                    parts.append(.day)
                    rest = rest.drop { $0 == "D" }
                } else {
                    parts.append(.separator(first))
                    rest = rest.dropFirst()
                }
            }
            guard parts.filter({ $0 == .year }).count == 1, parts.filter({ $0 == .month }).count == 1,
                parts.filter({ $0 == .day }).count == 1
            else { return nil }
            self.parts = parts
        }

        /// The usual layouts with `separator` between the numbers, named, in the order of a date shape's bits.
        static func usual(_ separator: Character) -> [(String, DateFormat)] {
            [
                "YYYY\(separator)MM\(separator)DD", "MM\(separator)DD\(separator)YYYY",
                "DD\(separator)MM\(separator)YYYY",
            ]
            .compactMap { name in DateFormat(name).map { (name, $0) } }
        }

        /// Which usual layouts read `date`, as bits (`usual(_:)`' order), with the date's
        /// separator; nil when none does. `usual` keeps the layouts of each separator met.
        static func shape(of date: String, usual: inout [Character: [DateFormat]]) -> (Character, UInt8)? {
            guard let separator = date.first(where: { !$0.isASCIIDigit }), !separator.isLetter else { return nil }
            if usual[separator] == nil {
                // A file of ever new separators is no statement: the suggestion is only a help.
                guard usual.count < 64 else { return nil }
                usual[separator] = Self.usual(separator).map(\.1)
            }
            var shape: UInt8 = 0
            for (bit, layout) in (usual[separator] ?? []).enumerated() where layout.day(date) != nil {
                shape |= 1 << bit
            }
            return shape == 0 ? nil : (separator, shape)
        }

        /// `suggestion(for:shapes:instead:)` with the shapes of `dates`, every date of the file.
        static func suggestion(for text: String, among dates: [String], instead current: DateFormat) -> String {
            var usual: [Character: [DateFormat]] = [:]
            var shapes: [Character: Set<UInt8>] = [:]
            for date in dates {
                if let (separator, shape) = shape(of: date, usual: &usual) {
                    shapes[separator, default: []].insert(shape)
                }
            }
            return suggestion(for: text, shapes: shapes, instead: current)
        }

        /// What to say after "is not a real date written …": the `--date-format`
        /// that reads `text`, preferring one that reads every date of the file;
        /// "" when no usual layout reads it. `shapes` says which usual layouts
        /// read each date of the file, by the date's first character that is no digit
        /// (the only separator a usual layout that reads it can have).
        static func suggestion(for text: String, shapes: [Character: Set<UInt8>], instead current: DateFormat)
            -> String
        {
            guard let separator = text.first(where: { !$0.isASCIIDigit }), !separator.isLetter else { return "" }
            let usual = usual(separator)
            // A layout the usual ones cannot make (the separator is a letter of YYYY, MM or DD) reads nothing.
            guard usual.count == 3 else { return "" }
            let candidates = usual.indices.filter { usual[$0].1.parts != current.parts && usual[$0].1.day(text) != nil }
            let mask = candidates.reduce(UInt8(0)) { $0 | 1 << $1 }
            let dated = (shapes[separator] ?? []).filter { $0 & mask != 0 }
            let readingAll = candidates.filter { candidate in dated.allSatisfy { $0 & 1 << candidate != 0 } }
            let names = (readingAll.isEmpty ? candidates : readingAll).map { usual[$0].0 }
            guard let first = names.first else { return "" }
            if names.count == 1 { return "; import with --date-format \(first), which reads it" }
            return "; import with --date-format \(first), or --date-format \(names[1]) if the bank writes the day first"
        }

        /// `YYYY-MM-DD` of `text`, if it has this layout and is a real day.
        func day(_ text: String) -> String? {
            var rest = Substring(text)
            var year: Int?
            var month: Int?
            var date: Int?
            for (index, part) in parts.enumerated() {
                switch part {
                case .separator(let character):
                    guard rest.first == character else { return nil }
                    rest = rest.dropFirst()
                case .year, .month, .day:
                    // Numbers written together ("YYYYMMDD") have their full widths; apart, a month or day may have one digit.
                    var together = index + 1 < parts.count
                    if together, case .separator = parts[index + 1] { together = false }
                    let width = part == .year ? 4 : 2
                    let digits = rest.prefix { $0.isASCIIDigit }.prefix(together ? width : Int.max)
                    let allowed = part == .year ? 4...4 : together ? 2...2 : 1...2
                    guard allowed.contains(digits.count), let number = Int(digits) else { return nil }
                    rest = rest.dropFirst(digits.count)
                    switch part {
                    case .year: year = number
                    case .month: month = number
                    default: date = number
                    }
                }
            }
            // A time of day may follow: "T10:22:00", " 10:22", "T10:22:00Z".
            if let first = rest.first {
                guard first == "T" || first == " ", rest.dropFirst().first?.isASCIIDigit == true else { return nil }
            }
            guard let year, let month, let date, let day = CivilDate(year: year, month: month, day: date) else {
                return nil
            }
            return day.description
        }
    }
}
