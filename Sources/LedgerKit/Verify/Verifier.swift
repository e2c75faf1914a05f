import Foundation
import GRDB

/// How far a verification has come.
public struct VerifyProgress: Sendable {
    /// "Checking the file's structure", "Checking the books".
    public let phase: String
    /// 0…1 of the logical checks done.
    public let fraction: Double
}

/// What `ledger verify` found: SPEC §2's JSON object.
public struct VerifyReport: Codable, Sendable {
    public let file: String
    public let formatVersion: Int
    public let ok: Bool
    /// Rows of accounts, transactions and splits (absent for an unreadable table).
    public let counts: [String: Int]
    /// The company's name, as its file says (absent when it cannot be read).
    public var company: String?
    /// In catalog order, then by table and row.
    public let findings: [Finding]
    public let elapsedMS: Int
    /// The sum of every split amount that is an integer within the limit, when
    /// the native pass read a file whose structure is sound (a snapshot's
    /// `split_sum`); not part of verify's JSON.
    var splitTotal: Int64?

    enum CodingKeys: String, CodingKey {
        case file, company, formatVersion = "format_version", ok, counts, findings, elapsedMS = "elapsed_ms"
    }

    public var errorCount: Int { findings.filter { $0.severity == .error }.count }
    public var warningCount: Int { findings.filter { $0.severity == .warning }.count }
    public var repairableCount: Int { findings.filter(\.repairable).count }
}

/// Verify Data (SPEC §2): every check of the catalog, on read-only connections,
/// never changing the file.
public enum Verifier {
    /// How the logical checks find their rows.
    enum Engine: Sendable {
        /// The native pass clears the rows that surely pass; the catalog's SQL
        /// judges the rest (the default).
        case native
        /// The catalog's SQL judges every row: the reference the native engine's
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
    public static func verify(path: String, quick: Bool = false,
                              progress: (@Sendable (VerifyProgress) -> Void)? = nil) throws -> VerifyReport {
        try verify(path: path, quick: quick, engine: .native, progress: progress)
    }

    static func verify(path: String, quick: Bool = false, engine: Engine,
                       progress: (@Sendable (VerifyProgress) -> Void)? = nil) throws -> VerifyReport {
        let started = Date()
        let header = try FileHeader.read(path: path)
        do {
            let report = try verify(path: path, header: header, quick: quick, engine: engine, started: started, progress: progress)
            guard header.isCompanyFile, let cut = cutShort(header) else { return report }
            // SQLite may read every page a query reaches and never notice the end is missing.
            return VerifyReport(file: report.file, formatVersion: report.formatVersion, ok: false, counts: report.counts,
                                company: report.company, findings: [cut] + report.findings, elapsedMS: report.elapsedMS)
        } catch CompanyFileError.damaged(_, let detail) where header.isCompanyFile {
            // SQLite cannot even open it, yet it says it is ours: damage for rebuild to salvage.
            guard header.userVersion <= Schema.formatVersion else {
                throw CompanyFileError.newerFormat(path: path, version: header.userVersion)
            }
            let finding = Finding(code: .sqliteCorruption, table: nil, rowID: nil,
                                  message: "SQLite cannot read the file's structure (\(detail)); ledger rebuild salvages every readable row")
            return VerifyReport(file: path, formatVersion: header.userVersion, ok: false, counts: [:],
                                findings: (cutShort(header).map { [$0] } ?? []) + [finding],
                                elapsedMS: Int(Date().timeIntervalSince(started) * 1000))
        }
    }

    /// The finding of a file shorter than its header says (SPEC §3: verify
    /// tells a cut-short file too), or nil.
    static func cutShort(_ header: FileHeader) -> Finding? {
        guard let missing = header.missingPages, let expected = header.headerPageCount else { return nil }
        return Finding(code: .sqliteCorruption, table: nil, rowID: nil,
                       message: "The file is cut short by \(missing) pages: its header says \(expected) pages of \(header.pageSize) bytes, and it ends after \(expected - missing); ledger rebuild salvages every readable row")
    }

