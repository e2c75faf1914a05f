import ArgumentParser
import Foundation
import LedgerKit

/// `ledger fleet verify`: Verify Data of every client's file.
struct FleetVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify every client's company file; with --to, record each in its status record there.",
        discussion: """
            Opens each file read-only and never changes it. A client is in order when its file \
            verified clean; damage, findings, a missing file or one another program keeps locked \
            need attention. Exit status: 0 every client in order, 1 any needs attention, 2 the run \
            could not work, 64 bad usage.
            """)

    @OptionGroup var fleet: FleetOptions

    @Option(
        help: ArgumentHelp("The backup location whose client folders keep the status records.", valueName: "location"))
    var to: String?

    @Flag(help: "Run SQLite's quick_check instead of the full integrity_check.")
    var quick = false

    func run() throws {
        let root = to
        let quick = quick
        try fleet.run("verify", root: root) { FleetVerify.run($0, root: root, quick: quick) }
    }
}
