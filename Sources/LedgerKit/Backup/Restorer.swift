import Crypto
import Foundation
import GRDB

/// What a restore did.
public struct RestoreResult: Codable, Sendable {
    /// The snapshot restored.
    public var snapshot: Snapshot
    /// The company file it was restored to.
    public var target: String
    /// The snapshot of the file that was replaced, if there was one.
    public var replaced: Snapshot?
    /// `clean`, `findings` or `skipped` (with `--no-verify`).
    public var verify: String
    /// Whether the restored content was verified now; false when its SHA-256
    /// matched a snapshot whose manifest says it was verified clean when taken
    /// and carries this machine's signature (`ManifestKey`).
    public var verifiedNow: Bool
    /// How many findings the verify of the restored content made (0 unless `verify` is `findings`).
    public var findings: Int = 0
    /// The file replaced, kept beside the target by a second name, when it held
    /// nothing a snapshot could take (its start damaged: `acme.db.replaced-20261207T021823Z`),
    /// with `--force`; its `-wal`, if any, is kept as that name with `-wal`.
    public var keptAs: String?
    /// The `-wal` of the file replaced, kept beside it by a second name
    /// (`acme.db-wal.not-applied-20261207T021823Z`), when SQLite could not take
    /// it into the file or the snapshot of it (another page size, a version it
    /// does not know): what it committed may be in no snapshot, and a person must look.
    public var keptLog: String?
    /// Whether this machine's manifest key signed the snapshot's manifest;
    /// false for one from another user account or computer, or planted.
    public var signedHere = false
}

/// Why a restore was refused. The target is untouched in every case.
public enum RestoreError: LocalizedError, Equatable, Sendable {
    case noSnapshots(folder: String)
    /// The place holds snapshots, but none of the company file asked for; `held` are the stems it holds.
    case noSnapshotsOf(stem: String, folder: String, held: [String])
    /// The place holds snapshots, but none can be read; the reason is the first one's.
    case noReadableSnapshots(folder: String, reason: String)
    case beforeOldest(time: String, oldest: String)
    case checksumMismatch(path: String)
    case targetInUse(path: String)
    /// The target changed (another program wrote to it) after its pre-restore snapshot was taken.
    case changedMeanwhile(path: String)
    case otherCompany(target: String, targetCompany: String, snapshotCompany: String)
    /// The place holds snapshots of `stem` of several companies, and `target`
    /// cannot say which is its own; `newest` names each one's newest snapshot.
    case severalCompanies(stem: String, folder: String, target: String, newest: [String])
    /// Every snapshot of the stem in the fleet client's folder `folder` says it was
    /// taken into another client's folder (`clients`): moved or planted here.
    case otherClients(folder: String, clients: [String], newest: String)
    /// The newest snapshot of the target's company's creation time (`newest`) names
    /// another company than the target, and an older one (`own`) names the target's:
    /// the company was renamed, or the two are copies of one template.
    case renamedOrCopy(target: String, company: String, own: String, newest: String, newestCompany: String)
    /// The snapshot chosen (`chosen`) is not signed by this machine's key, and
    /// other snapshots of its company there are (the newest: `signed`, taken
    /// `signedAt`): `chosen` may have been planted where the backups are, or
    /// made by another user account or computer.
    case notSignedHere(chosen: String, signed: String, signedAt: String)
    /// The snapshot chosen (`chosen`) is encrypted and none of the keys given
    /// opens it, while they open an older one of the stem there (`opened`): it
    /// is another's, or was put there by someone who can write where the backups are.
    case notOpenable(chosen: String, opened: String)
    /// The snapshot chosen (`chosen`) is not signed by this machine's key, none
    /// of its company there is, and this machine remembers signing one there
    /// (`newest`, taken `takenAt`): its snapshots were removed from the place.
    case signedGone(chosen: String, newest: String, takenAt: String)
    /// The snapshot's manifest names one company, and the books in it are another's:
    /// the manifest was not written with them.
    case notAsClaimed(path: String, claimed: String, holds: String)
    /// The file to be replaced holds no company file (`why`), and `--force` was not given.
    case targetNotCompanyFile(path: String, why: String)
    /// What the snapshot holds is not a company file of docs/company-file.md, whatever its manifest says.
    case notCompanyFile(path: String)
    /// What the snapshot holds is a company file of a format newer than this tool's.
    case newerFormat(path: String, version: Int)
    /// What the snapshot holds fails SQLite's `quick_check`.
    case failsCheck(path: String)
    /// The target's folder has no room for the restored file.
    case noRoom(folder: String, needed: Int64, free: Int64)

