import Foundation

/// `fleet check-backups`: reads one client's snapshots (as `ledger check-backups`), optionally
/// drills its newest, and folds both into its status record.
public enum FleetCheck {
    /// How the problem of a location holding no snapshot starts; the location follows.
    static let noSnapshots = "no snapshots"
    /// What a sealed record keeps of a snapshot the check found not whole: its name and this.
    static let notWhole = "not whole"
    /// The problem of a last good copy that holds another company's books than
    /// the client's file: copied or planted into its folder.
    static let otherCompany = "the last good copy holds another company's books"

    /// What a sealed record (`ClientStatus.seal`) keeps of a check's problems:
    /// the codes (`newest-not-clean`…), each snapshot found not whole by its
    /// name alone (the location shows the names anyway), and a fixed phrase for
    /// the rest, whose words (an error's, a server's) are printed only on the
    /// machine that ran the check; each once, in order.
    static func sealed(_ problems: [String]) -> [String] {
        var kept: [String] = []
        for problem in problems {
            let phrase: String
            if CompanyStanding.Problem(rawValue: problem) != nil || problem == ClientStatus.seeItsOutput
                || problem == otherCompany
            {
                phrase = problem
            } else if problem.hasPrefix(noSnapshots) {
                phrase = noSnapshots
            } else if let colon = problem.range(of: ": "),
                SnapshotName.parse(String(problem[..<colon.lowerBound])) != nil
            {
                phrase = String(problem[..<colon.lowerBound]) + ": " + notWhole
            } else {
                phrase = ClientStatus.seeItsOutput
            }
            if !kept.contains(phrase) { kept.append(phrase) }
        }
        return kept
    }

    /// Checks the snapshots under `<root>/<slug>/`; a location that cannot be read is a failure of this client only.
    public static func run(
        _ client: FleetClient, root: String, sample: Double, maxAge: TimeInterval?, drill: Bool,
        keys: SnapshotIdentities, now: @Sendable () -> Date = Date.init
    ) -> ClientResult {
        if let refused = FleetStorage.refused(client, root: root) { return refused }
        let location = FleetStorage.clientLocation(root, slug: client.slug)
        var outcome = ClientStatus.StepOutcome.failed
        var summary: String
        // The check's own word, apart from a drill's: the report judges it on its own.
        var check = ClientStatus.CheckStep(at: Timestamp.string(from: now()), outcome: .failed)
        var good: (at: String?, path: String?)
        // Whether the snapshots were read: then the last good copy is what the check found, even none.
        var checkedAll = false
        do {
            let found = try SnapshotChecker.checkLocation(
                location, sample: sample, with: keys, maxAge: maxAge, now: now())
            let broken = found.snapshots.filter { !$0.ok }.count
            outcome = found.ok ? .clean : .failed
            // Where the folder holds two companies' snapshots, the client's own company's standing.
            let own = CompanyIdentity.read(path: client.file)
            let standing =
                found.companies.first { standing in
                    standing.company == nil
                        || (standing.company == own?.name
                            && (standing.companyCreatedAt == nil || standing.companyCreatedAt == own?.createdAt))
                } ?? found.companies.first
            good = (standing?.lastGoodCopyTakenAt, standing?.lastGoodCopy)
            summary =
                "\(found.snapshots.count - broken) of \(found.snapshots.count) snapshots whole"
                + (good.at.map { "; last good copy \($0)" } ?? "; no good copy")
            if found.snapshots.isEmpty {
                outcome = .failed
                summary = noSnapshots + " in \(location)"
            }
            checkedAll = true
            // A good copy of another company (copied or planted into the client's folder,
            // even one this machine signed for another client) is no good copy of this one.
            if let path = good.path, let own,
                let theirs = otherCompany(in: path, than: own, location: location, keys: keys)
            {
                outcome = .failed
                good = (nil, nil)
                summary += "; " + otherCompany + " (\(theirs)), not the client's"
                check.problems.append(otherCompany)
            }
            let problems = found.companies.flatMap(\.problems)
            if !problems.isEmpty { summary += "; " + problems.map { "\($0)" }.joined(separator: ", ") }
            check.outcome = outcome
            check.problems +=
                (found.snapshots.isEmpty ? [summary] : [])
                + problems.map(\.rawValue)
                + found.snapshots.filter { !$0.ok }.map {
                    URL(fileURLWithPath: $0.path).lastPathComponent + ": " + ($0.problem ?? "not whole")
                }
        } catch {
            summary = "could not check: " + FleetError.describe(error)
            check.problems = [summary]
        }
        check.problems = Array(check.problems.prefix(ClientStatus.CheckStep.problemsKept))
        var drilled: DrillResult?
        if drill {
            let result = RestoreDrill.newest(
                in: location, stem: SnapshotName.stem(of: client.file), client: client.slug, keys: keys,
                company: CompanyIdentity.read(path: client.file))
            drilled = result
            outcome = StatusUpdates.worse(outcome, result.outcome)
            summary += "; " + result.summary
        }
        var result = ClientResult(client: client, outcome: outcome, summary: summary)
        let checked = outcome
        result.statusProblem = StatusUpdates.update(client, root: root, now: now()) { status in
            // The check's word on the last good copy stands over the backups': a snapshot
            // found damaged since is no good copy, and none found clears it (the report then
            // says the last good backup is missing), so a failed check never shows green.
            if checkedAll || good.at != nil, var backup = status.backup {
                if backup.lastGoodSnapshot != good.path { backup.lastGoodBytes = nil }
                backup.lastGoodAt = good.at
                backup.lastGoodSnapshot = good.path
                status.backup = backup
            }
            status.check = check
            if let drilled { FleetDrill.record(drilled, in: &status, now: now()) }
            StatusUpdates.night(&status, outcome: checked, now: now())
        }
        return result
    }

    /// The company the snapshot at `path` holds, as its manifest says, when it is
    /// not `own`, the client's file's (by name, and by creation time where the
    /// manifest keeps it); nil when they agree or the manifest cannot say.
    static func otherCompany(in path: String, than own: CompanyIdentity, location: String, keys: SnapshotIdentities)
        -> String?
    {
        guard let manifest = try? SnapshotStore.open(location).snapshot(at: path, with: keys).manifest,
            let theirs = manifest.company
        else { return nil }
        let created = manifest.companyCreatedAt
        // By name and time both: copies of one template share the time, so a name alone tells them apart.
        guard theirs != own.name || created.map({ $0 != own.createdAt }) ?? false else { return nil }
        return created.map { "\(theirs), created \($0)" } ?? theirs
    }
}
