import Foundation

/// Which snapshots to keep (restic's `forget` rules): a snapshot stays if any
/// rule keeps it; the newest, and the newest `clean` one, of each company file always stay.
public struct RetentionPolicy: Codable, Equatable, Sendable {
    /// Keep the newest this many snapshots.
    public var last: Int = 0
    /// Keep the newest snapshot of each of this many days.
    public var daily: Int = 0
    /// Keep the newest snapshot of each of this many ISO weeks.
    public var weekly: Int = 0
    /// Keep the newest snapshot of each of this many months.
    public var monthly: Int = 0

    /// Keep rules; a count of 0 keeps nothing by that rule.
    public init(last: Int = 0, daily: Int = 0, weekly: Int = 0, monthly: Int = 0) {
        self.last = last
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
    }

    /// Whether no rule keeps anything: then nothing is pruned.
    public var isEmpty: Bool { last == 0 && daily == 0 && weekly == 0 && monthly == 0 }
}

/// What pruning decides for one snapshot, and why.
public struct RetentionDecision: Codable, Equatable, Sendable {
    /// Why a snapshot no rule keeps stays all the same.
    public enum Safeguard: String, Codable, Sendable {
        /// It is the newest snapshot of its company file whose verify is `clean`: the last good copy.
        case newestClean = "newest-clean"
        /// It is encrypted, no key given opens it, and it is newer than the
        /// newest known clean one: it may be the last good copy.
        case mayBeNewestClean = "may-be-newest-clean"
        /// The backup that prunes has just taken it.
        case justTaken = "just-taken"
        /// It is the newest full snapshot whose verify is `clean`, and the last
        /// good copy is incremental: that one leans on packs written before it,
        /// which no backup reads again, while this one stands alone.
        case newestFullClean = "newest-full-clean"
        /// Its manifest says `clean`, but read whole it is not what its manifest
        /// says (bytes rotted or changed): kept for a person to look at, and no
        /// good copy, so an older clean one stays as the last good copy.
        case notWhole = "not-whole"
    }

    /// The snapshot decided on.
    public var snapshot: Snapshot
    /// Whether it stays; false means prune removes it.
    public var keep: Bool
    /// Why it stays ("newest", "last 1", "daily 2026-11-20", "weekly 2026-W47",
    /// "monthly 2026-11", "newest clean", "may be newest clean", "just taken").
    public var reasons: [String]
    /// Set when it stays though no rule keeps it: the rules alone would have removed it.
    public var safeguard: Safeguard?
}

/// What `Retention.prune` did.
public struct PruneResult: Sendable {
    /// Every snapshot's decision, oldest first.
    public var decisions: [RetentionDecision]
    /// The packs of incremental snapshots removed, or why none was (none with `dryRun`).
    public var packs = PackPruneOutcome()
}

