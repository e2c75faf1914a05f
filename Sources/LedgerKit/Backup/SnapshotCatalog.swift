import Foundation

/// The snapshots in a backup folder, read from their gzip headers only.
public enum SnapshotCatalog {
    /// A file in the folder that looks like a snapshot but whose header cannot be read.
    public struct Unreadable: Codable, Equatable, Sendable {
        public var path: String
        public var reason: String
    }

    /// Every snapshot in `folder`, oldest first; hidden and partial files are never listed.
    public static func list(_ folder: String) throws -> (snapshots: [Snapshot], unreadable: [Unreadable]) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw BackupError.cannotRead(path: folder, reason: "no such folder")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var snapshots: [Snapshot] = [], unreadable: [Unreadable] = []
        for name in names.sorted() where !name.hasPrefix(".") && name.hasSuffix(".gz") {
            let path = folder + "/" + name
            do {
                snapshots.append(try read(path))
            } catch {
                unreadable.append(Unreadable(path: path, reason: (error as? LocalizedError)?.errorDescription ?? "\(error)"))
            }
        }
        snapshots.sort(by: isOlder)
        return (snapshots, unreadable)
    }

    /// Oldest first: by the manifest's time, then by the `-N` of snapshots taken in one second.
    static func isOlder(_ first: Snapshot, than second: Snapshot) -> Bool {
        (first.manifest.createdAt, sequence(first.path), first.path) < (second.manifest.createdAt, sequence(second.path), second.path)
    }

    /// The `N` of a name `…Z-N.db.gz` (two snapshots in one second), else 1.
    private static func sequence(_ path: String) -> Int {
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard let mark = name.range(of: "Z-", options: .backwards) else { return 1 }
        return Int(name[mark.upperBound...].prefix { $0.isNumber }) ?? 1
    }

    /// Reads the manifest of one snapshot from its header.
    public static func read(_ path: String) throws -> Snapshot {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BackupError.cannotRead(path: path, reason: "cannot open it")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 64 * 1024)) ?? Data())
        guard let header = Gzip.parseHeader(head), let comment = header.comment else {
            throw BackupError.damagedSnapshot("\(path) has no readable gzip header with a manifest")
        }
        guard let manifest = try? JSONDecoder().decode(Manifest.self, from: Data(comment.utf8)) else {
            throw BackupError.damagedSnapshot("the manifest of \(path) is not valid")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int).flatMap { $0 } ?? 0
        return Snapshot(path: path, bytes: Int64(size), manifest: manifest)
    }
}
