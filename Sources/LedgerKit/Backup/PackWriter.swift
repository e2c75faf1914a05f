import Foundation

/// Fills packs with new page blobs and creates them in the location
/// (docs/incremental.md): closed at `limit` bytes, named by their keyed hash,
/// encrypted to the location's recipients when it has them, created only if absent.
final class PackWriter {
    static let limit = 16 << 20

    private let store: SnapshotStore
    private let key: IncrementalKey
    private let sealing: SnapshotRecipients
    private let near: String
    private var pending: [UInt8] = []
    /// The names of the packs closed so far, by their number.
    private(set) var names: [String] = []
    /// Bytes sent to the location, and how many packs were new there.
    private(set) var bytesWritten: Int64 = 0
    private(set) var created = 0

    /// A pack's name before it is closed: `#` and its number.
    static func provisional(_ number: Int) -> String { "#\(number)" }

    init(store: SnapshotStore, key: IncrementalKey, sealing: SnapshotRecipients, near: String) {
        self.store = store
        self.key = key
        self.sealing = sealing
        self.near = near
    }

    /// Adds `blob` and returns its place, in a pack named provisionally until `close`.
    func add(_ blob: [UInt8]) throws -> IncrementalTable.Place {
        if pending.count + blob.count > Self.limit && !pending.isEmpty { try close() }
        let place = IncrementalTable.Place(
            pack: Self.provisional(names.count), offset: pending.count, length: blob.count)
        pending += blob
        return place
    }

    /// Creates the pack being filled, if it holds anything.
    func close() throws {
        guard !pending.isEmpty else { return }
        let staged = try IncrementalObjects.stage(pending, sealing: sealing, near: near, purpose: "pack.partial")
        defer { unlink(staged) }
        let stored: [UInt8]
        do {
            stored = [UInt8](try Data(contentsOf: URL(fileURLWithPath: staged)))
        } catch {
            throw BackupError.cannotRead(path: staged, reason: "the pack just written cannot be read back")
        }
        let name = key.packName(of: stored)
        do {
            try store.store.create("packs/" + name, from: staged, attributes: [:])
            bytesWritten += Int64(stored.count)
            created += 1
        } catch ByteStoreError.exists {
            // The same bytes are there already.
        }
        names.append(name)
        pending.removeAll(keepingCapacity: true)
    }

    /// `place` with its pack's final name.
    func named(_ place: IncrementalTable.Place) -> IncrementalTable.Place {
        guard place.pack.hasPrefix("#"), let number = Int(place.pack.dropFirst()), names.indices.contains(number) else {
            return place
        }
        var named = place
        named.pack = names[number]
        return named
    }
}