/// The keep rules applied to a location's snapshots (docs/snapshots.md, keep rules).
public enum Retention {
    /// Decides, for snapshots of each source file separately, newest first by
    /// `Snapshot.takenAt` (so a name dated in the future never outranks a
    /// snapshot taken since): days, ISO weeks and months are those of that
    /// time in `timeZone`, the machine's (a snapshot at 21:00 in New York is
    /// of that evening's day, not of the next UTC day; a day of a DST change
    /// is one day); each rule keeps the newest snapshot of each of its last N
    /// periods that have one. Beyond the rules, the newest snapshot whose
    /// verify is `clean` stays, and so does every encrypted one newer than it
    /// that no key opened (any may be the newest clean one), and `taken`.
    /// Snapshots of one file name whose manifests give two companies (by
    /// `company_created_at`, which a rename keeps) keep each company's newest
    /// `clean` one, and so do those whose names differ at one creation time
    /// (copies of one template, files made in one second). With `key`, the
    /// newest `clean` one this machine signed stays too: a file planted in the
    /// location with a newer date and a `clean` manifest never leaves the books
    /// without a copy this machine took; and, where it signed any of a file's,
    /// the rules count the snapshots it is proven to have signed apart from all the others (another
    /// computer's, planted ones, encrypted ones no key opened: their reasons
    /// say "not made here"), each with their own places, by the signed time
    /// of the ones it signed, so that files planted or re-dated there never
    /// push the history this machine took out of them.
    /// - Parameter verdicts: what a read of the whole snapshot found, by path,
    ///   over its manifest's word (`damaged`).
    public static func decide(
        _ snapshots: [Snapshot], policy: RetentionPolicy, taken: Snapshot? = nil,
        timeZone: TimeZone = .current, verdicts: [String: String] = [:], signedBy key: ManifestKey? = nil
    ) -> [RetentionDecision] {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = timeZone
        var decisions: [RetentionDecision] = []
        let snapshots = Snapshot.marking(snapshots, signedBy: key)
        for (_, group) in Dictionary(grouping: snapshots, by: \.source).sorted(by: { $0.key < $1.key }) {
            let newestFirst = group.sorted { SnapshotCatalog.isOlder($1, than: $0) }
            var newestClean: Set<String> = []
            var newestFullClean: Set<String> = []
            var uncertain: Set<String> = []
            for candidates in lastGoodCopyGroups(newestFirst, signedBy: key) {
                let verify = { (snapshot: Snapshot) in verdicts[snapshot.path] ?? snapshot.verify }
                let (good, unknown) = CompanyStanding.lastGoodCopy(newestFirst: candidates, verify: verify)
                if let good { newestClean.insert(good.path) }
                uncertain.formUnion(unknown.map(\.path))
                // An incremental last good copy restores only while every pack it names does, and a
                // pack written once is never read again by a backup: one rotted since leaves it
                // unrestorable. The newest full clean one, which stands alone, stays beside it (an
                // encrypted one no key opened may be it).
                guard let good, good.manifest?.incremental != nil else { continue }
                let (full, unknownFull) = CompanyStanding.lastGoodCopy(
                    newestFirst: candidates.filter { $0.manifest?.incremental == nil }, verify: verify)
                if let full { newestFullClean.insert(full.path) }
                uncertain.formUnion(unknownFull.map(\.path))
            }
            // Where this machine is proven to have signed some, those and the others each have
            // the rules' places: files planted there (no key is needed to make one) never take
            // this machine's.
            let apart = newestFirst.contains(where: \.signedHere)
            var seen: [Bool: [String: Set<String>]] = [:]
            var counted: [Bool: Int] = [:]
            // A copy of a snapshot ranked newer (its very manifest, under a `-2` name: no key is needed to
            // copy a file) takes no place of `--keep-last`: copies never push the history out.
            var manifests: Set<String> = []
            for (position, snapshot) in newestFirst.enumerated() {
                let ours = !apart || snapshot.signedHere
                let isCopy =
                    snapshot.manifest.map {
                        !manifests.insert(
                            [$0.createdAt, $0.source, $0.databaseSha256, String($0.databaseBytes), $0.hmac ?? ""]
                                .joined(separator: "|")
                        ).inserted
                    } ?? false
                let place = counted[ours, default: 0]
                if !isCopy { counted[ours] = place + 1 }
                let whose = ours ? "" : " (not made here)"
                var reasons: [String] = []
                if position == 0 { reasons.append("newest") }
                if place < policy.last && !isCopy { reasons.append("last \(place + 1)\(whose)") }
                // A time that cannot be read keeps its own text as its day, week and month. One this
                // machine signed is of its signed time: a location re-dating its file cannot move it.
                var day = String(snapshot.createdAt.prefix(10))
                var month = String(snapshot.createdAt.prefix(7))
                var week = day
                if let moment = snapshot.rankedAt ?? snapshot.takenAt {
                    let parts = calendar.dateComponents(
                        [.year, .month, .day, .yearForWeekOfYear, .weekOfYear], from: moment)
                    month = String(format: "%04d-%02d", parts.year ?? 0, parts.month ?? 0)
                    day = month + String(format: "-%02d", parts.day ?? 0)
                    week = String(format: "%04d-W%02d", parts.yearForWeekOfYear ?? 0, parts.weekOfYear ?? 0)
                }
                for (rule, bucket, limit) in [
                    ("daily", day, policy.daily), ("weekly", week, policy.weekly),
                    ("monthly", month, policy.monthly),
                ] {
                    let buckets = seen[ours, default: [:]][rule, default: []]
                    if !buckets.contains(bucket) && buckets.count < limit {
                        seen[ours, default: [:]][rule, default: []].insert(bucket)
                        reasons.append("\(rule) \(bucket)\(whose)")
                    }
                }
                let ruled = !reasons.isEmpty
                var guards: [RetentionDecision.Safeguard] = []
                if newestClean.contains(snapshot.path) { guards.append(.newestClean) }
                if newestFullClean.contains(snapshot.path) { guards.append(.newestFullClean) }
                if verdicts[snapshot.path] != nil { guards.append(.notWhole) }
                if uncertain.contains(snapshot.path) { guards.append(.mayBeNewestClean) }
                if snapshot.path == taken?.path { guards.append(.justTaken) }
                reasons += guards.map { $0.rawValue.replacingOccurrences(of: "-", with: " ") }
                decisions.append(
                    RetentionDecision(
                        snapshot: snapshot, keep: ruled || !guards.isEmpty, reasons: reasons,
                        safeguard: ruled ? nil : guards.first))
            }
        }
        return decisions.sorted { SnapshotCatalog.isOlder($0.snapshot, than: $1.snapshot) }
    }

