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
        try take(of: file, into: BackupLocation.open(text), kind: kind, level: level, verify: verify, recipients: recipients,
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
    ///     sets for the location (`SnapshotSealing.sealing`); then nothing
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
    public static func take(of file: String, into location: any SnapshotLocation, kind: SnapshotKind, level: Int = 6,
                            verify: Bool = true, recipients: SnapshotRecipients = SnapshotRecipients(),
                            config: RecipientsConfig? = nil, signing key: ManifestKey? = nil,
                            wait: TimeInterval = CompanyFile.lockWait, now: Date = Date()) throws -> Snapshot {
        let header = try FileHeader.read(path: file)
        guard header.isCompanyFile else { throw CompanyFileError.notCompanyFile(path: file) }
        try location.prepare()
        let config = try config ?? RecipientsConfig.load()
        let sealing = try SnapshotSealing.sealing(given: recipients, at: location, config: config)
        // Before the work; checked again under the location's lock, where it counts.
        try SnapshotSealing.refusePlain(sealing, into: location, configPath: config.path)
        let staged = privateStaging(for: file, into: location, sealing: sealing)
        removeLeftovers(of: file, into: location)
        let copy = AtomicFile.temporaryPath(beside: staged, purpose: "copy.partial")
        defer { AtomicFile.removeDatabaseFiles(at: copy) }
        let readable = try privateCopy(of: file, to: copy, wait: wait)
        return try take(copyAt: copy, readable: readable, company: readable ? companyName(in: copy) : nil, of: file,
                        formatVersion: header.userVersion, into: location, kind: kind, level: level, verify: verify,
                        sealing: sealing, config: config, signing: key, now: now)
    }

    /// What a snapshot into `location` is encrypted to (`SnapshotSealing.sealing`),
    /// for a caller that takes one from its own private copy (`take(copyAt:…)`)
    /// and would refuse before its work.
    static func sealing(for location: any SnapshotLocation, given: SnapshotRecipients = SnapshotRecipients(),
                        config: RecipientsConfig? = nil) throws -> SnapshotRecipients {
        let config = try config ?? RecipientsConfig.load()
        let sealing = try SnapshotSealing.sealing(given: given, at: location, config: config)
        try SnapshotSealing.refusePlain(sealing, into: location, configPath: config.path)
        return sealing
    }

    /// Where the private copy and the plain snapshot of `file` are made: the
    /// location's staging folder, or, when the snapshot is encrypted, beside
    /// the company file (a readable copy never touches the backup's disk).
    private static func privateStaging(for file: String, into location: any SnapshotLocation, sealing: SnapshotRecipients) -> String {
        let name = URL(fileURLWithPath: file).lastPathComponent
        return (sealing.isEmpty ? location.stagingFolder(for: file) : URL(fileURLWithPath: file).deletingLastPathComponent().path) + "/" + name
    }

    /// Removes what killed backups of `file` left in either staging folder.
    private static func removeLeftovers(of file: String, into location: any SnapshotLocation) {
        let name = URL(fileURLWithPath: file).lastPathComponent
        for folder in Set([location.stagingFolder(for: file), URL(fileURLWithPath: file).deletingLastPathComponent().path]) {
            AtomicFile.removeLeftovers(beside: folder + "/" + name, purposes: ["copy.partial", "snapshot.partial", "sealed.partial"])
        }
    }

    /// Makes the private copy a snapshot is taken from: SQLite's consistent
    /// copy, or, only when SQLite says the file is damaged, the file's bytes as
    /// they are with the committed frames of its `-wal` written onto them (SPEC
    /// §4), as SQLite's own recovery would. A `-wal` whose page size is not the
    /// file's is not its log (`WriteAheadLog.isForeign`): SQLite would read
    /// its pages as the file's, so the file is copied by its bytes, without it.
    /// - Parameter wait: how long to wait for another program's lock.
    /// - Returns: whether SQLite could read the file (the copy is consistent).
    /// - Throws: `CompanyFileError.locked` when the file stayed locked for
    ///   `wait` seconds; nothing falls back to raw bytes on an error that is not damage.
    static func privateCopy(of file: String, to copy: String, wait: TimeInterval) throws -> Bool {
        // The bytes and the -wal of the file a link names, not the link's.
        let target = AtomicFile.resolvedTarget(of: file)
        if try !hasForeignLog(target) {
            do {
                try consistentCopy(of: file, to: copy, wait: wait)
                return true
            } catch let error as DatabaseError where StructureCheck.isDamage(error) {
                // SQLite cannot read it: keep the bytes, for salvage.
            } catch let error as DatabaseError where CompanyFileError.isLock(error) {
                throw CompanyFileError.locked(path: file)
            } catch CompanyFileError.damaged {
                // The same, met while opening.
            } catch CompanyFileError.notSQLite {
                // SQLITE_NOTADB on a file whose header says SQLite: damage too.
            }
        }
        AtomicFile.removeDatabaseFiles(at: copy)
        try copyBytes(of: target, to: copy)
        do {
            try WriteAheadLog.apply(logAt: target + "-wal", onto: copy)
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(path: copy, reason: error.reason)
        }
        return false
    }

    /// Whether the `-wal` beside `file` is not its log (see `WriteAheadLog.isForeign`).
    static func hasForeignLog(_ file: String) throws -> Bool {
        do {
            return try WriteAheadLog.isForeign(logAt: file + "-wal", database: file)
        } catch let error as SystemCallError {
            throw BackupError.cannotRead(path: error.path, reason: error.reason)
        }
    }

    /// The company's name in a readable copy, if it can be read.
    static func companyName(in copy: String) -> String? {
        (try? CompanyFile.read(copy) { try String.fetchOne($0, sql: "SELECT name FROM company WHERE id = 1") }) ?? nil
    }

    /// Takes a snapshot of `file` from `copy`, a private copy made by
    /// `privateCopy`, which the caller keeps and removes. Without `verify` the
    /// copy's bytes are only read, not opened with SQLite, so the caller may
    /// read it with SQLite meanwhile.
    /// - Parameter threads: how many threads compress (nil: one per core).
    /// - Parameter sealing: what `sealing(for:)` gave; nil works it out here.
    static func take(copyAt copy: String, readable copied: Bool, company: String?, of file: String, formatVersion: Int,
                     into location: any SnapshotLocation, kind: SnapshotKind, level: Int = 6, verify: Bool,
                     sealing resolved: SnapshotRecipients? = nil, config: RecipientsConfig? = nil, signing key: ManifestKey? = nil,
                     threads: Int? = nil,
                     now: Date) throws -> Snapshot {
        try location.prepare()
        let sealing = try resolved ?? Self.sealing(for: location, config: config)
        return try location.exclusively {
            // Under the lock: no encrypted snapshot can appear between this look and the plain one's publishing.
            try SnapshotSealing.refusePlain(sealing, into: location, configPath: config?.path ?? RecipientsConfig.path())
            return try take(copyAt: copy, readable: copied, company: company, of: file, formatVersion: formatVersion,
                     holding: location, kind: kind, level: level, verify: verify, sealing: sealing, signing: key,
                     threads: threads, now: now)
        }
    }

    private static func take(copyAt copy: String, readable copied: Bool, company: String?, of file: String, formatVersion: Int,
                             holding location: any SnapshotLocation, kind: SnapshotKind, level: Int, verify: Bool,
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
            (checked.databaseBytes, checked.databaseSha256) = try digest(of: copy)
            let report = try Verifier.verify(path: copy, quick: true)
            // The native pass summed the splits; else (another program's column
            // types, damage) SQLite sums them, and no sum when it cannot.
            let sum: Int64? = report.splitTotal ?? ((try? CompanyFile.read(copy) { db in
                try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(\(ValueRule.summable("amount"))), 0) FROM splits WHERE typeof(amount) = 'integer'")
            }) ?? nil)
            checked.verify = report.ok ? "clean" : "findings"
            checked.counts = report.counts
            checked.splitSum = sum
            if report.ok, let figures = try? BookFigures.read(path: copy) {
                checked.tableCounts = figures.tableCounts
                checked.trialBalanceSha256 = figures.trialBalanceSha256
            }
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

    /// The size and SHA-256 (hex) of the file at `path`, read 1 MiB at a time.
    static func digest(of path: String) throws -> (Int64, String) {
        let descriptor: Int32
        do {
            descriptor = try SystemCalls.open(path, O_RDONLY)
        } catch let error as SystemCallError {
            throw BackupError.cannotRead(path: path, reason: error.reason)
        }
        defer { SystemCalls.close(descriptor) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total: Int64 = 0
        while true {
            let got = try buffer.withUnsafeMutableBytes { try SystemCalls.pread(descriptor, into: $0, at: total, path: path) }
            if got == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0.prefix(got))) }
            total += Int64(got)
        }
        return (total, hasher.finalize().hex)
    }

    /// Passes the manifest, once the verify has made it whole, to the feed of
    /// the snapshot being written, whichever of the two comes first.
    final class ManifestRelay: @unchecked Sendable {
        // Guarded by `lock`.
        private let lock = NSLock()
        private var feed: (any SnapshotFeed)?
        private var manifest: Manifest?

        func attach(_ feed: any SnapshotFeed) {
            lock.lock()
            self.feed = feed
            let known = manifest
            lock.unlock()
            if let known { feed.known(known) }
        }

        func known(_ manifest: Manifest) {
            lock.lock()
            self.manifest = manifest
            let listener = feed
            lock.unlock()
            listener?.known(manifest)
        }
    }

    /// An online, consistent copy through SQLite's backup API; the copy is closed
    /// and checkpointed, so its one file holds everything.
    static func consistentCopy(of file: String, to copy: String, wait: TimeInterval) throws {
        let access = ReadOnlyAccess(path: file, busyTimeout: wait)
        defer { access.close() }
        let source = try access.connect()
        do {
            try PrivateFile.create(at: copy)
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(path: copy, reason: error.reason)
        }
        let destination = try DatabaseQueue(path: copy)
        try source.backup(to: destination)
        try destination.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try destination.close()
    }

    /// Copies the file's bytes into the new private file `copy` (mode 0600).
    static func copyBytes(of file: String, to copy: String) throws {
        do {
            try PrivateFile.copy(file, to: copy)
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(path: error.path, reason: error.reason)
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
    private static func write(_ copy: String, of file: String, manifest: Manifest, into location: any SnapshotLocation,
                              sealing: SnapshotRecipients, signing key: ManifestKey?, level: Int, threads: Int?, now: Date,
                              relay: ManifestRelay? = nil,
                              yielding: Bool = false,
                              finish: (inout Manifest) throws -> Void) throws -> Snapshot {
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
                try writer.overwriteHead(at: Int(Gzip.commentOffset), with: complete(&manifest))
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
                if location.keepsStagedFile { try SystemCalls.fsync(descriptor, path: partial) }
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
