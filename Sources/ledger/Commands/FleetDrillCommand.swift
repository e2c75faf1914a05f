import ArgumentParser
import Foundation
import LedgerKit

/// `ledger fleet drill`: restore drills of every client's newest snapshot.
struct FleetDrillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Prove each client's newest snapshot restores: restore, verify in full, compare with its manifest.",
        discussion: """
            Each drill restores the client's newest snapshot into a private scratch folder of this \
            machine, runs the full verify, compares the row counts and the trial balance with what \
            the snapshot's manifest recorded when it was taken (older manifests: what they have), \
            and removes the copy. The result is 'last proven restorable: TIME', or what failed; \
            it goes into the client's status record. --one-in-seven drills only the clients whose \
            night it is, each client one fixed night a week. Exit status: 0 every drill passed, 1 \
            any failed, 2 the run could not work, 64 bad usage.
            """)

    @OptionGroup var fleet: FleetOptions

    @Option(help: ArgumentHelp("The backup folder, or s3://BUCKET/PREFIX.", valueName: "location"))
    var to: String

    @OptionGroup var identities: IdentityOptions

    @Flag(name: .customLong("one-in-seven"), help: "Drill only the seventh of the clients whose night it is tonight.")
    var oneInSeven = false

    func run() throws {
        var keys: SnapshotIdentities?
        try reportingFailures { keys = try identities.resolve() }
        guard let keys else { throw ExitCode(2) }
        let root = to
        let tonightOnly = oneInSeven
        let now = Date()
        try fleet.run("drill", root: root) { client in
            guard !tonightOnly || FleetDrill.isTonight(client.slug, now: now) else {
                return ClientResult(client: client, outcome: .clean, summary: "not its night for a drill")
            }
            return FleetDrill.run(client, root: root, keys: keys)
        }
    }
}
