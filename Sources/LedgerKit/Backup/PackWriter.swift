import Foundation

/// Fills packs with new page blobs and creates them in the location
/// (docs/incremental.md): closed at `limit` bytes, named by their keyed hash,
/// encrypted to the location's recipients when it has them, created only if
/// absent, each after its index object (`PackIndex`).
final class PackWriter {
    static let limit = 16 << 20

    private let store: SnapshotStore
    private let key: IncrementalKey
    private let sealing: SnapshotRecipients
    private let near: String
    private var pending: [UInt8] = []
    private var pendingIndex = PackIndex()
    /// The names of the packs closed so far, by their number.
    private(set) var names: [String] = []
    /// Bytes sent to the location (packs and their indexes), and how many packs were new there.
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

    /// Adds `blob`, the blob of a page whose hash is `hash`, and returns it
    /// in a pack named provisionally until `close`.
    func add(_ blob: [UInt8], hash: Data) throws -> IncrementalTable.Blob {
        if pending.count + blob.count > Self.limit && !pending.isEmpty { try close() }
        let added = IncrementalTable.Blob(pack: Self.provisional(names.count), number: pendingIndex.count)
        pending += blob
        pendingIndex.append(hash: hash, length: blob.count)
        return added
    }

    /// Creates the pack being filled, if it holds anything: its index object
    /// first, then the pack, so that no pack is ever without its index.
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
        bytesWritten += try Self.createIndex(pendingIndex, of: name, in: store, sealing: sealing, near: near)
        do {
            try store.store.create("packs/" + name, from: staged, attributes: [:])
            bytesWritten += Int64(stored.count)
            created += 1
        } catch ByteStoreError.exists {
            // The same bytes are there already.
        }
        names.append(name)
        pending.removeAll(keepingCapacity: true)
        pendingIndex = PackIndex()
    }

    /// Creates the index object of `pack` (a pack's name without `packs/`)
    /// holding `index`, encrypted to `sealing` when it names anyone, only if
    /// absent (one there already describes the same pack).
    /// - Returns: the bytes sent, 0 when it was there already.
    static func createIndex(
        _ index: PackIndex, of pack: String, in store: SnapshotStore, sealing: SnapshotRecipients,
        near: String
    ) throws -> Int64 {
        let staged = try IncrementalObjects.stage(
            index.encoded(for: pack), sealing: sealing, near: near, purpose: "index.partial")
        defer { unlink(staged) }
        do {
            try store.store.create(PackIndex.objectName(of: pack), from: staged, attributes: [:])
            return (try? SystemCalls.size(of: staged)) ?? 0
        } catch ByteStoreError.exists {
            return 0
        }
    }

    /// `blob` with its pack's final name.
    func named(_ blob: IncrementalTable.Blob) -> IncrementalTable.Blob {
        guard blob.pack.hasPrefix("#"), let number = Int(blob.pack.dropFirst()), names.indices.contains(number) else {
            return blob
        }
        var named = blob
        named.pack = names[number]
        return named
    }
}
