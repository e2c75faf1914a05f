import Foundation
import GRDB

/// Verify Data (docs/findings.md): every check of the catalog, on read-only connections,
/// never changing the file.
public enum Verifier {
    /// How the logical checks find their rows.
    enum Engine: Sendable {
        /// The native pass clears the rows that surely pass; the catalog's SQL
        /// judges the rest (the default).
        case native
        /// The catalog's SQL judges every row: the reference the native pass's
        /// findings are held equal to in the tests.
        case sql
    }

    /// Verifies the company file at `path`.
    ///
    /// The structure check (`integrity_check`, or `quick_check` when `quick`)
    /// runs table by table on two connections; beside it, the native pass reads
    /// the books once and the catalog's SQL judges the rows it could not clear,
    /// in two lanes on two more connections.
    /// - Throws: `CompanyFileError` when the file cannot be verified at all
    ///   (missing, not a company file, newer format, locked). A damaged company
    ///   file is not an error: it yields `sqlite-corruption` findings.
    public static func verify(
        path: String, quick: Bool = false,
        progress: (@Sendable (VerifyProgress) -> Void)? = nil
    ) throws -> VerifyReport {
        try verify(path: path, quick: quick, engine: .native, progress: progress)
    }

    static func verify(
        path: String, quick: Bool = false, engine: Engine,
        progress: (@Sendable (VerifyProgress) -> Void)? = nil
    ) throws -> VerifyReport {
        let started = Date()
        let header = try FileHeader.read(path: path)
        do {
            let report = try verify(
                path: path, header: header, quick: quick, engine: engine, started: started, progress: progress)
            guard header.isCompanyFile, let cut = cutShort(header) else { return report }
            // SQLite may read every page a query reaches and never notice the end is missing.
            return VerifyReport(
                file: report.file, formatVersion: report.formatVersion, ok: false, counts: report.counts,
                company: report.company, findings: [cut] + report.findings, elapsedMS: report.elapsedMS)
        } catch CompanyFileError.damaged(_, let detail) where header.isCompanyFile {
            // SQLite cannot even open it, yet it says it is ours: damage for rebuild to salvage.
            guard header.userVersion <= Schema.formatVersion else {
                throw CompanyFileError.newerFormat(path: path, version: header.userVersion)
            }
            let finding = Finding(
                code: .sqliteCorruption, table: nil, rowID: nil,
                message:
                    "SQLite cannot read the file's structure (\(detail)); ledger rebuild salvages every readable row")
            return VerifyReport(
                file: path, formatVersion: header.userVersion, ok: false, counts: [:],
                findings: (cutShort(header).map { [$0] } ?? []) + [finding],
                elapsedMS: Int(Date().timeIntervalSince(started) * 1000))
        }
    }

    /// The finding of a file shorter than its header says (docs/rebuild.md: verify
    /// tells a cut-short file too), or nil.
    static func cutShort(_ header: FileHeader) -> Finding? {
        guard let missing = header.missingPages, let expected = header.headerPageCount else { return nil }
        return Finding(
            code: .sqliteCorruption, table: nil, rowID: nil,
            message:
                "The file is cut short by \(missing) pages: its header says \(expected) pages of \(header.pageSize) bytes, and it ends after \(expected - missing); ledger rebuild salvages every readable row"
        )
    }

