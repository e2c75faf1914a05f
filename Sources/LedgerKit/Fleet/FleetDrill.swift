import Foundation

/// `fleet drill`: a restore drill of one client's newest snapshot, folded into its status record.
public enum FleetDrill {
    /// Drills the newest snapshot of the client's file under `<root>/<slug>/`
    /// (its stem, made for this client) and records it.
    public static func run(
        _ client: FleetClient, root: String, keys: SnapshotIdentities, now: @Sendable () -> Date = Date.init
    )
        -> ClientResult
    {
        if let refused = FleetStorage.refused(client, root: root) { return refused }
        let drilled = RestoreDrill.newest(
            in: FleetStorage.clientLocation(root, slug: client.slug), stem: SnapshotName.stem(of: client.file),
            client: client.slug, keys: keys, company: CompanyIdentity.read(path: client.file))
        var result = ClientResult(client: client, outcome: drilled.outcome, summary: drilled.summary)
        var lastProven: String?
        let encrypted = drilled.snapshot.map(SnapshotName.isEncrypted) ?? false
        result.statusProblem = StatusUpdates.update(client, root: root, now: now(), encrypted: encrypted) { status in
            record(drilled, in: &status, now: now())
            lastProven = status.drill?.lastProvenAt
        }
        result.lastProvenAt = lastProven
        if drilled.outcome != .clean, let lastProven { result.summary += " (last proven restorable: \(lastProven))" }
        return result
    }

    /// Folds a drill into a record: its step, "last proven" when it passed, and tonight's entry.
    public static func record(_ drilled: DrillResult, in status: inout ClientStatus, now: Date) {
        var step = ClientStatus.DrillStep(at: Timestamp.string(from: now), outcome: drilled.outcome)
        step.snapshot = drilled.snapshot
        step.lastProvenAt = status.drill?.lastProvenAt
        step.lastProvenSnapshot = status.drill?.lastProvenSnapshot
        if drilled.outcome == .clean {
            step.lastProvenAt = drilled.drilledAt
            step.lastProvenSnapshot = drilled.snapshot
        } else {
            step.problem = drilled.problems.joined(separator: "; ")
        }
        status.drill = step
        StatusUpdates.night(&status, outcome: drilled.outcome, now: now)
    }

    /// Whether tonight is `slug`'s night of the week for a drill (`--one-in-seven`): each
    /// client has one fixed night in seven, by its slug's hash, so every client is proven weekly.
    public static func isTonight(_ slug: String, now: Date = Date()) -> Bool {
        let day = StatusUpdates.localDay(now).dayNumber
        return Int(FleetShard.hash(slug) % 7) == ((day % 7) + 7) % 7
    }
}
