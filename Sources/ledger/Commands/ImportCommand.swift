import ArgumentParser
import Foundation
import LedgerKit

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bring a bank or card statement (OFX, QFX, CSV) into the bank feed, without duplicates.",
        discussion: """
            Reads OFX 1.x (SGML) and 2.x (XML) statements, QFX (Web Connect) and QBO files, \
            and with --csv a bank's CSV export. Every line goes into the account's bank feed as \
            'new'; a line the account already has (its bank id, FITID or --id-col, day and \
            amount) is counted and skipped, so importing the same file twice adds nothing; two \
            lines a bank gave one id are two lines, and a line under an id the feed has for \
            another day or amount is added as its own and listed. A line with the day and amount of a line imported before from another file \
            (an OFX statement and an overlapping CSV export) is set aside as a probable \
            duplicate ('excluded'; 'ledger feed include' takes it in). A check number (OFX \
            CHECKNUM, --check-col) is kept in the line's memo as "Check 1043". CSV rows that give \
            a balance or a total are passed over and counted. A file of several statements (checking and savings, a card) needs \
            --account ACCTID=NAME for each; investment statements are refused. One write \
            transaction per file: if any line cannot be read, or the file ends before its \
            statement does, nothing is added and the lines are listed. When a statement gives \
            its ledger balance, it is compared with its account's books. Then 'ledger feed \
            match' pairs the new lines with transactions. Exit status: 0 imported, 1 lines \
            rejected (nothing added), 2 could not import (file unchanged), 64 bad usage.
            """)

    @Argument(help: "The company file.")
    var file: String

    @Argument(help: "The statement: .ofx, .qfx, .qbo, or .csv with --csv.")
    var statement: String

    @Option(
        help: ArgumentHelp(
            "The bank or card account the statement is of, by name or number (\"Checking\", 1000). For a file of several statements, once per statement as ACCTID=NAME (\"--account 1234567=Checking --account 7654321=Savings\").",
            valueName: "account"))
    var account: [String] = []

    @Flag(help: "Import a card statement into a bank account, or a bank statement into a card account.")
    var force = false

    @Flag(help: "The statement is CSV; say which columns hold what with the --*-col options.")
    var csv = false

    @Option(help: "CSV: the date column, by number (from 1) or header name.")
    var dateCol: String?

    @Option(help: "CSV: the amount column (deposits positive, withdrawals negative).")
    var amountCol: String?

    @Option(
        help: "CSV: a column of withdrawals, written as positive numbers (with --credit-col instead of --amount-col).")
    var debitCol: String?

    @Option(help: "CSV: a column of deposits, written as positive numbers (with --debit-col).")
    var creditCol: String?

    @Option(
        help:
            "CSV: a column saying whether each line is a debit or a credit; its words are --debit-words and --credit-words."
    )
    var typeCol: String?

    @Option(help: "CSV: the words of --type-col for money out, comma-separated.")
    var debitWords = "debit,dr,withdrawal,payment,dbit"

    @Option(help: "CSV: the words of --type-col for money in, comma-separated.")
    var creditWords = "credit,cr,deposit,crdt"

    @Option(help: "CSV: the payee column.")
    var payeeCol: String?

    @Option(help: "CSV: the memo column.")
    var memoCol: String?

    @Option(help: "CSV: the column with the bank's id of each line; without it ids are made from each line's content.")
    var idCol: String?

    @Option(
        name: [.customLong("check-col"), .customLong("check-column")],
        help: "CSV: the check number column; a check's number becomes the transaction's number when the line is added.")
    var checkCol: String?

    @Option(
        help:
            "CSV: how dates are written, with YYYY, MM or M, DD or D (\"MM/DD/YYYY\", \"M/D/YYYY\", \"D.M.YYYY\"); a time after the date is passed over."
    )
    var dateFormat = "YYYY-MM-DD"

    @Flag(help: "CSV: the first row is a line, not column names.")
    var noHeader = false

    @Option(help: "CSV: the character between fields.")
    var delimiter = ","

    @Option(help: "CSV: lines to pass over before the header (by default the header is found by its column names).")
    var skip: Int?

    @Flag(
        help: "CSV: leave out trailing lines that are not transactions (a total, '***END OF FILE***'); they are listed."
    )
    var skipFooter = false

    @Flag(
        help: "Amounts use a comma before the cents (1.234,56); by default the file's own amounts say, when they agree."
    )
    var decimalComma = false

    @Flag(help: "Amounts use a point before the cents (1,234.56).")
    var decimalPoint = false

    @Flag(
        help:
            "Round amounts with fractions of a cent (-8.4850) to whole cents, half to even; the summary says how many and by how much."
    )
    var roundCents = false

    @OptionGroup var wait: WaitOption

    @Flag(help: "Print one JSON object on stdout instead of text.")
    var json = false

    var isCSV: Bool { csv || statement.lowercased().hasSuffix(".csv") }

    func validate() throws {
        guard !account.isEmpty else {
            throw ValidationError(
                "Name the account with --account (for several statements, --account ACCTID=NAME for each).")
        }
        let plain = account.filter { !$0.contains("=") }
        guard plain.count <= 1 else {
            throw ValidationError(
                "--account \(plain.map { "'\($0)'" }.joined(separator: " and --account ")): give one account for a file of one statement, or ACCTID=NAME for each statement of a file of several."
            )
        }
        guard !(decimalComma && decimalPoint) else {
            throw ValidationError("Give --decimal-comma or --decimal-point, not both.")
        }
        if isCSV {
            guard dateCol != nil, amountCol != nil || debitCol != nil || creditCol != nil else {
                throw ValidationError(
                    "A CSV statement needs --date-col and --amount-col, or --debit-col and --credit-col (numbers from 1, or header names)."
                )
            }
            guard amountCol == nil || (debitCol == nil && creditCol == nil) else {
                throw ValidationError("Give --amount-col, or --debit-col and --credit-col, not both.")
            }
            guard delimiter.count == 1 else {
                throw ValidationError("--delimiter must be one character, such as , or ;.")
            }
            guard (skip ?? 0) >= 0 else { throw ValidationError("--skip must be 0 or more.") }
        }
    }

    func run() throws {
        var report: ImportReport?
        try reportingFailures {
            let style = AmountStyle(
                decimal: decimalComma ? .comma : decimalPoint ? .point : nil, roundCents: roundCents)
            let parsed: StatementFile
            // The lines go to a working file, not memory: a statement may be of any size.
            let spool = try StatementSpool()
            if isCSV {
                let words = { (text: String) in
                    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                }
                let mapping = CSVMapping(
                    date: dateCol ?? "1", amount: amountCol, payee: payeeCol, memo: memoCol, id: idCol, check: checkCol,
                    debit: debitCol, credit: creditCol, type: typeCol,
                    debitWords: words(debitWords), creditWords: words(creditWords),
                    dateFormat: dateFormat, hasHeader: !noHeader, delimiter: delimiter.first ?? ",",
                    skip: skip, skipFooter: skipFooter)
                parsed = StatementFile(statements: [
                    try CSVReader.read(path: statement, mapping: mapping, style: style, into: spool)
                ])
            } else {
                parsed = try OFXReader.readFile(path: statement, style: style, into: spool)
            }
            let choice = AccountChoice(account, accountIDs: parsed.statements.compactMap(\.accountID))
            report = try FeedImport.run(
                file: file, statements: parsed, lines: spool, from: statement, accounts: choice, force: force,
                wait: wait.seconds)
        }
        guard let report else { return }
        if json {
            try Output.json(report)
        } else {
            printText(report)
        }
        if report.rejectedCount > 0 { throw ExitCode(1) }
    }

    private func printText(_ report: ImportReport) {
        if report.rejectedCount > 0 {
            Output.line(
                "\(report.statement): nothing was imported; \(Output.count(report.rejectedCount, "line")) cannot be read:"
            )
            for line in report.rejected { Output.line("  line \(line.line): \(line.reason)") }
            if report.rejectedCount > report.rejected.count {
                Output.line(
                    "  and \(Output.count(report.rejectedCount - report.rejected.count, "more line")), not listed.")
            }
        }
        for part in report.statements {
            let what = part.kind == .unknown ? report.statement : "\(report.statement): \(part.name)"
            if report.rejectedCount == 0 {
                let set = part.probableDuplicates.count
                Output.line(
                    "\(what) into \(part.account): \(part.added) added, \(part.alreadyPresent) already present"
                        + (set == 0 ? "." : ", \(set) set aside as probable \(set == 1 ? "duplicate" : "duplicates")."))
                for duplicate in part.probableDuplicates {
                    let words = [duplicate.posted, Money(cents: duplicate.amount).description, duplicate.payee]
                        .compactMap { $0 }
                    Output.line(
                        "  line \(duplicate.line) (\(words.joined(separator: ", "))) has the day and amount of line \(duplicate.original), imported before from another file: set aside as excluded."
                    )
                }
                if !part.probableDuplicates.isEmpty {
                    Output.line(
                        "  If \(part.probableDuplicates.count == 1 ? "it is a real line" : "one is a real line") of its own: ledger feed include \(file) \(part.probableDuplicates.map { String($0.line) }.joined(separator: " "))"
                    )
                }
                for reused in part.reusedIDs {
                    let words = [reused.posted, Money(cents: reused.amount).description, reused.payee].compactMap { $0 }
                    let before = [reused.originalPosted, reused.originalAmount.map { Money(cents: $0).description }]
                        .compactMap { $0 }
                    Output.line(
                        "  line \(reused.line) (\(words.joined(separator: ", "))) has the bank's id \(reused.fitid), as line \(reused.original) (\(before.joined(separator: ", "))) imported before: added as a line of its own, id \(reused.storedAs)."
                    )
                }
                if !part.reusedIDs.isEmpty {
                    Output.line(
                        "  If \(part.reusedIDs.count == 1 ? "it corrects that line" : "one corrects the line it shares its id with") rather than being a line of its own: ledger feed exclude \(file) \(part.reusedIDs.map { String($0.line) }.joined(separator: " "))"
                    )
                }
            }
            if !part.summaries.isEmpty {
                let more = part.unlisted?.summaries ?? 0
                Output.line(
                    "  \(Output.count(part.summaries.count + more, "balance or summary row")) passed over: "
                        + part.summaries.map { "line \($0.line) (\($0.reason))" }.joined(separator: ", ")
                        + (more > 0 ? " and \(more) more." : "."))
            }
            if part.madeIDs > 0 && part.kind != .unknown {
                Output.line(
                    "  \(Output.count(part.madeIDs, "line")) came without the bank's id; ids were made from their date, amount, payee and memo."
                )
            }
            if part.rounded.lines > 0 {
                Output.line(
                    "  \(Output.count(part.rounded.lines, "amount")) rounded to whole cents, by \(part.rounded.byCents) cents in all."
                )
            }
            for line in part.skipped {
                Output.line("  left out line \(line.line) as the file's footer: \(line.reason)")
            }
            if let more = part.unlisted?.skipped, more > 0 {
                Output.line("  left out \(Output.count(more, "more line")) as the file's footer, not listed.")
            }
            if let check = part.balanceCheck {
                let statement = Money(cents: check.statement)
                let books = Money(cents: check.books)
                Output.line(
                    check.agrees
                        ? "The statement's balance on \(check.date), \(statement), agrees with the books."
                        : "The statement says \(part.account) had \(statement) on \(check.date); the books say \(books) (difference \(statement - books))."
                )
            }
        }
    }
}
