import Foundation

/// Takes incremental snapshots (docs/incremental.md): the consistent private
/// copy and its verify as a full backup, then only the pages the location
/// does not hold yet, in packs, and the snapshot object last.
public enum IncrementalWriter {
    /// The default `--full-every`: seven days.
    public static let defaultFullEvery: TimeInterval = 7 * 86_400

    /// Takes the snapshot `request` asks for into `store`: incremental, or a
    /// full one when this file has no full snapshot there taken within `fullEvery`.
    /// - Parameter keys: open the location's page key and earlier page tables
    ///   when it has recipients (needed there).
    public static func take(
        _ request: SnapshotRequest, into store: SnapshotStore, keys: SnapshotIdentities,
        fullEvery: TimeInterval = defaultFullEvery
    ) throws -> IncrementalRun {
        let file = request.file
        let header = try FileHeader.read(path: file)
        guard header.isCompanyFile else { throw CompanyFileError.notCompanyFile(path: file) }
        try store.prepare()
        let config = try request.config ?? RecipientsConfig.load()
        let sealing = try SnapshotWriter.sealing(for: store, given: request.recipients, config: config)
        guard sealing.isEmpty || !keys.isEmpty else {
            throw IncrementalError.needsIdentity(location: store.description)
        }
        let stem = SnapshotName.stem(of: file)
        let earlier = try store.list(with: keys).snapshots.filter { $0.stem == stem }
        let staged = SnapshotWriter.privateStaging(for: file, into: store, sealing: sealing)
        let copy = AtomicFile.temporaryPath(beside: staged, purpose: "copy.partial")
        defer { AtomicFile.removeDatabaseFiles(at: copy) }
        let readable = try PrivateCopy.make(of: file, to: copy, wait: request.wait)
        var resolved = request
        resolved.config = config
        resolved.sealing = sealing
        resolved.copy = SnapshotRequest.Copy(
            path: copy, readable: readable,
            company: readable ? PrivateCopy.companyName(in: copy) : nil,
            formatVersion: header.userVersion)
        let pageSize = (try? FileHeader.read(path: copy).pageSize) ?? 0
        let size = (try? SystemCalls.size(of: copy)) ?? 0
        let reason =
            fullReason(earlier, now: request.now, every: fullEvery)
            ?? (pageSize >= 512 && size % Int64(max(pageSize, 1)) == 0 ? nil : "the copy is not whole pages")
        if let reason {
            let snapshot = try SnapshotWriter.take(resolved, into: store)
            return IncrementalRun(
                snapshot: snapshot, fullBecause: reason, packsCreated: 0, bytesWritten: snapshot.bytes,
                pages: 0, newPages: 0)
        }
        let unchecked = Manifest(
            createdAt: Timestamp.string(from: request.now), kind: request.kind,
            company: resolved.copy?.company, source: URL(fileURLWithPath: file).lastPathComponent,
            formatVersion: header.userVersion, databaseBytes: 0, databaseSha256: "",
            verify: "skipped", counts: nil, splitSum: nil)
        let verify = readable && request.verify
        let near = store.stagingFolder(for: file) + "/" + unchecked.source
        // The quick verify of the copy runs while its pages are split and sent;
        // the snapshot object, last, waits for it.
        return try Worker<Manifest>.run(
            {
                guard verify else {
                    var digested = unchecked
                    (digested.databaseBytes, digested.databaseSha256) = try FileDigest.of(copy)
                    return digested
                }
                return try SnapshotWriter.verified(unchecked, copy: copy)
            },
            during: { checking in
                try store.exclusively {
                    try LocationRecipients.refusePlain(sealing, into: store, configPath: config.path)
                    let key = try IncrementalKey.load(from: store, sealing: sealing, keys: keys, near: near)
                    // The newest incremental of this file is the index: its table names every page it holds.
                    // Listed again under the lock: a prune since the first listing may have removed it.
                    var index: [Data: IncrementalTable.Place] = [:]
                    let current = try store.list(with: keys).snapshots.filter { $0.stem == stem }
                    if let previous = current.last(where: { $0.manifest?.incremental != nil }),
                        let layout = previous.manifest?.incremental,
                        let table = try? IncrementalReader.table(of: previous, in: store, with: keys),
                        let places = try? table.places(pageCount: layout.pageCount),
                        let hashes = try? table.pageHashes(pageCount: layout.pageCount)
                    {
                        for (hash, place) in zip(hashes, places) { index[hash] = place }
                    }
                    let packs = PackWriter(store: store, key: key, sealing: sealing, near: near)
                    let (places, hashes, newPages) = try split(
                        copy, pageSize: pageSize, key: key, level: request.level,
                        index: &index, into: packs)
                    try packs.close()
                    var manifest = try checking.wait().get()
                    let table = IncrementalTable(places: places.map(packs.named), pageHashes: hashes)
                    let tableBytes = try table.encoded()
                    manifest.incremental = IncrementalLayout(
                        pageSize: pageSize, pageCount: places.count, tableBytes: tableBytes.count)
                    manifest.hmac = try request.signing?.signature(of: manifest)
                    let object = try IncrementalObjects.gzip(
                        tableBytes, comment: try manifest.commentText(), modified: request.now,
                        level: request.level)
                    let staged = try IncrementalObjects.stage(
                        object, sealing: sealing, near: near, purpose: "snapshot.partial")
                    defer { unlink(staged) }
                    let snapshot = try store.publish(
                        staged, manifest: manifest, at: request.now, encrypted: !sealing.isEmpty)
                    return IncrementalRun(
                        snapshot: snapshot, fullBecause: nil, packsCreated: packs.created,
                        bytesWritten: packs.bytesWritten + snapshot.bytes, pages: places.count, newPages: newPages)
                }
            })
    }

