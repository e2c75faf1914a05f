import ArgumentParser
import Foundation
import LedgerKit

/// `ledger feed`: the bank feed's subcommands; lists the lines when given only a file.
struct FeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "List, match, add, unmatch, exclude and include the bank feed's lines.",
        subcommands: [
            FeedListCommand.self, FeedMatchCommand.self, FeedAddCommand.self, FeedUnmatchCommand.self,
            FeedExcludeCommand.self, FeedIncludeCommand.self,
        ],
        defaultSubcommand: FeedListCommand.self)
}
