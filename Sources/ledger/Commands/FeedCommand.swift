import ArgumentParser
import Foundation
import LedgerKit

struct FeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "List, match, add, unmatch, exclude and include the bank feed's lines.",
        subcommands: [FeedListCommand.self, FeedMatchCommand.self, FeedAddCommand.self, FeedUnmatchCommand.self,
                      FeedExcludeCommand.self, FeedIncludeCommand.self],
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
                let link = line.transaction.map { " → \($0)" } ?? ""
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

    @Option(help: "With --add-unmatched: the account the other side of deposits and withdrawals goes to (\"Uncategorized Expense\").")
    var toAccount: String?

    @Option(help: "With --add-unmatched: the account the other side of deposits goes to (\"Uncategorized Income\").")
    var depositsTo: String?

    @Option(help: "With --add-unmatched: the account the other side of withdrawals and charges goes to (\"Uncategorized Expense\").")
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
            throw ValidationError(addUnmatched
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
                Output.line("added line \(link.line) (\(FeedText.line(link))) as \(link.transaction), against \(link.account ?? "")")
            }
            Output.line("\(report.matched.count) matched, \(report.added.count) added, \(report.unmatched) still new.")
        }
    }
}

/// How the feed commands write a line in a sentence.
enum FeedText {
    /// "2025-12-31, -15.00, Monthly service fee".
    static func line(_ link: FeedLink) -> String {
        [link.posted, Money(cents: link.amount).description, link.payee].compactMap { $0 }.joined(separator: ", ")
    }
}

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
            Output.line("added line \(link.line) (\(FeedText.line(link))) as \(link.transaction), against \(link.account ?? toAccount)")
        }
    }
}

struct FeedUnmatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unmatch",
        abstract: "Make matched or added bank lines new again.",
        discussion: """
            A matched line is unlinked; its transaction stays as it is. An added line's \
            transaction is taken out of the books only if the line alone made it and nothing \
            refers to it (not cleared, not reconciled, no other line, document or payment, \
            unchanged since); what is taken out is recorded whole in 'ledger log FILE'. Otherwise \
            the transaction stays and the output says why. Exit status: 0 done, 2 could not (file \
            unchanged), 64 bad usage.
            """)

    @Argument(help: "The company file.")
    var file: String

    @Argument(help: "The ids of the lines ('ledger feed FILE --status matched' lists them).")
    var ids: [Int64] = []

    @OptionGroup var wait: WaitOption

    @Flag(help: "Print a JSON array instead of text.")
    var json = false

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("Name at least one line id.") }
    }

    func run() throws {
        try reportingFailures {
            let lines = try FeedBook.unmatch(file: file, lines: ids, wait: wait.seconds)
            if json {
                try Output.json(lines)
                return
            }
            for line in lines {
                if line.was == "matched" {
                    Output.line("line \(line.line) is new again; \(line.transaction), which it was matched to, stays in the books.")
                } else if line.removed {
                    Output.line("line \(line.line) is new again; \(line.transaction), which the feed had added, was taken out of the books.")
                } else {
                    Output.line("line \(line.line) is new again; \(line.transaction), which the feed had added, stays in the books: \(line.keptBecause ?? "it has changed").")
                }
            }
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
    var ids: [Int64] = []

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

struct FeedIncludeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "include",
        abstract: "Take excluded bank lines back as new: a probable duplicate that is a real line, or one excluded by mistake.",
        discussion: """
            An import sets aside, as excluded, a line that agrees on account, day and amount with \
            a line already imported from another file ("Probable duplicate of line N" in its memo). \
            If it is a real line of its own, include it; it is then matched or added like any new \
            line. Exit status: 0 done, 2 could not (file unchanged), 64 bad usage.
            """)

    @Argument(help: "The company file.")
    var file: String

    @Argument(help: "The ids of the lines ('ledger feed FILE --status excluded' lists them).")
    var ids: [Int64] = []

    @OptionGroup var wait: WaitOption

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("Name at least one line id.") }
    }

    func run() throws {
        try reportingFailures {
            let changed = try FeedBook.include(file: file, lines: ids, wait: wait.seconds)
            Output.line(changed.isEmpty ? "Nothing to change: those lines were new already."
                                        : "Included \(Output.count(changed.count, "line")) as new: \(changed.map(String.init).joined(separator: ", ")).")
        }
    }
}
