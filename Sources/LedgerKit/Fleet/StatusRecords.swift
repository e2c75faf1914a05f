import Foundation

/// Reads the clients' status records of a fleet location for the report: every
/// `<slug>/ledger-status.json` one level down, one at a time, from a folder or an
/// `s3://` prefix alike. The location is someone else's storage: a record is read
/// to at most `ClientStatus.maximumBytes`, and a client folder without a readable
/// record still makes a row (unreadable), and so does a client on the fleet's roster
/// whose folder is gone (`FleetRoster`), so a client never drops out of the report
/// silently.
public enum StatusRecords {
    /// Calls `body` with each client's slug and its record's bytes (nil when the client's
    /// folder holds no readable record), in slug order. An entry of a folder location that is
    /// a link is never followed (it could lead anywhere on this machine) but still given, with
    /// no bytes and why (`refused`), so that it makes a row; so is a client on the location's
    /// roster whose folder is gone (`FleetRoster`).
    /// - Throws: `ReportError.locationUnreadable` when the roster cannot be listed, or is a link.
    /// - Parameter location: a folder or `s3://BUCKET/PREFIX`, as given to `fleet backup --to`.
    /// - Parameter skipping: slugs whose records are not read or given.
    /// - Parameter checkingSnapshots: also ask whether the last good snapshot
    ///   each record names is still in the client's folder (`gone` when not).
    /// - Throws: `ReportError.noClientFolders` when the location holds no client folder at all
    ///   (an empty folder, a drive not mounted, a wrong prefix): "0 clients" would look like all is well.
    public static func forEach(
        in location: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        skipping: Set<String> = [], checkingSnapshots: Bool = false,
        _ body: (_ slug: String, _ data: Data?, _ refused: String?, _ gone: [String]) throws -> Void
    ) throws {
        let root = try StoreRegistry.open(location, environment: environment)
        guard try root.exists() else { throw ReportError.locationMissing(location) }
        let slugs: [String]
        do {
            slugs = try root.folders()
        } catch {
            throw ReportError.locationUnreadable(location, (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        let links = (root as? FolderStore).map(links(in:)) ?? []
        let present = Set(slugs + links)
        // A client the roster lists and the location no longer holds still makes a row.
        let folderGone: [String: FleetRoster.Missing]
        do {
            if let refusal = FleetStorage.refusal(ofClient: FleetRoster.folder, in: location) {
                throw ReportError.locationUnreadable(location, refusal)
            }
            let missing = try FleetRoster.missing(from: root, at: location, folders: present)
            folderGone = Dictionary(missing.map { ($0.slug, $0) }) { first, _ in first }
        } catch let error as ReportError {
            throw error
        } catch {
            throw ReportError.locationUnreadable(
                location, "its roster cannot be read: " + ((error as? LocalizedError)?.errorDescription ?? "\(error)"))
        }
        let clients = Set(present.filter { !$0.hasPrefix(".") }).union(folderGone.keys).sorted()
        guard !clients.isEmpty else { throw ReportError.noClientFolders(location) }
        // Read through the one store, a batch at a time (a round trip each in object storage),
        // and handed on in slug order.
        let wanted = clients.filter { !skipping.contains($0) }
        for start in stride(from: 0, to: wanted.count, by: batch) {
            let slugs = Array(wanted[start..<min(start + batch, wanted.count)])
            let records = Results<Data?>(count: slugs.count)
            let gone = Results<[String]>(count: slugs.count)
            try Parallel.forEach(slugs.count, width: 8) { index in
                guard !links.contains(slugs[index]), folderGone[slugs[index]] == nil else { return }
                // A record that is a link, or in a folder that is one, is refused by the store unread.
                let data = try? root.contents(
                    of: slugs[index] + "/" + ClientStatus.objectName, limit: ClientStatus.maximumBytes)
                records.set(index, data ?? nil)
                if checkingSnapshots, let data, let status = ClientStatus.decoded(data) {
                    gone.set(index, missing(status, slug: slugs[index], in: root))
                }
            }
            for (index, slug) in slugs.enumerated() {
                if let gone = folderGone[slug] {
                    try body(slug, nil, goneFolder(gone), [])
                } else if links.contains(slug) {
                    try body(
                        slug, nil, "the client's folder is a link, which the report does not follow: make it a folder",
                        [])
                } else {
                    try body(slug, records.value(index) ?? nil, nil, gone.value(index) ?? [])
                }
            }
        }
    }

    /// Why a client on the roster makes a row with no record: its folder is gone.
    private static func goneFolder(_ gone: FleetRoster.Missing) -> String {
        "the client's folder is gone from the location, yet "
            + (gone.onlyHere
                ? "this computer's copy of the roster lists it (its entry in the location is gone too)"
                : "the location's roster lists it")
            + (gone.since.map { " (since \($0))" } ?? "")
            + ": put the folder back, or run ledger fleet forget if the client left"
    }

    /// The last good snapshot `status` names, when it lies in the client's
    /// folder and the location no longer holds it as the record says
    /// (removed, or emptied, cut or put in place of by something of another
    /// size, by hand or by someone who should not have); a location that
    /// cannot be asked says nothing.
    private static func missing(_ status: ClientStatus, slug: String, in root: any ByteStore) -> [String] {
        guard let recorded = status.backup?.lastGoodSnapshot, FleetReport.lies(recorded, inFolder: slug),
            let name = recorded.split(separator: "/").last
        else { return [] }
        do {
            guard let entry = try root.entry(slug + "/" + name) else { return [recorded] }
            return status.backup?.lastGoodBytes.map { $0 == entry.size } ?? true ? [] : [recorded]
        } catch {
            return []
        }
    }

    /// When this machine last wrote the record of the client `slug` of the fleet location
    /// `location` (`WrittenRecords`); nil when it never did.
    public static func lastWritten(_ slug: String, in location: String) -> String? {
        WrittenRecords.lastWritten(in: FleetStorage.clientLocation(location, slug: slug))
    }

    /// How many records are read at once before they are handed on: few
    /// enough to hold (each at most `ClientStatus.maximumBytes`).
    static let batch = 32

    /// The names in `folder` that are links (to anything, or to nothing).
    private static func links(in folder: FolderStore) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.folder)) ?? []
        return names.filter { name in
            var status = stat()
            return lstat(folder.path(of: name), &status) == 0 && status.st_mode & S_IFMT == S_IFLNK
        }
    }

    /// The folder or prefix of the client `slug` under `location`.
    static func clientLocation(_ location: String, _ slug: String) -> String {
        var trimmed = Substring(location)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return trimmed + "/" + slug
    }
}
