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
    /// Its text is read as it inflates, never whole (`IncrementalTableReader`):
    /// memory follows what the table spells out for the pages its manifest gives.
    /// - Parameter keep: `.packs` when only the packs' names are needed: the
    ///   runs and hashes are then checked and dropped (the table has no runs).
    static func table(
        of snapshot: Snapshot, in store: SnapshotStore, with keys: SnapshotIdentities,
        keep: IncrementalTableReader.Keep = .everything
    ) throws -> IncrementalTable {
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
            var reader = IncrementalTableReader(pageCount: layout.pageCount, keep: keep)
            try IncrementalObjects.gunzip(plain, limit: min(layout.tableBytes, tableLimit)) { try reader.read($0) }
            // The reader holds every rule of `checkRuns` as it reads (IncrementalHostileTests).
            return try reader.finish()
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
        // A key other than the one it was made with (the location's lost and made anew)
        // checks nothing: the file's SHA-256 alone then stands for every page.
        let key = (try? IncrementalKey.existing(in: store, sealed: snapshot.encrypted, keys: keys))
            .flatMap { key in layout.keyCheck.map { $0 == key.check } ?? true ? key : nil }
        let hashes = key == nil ? nil : try? table.pageHashes(pageCount: layout.pageCount)
        let descriptor: Int32
        do {
            descriptor = try SystemCalls.open(temporary, O_RDWR | O_CREAT | O_EXCL)
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(path: temporary, reason: error.reason)
        }
        defer { SystemCalls.close(descriptor) }
        let job = Job(
            snapshot: snapshot, store: store, keys: keys, key: key, hashes: hashes,
            descriptor: descriptor, path: temporary, pageSize: layout.pageSize)
        let packs = table.packs
        guard table.namesBlobs else {
            // Two packs at once: each is inflated while the other is read.
            try Parallel.forEach(packs.count, width: 2) { number in
                try job.restore(packs[number], index: nil, runs: runsByPack[number], bases: [])
            }
            return try finish(descriptor, snapshot: snapshot, manifest: manifest, path: temporary)
        }
        let readIndex: @Sendable (Int) throws -> PackIndex = { number in
            try packIndex(of: packs[number], for: snapshot, in: store, with: keys)
        }
        // Where each delta's base lies, from every pack's index, two at a time.
        let plan = try DeltaPlan(table: table, runsByPack: runsByPack, snapshot: snapshot.path, index: readIndex)
        // Whole pages, and each delta page's base at its place; then the deltas, against those bases.
        try Parallel.forEach(packs.count, width: 2) { number in
            let index = try plan.index(number) { try readIndex(number) }
            try job.restore(packs[number], index: index, runs: runsByPack[number], bases: plan.bases[number])
        }
        let deltaPacks = packs.indices.filter { plan.holdsDeltas[$0] }
        try Parallel.forEach(deltaPacks.count, width: 2) { position in
            let number = deltaPacks[position]
            let index = try plan.index(number) { try readIndex(number) }
            try job.applyDeltas(packs[number], index: index, runs: runsByPack[number])
        }
        try finish(descriptor, snapshot: snapshot, manifest: manifest, path: temporary)
    }

    /// Sizes, syncs and checks the rebuilt file against its manifest.
    private static func finish(_ descriptor: Int32, snapshot: Snapshot, manifest: Manifest, path temporary: String)
        throws
    {
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

    /// Checks that `index`, the index of `pack`, has every blob `runs` (the
    /// table's runs in that pack) name. An index read again may differ from
    /// the one read before (the location is someone else's), so every reader
    /// of one checks it. checkRuns has bounded every number: no sum overflows.
    /// - Throws: `IncrementalError.packDamaged` naming the index object.
    static func check(_ runs: PackRuns, fit index: PackIndex, of pack: String, snapshot: String) throws {
        guard runs.allSatisfy({ $0.start + $0.count <= index.count }) else {
            throw IncrementalError.packDamaged(
                pack: PackIndex.objectName(of: pack), snapshot: snapshot,
                reason: "it has fewer blobs than the page table names")
        }
    }

    /// Where the delta blobs of a table of version 2 meet their bases: for
    /// each pack, the (page, blob) pairs of the bases it holds, and whether it
    /// holds deltas. Made from each pack's index in turn, two at a time,
    /// keeping indexes up to `keptEntries` entries in all (the others are read
    /// again when their pack is): memory is that and a pair per delta page.
    struct DeltaPlan: Sendable {
        /// By pack number: each page (from 0) whose delta's base is a blob of that pack, and the blob.
        let bases: [[(page: Int, blob: Int)]]
        let holdsDeltas: [Bool]

        /// - Parameter snapshot: the snapshot's path, for errors.
        /// - Parameter keeping: how many index entries in all to keep for the restore.
        /// - Parameter index: reads the index of the pack of that number.
        /// - Throws: `IncrementalError.packDamaged` naming the index of a run's
        ///   pack when it has fewer blobs than the run names, or gives a blob a
        ///   base in a pack the table does not name (the holder checks that the base is a whole page).
        init(
            table: IncrementalTable, runsByPack: [PackRuns], snapshot: String, keeping: Int = keptEntries,
            index: @escaping @Sendable (Int) throws -> PackIndex
        ) throws {
            var numbers: [String: Int] = [:]
            for (number, pack) in table.packs.enumerated() { numbers[pack] = number }
            let found = Results<[Use]>(count: table.packs.count)
            let kept = Results<PackIndex>(count: table.packs.count)
            let budget = IndexBudget(entries: keeping)
            try Parallel.forEach(table.packs.count, width: 2) { [numbers] number in
                let read = try index(number)
                if budget.take(read.count) { kept.set(number, read) }
                let object = PackIndex.objectName(of: table.packs[number])
                var uses: [Use] = []
                try IncrementalReader.check(runsByPack[number], fit: read, of: table.packs[number], snapshot: snapshot)
                for run in runsByPack[number] {
                    for step in 0..<run.count {
                        guard let base = read.base(run.start + step) else { continue }
                        guard let holder = numbers[base.pack] else {
                            throw IncrementalError.packDamaged(
                                pack: object, snapshot: snapshot,
                                reason: "a blob's base lies in a pack the page table does not name")
                        }
                        uses.append(Use(holder: holder, page: run.first - 1 + step, blob: base.number))
                    }
                }
                found.set(number, uses)
            }
            let all = found.values
            guard all.count == table.packs.count else {
                throw BackupError.damagedSnapshot("its packs' indexes could not all be read")
            }
            var bases = [[(page: Int, blob: Int)]](repeating: [], count: table.packs.count)
            var holdsDeltas = [Bool](repeating: false, count: table.packs.count)
            for (number, uses) in all.enumerated() {
                holdsDeltas[number] = !uses.isEmpty
                for use in uses { bases[use.holder].append((use.page, use.blob)) }
            }
            self.bases = bases
            self.holdsDeltas = holdsDeltas
            self.kept = kept
        }

        /// Indexes kept from the plan's reading, to be read again only past this many entries in all.
        static let keptEntries = 2_000_000
        private let kept: Results<PackIndex>

        /// The index of pack `number`, kept from the plan's reading or read again by `index`.
        func index(_ number: Int, else read: () throws -> PackIndex) rethrows -> PackIndex {
            try kept.value(number) ?? read()
        }

        /// How many index entries may still be kept (about 40 bytes each).
        private final class IndexBudget: @unchecked Sendable {
            // `left` is guarded by `lock`.
            private let lock = NSLock()
            private var left: Int

            init(entries: Int) { left = entries }

            func take(_ count: Int) -> Bool {
                lock.lock()
                defer { lock.unlock() }
                guard count <= left else { return false }
                left -= count
                return true
            }
        }

        /// A delta page's base: blob `blob` of pack `holder`.
        struct Use: Sendable {
            let holder: Int
            let page: Int
            let blob: Int
        }
    }

    /// What restoring the pages of each pack shares.
    private struct Job: Sendable {
        let snapshot: Snapshot
        let store: SnapshotStore
        let keys: SnapshotIdentities
        let key: IncrementalKey?
        /// Version 1: the pages' hashes, from the table (`IncrementalTable.pageHashes`).
        let hashes: Data?
        let descriptor: Int32
        let path: String
        let pageSize: Int

        private func damaged(_ object: String, _ reason: String) -> IncrementalError {
            .packDamaged(pack: object, snapshot: snapshot.path, reason: reason)
        }

        /// The plain bytes of `pack`, checked against its `index` when it has one.
        private func bytes(of pack: String, index: PackIndex?) throws -> [UInt8] {
            let name = "packs/" + pack
            let plain = try read(name, of: snapshot, in: store, with: keys)
            if let index, index.plainBytes != plain.count {
                throw damaged(name, "it does not hold the bytes its index gives")
            }
            return plain
        }

        /// Whether `page` has the hash `expected` (true when the key cannot be read).
        private func matches(_ page: [UInt8], _ expected: Data?) -> Bool {
            key.flatMap { key in expected.map { page.withUnsafeBytes(key.pageHash) == $0 } } ?? true
        }

        private func write(_ page: [UInt8], at number: Int) throws {
            do {
                try page.withUnsafeBytes {
                    try SystemCalls.pwrite(descriptor, $0, at: Int64(number) * Int64(pageSize), path: path)
                }
            } catch let error as SystemCallError {
                throw BackupError.cannotWrite(path: path, reason: error.reason)
            }
        }

        /// Reads `pack` and writes its whole-page blobs for the pages of `runs`
        /// (the table's runs in this pack), and the `bases` of delta pages
        /// (blobs of this pack) at their delta pages' places. `index` is the pack's index (nil for a table of version 1).
        func restore(_ pack: String, index: PackIndex?, runs: PackRuns, bases: [(page: Int, blob: Int)]) throws {
            let name = "packs/" + pack
            let plain = try bytes(of: pack, index: index)
            let blobs = try PackBlobs(level: 1)
            var page = [UInt8](repeating: 0, count: pageSize)
            func write(page number: Int, from range: Range<Int>, expected: Data?) throws {
                let whole = plain[range].withUnsafeBytes { blob in
                    page.withUnsafeMutableBytes { blobs.inflate(blob, into: $0) }
                }
                guard whole && matches(page, expected) else {
                    throw damaged(name, "a page in it does not inflate to its hash")
                }
                try self.write(page, at: number)
            }
            if let index { try check(runs, fit: index, of: pack, snapshot: snapshot.path) }
            for run in runs {
                var offset = run.start
                for step in 0..<run.count {
                    let number = run.first - 1 + step
                    let range: Range<Int>
                    let expected: Data?
                    if let index {
                        // A delta's page is written once its base is in place.
                        if index.base(run.start + step) != nil { continue }
                        (range, expected) = (index.range(run.start + step), index.hash(run.start + step))
                    } else {
                        let length = runs.runs.length(ofPage: number)
                        guard offset <= plain.count, length <= plain.count - offset else {
                            throw damaged(name, "it is cut short")
                        }
                        (range, expected) = (
                            offset..<offset + length, hashes.map { IncrementalTable.pageHash(number, in: $0) }
                        )
                        offset += length
                    }
                    try write(page: number, from: range, expected: expected)
                }
            }
            guard let index else { return }
            for (target, blob) in bases {
                // A delta's base is a whole page of this pack, or the index lies.
                guard blob < index.count, index.base(blob) == nil else {
                    throw damaged(PackIndex.objectName(of: pack), "a blob's base in it is not a whole page")
                }
                try write(page: target, from: index.range(blob), expected: index.hash(blob))
            }
        }

        /// Reads `pack` again and writes its delta blobs for the pages of
        /// `runs`, each inflated against its base, which `restore` has put at
        /// its page's place.
        func applyDeltas(_ pack: String, index: PackIndex, runs: PackRuns) throws {
            let name = "packs/" + pack
            try check(runs, fit: index, of: pack, snapshot: snapshot.path)
            let plain = try bytes(of: pack, index: index)
            let deltas = try PageDeltas(level: 1)
            var base = [UInt8](repeating: 0, count: pageSize)
            var page = [UInt8](repeating: 0, count: pageSize)
            for run in runs {
                for step in 0..<run.count where index.base(run.start + step) != nil {
                    let number = run.first - 1 + step
                    let read = try? base.withUnsafeMutableBytes {
                        try SystemCalls.pread(descriptor, into: $0, at: Int64(number) * Int64(pageSize), path: path)
                    }
                    guard read == pageSize else {
                        throw BackupError.cannotRead(path: path, reason: "a page just written cannot be read back")
                    }
                    let whole = plain[index.range(run.start + step)].withUnsafeBytes { blob in
                        base.withUnsafeBytes { base in
                            page.withUnsafeMutableBytes { deltas.inflate(blob, against: base, into: $0) }
                        }
                    }
                    guard whole && matches(page, index.hash(run.start + step)) else {
                        throw damaged(name, "a page in it does not inflate to its hash")
                    }
                    try write(page, at: number)
                }
            }
        }
    }
}