    private static func verify(
        path: String, header: FileHeader, quick: Bool, engine: Engine, started: Date,
        progress: (@Sendable (VerifyProgress) -> Void)?
    ) throws -> VerifyReport {
        let access = ReadOnlyAccess(path: path)
        defer { access.close() }

        var logical = try access.connect()
        let version: Int
        do {
            version = try identify(logical, header: header, path: path)
        } catch let error as DatabaseError where access.switchToImmutableIfUseful(after: error) {
            logical = try access.connect()
            version = try identify(logical, header: header, path: path)
        }

        let structure = [try access.connect(), try access.connect()]
        let secondLane = try access.connect()
        // The full check's index agreement takes the rows' sides from the native pass.
        let sides = RowSides()
        return try Worker<[Finding]>.run(
            {
                try StructureCheck.integrity(
                    path: path, connections: structure, quick: quick, sides: quick ? nil : sides)
            },
            during: { structural in
                defer { sides.finish() }
                // The schema decides which checks can run; then the checks run in two
                // lanes on two more connections, beside the structure check.
                var findings: [Finding] = []
                let available: Set<Need>
                do {
                    let schema = try logical.inDatabase(StructureCheck.schema)
                    findings += schema.findings
                    available = schema.has
                } catch let error as DatabaseError where StructureCheck.isDamage(error) {
                    findings.append(LogicalRun.damageFinding(nil, "the list of tables", error))
                    available = []
                }
                let suspects =
                    engine == .native && findings.isEmpty
                    ? try logical.inDatabase { try nativePass($0, sides: quick ? nil : sides) } : nil
                sides.finish()
                let lanes = WorkUnit.lanes()
                let counter = ProgressCounter(
                    total: lanes.first.count + lanes.second.count + lanes.shared.count, report: progress)
                let shared = SharedUnits(lanes.shared)
                var (run, other) = try inTwoLanes(
                    lane(
                        lanes.first, shared: shared, on: logical, available: available, suspects: suspects,
                        counter: counter),
                    lane(
                        lanes.second, shared: shared, on: secondLane, available: available, suspects: suspects,
                        counter: counter))
                let structuralFindings = try structural.wait().get()
                if suspects != nil, !structuralFindings.isEmpty {
                    // On damaged pages what SQLite can read depends on the way a query
                    // walks the file (a table, or an index), so the rows the native
                    // pass read need not be those the SQL meets: the SQL reads them all.
                    let again = SharedUnits(lanes.shared)
                    (run, other) = try inTwoLanes(
                        lane(
                            lanes.first, shared: again, on: try access.connect(), available: available, suspects: nil,
                            counter: counter),
                        lane(
                            lanes.second, shared: again, on: try access.connect(), available: available, suspects: nil,
                            counter: counter))
                }
                findings += run.findings + other.findings + structuralFindings
                findings = inCatalogOrder(findings)
                var report = VerifyReport(
                    file: path, formatVersion: version, ok: findings.isEmpty,
                    counts: run.counts.merging(other.counts) { first, _ in first },
                    company: run.company ?? other.company,
                    findings: findings, elapsedMS: Int(Date().timeIntervalSince(started) * 1000))
                report.splitTotal = structuralFindings.isEmpty ? suspects?.splitTotal : nil
                report.accountTotals = structuralFindings.isEmpty ? suspects?.accountTotals : nil
                return report
            })
    }

