import ArgumentParser
import LedgerKit

struct AccountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "List the chart of accounts: number, full name, type and balance.",
        discussion: """
            Every account by its number and its full name ("Payroll Liabilities:Federal \\
            Withholding"): what --account, --to-account, --deposits-to and --withdrawals-to take. \\
            Balances are summed from the transactions, in the company's currency, as the \\
            account's type reads them: assets and expenses as debits, liabilities, equity and \\
            income as credits, each positive when it is the usual side. With --json, balance is \\
            whole cents with debits positive and credits negative, as the company file keeps \\
            money. A split a balance cannot take (an amount that is not whole cents within \
            the limit, or no account that exists) is left out and counted (left_out in \
            --json). Read-only. Exit status: 0 listed, 1 listed with splits left out, 2 the \
            file cannot be read, 64 bad usage.
            """)

    @Argument(help: "The company file.")
    var file: String

    @Flag(help: "Print one JSON object on stdout instead of text.")
    var json = false

    func run() throws {
        var chart: ChartOfAccounts?
        try reportingFailures { chart = try ChartOfAccounts.read(path: file) }
        guard let chart else { return }
        if json {
            try Output.json(chart)
            if chart.leftOut.count > 0 { throw ExitCode(1) }
            return
        }
        let title = "Chart of accounts of \(chart.company ?? file)" + (chart.currency.map { " (\($0))" } ?? "")
        Output.line(title)
        let names = chart.accounts.map { $0.name + ($0.isActive ? "" : " (inactive)") }
        let numberWidth = max(8, (chart.accounts.map { ($0.number ?? "").count }.max() ?? 0) + 2)
        let nameWidth = max(30, (names.map(\.count).max() ?? 0) + 2)
        let typeWidth = max(26, (chart.accounts.map { ($0.type?.displayName ?? "unknown").count }.max() ?? 0) + 2)
        Output.line(
            Output.padded("Number", numberWidth) + Output.padded("Account", nameWidth)
                + Output.padded("Type", typeWidth)
                + Output.rightAligned("Balance", 16))
        for (account, name) in zip(chart.accounts, names) {
            Output.line(
                Output.padded(account.number ?? "", numberWidth) + Output.padded(name, nameWidth)
                    + Output.padded(account.type?.displayName ?? "unknown", typeWidth)
                    + Output.rightAligned(account.naturalBalance.description, 16))
        }
        Output.line(Output.count(chart.accounts.count, "account"))
        if let leftOut = chart.leftOut.sentence {
            Output.line("Balances are not whole: " + leftOut + ".")
            throw ExitCode(1)
        }
    }
}
