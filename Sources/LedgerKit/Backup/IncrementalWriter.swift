import Crypto
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
        let sealing = try SnapshotWriter.sealing(
            for: store, given: request.recipients, config: config, within: request.within)
        guard sealing.isEmpty || !keys.isEmpty else {
            throw IncrementalError.needsIdentity(location: store.description)
        }
        let stem = SnapshotName.stem(of: file)
        let earlier = try store.list(with: keys).snapshots.filter { $0.stem == stem }
        let staged = SnapshotWriter.privateStaging(for: file, into: store, sealing: sealing)
        let copy = AtomicFile.temporaryPath(beside: staged, purpose: "copy.partial")
        defer { AtomicFile.removeDatabaseFiles(at: copy) }
        let resolved = try SnapshotWriter.copying(request, header: header, to: copy, config: config, sealing: sealing)
        let readable = resolved.copy?.readable ?? false
        let pageSize = (try? FileHeader.read(path: copy).pageSize) ?? 0
        let size = (try? SystemCalls.size(of: copy)) ?? 0
        let reason =
            fullReason(
                earlier,
                of: ManifestCompany(name: resolved.copy?.company ?? "", createdAt: resolved.copy?.companyCreatedAt),
                signedBy: request.signing, now: request.now, every: fullEvery)
            ?? (pageSize >= 512 && size % Int64(max(pageSize, 1)) == 0 ? nil : "the copy is not whole pages")
        if let reason {
            let snapshot = try SnapshotWriter.take(resolved, into: store)
            return IncrementalRun(
                snapshot: snapshot, fullBecause: reason, packsCreated: 0, bytesWritten: snapshot.bytes,
                pages: 0, newPages: 0, deltaPages: 0)
        }
        var draft = Manifest(
            createdAt: Timestamp.string(from: request.now), kind: request.kind,
            company: resolved.copy?.company, source: URL(fileURLWithPath: file).lastPathComponent,
            formatVersion: header.userVersion, databaseBytes: 0, databaseSha256: "",
            verify: "skipped", counts: nil, splitSum: nil)
        draft.companyCreatedAt = resolved.copy?.companyCreatedAt
        draft.fleetClient = request.fleetClient
        let unchecked = draft
        let verify = readable && request.verify
        let near = store.stagingFolder(for: file) + "/" + unchecked.source
        // The quick verify of the copy runs while its pages are split, digested
        // and sent; the snapshot object, last, waits for it.
        return try Worker<Manifest>.run(
            {
                guard verify else { return unchecked }
                return try SnapshotWriter.verified(unchecked, copy: copy, digest: false, findings: request.findings)
            },
            during: { checking in
                try store.holding { lock in
                    try LocationRecipients.refusePlain(sealing, into: store, configPath: config.path)
                    let key = try IncrementalKey.load(from: store, sealing: sealing, keys: keys, near: near)
                    // The newest incremental of this file and the indexes of the packs it
                    // names are the index of pages the location holds. Listed again under the
                    // lock: a prune since the first listing may have removed it.
                    let current = try store.list(with: keys).snapshots.filter { $0.stem == stem }
                    // Its packs are shared only when made with this key and encrypted to these very
                    // recipients: after a change of recipients, every page goes into new packs, so
                    // that the new identities alone restore what is taken from now on.
                    let sealedTo = key.sealedTo(sealing)
                    var sharable = current.last(where: { $0.manifest?.incremental != nil })
                    if let layout = sharable?.manifest?.incremental,
                        layout.keyCheck.map({ $0 != key.check }) ?? false
                            || layout.sealedTo.map({ $0 != sealedTo }) ?? false
                    {
                        sharable = nil
                    }
                    var index = dedupeIndex(
                        after: sharable, in: store, keys: keys, key: key, pageSize: pageSize, sealing: sealing,
                        near: near)
                    let packs = PackWriter(store: store, key: key, sealing: sealing, near: near)
                    // Changed pages compress against their earlier versions, kept beside
                    // the file (only a readable copy is ever kept: a damaged file's may be
                    // staged in the location).
                    let bases =
                        readable
                        ? PageBases(path: PageBases.path(for: file, location: store.description), pageSize: pageSize)
                        : nil
                    let (blobs, newPages, deltaPages, digest) = try split(
                        copy, pageSize: pageSize, key: key, level: request.level,
                        index: &index, bases: bases, into: packs)
                    bases?.finish(pages: blobs.count)
                    try packs.close()
                    var manifest = try checking.wait().get()
                    (manifest.databaseBytes, manifest.databaseSha256) = digest
                    let table = IncrementalTable(blobs: blobs.map(packs.named))
                    let tableBytes = try table.encoded()
                    manifest.incremental = IncrementalLayout(
                        pageSize: pageSize, pageCount: blobs.count, tableBytes: tableBytes.count,
                        keyCheck: key.check, sealedTo: sealedTo)
                    manifest.hmac = try request.signing?.signature(of: manifest)
                    let object = try IncrementalObjects.gzip(
                        tableBytes, comment: try manifest.commentText(), modified: request.now,
                        level: request.level)
                    let staged = try IncrementalObjects.stage(
                        object, sealing: sealing, near: near, purpose: "snapshot.partial")
                    defer { unlink(staged) }
                    // Its packs were made under the lock; a prune that took the lock since
                    // would see them needed by no snapshot. Published only while still held.
                    try lock.confirm()
                    let snapshot = try store.publish(
                        staged, manifest: manifest, at: request.now, encrypted: !sealing.isEmpty)
                    return IncrementalRun(
                        snapshot: snapshot, fullBecause: nil, packsCreated: packs.created,
                        bytesWritten: packs.bytesWritten + index.bytesWritten + snapshot.bytes,
                        pages: blobs.count, newPages: newPages, deltaPages: deltaPages)
                }
            })
    }

    /// Why the next snapshot of a file must be full, given the `earlier`
    /// snapshots of its stem in the location: none full of this company file,
    /// or the newest such one older than `every`.
    /// - Parameters:
    ///   - company: the company of the copy about to be taken, as its manifest
    ///     will record it: only full snapshots whose manifests give that very
    ///     name and creation time count (another client's `books.db` in the
    ///     same place never puts off this one's full snapshot).
    ///   - key: this machine's key, when it signs: then only full snapshots it
    ///     signed count, so that one planted there with a recent date never does.
    static func fullReason(
        _ earlier: [Snapshot], of company: ManifestCompany, signedBy key: ManifestKey?, now: Date,
        every: TimeInterval
    ) -> String? {
        let fulls = earlier.filter { snapshot in
            guard let manifest = snapshot.manifest, manifest.incremental == nil,
                snapshot.kind == .manual || snapshot.kind == .scheduled
            else { return false }
            return manifest.companyIdentity == company && key.map { $0.signed(manifest) } ?? true
        }
        // When each was taken, as far as can be trusted (never later than the location lists it
        // written); a time still ahead of now is not believed: it must not put off every full one.
        guard let newest = fulls.compactMap(\.takenAt).filter({ $0 <= now + 300 }).max() else {
            return "this file has no full snapshot in the location yet"
        }
        guard now.timeIntervalSince(newest) < every else {
            return "its newest full snapshot is from \(Timestamp.string(from: newest)), older than --full-every"
        }
        return nil
    }

    /// The pages the location holds, by keyed hash: every blob of every pack
    /// the page table of `previous` names, from the packs' index objects.
    /// A pack whose index cannot be read, or that is gone or not the size its
    /// index gives (in a plain location), is left out (its pages are written
    /// again), and so is a delta blob whose base is not a whole page of a pack
    /// kept. A pack of a version 1 table has no index object yet: its index
    /// is made from the pack's bytes and created, before the snapshot object
    /// that will need it. A `previous` whose pages are not `pageSize` bytes
    /// (a hostile or another file's layout) gives no index.
    private static func dedupeIndex(
        after previous: Snapshot?, in store: SnapshotStore, keys: SnapshotIdentities, key: IncrementalKey,
        pageSize: Int, sealing: SnapshotRecipients, near: String
    ) -> DedupeIndex {
        var index = DedupeIndex()
        guard let previous, let layout = previous.manifest?.incremental, layout.isSound,
            layout.pageSize == pageSize,
            let table = try? IncrementalReader.table(of: previous, in: store, with: keys, keep: .packs)
        else { return index }
        var kept: [String: PackIndex] = [:]
        for pack in table.packs {
            let found: PackIndex
            if let read = try? IncrementalReader.packIndex(of: pack, for: previous, in: store, with: keys) {
                found = read
            } else if !table.namesBlobs,
                let plain = try? IncrementalReader.read("packs/" + pack, of: previous, in: store, with: keys),
                let built = try? PackIndex.build(fromPack: plain, pageSize: layout.pageSize, key: key),
                let sent = try? PackWriter.createIndex(built, of: pack, in: store, sealing: sealing, near: near),
                // Nothing sent: an index object was there already, one that could not be read. The
                // new snapshot would need that one, not this: the pack is left out instead.
                sent > 0
            {
                found = built
                index.bytesWritten += sent
            } else {
                continue
            }
            // A pack gone or cut short (lost to damage, or removed by someone else) is not pointed
            // at again: its pages are written anew, so no new snapshot silently needs a lost pack.
            // Encrypted, its size is known but for its header's: one cut short is caught too.
            guard let stored = (try? store.store.entry("packs/" + pack)) ?? nil, stored.size > 0,
                previous.encrypted
                    ? AgeFile.sealedSizes(ofPlain: Int64(found.plainBytes)).contains(stored.size)
                    : stored.size == Int64(found.plainBytes)
            else { continue }
            kept[pack] = found
        }
        for pack in table.packs {
            guard let found = kept[pack] else { continue }
            for number in 0..<found.count where index.blobs[found.hash(number)] == nil {
                var blob = IncrementalTable.Blob(pack: pack, number: number)
                if let base = found.base(number) {
                    guard let holder = kept[base.pack], base.number < holder.count, holder.base(base.number) == nil
                    else { continue }
                    blob.basePack = base.pack
                }
                index.blobs[found.hash(number)] = blob
            }
        }
        return index
    }

    /// The blobs a location holds by their page's keyed hash, and the bytes sent to make it.
    struct DedupeIndex {
        var blobs: [Data: IncrementalTable.Blob] = [:]
        var bytesWritten: Int64 = 0
    }

    /// Reads `copy` page by page: a page whose keyed hash `index` knows is
    /// pointed at, any other compressed into `packs` (and added to `index`):
    /// as a delta against its page in `bases` when that page's hash is a
    /// whole-page blob of an earlier pack and the delta is the smaller blob,
    /// else whole (and then kept in `bases`). Also the copy's size and SHA-256
    /// (hex), for the manifest.
    private static func split(
        _ copy: String, pageSize: Int, key: IncrementalKey, level: Int,
        index: inout DedupeIndex, bases: PageBases?,
        into packs: PackWriter
    ) throws -> (blobs: [IncrementalTable.Blob], new: Int, deltas: Int, digest: (bytes: Int64, sha256: String)) {
        let descriptor: Int32
        do {
            descriptor = try SystemCalls.open(copy, O_RDONLY)
        } catch let error as SystemCallError {
            throw BackupError.cannotRead(path: copy, reason: error.reason)
        }
        defer { SystemCalls.close(descriptor) }
        let compressor = try PackBlobs(level: level)
        let deltas = try PageDeltas(level: level)
        var base = [UInt8](repeating: 0, count: pageSize)
        var blobs: [IncrementalTable.Blob] = []
        var new = 0
        var deltaCount = 0
        var hasher = SHA256()
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
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: all.prefix(got)))
                for start in stride(from: 0, to: got, by: pageSize) {
                    let page = UnsafeRawBufferPointer(rebasing: all[start..<start + pageSize])
                    let number = blobs.count + 1
                    let hash = key.pageHash(page)
                    if let known = index.blobs[hash] {
                        blobs.append(known)
                        if bases?.rewriting == true { bases?.write(page, at: number) }
                        continue
                    }
                    var blob = try compressor.blob(of: page)
                    var against: PackIndex.Base?
                    if let bases, pageSize <= PageDeltas.largestPage,
                        base.withUnsafeMutableBytes({ bases.read(number, into: $0) }),
                        let held = index.blobs[base.withUnsafeBytes(key.pageHash)], held.basePack == nil,
                        !held.pack.hasPrefix("#")
                    {
                        // A delta zlib will not make is a whole page instead.
                        if let delta = try? base.withUnsafeBytes({ try deltas.delta(of: page, against: $0) }),
                            delta.count < blob.count
                        {
                            blob = delta
                            against = PackIndex.Base(pack: held.pack, number: held.number)
                        }
                    }
                    let added = try packs.add(blob, hash: hash, base: against)
                    index.blobs[hash] = added
                    blobs.append(added)
                    new += 1
                    if against == nil {
                        bases?.write(page, at: number)
                    } else {
                        deltaCount += 1
                    }
                }
            }
            offset += Int64(got)
        }
        return (blobs, new, deltaCount, (offset, hasher.finalize().hex))
    }
}
