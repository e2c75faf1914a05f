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

/// Reads a bank's CSV export (RFC 4180 quoting) into statement lines.
public enum CSVReader {
    /// Reads the CSV file at `path`: a line that cannot be imported is rejected with its reason.
    /// - Throws: `StatementError` for an unreadable file or a mapping that does not fit it.
    public static func read(path: String, mapping: CSVMapping, style: AmountStyle = AmountStyle()) throws
        -> BankStatement
    {
        try read(try StatementLimits.data(path: path), path: path, mapping: mapping, style: style)
    }

    /// Reads the CSV bytes `data` of the file at `path` (named in messages).
    static func read(_ data: Data, path: String, mapping: CSVMapping, style: AmountStyle) throws -> BankStatement {
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
        let (read, unclosed) = rows(of: statementText(data), delimiter: mapping.delimiter)
        // A quote never closed would make every line after it one field: lines lost, not read.
        if let unclosed {
            throw StatementError.notAStatement(
                path: path,
                reason:
                    "a quote opened on line \(unclosed) is never closed, so every line after it would be read as one field; fix that line, then import again"
            )
        }
        var records = read
        // Leading lines (the bank's title, the account, a blank line) before the header.
        if let skip = mapping.skip {
            records = Array(records.dropFirst(skip))
        } else if mapping.hasHeader, !mapping.namedColumns.isEmpty,
            let start = records.prefix(30).firstIndex(where: { record in
                mapping.namedColumns.allSatisfy { name in
                    record.fields.contains {
                        $0.trimmingCharacters(in: .whitespaces).caseInsensitiveCompare(name) == .orderedSame
                    }
                }
            })
        {
            records = Array(records[start...])
        } else if mapping.hasHeader, let number = Int(mapping.date), number >= 1,
            let firstDated = records.prefix(30).firstIndex(where: { record in
                number <= record.fields.count
                    && format.day(record.fields[number - 1].trimmingCharacters(in: .whitespaces)) != nil
            }), firstDated >= 1
        {
            // Columns by number and lines before the header (a bank's summary): the header is the last row
            // before the first dated one whose date column holds no digit, so that a line of the statement
            // with a date that is not real is rejected with its reason, never taken for the header.
            let header =
                records[..<firstDated].lastIndex { record in
                    number <= record.fields.count && !record.fields[number - 1].contains(where: \.isASCIIDigit)
                } ?? (firstDated - 1)
            records = Array(records[header...])
        }
        guard !records.isEmpty else { throw StatementError.notAStatement(path: path, reason: "it is empty") }
        let header = mapping.hasHeader ? records[0].fields : []
        // Column names are never a date: a first row that has one in the date column is a line,
        // and taking it for the header would lose it.
        if mapping.hasHeader, let number = Int(mapping.date), number >= 1, number <= header.count,
            let day = format.day(header[number - 1].trimmingCharacters(in: .whitespaces))
        {
            throw StatementError.badOption(
                "Line \(records[0].line) of \(path) would be the header, but its column \(number) holds the date \(day): "
                    + "if the file has no row of column names, import with --no-header; if its names come later, "
                    + "say how many lines come before them with --skip. Nothing was imported.")
        }
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
        let dateColumn = try column(mapping.date, "--date-col") ?? 0
        let amountColumn = try column(mapping.amount, "--amount-col")
        let debitColumn = try column(mapping.debit, "--debit-col")
        let creditColumn = try column(mapping.credit, "--credit-col")
        let typeColumn = try column(mapping.type, "--type-col")
        let payeeColumn = try column(mapping.payee, "--payee-col")
        let memoColumn = try column(mapping.memo, "--memo-col")
        let idColumn = try column(mapping.id, "--id-col")
        let checkColumn = try column(mapping.check, "--check-col")
        let body = Array(records.dropFirst(mapping.hasHeader ? 1 : 0))
        let headerWidth = Self.width(header)
        let mapped = Set(
            [
                dateColumn, amountColumn, debitColumn, creditColumn, typeColumn, payeeColumn, memoColumn, idColumn,
                checkColumn,
            ].compactMap { $0 })

        func field(_ record: Record, _ index: Int?) -> String? {
            guard let index, index < record.fields.count else { return nil }
            let value = record.fields[index].trimmingCharacters(in: .whitespaces)
            return value.isEmpty ? nil : value
        }
        // The decimal separator is the file's: found from all its amounts first.
        let style = style.detected(
            from: body.flatMap { record in [amountColumn, debitColumn, creditColumn].compactMap { field(record, $0) } })
        let debitWords = Set(mapping.debitWords.map { $0.lowercased() })
        let creditWords = Set(mapping.creditWords.map { $0.lowercased() })

        var statement = BankStatement()
        var contentIDs = ContentIDs(prefix: "csv")
        var lastGood = -1
        var problems: [(index: Int, line: RejectedLine, dated: Bool)] = []
        var fileDates: [String]?
        for (index, record) in body.enumerated() {
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            func reject(_ reason: String) {
                let dated = field(record, dateColumn).flatMap(format.day) != nil
                problems.append((index, RejectedLine(line: record.line, reason: reason), dated))
            }
            // A row with no date or no amount that speaks of a balance or a total is the bank's summary.
            func passOver() -> Bool {
                guard let words = summaryWords(record) else { return false }
                statement.summaries.append(RejectedLine(line: record.line, reason: words))
                return true
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
                if fileDates == nil { fileDates = body.compactMap { field($0, dateColumn) } }
                reject(
                    "the date '\(dateText)' is not a real date written \(mapping.dateFormat)"
                        + DateFormat.suggestion(for: dateText, among: fileDates ?? [], instead: format))
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
                fitid = contentIDs.next(posted: posted, amount: parsed.cents, payee: payee, memo: memo)
            } else if fitid.isEmpty {
                reject("it has no id in column \((idColumn ?? 0) + 1)")
                continue
            }
            statement.lines.append(
                StatementLine(
                    fitid: fitid, posted: posted, amount: parsed.cents, payee: payee, memo: memo, line: record.line,
                    checkNumber: field(record, checkColumn), currency: parsed.currency))
            lastGood = index
        }
        // Lines after the last transaction (a total, "***END OF FILE***") are a
        // footer: left out only when asked, and listed either way. A row with a real
        // date in the date column is a transaction that cannot be read, never a footer.
        for problem in problems {
            if problem.index > lastGood && lastGood >= 0 && !problem.dated {
                if mapping.skipFooter {
                    statement.skipped.append(problem.line)
                } else {
                    statement.rejected.append(
                        RejectedLine(
                            line: problem.line.line,
                            reason: problem.line.reason
                                + " (after the last transaction: if it is the bank's footer, import with --skip-footer)"
                        ))
                }
            } else {
                statement.rejected.append(problem.line)
            }
        }
        if idColumn == nil { statement.madeIDs = statement.lines.count }
        return statement
    }