    /// The native pass over a file whose schema is whole, or nil when every row
    /// goes to the SQL: the columns are typed otherwise, the pass cannot vouch
    /// for its sums, or a table cannot be read (the SQL then says which and how).
    static func nativePass(_ db: Database, sides: RowSides? = nil) throws -> Suspects? {
        do {
            guard try NativePass.typesAreStandard(db) else { return nil }
            return try NativePass.suspects(db, sides: sides)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
        {
            throw error
        } catch is DatabaseError {
            return nil
        }
    }

    /// Runs two lanes side by side, each on a thread of its own (a lane lowers
    /// its thread's priority, which must not stay with the caller's), and
    /// returns both, having waited for both.
    private static func inTwoLanes(
        _ first: @escaping @Sendable () throws -> LogicalRun,
        _ second: @escaping @Sendable () throws -> LogicalRun
    ) throws -> (LogicalRun, LogicalRun) {
        try Worker<LogicalRun>.run(first) { one in
            try Worker<LogicalRun>.run(second) { other in
                let mine = one.wait()
                let theirs = other.wait()
                return (try mine.get(), try theirs.get())
            }
        }
    }

    /// Each finding once, in catalog order, then by table and row.
    static func inCatalogOrder(_ findings: [Finding]) -> [Finding] {
        // Every code is in `allCases`: the default is never used.
        let order = Dictionary(uniqueKeysWithValues: FindingCode.allCases.enumerated().map { ($1, $0) })
        return Array(Set(findings)).sorted {
            (order[$0.code, default: 0], $0.table ?? "", $0.rowID ?? -1, $0.message)
                < (order[$1.code, default: 0], $1.table ?? "", $1.rowID ?? -1, $1.message)
        }
    }

    /// Every check of the catalog on `db`, a connection that already holds the
    /// shared sums `staged` true to the file's rows (rebuild's, after its
    /// repairs), so they are not summed again. The native pass reads the books
    /// on `db` first; the checks that read no staging table are shared with a
    /// second lane on `reader`, and the structure check (quick) runs meanwhile
    /// on `structure`, table by table: more connections to the file at `path`.
    static func findings(
        on db: Database, staged: Set<SharedSums>, reader: DatabaseQueue,
        structure: [DatabaseQueue], path: String
    ) throws -> [Finding] {
        try Worker<[Finding]>.run(
            {
                try StructureCheck.integrity(path: path, connections: structure, quick: true)
            },
            during: { structural in
                let schema = try StructureCheck.schema(db)
                let available = schema.has.union(staged.map(Need.sums))
                let suspects = schema.findings.isEmpty ? try nativePass(db) : nil
                let lanes = WorkUnit.lanes()
                let own = (lanes.first + lanes.second).filter { unit in
                    guard case .staging(let index) = unit else { return true }
                    return !staged.contains(Catalog.staging[index].sums)
                }
                let shared = SharedUnits(lanes.shared)
                let counter = ProgressCounter(total: own.count + lanes.shared.count, report: nil)
                let second = try Worker<LogicalRun>.run(
                    lane(
                        [], shared: shared, on: reader, available: schema.has,
                        suspects: suspects, counter: counter)
                ) { other in
                    var run = LogicalRun(available: available, suspects: suspects, progress: counter)
                    let ran = Result { try run.perform(own, shared: shared, db: db) }
                    let second = try other.wait().get()
                    try ran.get()
                    return (run, second)
                }
                return inCatalogOrder(
                    schema.findings + second.0.findings + second.1.findings + (try structural.wait().get()))
            })
    }

    /// One lane of logical checks, to run on its own thread.
    ///
    /// The lanes yield to the structure check: it is one long statement that
    /// cannot be split, so the run ends when it does if it never waits for a core.
    private static func lane(
        _ units: [WorkUnit], shared: SharedUnits, on queue: DatabaseQueue, available: Set<Need>,
        suspects: Suspects?, counter: ProgressCounter
    ) -> @Sendable () throws -> LogicalRun {
        {
            // On Linux the nice value is per thread: this lowers only the lane's own.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            var run = LogicalRun(available: available, suspects: suspects, progress: counter)
            try queue.inDatabase { db in try run.perform(units, shared: shared, db: db) }
            return run
        }
    }

    /// Checks that the file is a company file of a format this build reads, and
    /// returns its format version. A damaged file whose header says `LEDG` passes.
    private static func identify(_ queue: DatabaseQueue, header: FileHeader, path: String) throws -> Int {
        do {
            let (application, version) = try queue.inDatabase { db in
                (
                    try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                    try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                )
            }
            guard application == Schema.applicationID else { throw CompanyFileError.notCompanyFile(path: path) }
            guard version <= Schema.formatVersion else {
                throw CompanyFileError.newerFormat(path: path, version: version)
            }
            guard version == Schema.formatVersion else {
                throw CompanyFileError.olderFormat(path: path, version: version)
            }
            return version
        } catch let error as DatabaseError where StructureCheck.isDamage(error) {
            guard header.isCompanyFile else { throw CompanyFileError.notSQLite(path: path) }
            guard header.userVersion <= Schema.formatVersion else {
                throw CompanyFileError.newerFormat(path: path, version: header.userVersion)
            }
            return header.userVersion
        } catch let error as DatabaseError where CompanyFileError.isLock(error) {
            throw CompanyFileError.locked(path: path)
        }
    }
}
