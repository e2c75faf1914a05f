import Crypto
import Foundation

/// Which columns of a bank's CSV export hold what, and how dates are written.
public struct CSVMapping: Sendable {
    /// A column by its 1-based number or its header's name.
    public var date: String
    public var amount: String
    public var payee: String?
    public var memo: String?
    /// The bank's id of each line; without one, an id is made from the line's
    /// date, amount, payee and memo (and how many such lines came before).
    public var id: String?
    /// `YYYY-MM-DD`, `MM/DD/YYYY`, `DD.MM.YYYY`…: YYYY, MM and DD where the parts stand.
    public var dateFormat: String
    public var hasHeader: Bool
    public var delimiter: Character

    public init(date: String, amount: String, payee: String? = nil, memo: String? = nil, id: String? = nil,
                dateFormat: String = "YYYY-MM-DD", hasHeader: Bool = true, delimiter: Character = ",") {
        self.date = date
        self.amount = amount
        self.payee = payee
        self.memo = memo
        self.id = id
        self.dateFormat = dateFormat
        self.hasHeader = hasHeader
        self.delimiter = delimiter
    }
}

/// Reads a bank's CSV export (RFC 4180 quoting) into statement lines.
public enum CSVReader {
    public static func read(path: String, mapping: CSVMapping, style: AmountStyle = AmountStyle()) throws -> BankStatement {
        guard let data = FileManager.default.contents(atPath: path) else { throw StatementError.unreadable(path: path) }
        let records = rows(of: statementText(data), delimiter: mapping.delimiter)
        guard !records.isEmpty else { throw StatementError.notAStatement(path: path, reason: "it is empty") }
        let header = mapping.hasHeader ? records[0].fields : []
        func column(_ name: String?, _ option: String) throws -> Int? {
            guard let name else { return nil }
            if let number = Int(name) {
                guard number >= 1 else { throw StatementError.badOption("\(option) \(name): columns are numbered from 1.") }
                return number - 1
            }
            guard let index = header.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).caseInsensitiveCompare(name) == .orderedSame }) else {
                throw StatementError.badOption("\(option) '\(name)': the file has no such column; its columns are \(header.map { "'\($0)'" }.joined(separator: ", ")).")
            }
            return index
        }
        let dateColumn = try column(mapping.date, "--date-col")!, amountColumn = try column(mapping.amount, "--amount-col")!
        let payeeColumn = try column(mapping.payee, "--payee-col"), memoColumn = try column(mapping.memo, "--memo-col")
        let idColumn = try column(mapping.id, "--id-col")
        guard let format = DateFormat(mapping.dateFormat) else {
            throw StatementError.badOption("--date-format '\(mapping.dateFormat)' must hold YYYY, MM and DD once each, as in MM/DD/YYYY.")
        }

        var statement = BankStatement()
        var seen: [String: Int] = [:]
        for record in records.dropFirst(mapping.hasHeader ? 1 : 0) {
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            func field(_ index: Int?) -> String? {
                guard let index, index < record.fields.count else { return nil }
                let value = record.fields[index].trimmingCharacters(in: .whitespaces)
                return value.isEmpty ? nil : value
            }
            func reject(_ reason: String) { statement.rejected.append(RejectedLine(line: record.line, reason: reason)) }
            guard let dateText = field(dateColumn) else { reject("it has no date in column \(dateColumn + 1)"); continue }
            guard let posted = format.day(dateText) else {
                reject("the date '\(dateText)' is not a real date written \(mapping.dateFormat)")
                continue
            }
            guard let amountText = field(amountColumn) else { reject("it has no amount in column \(amountColumn + 1)"); continue }
            let amount: Int64
            switch style.cents(amountText) {
            case .failure(let error):
                reject(error.message)
                continue
            case .success(let cents):
                amount = cents
            }
            let payee = field(payeeColumn), memo = field(memoColumn)
            var fitid = field(idColumn) ?? ""
            if idColumn == nil {
                // The same date, amount, payee and memo twice in one file are two lines: count them.
                let key = [posted, String(amount), payee ?? "", memo ?? ""].joined(separator: "\u{1F}")
                let occurrence = seen[key, default: 0]
                seen[key] = occurrence + 1
                let digest = SHA256.hash(data: Data((key + "\u{1F}\(occurrence)").utf8))
                fitid = "csv-" + digest.prefix(12).map { String(format: "%02x", $0) }.joined()
            } else if fitid.isEmpty {
                reject("it has no id in column \(idColumn! + 1)")
                continue
            }
            statement.lines.append(StatementLine(fitid: fitid, posted: posted, amount: amount, payee: payee, memo: memo, line: record.line))
        }
        return statement
    }

    struct Record {
        let fields: [String]
        let line: Int
    }

    /// The records of CSV text, with the line each starts on; quoted fields may
    /// hold delimiters, doubled quotes and line breaks.
    static func rows(of text: String, delimiter: Character) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var quoted = false, wasQuoted = false
        var line = 1, start = 1
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
        return records
    }

    /// A date layout made of YYYY, MM and DD with any separators.
    struct DateFormat {
        let year: Range<Int>, month: Range<Int>, day: Range<Int>
        let length: Int
        let separators: [Int: Character]

        init?(_ format: String) {
            let characters = Array(format)
            func find(_ part: String) -> Range<Int>? {
                guard let range = format.range(of: part), format.components(separatedBy: part).count == 2 else { return nil }
                let start = format.distance(from: format.startIndex, to: range.lowerBound)
                return start..<(start + part.count)
            }
            guard let year = find("YYYY"), let month = find("MM"), let day = find("DD") else { return nil }
            self.year = year
            self.month = month
            self.day = day
            length = characters.count
            var separators: [Int: Character] = [:]
            for (offset, character) in characters.enumerated() where !year.contains(offset) && !month.contains(offset) && !day.contains(offset) {
                separators[offset] = character
            }
            self.separators = separators
        }

        /// `YYYY-MM-DD` of `text`, if it has this layout and is a real day.
        func day(_ text: String) -> String? {
            let characters = Array(text)
            guard characters.count == length, separators.allSatisfy({ characters[$0.key] == $0.value }) else { return nil }
            func number(_ range: Range<Int>) -> Int? {
                let part = characters[range]
                return part.allSatisfy(\.isASCIIDigit) ? Int(String(part)) : nil
            }
            guard let y = number(year), let m = number(month), let d = number(day), let date = CivilDate(year: y, month: m, day: d) else {
                return nil
            }
            return date.description
        }
    }
}