    /// One line for the person: what is wrong and what to do.
    public var errorDescription: String? {
        switch self {
        case .noSnapshots(let folder):
            return "No snapshots in \(folder). Name the folder that 'ledger backup --to' writes to."
        case .noSnapshotsOf(let stem, let folder, let held):
            let named =
                held.prefix(10).map(Self.printable).joined(separator: ", ")
                + (held.count > 10 ? " and \(held.count - 10) more" : "")
            return
                "\(folder) holds no snapshots of \(Self.printable(stem)); it holds snapshots of \(named); name one with --stem."
        case .noReadableSnapshots(let folder, let reason):
            return "No snapshot in \(folder) can be read. \(reason)"
        case .beforeOldest(let time, let oldest):
            return "No snapshot was taken at or before \(time); the oldest is from \(oldest). Choose a later time."
        case .checksumMismatch(let path):
            return
                "\(path) does not match its SHA-256: the snapshot is damaged and nothing was restored. Choose an older snapshot."
        case .changedMeanwhile(let path):
            return
                "\(path) was changed by another program while it was restored, after its pre-restore snapshot was taken; nothing was replaced. Close the other program and run the restore again."
        case .targetInUse(let path):
            return "\(path) is open in another program. Close it everywhere, then restore again."
        case .otherCompany(let target, let targetCompany, let snapshotCompany):
            return
                "\(target) holds \(targetCompany), but the snapshot is of \(snapshotCompany). Add --force to replace it anyway."
        case .severalCompanies(let stem, let folder, let target, let newest):
            return
                "\(folder) holds snapshots named \(Self.printable(stem)) of \(newest.count) companies (or names of one), and \(target) cannot say which is its own (it is missing, or its company row cannot be read): restore one by naming its snapshot as the source. Newest of each: "
                + newest.prefix(10).map(Self.printable).joined(separator: "; ")
                + (newest.count > 10 ? "; and \(newest.count - 10) more" : "")
        case .renamedOrCopy(let target, let company, let own, let newest, let newestCompany):
            return
                "The newest snapshot of \(target)'s company, by its creation time, names \(Self.printable(newestCompany)), not \(Self.printable(company)): the company was renamed, or the two are copies of one template. Nothing was restored. Name the snapshot to restore as the source: \(Self.printable(newest)) (the newest), or \(Self.printable(own)) (the newest named \(Self.printable(company)))."
        case .notSignedHere(let chosen, let signed, let signedAt):
            let taken = Timestamp.parse(signedAt).map { PointInTime.localText($0) } ?? signedAt
            return
                "\(Self.printable(chosen)) was not made with this computer's ledger key (it came from another user account or computer, or from someone who can write where the backups are), though other snapshots of this company there were. Nothing was restored. Restore the newest of those by naming it as the source, \(Self.printable(signed)) (taken \(taken); anything done after that is not in it), or add --trust-unsigned if you know where the first one came from."
        case .signedGone(let chosen, let newest, let takenAt):
            let taken = Timestamp.parse(takenAt).map { PointInTime.localText($0) } ?? takenAt
            return
                "\(Self.printable(chosen)) was not made with this computer's ledger key, and the snapshots this computer took of this company there are gone (the newest was \(Self.printable(newest)), taken \(taken)): someone removed them, and may have put this one in their place. Nothing was restored. Restore from another backup place, or add --trust-unsigned if you know where this one came from."
        case .notOpenable(let chosen, let opened):
            return
                "None of the keys given opens \(Self.printable(chosen)), the newest snapshot there: it was encrypted for other recipients (someone else's, or put there by someone who can write where the backups are). Nothing was restored. Restore the newest one your keys open by naming it as the source, \(Self.printable(opened)), or give the identity the newer one was made for (--identity)."
        case .notAsClaimed(let path, let claimed, let holds):
            return
                "\(Self.printable(path)) says it holds the books of \(Self.printable(claimed)), but holds those of \(Self.printable(holds)): its manifest was not written with these books (it was changed or planted). Nothing was restored. Choose another snapshot."
        case .otherClients(let folder, let clients, let newest):
            return
                "The snapshots in \(folder) were taken into another fleet client's folder (\(clients.prefix(5).map(Self.printable).joined(separator: ", "))), not this one: they were moved here and may be another client's books. Nothing was restored. To restore one anyway, name it as the source: \(Self.printable(newest))"
        case .targetNotCompanyFile(let path, let why):
            return
                "\(path) is not a company file (\(why)): nothing was restored. If it is your company file and its start is damaged, add --force: the snapshot takes its place and it is kept beside it as \(path).replaced-<time>."
        case .notCompanyFile(let path):
            return
                "\(path) does not hold a company file, whatever its manifest says: nothing was restored. Choose another snapshot."
        case .newerFormat(let path, let version):
            return
                "\(path) holds a company file of format \(version), newer than this ledger knows (\(Schema.formatVersion)): nothing was restored. Update ledger, then restore again."
        case .failsCheck(let path):
            return
                "\(path) holds a company file that fails SQLite's check: nothing was restored. Choose another snapshot, or unpack this one by hand (gzip -dc) and run 'ledger rebuild' on that copy."
        case .noRoom(let folder, let needed, let free):
            return
                "\(folder) has \(Self.mebibytes(free)) free and the restored file needs \(Self.mebibytes(needed)): nothing was restored. Free some space there, then restore again."
        }
    }

