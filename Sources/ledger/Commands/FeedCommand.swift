import ArgumentParser
import Foundation
import LedgerKit

struct FeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "List, match, add and exclude the bank feed's lines.",
        subcommands: [FeedListCommand.self, FeedMatchCommand.self, FeedExcludeCommand.self],
        defaultSubcommand: FeedListCommand.self)
}

struct FeedListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the bank feed's lines, oldest first ('ledger feed FILE' does the same).")

    @Argument(help: "The company file.")
    var file: String

    @Option(help: "Only the lines of this account.")
    var account: String?

    @Option(help: "Only lines of this status: new, matched, added or excluded.")
    var status: String?

    @Flag(help: "Print a JSON array instead of text.")
    var json = false

    func validate() throws {
        if let status, !["new", "matched", "added", "excluded"].contains(status) {
            throw ValidationError("--status is one of new, matched, added, excluded.")
        }
    }

    func run() throws {
        try reportingFailures {
            let lines = try FeedBook.lines(file: file, account: account, status: status)
            if json {
                try Output.json(lines)
                return
            }
            for line in lines {
                let link = line.transactionID.map { " → transaction \($0)" } ?? ""
                Output.line("\(line.id)\t\(line.posted)\t\(Money(cents: line.amount))\t\(line.status)\(link)\t\(line.payee ?? line.memo ?? "")\t\(line.account)")
            }
            Output.line("\(Output.count(lines.count, "line"))")
        }
    }
}

struct FeedMatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Match new bank lines to the transactions they are, and optionally add the rest.",
        discussion: """
            A new line matches a transaction of its account that no other line is matched to, \
            with the same amount in that account, dated within 5 days: the closest date wins, \
            then the most words shared with the payee. With --add-unmatched, every line left \
            becomes a transaction against --to-account (status 'added'). The books stay in order: \
            verify finds nothing new. Exit status: 0 done, 2 could not (file unchanged), 64 bad usage.
            """)

    @Argument(help: "The company file.")
    var file: String

    @Option(help: "Only the lines of this account.")
    var account: String?

    @Flag(help: "Make a transaction for each line that matches none.")
    var addUnmatched = false

    @Option(help: "With --add-unmatched: the account the other side goes to (\"Uncategorized Expense\").")
    var toAccount: String?

    @OptionGroup var wait: WaitOption

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard addUnmatched == (toAccount != nil) else {
            throw ValidationError("--add-unmatched and --to-account go together: --add-unmatched --to-account \"Uncategorized Expense\".")
        }
    }

    func run() throws {
        try reportingFailures {
            let report = try FeedBook.match(file: file, account: account, addTo: toAccount, wait: wait.seconds)
            if json {
                try Output.json(report)
                return
            }
            for link in report.matched {
                Output.line("matched line \(link.line) (\(link.posted), \(Money(cents: link.amount)), \(link.payee ?? "")) to transaction \(link.transactionID)")
            }
            for link in report.added {
                Output.line("added line \(link.line) (\(link.posted), \(Money(cents: link.amount)), \(link.payee ?? "")) as transaction \(link.transactionID)")
            }
            Output.line("\(report.matched.count) matched, \(report.added.count) added, \(report.unmatched) still new.")
        }
    }
}

struct FeedExcludeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exclude",
        abstract: "Set bank lines aside, so that they are never matched or added.")

    @Argument(help: "The company file.")
    var file: String

    @Argument(help: "The ids of the lines ('ledger feed FILE' lists them).")
    var ids: [Int64]

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("Name at least one line id.") }
    }

    @OptionGroup var wait: WaitOption

    func run() throws {
        try reportingFailures {
            let changed = try FeedBook.exclude(file: file, lines: ids, wait: wait.seconds)
            Output.line(changed.isEmpty ? "Nothing to change: those lines were excluded already."
                                        : "Excluded \(Output.count(changed.count, "line")): \(changed.map(String.init).joined(separator: ", ")).")
        }
    }
}
