import ArgumentParser
import Foundation
import LedgerKit

/// `ledger export`: the whole book as an hledger journal or CSV.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the whole book for other tools: an hledger journal, or CSV with one row per split.",
        discussion: """
            --format hledger writes account declarations with their types and every transaction \
            with its postings, in the company's currency, so that 'hledger -f PATH balance' agrees \
            with 'ledger report trial-balance' to the cent; two accounts whose names read alike \
            there ('Checking' and 'Checking ') stay apart, the later one as 'Checking #950'. \
            --format csv writes date, transaction, \
            kind, number, payee, account, account number, amount, currency, memo and cleared mark \
            for every split; a text field that begins with =, +, -, @, a tab or a carriage return \
            gets a leading ' so that a spreadsheet does not run it as a formula. Read-only. A file whose transactions do not balance is refused: \
            rebuild it first. So is one with splits of transactions that no longer exist \
            (orphan-split), which an export would leave out: rebuild gathers them. So is one \
            with an amount that is not a whole number of cents, or more than \
            10,000,000,000,000.00 either way (verify's invalid-value): correct it by hand. \
            Text that is not UTF-8 is written with U+FFFD in place of its bad bytes, and said. \
            Exit status: 0 written, 1 written but some text was not UTF-8, 2 could not (nothing \
            written at --out), 64 bad usage.
            """)

    @Argument(help: "The company file.")
    var file: String

    @Option(help: "hledger or csv.")
    var format: ExportFormat

    @Option(help: "Write here instead of standard output (the file appears only when complete).")
    var out: String?

    func run() throws {
        try reportingFailures {
            let summary = try JournalExport.export(file: file, format: format, to: out)
            if let out { Output.message("Wrote \(Output.count(summary.transactions, "transaction")) to \(out).") }
            if summary.textsNotUTF8 > 0 {
                let texts = Output.count(summary.textsNotUTF8, "stored text")
                Output.message(
                    "\(texts) of \(file) held bytes that are not UTF-8, written as U+FFFD (\u{FFFD}): every amount is exported, but correct those names or memos to keep them exact."
                )
                throw ExitCode(1)
            }
        }
    }
}
