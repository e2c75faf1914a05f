import ArgumentParser
import Foundation
import LedgerKit

/// `ledger fleet serve`: the report's page on 127.0.0.1, behind a random token.
struct FleetServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Show the fleet report's page in a browser, on this machine only.",
        discussion: """
            Listens on 127.0.0.1 only and prints the address to open, which carries a random \
            token: a request without it, or naming another host (a DNS-rebinding page), is \
            refused. Read-only: each visit reads the status records anew and runs nothing. \
            Stop it with Ctrl-C.
            """)

    @Argument(help: "The fleet's backup location (a folder or s3://BUCKET/PREFIX), as given to fleet backup --to.")
    var location: String

    @Option(help: "The port to listen on; 0 picks a free one.")
    var port = 0

    @OptionGroup var policy: ReportPolicyOptions

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535.") }
    }

    func run() throws {
        try reportingFailures {
            _ = try policy.build(location: location)
            let location = self.location
            let policy = self.policy
            let server = try ReportServer(port: port) { try policy.build(location: location).html() }
            // Written straight to the descriptor: a script waiting for the address must not wait on a buffer.
            FileHandle.standardOutput.write(Data("Fleet report: \(server.url)\n".utf8))
            Output.message("Serving on 127.0.0.1:\(server.port) only; Ctrl-C stops.")
            try server.serve { Output.message($0) }
        }
    }
}
