import Foundation

/// What `ledger backup` did: the snapshot it took, what its keep rules
/// decided, and where the company file's good copies stand afterwards.
public struct BackupRun: Sendable {
    /// The snapshot the backup took.
    public var snapshot: Snapshot
    /// Every decision of the keep rules, oldest first; empty without rules.
    public var decisions: [RetentionDecision]
    /// The standing of the snapshot's company file (its stem) in the location
    /// afterwards; nil when the snapshot is a good copy and no rules ran (the
    /// location was not listed).
    public var standing: CompanyStanding?
    /// Whether the copy was verified (false with `--no-verify`: its verify is `skipped`).
    public var verified: Bool
    /// What an incremental backup (`--incremental`) did; nil for a full one asked for.
    public var incremental: IncrementalRun? = nil
    /// The findings of the copy's quick verify; nil when it did not run (not
    /// asked for, or SQLite could not read the file).
    public var findings: [Finding]? = nil
    /// Why the keep rules could not finish (the location failed while they
    /// read or removed), when they could not: the snapshot is in place, and
    /// what they removed before the failure is not known here.
    public var keepRulesProblem: String? = nil
    /// Why the keep rules removed no pack of incremental snapshots, when something
    /// stopped them (`PackPruneOutcome.heldBack`): nothing is lost, no space reclaimed.
    public var packsHeldBack: String? = nil

    /// Whether the snapshot is a good copy: its quick verify found it `clean`.
    /// A snapshot with findings, of a file that could not be read, or not
    /// verified (both `skipped`) still keeps the original, but is not known to be one to go back to.
    public var isGoodCopy: Bool { snapshot.verify == "clean" }

    /// Takes a snapshot of `file` into the location `text` names (as
    /// `SnapshotWriter.take`), then applies `policy` (as `Retention.prune`,
    /// which always keeps the snapshot just taken and the newest clean one);
    /// `key` signs its manifest (see `ManifestKey`).
    /// `keys` (or `incremental`'s) open the location's encrypted snapshots for
    /// the keep rules, so that two companies' snapshots under one file name
    /// are told apart there too (`Retention.decide`).
    /// When the snapshot is not a good copy, the location is listed to find the last one.
    public static func perform(
        of file: String, into text: String, kind: SnapshotKind, level: Int = 6, verify: Bool = true,
        recipients: SnapshotRecipients = SnapshotRecipients(), policy: RetentionPolicy = RetentionPolicy(),
        signing key: ManifestKey? = nil,
        wait: TimeInterval = CompanyFile.lockWait, now: Date = Date(),
        incremental: IncrementalOptions? = nil, fleetClient: String? = nil, within: String? = nil,
        keys: SnapshotIdentities = SnapshotIdentities()
    ) throws -> BackupRun {
        var request = SnapshotRequest(
            of: file, kind: kind, level: level, verify: verify, recipients: recipients,
            signing: key, wait: wait, now: now)
        request.fleetClient = fleetClient
        request.within = within
        let found = Results<[Finding]>(count: 1)
        request.findings = { found.set(0, $0) }
        var pages: IncrementalRun?
        if let incremental {
            pages = try IncrementalWriter.take(
                request, into: SnapshotStore.open(text), keys: incremental.keys,
                fullEvery: incremental.fullEvery)
        }
        let snapshot = try pages?.snapshot ?? SnapshotWriter.take(request, into: SnapshotStore.open(text))
        var run = BackupRun(snapshot: snapshot, decisions: [], standing: nil, verified: verify, incremental: pages)
        run.findings = found.value(0)
        if !policy.isEmpty {
            // The snapshot is written: a failure of the rules is told beside it, not in its place.
            do {
                let pruned = try Retention.prune(
                    text, policy: policy, dryRun: false,
                    with: incremental?.keys ?? keys,
                    taken: snapshot, signedBy: key)
                run.decisions = pruned.decisions
                run.packsHeldBack = pruned.packs.heldBack
            } catch {
                run.keepRulesProblem = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            }
        }
        guard !policy.isEmpty || !run.isGoodCopy else { return run }
        let remaining: [Snapshot]
        if policy.isEmpty || run.keepRulesProblem != nil {
            let listed = try? SnapshotCatalog.list(
                try SnapshotStore.open(text), with: SnapshotIdentities(), knowing: snapshot)
            guard let listed else { return run }
            remaining = listed
        } else {
            remaining = run.decisions.filter(\.keep).map(\.snapshot)
        }
        // Its own company's, where one file name holds two companies' snapshots.
        let standings = CompanyStanding.of(remaining, now: now).filter {
            $0.stem == snapshot.stem
                && ($0.companyCreatedAt == nil || $0.companyCreatedAt == snapshot.manifest?.companyCreatedAt)
        }
        // At one creation time (copies of one template), the one its name is the newest of.
        run.standing =
            standings.first { $0.company == nil || $0.company == snapshot.manifest?.company } ?? standings.first
        return run
    }
}
