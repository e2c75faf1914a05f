import Foundation
import LedgerKit

/// The lines backup, snapshots and prune print about snapshots, in the words a bookkeeper reads.
enum BackupText {
    /// "Kept X: the newest clean snapshot of acme.db (the rules alone would have pruned it)", for a
    /// snapshot that stays only because it is the last good copy, may be, or was just taken.
    static func keptBeyondRules(_ decision: RetentionDecision) -> String? {
        let snapshot = decision.snapshot
        switch decision.safeguard {
        case .newestClean?:
            return
                "Kept \(snapshot.path): the newest clean snapshot of \(snapshot.source) (the rules alone would have pruned it)"
        case .mayBeNewestClean?:
            return "Kept \(snapshot.path): encrypted, it may be the newest clean snapshot of \(snapshot.source); "
                + "give --identity to tell (the rules alone would have pruned it)"
        case .newestFullClean?:
            return "Kept \(snapshot.path): the newest full clean snapshot of \(snapshot.source), which restores "
                + "without the packs the incremental ones lean on (the rules alone would have pruned it)"
        case .justTaken?:
            return "Kept \(snapshot.path): just taken (the rules alone would have pruned it)"
        case .notWhole?:
            return "Kept \(snapshot.path): its manifest says clean, but read whole it is not what its manifest says, "
                + "so an older clean snapshot stays as the last good copy; run 'ledger check-backups' (the rules alone would have pruned it)"
        case nil:
            return nil
        }
    }

    /// What an incremental backup did: a full snapshot and why, or the pages it stored.
    static func incremental(_ run: IncrementalRun) -> [String] {
        if let why = run.fullBecause { return ["Full snapshot instead of an incremental one: \(why)."] }
        return [
            "Incremental: \(run.newPages) of \(run.pages) pages new"
                + (run.deltaPages > 0 ? " (\(run.deltaPages) stored as changes to their earlier versions)" : "")
                + ", \(run.packsCreated) pack"
                + (run.packsCreated == 1 ? "" : "s") + " created, \(Output.bytes(run.bytesWritten)) written."
        ]
    }

    /// The one line a backup that is not a good copy ends with: what it is, where
    /// the last good copy is, and what to do.
    static func notAGoodCopy(_ run: BackupRun, of file: String, in location: String) -> String {
        let verify = run.snapshot.verify ?? "?"
        let why =
            verify != "skipped"
            ? "verify: \(verify)"
            : run.verified ? "the company file cannot be read (verify: skipped)" : "it was not verified (--no-verify)"
        let stem = run.snapshot.stem
        var text = "\(run.snapshot.path) keeps the file as it is, but it is not a good copy: \(why). "
        if let standing = run.standing, let good = standing.lastGoodCopy {
            text +=
                "The newest clean snapshot of \(stem) is \(good), taken \(standing.lastGoodCopyTakenAt ?? "?")"
                + (standing.lastGoodCopyAgeSeconds.map { " (\(Age.phrase($0)))" } ?? "")
                + "; keep rules always keep it."
        } else if let standing = run.standing, !standing.unknown.isEmpty {
            text +=
                "No snapshot of \(stem) in \(location) is known to be clean; \(Output.count(standing.unknown.count, "encrypted snapshot")) "
                + "may be ('ledger snapshots \(location) --identity KEYFILE' tells); keep rules keep them."
        } else if run.standing != nil {
            text += "There is no clean snapshot of \(stem) in \(location)."
        } else {
            text +=
                "Which snapshot of \(stem) is the last good copy could not be read ('ledger snapshots \(location)' lists them)."
        }
        return text + " Check the file with 'ledger verify \(file)'."
    }

    /// The line a backup whose keep rules could not finish ends with: the
    /// snapshot is in place, and the rules are to be run again.
    static func keepRulesFailed(_ problem: String, in location: String) -> String {
        "the snapshot is in place, but the keep rules could not finish (\(problem.hasSuffix(".") ? String(problem.dropLast()) : problem)); "
            + "some old snapshots may have been removed and others not: run 'ledger prune \(location)' with the same --keep options once the location answers again"
    }

    /// Why no pack of incremental snapshots was removed: nothing is lost, and the space waits.
    static func packsHeldBack(_ why: String) -> String {
        "no pack of incremental snapshots was removed, so the space of those no snapshot needs is not reclaimed yet: "
            + "\(why); nothing is lost, and the next prune removes them once that is mended"
    }

    /// "1.9 MiB → 631.7 KiB (33%)": the company file's size, the snapshot's, and their ratio.
    static func sizes(_ snapshot: Snapshot) -> String {
        let original = snapshot.manifest?.databaseBytes ?? 0
        let ratio = original > 0 ? Double(snapshot.bytes) * 100 / Double(original) : 0
        return "\(Output.bytes(original)) → \(Output.bytes(snapshot.bytes)) (\(String(format: "%.0f", ratio))%)"
    }
}
