import Foundation
import GRDB

/// How to rebuild.
public struct RebuildOptions: Sendable {
    /// Where the pre-rebuild snapshot goes (a folder or `s3://BUCKET/PREFIX`);
    /// nil: a folder `backups` beside the file.
    public var backupFolder: String?
    /// Print the plan and change nothing.
    public var dryRun: Bool
    /// The clock, injectable for tests.
    public var now: Date
    /// How long to wait for another program to let go of the file before refusing.
    public var wait: TimeInterval
    /// More places (folders or `s3://BUCKET/PREFIX`) to look in for the last
    /// clean snapshot after damage, beside the backup folder.
    public var fromBackups: [String]
    /// What opens encrypted snapshots there.
    public var keys: SnapshotIdentities
    /// This machine's key: a snapshot it signed is trusted wherever it lies.
    public var manifestKey: ManifestKey?
    /// Use snapshots this machine did not sign from any place; otherwise only
    /// from the `backups` folder beside the file (the books' own disk).
    public var trustUnsigned: Bool

    /// Options for a plain rebuild: snapshots in the backup folder beside the file, unsigned ones trusted.
    public init(
        backupFolder: String? = nil, dryRun: Bool = false, now: Date = Date(),
        wait: TimeInterval = CompanyFile.lockWait, fromBackups: [String] = [],
        keys: SnapshotIdentities = SnapshotIdentities(), manifestKey: ManifestKey? = nil, trustUnsigned: Bool = true
    ) {
        self.backupFolder = backupFolder
        self.dryRun = dryRun
        self.now = now
        self.wait = wait
        self.fromBackups = fromBackups
        self.keys = keys
        self.manifestKey = manifestKey
        self.trustUnsigned = trustUnsigned
    }

    /// Where the last clean snapshot is looked for (SPEC §3): the backup
    /// folder, the `backups` folder beside the file (when there is one, if
    /// another backup folder is given), then each `fromBackups`. The first is
    /// where the pre-rebuild snapshot goes.
    func snapshotLocations(beside path: String) -> [String] {
        let beside = URL(fileURLWithPath: path).deletingLastPathComponent().path + "/backups"
        var places = [backupFolder ?? beside]
        if backupFolder != nil, FileManager.default.fileExists(atPath: beside) { places.append(beside) }
        var seen: Set<String> = []
        return (places + fromBackups).filter { seen.insert(StoreRegistry.key(of: $0)).inserted }
    }
}

/// Rebuild Data (docs/rebuild.md).
///
/// The file itself is only ever read until the last step: a private copy of it
/// is taken (one consistent moment), the pre-rebuild snapshot is compressed from
/// that copy while the repairs run on a working copy made from it (its bytes,
/// then `REINDEX`, or salvage when SQLite cannot read it whole), the working
/// copy is analysed and verified on every core while it is compacted into its
/// final form (`VACUUM INTO`), and only then renamed over the file, while no
/// other program has the file open. A kill at any moment leaves the file as it
/// was or rebuilt, and at worst a hidden `.NAME.rebuild…` file beside it.
public enum Rebuilder {

    /// The deflate level of pre-rebuild snapshots. The snapshot is compressed
    /// while the repairs run and competes with them for the CPU: level 1 takes
    /// a third of level 6's time for files about 8% larger.
    static let snapshotLevel = 1

    /// Rebuilds the company file at `path`. A `path` that is a symbolic link
    /// is resolved once: the file it names is copied, rebuilt beside itself
    /// and replaced, and the link stays a link; snapshots keep the name `path`
    /// gives, in the `backups` folder beside `path` by default.
    /// - Throws: `RebuildError`, `CompanyFileError` about `path`, never about a
    ///   working file of the rebuild (those are removed by then).
    public static func rebuild(
        path: String, options: RebuildOptions = RebuildOptions(),
        progress: (@Sendable (RebuildProgress) -> Void)? = nil
    ) throws -> RebuildReport {
        let file = AtomicFile.resolvedTarget(of: path)
        do {
            return try rebuild(path: path, file: file, options: options, progress: progress)
        } catch let error as CompanyFileError {
            // SQLite's word on one of the rebuild's own copies, which are gone by now.
            guard let copy = error.path, AtomicFile.isTemporary(copy, of: file) else { throw error }
            throw RebuildError.copyUnusable(path: path, reason: error.problem)
        }
    }

