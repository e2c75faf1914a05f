import Crypto
import Foundation
import GRDB

/// Takes snapshots of company files (docs/snapshots.md).
public enum SnapshotWriter {
    /// Takes the snapshot `request` asks for into `store`.
    ///
    /// The snapshot is one consistent moment of the file even while other
    /// programs write to it (SQLite's online backup into a private copy). A file
    /// SQLite cannot read is kept byte for byte, with `verify` `skipped`. The
    /// snapshot is written under a hidden temporary name, fsynced, and appears
    /// under its final name (mode 0600) only when complete.
    /// - Throws: `RecipientsError` before any work when the store's
    ///   `.ledger-recipients` differs from the owner's recipients, or when the
    ///   snapshot would be plain in a store holding encrypted ones.
    public static func take(_ request: SnapshotRequest, into store: SnapshotStore) throws -> Snapshot {
        if let copy = request.copy { return try take(from: copy, request, into: store) }
        let file = request.file
        let header = try FileHeader.read(path: file)
        guard header.isCompanyFile else { throw CompanyFileError.notCompanyFile(path: file) }
        try store.prepare()
        let config = try request.config ?? RecipientsConfig.load()
        // Refused as plain before the work too; checked again under the store's lock, where it counts.
        let sealing = try Self.sealing(for: store, given: request.recipients, config: config, within: request.within)
        let staged = privateStaging(for: file, into: store, sealing: sealing)
        removeLeftovers(of: file, into: store)
        let copy = AtomicFile.temporaryPath(beside: staged, purpose: "copy.partial")
        defer { AtomicFile.removeDatabaseFiles(at: copy) }
        return try take(
            copying(request, header: header, to: copy, config: config, sealing: sealing), into: store)
    }

    /// Makes the private copy of `request`'s file (whose header is `header`)
    /// at `copy`, and returns the request resolved to take its snapshot from
    /// that copy with `config` and `sealing`. The caller removes the copy.
    static func copying(
        _ request: SnapshotRequest, header: FileHeader, to copy: String, config: RecipientsConfig,
        sealing: SnapshotRecipients
    ) throws -> SnapshotRequest {
        let readable = try PrivateCopy.make(of: request.file, to: copy, wait: request.wait)
        var resolved = request
        resolved.config = config
        resolved.sealing = sealing
        // The company row, read once (the name alone when its creation time is not text).
        let identity = readable ? CompanyIdentity.read(path: copy) : nil
        resolved.copy = SnapshotRequest.Copy(
            path: copy, readable: readable,
            company: readable ? identity?.name ?? PrivateCopy.companyName(in: copy) : nil,
            companyCreatedAt: identity?.createdAt,
            formatVersion: header.userVersion)
        return resolved
    }

    /// What a snapshot into `store` is encrypted to (`LocationRecipients.sealing`),
    /// for a caller that takes one from its own private copy (`SnapshotRequest.copy`)
    /// and would refuse before its work.
    static func sealing(
        for store: SnapshotStore, given: SnapshotRecipients = SnapshotRecipients(),
        config: RecipientsConfig? = nil, within holder: String? = nil
    ) throws -> SnapshotRecipients {
        let config = try config ?? RecipientsConfig.load()
        let sealing = try LocationRecipients.sealing(
            given: given, at: store, within: holder.map { try SnapshotStore.open($0) }, config: config)
        try LocationRecipients.refusePlain(sealing, into: store, configPath: config.path)
        return sealing
    }

    /// Where the private copy and the plain snapshot of `file` are made: the
    /// store's staging folder, or, when the snapshot is encrypted, beside
    /// the company file (a readable copy never touches the backup's disk).
    static func privateStaging(
        for file: String, into store: SnapshotStore,
        sealing: SnapshotRecipients
    ) -> String {
        let name = URL(fileURLWithPath: file).lastPathComponent
        let beside = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let folder = sealing.isEmpty ? store.stagingFolder(for: file) : beside
        return folder + "/" + name
    }

    /// Removes what killed backups of `file` left in either staging folder.
    private static func removeLeftovers(of file: String, into store: SnapshotStore) {
        let name = URL(fileURLWithPath: file).lastPathComponent
        for folder in Set([store.stagingFolder(for: file), URL(fileURLWithPath: file).deletingLastPathComponent().path])
        {
            AtomicFile.removeLeftovers(
                beside: folder + "/" + name, purposes: ["copy.partial", "snapshot.partial", "sealed.partial"])
        }
    }

