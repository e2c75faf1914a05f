import ArgumentParser
import Foundation
import LedgerKit

/// `ledger fleet backup`: a snapshot of every client's file into its own folder or prefix.
struct FleetBackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up every client's company file, each under its own folder or prefix of LOCATION.",
        discussion: """
            Each client's snapshots go under LOCATION/<client>/, named from the client's name, \
            made safe and unique (two books.db never share one). Keep rules and encryption are \
            those of 'ledger backup', applied to each client. At most two backups run at once, \
            whatever --jobs says. A client is in order when its snapshot is a good copy. Exit \
            status: 0 every client in order, 1 any needs attention, 2 the run could not work, 64 \
            bad usage.
            """)

    @OptionGroup var fleet: FleetOptions

    @Option(help: ArgumentHelp("The backup folder, or s3://BUCKET/PREFIX.", valueName: "location"))
    var to: String

    @OptionGroup var snapshotOptions: SnapshotOptions

    @OptionGroup var keep: KeepOptions

    @OptionGroup var wait: WaitOption

    @OptionGroup var encryption: EncryptionOptions

    func run() throws {
        var options: FleetBackupOptions?
        try reportingFailures {
            options = FleetBackupOptions(
                kind: snapshotOptions.snapshotKind, level: snapshotOptions.level,
                recipients: try encryption.resolve(), policy: keep.policy,
                signing: ManifestKey.forThisMachine(), wait: wait.seconds,
                keys: keep.policy.isEmpty
                    ? SnapshotIdentities() : try IdentityOptions.keys(files: [], passphrase: false))
        }
        guard let options else { throw ExitCode(2) }
        let root = to
        let gate = FleetGate(FleetGate.backupsAtOnce)
        try fleet.run("backup", root: root) { FleetBackup.run($0, root: root, options: options, gate: gate) }
    }
}
