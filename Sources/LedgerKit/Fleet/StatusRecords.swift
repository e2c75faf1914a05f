import Foundation

/// Reads the clients' status records of a fleet location for the report: every
/// `<slug>/ledger-status.json` one level down, one at a time. The location is someone
/// else's disk: links are not followed, a record is read to at most
/// `ClientStatus.maximumBytes` plus one byte, and a folder without a readable record
/// still makes a row (unreadable), so a client never drops out of the report silently.
public enum StatusRecords {
    /// Calls `body` with each client folder's slug and its record's bytes (nil when the
    /// folder holds no readable record), in slug order.
    public static func forEach(inFolder folder: String, _ body: (_ slug: String, _ data: Data?) throws -> Void) throws {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw ReportError.locationMissing(folder)
        }
        let names: [String]
        do {
            names = try manager.contentsOfDirectory(atPath: folder)
        } catch {
            throw ReportError.locationUnreadable(folder, error.localizedDescription)
        }
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = folder + "/" + name
            guard let type = try? manager.attributesOfItem(atPath: path)[.type] as? FileAttributeType,
                  type == .typeDirectory else { continue }
            let record = path + "/" + ClientStatus.objectName
            guard let attributes = try? manager.attributesOfItem(atPath: record),
                  attributes[.type] as? FileAttributeType == .typeRegular else {
                try body(name, nil)
                continue
            }
            try body(name, boundedRead(record))
        }
    }

    /// At most `maximumBytes + 1` bytes of a file, or nil when it cannot be opened.
    private static func boundedRead(_ path: String) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: ClientStatus.maximumBytes + 1)) ?? Data()
    }
}
