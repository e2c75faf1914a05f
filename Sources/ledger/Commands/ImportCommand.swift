import ArgumentParser
import Foundation
import LedgerKit

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bring a bank or card statement (OFX, QFX, CSV) into the bank feed, without duplicates.",
        discussion: """
            Reads OFX 1.x (SGML) and 2.x (XML) statements, QFX (Web Connect) files, and with \
            --csv a bank's CSV export. Every line goes into the account's bank feed as 'new'; a \
            line whose bank id (FITID) the account already has is counted and skipped, so \
            importing the same file twice adds nothing. One write transaction per file: if any \
            line cannot be read, nothing is added and the lines are listed. When the statement \
            gives its ledger balance, it is compared with the books. Then 'ledger feed match' \
            pairs the new lines with transactions. Exit status: 0 imported, 1 lines rejected \
            (nothing added), 2 could not import (file unchanged), 64 bad usage.
            """)

    @Argument(help: "The company file.")
    var file: String

    @Argument(help: "The statement: .ofx, .qfx, .qbo, or .csv with --csv.")
    var statement: String

    @Option(help: "The bank or card account the statement is of, by name or number (\"Checking\", 1000).")
    var account: String

    @Flag(help: "The statement is CSV; say which columns hold what with the --*-col options.")
    var csv = false

    @Option(help: "CSV: the date column, by number (from 1) or header name.")
    var dateCol: String?

    @Option(help: "CSV: the amount column (deposits positive, withdrawals negative).")
    var amountCol: String?

    @Option(help: "CSV: the payee column.")
    var payeeCol: String?

    @Option(help: "CSV: the memo column.")
    var memoCol: String?

    @Option(help: "CSV: the column with the bank's id of each line; without it ids are made from each line's content.")
    var idCol: String?

    @Option(help: "CSV: how dates are written, with YYYY, MM and DD (\"MM/DD/YYYY\").")
    var dateFormat = "YYYY-MM-DD"

    @Flag(help: "CSV: the first row is a line, not column names.")
    var noHeader = false

    @Option(help: "CSV: the character between fields.")
    var delimiter = ","

    @Flag(help: "Amounts use a comma before the cents (12,34).")
    var decimalComma = false

    @Flag(help: "Print one JSON object on stdout instead of text.")
    var json = false

    var isCSV: Bool { csv || statement.lowercased().hasSuffix(".csv") }

    func validate() throws {
        if isCSV {
            guard dateCol != nil, amountCol != nil else {
                throw ValidationError("A CSV statement needs --date-col and --amount-col (numbers from 1, or header names).")
            }
            guard delimiter.count == 1 else { throw ValidationError("--delimiter must be one character, such as , or ;.") }
        }
    }

    func run() throws {
        var report: ImportReport?
        try reportingFailures {
            let style = AmountStyle(decimalComma: decimalComma)
            let parsed = isCSV
                ? try CSVReader.read(path: statement, mapping: CSVMapping(date: dateCol!, amount: amountCol!, payee: payeeCol, memo: memoCol,
                                                                          id: idCol, dateFormat: dateFormat, hasHeader: !noHeader,
                                                                          delimiter: delimiter.first!), style: style)
                : try OFXReader.read(path: statement, style: style)
            report = try FeedImport.run(file: file, statement: parsed, from: statement, account: account)
        }
        guard let report else { return }
        if json {
            try Output.json(report)
        } else {
            if report.rejected.isEmpty {
                Output.line("\(report.statement) into \(report.account): \(report.added) added, \(report.alreadyPresent) already present.")
            } else {
                Output.line("\(report.statement): nothing was imported; \(Output.count(report.rejected.count, "line")) cannot be read:")
                for line in report.rejected { Output.line("  line \(line.line): \(line.reason)") }
            }
            if let check = report.balanceCheck {
                let statement = Money(cents: check.statement), books = Money(cents: check.books)
                Output.line(check.agrees
                    ? "The statement's balance on \(check.date), \(statement), agrees with the books."
                    : "The statement says \(report.account) had \(statement) on \(check.date); the books say \(books) (difference \(statement - books)).")
            }
        }
        if !report.rejected.isEmpty { throw ExitCode(1) }
    }
}
