import Foundation

/// Removes the packs no remaining snapshot needs (docs/incremental.md), run
/// by `prune` under the location's lock after the snapshots it removes.
enum PackPrune {
    /// Removes every pack no incremental snapshot left in `location` names,
    /// with its index object, and every index object whose pack is not
    /// needed, and returns their names. Removes none when a file there cannot
    /// be read as a snapshot, or any remaining snapshot's page table cannot be
    /// read (an encrypted one without a key, a damaged one), and says why
    /// (`PackPruneOutcome.heldBack`); nor when no incremental snapshot is
    /// listed at all: a listing that shows none while packs remain is as
    /// likely a wrong answer as a true one, and a pack still needed is never
    /// removed on its word.
    /// - Throws: `PackPruneError.noSnapshotListed` when packs remain and the
    ///   location lists no snapshot at all, so that a person looks.
    ///
    /// A listing may lag behind what was written (a store that lists a new
    /// object only after a while) or leave an object out: so the packs of
    /// `keeping` (the snapshots the keep rules kept, and the one a backup
    /// has just taken) are needed whatever this listing shows, and a pack
    /// written within `grace` of `now` is never removed (the next prune
    /// removes it if no snapshot needs it).
    /// - Parameter confirm: called just before the first removal, to make sure
    ///   the location's lock is still held (a backup that took it since may need them).
    @discardableResult
    static func removeUnneeded(
        in location: SnapshotStore, with keys: SnapshotIdentities, keeping: [Snapshot] = [], now: Date = Date(),
        confirm: () throws -> Void = {}
    ) throws -> PackPruneOutcome {
        guard try location.store.exists() else { return PackPruneOutcome() }
        let objects = try location.store.list(prefix: "packs/")
        // Unknown times are old: a store that never gives one still has its orphans removed.
        let recent = Set(
            objects.filter { object in
                object.modified.flatMap(Timestamp.parse).map { $0 > now.addingTimeInterval(-grace) } ?? false
            }.map(\.name))
        let packs = objects.map(\.name)
        guard !packs.isEmpty else { return PackPruneOutcome() }
        let listing = try location.list(with: keys)
        if let first = listing.unreadable.first {
            return PackPruneOutcome(
                heldBack: "\(listing.unreadable.count) file\(listing.unreadable.count == 1 ? "" : "s") there cannot be "
                    + "read as a snapshot and may need packs (\(Quoting.oneLine(first.path))"
                    + "\(listing.unreadable.count == 1 ? "" : " and others"): move it away if it is not a backup, "
                    + "or see 'ledger check-backups')")
        }
        // Full snapshots alone (incrementals given up) leave their packs: kept, harmless but for the space.
        guard listing.snapshots.contains(where: { $0.manifest?.incremental != nil }) else {
            guard !listing.snapshots.isEmpty || !packs.contains(where: isPackObjectName) else {
                throw PackPruneError.noSnapshotListed(
                    location: location.description, packs: packs.filter(isPackObjectName).count)
            }
            return PackPruneOutcome()
        }
        // The newest snapshot this machine signed of a file there, which it remembers, missing from the
        // listing: the listing leaves out what was written (or lags), and the packs that snapshot needs
        // are not known. None is removed until it is listed (the next backup of the file remembers anew).
        let listed = Set(listing.snapshots.map { URL(fileURLWithPath: $0.path).lastPathComponent })
        for stem in Set((listing.snapshots + keeping).map(\.stem)).sorted() {
            guard let newest = SignedSnapshots.newest(in: location.description, stem: stem),
                !listed.contains(newest.name)
            else { continue }
            return PackPruneOutcome(
                heldBack: "the newest snapshot this computer took of \(Quoting.oneLine(stem)) there, "
                    + "\(Quoting.oneLine(newest.name)) (\(newest.createdAt)), is not in the location's listing, so "
                    + "the packs it needs are not known (a store may list a new object only after a while; "
                    + "the next backup of the file or a listing that shows it lets them go)")
        }
        var needed = Set<String>()
        var known: Set<String> = []
        for snapshot in listing.snapshots + keeping where known.insert(snapshot.path).inserted {
            guard let manifest = snapshot.manifest else {
                return PackPruneOutcome(
                    heldBack: "\(Quoting.oneLine(snapshot.path)) is encrypted and "
                        + (keys.isEmpty
                            ? "no key was given to open it, so the packs it needs are not known (give --identity)"
                            : "none of the keys given opens it, so the packs it needs are not known (it may not be "
                                + "a backup of yours: move it away if it is not)"))
            }
            guard manifest.incremental != nil else { continue }
            let table: IncrementalTable
            do {
                table = try IncrementalReader.table(of: snapshot, in: location, with: keys, keep: .packs)
            } catch {
                let why = (error as? LocalizedError)?.errorDescription ?? "\(error)"
                return PackPruneOutcome(
                    heldBack: "the page table of \(Quoting.oneLine(snapshot.path)) cannot be read (\(why))")
            }
            // A pack and its index object go together (a version 1 table's packs may have one too).
            for pack in table.packs { needed.formUnion(["packs/" + pack, PackIndex.objectName(of: pack)]) }
        }
        // Only names ledger writes there: anything else under packs/ is not ours to remove.
        let orphans = packs.filter { !needed.contains($0) && !recent.contains($0) && isPackObjectName($0) }
        guard !orphans.isEmpty else { return PackPruneOutcome() }
        try confirm()
        for name in orphans { try location.store.remove(name) }
        return PackPruneOutcome(removed: orphans)
    }

    /// How long a pack object just written is left whatever the listing says (an hour).
    static let grace: TimeInterval = 3_600

    /// `packs/` and 64 lowercase hex digits, with `.index` or not.
    static func isPackObjectName(_ name: String) -> Bool {
        guard name.hasPrefix("packs/") else { return false }
        var hex = name.dropFirst("packs/".count)
        if hex.hasSuffix(".index") { hex = hex.dropLast(".index".count) }
        return hex.count == 64 && hex.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }
}

/// What removing unneeded packs did.
public struct PackPruneOutcome: Codable, Equatable, Sendable {
    /// The pack and index objects removed.
    public var removed: [String] = []
    /// Why no pack was removed, when something stopped it: every pack stays,
    /// and the space of those no snapshot needs is not reclaimed until then.
    public var heldBack: String?
}

/// Why prune left every pack where it was.
public enum PackPruneError: LocalizedError, Equatable, Sendable {
    /// The location holds `packs` pack objects and lists no snapshot.
    case noSnapshotListed(location: String, packs: Int)

    /// What happened and what to do, in a person's words.
    public var errorDescription: String? {
        switch self {
        case .noSnapshotListed(let location, let packs):
            return
                "\(location) holds \(packs) pack objects of incremental snapshots but lists no snapshot at all; "
                + "no pack was removed, since a listing that shows none may be wrong. "
                + "If every snapshot there is gone on purpose, delete its packs/ yourself."
        }
    }
}