    /// Why restore refuses a snapshot, without what to do: for `check-backups`
    /// and drills, which say it of a snapshot they judge. Nil for other errors.
    var refusalReason: String? {
        switch self {
        case .notAsClaimed(_, let claimed, let holds):
            return
                "its manifest says it holds the books of \(Self.printable(claimed)), but it holds those of \(Self.printable(holds)): it was changed or planted"
        case .notSignedHere(_, let signed, _):
            return
                "it was not made with this computer's ledger key, though other snapshots of its company there were (the newest: \(Self.printable(signed))); restore takes it only with --trust-unsigned"
        case .signedGone(_, let newest, _):
            return
                "it was not made with this computer's ledger key, and the snapshots this computer took of its company there are gone (the newest was \(Self.printable(newest))); restore takes it only with --trust-unsigned"
        default:
            return nil
        }
    }

    private static func mebibytes(_ bytes: Int64) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    /// A name from someone else's disk as one line can show it.
    private static func printable(_ name: String) -> String { Quoting.oneLine(name) }
}

/// Restores snapshots (docs/snapshots.md): checks the SHA-256 before touching anything,
/// snapshots the file it replaces (`pre-restore`), replaces it atomically.
public enum Restorer {
    /// Picks the snapshot a restore uses: `source` itself if it names one
    /// snapshot, else, among the snapshots there of `target`'s own stem (or of
    /// `stem`), never another's, the newest taken at or before `time` (the
    /// newest of all without), by `Snapshot.takenAt`. Encrypted snapshots no
    /// key opens are chosen by their names' times, and read with `keys`;
    /// those `key` signed (this machine's) by their manifests' times, whatever
    /// time the location gives their files.
    /// - Parameter trustUnsigned: choose a snapshot `key` did not sign even
    ///   when others of its company there are signed by it.
    /// - Throws: `RestoreError.noSnapshotsOf` when the place holds snapshots,
    ///   but none of that stem, naming the stems it holds;
    ///   `RestoreError.notSignedHere` when the snapshot chosen is not signed by
    ///   `key` and another of its company there is, newer or older (unless
    ///   `trustUnsigned`): anyone who can write to the location can put a snapshot there.
    public static func choose(
        _ source: String, target: String, stem: String? = nil, at time: Date?,
        with keys: SnapshotIdentities = SnapshotIdentities(), signedBy key: ManifestKey? = nil,
        trustUnsigned: Bool = false
    ) throws -> Snapshot {
        let (location, named) = try SnapshotStore.source(source)
        if let named { return try location.snapshot(at: named, with: keys) }
        let listing = try location.list(with: keys)
        let wanted = stem ?? SnapshotName.stem(of: target)
        let ofStem = Snapshot.marking(listing.snapshots.filter { $0.stem == wanted }, signedBy: key)
            .sorted(by: SnapshotCatalog.isOlder)
        guard !ofStem.isEmpty else {
            // Files named as this company's snapshots whose head cannot be read say more than the other stems.
            let unreadable = listing.unreadable.filter {
                SnapshotName.parse(URL(fileURLWithPath: $0.path).lastPathComponent)?.stem == wanted
            }
            let held = Set(listing.snapshots.map(\.stem)).sorted()
            if let first = unreadable.first ?? (held.isEmpty ? listing.unreadable.first : nil) {
                throw RestoreError.noReadableSnapshots(folder: source, reason: first.reason)
            }
            if !held.isEmpty { throw RestoreError.noSnapshotsOf(stem: wanted, folder: source, held: held) }
            throw RestoreError.noSnapshots(folder: source)
        }
        guard let oldest = ofStem.first else { throw RestoreError.noSnapshots(folder: source) }
        // A snapshot this machine's key did not sign, where it signed others of its company
        // there (whenever taken: planted before the first one too), is the person's choice.
        // One no key opened is refused when it is read, for that.
        func refuseUnsigned(_ snapshot: Snapshot) throws {
            guard !trustUnsigned,
                let refusal = unsignedRefusal(
                    of: snapshot, among: ofStem, in: location.description, stem: wanted, signedBy: key)
            else { return }
            throw refusal
        }
        // A fleet client's folder holds its own snapshots: one whose manifest (signed with
        // the rest) says it was taken into another client's folder was moved here. The
        // folder's own name, whatever names it (".", a link).
        let folderName =
            location.store is FolderStore
            ? URL(fileURLWithPath: source).resolvingSymlinksInPath().standardizedFileURL.lastPathComponent
            : source.split(separator: "/").last.map(String.init) ?? ""
        let own = ofStem.filter { $0.manifest?.fleetClient.map { $0 == folderName } ?? true }
        if own.isEmpty, let newest = ofStem.last {
            throw RestoreError.otherClients(
                folder: source, clients: Set(ofStem.compactMap { $0.manifest?.fleetClient }).sorted(),
                newest: newest.path)
        }
        // Taken at or before `time` by both its own word and the location's: a
        // location whose clock runs slow must not bring back books from after it.
        let eligible = own.filter { snapshot in
            guard let time else { return true }
            return (snapshot.takenAt ?? .distantPast) <= time
                && (Timestamp.parse(snapshot.createdAt) ?? .distantPast) <= time
        }
        guard
            let chosen = try newestOfTargetsCompany(
                eligible, target: target, stem: wanted, folder: source, refuseUnsigned: refuseUnsigned)
        else {
            throw RestoreError.beforeOldest(
                time: Timestamp.string(from: time ?? Date()),
                oldest: oldest.takenAt.map(Timestamp.string(from:)) ?? oldest.createdAt)
        }
        try refuseUnsigned(chosen)
        // One the keys given cannot open, where they open an older one: anyone may encrypt a
        // file to a recipient of their own and put it there; the person chooses.
        if chosen.manifest == nil, !keys.isEmpty,
            let opened = eligible.last(where: { $0.manifest != nil && $0.path != chosen.path })
        {
            throw RestoreError.notOpenable(chosen: chosen.path, opened: opened.path)
        }
        return chosen
    }

