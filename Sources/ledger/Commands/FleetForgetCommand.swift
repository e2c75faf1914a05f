import ArgumentParser
import Foundation
import LedgerKit

/// `ledger fleet forget`: takes clients that left off a location's roster.
struct FleetForgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Take clients that left off the fleet's roster, so the report stops asking for their folders.",
        discussion: """
            Every fleet step puts the clients it writes a status record for on the location's \
            roster (LOCATION/.ledger-roster/). A client on the roster whose folder is gone from \
            the location needs attention in the report: the folder may have been deleted or \
            renamed by mistake. When the client left and its folder was removed on purpose, \
            forget it here. A client whose folder is still in the location cannot be forgotten: \
            it is reported while its folder is there. Exit status: 0 forgotten, 2 nothing was \
            forgotten (a folder still there, a client not on the roster, the location unreadable).
            """)

    @Argument(help: "The fleet's backup location (a folder or s3://BUCKET/PREFIX), as given to fleet backup --to.")
    var location: String

    @Argument(help: "The folders of the clients to forget, as the report shows them in brackets or in --json's slug.")
    var slugs: [String]

    @Flag(help: "Print what was forgotten as one JSON object on stdout.")
    var json = false

    func run() throws {
        try reportingFailures {
            try FleetRoster.forget(slugs, in: location)
            if json {
                try Output.json(Forgotten(location: location, forgotten: slugs))
            } else {
                for slug in slugs { Output.line("Forgot client \(slug): the report no longer asks for its folder.") }
            }
        }
    }
}

/// What `fleet forget --json` prints.
private struct Forgotten: Encodable {
    let location: String
    let forgotten: [String]
}
