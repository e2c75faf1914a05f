import Foundation

/// The fleet's roster (docs/fleet.md): one small object a client,
/// `LOCATION/.ledger-roster/<slug>`, made by the first fleet step that writes the
/// client's status record. A client folder deleted from the location, or renamed to a
/// name the report does not read (one starting with `.`, one that is not UTF-8), would
/// otherwise leave the report unsaid; its roster entry still makes a row that needs
/// attention, until the folder is back or `ledger fleet forget` says the client left.
///
/// An entry holds no word of the books, only the slug (the folder's own name) and when
/// it was made, so it may lie in a location whose records are sealed.
public enum FleetRoster {
    /// The roster's folder or prefix under the location: hidden, so it is never taken for a client.
    public static let folder = ".ledger-roster"

    /// What an entry holds.
    struct Entry: Codable {
        var format = "ledger-fleet-roster"
        var version = 1
        var slug: String
        var addedAt: String

        enum CodingKeys: String, CodingKey {
            case format, version, slug
            case addedAt = "added_at"
        }
    }

    /// One client on the roster whose folder the location no longer holds.
    public struct Missing: Sendable, Equatable {
        /// The folder it had.
        public let slug: String
        /// When its entry was made, as the location lists it; nil when it does not say.
        public let since: String?
        /// Whether only this machine's copy of the roster (`LocalRoster`) still lists
        /// it: its entry in the location is gone too.
        public var onlyHere = false
    }

    /// This machine's copy of every roster it wrote an entry in: one `LOCATION<tab>slug` a
    /// line (`MachineList`). Whoever can write the location can remove a client's folder and
    /// its roster entry there together; the client still makes a row in a report on this machine.
    enum LocalRoster {
        private static let list = MachineList(name: "fleet-rosters")

        /// Puts `slug` on this machine's copy of `location`'s roster.
        static func remember(_ slug: String, in location: String) {
            list.append(StoreRegistry.key(of: location) + "\t" + slug)
        }

        /// The slugs this machine put on the roster of `location`.
        static func slugs(in location: String) -> Set<String> {
            let prefix = StoreRegistry.key(of: location) + "\t"
            return Set(list.lines().filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
        }

        /// Takes `slugs` off this machine's copy of `location`'s roster (`fleet forget`).
        static func forget(_ slugs: [String], in location: String) throws {
            try list.remove(Set(slugs.map { StoreRegistry.key(of: location) + "\t" + $0 }))
        }
    }

    /// Puts `client` on the roster of the location `root` when it is not there yet.
    /// - Returns: why it could not be, or nil when it is there.
    static func enrol(_ client: FleetClient, root: String, now: Date) -> String? {
        // Never through a link: the entry would be written outside the location.
        if let refusal = FleetStorage.refusal(ofClient: folder, in: root) { return refusal }
        do {
            LocalRoster.remember(client.slug, in: root)
            guard try StoreRegistry.open(root).entry(folder + "/" + client.slug) == nil else { return nil }
            let entry = Entry(slug: client.slug, addedAt: Timestamp.string(from: now))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try FleetStorage.write(
                try encoder.encode(entry), as: client.slug, in: FleetStorage.clientLocation(root, slug: folder))
            return nil
        } catch {
            return "could not put the client on the location's roster: " + FleetError.describe(error)
        }
    }

    /// The clients on the roster of `store` (the fleet location `location` names), or on this
    /// machine's copy of it (`LocalRoster`), whose folder is not among `folders`, in slug
    /// order. Only names that are slugs are taken: the listing is the location's word.
    /// - Throws: when the roster cannot be listed (a link in its place, a failing request).
    static func missing(from store: any ByteStore, at location: String, folders: Set<String>) throws -> [Missing] {
        var missing = try store.list(prefix: folder + "/").compactMap { object -> Missing? in
            let slug = String(object.name.dropFirst(folder.count + 1))
            guard ClientSlug.isSlug(slug), !folders.contains(slug) else { return nil }
            return Missing(slug: slug, since: object.modified)
        }
        let listed = Set(missing.map(\.slug))
        for slug in LocalRoster.slugs(in: location)
        where ClientSlug.isSlug(slug) && !folders.contains(slug) && !listed.contains(slug) {
            var gone = Missing(slug: slug, since: nil)
            gone.onlyHere = true
            missing.append(gone)
        }
        return missing.sorted { $0.slug < $1.slug }
    }

    /// Takes `slugs` off the roster of `location`: clients that left, whose folders are
    /// gone on purpose, so the report stops asking for them.
    /// - Throws: `FleetError.stillInLocation` for a client whose folder the location still
    ///   holds (it is reported while its folder is there), `FleetError.notOnRoster` for one
    ///   the roster does not list; nothing is removed then.
    public static func forget(
        _ slugs: [String], in location: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        let store = try StoreRegistry.open(location, environment: environment)
        guard try store.exists() else { throw ReportError.locationMissing(location) }
        if let refusal = FleetStorage.refusal(ofClient: folder, in: location) {
            throw ReportError.locationUnreadable(location, refusal)
        }
        let folders = Set(try store.folders())
        let listed = Set(try store.list(prefix: folder + "/").map { String($0.name.dropFirst(folder.count + 1)) })
        let here = LocalRoster.slugs(in: location)
        for slug in slugs {
            // A link in a folder location is a row of the report too (never followed): still there.
            var status = stat()
            if folders.contains(slug)
                || (store as? FolderStore).map({ lstat($0.path(of: slug), &status) == 0 }) ?? false
            {
                throw FleetError.stillInLocation(slug: slug, location: location)
            }
            guard ClientSlug.isSlug(slug), listed.contains(slug) || here.contains(slug) else {
                throw FleetError.notOnRoster(slug: slug, location: location)
            }
        }
        for slug in slugs where listed.contains(slug) { try store.remove(folder + "/" + slug) }
        try LocalRoster.forget(slugs, in: location)
    }
}
