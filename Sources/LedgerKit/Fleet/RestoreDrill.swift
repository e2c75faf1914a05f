import Foundation

/// What a restore drill found: the snapshot restored, and whether the copy
/// came back whole, verified clean and matched what its manifest recorded.
public struct DrillResult: Codable, Equatable, Sendable {
    /// When the drill ran.
    public var drilledAt: String
    /// The snapshot drilled; nil when there was none.
    public var snapshot: String?
    /// When the snapshot was taken.
    public var takenAt: String?
    /// `clean` (proven restorable), `findings` (restores, but was taken with findings), or `failed`.
    public var outcome: ClientStatus.StepOutcome
    /// What was compared with the manifest: `sha256`, `verify`, `counts`, `split_sum`, `table_counts`, `trial_balance`.
    public var compared: [String] = []
    /// What failed, one line each.
    public var problems: [String] = []

    /// A drill of `snapshot` (nil: none found) that ran at `drilledAt`; no problems yet.
    public init(snapshot: String?, takenAt: String?, outcome: ClientStatus.StepOutcome, drilledAt: Date = Date()) {
        self.drilledAt = Timestamp.string(from: drilledAt)
        self.snapshot = snapshot
        self.takenAt = takenAt
        self.outcome = outcome
    }

    /// "last proven restorable: TIME", or what failed.
    public var summary: String {
        switch outcome {
        case .clean:
            return "last proven restorable: \(drilledAt) (the snapshot of \(takenAt ?? "?"), \(snapshot ?? "?"))"
        case .findings: return "restores, but its copy has findings: " + problems.joined(separator: "; ")
        default: return "drill failed: " + problems.joined(separator: "; ")
        }
    }
}

/// Restore drills: the newest snapshot restored into a private scratch folder
/// (0700, on this machine), verified in full, compared with its manifest (row
/// counts, split sum, and where the manifest has them the rows of every table
/// and the trial balance's digest), then removed.
public enum RestoreDrill {
    /// How a problem of a drill that found another company's books starts; the company names follow.
    static let anotherCompany = "it holds the books of another company"
    /// That problem in a sealed record: no company's name.
    static let anotherCompanySealed = "it holds another company's books"
    /// How the problem of a location with nothing to drill starts; the location follows.
    static let noSnapshot = "there is no snapshot to restore"
    /// The problem of a copy whose splits add up to another sum than its manifest's (neither sum quoted).
    static let otherSplitSum = "the splits add up to another sum than the one recorded"
    /// The problem of a copy whose trial balance differs from its manifest's (neither quoted).
    static let otherTrialBalance = "the trial balance differs from the one recorded"
    /// A drill's problems that quote nothing of the books, so a sealed record keeps them as they are.
    static let wordFree: Set<String> = [otherSplitSum, otherTrialBalance]

    /// What a sealed record (`ClientStatus.seal`) keeps of a drill's problem: a
    /// fixed phrase, never a company's name, a path or an error's words, which
    /// are printed only on the machine that ran the drill.
    static func sealed(_ problem: String) -> String {
        if problem.hasPrefix(anotherCompany) || problem == anotherCompanySealed { return anotherCompanySealed }
        if problem.hasPrefix(noSnapshot) { return noSnapshot }
        return wordFree.contains(problem) ? problem : ClientStatus.seeItsOutput
    }

    /// Drills the newest snapshot of `stem` (of any, when nil) in the location `location` names.
    /// Never throws: a location that cannot be listed is a failed drill.
    /// - Parameter company: the client's own company, when its file could be
    ///   read: a snapshot holding another company's books proves nothing of it.
    /// - Parameter client: the fleet client's slug: a snapshot made for another client is never drilled.
    /// - Parameter key: this machine's manifest key: a newest snapshot it did
    ///   not sign, where it signed others of its company there, fails the
    ///   drill, as restore refuses it without `--trust-unsigned`.
    static func newest(
        in location: String, stem: String? = nil, client: String? = nil,
        keys: SnapshotIdentities = SnapshotIdentities(), company: CompanyIdentity?, signedBy key: ManifestKey? = nil
    ) -> DrillResult {
        let snapshot: Snapshot?
        let others: [Snapshot]
        do {
            (snapshot, others) = try FleetStorage.newest(in: location, stem: stem, client: client, keys: keys)
        } catch {
            var result = DrillResult(snapshot: nil, takenAt: nil, outcome: .failed)
            result.problems = ["the snapshots cannot be listed: " + FleetError.describe(error)]
            return result
        }
        guard let snapshot else {
            var result = DrillResult(snapshot: nil, takenAt: nil, outcome: .failed)
            result.problems = [noSnapshot + " in \(location)"]
            return result
        }
        let ofStem = Snapshot.marking(others.filter { $0.stem == snapshot.stem }, signedBy: key)
        if let marked = ofStem.first(where: { $0.path == snapshot.path }),
            let reason = Restorer.unsignedRefusal(
                of: marked, among: ofStem, in: location, stem: snapshot.stem, signedBy: key)?.refusalReason
        {
            var result = DrillResult(
                snapshot: snapshot.path, takenAt: snapshot.takenAt.map(Timestamp.string(from:)) ?? snapshot.createdAt,
                outcome: .failed)
            result.problems = ["restore refuses it: " + reason]
            return result
        }
        return drill(snapshot, keys: keys, company: company)
    }

