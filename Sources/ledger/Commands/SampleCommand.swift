import ArgumentParser
import Foundation
import LedgerKit

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Create a realistic sample company file to practise and test on.",
        discussion: """
            Three years of invoices, payments, bills, checks, deposits, transfers, card \
            charges, journal entries, monthly bank reconciliations and bank-feed lines, every \
            cached balance exact. The same --seed always gives the same file.
            """)

    @Argument(help: "The company file to create.")
    var file: String

    @Option(help: "How many transactions to make.")
    var transactions: Int

    @Option(help: "The seed of the random choices.")
    var seed: UInt64 = 1

    @Option(help: "The company's name.")
    var name = "Sample Company"

    @Flag(help: "Replace FILE if it exists.")
    var force = false

    func validate() throws {
        guard transactions >= 1 else { throw ValidationError("--transactions must be at least 1.") }
        guard transactions <= 50_000_000 else { throw ValidationError("--transactions can be at most 50,000,000.") }
    }

    func run() throws {
        try reportingFailures {
            let started = Date()
            let showProgress = Output.stderrIsTerminal
            let summary = try SampleCompany.generate(
                at: file, options: SampleOptions(transactions: transactions, seed: seed, name: name),
                replacing: force,
                progress: showProgress
                    ? { done, total in
                        Output.progress(
                            "Making transactions: \(Output.grouped(done)) of \(Output.grouped(total)) (\(done * 100 / total)%)"
                        )
                    } : nil)
            if showProgress { Output.endProgress() }
            let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
            Output.line(
                "Created \(file): \(Output.grouped(summary.transactions)) transactions, "
                    + "\(Output.grouped(summary.splits)) splits, \(Output.grouped(summary.customers)) customers, "
                    + "\(Output.grouped(summary.vendors)) vendors, \(summary.reconciliations) reconciliations, "
                    + "\(Output.grouped(summary.feedLines)) bank-feed lines in \(seconds) s.")
        }
    }
}
