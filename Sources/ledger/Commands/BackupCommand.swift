import ArgumentParser
import Foundation
import LedgerKit

/// `ledger backup FILE --to DIR|s3://…`: one snapshot, then the keep rules.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take a compressed snapshot of a company file, safely, while others keep working in it.",
        discussion: """
            Writes one file <name>-<YYYYMMDD>T<HHMMSS>Z.db.gz into DIR (created if missing), or \
            one object of that name under s3://BUCKET/PREFIX in S3-compatible object storage \
            (configured as the AWS CLI is: AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_ENDPOINT_URL…): an \
            ordinary gzip file ('gzip -dc' gives the company file back) whose header carries a \
            manifest with the time, the company, the SHA-256 of the content and whether a quick \
            verify found it clean. With --encrypt-to, --recipients-file or --passphrase, or recipients \
            set for DIR in this machine's recipients file (~/.config/ledger/recipients: one line \
            'LOCATION age1… [age1…]' per location), the snapshot is that gzip file encrypted with age \
            (<name>.db.gz.age; 'age -d -i KEY SNAPSHOT | gzip -dc' gives the company file back), and \
            nothing readable is written to DIR. Recipients come from this machine only: a \
            .ledger-recipients file in DIR is compared with them, and a difference is refused (exit \
            2); so is a plain snapshot into a DIR that holds encrypted ones. The snapshot appears only when complete. A file another \
            program holds locked is waited for (--wait), never copied half-written. Keep rules \
            (--keep-…) prune as 'ledger prune' does, and always keep the newest clean snapshot. Exit \
            status 0 on success; 1 when the snapshot is written but is not a good copy (its verify \
            is not clean: findings, a file that cannot be read, or --no-verify), saying which \
            snapshot is the last good copy and its age, or when the location failed while the keep \
            rules ran (the snapshot is in place); 2 when it could not be taken (nothing is left \
            behind); 64 bad usage.
            """)

    @Argument(help: "The company file to back up.")
    var file: String

    @Option(help: "The backup folder, or s3://BUCKET/PREFIX in object storage.")
    var to: String

    @OptionGroup var snapshotOptions: SnapshotOptions

    @OptionGroup var keep: KeepOptions

    @OptionGroup var wait: WaitOption

    @Flag(
        name: .customLong("no-verify"),
        help:
            "Skip the quick verify of the copy (the manifest then says skipped); faster, but the snapshot is then not known to be a good copy (exit 1)."
    )
    var noVerify = false

    @OptionGroup var encryption: EncryptionOptions

    @OptionGroup var listing: ListingOptions

    @OptionGroup var pages: IncrementalFlags

    @Flag(help: "Print the snapshot as one JSON object on stdout.")
    var json = false

    func run() throws {
        var goodCopy = true
        listing.apply()
        try reportingFailures {
            let incremental = try pages.resolve()
            let run = try BackupRun.perform(
                of: file, into: to, kind: snapshotOptions.snapshotKind, level: snapshotOptions.level,
                verify: !noVerify, recipients: try encryption.resolve(), policy: keep.policy,
                signing: ManifestKey.forThisMachine(), wait: wait.seconds,
                incremental: incremental,
                // The incremental's own keys serve the keep rules too: the identity files are read once.
                keys: incremental?.keys
                    ?? (keep.policy.isEmpty
                        ? SnapshotIdentities()
                        : try IdentityOptions.keys(files: pages.identityFiles, passphrase: false)))
            let snapshot = run.snapshot
            goodCopy = run.isGoodCopy && run.keepRulesProblem == nil
            if json { return try Output.json(BackupListing(run)) }
            for decision in run.decisions where !decision.keep { Output.line("Pruned \(decision.snapshot.path)") }
            for decision in run.decisions { BackupText.keptBeyondRules(decision).map(Output.line) }
            run.incremental.map { BackupText.incremental($0).forEach(Output.line) }
            Output.line("Snapshot \(snapshot.path)" + (snapshot.encrypted ? " (encrypted)" : ""))
            Output.line(
                "  \(snapshot.manifest?.company ?? snapshot.source), \(BackupText.sizes(snapshot)), verify: \(snapshot.manifest?.verify ?? "?")"
            )
            if !run.isGoodCopy { Output.message("ledger: " + BackupText.notAGoodCopy(run, of: file, in: to)) }
            run.keepRulesProblem.map { Output.message("ledger: " + BackupText.keepRulesFailed($0, in: to)) }
            run.packsHeldBack.map { Output.message("ledger: " + BackupText.packsHeldBack($0)) }
        }
        if !goodCopy { throw ExitCode(1) }
    }
}