    /// Drills the newest snapshot of `stem` (of any, when nil) in the location `location` names.
    /// Never throws: a location that cannot be listed is a failed drill.
    /// - Parameter key: this machine's manifest key: restore's rule for snapshots it did not sign holds.
    public static func newest(
        in location: String, stem: String? = nil, keys: SnapshotIdentities = SnapshotIdentities(),
        signedBy key: ManifestKey? = nil
    ) -> DrillResult {
        newest(in: location, stem: stem, keys: keys, company: nil, signedBy: key)
    }

    /// The stems of the company files `location` holds snapshots of (`check-backups --drill` drills each).
    public static func stems(in location: String, keys: SnapshotIdentities = SnapshotIdentities()) throws -> [String] {
        try FleetStorage.stems(in: location, keys: keys)
    }

    /// Drills `snapshot`: never throws; what goes wrong is in the result's problems.
    public static func drill(_ snapshot: Snapshot, keys: SnapshotIdentities = SnapshotIdentities()) -> DrillResult {
        drill(snapshot, keys: keys, company: nil)
    }

    /// Drills `snapshot`, which must hold `company`'s books when it is given.
    static func drill(_ snapshot: Snapshot, keys: SnapshotIdentities, company: CompanyIdentity?) -> DrillResult {
        var result = DrillResult(
            snapshot: snapshot.path, takenAt: snapshot.takenAt.map(Timestamp.string(from:)) ?? snapshot.createdAt,
            outcome: .failed)
        do {
            let scratch = try privateFolder()
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            // A fixed name: the manifest's `source` is the location's word, and
            // a path in it ("../../.ssh/authorized_keys") would write outside the scratch.
            let restored = scratch + "/restored.db"
            try FleetStorage.unpack(snapshot, to: restored, keys: keys)
            result.compared.append("sha256")
            guard let manifest = snapshot.manifest else { throw EncryptionError.needsIdentity(path: snapshot.path) }
            // The location's snapshot, not the client's word: books of another company under the
            // client's prefix would restore and verify, and prove nothing of this client. A name
            // other than the client's fails too, though the time is the same: copies of one
            // template share it, so a rename cannot be told from another copy (the next backup,
            // after the rename, is the client's again).
            if let company, let held = CompanyIdentity.read(path: restored), held != company {
                result.problems.append(
                    anotherCompany + ", \(held.described), not \(company.described)")
                return result
            }
            // Books of another company than the manifest names: restore refuses them, whoever's they are.
            do {
                try Restorer.refuseUnlessAsClaimed(at: restored, manifest: manifest, snapshot: snapshot.path)
            } catch let refusal as RestoreError {
                result.problems.append("restore refuses it: " + (refusal.refusalReason ?? FleetError.describe(refusal)))
                return result
            }
            compare(restored, with: manifest, into: &result)
        } catch {
            result.problems.append(FleetError.describe(error))
            result.outcome = .failed
        }
        return result
    }

    /// Verifies the restored copy in full and compares it with `manifest`.
    private static func compare(_ restored: String, with manifest: Manifest, into result: inout DrillResult) {
        let report: VerifyReport
        do {
            report = try Verifier.verify(path: restored, quick: false)
        } catch {
            result.problems.append("the restored copy cannot be verified: " + FleetError.describe(error))
            return
        }
        result.compared.append("verify")
        var problems: [String] = []
        if !report.ok && manifest.verify == "clean" {
            problems.append(
                "the restored copy has \(report.findings.count) findings, and its manifest says it was clean")
        }
        if let counts = manifest.counts {
            result.compared.append("counts")
            for (table, rows) in counts.sorted(by: { $0.key < $1.key }) where report.counts[table] != rows {
                problems.append(
                    "\(table): \(report.counts[table].map(String.init) ?? "no") rows restored, \(rows) recorded")
            }
        }
        if let recorded = manifest.splitSum, let sum = report.splitTotal {
            result.compared.append("split_sum")
            if sum != recorded { problems.append(otherSplitSum) }
        }
        if manifest.tableCounts != nil || manifest.trialBalanceSha256 != nil {
            do {
                let figures = try BookFigures.read(path: restored)
                if let recorded = manifest.tableCounts {
                    result.compared.append("table_counts")
                    for (table, rows) in recorded.sorted(by: { $0.key < $1.key })
                    where figures.tableCounts[table] != rows {
                        problems.append(
                            "\(table): \(figures.tableCounts[table].map(String.init) ?? "no") rows restored, "
                                + "\(rows) recorded"
                        )
                    }
                }
                if let recorded = manifest.trialBalanceSha256 {
                    result.compared.append("trial_balance")
                    if figures.trialBalanceSha256 != recorded {
                        problems.append(otherTrialBalance)
                    }
                }
            } catch {
                problems.append("the restored books cannot be read: " + FleetError.describe(error))
            }
        }
        result.problems += problems
        result.outcome = !problems.isEmpty ? .failed : report.ok ? .clean : .findings
        if result.outcome == .findings {
            result.problems.append("\(report.findings.count) findings, as when it was taken")
        }
    }

    /// A new private folder (0700) in this machine's scratch folder, `.restore.drill-PID-RANDOM`;
    /// the caller removes it, and if this process is killed first the next use of the scratch
    /// folder does (`ScratchFolder.removeLeftovers`): no restored books stay behind.
    private static func privateFolder() throws -> String {
        let base = try ScratchFolder.path()
        var template = Array((base + "/.restore.drill-\(getpid())-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard let made else { throw BackupError.cannotWrite(path: base, reason: String(cString: strerror(errno))) }
        return String(cString: made)
    }
}
