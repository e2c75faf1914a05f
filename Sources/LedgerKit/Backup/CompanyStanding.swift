import Foundation

/// Where one company file's snapshots in a location stand: its newest, and
/// its last good copy (the newest whose verify is `clean`), so a person learns
/// before the day they need it that the backups no longer hold good books.
public struct CompanyStanding: Codable, Equatable, Sendable {
    /// What needs a person.
    public enum Problem: String, Codable, Sendable {
        /// Its newest snapshot is not a good copy: verify `findings` or
        /// `skipped` (the file could not be read), or it is not whole.
        case newestNotClean = "newest-not-clean"
        /// Its newest snapshot is one `restore` refuses (`newestVerify` says
        /// why: `not-as-claimed`, `not-signed-here`; `SnapshotCheck.Refusal`):
        /// planted, changed, or made by another computer; whole or not, it is no good copy.
        case newestRefused = "newest-refused"
        /// Its newest snapshot is encrypted and no key given opens it, so
        /// whether it is a good copy cannot be told.
        case newestUnknown = "newest-unknown"
        /// None of its snapshots is a good copy.
        case noGoodCopy = "no-good-copy"
        /// No snapshot is known to be a good copy, but encrypted ones no key
        /// given opens may be.
        case goodCopyUnknown = "good-copy-unknown"
        /// Its last good copy is older than the age allowed.
        case goodCopyTooOld = "good-copy-too-old"
    }

    /// The stem its snapshots are named with: `acme` for `acme.db`.
    public var stem: String
    /// The company's name (its newest snapshot's), given only where one
    /// stem's snapshots are of two companies or more (two clients' `books.db`
    /// in one place), by their manifests' `company_created_at`, and by name at
    /// one creation time (`companies(in:)`): each then stands alone. Nil otherwise.
    public var company: String?
    /// With `company`: its `created_at`, which with the name tells it from the others.
    public var companyCreatedAt: String?
    /// How many snapshots of it the location holds (whose header can be read).
    public var snapshots: Int
    /// Its newest snapshot (`Snapshot.takenAt`).
    public var newest: String
    /// When the newest snapshot was taken.
    public var newestTakenAt: String?
    /// `clean`, `findings`, `skipped`, `damaged` (not whole when read),
    /// `not-as-claimed` or `not-signed-here` (restore refuses it:
    /// `SnapshotCheck.Refusal`), or nil when it is encrypted and no key given opens it.
    public var newestVerify: String?
    /// Its newest snapshot known to be `clean`; nil when none is.
    public var lastGoodCopy: String?
    /// When the last good copy was taken.
    public var lastGoodCopyTakenAt: String?
    /// Seconds from the last good copy's time to now (negative when that
    /// time is ahead of this machine's clock).
    public var lastGoodCopyAgeSeconds: Int?
    /// Encrypted snapshots newer than the last good copy that no key given
    /// opens: any of them may be the newest clean one.
    public var unknown: [String]
    /// What makes this company file's backups not safe, if anything.
    public var problems: [Problem]
    /// Whether its backups are safe: a recent good copy and no problem.
    public var ok: Bool

    /// The standing of each company file (by stem, sorted; where one stem's
    /// manifests give two companies, one for each: see `companies`) among
    /// `snapshots`. Snapshots whose manifest does not say which company they
    /// are of (older ones, encrypted ones no key opens) count for every
    /// company they may be of.
    /// - Parameters:
    ///   - verdicts: what a full read found, by path, over the manifest's word:
    ///     `damaged` for a snapshot that is not whole; a `SnapshotCheck.Refusal`
    ///     for one restore refuses, which is then no good copy either.
    ///   - maxAge: the oldest a last good copy may be, in seconds; nil: any age.
    public static func of(
        _ snapshots: [Snapshot], verdicts: [String: String] = [:], maxAge: TimeInterval? = nil,
        now: Date = Date()
    ) -> [CompanyStanding] {
        Dictionary(grouping: snapshots, by: \.stem).sorted { $0.key < $1.key }.flatMap { stem, group in
            let companies = companies(in: group)
            guard companies.count > 1 else {
                return standing(stem, company: nil, group, verdicts: verdicts, maxAge: maxAge, now: now).map { [$0] }
                    ?? []
            }
            return companies.compactMap { company in
                let own = group.filter { company.mayHold($0, among: companies) }
                var found = standing(
                    stem, company: company.newestName, own, verdicts: verdicts, maxAge: maxAge, now: now)
                found?.companyCreatedAt = company.createdAt
                return found
            }
        }
    }

    /// One company among one stem's snapshots: a creation time and the names
    /// it went by.
    struct Company {
        let createdAt: String
        var names: [String]
        /// When each of its names' snapshots were taken, by name.
        var times: [String: [Date]]
        /// The name of its newest snapshot.
        var newestName: String {
            times.max { ($0.value.last ?? .distantPast, $0.key) < ($1.value.last ?? .distantPast, $1.key) }?.key ?? "?"
        }