    /// The groups of `newestFirst` (the snapshots of one source file) whose
    /// newest `clean` snapshot each stays: all of them; where their manifests
    /// give two companies (two clients' books.db in one location), each
    /// company's, by creation time (which a rename keeps) and by name at one
    /// creation time (copies of one template share it), a manifest without the
    /// time by its name; and, with `key`, each
    /// of these among the snapshots this machine signed. Snapshots whose
    /// manifest does not say belong to every group that may be theirs.
    private static func lastGoodCopyGroups(_ newestFirst: [Snapshot], signedBy key: ManifestKey?) -> [[Snapshot]] {
        var groups = [newestFirst]
        let times = Set(newestFirst.compactMap { $0.manifest?.companyCreatedAt })
        if times.count > 1 {
            groups += times.sorted().map { time in
                newestFirst.filter { $0.manifest?.companyCreatedAt.map { $0 == time } ?? true }
            }
        }
        // Each company as its name and creation time; a manifest from before the time was kept, by
        // its name alone (it may be of any company of that name).
        let named = Set(newestFirst.compactMap { $0.manifest?.companyIdentity })
        if named.count > 1 {
            groups += named.sorted().map { company in
                newestFirst.filter { $0.manifest?.companyIdentity.mayBe(company) ?? true }
            }
        }
        // Among those this machine signed, an encrypted one no key opened may be one it signed:
        // a plain file planted newer than them never leaves them unguarded.
        if let key { groups += groups.map { $0.filter { $0.manifest.map(key.signed) ?? true } } }
        return groups
    }

