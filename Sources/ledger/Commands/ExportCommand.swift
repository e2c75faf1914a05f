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
            with 'ledger report trial-balance' to the cent. --format csv writes date, transaction, \
            kind, number, payee, account, account number, amount, currency, memo and cleared mark \
            for every split. Read-only. A file whose transactions do not balance is refused: \
            rebuild it first. So is one with splits of transactions that no longer exist \
            (orphan-split), which an export would leave out: rebuild gathers them. So is one \
            with an amount that is not a whole number of cents, or more than \
            10,000,000,000,000.00 either way (verify's invalid-value): correct it by hand. \
            Exit status: 0 written, 2 could not (nothing written at --out), 64 bad usage.
            """)

    @Argument(help: "The company file.")
    var file: String

    @Option(help: "hledger or csv.")
    var format: ExportFormat

    @Option(help: "Write here instead of standard output (the file appears only when complete).")
    var out: String?

    func run() throws {
        try reportingFailures {
            let count = try JournalExport.export(file: file, format: format, to: out)
            if let out { Output.message("Wrote \(Output.count(count, "transaction")) to \(out).") }
        }
    }
}