    private static func rebuild(
        path: String, file: String, options: RebuildOptions,
        progress: (@Sendable (RebuildProgress) -> Void)?
    ) throws -> RebuildReport {
        let started = Date()
        let header = try FileHeader.read(path: file)
        guard header.isCompanyFile else { throw CompanyFileError.notCompanyFile(path: path) }
        guard header.userVersion <= Schema.formatVersion else {
            throw CompanyFileError.newerFormat(path: path, version: header.userVersion)
        }
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        guard Glibc.access(folder, W_OK) == 0 else {
            throw RebuildError.cannotWrite(path: path, reason: "its folder is not writable")
        }
        removeLeftovers(of: file)
        // A private copy, a working copy and the final copy sit beside the file at once.
        var space = statvfs()
        if statvfs(folder, &space) == 0 {
            let free = Int64(space.f_bavail) * Int64(space.f_frsize)
            let needed = header.fileSize * 3
            guard free >= needed else {
                throw RebuildError.cannotWrite(
                    path: path,
                    reason:
                        "its folder has \(free / 1_048_576) MiB free and rebuild needs about \(needed / 1_048_576) MiB (three copies of the file)"
                )
            }
        }
        let backups = try SnapshotStore.open(options.snapshotLocations(beside: path)[0])
        // Refuse before any work when the snapshot could not be written (or not
        // to the recipients the owner set for its location).
        if !options.dryRun { try backups.prepare() }
        let sealing =
            options.dryRun
            ? SnapshotRecipients() : try RecipientsError.beforeReplacing { try SnapshotWriter.sealing(for: backups) }
        if !options.dryRun {
            // A file this user may not write would wait the whole --wait and be called open elsewhere.
            guard Glibc.access(file, W_OK) == 0 else {
                throw RebuildError.readOnly(path: path, reason: String(cString: strerror(errno)))
            }
            try settle(file, wait: options.wait)
        }
        let identity = FileIdentity(file)

        progress?(RebuildProgress(phase: "Copying the company file"))
        let source = AtomicFile.temporaryPath(beside: file, purpose: "rebuild-source")
        defer { AtomicFile.removeDatabaseFiles(at: source) }
        let readable = try PrivateCopy.make(of: file, to: source, wait: options.wait)
        // The main file's header may not give the format: a change of version still in
        // the -wal shows in the copy, which holds every committed frame. A newer format is
        // never repaired (nor salvaged into this one); an older one SQLite reads is refused
        // as verify refuses it, not called clean.
        if let copied = try? FileHeader.read(path: source), copied.isCompanyFile {
            guard copied.userVersion <= Schema.formatVersion else {
                throw CompanyFileError.newerFormat(path: path, version: copied.userVersion)
            }
            guard copied.userVersion == Schema.formatVersion || !readable else {
                throw CompanyFileError.olderFormat(path: path, version: copied.userVersion)
            }
        }

        guard !options.dryRun else {
            return try rebuildCopy(
                of: path, file: file, source: source, readable: readable, options: options, started: started,
                identity: identity, snapshot: nil, progress: progress)
        }
        // The snapshot is compressed from the private copy while the repairs run.
        let company = readable ? PrivateCopy.companyName(in: source) : nil
        let formatVersion = header.userVersion
        return try Worker<Snapshot>.run(
            {
                // On one thread behind the rebuild's: the snapshot is needed only at
                // the end, and fills the time the rebuild leaves a core idle.
                SystemCalls.lowerThreadPriority()
                var request = SnapshotRequest(
                    of: path, kind: .preRebuild, level: snapshotLevel, verify: false, now: options.now)
                request.copy = SnapshotRequest.Copy(
                    path: source, readable: readable, company: company, formatVersion: formatVersion)
                request.sealing = sealing
                request.threads = 1
                return try RecipientsError.beforeReplacing { try SnapshotWriter.take(request, into: backups) }
            },
            during: { snapshotting in
                try rebuildCopy(
                    of: path, file: file, source: source, readable: readable, options: options, started: started,
                    identity: identity, snapshot: { try snapshotting.wait().get() }, progress: progress)
            })
    }

    /// What the repairs made of the private copy: the compacted, verified file
    /// to install.
    struct Rebuilt {
        let salvage: [SalvagedTable]?
        let repaired: Repaired
        let remaining: [Finding]
    }

    /// What the repairs after a salvage are given to keep everything that can be kept.
    struct Damage {
        let salvage: [SalvagedTable]
        /// Per table, the rowids read from pages the integrity check names.
        let damagedPages: [String: [Int64]]
        let copy: LastGoodCopy?
        let notes: [String]
        let cutShortBy: Int?
    }

    /// The repairable findings left on a copy after its repairs.
    private struct Leftovers: Error {
        let findings: [Finding]
    }