    private static func verify(path: String, header: FileHeader, quick: Bool, engine: Engine, started: Date,
                               progress: (@Sendable (VerifyProgress) -> Void)?) throws -> VerifyReport {
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

        let structure = [try access.connect(), try access.connect()], secondLane = try access.connect()
        return try Worker<[Finding]>.run({
            try StructureCheck.integrity(path: path, connections: structure, quick: quick)
        }, during: { structural in
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
            let suspects = engine == .native && findings.isEmpty ? try logical.inDatabase(nativePass) : nil
            let lanes = WorkUnit.lanes()
            let counter = ProgressCounter(total: lanes.first.count + lanes.second.count + lanes.shared.count, report: progress)
            let shared = SharedUnits(lanes.shared)
            var (run, other) = try inTwoLanes(
                lane(lanes.first, shared: shared, on: logical, available: available, suspects: suspects, counter: counter),
                lane(lanes.second, shared: shared, on: secondLane, available: available, suspects: suspects, counter: counter))
            let structuralFindings = try structural.wait().get()
            if suspects != nil, !structuralFindings.isEmpty {
                // On damaged pages what SQLite can read depends on the way a query
                // walks the file (a table, or an index), so the rows the native
                // pass read need not be those the SQL meets: the SQL reads them all.
                let again = SharedUnits(lanes.shared)
                (run, other) = try inTwoLanes(
                    lane(lanes.first, shared: again, on: try access.connect(), available: available, suspects: nil, counter: counter),
                    lane(lanes.second, shared: again, on: try access.connect(), available: available, suspects: nil, counter: counter))
            }
            findings += run.findings + other.findings + structuralFindings
            findings = inCatalogOrder(findings)
            var report = VerifyReport(file: path, formatVersion: version, ok: findings.isEmpty,
                                      counts: run.counts.merging(other.counts) { first, _ in first }, company: run.company ?? other.company,
                                      findings: findings, elapsedMS: Int(Date().timeIntervalSince(started) * 1000))
            report.splitTotal = structuralFindings.isEmpty ? suspects?.splitTotal : nil
            return report
        })
    }

    /// The native pass over a file whose schema is whole, or nil when every row
    /// goes to the SQL: the columns are typed otherwise, the pass cannot vouch
    /// for its sums, or a table cannot be read (the SQL then says which and how).
    static func nativePass(_ db: Database) throws -> Suspects? {
        do {
            guard try BookPass.typesAreStandard(db) else { return nil }
            return try BookPass.suspects(db)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            throw error
        } catch is DatabaseError {
            return nil
        }
    }

    /// Runs two lanes side by side, each on a thread of its own (a lane lowers
    /// its thread's priority, which must not stay with the caller's), and
    /// returns both, having waited for both.
    private static func inTwoLanes(_ first: @escaping @Sendable () throws -> LogicalRun,
                                   _ second: @escaping @Sendable () throws -> LogicalRun) throws -> (LogicalRun, LogicalRun) {
        try Worker<LogicalRun>.run(first) { one in
            try Worker<LogicalRun>.run(second) { other in
                let mine = one.wait(), theirs = other.wait()
                return (try mine.get(), try theirs.get())
            }
        }
    }

    /// Each finding once, in catalog order, then by table and row.
    static func inCatalogOrder(_ findings: [Finding]) -> [Finding] {
        let order = Dictionary(uniqueKeysWithValues: FindingCode.allCases.enumerated().map { ($1, $0) })
        return Array(Set(findings)).sorted {
            (order[$0.code]!, $0.table ?? "", $0.rowID ?? -1, $0.message) < (order[$1.code]!, $1.table ?? "", $1.rowID ?? -1, $1.message)
        }
    }

    /// Every check of the catalog on `db`, a connection that already holds the
    /// shared sums `staged` true to the file's rows (rebuild's, after its
    /// repairs), so they are not summed again. The native pass reads the books
    /// on `db` first; the checks that read no staging table are shared with a
    /// second lane on `reader`, and the structure check (quick) runs meanwhile
    /// on `structure`, table by table: more connections to the file at `path`.
    static func findings(on db: Database, staged: Set<SharedSums>, reader: DatabaseQueue,
                         structure: [DatabaseQueue], path: String) throws -> [Finding] {
        try Worker<[Finding]>.run({
            try StructureCheck.integrity(path: path, connections: structure, quick: true)
        }, during: { structural in
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
            let second = try Worker<LogicalRun>.run(lane([], shared: shared, on: reader, available: schema.has,
                                                         suspects: suspects, counter: counter)) { other in
                var run = LogicalRun(available: available, suspects: suspects, progress: counter)
                let ran = Result { try run.perform(own, shared: shared, db: db) }
                let second = try other.wait().get()
                try ran.get()
                return (run, second)
            }
            return inCatalogOrder(schema.findings + second.0.findings + second.1.findings + (try structural.wait().get()))
        })
    }

    /// One lane of logical checks, to run on its own thread.
    ///
    /// The lanes yield to the structure check: it is one long statement that
    /// cannot be split, so the run ends when it does if it never waits for a core.
    private static func lane(_ units: [WorkUnit], shared: SharedUnits, on queue: DatabaseQueue, available: Set<Need>,
                             suspects: Suspects?, counter: ProgressCounter) -> @Sendable () throws -> LogicalRun {
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
                (try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0, try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0)
            }
            guard application == Schema.applicationID else { throw CompanyFileError.notCompanyFile(path: path) }
            guard version <= Schema.formatVersion else { throw CompanyFileError.newerFormat(path: path, version: version) }
            guard version == Schema.formatVersion else { throw CompanyFileError.olderFormat(path: path, version: version) }
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

/// A piece of the logical checks, run on one connection.
enum WorkUnit: Sendable {
    case staging(Int)
    case scan(String)
    case query(Int)
    case counts

