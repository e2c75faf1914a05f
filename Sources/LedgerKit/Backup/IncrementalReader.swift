import Foundation

/// Reads incremental snapshots (docs/incremental.md): the page table from the
/// snapshot object, the pages from the packs it names, no listing needed.
enum IncrementalReader {
    /// The largest snapshot object or pack read whole.
    static let objectLimit = 64 << 20

    /// The largest page table inflated, whatever a manifest claims: a table of
    /// runs takes a few bytes a page at worst, so this is a file of tens of GB.
    static let tableLimit = 256 << 20

    /// The page table of `snapshot` (whose manifest is incremental), from `store`.
    static func table(of snapshot: Snapshot, in store: SnapshotStore, with keys: SnapshotIdentities) throws
        -> IncrementalTable
    {
        guard let manifest = snapshot.manifest, let layout = manifest.incremental else {
            throw IncrementalError.tableDamaged(snapshot: snapshot.path, reason: "it is not an incremental snapshot")
        }
        guard let name = try store.store.name(at: snapshot.path),
            let stored = try store.store.contents(of: name, limit: objectLimit)
        else {
            throw IncrementalError.tableDamaged(snapshot: snapshot.path, reason: "it is gone")
        }
        do {
            let plain = try IncrementalObjects.open(stored, sealed: snapshot.encrypted, with: keys, path: snapshot.path)
            let table = try IncrementalTable.decode(
                try IncrementalObjects.gunzip(plain, limit: min(layout.tableBytes, tableLimit)))
            try table.checkRuns(pageCount: layout.pageCount)
            return table
        } catch let error as BackupError {
            throw IncrementalError.tableDamaged(snapshot: snapshot.path, reason: error.errorDescription ?? "\(error)")
        }
    }

    /// Rebuilds the file of `snapshot` into the new file `temporary` (mode
    /// 0600), reading each pack it needs (and its index) once, and checks its size and SHA-256.
    /// - Throws: `IncrementalError` naming a pack or pack index missing or damaged;
    ///   `RestoreError.checksumMismatch` when the rebuilt file is not the one the manifest describes.
    /// - Parameter given: the store it is in; nil finds it by the snapshot's path.
    static func rebuild(
        _ snapshot: Snapshot, in given: SnapshotStore? = nil, to temporary: String,
        with keys: SnapshotIdentities
    ) throws {
        let manifest = try Restorer.opened(snapshot, with: keys)
        let size = manifest.incremental.map {
            Int64($0.pageSize).multipliedReportingOverflow(by: Int64(clamping: $0.pageCount))
        }
        guard let layout = manifest.incremental, layout.isSound,
            let size, !size.overflow, size.partialValue == manifest.databaseBytes
        else {
            throw IncrementalError.tableDamaged(snapshot: snapshot.path, reason: "its manifest does not add up")
        }
        try Restorer.ensureRoom(for: manifest, beside: temporary)
        let store = try given ?? SnapshotStore.containing(snapshot)
        let table = try table(of: snapshot, in: store, with: keys)
        // Pack by pack, run by run: memory follows the table's size, never a count it claims.
        let runsByPack = try table.runsByPack(pageCount: layout.pageCount)
        // Each page is checked against its keyed hash when the key can be read:
        // damage is then named by its pack, not only by the file's SHA-256.
        let key = try? IncrementalKey.existing(in: store, sealed: snapshot.encrypted, keys: keys)
        let hashes = key == nil ? nil : try? table.pageHashes(pageCount: layout.pageCount)
        let descriptor: Int32
        do {
            descriptor = try SystemCalls.open(temporary, O_WRONLY | O_CREAT | O_EXCL)
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(path: temporary, reason: error.reason)
        }
        defer { SystemCalls.close(descriptor) }
        let job = Job(
            snapshot: snapshot, store: store, keys: keys, key: key, hashes: hashes,
            descriptor: descriptor, path: temporary, pageSize: layout.pageSize)
        let packs = table.packs
        let indexed = table.namesBlobs
        // Two packs at once: each is inflated while the other is read.
        try Parallel.forEach(packs.count, width: 2) { number in
            try job.restore(packs[number], indexed: indexed, runs: runsByPack[number])
        }
        do {
            try SystemCalls.ftruncate(descriptor, to: manifest.databaseBytes, path: temporary)
            try SystemCalls.fsync(descriptor, path: temporary)
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(path: temporary, reason: error.reason)
        }
        let (bytes, sha256) = try FileDigest.of(temporary)
        guard bytes == manifest.databaseBytes, sha256 == manifest.databaseSha256 else {
            throw RestoreError.checksumMismatch(path: snapshot.path)
        }
    }