    /// Repairs the private copy `source` into a verified final copy, salvaging
    /// when SQLite meets damage anywhere on the way, then (unless a dry run)
    /// installs it over `file`, the file `path` names.
    private static func rebuildCopy(
        of path: String, file: String, source: String, readable: Bool, options: RebuildOptions,
        started: Date, identity: FileIdentity, snapshot: (() throws -> Snapshot)?,
        progress: (@Sendable (RebuildProgress) -> Void)?
    ) throws -> RebuildReport {
        let working = AtomicFile.temporaryPath(beside: file, purpose: "rebuild-working")
        let final = AtomicFile.temporaryPath(beside: file, purpose: "rebuild-final")
        defer {
            AtomicFile.removeDatabaseFiles(at: working)
            AtomicFile.removeDatabaseFiles(at: final)
        }
        var rebuilt: Rebuilt
        do {
            // SQLite's own check of the copy runs beside the repairs: damage that reads
            // without an error (a page of another table, or of its own, written in the
            // wrong place) must not be "repaired" as if the rows were the books'.
            rebuilt = try Worker<Bool>.run(
                { readable && showsDamage(source) },
                during: { damaged in
                    let repaired = try repairCopy(
                        source, readable: readable, salvage: false, working: working, final: final,
                        original: path, file: file, options: options, progress: progress)
                    if try damaged.wait().get() { throw DamageReadWithoutError() }
                    return repaired
                })
        } catch let error where salvageMayHelp(error) {
            // docs/rebuild.md: damage met anywhere on the normal path (the copy, REINDEX,
            // a repair's query, ANALYZE, the final check, VACUUM INTO) means
            // salvage, once: it reads every row that can be read into a fresh file.
            AtomicFile.removeDatabaseFiles(at: working)
            AtomicFile.removeDatabaseFiles(at: final)
            do {
                rebuilt = try repairCopy(
                    source, readable: readable, salvage: true, working: working, final: final,
                    original: path, file: file, options: options, progress: progress)
            } catch let leftovers as Leftovers {
                throw incomplete(path, leftovers)
            }
        }
        let (salvage, repaired, remaining) = (rebuilt.salvage, rebuilt.repaired, rebuilt.remaining)
        guard let snapshot else {
            var report = RebuildReport(
                file: path, dryRun: true, snapshot: nil, salvage: salvage, schemaRepairs: repaired.schema,
                repairs: repaired.groups, remaining: [], runID: nil,
                elapsedMS: Int(Date().timeIntervalSince(started) * 1000))
            report.damage = repaired.damage
            report.suspense = repaired.suspense
            return report
        }
        progress?(RebuildProgress(phase: "Finishing the snapshot"))
        let taken = try snapshot()
        let outcome = repaired.changed || salvage != nil ? "repaired" : (remaining.isEmpty ? "ok" : "findings")
        var report = RebuildReport(
            file: path, dryRun: false, snapshot: taken.path, salvage: salvage, schemaRepairs: repaired.schema,
            repairs: repaired.groups, remaining: remaining, runID: repaired.runID,
            elapsedMS: Int(Date().timeIntervalSince(started) * 1000))
        report.damage = repaired.damage
        report.suspense = repaired.suspense
        try finishRecord(
            at: final, runID: repaired.runID, outcome: outcome, now: Date(),
            summary: [
                "snapshot": taken.path, "changed_rows": report.changedRows,
                "repairs": Dictionary(uniqueKeysWithValues: repaired.groups.map { ($0.code.rawValue, $0.count) }),
                "schema_repairs": repaired.schema, "findings_left": remaining.count,
                "salvaged": salvage != nil, "lost_rows": report.lostRows,
                "rebuilt_from_indexes": report.rebuiltFromIndexes,
                "loss_is_exact": report.lossIsExact,
            ])
        try AtomicFile.fsync(path: final)

        progress?(RebuildProgress(phase: "Replacing the company file"))
        report.keptLog = try keepUnappliedLog(of: file, shown: path, now: Date())
        try replace(file, with: final, identity: identity, shown: path)
        return report
    }

    /// A `-wal` beside `file` whose frames may be in no copy
    /// (`WriteAheadLog.holdsUntakenWork`: not the file's log, or one whose header
    /// neither SQLite nor `WriteAheadLog.apply` reads). The file's replacement removes
    /// it; it is kept first, by a second name beside the file
    /// (`acme.db-wal.not-applied-20261207T004500Z`), so that nothing committed anywhere
    /// is lost unsaid. Returns that name, or nil. Restore keeps such a log the same way.
    static func keepUnappliedLog(of file: String, shown: String, now: Date) throws -> String? {
        guard WriteAheadLog.holdsUntakenWork(beside: file) else { return nil }
        let stamp = Timestamp.compact(from: now)
        let kept = file + "-wal.not-applied-" + stamp
        do {
            try AtomicFile.keepSecondName(file + "-wal", as: kept)
        } catch let error as SystemCallError {
            throw RebuildError.cannotWrite(
                path: shown, reason: "its -wal, not applied, could not be kept as \(kept): \(error.reason)")
        }
        return shown + "-wal.not-applied-" + stamp
    }

    /// SQLite's check of the copy found damage the normal path read without an error.
    private struct DamageReadWithoutError: Error {}

    /// Whether `quick_check` of the file at `source` finds damage: anything
    /// but a CHECK constraint a row breaks, which another program can write
    /// (`ignore_check_constraints`) and the repairs mend. A NULL in a NOT NULL
    /// column, a number in a text column, a page never used or rows out of
    /// order, no SQL writes: they are damage, and salvage reads the rows.
    static func showsDamage(_ source: String) -> Bool {
        let access = ReadOnlyAccess(path: source)
        defer { access.close() }
        guard
            let lines = try? access.connect().inDatabase({ db in
                try String.fetchAll(db, sql: "PRAGMA quick_check(\(DamagedPages.lineLimit))")
            })
        else { return false }
        return lines.flatMap { $0.split(separator: "\n") }.contains { line in
            line != "ok" && !line.hasPrefix("CHECK constraint failed in ")
        }
    }

