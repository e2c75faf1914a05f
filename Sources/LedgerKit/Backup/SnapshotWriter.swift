import Crypto
import Foundation
import GRDB

/// Takes snapshots of company files (SPEC §4).
public enum SnapshotWriter {
    /// Takes a snapshot of the company file at `file` into the location `text`
    /// names: a folder, or `s3://BUCKET/PREFIX`.
    public static func take(of file: String, into text: String, kind: SnapshotKind, level: Int = 6,
                            verify: Bool = true, recipients: SnapshotRecipients = SnapshotRecipients(),
                            config: RecipientsConfig? = nil, signing key: ManifestKey? = nil,
                            wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()) throws -> Snapshot {
        try take(of: file, into: SnapshotStore.open(text), kind: kind, level: level, verify: verify, recipients: recipients,
                 config: config, signing: key, wait: wait, now: now)
    }

    /// Takes a snapshot of the company file at `file` into `location`.
    ///
    /// The snapshot is one consistent moment of the file even while other
    /// programs write to it (SQLite's online backup into a private copy). A file
    /// SQLite cannot read is kept byte for byte, with `verify` `skipped`. The
    /// snapshot is written under a hidden temporary name, fsynced, and appears
    /// under its final name (mode 0600) only when complete.
    /// - Parameters:
    ///   - now: the clock, injectable for tests.
    ///   - level: the deflate level, 1 (fast) to 9 (small).
    ///   - verify: run a quick verify of the copy (beside the compression); when
    ///     false the manifest says `skipped`.
    ///   - recipients: encrypt the snapshot to these, and to those `config`
    ///     sets for the location (`LocationRecipients.sealing`); then nothing
    ///     readable is ever written to the location, not even for a moment:
    ///     the copy and the plain snapshot stay beside the company file.
    ///   - config: the owner's recipients per location; nil reads this
    ///     machine's (`RecipientsConfig.load`).
    ///   - key: this machine's `ManifestKey`, whose HMAC of the manifest goes
    ///     in its `hmac` field (restore believes no other's `verify: clean`).
    ///   - wait: how long to wait for another program's lock (a write
    ///     transaction, `locking_mode=EXCLUSIVE`) before refusing with
    ///     `CompanyFileError.locked`: busy is never taken for unreadable.
    /// - Throws: `RecipientsError` before any work when the location's
    ///   `.ledger-recipients` differs from the owner's recipients, or when the
    ///   snapshot would be plain in a location holding encrypted ones.
    public static func take(of file: String, into location: SnapshotStore, kind: SnapshotKind, level: Int = 6,
                            verify: Bool = true, recipients: SnapshotRecipients = SnapshotRecipients(),
                            config: RecipientsConfig? = nil, signing key: ManifestKey? = nil,
                            wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()) throws -> Snapshot {
        let header = try FileHeader.read(path: file)
        guard header.isCompanyFile else { throw CompanyFileError.notCompanyFile(path: file) }
        try location.prepare()
        let config = try config ?? RecipientsConfig.load()
        let sealing = try LocationRecipients.sealing(given: recipients, at: location, config: config)
        // Before the work; checked again under the location's lock, where it counts.
        try LocationRecipients.refusePlain(sealing, into: location, configPath: config.path)
        let staged = privateStaging(for: file, into: location, sealing: sealing)
        removeLeftovers(of: file, into: location)
        let copy = AtomicFile.temporaryPath(beside: staged, purpose: "copy.partial")
        defer { AtomicFile.removeDatabaseFiles(at: copy) }
        let readable = try PrivateCopy.make(of: file, to: copy, wait: wait)
        return try take(copyAt: copy, readable: readable, company: readable ? PrivateCopy.companyName(in: copy) : nil, of: file,
                        formatVersion: header.userVersion, into: location, kind: kind, level: level, verify: verify,
                        sealing: sealing, config: config, signing: key, now: now)
    }

