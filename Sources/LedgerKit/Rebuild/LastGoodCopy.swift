import Foundation

/// The newest snapshot of a company file that verified clean when it was
/// taken, decompressed beside the file for a rebuild to bring rows back from
/// (docs/rebuild.md, "Recovery from the last good snapshot").
struct LastGoodCopy {
    let snapshot: Snapshot
    /// The decompressed company file: hidden, mode 0600, removed by the rebuild.
    let path: String
    /// What showed it holds these books when the damage took their company row;
    /// nil when the company row named them.
    var evidence: TransactionAgreement?

    /// Where a rebuild looks, and what it met there that a person should know.
    struct Search {
        var found: LastGoodCopy?
        /// "s3://… could not be listed: …", "2 encrypted snapshots need --identity".
        var notes: [String] = []
    }

    /// How many clean snapshots of the company, newest first, may fail (their
    /// SHA-256, their check) before giving up; one of another company does
    /// not count.
    static let tries = 8

    /// Finds the newest clean snapshot of the file named `source` (its name,
    /// as the manifests keep it) of `company` taken at or before `now` in
    /// `locations`, and decompresses it to `destination`. Snapshots dated
    /// after `now` are never taken (a clock or a name cannot be trusted past
    /// the present).
    ///
    /// Many companies' files may share a name and a backup folder: a snapshot
    /// is used only when what it holds is of `company` (same name and creation
    /// time); others are passed over, and said so. With `company` nil (the
    /// damage took the file's own company row) the newest clean snapshot of
    /// each company the manifests name is measured against the transactions
    /// that survived whole in `survivors` (the salvaged file; `doubtful` ids
    /// left out), and one is used only when it alone vouches
    /// (`TransactionAgreement.vouches`); the notes say which and why.
    ///
    /// A backup location is someone else's disk: what it holds could plant
    /// rows in the books. So a snapshot is used when this machine signed its
    /// manifest (`key`), or when it lies in one of `unsigned`, the places
    /// trusted without a signature (nil: every place).
    static func find(
        source: String, of company: CompanyIdentity?, survivors: String, doubtful: Set<Int64> = [],
        in locations: [String], keys: SnapshotIdentities, now: Date, key: ManifestKey? = nil,
        unsigned: Set<String>? = nil, destination: String
    ) -> Search {
        var search = Search()
        var candidates: [Snapshot] = []
        var sealed = 0
        var untrusted: [String: Int] = [:]
        let present = Timestamp.string(from: now)
        for text in locations {
            do {
                let listing = try SnapshotStore.open(text).list(with: keys)
                for snapshot in listing.snapshots where snapshot.source == source {
                    guard let manifest = snapshot.manifest else {
                        sealed += 1
                        continue
                    }
                    guard manifest.verify == "clean", manifest.createdAt <= present else { continue }
                    guard unsigned?.contains(text) ?? true || key?.signed(manifest) == true else {
                        untrusted[text, default: 0] += 1
                        continue
                    }
                    candidates.append(snapshot)
                }
            } catch {
                search.notes.append("\(text) could not be read (\(error.localizedDescription))")
            }
        }
        for (place, count) in untrusted.sorted(by: { $0.key < $1.key }) {
            search.notes.append(
                "\(count) clean snapshot\(count == 1 ? "" : "s") of \(source) in \(place) \(count == 1 ? "is" : "are") not signed by this computer and \(count == 1 ? "was" : "were") passed over: give --trust-unsigned if you trust that place"
            )
        }
        if sealed > 0 {
            search.notes.append(
                "\(sealed) encrypted snapshot\(sealed == 1 ? "" : "s") of \(source) could not be opened: give --identity (or --passphrase) to look in \(sealed == 1 ? "it" : "them") too"
            )
        }
        candidates.sort { SnapshotCatalog.isOlder($1, than: $0) }
        // Newer snapshots of other companies met before the one used, by what they hold.
        var others: [String: Int] = [:]
        guard let company else {
            search.found = byEvidence(
                source: source, survivors: survivors, doubtful: doubtful, among: candidates, keys: keys,
                destination: destination, notes: &search.notes)
            return search
        }
        search.found = newest(
            of: company, among: candidates, keys: keys, survivors: survivors, doubtful: doubtful,
            destination: destination
        ) {
            others[$0, default: 0] += 1
        } failed: {
            search.notes.append($0)
        }
        for (other, count) in others.sorted(by: { $0.key < $1.key }) {
            search.notes.append(
                "\(count) clean snapshot\(count == 1 ? "" : "s") named \(source) \(count == 1 ? "holds" : "hold") \(other), not \(company.described): passed over"
            )
        }
        return search
    }

