import ArgumentParser
import LedgerKit

/// `ledger report trial-balance`: every account's balance as debits and credits.
struct TrialBalanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trial-balance",
        abstract: "Every account's balance from its transactions, as debits and credits that must be equal.",
        discussion: """
            Balances are summed from the transactions themselves, not from the balances the \
            file keeps, so this is what to read after 'ledger verify'. A split the sums cannot \
            take (an amount that is not whole cents within the limit, no account, or with \
            --as-of a transaction missing or without a real date) is left out and counted. \
            Exit status 0 when debits equal credits and nothing was left out, 1 when they \
            differ or splits were left out, 2 when the file cannot be read. With --json, \
            amounts are whole cents and left_out counts the splits left out.
            """)

    @Argument(help: "The company file.")
    var file: String

    @Option(name: .customLong("as-of"), help: "Include transactions up to and including this day (YYYY-MM-DD).")
    var asOf: String?

    @Flag(help: "Print one JSON object on stdout instead of text.")
    var json = false

    func validate() throws {
        if let asOf, CivilDate(asOf) == nil {
            throw ValidationError("--as-of '\(asOf)' is not a date; write it as YYYY-MM-DD, for example 2025-12-31.")
        }
    }

    func run() throws {
        var report: TrialBalance?
        try reportingFailures { report = try TrialBalance.read(path: file, asOf: asOf.flatMap(CivilDate.init)) }
        guard let report else { return }
        if json {
            try Output.json(report)
        } else {
            let title =
                "Trial balance of \(report.company ?? file)" + (report.asOf.map { " as of \($0)" } ?? "")
                + (report.currency.map { " (\($0))" } ?? "")
            Output.line(title)
            let names = report.lines.map { [$0.number, $0.name].compactMap { $0 }.joined(separator: " ") }
            // The name column is as wide as the longest name: a name is never cut.
            let width = max(50, (names.map(\.count).max() ?? 0) + 2)
            Output.line(pad("Account", width) + left("Debit", 18) + left("Credit", 18))
            for (line, name) in zip(report.lines, names) {
                Output.line(
                    pad(name, width) + left(line.debit.cents == 0 ? "" : line.debit.description, 18)
                        + left(line.credit.cents == 0 ? "" : line.credit.description, 18))
            }
            Output.line(
                pad("Total", width) + left(report.totalDebits.description, 18)
                    + left(report.totalCredits.description, 18))
            let differ = "Debits and credits differ by \((report.totalDebits - report.totalCredits).magnitude)"
            if let leftOut = report.leftOut.sentence {
                Output.line(
                    (report.isBalanced ? "Debits equal credits for the splits summed, but " : differ + ", and ")
                        + leftOut + ".")
            } else {
                Output.line(
                    report.isBalanced
                        ? "Debits equal credits: the books balance."
                        : differ + ": the books do not balance; run ledger verify.")
            }
        }
        if !report.isBalanced || report.leftOut.count > 0 { throw ExitCode(1) }
    }

    private func pad(_ text: String, _ width: Int) -> String { Output.padded(text, width) }

    private func left(_ text: String, _ width: Int) -> String { Output.rightAligned(text, width) }
}
