import ArgumentParser
import Foundation
import LedgerKit

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a company file back as a snapshot has it.",
        discussion: """
            SOURCE is a snapshot, or a backup folder (either may be in object storage: \
            s3://BUCKET/PREFIX or s3://BUCKET/PREFIX/NAME.db.gz): then only snapshots of FILE's own \
            name are chosen from (acme.db: those named acme-<time>.db.gz, never acme-west's), or of \
            --stem NAME, and the newest taken at or before --at is used; a folder with none of those \
            is refused, naming the ones it holds. The snapshot's SHA-256 \
            is checked while it is decompressed beside FILE (beside the file it names, when FILE is \
            a symbolic link: that file is replaced and the link kept), never past the size its \
            manifest gives; then, whatever the manifest says, the content must be a company file \
            of a format this ledger knows that passes SQLite's quick_check. Only then is the file \
            it replaces snapshotted (kind pre-restore, into --backup-dir) and replaced in one \
            step. A snapshot this machine took and verified clean (its manifest carries this \
            machine's signature, kept in ~/.config/ledger/manifest.key) is not verified again \
            (--verify does); every other snapshot is verified first (--no-verify skips that \
            verify, never the company-file check). Refuses, leaving FILE untouched: a damaged \
            snapshot or one that does not hold a company file, one that does not fit in the free \
            space, a time before the oldest snapshot, FILE open in another program, a snapshot \
            this machine's key did not make when it made others of the company there, or made \
            some that are gone from there (unless --trust-unsigned: anyone who can write to the \
            backup place can put one there), a newer snapshot none of the keys given opens when \
            they open an older one, a snapshot of another company and a FILE that holds no company \
            file (its start damaged, or not ours) (these two unless --force: such a FILE is kept \
            beside as FILE.replaced-<time>; an empty FILE is replaced, kept so only when its -wal \
            holds something). FILE's -wal is \
            folded into it first; one SQLite cannot read is kept as FILE-wal.not-applied-<time>. A \
            FILE changed by another program during the restore is not replaced. Exit status 0 \
            restored, 1 restored but its verify found something (run 'ledger verify FILE') or a \
            -wal was kept, 2 refused or failed, 64 bad usage.
            """)

    @Argument(help: "A snapshot, or a backup folder, on disk or s3://BUCKET/PREFIX.")
    var source: String

    @Option(help: "The company file to restore to.")
    var to: String

    @Option(
        help:
            "Restore the newest snapshot taken at or before this time: 2026-11-20T23:00:00Z, 2026-11-20T18:00:00-05:00, 2026-11-20 18:00 (local time), 2026-11-20, today or yesterday (the end of that local day)."
    )
    var at: String?

    @Option(
        help: ArgumentHelp(
            "From a folder, restore snapshots of this company file's name instead of FILE's: acme for acme-20261121T020000Z.db.gz.",
            valueName: "name"))
    var stem: String?

    @Option(
        name: .customLong("backup-dir"),
        help:
            "Where the snapshot of the replaced file goes, a folder or s3://BUCKET/PREFIX (default: a folder 'backups' beside FILE)."
    )
    var backupDir: String?

    @OptionGroup var wait: WaitOption

    @Flag(
        help:
            "Replace a file that holds another company, or one that holds no company file (kept beside as FILE.replaced-<time>)."
    )
    var force = false

    @Flag(
        name: .customLong("no-verify"),
        help:
            "Skip the quick verify of the restored content (never the check that it is a company file SQLite finds sound)."
    )
    var noVerify = false

    @Flag(
        name: .customLong("verify"),
        help: "Verify the restored content even when it is a snapshot this machine took and verified clean.")
    var reverify = false

    @Flag(
        name: .customLong("trust-unsigned"),
        help:
            "From a folder, restore the snapshot chosen even when this machine's key did not make it while it made others of the company there (or made some that are gone from there)."
    )
    var trustUnsigned = false

    @OptionGroup var identities: IdentityOptions

    @OptionGroup var listing: ListingOptions

    @Flag(help: "Print the result as one JSON object on stdout.")
    var json = false

    func validate() throws {
        if let at, PointInTime.parse(at) == nil {
            throw ValidationError(
                "--at '\(at)' is not a time; write it like 2026-11-20 18:00 (local time), 2026-11-20T23:00:00Z, 2026-11-20, today or yesterday."
            )
        }
        if let stem, stem.isEmpty || stem.contains("/") {
            throw ValidationError("--stem '\(stem)' is not a company file's name; write it like acme (for acme.db).")
        }
        guard !(reverify && noVerify) else { throw ValidationError("--verify and --no-verify cannot both be given.") }
    }

    func run() throws {
        listing.apply()
        var findings = 0
        var keptLog = false
        try reportingFailures {
            let keys = try identities.resolve()
            let manifestKey = ManifestKey.forThisMachine()
            let snapshot = try Restorer.choose(
                source, target: to, stem: stem, at: at.flatMap { PointInTime.parse($0) }, with: keys,
                signedBy: manifestKey, trustUnsigned: trustUnsigned)
            let folder =
                backupDir ?? URL(fileURLWithPath: to).deletingLastPathComponent().appendingPathComponent("backups").path
            let result = try Restorer.restore(
                snapshot, to: to, backupFolder: folder, force: force, verify: !noVerify,
                reverify: reverify, keys: keys, manifestKey: manifestKey,
                wait: wait.seconds)
            findings = result.findings
            keptLog = result.keptLog != nil
            if json { return try Output.json(result) }
            let how =
                result.verify == "clean" && !result.verifiedNow
                ? " (verified when this machine took it; its signature and SHA-256 match)" : ""
            Output.line(
                "Restored \(to) from \(snapshot.path) (taken \(snapshot.createdAt)), verify: \(result.verify)\(how)")
            if !result.signedHere {
                Output.line(
                    "This snapshot was not made with this computer's ledger key (another user account or computer "
                        + "made it, or someone who can write where it was): it was checked as a company file"
                        + (result.verifiedNow ? " and verified in full" : "") + " before it was put in place.")
            }
            if let replaced = result.replaced { Output.line("The file it replaced is kept in \(replaced.path)") }
            if let kept = result.keptAs {
                Output.line("The file it replaced held no company file a snapshot could take; it is kept as \(kept)")
            }
            if let kept = result.keptLog {
                Output.message(
                    "ledger: the -wal beside the file it replaced could not be read into it or its snapshot, so what it "
                        + "committed may be in no copy; it is kept as \(kept) for a person to look at.")
            }
            if result.findings > 0 {
                Output.message(
                    "ledger: the restored file has \(result.findings) finding\(result.findings == 1 ? "" : "s"): "
                        + "run 'ledger verify \(to)' to see them, 'ledger rebuild \(to)' to repair them.")
            }
        }
        if findings > 0 || keptLog { throw ExitCode(1) }
    }
}
