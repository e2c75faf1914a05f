import Foundation

/// Which snapshots to keep (restic's `forget` rules): a snapshot stays if any
/// rule keeps it, and the newest of each company file always stays.
public struct RetentionPolicy: Codable, Equatable, Sendable {
    public var last: Int = 0
    public var daily: Int = 0
    public var weekly: Int = 0
    public var monthly: Int = 0

    public init(last: Int = 0, daily: Int = 0, weekly: Int = 0, monthly: Int = 0) {
        self.last = last
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
    }

    public var isEmpty: Bool { last == 0 && daily == 0 && weekly == 0 && monthly == 0 }
}

/// What pruning decides for one snapshot, and why.
public struct RetentionDecision: Codable, Equatable, Sendable {
    public var snapshot: Snapshot
    public var keep: Bool
    /// Why it stays ("last 1", "daily 2026-11-20", "weekly 2026-W47", "monthly 2026-11", "newest").
    public var reasons: [String]
}

public enum Retention {
    /// Decides, for snapshots of each source file separately: days, ISO weeks and
    /// months are those of the snapshot's UTC time; each rule keeps the newest
    /// snapshot of each of its last N periods that have one.
    public static func decide(_ snapshots: [Snapshot], policy: RetentionPolicy) -> [RetentionDecision] {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        var decisions: [RetentionDecision] = []
        let groups = Dictionary(grouping: snapshots, by: \.source)
        for source in groups.keys.sorted() {
            let newestFirst = groups[source]!.sorted { SnapshotCatalog.isOlder($1, than: $0) }
            var seen: [String: Set<String>] = ["daily": [], "weekly": [], "monthly": []]
            for (position, snapshot) in newestFirst.enumerated() {
                var reasons: [String] = []
                if position == 0 { reasons.append("newest") }
                if position < policy.last { reasons.append("last \(position + 1)") }
                let time = snapshot.createdAt
                let day = String(time.prefix(10)), month = String(time.prefix(7))
                var week = day
                if let moment = Timestamp.parse(time) {
                    let parts = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: moment)
                    week = String(format: "%04d-W%02d", parts.yearForWeekOfYear ?? 0, parts.weekOfYear ?? 0)
                }
                for (rule, bucket, limit) in [("daily", day, policy.daily), ("weekly", week, policy.weekly),
                                              ("monthly", month, policy.monthly)] {
                    if !seen[rule]!.contains(bucket) && seen[rule]!.count < limit {
                        seen[rule]!.insert(bucket)
                        reasons.append("\(rule) \(bucket)")
                    }
                }
                decisions.append(RetentionDecision(snapshot: snapshot, keep: !reasons.isEmpty, reasons: reasons))
            }
        }
        return decisions.sorted { SnapshotCatalog.isOlder($0.snapshot, than: $1.snapshot) }
    }

    /// Applies `policy` to the snapshots in the location `text` names (a
    /// folder or `s3://…`): removes what no rule keeps (unless `dryRun`) and
    /// returns every decision, oldest first. Removing holds the location's
    /// lock, so no backup publishes meanwhile.
    public static func prune(_ text: String, policy: RetentionPolicy, dryRun: Bool) throws -> [RetentionDecision] {
        let location = try BackupLocation.open(text)
        guard !dryRun else { return decide(try location.list(with: SnapshotIdentities()).snapshots, policy: policy) }
        return try location.exclusively {
            let decisions = decide(try location.list(with: SnapshotIdentities()).snapshots, policy: policy)
            for decision in decisions where !decision.keep { try location.remove(decision.snapshot) }
            return decisions
        }
    }
}

/// An exclusive lock on a backup folder (`.ledger.lock` inside it), so two
/// backups or prunes of one folder never run at once; the second waits.
final class BackupLock {
    private let descriptor: Int32

    /// Waits up to `timeout` seconds for the lock.
    /// - Throws: `BackupError.cannotWrite` if the folder cannot hold the lock file
    ///   or another run keeps the lock past the timeout.
    init(folder: String, timeout: TimeInterval = 600) throws {
        let path = folder + "/.ledger.lock"
        do {
            descriptor = try SystemCalls.open(path, O_RDWR | O_CREAT)
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(path: path, reason: error.reason)
        }
        let deadline = Date().addingTimeInterval(timeout)
        do {
            while try !SystemCalls.tryFlock(descriptor, path: path) {
                guard Date() < deadline else {
                    throw BackupError.cannotWrite(path: folder, reason: "another ledger backup or prune has held it for \(Int(timeout)) s")
                }
                usleep(100_000)
            }
        } catch {
            SystemCalls.close(descriptor)
            if let error = error as? SystemCallError { throw BackupError.cannotWrite(path: path, reason: error.reason) }
            throw error
        }
    }

    func release() {
        SystemCalls.unflock(descriptor)
        SystemCalls.close(descriptor)
    }
}