    /// Why the next snapshot of a file must be full, given its `earlier`
    /// snapshots in the location: none full, or the newest full one older than `every`.
    static func fullReason(_ earlier: [Snapshot], now: Date, every: TimeInterval) -> String? {
        let fulls = earlier.filter {
            $0.manifest != nil && $0.manifest?.incremental == nil && ($0.kind == .manual || $0.kind == .scheduled)
        }
        // The manifest's own time: the rule counts the snapshots' times as they were taken.
        guard let newest = fulls.compactMap({ Timestamp.parse($0.createdAt) }).max() else {
            return "this file has no full snapshot in the location yet"
        }
        guard now.timeIntervalSince(newest) < every else {
            return "its newest full snapshot is from \(Timestamp.string(from: newest)), older than --full-every"
        }
        return nil
    }

    /// Reads `copy` page by page: a page whose keyed hash `index` knows is
    /// pointed at, any other compressed into `packs` (and added to `index`).
    private static func split(
        _ copy: String, pageSize: Int, key: IncrementalKey, level: Int,
        index: inout [Data: IncrementalTable.Place],
        into packs: PackWriter
    ) throws -> (places: [IncrementalTable.Place], hashes: [Data], new: Int) {
        let descriptor: Int32
        do {
            descriptor = try SystemCalls.open(copy, O_RDONLY)
        } catch let error as SystemCallError {
            throw BackupError.cannotRead(path: copy, reason: error.reason)
        }
        defer { SystemCalls.close(descriptor) }
        let blobs = try PackBlobs(level: level)
        var places: [IncrementalTable.Place] = []
        var hashes: [Data] = []
        var new = 0
        let perRead = max(1, (1 << 20) / pageSize)
        var buffer = [UInt8](repeating: 0, count: perRead * pageSize)
        var offset: Int64 = 0
        while true {
            let got: Int
            do {
                got = try buffer.withUnsafeMutableBytes {
                    try SystemCalls.pread(descriptor, into: $0, at: offset, path: copy)
                }
            } catch let error as SystemCallError {
                throw BackupError.cannotRead(path: copy, reason: error.reason)
            }
            guard got > 0 else { break }
            guard got % pageSize == 0 else { throw BackupError.cannotRead(path: copy, reason: "it ends within a page") }
            try buffer.withUnsafeBytes { all in
                for start in stride(from: 0, to: got, by: pageSize) {
                    let page = UnsafeRawBufferPointer(rebasing: all[start..<start + pageSize])
                    let hash = key.pageHash(page)
                    hashes.append(hash)
                    if let known = index[hash] {
                        places.append(known)
                        continue
                    }
                    let place = try packs.add(try blobs.blob(of: page))
                    index[hash] = place
                    places.append(place)
                    new += 1
                }
            }
            offset += Int64(got)
        }
        return (places, hashes, new)
    }
}
