import ArgumentParser
import LedgerKit

/// `ledger report`: the reports' subcommands.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a report of a company file.",
        subcommands: [TrialBalanceCommand.self])
}
