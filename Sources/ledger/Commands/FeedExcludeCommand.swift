import ArgumentParser
import Foundation
import LedgerKit

/// `ledger feed exclude`: sets bank lines aside, never to be matched or added.
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
            Output.line(
                changed.isEmpty
                    ? "Nothing to change: those lines were excluded already."
                    : "Excluded \(Output.count(changed.count, "line")): \(changed.map(String.init).joined(separator: ", "))."
            )
        }
    }
}