    /// Why a restore without `--trust-unsigned` refuses `snapshot`, one of
    /// `ofStem` (the snapshots of `stem` in `location`, marked by `key`), for
    /// who signed it: `notSignedHere` when `key` did not sign it and signed
    /// another of its company there, newer or older; `signedGone` when it
    /// signed none of them there and the newest it remembers signing there
    /// (`SignedSnapshots`) is gone. Nil when neither, or without a key.
    /// `check-backups` asks the same, so that it never calls good what restore refuses.
    static func unsignedRefusal(
        of snapshot: Snapshot, among ofStem: [Snapshot], in location: String, stem: String, signedBy key: ManifestKey?
    ) -> RestoreError? {
        guard key != nil, !snapshot.signedHere, let company = snapshot.manifest?.companyIdentity else { return nil }
        if let signed = newestSigned(of: company, in: ofStem) {
            return .notSignedHere(chosen: snapshot.path, signed: signed.path, signedAt: signed.createdAt)
        }
        // None there now: this machine remembers the newest it took there (`SignedSnapshots`).
        if let remembered = SignedSnapshots.newest(in: location, stem: stem),
            sameCompany(remembered.company, company),
            !ofStem.contains(where: { URL(fileURLWithPath: $0.path).lastPathComponent == remembered.name })
        {
            return .signedGone(chosen: snapshot.path, newest: remembered.name, takenAt: remembered.createdAt)
        }
        return nil
    }

    /// The newest of `snapshots` (oldest first) that this machine signed, of
    /// `company`: of its creation time (a rename keeps it), else of its name.
    private static func newestSigned(of company: ManifestCompany, in snapshots: [Snapshot]) -> Snapshot? {
        snapshots.last { signed in
            guard signed.signedHere, let ours = signed.manifest?.companyIdentity else { return false }
            return sameCompany(ours, company)
        }
    }

    /// Whether two manifests' companies are one: the same creation time (a rename keeps
    /// it), else, where either lacks it, the same name.
    private static func sameCompany(_ one: ManifestCompany, _ other: ManifestCompany) -> Bool {
        if let first = one.createdAt, let second = other.createdAt { return first == second }
        return one.name == other.name
    }

