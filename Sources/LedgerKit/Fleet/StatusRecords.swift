import Foundation

/// Reads the clients' status records of a fleet location for the report: every
/// `<slug>/ledger-status.json` one level down, one at a time, from a folder or an
/// `s3://` prefix alike. The location is someone else's storage: a record is read
/// to at most `ClientStatus.maximumBytes`, and a client folder without a readable
/// record still makes a row (unreadable), so a client never drops out of the report
/// silently.
public enum StatusRecords {
    /// Calls `body` with each client's slug and its record's bytes (nil when the client's
    /// folder holds no readable record), in slug order. An entry of a folder location that is
    /// a link is never followed (it could lead anywhere on this machine) but still given, with
    /// no bytes and why, so that it makes a row.
    /// - Parameter location: a folder or `s3://BUCKET/PREFIX`, as given to `fleet backup --to`.
    /// - Parameter skipping: slugs whose records are not read or given.
    /// - Throws: `ReportError.noClientFolders` when the location holds no client folder at all
    ///   (an empty folder, a drive not mounted, a wrong prefix): "0 clients" would look like all is well.
    public static func forEach(
        in location: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        skipping: Set<String> = [],
        _ body: (_ slug: String, _ data: Data?, _ refused: String?) throws -> Void
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
        let clients = Set(slugs + links).filter { !$0.hasPrefix(".") }.sorted()
        guard !clients.isEmpty else { throw ReportError.noClientFolders(location) }
        for slug in clients where !skipping.contains(slug) {
            if links.contains(slug) {
                try body(slug, nil, "the client's folder is a link, which the report does not follow: make it a folder")
                continue
            }
            let client = try StoreRegistry.open(clientLocation(location, slug), environment: environment)
            let data = try? client.contents(of: ClientStatus.objectName, limit: ClientStatus.maximumBytes)
            try body(slug, data ?? nil, nil)
        }
    }

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
