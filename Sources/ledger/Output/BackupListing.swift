import Foundation
import LedgerKit

/// `backup --json`: the snapshot as `snapshots --json` lists it, whether it
/// is a good copy, the company file's standing (its last good copy) when the
/// location was listed, what the keep rules removed or kept beyond themselves,
/// and for `--incremental` what the incremental backup stored.
struct BackupListing: Encodable {
    let run: BackupRun

    init(_ run: BackupRun) {
        self.run = run
    }

    enum Keys: String, CodingKey {
        case goodCopy, standing, pruned, keptBeyondRules, incrementalBackup, keepRulesProblem
    }

    /// `incremental_backup`: the pages stored and the bytes sent, and
    /// `full_because` when a full snapshot was taken instead.
    struct Incremental: Encodable {
        let fullBecause: String?
        let pages: Int
        let newPages: Int
        let deltaPages: Int
        let packsCreated: Int
        let bytesWritten: Int64

        init(_ run: IncrementalRun) {
            (fullBecause, pages, newPages) = (run.fullBecause, run.pages, run.newPages)
            (deltaPages, packsCreated, bytesWritten) = (run.deltaPages, run.packsCreated, run.bytesWritten)
        }
    }

    struct Kept: Encodable {
        let path: String
        let safeguard: RetentionDecision.Safeguard
    }

    func encode(to encoder: any Encoder) throws {
        try SnapshotListing(run.snapshot).encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(run.isGoodCopy, forKey: .goodCopy)
        try container.encodeIfPresent(run.standing, forKey: .standing)
        try container.encode(run.decisions.filter { !$0.keep }.map(\.snapshot.path), forKey: .pruned)
        try container.encode(
            run.decisions.compactMap { decision in
                decision.safeguard.map { Kept(path: decision.snapshot.path, safeguard: $0) }
            },
            forKey: .keptBeyondRules)
        try container.encodeIfPresent(run.incremental.map(Incremental.init), forKey: .incrementalBackup)
        try container.encodeIfPresent(run.keepRulesProblem, forKey: .keepRulesProblem)
    }
}