    /// How many companies' newest clean snapshots are measured when the
    /// damage took the company row.
    static let companiesMeasured = 8

    /// With the company row gone: the newest of `candidates` (newest first)
    /// of each company their manifests name (name and creation time; at most
    /// `companiesMeasured`) is decompressed and measured against the surviving
    /// transactions. The one that vouches is decompressed to `destination`;
    /// of several (a company renamed, copies of one template), the one with
    /// more identical transactions than any other; when none vouches, or two
    /// tie, none is used. Every snapshot measured and the outcome are told in
    /// `notes`.
    private static func byEvidence(
        source: String, survivors: String, doubtful: Set<Int64>, among candidates: [Snapshot],
        keys: SnapshotIdentities, destination: String, notes: inout [String]
    ) -> LastGoodCopy? {
        var seen: Set<ManifestCompany> = []
        let newestOfEach = candidates.filter { snapshot in
            snapshot.manifest.map { seen.insert($0.companyIdentity).inserted } ?? false
        }
        // Each is measured beside `destination`; the best so far is kept there, so none is
        // decompressed twice.
        let candidate = AtomicFile.temporaryPath(beside: destination, purpose: "candidate")
        defer { AtomicFile.removeDatabaseFiles(at: candidate) }
        AtomicFile.removeDatabaseFiles(at: destination)
        var vouching: [(snapshot: Snapshot, agreement: TransactionAgreement)] = []
        for snapshot in newestOfEach.prefix(companiesMeasured) {
            AtomicFile.removeDatabaseFiles(at: candidate)
            do {
                try Restorer.decompress(snapshot, to: candidate, near: candidate, with: keys)
            } catch {
                notes.append("\(snapshot.path) could not be used (\(error.localizedDescription))")
                continue
            }
            if let reason = unsound(candidate) {
                notes.append("\(snapshot.path) was passed over: \(reason)")
                continue
            }
            guard
                let agreement = TransactionAgreement.measure(
                    survivors: survivors, snapshot: candidate, takenAt: snapshot.createdAt, doubtful: doubtful)
            else {
                notes.append(
                    "\(snapshot.path) was passed over: its transactions could not be compared with the surviving ones")
                continue
            }
            guard agreement.vouches else {
                notes.append(
                    "\(snapshot.path) was passed over: of the \(agreement.shared) surviving transactions it holds too, \(agreement.identical) are identical to its own and \(agreement.contradicted) \(agreement.contradicted == 1 ? "differs" : "differ") though not changed since it was taken"
                )
                continue
            }
            if vouching.allSatisfy({ $0.agreement.identical < agreement.identical }) {
                AtomicFile.removeDatabaseFiles(at: destination)
                guard rename(candidate, destination) == 0 else {
                    notes.append("\(snapshot.path) could not be used (\(String(cString: strerror(errno))))")
                    return nil
                }
            }
            vouching.append((snapshot, agreement))
        }
        let lost = "none was used, and rows the damage took are counted as lost"
        // Two that vouch are a company renamed, or two copies of one template: the one that
        // agrees with more surviving transactions than any other wins; a tie is no answer.
        let most = vouching.map(\.agreement.identical).max() ?? 0
        let best = vouching.filter { $0.agreement.identical == most }
        guard best.count == 1, let (snapshot, agreement) = best.first else {
            AtomicFile.removeDatabaseFiles(at: destination)
            notes.append(
                vouching.isEmpty
                    ? "the company row of \(source) could not be read, and no clean snapshot's transactions show it holds these books: \(lost)"
                    : "the company row of \(source) could not be read, and the surviving transactions match snapshots of \(best.count) companies equally (\(best.map { $0.snapshot.path }.joined(separator: ", "))), which cannot be told apart: \(lost)"
            )
            return nil
        }
        notes.append(
            "the company row of \(source) could not be read: \(snapshot.path) was taken as these books' own, as \(agreement.identical) of the \(agreement.shared) surviving transactions it holds too are identical to its own"
                + (agreement.identical < agreement.shared
                    ? ", and the other \(agreement.shared - agreement.identical) changed after it was taken" : "")
        )
        return LastGoodCopy(snapshot: snapshot, path: destination, evidence: agreement)
    }

