import ArgumentParser
import Foundation
import LedgerKit

/// `ledger prune DIR|s3://…`: removes the snapshots no keep rule keeps.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the snapshots no keep rule keeps (restic's forget rules).",
        discussion: """
            A snapshot is kept if any rule keeps it; days, ISO weeks and months are those of this \
            machine's time zone at the time it was taken (never later than the location lists it \
            written): a snapshot at 21:00 in New York counts for that evening's day. Snapshots of \
            each company file are judged separately; the newest snapshot of each, and its newest \
            clean one (its last good copy), always stay. Encrypted snapshots are judged with \
            --identity; without it, every encrypted one newer than the newest known clean one may \
            be the last good copy, and stays. --dry-run says what would go and why each kept one \
            stays, and removes nothing. In object storage, a lease object (.ledger-lease) \
            keeps two prunes, or a prune and a backup, from running at once.
            """)

    @Argument(help: "The backup folder, or s3://BUCKET/PREFIX.")
    var folder: String

    @OptionGroup var keep: KeepOptions

    @Flag(name: .customLong("dry-run"), help: "Only say what would be removed.")
    var dryRun = false

    @OptionGroup var identities: IdentityOptions

    @OptionGroup var listing: ListingOptions

    @Flag(help: "Print the decisions as a JSON array.")
    var json = false

    func validate() throws {
        guard !keep.policy.isEmpty else {
            throw ValidationError("Give at least one rule: --keep-last, --keep-daily, --keep-weekly or --keep-monthly.")
        }
    }

    func run() throws {
        listing.apply()
        try reportingFailures {
            let pruned = try Retention.prune(
                folder, policy: keep.policy, dryRun: dryRun, with: try identities.resolve(),
                signedBy: ManifestKey.existing())
            let decisions = pruned.decisions
            pruned.packs.heldBack.map { Output.message("ledger: " + BackupText.packsHeldBack($0)) }
            if json { return try Output.json(decisions) }
            for decision in decisions {
                if let kept = BackupText.keptBeyondRules(decision) {
                    Output.line(kept)
                    continue
                }
                let verb = decision.keep ? "keep  " : (dryRun ? "would remove" : "removed")
                Output.line(
                    "\(verb) \(decision.snapshot.path)"
                        + (decision.keep ? " (\(decision.reasons.joined(separator: ", ")))" : ""))
            }
            let gone = decisions.filter { !$0.keep }.count
            Output.line("\(decisions.count - gone) kept, \(gone) \(dryRun ? "would be removed" : "removed").")
        }
    }
}