    /// Takes the snapshot from `copy`, under the store's lock.
    private static func take(
        from copy: SnapshotRequest.Copy, _ request: SnapshotRequest,
        into store: SnapshotStore
    ) throws -> Snapshot {
        try store.prepare()
        let sealing = try request.sealing ?? Self.sealing(for: store, config: request.config)
        return try store.exclusively {
            // Under the lock: no encrypted snapshot can appear between this look and the plain one's publishing.
            try LocationRecipients.refusePlain(
                sealing, into: store,
                configPath: request.config?.path ?? RecipientsConfig.path())
            return try compress(copy, request, sealing: sealing, holding: store)
        }
    }

    /// Compresses `copy` into a snapshot in `store`, whose lock is held,
    /// verifying the copy meanwhile when `request` asks and SQLite can read it.
    private static func compress(
        _ made: SnapshotRequest.Copy, _ request: SnapshotRequest, sealing: SnapshotRecipients,
        holding store: SnapshotStore
    ) throws -> Snapshot {
        let copy = made.path
        var unchecked = Manifest(
            createdAt: Timestamp.string(from: request.now), kind: request.kind,
            company: made.company, source: URL(fileURLWithPath: request.file).lastPathComponent,
            formatVersion: made.formatVersion, databaseBytes: 0, databaseSha256: "",
            verify: "skipped", counts: nil, splitSum: nil)
        unchecked.companyCreatedAt = made.companyCreatedAt
        unchecked.fleetClient = request.fleetClient
        let manifest = unchecked
        guard made.readable && request.verify else {
            return try write(copy, manifest: manifest, request, sealing: sealing, into: store) { _ in }
        }
        // The quick verify of the copy runs while the copy is compressed; the
        // worker is waited for before this returns, so it never outlives the
        // copy. It reads the copy's digest first, so the whole manifest is known
        // when the verify ends: object storage then sends the snapshot while the
        // compression goes on. The compression's own digest must agree.
        let relay = ManifestRelay()
        return try Worker<Manifest>.run(
            {
                let checked = try verified(manifest, copy: copy, findings: request.findings)
                relay.known(checked)
                return checked
            },
            during: { checking in
                // The compression yields to the verify, whose end completes the
                // manifest (and starts an upload to object storage).
                try write(
                    copy, manifest: manifest, request, sealing: sealing, into: store, relay: relay,
                    yielding: true
                ) { manifest in
                    let checked = try checking.wait().get()
                    guard checked.databaseSha256 == manifest.databaseSha256,
                        checked.databaseBytes == manifest.databaseBytes
                    else {
                        throw BackupError.compression(
                            "the private copy changed while it was compressed; try the backup again")
                    }
                    manifest = checked
                }
            })
    }

    /// `manifest` completed from a quick verify of the private copy `copy`:
    /// its size and digest (unless `digest` is false: the caller reads the
    /// bytes anyway and digests them there), `verify`, the counts and the split
    /// sum; the verify's findings go to `findings`.
    static func verified(
        _ manifest: Manifest, copy: String, digest: Bool = true, findings: (@Sendable ([Finding]) -> Void)? = nil
    ) throws -> Manifest {
        var checked = manifest
        if digest { (checked.databaseBytes, checked.databaseSha256) = try FileDigest.of(copy) }
        let report = try Verifier.verify(path: copy, quick: true)
        findings?(report.findings)
        // The native pass summed the splits; else (another program's column
        // types, damage) SQLite sums them, and no sum when it cannot.
        let sum: Int64? =
            report.splitTotal
            ?? ((try? CompanyFile.read(copy) { db in
                try Int64.fetchOne(
                    db,
                    sql: "SELECT COALESCE(SUM(\(ValueRule.summable("amount"))), 0) FROM splits "
                        + "WHERE typeof(amount) = 'integer'")
            }) ?? nil)
        checked.verify = report.ok ? "clean" : "findings"
        checked.counts = report.counts
        checked.splitSum = sum
        if report.ok, let figures = try? BookFigures.read(path: copy, accountTotals: report.accountTotals) {
            checked.tableCounts = figures.tableCounts
            checked.trialBalanceSha256 = figures.trialBalanceSha256
        }
        return checked
    }

    /// Passes the manifest, once the verify has made it whole, to the feed of
    /// the snapshot being written, whichever of the two comes first.
    final class ManifestRelay: @unchecked Sendable {
        // Guarded by `lock`.
        private let lock = NSLock()
        private var feed: (any GrowthFeed)?
        private var manifest: Manifest?

        func attach(_ feed: any GrowthFeed) {
            lock.lock()
            self.feed = feed
            let known = manifest
            lock.unlock()
            if let known { feed.settled(known.objectMetadata) }
        }

        func known(_ manifest: Manifest) {
            lock.lock()
            self.manifest = manifest
            let listener = feed
            lock.unlock()
            listener?.settled(manifest.objectMetadata)
        }
    }