    /// The newest of `snapshots` (of one stem, oldest first) that may be of the
    /// company `target` holds, nil when there are none. Where their manifests
    /// give two companies or more (a company is its name and
    /// `company_created_at`: two clients' `books.db` backed up to one place,
    /// or two copies of one template, which share the time; a manifest without
    /// the time, from before it was kept, joins the company of its name), the
    /// newest of the target's own name and time; else of its time (a company
    /// renamed since: the company check after decompressing asks for
    /// `--force`); else the newest, which that check refuses. When the target
    /// cannot say (missing, or its company row unreadable) the choice is the
    /// person's: refused, naming each one's newest snapshot. A manifest that
    /// names no company (a snapshot of a file whose company row could not be
    /// read: `verify: skipped`) is of no company known, never another one: it
    /// is chosen only where no other snapshot there may be of a company.
    /// - Parameter refuseUnsigned: throws for a snapshot this machine's key did
    ///   not sign where it signed others: called before a newer snapshot is named
    ///   as the company's (renamed), so a planted one is never pointed to.
    private static func newestOfTargetsCompany(
        _ eligible: [Snapshot], target: String, stem: String, folder: String,
        refuseUnsigned: (Snapshot) throws -> Void
    ) throws -> Snapshot? {
        // One no key opened may be of a company; one whose manifest names none is not.
        let ofACompany = eligible.filter { $0.manifest.map { $0.company != nil } ?? true }
        let snapshots = ofACompany.isEmpty ? eligible : ofACompany
        let timed = Set(
            snapshots.compactMap { $0.manifest?.companyIdentity }.filter { $0.createdAt != nil }.map(\.name))
        // Each company's newest snapshot; one without the time joins a timed company of its name.
        var byCompany: [ManifestCompany: Snapshot] = [:]
        for snapshot in snapshots {
            guard let company = snapshot.manifest?.companyIdentity,
                company.createdAt != nil || !timed.contains(company.name)
            else { continue }
            byCompany[company] = snapshot
        }
        guard byCompany.count > 1 else { return snapshots.last }
        guard let own = CompanyIdentity.read(path: AtomicFile.resolvedTarget(of: target)) else {
            let newest = byCompany.values.sorted { $0.path < $1.path }.map {
                "\($0.manifest?.company ?? "?") (created \($0.manifest?.companyCreatedAt ?? "?")): \($0.path)"
            }
            throw RestoreError.severalCompanies(stem: stem, folder: folder, target: target, newest: newest)
        }
        // A snapshot no key opened may be anyone's: judged after decompressing.
        let exact = snapshots.lastIndex {
            $0.manifest?.companyIdentity.mayBe(ManifestCompany(name: own.name, createdAt: own.createdAt)) ?? true
        }
        let renamed = snapshots.lastIndex { $0.manifest.map { $0.companyCreatedAt == own.createdAt } ?? true }
        // A newer snapshot of its time under another name: this company's own, renamed since (then the
        // older one would lose what was done after it), or a copy of one template (then it is another's).
        if let exact, let renamed, renamed > exact {
            try refuseUnsigned(snapshots[renamed])
            throw RestoreError.renamedOrCopy(
                target: target, company: own.name, own: snapshots[exact].path, newest: snapshots[renamed].path,
                newestCompany: snapshots[renamed].manifest?.company ?? "?")
        }
        return (exact ?? renamed).map { snapshots[$0] } ?? snapshots.last
    }

    /// A company file's company row: its name and creation time, as text when they are.
    struct CompanyRow {
        var name: String?
        var createdAt: String?

        init(_ path: String) throws {
            let row = try CompanyFile.read(path) {
                try Row.fetchOne($0, sql: "SELECT name, created_at FROM company WHERE id = 1")
            }
            (name, createdAt) = (row?.text("name"), row?.text("created_at"))
        }

        init() {}
    }

    /// Refuses to put the company file whose company row is `there` in place of `file`, the
    /// company file at `target`, when they are of two companies: their names
    /// differ, or the restored file's company row cannot be read (its manifest's
    /// word proves nothing of the books), or their `created_at` differ,
    /// both read: two companies may well share a name. Nothing is refused when `file`'s company cannot
    /// be read (a damaged file is what a restore is for), unless another
    /// program holds it: then it is in use, not unreadable.
    private static func refuseOtherCompany(_ there: CompanyRow, over file: String, target: String) throws {
        let here: CompanyRow
        do {
            here = try CompanyRow(file)
        } catch CompanyFileError.locked {
            throw RestoreError.targetInUse(path: target)
        } catch {
            return
        }
        guard let current = here.name else { return }
        // Books that cannot name their company (no company row, a name that is no text)
        // may be anyone's: what a snapshot of this company could not be but by damage.
        guard let incoming = there.name else {
            throw RestoreError.otherCompany(
                target: target, targetCompany: current, snapshotCompany: "books whose company row cannot be read")
        }
        if current != incoming {
            throw RestoreError.otherCompany(target: target, targetCompany: current, snapshotCompany: incoming)
        }
        if let mine = here.createdAt, let theirs = there.createdAt, mine != theirs {
            throw RestoreError.otherCompany(
                target: target, targetCompany: CompanyIdentity(name: current, createdAt: mine).described,
                snapshotCompany: CompanyIdentity(name: current, createdAt: theirs).described)
        }
    }

    /// Refuses books whose company `row` is not the one their manifest names:
    /// ledger reads both from one copy when it takes a snapshot, so they
    /// differ only when someone changed the manifest or put other books
    /// under it (a planted snapshot claiming this company's name, which a
    /// restore into a missing file has nothing else to check against).
    /// Nothing is refused where the manifest names no company; books whose
    /// company row cannot be read under a manifest that names one are refused.
    static func refuseUnlessAsClaimed(_ row: CompanyRow, manifest: Manifest, snapshot: String) throws {
        guard let claimed = manifest.company else { return }
        guard let name = row.name, let createdAt = row.createdAt else {
            // A manifest from before the creation time was kept asks only for the name.
            if manifest.companyCreatedAt == nil, row.name == claimed { return }
            throw RestoreError.notAsClaimed(
                path: snapshot, claimed: claimed, holds: "a company whose row cannot be read")
        }
        let holds = CompanyIdentity(name: name, createdAt: createdAt)
        let timeDiffers = manifest.companyCreatedAt.map { $0 != holds.createdAt } ?? false
        guard claimed != holds.name || timeDiffers else { return }
        let said = manifest.companyCreatedAt.map { CompanyIdentity(name: claimed, createdAt: $0).described } ?? claimed
        throw RestoreError.notAsClaimed(path: snapshot, claimed: said, holds: holds.described)
    }