    private static let secondLaneStaging = SharedSums.byAccountPartyStatement

    /// Splits the units between two lanes. Temporary tables belong to one
    /// connection, so a staging table and every unit that reads it share a lane
    /// (v_grp in the second, the others in the first); the units that read no
    /// staging table go to a shared queue that whichever lane is free takes from,
    /// biggest tables first, so both lanes end together.
    static func lanes() -> (first: [WorkUnit], second: [WorkUnit], shared: [WorkUnit]) {
        var first: [WorkUnit] = [], second: [WorkUnit] = [], shared: [WorkUnit] = []
        func place(_ unit: WorkUnit, staging: [SharedSums]) {
            if staging.isEmpty { shared.append(unit) } else if staging.contains(secondLaneStaging) { second.append(unit) } else { first.append(unit) }
        }
        for (index, staging) in Catalog.staging.enumerated() { place(.staging(index), staging: [staging.sums]) }
        let biggestFirst = ["splits", "bank_feed", "applications", "document_lines"]
        let scans = Catalog.scans.sorted {
            (biggestFirst.firstIndex(of: $0.table) ?? biggestFirst.count) < (biggestFirst.firstIndex(of: $1.table) ?? biggestFirst.count)
        }
        for scan in scans {
            var staging: [SharedSums] = []
            for check in Catalog.checks {
                guard case .condition(let table, let uses, _) = check.source, table == scan.table else { continue }
                staging += check.needs.compactMap(\.sharedSums)
                staging += uses.flatMap { scan.joins[$0]?.needs ?? [] }.compactMap(\.sharedSums)
            }
            place(.scan(scan.table), staging: staging)
        }
        for (index, check) in Catalog.checks.enumerated() {
            guard case .query = check.source else { continue }
            place(.query(index), staging: check.needs.compactMap(\.sharedSums))
        }
        shared.append(.counts)
        return (first, second, shared)
    }
}

/// Units that either lane may run, taken one at a time.
final class SharedUnits: @unchecked Sendable {
    // `units` is guarded by `lock`.
    private let lock = NSLock()
    private var units: [WorkUnit]

    init(_ units: [WorkUnit]) {
        self.units = units.reversed()
    }

    func next() -> WorkUnit? {
        lock.lock()
        defer { lock.unlock() }
        return units.popLast()
    }
}

/// Reports the share of work units done, from either lane.
final class ProgressCounter: @unchecked Sendable {
    // `done` is guarded by `lock`; the callback is called with the lock held, one at a time.
    private let lock = NSLock()
    private let total: Int
    private var done = 0
    private let report: (@Sendable (VerifyProgress) -> Void)?

    init(total: Int, report: (@Sendable (VerifyProgress) -> Void)?) {
        self.total = max(total, 1)
        self.report = report
    }

    func step() {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        report?(VerifyProgress(phase: "Checking the file's structure and the books", fraction: Double(done) / Double(total)))
    }
}

/// The logical checks of one lane, on one connection.
struct LogicalRun: Sendable {
    private(set) var available: Set<Need>
    /// The rows left to the SQL by the native pass; nil when the SQL reads every row.
    let suspects: Suspects?
    let progress: ProgressCounter
    private(set) var findings: [Finding] = []
    private(set) var counts: [String: Int] = [:]
    private(set) var company: String?
    private var damagedTables: Set<String> = []

    init(available: Set<Need>, suspects: Suspects?, progress: ProgressCounter) {
        self.available = available
        self.suspects = suspects
        self.progress = progress
    }