    /// Whether an error of the normal path is damage that salvage gets round:
    /// SQLite calling a page malformed; a unique index the rows break (REINDEX
    /// of swapped pages); a damaged page claiming a record larger than the disk
    /// (SQLITE_FULL from VACUUM INTO: rebuild checked the room it needs first);
    /// or the structure check still finding damage after the repairs (VACUUM
    /// INTO copies values the way a damaged page holds them; salvage inserts
    /// them again). Salvage runs once; if it meets the same, the rebuild stops.
    private static func salvageMayHelp(_ error: any Error) -> Bool {
        switch error {
        case let error as DatabaseError:
            return StructureCheck.isDamage(error) || error.resultCode == .SQLITE_CONSTRAINT
                || error.resultCode == .SQLITE_FULL
        case let error as CompanyFileError:
            if case .damaged = error { return true }
            return false
        case is Leftovers, is DamageReadWithoutError: return true
        default: return false
        }
    }

    private static func incomplete(_ path: String, _ leftovers: Leftovers) -> RebuildError {
        RebuildError.incomplete(
            path: path, left: leftovers.findings.count, first: leftovers.findings.first?.message ?? "")
    }

    /// Makes the working copy (or salvages into it), repairs it, and, unless a
    /// dry run, analyses, verifies and compacts it into `final`.
    ///
    /// The repairs first look among the native pass's suspects alone and
    /// commit to the working copy (scratch until its final copy is installed),
    /// so that the check after them runs on every core, beside the compaction.
    /// Should that check find anything repairable, the working copy is made
    /// again from the private copy and the repairs look at every row.
    /// `suspects` finds the native pass's suspects of the private copy (tests
    /// give fewer, to see the repairs run again). `file` is the file `original`
    /// names (when it is a symbolic link), beside which the work is done.
    /// - Throws: `Leftovers` when repairable findings remain; SQLite's errors.
    static func repairCopy(
        _ source: String, readable: Bool, salvage forced: Bool, working: String, final: String,
        original: String, file: String? = nil, options: RebuildOptions,
        progress: (@Sendable (RebuildProgress) -> Void)?,
        suspects: @escaping @Sendable (String) throws -> Suspects? = suspectsOfCopy
    ) throws -> Rebuilt {
        let salvaged = try workingCopy(
            of: source, readable: readable && !forced, at: working, original: original, now: options.now)
        let salvage = salvaged?.tables
        let lastGood = AtomicFile.temporaryPath(beside: file ?? original, purpose: "rebuild-snapshot")
        defer { AtomicFile.removeDatabaseFiles(at: lastGood) }
        let damage = salvaged.map { salvaged in
            Self.damage(
                of: source, salvage: salvaged.tables, check: salvaged.check, into: working, original: original,
                options: options, lastGood: lastGood, progress: progress)
        }
        func attempt(suspects: (@Sendable () throws -> Suspects?)?, salvaged: Bool) throws -> (
            Repaired, remaining: [Finding]
        ) {
            let attempt = try repairWorkingCopy(
                working, suspects: suspects, salvaged: salvaged, damage: salvaged ? damage : nil,
                options: options, progress: progress)
            defer { try? attempt.queue.close() }
            return (
                attempt.repaired,
                try checkRepairs(attempt, working: working, final: final, options: options, progress: progress)
            )
        }
        let leadsTo: (@Sendable () throws -> Suspects?)? = salvage == nil ? { @Sendable in try suspects(source) } : nil
        var (repaired, remaining) = try attempt(suspects: leadsTo, salvaged: salvage != nil)
        if repaired.amongSuspects, remaining.contains(where: \.repairable) {
            // Rare: the suspects did not lead the repairs to every row they had to change.
            AtomicFile.removeDatabaseFiles(at: working)
            AtomicFile.removeDatabaseFiles(at: final)
            try PrivateCopy.copyBytes(of: source, to: working)
            (repaired, remaining) = try attempt(suspects: nil, salvaged: false)
        }
        let leftovers = remaining.filter(\.repairable)
        guard leftovers.isEmpty else { throw Leftovers(findings: leftovers) }
        return Rebuilt(salvage: salvage, repaired: repaired, remaining: options.dryRun ? [] : remaining)
    }