    /// Refuses the books at `path`, restored from the snapshot at `snapshot`,
    /// as restore does when their company row is not the one `manifest` names
    /// (`refuseUnlessAsClaimed`): for a check or a drill, which must never
    /// call good what restore refuses.
    static func refuseUnlessAsClaimed(at path: String, manifest: Manifest, snapshot: String) throws {
        try refuseUnlessAsClaimed((try? CompanyRow(path)) ?? CompanyRow(), manifest: manifest, snapshot: snapshot)
    }

    /// Restores `snapshot` to `target`.
    ///
    /// Whatever the manifest says, the restored bytes are installed only when
    /// they are a company file of docs/company-file.md (SQLite, `application_id` LEDG, a
    /// format this tool knows) that passes SQLite's `quick_check`; a snapshot
    /// with findings is installed, and says so.
    ///
    /// A `target` that is a symbolic link stays one: the file it names is
    /// replaced (the restored bytes are made beside that file).
    ///
    /// - Parameters:
    ///   - backupFolder: where the `pre-restore` snapshot of the replaced file goes
    ///     (a folder or `s3://BUCKET/PREFIX`).
    ///   - force: replace a file of another company, or one that holds no
    ///     company file (kept beside it by a second name, `keptAs`).
    ///   - verify: run a quick verify of the restored content first, unless its
    ///     manifest says `clean` and carries `manifestKey`'s signature: then
    ///     this machine verified those very bytes when it took the snapshot.
    ///   - reverify: verify even then.
    ///   - keys: what opens an encrypted snapshot.
    ///   - manifestKey: this machine's key, which tells its own manifests, and
    ///     signs the `pre-restore` snapshot's; nil: every snapshot is verified.
    /// - Throws: `RestoreError` (`.notCompanyFile`, `.newerFormat`,
    ///   `.failsCheck`, `.noRoom`…), `BackupError.damagedSnapshot`; the
    ///   target is untouched in every case.
    public static func restore(
        _ snapshot: Snapshot, to target: String, backupFolder: String, force: Bool = false,
        verify: Bool = true, reverify: Bool = false, keys: SnapshotIdentities = SnapshotIdentities(),
        manifestKey: ManifestKey? = nil,
        wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()
    ) throws -> RestoreResult {
        // An encrypted snapshot listed without a key is refused before anything is touched.
        let manifest = try opened(snapshot, with: keys)
        // Resolved once: the rename replaces the file a link names, and keeps the link.
        let file = AtomicFile.resolvedTarget(of: target)
        let exists = FileManager.default.fileExists(atPath: file)
        if exists { try refuseIfInUse(file, wait: wait) }
        AtomicFile.removeLeftovers(beside: file, purposes: ["restoring", "download", "decrypting"])
        let temporary = AtomicFile.temporaryPath(beside: file, purpose: "restoring")
        defer { AtomicFile.removeDatabaseFiles(at: temporary) }
        try ensureRoom(for: manifest, beside: temporary)
        try decompress(snapshot, to: temporary, near: file, with: keys)
        // The SHA-256 and the size were checked while decompressing; what they
        // vouch for is only what the manifest says, and anyone may write one.
        try refuseUnlessInstallable(temporary, from: snapshot.path)
        // The restored books' company row, read once for the checks against the manifest and the target.
        let restoredCompany = (try? CompanyRow(temporary)) ?? CompanyRow()
        try refuseUnlessAsClaimed(restoredCompany, manifest: manifest, snapshot: snapshot.path)

        var status = "skipped"
        var verifiedNow = false
        var findings = 0
        if verify && !reverify && manifest.verify == "clean" && manifestKey?.signed(manifest) == true {
            status = "clean"
        } else if verify {
            let report = try Verifier.verify(path: temporary, quick: true)
            status = report.ok ? "clean" : "findings"
            findings = report.findings.count
            verifiedNow = true
        }
        var replaced: Snapshot?
        // The replaced file kept whole by a second name (no snapshot can take it), made under the lock.
        var keepsFile = false
        var identity: FileIdentity?
        if exists {
            if !force { try refuseOtherCompany(restoredCompany, over: file, target: target) }
            // What its -wal committed goes into the file now, so that the file alone, which the
            // pre-restore snapshot takes, holds it all, and the -wal removed with it holds nothing.
            // One SQLite cannot take in stays, and is kept by a second name below. (A refusal
            // above leaves the file as it was, -wal and all.)
            guard (try? PrivateCopy.settle(file, wait: wait)) != false else {
                throw RestoreError.targetInUse(path: target)
            }
            // From here on the file must not change: a write after the pre-restore snapshot is in no copy.
            identity = FileIdentity(file)
            do {
                replaced = try RecipientsError.beforeReplacing {
                    try SnapshotWriter.take(
                        SnapshotRequest(
                            of: target, kind: .preRestore, signing: manifestKey, wait: wait,
                            now: now), into: SnapshotStore.open(backupFolder))
                }
            } catch CompanyFileError.empty {
                // Zero bytes hold no books; a -wal beside them may hold committed work: kept.
                keepsFile = WriteAheadLog.isBeside(file)
            } catch let error as CompanyFileError {
                guard let why = error.holdsNoCompanyFile else { throw error }
                guard force else { throw RestoreError.targetNotCompanyFile(path: target, why: why) }
                keepsFile = true
            }
        }
        var keptAs: String?
        var keptLog: String?
        // The in-use check is held through the rename, and the restored file keeps
        // the owner and mode of the file it replaces. Second names are made under
        // the lock, just before it: a refusal leaves none as an alias of the live file.
        do {
            try AtomicFile.replace(file, with: temporary, database: true, unchangedSince: identity) {
                if keepsFile {
                    keptAs = try keepReplaced(file, shown: target, now: now)
                } else if WriteAheadLog.holdsUntakenWork(beside: file) {
                    // A -wal the settling above could not take in: what it committed is in no copy.
                    keptLog = try keepLog(of: file, shown: target, now: now)
                }
            }
        } catch AtomicFile.Refusal.inUse {
            throw RestoreError.targetInUse(path: target)
        } catch AtomicFile.Refusal.changedMeanwhile {
            throw RestoreError.changedMeanwhile(path: target)
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(path: target, reason: error.reason)
        }
        return RestoreResult(
            snapshot: snapshot, target: target, replaced: replaced, verify: status, verifiedNow: verifiedNow,
            findings: findings, keptAs: keptAs, keptLog: keptLog,
            signedHere: manifestKey?.signed(manifest) == true)
    }

