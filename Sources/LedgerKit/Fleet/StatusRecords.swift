import Foundation

/// Reads the clients' status records of a fleet location for the report: every
/// `<slug>/ledger-status.json` one level down, one at a time, from a folder or an
/// `s3://` prefix alike. The location is someone else's storage: a record is read
/// to at most `ClientStatus.maximumBytes`, and a client folder without a readable
/// record still makes a row (unreadable), so a client never drops out of the report
/// silently.
public enum StatusRecords {
    /// Calls `body` with each client's slug and its record's bytes (nil when the client's
    /// folder holds no readable record), in slug order.
    /// - Parameter location: a folder or `s3://BUCKET/PREFIX`, as given to `fleet backup --to`.
    /// - Throws: `ReportError.noClientFolders` when the location holds no client folder at all
    ///   (an empty folder, a drive not mounted, a wrong prefix): "0 clients" would look like all is well.
    public static func forEach(
        in location: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        _ body: (_ slug: String, _ data: Data?) throws -> Void
    ) throws {
        let root = try StoreRegistry.open(location, environment: environment)
        guard try root.exists() else { throw ReportError.locationMissing(location) }
        let slugs: [String]
        do {
            slugs = try root.folders()
        } catch {
            throw ReportError.locationUnreadable(location, (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        let clients = slugs.filter { !$0.hasPrefix(".") }.sorted()
        guard !clients.isEmpty else { throw ReportError.noClientFolders(location) }
        for slug in clients {
            let client = try StoreRegistry.open(clientLocation(location, slug), environment: environment)
            let data = try? client.contents(of: ClientStatus.objectName, limit: ClientStatus.maximumBytes)
            try body(slug, data ?? nil)
        }
    }

    /// The folder or prefix of the client `slug` under `location`.
    static func clientLocation(_ location: String, _ slug: String) -> String {
        var trimmed = Substring(location)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return trimmed + "/" + slug
    }
}
