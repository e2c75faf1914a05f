import ArgumentParser
import Foundation
import LedgerKit

/// `ledger fleet check-backups`: every client's snapshots read back, as `check-backups` does for one location.
struct FleetCheckBackupsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-backups",
        abstract: "Read back every client's snapshots, and say when each one's last good copy was taken.",
        discussion: """
            For each client, as 'ledger check-backups LOCATION/<client>' does; with --drill, also \
            a restore drill of its newest snapshot. Exit status: 0 every client in order, 1 any \
            needs attention, 2 the run could not work, 64 bad usage.
            """)

    @OptionGroup var fleet: FleetOptions

    @Option(help: ArgumentHelp("The backup folder, or s3://BUCKET/PREFIX.", valueName: "location"))
    var to: String

    @OptionGroup var identities: IdentityOptions

    @Option(
        name: .customLong("read-data-subset"),
        help: ArgumentHelp(
            "Read this share of each client's snapshots completely, chosen at random; the rest by their headers.",
            valueName: "N%"))
    var subset = "100%"

    @Option(
        name: .customLong("max-age"),
        help: ArgumentHelp(
            "How old a client's last good copy may be: 90m, 48h, 7d.", valueName: "age"))
    var maxAge = MaxAge(text: "48h", seconds: 48 * 3_600)

    @Flag(help: "Also restore each client's newest snapshot into a private scratch folder and check it (a drill).")
    var drill = false

    private var share: Double? {
        let number = subset.hasSuffix("%") ? subset.dropLast() : subset[...]
        guard let percent = Double(number), percent > 0, percent <= 100 else { return nil }
        return percent / 100
    }

    func validate() throws {
        guard share != nil else {
            throw ValidationError("--read-data-subset '\(subset)' is not a share; write it like 10%.")
        }
    }

    func run() throws {
        var keys: SnapshotIdentities?
        try reportingFailures { keys = try identities.resolve() }
        guard let keys else { throw ExitCode(2) }
        let root = to
        let sample = share ?? 1
        let maxAge = maxAge.seconds
        let drill = drill
        try fleet.run("check-backups", root: root) {
            FleetCheck.run($0, root: root, sample: sample, maxAge: maxAge, drill: drill, keys: keys)
        }
    }
}