    /// The first of `candidates` (newest first) that holds `company`,
    /// decompressed to `destination`. One of another company is passed over,
    /// what it holds told to `other`; one that cannot be used is told to
    /// `failed`, and after `tries` of those the search stops. One whose company
    /// row is these books' but whose transactions mostly differ from the
    /// surviving ones, though not changed since it was taken, is another
    /// company's too: a copy of one template keeps its name and creation time.
    private static func newest(
        of company: CompanyIdentity, among candidates: [Snapshot], keys: SnapshotIdentities, survivors: String,
        doubtful: Set<Int64>, destination: String, other: (String) -> Void, failed: (String) -> Void
    ) -> LastGoodCopy? {
        var failures = 0
        for snapshot in candidates where failures < tries {
            // The manifest's word suffices to pass one over; only the content can admit one.
            if let named = snapshot.manifest?.company, named != company.name {
                other("another company, \(named)")
                continue
            }
            AtomicFile.removeDatabaseFiles(at: destination)
            do {
                try Restorer.decompress(snapshot, to: destination, near: destination, with: keys)
                // Its manifest is the location's word: what it holds must be a sound company file too.
                if let reason = unsound(destination) {
                    AtomicFile.removeDatabaseFiles(at: destination)
                    failed("\(snapshot.path) was passed over: \(reason)")
                    failures += 1
                    continue
                }
                let held = CompanyIdentity.read(path: destination)
                guard held == company else {
                    AtomicFile.removeDatabaseFiles(at: destination)
                    other(
                        held.map { "another company, \($0.described)" }
                            ?? "a company file whose company row cannot be read")
                    continue
                }
                if let agreement = TransactionAgreement.measure(
                    survivors: survivors, snapshot: destination, takenAt: snapshot.createdAt, doubtful: doubtful),
                    agreement.contradicted > agreement.identical
                {
                    AtomicFile.removeDatabaseFiles(at: destination)
                    other(
                        "another company of the same name and creation time (\(agreement.contradicted) of the \(agreement.shared) surviving transactions it holds too differ from its own, though not changed since it was taken)"
                    )
                    continue
                }
                return LastGoodCopy(snapshot: snapshot, path: destination)
            } catch {
                AtomicFile.removeDatabaseFiles(at: destination)
                failed("\(snapshot.path) could not be used (\(error.localizedDescription))")
                failures += 1
            }
        }
        return nil
    }

    /// Why the decompressed snapshot at `path` cannot be read rows from, or nil.
    private static func unsound(_ path: String) -> String? {
        switch Restorer.content(of: path) {
        case .companyFile(let version) where version == Schema.formatVersion: return nil
        case .companyFile(let version), .newerFormat(let version): return "it holds a company file of format \(version)"
        case .notCompanyFile: return "it does not hold a company file"
        case .failsCheck: return "SQLite's check of what it holds failed"
        }
    }
}