    /// Where the damage lay and the last clean snapshot to bring rows back
    /// from, looked for only when salvage could not bring back every row as it
    /// was (or read rows from damaged pages). Only a snapshot of the company
    /// whose row salvage read into `working` can be that snapshot; when the
    /// damage took that row, one its surviving transactions show holds these books.
    private static func damage(
        of source: String, salvage: [SalvagedTable], check: DamagedPages.Check?, into working: String,
        original: String, options: RebuildOptions, lastGood: String,
        progress: (@Sendable (RebuildProgress) -> Void)?
    ) -> Damage {
        // Salvage's own run of the integrity check, when it ran one.
        var pages = DamagedPages.rows(in: source, named: (check ?? DamagedPages.Check(path: source)).pagesNamed)
        // Rows salvage read from pages that may be free ones: in doubt as those are.
        for table in salvage where !table.damage.doubtedIDs.isEmpty {
            pages[table.table] = Array(Set(pages[table.table, default: []] + table.damage.doubtedIDs)).sorted()
        }
        let cut = (try? FileHeader.read(path: source))?.missingPages
        guard !salvage.allSatisfy(\.isWhole) || !pages.isEmpty || cut != nil else {
            return Damage(salvage: salvage, damagedPages: pages, copy: nil, notes: [], cutShortBy: cut)
        }
        progress?(RebuildProgress(phase: "Looking for the last clean snapshot"))
        let locations = options.snapshotLocations(beside: original)
        // The folder beside the file is the books' own disk; elsewhere, what this computer signed (or the user trusts).
        let beside = URL(fileURLWithPath: original).deletingLastPathComponent().path + "/backups"
        let search = LastGoodCopy.find(
            source: URL(fileURLWithPath: original).lastPathComponent, of: CompanyIdentity.read(path: working),
            survivors: working,
            doubtful: Set(
                (salvage.first { $0.table == "transactions" }?.damage.rebuiltIDs ?? []) + (pages["transactions"] ?? [])),
            in: locations, keys: options.keys,
            now: options.now, key: options.manifestKey,
            unsigned: options.trustUnsigned ? nil : [beside], destination: lastGood)
        return Damage(salvage: salvage, damagedPages: pages, copy: search.found, notes: search.notes, cutShortBy: cut)
    }

    /// The repairing connection and what it did.
    private struct Attempt {
        let queue: DatabaseQueue
        let repaired: Repaired
    }

    /// Rebuilds the working copy's indexes (unless salvage made it, without
    /// any) and repairs it: among the native pass's `suspects` of the private
    /// copy the working copy is a byte copy of, when given and there are some,
    /// else looking at every row.
    private static func repairWorkingCopy(
        _ working: String, suspects find: (@Sendable () throws -> Suspects?)?, salvaged: Bool,
        damage: Damage?, options: RebuildOptions,
        progress: (@Sendable (RebuildProgress) -> Void)?
    ) throws -> Attempt {
        progress?(RebuildProgress(phase: "Rebuilding the indexes and repairing"))
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        configuration.label = "ledger-rebuild"
        let queue = try DatabaseQueue(path: working, configuration: configuration)
        do {
            let repaired = try queue.writeWithoutTransaction { db in
                // The copy's indexes are the original's pages: rebuilt first, so
                // that the repairs read through sound ones. The working copy is
                // scratch until its final copy is made (and synced): no journal
                // to keep, nothing to sync. A REINDEX that fails leaves it to be
                // thrown away (salvage starts anew).
                func reindex() throws {
                    guard !salvaged else { return }
                    try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF")
                    try db.execute(sql: "REINDEX")
                }
                // At once: the indexes rebuilt, and the native pass over the
                // private copy the working copy was made from (the very rows).
                var found: Suspects?
                if let find {
                    found = try Worker<Suspects?>.run(
                        find,
                        during: { passing in
                            try reindex()
                            return try passing.wait().get()
                        })
                } else {
                    try reindex()
                }
                let schema = try StructureCheck.schema(db)
                return try repair(
                    db, now: options.now, salvaged: salvaged, suspects: schema.findings.isEmpty ? found : nil,
                    damage: damage)
            }
            return Attempt(queue: queue, repaired: repaired)
        } catch {
            try? queue.close()
            throw error
        }
    }