    /// What a snapshot into `location` is encrypted to (`LocationRecipients.sealing`),
    /// for a caller that takes one from its own private copy (`take(copyAt:…)`)
    /// and would refuse before its work.
    static func sealing(for location: SnapshotStore, given: SnapshotRecipients = SnapshotRecipients(),
                        config: RecipientsConfig? = nil) throws -> SnapshotRecipients {
        let config = try config ?? RecipientsConfig.load()
        let sealing = try LocationRecipients.sealing(given: given, at: location, config: config)
        try LocationRecipients.refusePlain(sealing, into: location, configPath: config.path)
        return sealing
    }

    /// Where the private copy and the plain snapshot of `file` are made: the
    /// location's staging folder, or, when the snapshot is encrypted, beside
    /// the company file (a readable copy never touches the backup's disk).
    private static func privateStaging(for file: String, into location: SnapshotStore, sealing: SnapshotRecipients) -> String {
        let name = URL(fileURLWithPath: file).lastPathComponent
        return (sealing.isEmpty ? location.stagingFolder(for: file) : URL(fileURLWithPath: file).deletingLastPathComponent().path) + "/" + name
    }

    /// Removes what killed backups of `file` left in either staging folder.
    private static func removeLeftovers(of file: String, into location: SnapshotStore) {
        let name = URL(fileURLWithPath: file).lastPathComponent
        for folder in Set([location.stagingFolder(for: file), URL(fileURLWithPath: file).deletingLastPathComponent().path]) {
            AtomicFile.removeLeftovers(beside: folder + "/" + name, purposes: ["copy.partial", "snapshot.partial", "sealed.partial"])
        }
    }

    /// Takes a snapshot of `file` from `copy`, a private copy made by
    /// `PrivateCopy.make`, which the caller keeps and removes. Without `verify` the
    /// copy's bytes are only read, not opened with SQLite, so the caller may
    /// read it with SQLite meanwhile.
    /// - Parameter threads: how many threads compress (nil: one per core).
    /// - Parameter sealing: what `sealing(for:)` gave; nil works it out here.
    static func take(copyAt copy: String, readable copied: Bool, company: String?, of file: String, formatVersion: Int,
                     into location: SnapshotStore, kind: SnapshotKind, level: Int = 6, verify: Bool,
                     sealing resolved: SnapshotRecipients? = nil, config: RecipientsConfig? = nil, signing key: ManifestKey? = nil,
                     threads: Int? = nil,
                     now: Date) throws -> Snapshot {
        try location.prepare()
        let sealing = try resolved ?? Self.sealing(for: location, config: config)
        return try location.exclusively {
            // Under the lock: no encrypted snapshot can appear between this look and the plain one's publishing.
            try LocationRecipients.refusePlain(sealing, into: location, configPath: config?.path ?? RecipientsConfig.path())
            return try take(copyAt: copy, readable: copied, company: company, of: file, formatVersion: formatVersion,
                     holding: location, kind: kind, level: level, verify: verify, sealing: sealing, signing: key,
                     threads: threads, now: now)
        }
    }