    /// Compresses `copy` into a hidden partial file in the location's staging
    /// folder and publishes it under the first free snapshot name of that
    /// second; or, when `sealing` names anyone, compresses it beside the
    /// company file, encrypts that into the staging folder and publishes that.
    ///
    /// The manifest goes first in the file but is known last (the digest comes
    /// from the compression pass, the verify runs beside it), so the header's
    /// comment is reserved with room to spare and written over at the end;
    /// `finish` completes the manifest once the data is written.
    private static func write(
        _ copy: String, manifest: Manifest, _ request: SnapshotRequest,
        sealing: SnapshotRecipients, into store: SnapshotStore,
        relay: ManifestRelay? = nil, yielding: Bool = false,
        finish: (inout Manifest) throws -> Void
    ) throws -> Snapshot {
        let (file, key, now, threads) = (request.file, request.signing, request.now, request.threads)
        let level = request.level
        // Room in the header for the longest digest, counts and verify word the final manifest can hold,
        // and the row counts of every table and the trial balance's digest (`BookFigures`).
        var manifest = manifest
        let placeholder = try manifest.commentText()
        let reserved = placeholder.utf8.count + 512 + BookFigures.manifestRoom
        var hasher = SHA256()
        func complete(_ manifest: inout Manifest) throws -> [UInt8] {
            manifest.databaseSha256 = hasher.finalize().hex
            try finish(&manifest)
            manifest.hmac = try key?.signature(of: manifest)
            let final = Array(padded(try manifest.commentText(), to: reserved).utf8)
            guard final.count == reserved else {
                throw BackupError.compression("the manifest outgrew its room in the header")
            }
            return final
        }
        guard sealing.isEmpty else {
            // Encrypted in the compression pipeline: no plain snapshot is ever written anywhere.
            let sealed = AtomicFile.temporaryPath(
                beside: store.stagingFolder(for: file) + "/" + manifest.source, purpose: "sealed.partial")
            defer { unlink(sealed) }
            do {
                let writer = try AgeFile.Writer(to: sealed, for: sealing)
                manifest.databaseBytes = try Gzip.compress(
                    file: copy, into: writer.append, comment: padded(placeholder, to: reserved),
                    modified: now, level: Int32(max(1, min(9, level))), threads: threads,
                    yielding: yielding
                ) {
                    hasher.update(bufferPointer: $0)
                }
                let final = try complete(&manifest)
                guard writer.headHolds(final.count, at: Int(Gzip.commentOffset)) else {
                    throw BackupError.compression("the manifest does not fit in the first encrypted chunk")
                }
                try writer.overwriteHead(at: Int(Gzip.commentOffset), with: final)
                try writer.finish()
            } catch let error as SystemCallError {
                throw BackupError.cannotWrite(path: error.path, reason: error.reason)
            }
            return try store.publish(sealed, manifest: manifest, at: now, encrypted: true)
        }
        let partial = AtomicFile.temporaryPath(
            beside: store.stagingFolder(for: file) + "/" + manifest.source, purpose: "snapshot.partial")
        defer { unlink(partial) }
        return try store.publish(writing: partial, source: manifest.source, at: now) { feed in
            relay?.attach(feed)
            let descriptor: Int32
            do {
                descriptor = try SystemCalls.open(partial, O_WRONLY | O_CREAT | O_EXCL)
            } catch let error as SystemCallError {
                throw BackupError.cannotWrite(path: partial, reason: error.reason)
            }
            defer { SystemCalls.close(descriptor) }
            do {
                var written: Int64 = 0
                manifest.databaseBytes = try Gzip.compress(
                    file: copy,
                    into: { bytes in
                        try Gzip.write(bytes, to: descriptor, path: partial)
                        written += Int64(bytes.count)
                        feed.grew(to: written)
                    }, comment: padded(placeholder, to: reserved), modified: now, level: Int32(max(1, min(9, level))),
                    threads: threads, yielding: yielding
                ) {
                    hasher.update(bufferPointer: $0)
                }
                let final = try complete(&manifest)
                try final.withUnsafeBytes {
                    try SystemCalls.pwrite(descriptor, $0, at: Int64(Gzip.commentOffset), path: partial)
                }
            } catch let error as SystemCallError {
                throw BackupError.cannotWrite(path: error.path, reason: error.reason)
            }
            return manifest
        }
    }

    /// JSON followed by spaces (still the same JSON) up to `length` bytes.
    private static func padded(_ text: String, to length: Int) -> String {
        text + String(repeating: " ", count: max(0, length - text.utf8.count))
    }
}