    /// Runs this lane's own units, then takes shared ones until none are left.
    mutating func perform(_ units: [WorkUnit], shared: SharedUnits, db: Database) throws {
        // The staging tables spill to a temporary file, so memory stays bounded.
        try db.execute(sql: "PRAGMA temp_store = FILE; PRAGMA temp.cache_size = -16384")
        if let suspects { try suspects.store(in: db) }
        let describer = TransactionDescriber(db: db, hasSplits: available.contains(.table("splits")))
        var own = units.makeIterator()
        while let unit = own.next() ?? shared.next() {
            defer { progress.step() }
            switch unit {
            case .staging(let index):
                let staging = Catalog.staging[index]
                guard staging.needs.allSatisfy(available.contains) else { continue }
                do {
                    try db.execute(sql: suspects == nil ? staging.sql : staging.suspectsOnly)
                    available.insert(.sums(staging.sums))
                } catch let error as DatabaseError {
                    failed(staging.needs.first?.table, error)
                }
            case .scan(let table):
                guard available.contains(.table(table)) else { continue }
                try runScan(Catalog.scan(table), describer: describer, db: db)
            case .query(let index):
                let check = Catalog.checks[index]
                guard case .query(let query, let limit) = check.source, check.needs.allSatisfy(available.contains) else { continue }
                let sql = suspects != nil && limit != nil
                    ? "SELECT * FROM (\(query)) WHERE row_id IN (SELECT id FROM \(limit ?? ""))" : query
                do {
                    let rows = try Row.fetchCursor(db, sql: sql)
                    while let row = try rows.next() {
                        let id = row.integer("row_id")
                        let found = FindingRow(row: row, rowID: id, describe: describer)
                        findings.append(Finding(code: check.code, table: check.findingTable, rowID: id,
                                                message: try check.message(found)))
                    }
                } catch let error as DatabaseError {
                    failed(check.findingTable, error)
                }
            case .counts:
                if available.contains(.table("company")) {
                    company = (try? String.fetchOne(db, sql: "SELECT name FROM company WHERE id = 1 AND typeof(name) = 'text'")) ?? nil
                }
                for table in ["accounts", "transactions", "splits"] where available.contains(.table(table)) {
                    do {
                        counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)")
                    } catch let error as DatabaseError {
                        failed(table, error)
                    }
                }
            }
        }
    }

    /// One query over `scan.table` that evaluates every runnable check of that
    /// table at once and returns only rows that fail at least one.
    private mutating func runScan(_ scan: Scan, describer: TransactionDescriber, db: Database) throws {
        let runnable = Catalog.checks.filter { check in
            guard case .condition(let table, let uses, _) = check.source, table == scan.table else { return false }
            return check.needs.allSatisfy(available.contains)
                && uses.allSatisfy { scan.joins[$0]?.needs.allSatisfy(available.contains) == true }
        }
        guard !runnable.isEmpty else { return }
        var joins: [String] = []
        for check in runnable {
            guard case .condition(_, let uses, _) = check.source else { continue }
            for alias in uses where !joins.contains(alias) { joins.append(alias) }
        }
        // The key's alias is one no table of SPEC §1 has (repair_actions has a row_id).
        var select = ["\(scan.alias).*", "\(scan.key) AS ledger_row_key"]
        var conditions: [String] = []
        for (index, check) in runnable.enumerated() {
            guard case .condition(_, _, let sql) = check.source else { continue }
            select.append("COALESCE((\(sql)), 0) AS check_\(index)")
            select += check.columns
            conditions.append("check_\(index)")
        }
        let onlySuspects = suspects != nil && Catalog.suspectTables.contains(scan.table)
            ? " WHERE \(scan.key) IN (SELECT id FROM temp.suspect_\(scan.table))" : ""
        let sql = "SELECT * FROM (SELECT " + select.joined(separator: ", ") + " FROM \(scan.table) \(scan.alias) "
            + joins.sorted().map { scan.joins[$0]!.sql }.joined(separator: " ") + onlySuspects + ") WHERE "
            + conditions.joined(separator: " OR ") + " ORDER BY ledger_row_key"
        do {
            let rows = try Row.fetchCursor(db, sql: sql)
            while let row = try rows.next() {
                let id = row.integer("ledger_row_key")
                let found = FindingRow(row: row, rowID: id, describe: describer)
                for (index, check) in runnable.enumerated() where row.stored("check_\(index)") != 0.databaseValue {
                    findings.append(Finding(code: check.code, table: check.findingTable ?? scan.table, rowID: id,
                                            message: try check.message(found)))
                }
            }
        } catch let error as DatabaseError {
            failed(scan.table, error)
        }
    }

    /// Turns an error met while checking `table` into a finding, once per table,
    /// so that every other check still runs: damage is `sqlite-corruption`;
    /// anything else SQLite refuses on the way (values no query can handle) is
    /// `invalid-value`. Verify never stops on what a file holds.
    private mutating func failed(_ table: String?, _ error: DatabaseError) {
        guard damagedTables.insert(table ?? "").inserted else { return }
        if StructureCheck.isDamage(error) {
            findings.append(Self.damageFinding(table, "the table \(table ?? "")", error))
        } else {
            findings.append(Finding(code: .invalidValue, table: table, rowID: nil,
                                    message: "Some checks of \(table ?? "the file") could not run on the values it holds (SQLite says: \(error.message ?? "error")); a person should look at it"))
        }
    }

    static func damageFinding(_ table: String?, _ what: String, _ error: DatabaseError) -> Finding {
        Finding(code: .sqliteCorruption, table: table, rowID: nil,
                message: "Some rows of \(what) cannot be read (SQLite says: \(error.message ?? "damaged")); ledger rebuild salvages every readable row")
    }
}