    private static func take(copyAt copy: String, readable copied: Bool, company: String?, of file: String, formatVersion: Int,
                             holding location: SnapshotStore, kind: SnapshotKind, level: Int, verify: Bool,
                             sealing: SnapshotRecipients, signing key: ManifestKey?, threads: Int? = nil,
                             now: Date) throws -> Snapshot {
        let manifest = Manifest(createdAt: Timestamp.string(from: now), kind: kind, company: company,
                                source: URL(fileURLWithPath: file).lastPathComponent, formatVersion: formatVersion,
                                databaseBytes: 0, databaseSha256: "", verify: "skipped", counts: nil, splitSum: nil)
        guard copied && verify else {
            return try write(copy, of: file, manifest: manifest, into: location, sealing: sealing, signing: key, level: level,
                             threads: threads, now: now) { _ in }
        }
        // The quick verify of the copy runs while the copy is compressed; the
        // worker is waited for before this returns, so it never outlives the
        // copy. It reads the copy's digest first, so the whole manifest is known
        // when the verify ends: object storage then sends the snapshot while the
        // compression goes on. The compression's own digest must agree.
        let relay = ManifestRelay()
        return try Worker<Manifest>.run({
            var checked = manifest
            (checked.databaseBytes, checked.databaseSha256) = try FileDigest.of(copy)
            let report = try Verifier.verify(path: copy, quick: true)
            // The native pass summed the splits; else (another program's column
            // types, damage) SQLite sums them, and no sum when it cannot.
            let sum: Int64? = report.splitTotal ?? ((try? CompanyFile.read(copy) { db in
                try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(\(ValueRule.summable("amount"))), 0) FROM splits WHERE typeof(amount) = 'integer'")
            }) ?? nil)
            checked.verify = report.ok ? "clean" : "findings"
            checked.counts = report.counts
            checked.splitSum = sum
            relay.known(checked)
            return checked
        }, during: { checking in
            // The compression yields to the verify, whose end completes the
            // manifest (and starts an upload to object storage).
            try write(copy, of: file, manifest: manifest, into: location, sealing: sealing, signing: key, level: level,
                      threads: threads, now: now, relay: relay, yielding: true) { manifest in
                let checked = try checking.wait().get()
                guard checked.databaseSha256 == manifest.databaseSha256, checked.databaseBytes == manifest.databaseBytes else {
                    throw BackupError.compression("the private copy changed while it was compressed; try the backup again")
                }
                manifest = checked
            }
        })
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
    private static func write(_ copy: String, of file: String, manifest: Manifest, into location: SnapshotStore,
                              sealing: SnapshotRecipients, signing key: ManifestKey?, level: Int, threads: Int?, now: Date,
                              relay: ManifestRelay? = nil,
                              yielding: Bool = false,
                              finish: (inout Manifest) throws -> Void) throws -> Snapshot {
        // Room in the header for the longest digest, counts and verify word the final manifest can hold.
        var manifest = manifest
        let placeholder = try manifest.commentText()
        let reserved = placeholder.utf8.count + 512
        var hasher = SHA256()
        func complete(_ manifest: inout Manifest) throws -> [UInt8] {
            manifest.databaseSha256 = hasher.finalize().hex
            try finish(&manifest)
            manifest.hmac = try key?.signature(of: manifest)
            let final = Array(padded(try manifest.commentText(), to: reserved).utf8)
            guard final.count == reserved else { throw BackupError.compression("the manifest outgrew its room in the header") }
            return final
        }
        guard sealing.isEmpty else {
            // Encrypted in the compression pipeline: no plain snapshot is ever written anywhere.
            let sealed = AtomicFile.temporaryPath(beside: location.stagingFolder(for: file) + "/" + manifest.source, purpose: "sealed.partial")
            defer { unlink(sealed) }
            do {
                let writer = try AgeFile.Writer(to: sealed, for: sealing)
                manifest.databaseBytes = try Gzip.compress(file: copy, into: writer.append, comment: padded(placeholder, to: reserved),
                                                           modified: now, level: Int32(max(1, min(9, level))), threads: threads,
                                                           yielding: yielding) {
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
            return try location.publish(sealed, manifest: manifest, at: now, encrypted: true)
        }
        let partial = AtomicFile.temporaryPath(beside: location.stagingFolder(for: file) + "/" + manifest.source, purpose: "snapshot.partial")
        defer { unlink(partial) }
        return try location.publish(writing: partial, source: manifest.source, at: now) { feed in
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
                manifest.databaseBytes = try Gzip.compress(file: copy, into: { bytes in
                    try Gzip.write(bytes, to: descriptor, path: partial)
                    written += Int64(bytes.count)
                    feed.grew(to: written)
                }, comment: padded(placeholder, to: reserved), modified: now, level: Int32(max(1, min(9, level))),
                   threads: threads, yielding: yielding) {
                    hasher.update(bufferPointer: $0)
                }
                let final = try complete(&manifest)
                try final.withUnsafeBytes { try SystemCalls.pwrite(descriptor, $0, at: Int64(Gzip.commentOffset), path: partial) }
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