    /// Applies `policy` to the snapshots in the location `text` names (a
    /// folder or `s3://…`): removes what it does not keep (unless `dryRun`) and
    /// returns every decision, oldest first, and what became of the packs
    /// no kept snapshot needs. Removing holds the location's
    /// lock, so no backup publishes meanwhile.
    /// - Parameters:
    ///   - keys: open encrypted snapshots, so their verify is known; without
    ///     them, every encrypted snapshot that may be the newest clean one stays.
    ///   - taken: the snapshot the calling backup has just taken, whose
    ///     manifest it knows even when it is encrypted; it always stays.
    ///   - timeZone: the one whose days, weeks and months the rules count (the machine's).
    ///   - key: this machine's manifest key: the newest clean snapshot it signed stays too.
    ///   - now: the time a pack's is compared with (`PackPrune.grace`).
    ///
    /// Before anything is removed, each snapshot kept as a last good copy
    /// (except `taken`, just written) is read whole into this machine's
    /// scratch folder, its CRC, size and SHA-256 checked: one that is not what
    /// its manifest says is kept (`notWhole`), and the next older clean one
    /// stays as the last good copy in its place.
    public static func prune(
        _ text: String, policy: RetentionPolicy, dryRun: Bool,
        with keys: SnapshotIdentities = SnapshotIdentities(), taken: Snapshot? = nil,
        timeZone: TimeZone = .current, signedBy key: ManifestKey? = nil, now: Date = Date()
    ) throws -> PruneResult {
        let location = try SnapshotStore.open(text)
        func decisions() throws -> [RetentionDecision] {
            let listed = try SnapshotCatalog.list(location, with: keys, knowing: taken)
            var verdicts: [String: String] = [:]
            var read = Set([taken?.path].compactMap { $0 })
            while true {
                let decided = decide(
                    listed, policy: policy, taken: taken, timeZone: timeZone, verdicts: verdicts, signedBy: key)
                guard decided.contains(where: { !$0.keep }) else { return decided }
                // Only a last good copy older ones of its file are removed beside: others' removal
                // does not lean on it.
                let removed = decided.filter { !$0.keep }.map(\.snapshot)
                let unread = decided.filter { decision in
                    (decision.reasons.contains("newest clean") || decision.reasons.contains("newest full clean"))
                        && !read.contains(decision.snapshot.path)
                        && removed.contains {
                            $0.source == decision.snapshot.source
                                && SnapshotCatalog.isOlder($0, than: decision.snapshot)
                        }
                }
                guard !unread.isEmpty else { return decided }
                for decision in unread {
                    read.insert(decision.snapshot.path)
                    if !(try isWhole(decision.snapshot, with: keys)) { verdicts[decision.snapshot.path] = "damaged" }
                }
            }
        }
        guard !dryRun else { return PruneResult(decisions: try decisions()) }
        return try location.holding { lock in
            let decided = try decisions()
            for decision in decided where !decision.keep { try location.remove(decision.snapshot) }
            // Then the packs no remaining snapshot needs (docs/incremental.md), only while
            // the lock is surely held: a backup that took it since may need them.
            let packs = try PackPrune.removeUnneeded(
                in: location, with: keys, keeping: decided.filter(\.keep).map(\.snapshot) + [taken].compactMap { $0 },
                now: now, confirm: lock.confirm)
            return PruneResult(decisions: decided, packs: packs)
        }
    }

    /// Whether `snapshot`, read whole into this machine's scratch folder (never
    /// the location), is what its manifest says: CRC, size and SHA-256 (an
    /// incremental's every page), and holds a company file that passes
    /// SQLite's `quick_check` whose company row is the one its manifest names
    /// (as restore refuses). A failure of the location itself is thrown:
    /// it says nothing of the snapshot.
    private static func isWhole(_ snapshot: Snapshot, with keys: SnapshotIdentities) throws -> Bool {
        let temporary = try ScratchFolder.temporaryPath(for: snapshot.path, purpose: "checking")
        defer { AtomicFile.removeDatabaseFiles(at: temporary) }
        do {
            try Restorer.decompress(snapshot, to: temporary, with: keys)
            // Bytes that match their manifest may still be no company file (one planted with its own SHA-256),
            // or another company's books under this one's manifest, which restore refuses.
            guard case .companyFile = Restorer.content(of: temporary), let manifest = snapshot.manifest else {
                return false
            }
            try Restorer.refuseUnlessAsClaimed(at: temporary, manifest: manifest, snapshot: snapshot.path)
            return true
        } catch let error as ObjectStorageError {
            throw error
        } catch {
            return false
        }
    }
}
