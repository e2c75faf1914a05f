import ArgumentParser
import Foundation
import LedgerKit

/// `ledger feed include`: takes excluded bank lines back as new.
struct FeedIncludeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "include",
        abstract:
            "Take excluded bank lines back as new: a probable duplicate that is a real line, or one excluded by mistake.",
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
            Output.line(
                changed.isEmpty
                    ? "Nothing to change: those lines were new already."
                    : "Included \(Output.count(changed.count, "line")) as new: \(changed.map(String.init).joined(separator: ", "))."
            )
        }
    }
}