    /// Checks the repaired working copy: the structure (quick, since REINDEX
    /// made every index from its table's rows) and every logical check, on
    /// every core, with the repairing connection's sums when they are true to
    /// every row; and, unless a dry run, compacts it meanwhile into `final`
    /// (`VACUUM INTO`: the repairs left pages part-empty), the very content
    /// checked, copied by SQLite. A dry run whose repairs looked at every row
    /// needs no check. Returns every finding left.
    private static func checkRepairs(
        _ attempt: Attempt, working: String, final: String, options: RebuildOptions,
        progress: (@Sendable (RebuildProgress) -> Void)?
    ) throws -> [Finding] {
        let (queue, repaired) = (attempt.queue, attempt.repaired)
        guard !options.dryRun || repaired.amongSuspects else { return [] }
        progress?(
            RebuildProgress(
                phase: options.dryRun ? "Verifying the repaired copy" : "Verifying and compacting the rebuilt copy"))
        // Written back from the log, so that the structure check can take the copy table by table.
        try queue.writeWithoutTransaction { db in
            if !options.dryRun { try db.execute(sql: "PRAGMA analysis_limit = 1000; ANALYZE") }
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            // Past the repairs, the staging tables' pages: the native pass of the check needs the memory.
            try db.execute(sql: "PRAGMA temp.cache_size = -2048")
            // The staging tables of repairs among the suspects hold their sums alone: the check makes its own.
            for staging in Catalog.staging where !repaired.staged.contains(staging.sums) {
                try db.execute(sql: "DROP TABLE IF EXISTS \(staging.name)")
            }
        }
        let dryRun = options.dryRun
        let compact: @Sendable () throws -> Void = {
            guard !dryRun else { return }
            var configuration = Configuration()
            configuration.foreignKeysEnabled = false
            configuration.label = "ledger-rebuild-compact"
            let reader = try DatabaseQueue(path: working, configuration: configuration)
            defer { try? reader.close() }
            // VACUUM INTO fills an empty file: made private first, whatever the umask.
            try PrivateFile.create(at: final)
            try reader.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [final]) }
        }
        return try Worker<Void>.run(
            compact,
            during: { compacting in
                let checked = Result {
                    let access = ReadOnlyAccess(path: working)
                    defer { access.close() }
                    let structure = [try access.connect(), try access.connect()]
                    let reader = try access.connect()
                    return try queue.writeWithoutTransaction { db in
                        try Verifier.findings(
                            on: db, staged: repaired.staged, reader: reader, structure: structure, path: working)
                    }
                }
                try compacting.wait().get()
                return try checked.get()
            })
    }

    /// The native pass's suspects of the private copy; nil when the pass
    /// cannot judge it (then the repairs read every row).
    static func suspectsOfCopy(_ source: String) throws -> Suspects? {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        configuration.label = "ledger-rebuild-source"
        // SQLite's check of the copy may be reading it meanwhile.
        configuration.busyMode = .timeout(CompanyFile.busyTimeout)
        let queue = try DatabaseQueue(path: source, configuration: configuration)
        defer { try? queue.close() }
        return try queue.inDatabase { db in try Verifier.nativePass(db) }
    }

    /// Removes the hidden working files that rebuilds of `path` killed before
    /// they could clean up left beside it; each name carries its process id, so
    /// a running rebuild's files are left alone.
    static func removeLeftovers(of path: String) {
        AtomicFile.removeLeftovers(
            beside: path, purposes: ["rebuild-source", "rebuild-working", "rebuild-final", "rebuild-snapshot"])
    }

    /// Refuses a file another program has open, and folds a leftover WAL into
    /// the file (`PrivateCopy.settle`).
    static func settle(_ path: String, wait: TimeInterval) throws {
        guard try PrivateCopy.settle(path, wait: wait) else { throw RebuildError.inUse(path: path) }
    }

    /// Makes the working copy from the private copy: its pages as they are
    /// when the schema has every table and column, else salvage into a fresh
    /// file. The copy is SQLite's consistent one (the backup API, checkpointed);
    /// REINDEX then makes every index from its table's rows and the final
    /// `VACUUM INTO` compacts, so a page SQLite cannot read surfaces there, in
    /// the repairs or in the final structure check, and sends the rebuild to
    /// salvage, as docs/rebuild.md says.
    /// - Returns: the salvage report, or nil when no salvage was needed.
    static func workingCopy(
        of source: String, readable: Bool, at working: String, original: String,
        now: Date
    ) throws -> Salvage.Salvaged? {
        if readable {
            do {
                var configuration = Configuration()
                configuration.foreignKeysEnabled = false
                configuration.label = "ledger-rebuild-source"
                // SQLite's check of the copy may be reading it meanwhile.
                configuration.busyMode = .timeout(CompanyFile.busyTimeout)
                let queue = try DatabaseQueue(path: source, configuration: configuration)
                let complete = try queue.inDatabase { db -> Bool in
                    let schema = try StructureCheck.schema(db)
                    return Schema.tableNames.allSatisfy { schema.has.contains(.table($0)) }
                }
                try queue.close()
                if complete {
                    try PrivateCopy.copyBytes(of: source, to: working)
                    return nil
                }
            } catch let error as DatabaseError where StructureCheck.isDamage(error) {
                AtomicFile.removeDatabaseFiles(at: working)
            }
        }
        return try Salvage.run(from: source, into: working, original: original, now: now)
    }

    /// What the repairs did to the working copy.
    struct Repaired {
        let runID: Int64
        let groups: [RepairGroup]
        /// Schema objects made again ("index NAME").
        let schema: [String]
        /// Shared sums on the repairing connection still true to every row of the file.
        let staged: Set<SharedSums>
        /// The repairs looked among the native pass's suspects alone: the
        /// check after them must find nothing repairable, or they run again
        /// looking at every row.
        let amongSuspects: Bool
        /// After a salvage: what came back from where, and what did not.
        var damage: DamageOutcome? = nil
        /// What Rebuild Suspense holds, when this run booked to it.
        var suspense: SuspenseReview? = nil

        var changed: Bool { !groups.isEmpty || !schema.isEmpty }
    }

    /// Runs every repair in one write transaction, with the run's
    /// `maintenance_runs` row, and commits it to the working copy (scratch,
    /// on a dry run too).
    ///
    /// With the native pass's `suspects` of the copy, the repairs look at
    /// those rows alone (and at every row a repair changes, and what it leads
    /// to); else at every row.
    static func repair(_ db: Database, now: Date, salvaged: Bool, suspects: Suspects?, damage: Damage? = nil) throws
        -> Repaired
    {
        // Staging tables spill to a temporary file, so memory stays bounded.
        try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA temp_store = FILE; PRAGMA temp.cache_size = -16384")
        // The last clean snapshot is read beside the working copy (never written).
        if let copy = damage?.copy { try db.execute(sql: "ATTACH DATABASE ? AS snap", arguments: [copy.path]) }
        defer { if damage?.copy != nil { try? db.execute(sql: "DETACH DATABASE snap") } }
        try db.execute(sql: "BEGIN IMMEDIATE")
        do {
            // After the ids of the runs the snapshot may bring back, and of every run a repair
            // action names (a run whose own row the damage took): this run's actions are its own
            // alone. SQLite picks one when the ids run out.
            let snapshotRuns =
                damage?.copy == nil
                ? ""
                : """
                UNION ALL SELECT MAX(id) FROM snap.maintenance_runs WHERE typeof(id) = 'integer'
                UNION ALL SELECT MAX(run_id) FROM snap.repair_actions WHERE typeof(run_id) = 'integer'
                """
            let last = try Int64.fetchOne(
                db,
                sql: """
                    SELECT MAX(m) FROM (SELECT MAX(id) AS m FROM main.maintenance_runs
                                        UNION ALL SELECT MAX(run_id) FROM main.repair_actions WHERE typeof(run_id) = 'integer'
                                        \(snapshotRuns))
                    """)
            if let last, last < Int64.max {
                try db.execute(
                    sql: "INSERT INTO maintenance_runs (id, command, started_at) VALUES (?, 'rebuild', ?)",
                    arguments: [last + 1, Timestamp.string(from: now)])
            } else {
                try db.execute(
                    sql: "INSERT INTO maintenance_runs (command, started_at) VALUES ('rebuild', ?)",
                    arguments: [Timestamp.string(from: now)])
            }
            let runID = db.lastInsertedRowID
            try suspects?.store(in: db)
            let (context, schema, outcome) = try runRepairs(
                db, runID: runID, now: now, salvaged: salvaged,
                onlySuspects: suspects != nil, damage: damage)
            let groups = try summarize(db, runID: runID)
            let suspense = try review(db, runID: runID)
            try db.execute(sql: "COMMIT")
            return Repaired(
                runID: runID, groups: groups, schema: schema, staged: suspects == nil ? context.fresh : [],
                amongSuspects: suspects != nil, damage: outcome, suspense: suspense)
        } catch {
            try? db.execute(sql: "ROLLBACK")
            throw error
        }
    }

    /// The repairs in their order, then the indexes the copy lacks.
    private static func runRepairs(
        _ db: Database, runID: Int64, now: Date, salvaged: Bool, onlySuspects: Bool,
        damage: Damage?
    ) throws -> (context: RepairContext, schema: [String], outcome: DamageOutcome?) {
        let context = try RepairContext(db: db, runID: runID, now: now, onlySuspects: onlySuspects)
        let recovery = try damage.map { damage in
            try DamageRecovery(
                context: context, salvage: damage.salvage, damagedPages: damage.damagedPages, copy: damage.copy)
        }
        // Salvage's note of what the indexes said is the recovery's to read (it has); never part of the books.
        try db.execute(sql: "DROP TABLE IF EXISTS main.\(Salvage.indexValues)")
        try recovery?.restore()
        var kept: [KeptBalance] = []
        var balancesWeighed = false
        for repair in Repairs.ordered {
            // docs/rebuild.md: cached balances are evidence, weighed once every line that can be is back.
            if let recovery, !balancesWeighed,
                repair.code == .accountBalanceMismatch || repair.code == .partyBalanceMismatch
            {
                balancesWeighed = true
                if try recovery.splitsLostBeyondRecovery() {
                    kept = try recovery.keepBalances()
                } else if try recovery.splitsBroughtBack() || recovery.splitsInDoubt() {
                    // Lines set back to the snapshot, or read from pages in doubt, that the
                    // balances show were edited since (or were never live).
                    kept = try recovery.keepBalances(onlyAffected: true)
                }
            }
            try repair.run(context)
            try context.grow()
        }
        var schema: [String] = []
        // Salvage makes a fresh file without indexes; they are its to build, not a repair.
        for index in Schema.indexes where try !context.hasIndex(index.name) {
            try db.execute(sql: index.sql)
            if !salvaged { schema.append("index \(index.name)") }
        }
        guard let recovery, let damage else { return (context, schema, nil) }
        var outcome = DamageOutcome(
            cutShortBy: damage.cutShortBy, snapshot: damage.copy?.snapshot.path,
            snapshotTakenAt: damage.copy?.snapshot.createdAt, restored: recovery.restored,
            replaced: recovery.replaced, changedSince: recovery.changedSince, notes: damage.notes)
        for table in Schema.tableNames {
            let loss = try recovery.count(table)
            outcome.loss.append(
                TableLoss(
                    table: table, lost: loss.rows, exact: loss.exact, why: loss.why,
                    fromSnapshot: recovery.restored[table] ?? 0, fromIndexes: try recovery.stillFromIndexes(table)))
        }
        outcome.keptBalances = kept
        outcome.replacedValues = recovery.replacedValues
        outcome.changedValues = recovery.changedValues
        outcome.perhapsChanged = recovery.perhapsChanged
        outcome.laterCommands = recovery.laterCommands
        outcome.laterReconciliations = recovery.laterReconciliations
        outcome.restoredUnlisted = recovery.restoredUnlisted
        outcome.unconfirmed = try recovery.unconfirmed()
        outcome.snapshotWouldBringBack = try recovery.snapshotRowsMissing()
        return (context, schema, outcome)
    }

    /// The run's repair actions grouped by code, in the order the repairs ran,
    /// with the first few of each.
    static func summarize(_ db: Database, runID: Int64, examples: Int = 5) throws -> [RepairGroup] {
        let counts = try Row.fetchAll(
            db,
            sql: """
                SELECT code, COUNT(*) AS count, MIN(id) AS first FROM repair_actions WHERE run_id = ? GROUP BY code ORDER BY first
                """, arguments: [runID])
        return try counts.compactMap { row in
            guard let code = row.text("code").flatMap(FindingCode.init(rawValue:)) else { return nil }
            let actions = try MaintenanceLog.actions(db, runID: runID, code: code, limit: examples)
            return RepairGroup(code: code, count: Int(row.integer("count") ?? 0), examples: actions)
        }
    }

    /// What Rebuild Suspense holds when run `runID` booked a line to it (a
    /// line added there, or one moved there from an account that no longer
    /// exists); nil otherwise.
    static func review(_ db: Database, runID: Int64, largest: Int = 10) throws -> SuspenseReview? {
        guard
            let account = try Int64.fetchOne(
                db,
                sql: """
                    SELECT id FROM accounts WHERE \(RepairContext.isSuspense)
                      AND EXISTS (SELECT 1 FROM repair_actions r WHERE r.run_id = ? AND r.table_name = 'splits' AND r.action IN ('insert', 'update')
                                  AND json_extract(r.after, '$.account_id') = accounts.id
                                  AND json_extract(r.before, '$.account_id') IS NOT accounts.id)
                    ORDER BY id LIMIT 1
                    """, arguments: [runID])
        else { return nil }
        let valid = ValueRule.summable("amount")
        let totals = try Row.fetchOne(
            db,
            sql: """
                SELECT COALESCE(SUM(\(valid)), 0) AS balance, COUNT(DISTINCT transaction_id) AS held FROM splits WHERE account_id = ?
                """, arguments: [account])
        let describer = TransactionDescriber(db: db, hasSplits: true)
        let held = try Row.fetchAll(
            db,
            sql: """
                SELECT transaction_id AS id, SUM(\(valid)) AS amount FROM splits
                WHERE account_id = ? AND typeof(transaction_id) = 'integer'
                GROUP BY transaction_id HAVING SUM(\(valid)) != 0 ORDER BY ABS(SUM(\(valid))) DESC, transaction_id LIMIT ?
                """, arguments: [account, largest]
        ).compactMap { row -> SuspenseReview.Held? in
            guard let id = row.integer("id"), let amount = row.integer("amount") else { return nil }
            return SuspenseReview.Held(transaction: id, described: try describer.transaction(id), amount: amount)
        }
        return SuspenseReview(
            account: account, balance: totals?.integer("balance") ?? 0,
            transactionCount: Int(totals?.integer("held") ?? 0), largest: held)
    }

    static func finishRecord(at path: String, runID: Int64, outcome: String, now: Date, summary: [String: Any]) throws {
        let json = String(
            decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self)
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(
                sql: "UPDATE maintenance_runs SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?",
                arguments: [Timestamp.string(from: now), outcome, json, runID])
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        try queue.close()
    }

    /// Renames `final` over `path` while no other program has `path` open and
    /// nothing has changed it since the rebuild began; errors name `shown`.
    static func replace(_ path: String, with final: String, identity: FileIdentity, shown: String? = nil) throws {
        do {
            try AtomicFile.replace(path, with: final, database: true, unchangedSince: identity)
        } catch AtomicFile.Refusal.inUse {
            throw RebuildError.inUse(path: shown ?? path)
        } catch AtomicFile.Refusal.changedMeanwhile {
            throw RebuildError.changedMeanwhile(path: shown ?? path)
        } catch let error as SystemCallError {
            throw RebuildError.cannotWrite(path: shown ?? path, reason: error.reason)
        }
    }
}
