import ArgumentParser
import Foundation
import LedgerKit

/// `ledger feed add`: books new bank lines as transactions of their own.
struct FeedAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add one new bank line to the books as a transaction of its own.",
        discussion: """
            The line's amount goes to its own account and the opposite to --to-account (any \
            account but receivables and payables, which need a customer or vendor; 'ledger \
            accounts FILE' lists them). A deposit becomes a deposit, a withdrawal a check (its \
            check number, if the bank gave one, as the number), a card line a card charge; the \
            line becomes 'added'. 'ledger feed unmatch' undoes it. Exit status: 0 added, 2 could \
            not (file unchanged), 64 bad usage.
            """)

    @Argument(help: "The company file.")
    var file: String

    @Argument(help: "The line's id ('ledger feed FILE' lists them).")
    var id: Int64

    @Option(help: "The account the other side goes to (\"Office Supplies\", 6100).")
    var toAccount: String

    @OptionGroup var wait: WaitOption

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        try reportingFailures {
            let link = try FeedBook.add(file: file, line: id, to: toAccount, wait: wait.seconds)
            if json {
                try Output.json(link)
                return
            }
            Output.line(
                "added line \(link.line) (\(FeedText.line(link))) as \(link.transaction), against \(link.account ?? toAccount)"
            )
        }
    }
}
