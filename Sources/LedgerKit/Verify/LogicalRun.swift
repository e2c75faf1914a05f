import Foundation
import GRDB

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
                guard case .query(let query, let limit) = check.source, check.needs.allSatisfy(available.contains)
                else {
                    continue
                }
                let sql =
                    suspects != nil && limit != nil
                    ? "SELECT * FROM (\(query)) WHERE row_id IN (SELECT id FROM \(limit ?? ""))" : query
                do {
                    let rows = try Row.fetchCursor(db, sql: sql)
                    while let row = try rows.next() {
                        let id = row.integer("row_id")
                        let found = FindingRow(row: row, rowID: id, describe: describer)
                        findings.append(
                            Finding(
                                code: check.code, table: check.findingTable, rowID: id,
                                message: try check.message(found)))
                    }
                } catch let error as DatabaseError {
                    failed(check.findingTable, error)
                }
            case .counts:
                if available.contains(.table("company")) {
                    let sql = "SELECT name FROM company WHERE id = 1 AND typeof(name) = 'text'"
                    company = (try? String.fetchOne(db, sql: sql)) ?? nil
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
        // The key's alias is one no table of docs/company-file.md has (repair_actions has a row_id).
        var select = ["\(scan.alias).*", "\(scan.key) AS ledger_row_key"]
        var conditions: [String] = []
        for (index, check) in runnable.enumerated() {
            guard case .condition(_, _, let sql) = check.source else { continue }
            select.append("COALESCE((\(sql)), 0) AS check_\(index)")
            select += check.columns
            conditions.append("check_\(index)")
        }
        let onlySuspects =
            suspects != nil && Catalog.suspectTables.contains(scan.table)
            ? " WHERE \(scan.key) IN (SELECT id FROM temp.suspect_\(scan.table))" : ""
        let sql =
            "SELECT * FROM (SELECT " + select.joined(separator: ", ") + " FROM \(scan.table) \(scan.alias) "
            + joins.sorted().map(scan.joinSQL).joined(separator: " ") + onlySuspects + ") WHERE "
            + conditions.joined(separator: " OR ") + " ORDER BY ledger_row_key"
        do {
            let rows = try Row.fetchCursor(db, sql: sql)
            while let row = try rows.next() {
                let id = row.integer("ledger_row_key")
                let found = FindingRow(row: row, rowID: id, describe: describer)
                for (index, check) in runnable.enumerated() where row.stored("check_\(index)") != 0.databaseValue {
                    findings.append(
                        Finding(
                            code: check.code, table: check.findingTable ?? scan.table, rowID: id,
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
            findings.append(
                Finding(
                    code: .invalidValue, table: table, rowID: nil,
                    message:
                        "Some checks of \(table ?? "the file") could not run on the values it holds (SQLite says: \(error.message ?? "error")); a person should look at it"
                ))
        }
    }

    static func damageFinding(_ table: String?, _ what: String, _ error: DatabaseError) -> Finding {
        Finding(
            code: .sqliteCorruption, table: table, rowID: nil,
            message:
                "Some rows of \(what) cannot be read (SQLite says: \(error.message ?? "damaged")); ledger rebuild salvages every readable row"
        )
    }
}