    /// Keeps the `-wal` of `file` beside it by a second name
    /// (`acme.db-wal.not-applied-20261207T021823Z`) before the restored file
    /// takes the name; returns that name (beside the link `shown`, when it is one).
    private static func keepLog(of file: String, shown: String, now: Date) throws -> String {
        let suffix = "-wal.not-applied-" + Timestamp.compact(from: now)
        do {
            try AtomicFile.keepSecondName(file + "-wal", as: file + suffix)
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(
                path: shown,
                reason: "its -wal could not be kept as \(shown + suffix) before the restore: \(error.reason)")
        }
        return shown + suffix
    }

    /// Keeps `file`, which no snapshot can take, beside it by a second name
    /// (`acme.db.replaced-20261207T021823Z`, its `-wal` as that name with `-wal`)
    /// before the restored file takes its name. Returns that name (beside the
    /// file a symbolic link `shown` names, when it is one).
    private static func keepReplaced(_ file: String, shown: String, now: Date) throws -> String {
        let suffix = ".replaced-" + Timestamp.compact(from: now)
        do {
            try AtomicFile.keepSecondName(file, as: file + suffix)
            if WriteAheadLog.isBeside(file) {
                try AtomicFile.keepSecondName(file + "-wal", as: file + suffix + "-wal")
            }
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(
                path: shown, reason: "it could not be kept as \(shown + suffix) before the restore: \(error.reason)")
        }
        return file + suffix
    }

    /// What a decompressed snapshot holds, judged without its manifest.
    enum Content: Equatable {
        /// A company file of docs/company-file.md that passes `quick_check`, of format `version`.
        case companyFile(version: Int)
        /// Not SQLite, or SQLite of another application (or of format 0 or below).
        case notCompanyFile
        /// A company file of a newer format than this tool's.
        case newerFormat(Int)
        /// A company file SQLite's `quick_check` finds damaged.
        case failsCheck
    }

    /// Judges the file at `path` by its own bytes: its header, then SQLite's
    /// `quick_check` through a read-only connection that leaves nothing behind.
    static func content(of path: String) -> Content {
        guard let header = try? FileHeader.read(path: path), header.isCompanyFile, header.userVersion >= 1 else {
            return .notCompanyFile
        }
        guard header.userVersion <= Schema.formatVersion else { return .newerFormat(header.userVersion) }
        let access = ReadOnlyAccess(path: path)
        defer { access.close() }
        let check = try? access.connect().inDatabase { db in try String.fetchOne(db, sql: "PRAGMA quick_check(1)") }
        return check == "ok" ? .companyFile(version: header.userVersion) : .failsCheck
    }

    /// Refuses restored bytes at `path` (of the snapshot at `snapshot`) that
    /// are not a company file this tool may install.
    static func refuseUnlessInstallable(_ path: String, from snapshot: String) throws {
        switch content(of: path) {
        case .companyFile: return
        case .notCompanyFile: throw RestoreError.notCompanyFile(path: snapshot)
        case .newerFormat(let version): throw RestoreError.newerFormat(path: snapshot, version: version)
        case .failsCheck: throw RestoreError.failsCheck(path: snapshot)
        }
    }

