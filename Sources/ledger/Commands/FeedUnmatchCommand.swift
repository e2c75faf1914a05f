import ArgumentParser
import Foundation
import LedgerKit

/// `ledger feed unmatch`: makes matched or added bank lines new again.
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
                    Output.line(
                        "line \(line.line) is new again; \(line.transaction), which it was matched to, stays in the books."
                    )
                } else if line.removed {
                    Output.line(
                        "line \(line.line) is new again; \(line.transaction), which the feed had added, was taken out of the books."
                    )
                } else {
                    Output.line(
                        "line \(line.line) is new again; \(line.transaction), which the feed had added, stays in the books: \(line.keptBecause ?? "it has changed")."
                    )
                }
            }
        }
    }
}
