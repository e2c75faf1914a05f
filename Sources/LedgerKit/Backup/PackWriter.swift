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

    /// Adds `blob`, the blob of a page whose hash is `hash` (a delta against
    /// `base`, a whole-page blob of a pack already in the location, when given),
    /// and returns it in a pack named provisionally until `close`.
    func add(_ blob: [UInt8], hash: Data, base: PackIndex.Base? = nil) throws -> IncrementalTable.Blob {
        if pending.count + blob.count > Self.limit && !pending.isEmpty { try close() }
        let added = IncrementalTable.Blob(
            pack: Self.provisional(names.count), number: pendingIndex.count, basePack: base?.pack)
        pending += blob
        pendingIndex.append(hash: hash, length: blob.count, base: base)
        return added
    }

    /// Creates the pack being filled, if it holds anything: its index object
    /// first, then the pack, so that no pack is ever without its index.
    func close() throws {
        guard !pending.isEmpty else { return }
        let staged = try IncrementalObjects.stage(pending, sealing: sealing, near: near, purpose: "pack.partial")
        defer { unlink(staged) }
        let stored = try Self.readBack(staged, "the pack")
        // A delta's base is in the index, not in the pack's bytes: the name covers both, so that
        // two packs of the same bytes with other bases never share a name (nor an index object).
        let name = key.packName(of: stored, references: pendingIndex.references)
        bytesWritten += try Self.createIndex(pendingIndex, of: name, in: store, sealing: sealing, near: near)
        if try Self.create("packs/" + name, from: staged, bytes: stored, in: store) {
            bytesWritten += Int64(stored.count)
            created += 1
        }
        names.append(name)
        pending.removeAll(keepingCapacity: true)
        pendingIndex = PackIndex()
    }

    /// Creates the index object of `pack` (a pack's name without `packs/`)
    /// holding `index`, encrypted to `sealing` when it names anyone, only if
    /// absent or other bytes than these (see `create`).
    /// - Returns: the bytes sent, 0 when the same bytes were there already.
    static func createIndex(
        _ index: PackIndex, of pack: String, in store: SnapshotStore, sealing: SnapshotRecipients,
        near: String
    ) throws -> Int64 {
        let staged = try IncrementalObjects.stage(
            index.encoded(for: pack), sealing: sealing, near: near, purpose: "index.partial")
        defer { unlink(staged) }
        let bytes = try readBack(staged, "the pack index")
        guard try create(PackIndex.objectName(of: pack), from: staged, bytes: bytes, in: store) else { return 0 }
        return Int64(bytes.count)
    }

    /// The bytes of `staged`, the object `what` just staged (as they will be stored).
    private static func readBack(_ staged: String, _ what: String) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: staged)))
        } catch {
            throw BackupError.cannotRead(path: staged, reason: "\(what) just written cannot be read back")
        }
    }

    /// Creates `name` from the file `staged`, whose bytes are `bytes`, unless
    /// the same bytes are there already (names are keyed hashes of what they
    /// hold). Other bytes under the name (an object cut short or changed since
    /// it was written, or too large to be one of ours) are replaced: a new
    /// snapshot never points at them. An object that cannot be read now (the
    /// network, a server's error) is left as it is and the backup fails: it
    /// may be the very pack other snapshots need. Runs under the location's lock.
    /// - Returns: whether anything was sent.
    static func create(_ name: String, from staged: String, bytes: [UInt8], in store: SnapshotStore) throws -> Bool {
        do {
            try store.store.create(name, from: staged, attributes: [:])
            return true
        } catch ByteStoreError.exists {
            let there: Data?
            do {
                there = try store.store.contents(of: name, limit: IncrementalReader.objectLimit)
            } catch ByteStoreError.tooLarge {
                there = nil
            }
            if let there, there.count == bytes.count, there.elementsEqual(bytes) { return false }
            try store.store.remove(name)
            try store.store.create(name, from: staged, attributes: [:])
            return true
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