    /// Refuses, before anything is written, a snapshot whose database would
    /// not fit in the free space of the folder of `temporary`.
    static func ensureRoom(for manifest: Manifest, beside temporary: String) throws {
        guard manifest.databaseBytes >= 0 else {
            throw BackupError.damagedSnapshot("its manifest gives a size below zero")
        }
        let folder = URL(fileURLWithPath: temporary).deletingLastPathComponent().path
        if let free = SystemCalls.freeBytes(in: folder), free < manifest.databaseBytes {
            throw RestoreError.noRoom(folder: folder, needed: manifest.databaseBytes, free: free)
        }
    }

    /// The manifest of a snapshot that can be read.
    /// - Throws: `EncryptionError` when it is encrypted and no key given opened it.
    static func opened(_ snapshot: Snapshot, with keys: SnapshotIdentities) throws -> Manifest {
        guard let manifest = snapshot.manifest else {
            throw keys.isEmpty
                ? EncryptionError.needsIdentity(path: snapshot.path)
                : EncryptionError.noMatchingKey(path: snapshot.path)
        }
        return manifest
    }

    /// Decompresses into `temporary` (mode 0600), checking size and SHA-256,
    /// and never writing past the manifest's `database_bytes` or the free space;
    /// a snapshot in object storage is first downloaded into a hidden file
    /// beside `near` (by default `temporary`), and an encrypted one is
    /// decrypted into this machine's private scratch folder (`ScratchFolder`),
    /// never beside the snapshot.
    static func decompress(
        _ snapshot: Snapshot, to temporary: String, near: String? = nil,
        with keys: SnapshotIdentities = SnapshotIdentities()
    ) throws {
        let manifest = try opened(snapshot, with: keys)
        if manifest.incremental != nil { return try IncrementalReader.rebuild(snapshot, to: temporary, with: keys) }
        // Stored, the file is compressed (and encrypted): a place that lists more bytes than that can
        // take is not believed, and nothing is downloaded, so it cannot fill this machine's disk.
        guard snapshot.bytes <= largestStored(manifest) else {
            throw BackupError.damagedSnapshot(
                "its place lists \(snapshot.bytes) bytes, more than a snapshot of \(manifest.databaseBytes) bytes of books can take"
            )
        }
        let beside = near ?? temporary
        try SnapshotStore.containing(snapshot).withFile(of: snapshot, near: beside) { file in
            guard snapshot.encrypted else {
                return try decompress(manifest, of: snapshot.path, from: file, to: temporary)
            }
            let plain = try ScratchFolder.temporaryPath(for: snapshot.path, purpose: "decrypting")
            defer { unlink(plain) }
            try SnapshotSealing.decrypt(file, to: plain, with: keys, path: snapshot.path)
            try decompress(manifest, of: snapshot.path, from: plain, to: temporary)
        }
    }

    /// The most bytes a full snapshot of `manifest` can take where it is kept:
    /// gzip's stored blocks (5 bytes in 65,535) and age's tags (16 in 65,536)
    /// over `database_bytes`, and room for the head (manifest, recipients).
    static func largestStored(_ manifest: Manifest) -> Int64 {
        let bytes = min(max(manifest.databaseBytes, 0), Int64.max / 2)
        return bytes + bytes / 1_024 + 32 << 20
    }

    private static func decompress(_ manifest: Manifest, of path: String, from file: String, to temporary: String)
        throws
    {
        try ensureRoom(for: manifest, beside: temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw BackupError.cannotWrite(path: temporary, reason: String(cString: strerror(errno)))
        }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            try Gzip.decompress(path: file, limit: manifest.databaseBytes) { piece in
                hasher.update(bufferPointer: piece)
                size += Int64(piece.count)
                try Gzip.write(Array(piece), to: descriptor, path: temporary)
            }
            guard fsync(descriptor) == 0 else {
                throw BackupError.cannotWrite(path: temporary, reason: String(cString: strerror(errno)))
            }
            close(descriptor)
        } catch {
            close(descriptor)
            throw error
        }
        let hex = hasher.finalize().hex
        guard hex == manifest.databaseSha256, size == manifest.databaseBytes else {
            throw RestoreError.checksumMismatch(path: path)
        }
    }

    /// Waits up to `wait` seconds for no other program to have the target open
    /// (see `ReadOnlyAccess.whileNoOneElseHasItOpen`), then refuses.
    static func refuseIfInUse(_ target: String, wait: TimeInterval) throws {
        guard access(target, R_OK | W_OK) == 0 else {
            throw BackupError.cannotWrite(path: target, reason: String(cString: strerror(errno)))
        }
        guard ReadOnlyAccess.waitUntilNoOneElseHasItOpen(target, wait: wait) else {
            throw RestoreError.targetInUse(path: target)
        }
    }
}
