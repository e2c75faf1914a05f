import Foundation

/// `fleet backup`: one client's snapshot into its own folder or prefix of the
/// location, with the keep rules and encryption of a single backup, folded into
/// its status record.
public enum FleetBackup {
    /// Backs up `client` into `<root>/<slug>/`; `gate` bounds how many backups run at once.
    public static func run(
        _ client: FleetClient, root: String, options: FleetBackupOptions, gate: FleetGate,
        now: @Sendable () -> Date = Date.init
    ) -> ClientResult {
        if let refused = FleetStorage.refused(client, root: root) { return refused }
        let location = FleetStorage.clientLocation(root, slug: client.slug)
        var step = ClientStatus.BackupStep(at: Timestamp.string(from: now()), outcome: .failed)
        var summary: String
        // The quick verify of the copy is the client's latest verify too: a
        // nightly backup keeps the report's verify column current.
        var verified: ClientStatus.VerifyStep?
        var encrypted = false
        // Whether the location was listed and holds no good copy: the record's older one is then gone too.
        var noGoodCopy = false
        // Why the keep rules could not finish after the snapshot was written, when they could not.
        var keepRules: String?
        do {
            let run = try gate.passing {
                try FleetStorage.backUp(
                    client.file, into: location, root: root, slug: client.slug, options: options, now: now())
            }
            let verify = run.snapshot.verify ?? "skipped"
            step.outcome = run.isGoodCopy ? .clean : verify == "findings" ? .findings : .damaged
            step.snapshot = run.snapshot.path
            step.bytes = run.snapshot.bytes
            encrypted = run.snapshot.encrypted
            if let findings = run.findings {
                verified = FleetVerify.step(at: run.snapshot.createdAt, findings: findings, quick: true)
            } else if run.verified, verify == "skipped" {
                verified = ClientStatus.VerifyStep(at: run.snapshot.createdAt, outcome: .damaged)
                verified?.problem = ClientStatus.unreadableWhole
                verified?.quick = true
            }
            summary = "\(run.snapshot.path) (verify: \(verify))"
            if let problem = run.keepRulesProblem {
                keepRules = "the keep rules could not finish: " + problem
                step.problem = keepRules
            }
            if let held = run.packsHeldBack { summary += "; no pack of incremental snapshots was removed: \(held)" }
            if run.isGoodCopy {
                step.lastGoodAt = run.snapshot.createdAt
                step.lastGoodSnapshot = run.snapshot.path
                step.lastGoodBytes = run.snapshot.bytes
            } else if let standing = run.standing, let good = standing.lastGoodCopy {
                step.lastGoodAt = standing.lastGoodCopyTakenAt
                step.lastGoodSnapshot = good
                summary += "; not a good copy, the last good one is \(good)"
            } else if let standing = run.standing, standing.unknown.isEmpty,
                !standing.problems.contains(.goodCopyUnknown)
            {
                noGoodCopy = true
                summary += "; not a good copy, and there is no good one"
            } else {
                // Encrypted snapshots no key here opens may hold one: the record's word stands.
                summary += "; not a good copy, and no good one is known here"
            }
        } catch {
            step.problem = FleetError.describe(error)
            summary = "could not back up: " + (step.problem ?? "")
        }
        var result = ClientResult(client: client, outcome: step.outcome, summary: summary)
        if let keepRules {
            result.summary += "; " + keepRules
            result.problem = keepRules
        }
        let size = StatusUpdates.size(of: client.file, now: now())
        result.statusProblem = StatusUpdates.update(client, root: root, now: now(), encrypted: encrypted) { status in
            // A failed backup keeps the last good one the record knew, unless the location,
            // listed, holds none: the report then says so rather than keep an older word.
            if step.lastGoodAt == nil, !noGoodCopy, let previous = status.backup {
                step.lastGoodAt = previous.lastGoodAt
                step.lastGoodSnapshot = previous.lastGoodSnapshot
                step.lastGoodBytes = previous.lastGoodBytes
            }
            status.backup = step
            if let verified,
                FleetVerify.replaces(status.verify, quickAt: Timestamp.parse(verified.at) ?? now(), now: now())
            {
                status.verify = verified
            }
            if let size { status.size = size }
            StatusUpdates.night(
                &status, outcome: step.outcome, now: now(), fileBytes: size?.bytes, snapshotBytes: step.bytes)
        }
        return result
    }
}
