import ArgumentParser
import Foundation
import LedgerKit

/// `ledger feed match`: matches new bank lines to their transactions.
struct FeedMatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Match new bank lines to the transactions they are, and optionally add the rest.",
        discussion: """
            A new line matches a transaction of its account that no other line is matched to, \
            with the same amount in that account, dated within 5 days: the closest date wins, \
            then the most words shared with the payee or check number. With --add-unmatched, every \
            deposit left becomes a transaction against --deposits-to and every withdrawal or charge \
            one against --withdrawals-to (--to-account is both; without one of them, those lines \
            stay new), status 'added'. The books stay in order: verify finds nothing new. \
            'ledger accounts FILE' lists the accounts. Exit status: 0 done, 2 could not (file \
            unchanged), 64 bad usage.
            """)

    @Argument(help: "The company file.")
    var file: String

    @Option(help: "Only the lines of this account.")
    var account: String?

    @Flag(help: "Make a transaction for each line that matches none.")
    var addUnmatched = false

    @Option(
        help:
            "With --add-unmatched: the account the other side of deposits and withdrawals goes to (\"Uncategorized Expense\")."
    )
    var toAccount: String?

    @Option(help: "With --add-unmatched: the account the other side of deposits goes to (\"Uncategorized Income\").")
    var depositsTo: String?

    @Option(
        help:
            "With --add-unmatched: the account the other side of withdrawals and charges goes to (\"Uncategorized Expense\")."
    )
    var withdrawalsTo: String?

    @OptionGroup var wait: WaitOption

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    var targets: AddTargets? {
        guard addUnmatched else { return nil }
        return AddTargets(deposits: depositsTo ?? toAccount, withdrawals: withdrawalsTo ?? toAccount)
    }

    func validate() throws {
        let named = toAccount != nil || depositsTo != nil || withdrawalsTo != nil
        guard addUnmatched == named else {
            throw ValidationError(
                addUnmatched
                    ? "--add-unmatched needs the accounts the lines go to: --deposits-to \"Uncategorized Income\" --withdrawals-to \"Uncategorized Expense\", or --to-account for both."
                    : "--to-account, --deposits-to and --withdrawals-to go with --add-unmatched.")
        }
    }

    func run() throws {
        try reportingFailures {
            let report = try FeedBook.match(file: file, account: account, adding: targets, wait: wait.seconds)
            if json {
                try Output.json(report)
                return
            }
            for link in report.matched {
                Output.line("matched line \(link.line) (\(FeedText.line(link))) to \(link.transaction)")
            }
            for link in report.added {
                Output.line(
                    "added line \(link.line) (\(FeedText.line(link))) as \(link.transaction), against \(link.account ?? "")"
                )
            }
            Output.line("\(report.matched.count) matched, \(report.added.count) added, \(report.unmatched) still new.")
        }
    }
}