    struct Record {
        let fields: [String]
        let line: Int
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
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var wasQuoted = false
        var quoteLine = 1
        var line = 1
        var start = 1
        var characters = text.makeIterator()
        var pending: Character? = characters.next()
        while let character = pending {
            pending = characters.next()
            if quoted {
                if character == "\"" {
                    if pending == "\"" {
                        field.append("\"")
                        pending = characters.next()
                    } else {
                        quoted = false
                    }
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.isEmpty && !wasQuoted:
                quoted = true
                wasQuoted = true
                quoteLine = line
            case delimiter:
                fields.append(field)
                field = ""
                wasQuoted = false
            case "\n", "\r\n", "\r":
                fields.append(field)
                records.append(Record(fields: fields, line: start))
                fields = []
                field = ""
                wasQuoted = false
                line += 1
                start = line
            default:
                field.append(character)
            }
        }
        if !field.isEmpty || !fields.isEmpty || wasQuoted {
            fields.append(field)
            records.append(Record(fields: fields, line: start))
        }
        return (records, quoted ? quoteLine : nil)
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

        /// What to say after "is not a real date written …": the `--date-format`
        /// that reads `text`, preferring one that reads every date of the file
        /// (`dates`); "" when no usual layout reads it.
        static func suggestion(for text: String, among dates: [String], instead current: DateFormat) -> String {
            guard let separator = text.first(where: { !$0.isASCIIDigit }), !separator.isLetter else { return "" }
            let candidates = [
                "YYYY\(separator)MM\(separator)DD", "MM\(separator)DD\(separator)YYYY",
                "DD\(separator)MM\(separator)YYYY",
            ]
            .compactMap { name in DateFormat(name).map { (name, $0) } }
            .filter { $0.1.parts != current.parts && $0.1.day(text) != nil }
            let dated = dates.filter { date in candidates.contains { $0.1.day(date) != nil } }
            let readingAll = candidates.filter { candidate in dated.allSatisfy { candidate.1.day($0) != nil } }
            let names = (readingAll.isEmpty ? candidates : readingAll).map(\.0)
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
