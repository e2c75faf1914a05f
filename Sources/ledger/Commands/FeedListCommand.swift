import ArgumentParser
import Foundation
import LedgerKit

/// `ledger feed list`: the bank feed's lines, oldest first.
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
                Output.line(
                    "\(line.id)\t\(line.posted)\t\(Money(cents: line.amount))\t\(line.status)\(link)\t\(line.payee ?? line.memo ?? "")\t\(line.account)"
                )
            }
            Output.line("\(Output.count(lines.count, "line"))")
        }
    }
}