        /// Whether `snapshot` may be of this company: its manifest names it,
        /// gives no creation time and one of its names (or a name no company
        /// of the stem went by), or says nothing.
        func mayHold(_ snapshot: Snapshot, among all: [Company]) -> Bool {
            guard let manifest = snapshot.manifest else { return true }
            guard let createdAt = manifest.companyCreatedAt else {
                return names.contains(manifest.company ?? "")
                    || !all.contains { $0.names.contains(manifest.company ?? "") }
            }
            return createdAt == self.createdAt && names.contains(manifest.company ?? "")
        }
    }

    /// The companies `group` (one stem's snapshots) holds, by their manifests'
    /// company and `company_created_at`: a creation time is a company, which a
    /// rename keeps. At one creation time, two names are two companies (copies
    /// of one template, which share the time) when their snapshots interleave
    /// both ways: each was taken between two of the other's, as two files
    /// backed up side by side are. A name whose snapshots come after another's,
    /// or within them (a rename, undone), is the same company's; a name that
    /// could be either of two companies' is a company of its own.
    static func companies(in group: [Snapshot]) -> [Company] {
        var times: [ManifestCompany: [Date]] = [:]
        for snapshot in group {
            guard let manifest = snapshot.manifest, manifest.companyCreatedAt != nil else { continue }
            times[manifest.companyIdentity, default: []].append(snapshot.takenAt ?? .distantPast)
        }
        for key in times.keys { times[key]?.sort() }
        /// Whether one of `these` was taken between two of `those`.
        func between(_ these: [Date], _ those: [Date]) -> Bool {
            guard let first = those.first, let last = those.last else { return false }
            return these.contains { $0 > first && $0 < last }
        }
        var companies: [Company] = []
        let ordered = times.sorted {
            ($0.value.first ?? .distantPast, $0.key) < ($1.value.first ?? .distantPast, $1.key)
        }
        for (identity, taken) in ordered {
            guard let createdAt = identity.createdAt else { continue }
            let joinable = companies.indices.filter { index in
                companies[index].createdAt == createdAt
                    && !companies[index].times.values.contains { between(taken, $0) && between($0, taken) }
            }
            if joinable.count == 1, let index = joinable.first {
                companies[index].names.append(identity.name)
                companies[index].times[identity.name] = taken
            } else {
                companies.append(Company(createdAt: createdAt, names: [identity.name], times: [identity.name: taken]))
            }
        }
        return companies.sorted { ($0.createdAt, $0.newestName) < ($1.createdAt, $1.newestName) }
    }

    /// The standing of `group`, the snapshots of one company file.
    private static func standing(
        _ stem: String, company: String?, _ group: [Snapshot], verdicts: [String: String], maxAge: TimeInterval?,
        now: Date
    ) -> CompanyStanding? {
        let newestFirst = group.sorted { SnapshotCatalog.isOlder($1, than: $0) }
        guard let newest = newestFirst.first else { return nil }
        let verify = { (snapshot: Snapshot) in verdicts[snapshot.path] ?? snapshot.verify }
        let (good, unknown) = lastGoodCopy(newestFirst: newestFirst, verify: verify)
        let age = good.flatMap(\.takenAt).map { Int(now.timeIntervalSince($0).rounded(.down)) }
        var problems: [Problem] = []
        switch verify(newest) {
        case "clean": break
        case nil: problems.append(.newestUnknown)
        case let verdict? where SnapshotCheck.Refusal(rawValue: verdict) != nil: problems.append(.newestRefused)
        default: problems.append(.newestNotClean)
        }
        if good == nil { problems.append(unknown.isEmpty ? .noGoodCopy : .goodCopyUnknown) }
        if let maxAge, let age, Double(age) > maxAge { problems.append(.goodCopyTooOld) }
        return CompanyStanding(
            stem: stem, company: company, snapshots: group.count, newest: newest.path,
            newestTakenAt: newest.takenAt.map(Timestamp.string(from:)), newestVerify: verify(newest),
            lastGoodCopy: good?.path, lastGoodCopyTakenAt: good?.takenAt.map(Timestamp.string(from:)),
            lastGoodCopyAgeSeconds: age, unknown: unknown.map(\.path), problems: problems, ok: problems.isEmpty)
    }

    /// In `newestFirst` (snapshots of one company file), the newest whose
    /// verify is `clean`, and the encrypted ones newer than it whose verify
    /// cannot be read: while they cannot be told apart, each of those may be
    /// the last good copy.
    static func lastGoodCopy(newestFirst: [Snapshot], verify: (Snapshot) -> String? = \.verify)
        -> (good: Snapshot?, unknown: [Snapshot])
    {
        var unknown: [Snapshot] = []
        for snapshot in newestFirst {
            switch verify(snapshot) {
            case "clean": return (snapshot, unknown)
            case nil: unknown.append(snapshot)
            default: continue
            }
        }
        return (nil, unknown)
    }
}