    /// The index of `pack` (a name without `packs/`), which `snapshot` needs.
    /// - Throws: `IncrementalError` naming the index object when it is missing or damaged.
    static func packIndex(
        of pack: String, for snapshot: Snapshot, in store: SnapshotStore, with keys: SnapshotIdentities
    ) throws -> PackIndex {
        let name = PackIndex.objectName(of: pack)
        do {
            return try PackIndex.decode(try read(name, of: snapshot, in: store, with: keys), for: pack)
        } catch let error as BackupError {
            throw IncrementalError.packDamaged(
                pack: name, snapshot: snapshot.path, reason: error.errorDescription ?? "\(error)")
        }
    }

    /// The plain bytes of the object `name` (a pack or a pack index), which `snapshot` needs.
    static func read(
        _ name: String, of snapshot: Snapshot, in store: SnapshotStore,
        with keys: SnapshotIdentities
    ) throws -> [UInt8] {
        let stored: Data?
        do {
            stored = try store.store.contents(of: name, limit: objectLimit)
        } catch let error as ByteStoreError {
            throw IncrementalError.packDamaged(
                pack: name, snapshot: snapshot.path, reason: error.errorDescription ?? "\(error)")
        }
        guard let stored else { throw IncrementalError.packMissing(pack: name, snapshot: snapshot.path) }
        do {
            return try IncrementalObjects.open(
                stored, sealed: snapshot.encrypted, with: keys, path: store.store.path(of: name))
        } catch let error as EncryptionError {
            throw IncrementalError.packDamaged(
                pack: name, snapshot: snapshot.path, reason: error.errorDescription ?? "\(error)")
        }
    }

    /// What restoring the pages of each pack shares.
    private struct Job: Sendable {
        let snapshot: Snapshot
        let store: SnapshotStore
        let keys: SnapshotIdentities
        let key: IncrementalKey?
        /// Version 1: each page's hash, from the table.
        let hashes: [Data]?
        let descriptor: Int32
        let path: String
        let pageSize: Int

        /// Reads `pack` (and its index when the table is `indexed`) and writes
        /// its blobs for the pages of `runs` (the table's runs in this pack) to the file.
        func restore(_ pack: String, indexed: Bool, runs: [[Int]]) throws {
            let name = "packs/" + pack
            let index = indexed ? try packIndex(of: pack, for: snapshot, in: store, with: keys) : nil
            let plain = try read(name, of: snapshot, in: store, with: keys)
            func damaged(_ object: String, _ reason: String) -> IncrementalError {
                .packDamaged(pack: object, snapshot: snapshot.path, reason: reason)
            }
            if let index, index.plainBytes != plain.count {
                throw damaged(name, "it does not hold the bytes its index gives")
            }
            let blobs = try PackBlobs(level: 1)
            var page = [UInt8](repeating: 0, count: pageSize)
            func write(page number: Int, from range: Range<Int>, expected: Data?) throws {
                let whole = plain[range].withUnsafeBytes { blob in
                    page.withUnsafeMutableBytes { blobs.inflate(blob, into: $0) }
                }
                let matches =
                    whole && (key.flatMap { key in expected.map { page.withUnsafeBytes(key.pageHash) == $0 } } ?? true)
                guard matches else { throw damaged(name, "a page in it does not inflate to its hash") }
                do {
                    try page.withUnsafeBytes {
                        try SystemCalls.pwrite(descriptor, $0, at: Int64(number) * Int64(pageSize), path: path)
                    }
                } catch let error as SystemCallError {
                    throw BackupError.cannotWrite(path: path, reason: error.reason)
                }
            }
            // checkRuns has bounded every number: no sum below overflows.
            for run in runs {
                if let index, run[3] + run[1] > index.count {
                    throw damaged(PackIndex.objectName(of: pack), "it has fewer blobs than the page table names")
                }
                var offset = run[3]
                for step in 0..<run[1] {
                    let number = run[0] - 1 + step
                    let range: Range<Int>
                    let expected: Data?
                    if let index {
                        (range, expected) = (index.range(run[3] + step), index.hash(run[3] + step))
                    } else {
                        let length = run[4 + step]
                        guard offset <= plain.count, length <= plain.count - offset else {
                            throw damaged(name, "it is cut short")
                        }
                        (range, expected) = (offset..<offset + length, hashes?[number])
                        offset += length
                    }
                    try write(page: number, from: range, expected: expected)
                }
            }
        }
    }
}
