import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// docs/findings.md "Values of any type": any column of any table may hold any value,
/// since other programs write company files. Verify and rebuild must report,
/// never crash, never refuse.
@Suite struct HostileValueTests {
    /// The values every column meets, as SQL literals.
    static let values: [(name: String, sql: String)] = [
        ("text", "'2022-04-07'"), ("real", "2.5"), ("blob", "x'00ff10'"), ("null", "NULL"),
        ("int64-max", "9223372036854775807"), ("int64-min", "-9223372036854775808"),
        ("empty", "''"), ("non-ascii", "'Café – 東京 🙂'"),
    ]

    /// Every column of every table of docs/company-file.md.
    static let columns: [String] = Schema.tableNames.flatMap { table in
        (Schema.columns[table] ?? []).map { "\(table).\($0.name)" }
    }

    /// A small company with a row in every table, made once and copied per case.
    static let template: String = {
        let folder = FileManager.default.temporaryDirectory.path + "/ledger-hostile-template-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/template.db"
        if !FileManager.default.fileExists(atPath: path) {
            do {
                _ = try SampleCompany.generate(at: path, options: SampleOptions(transactions: 120, seed: 5))
                try Damage.apply(to: path) { db in
                    try db.execute(
                        sql: """
                            INSERT INTO maintenance_runs (id, command, started_at, finished_at, outcome, summary)
                            VALUES (1, 'import', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 'ok', '{}');
                            INSERT INTO repair_actions (id, run_id, code, table_name, row_id, action, before, after)
                            VALUES (1, 1, 'duplicate-name', 'parties', 1, 'update', '{}', '{}');
                            """)
                }
            } catch {
                Issue.record("could not make the template company: \(error)")
            }
        }
        return path
    }()

    @Test(arguments: columns)
    func verifyAndRebuildHoldWhateverTheColumnHolds(column: String) throws {
        let parts = column.split(separator: ".").map(String.init)
        let (table, name) = (parts[0], parts[1])
        let definition = try #require(Schema.columns[table]?.first { $0.name == name })
        for value in Self.values {
            let folder = TemporaryDirectory()
            let path = folder.file("hostile.db")
            try FileManager.default.copyItem(atPath: Self.template, toPath: path)
            let key = table == "documents" ? "transaction_id" : "id"
            // The middle row of the table, so that rows around it stay whole.
            let target: Int64? = try Damage.apply(to: path) { db in
                guard
                    let row = try Int64.fetchOne(
                        db,
                        sql: """
                            SELECT rowid FROM \(table) ORDER BY rowid LIMIT 1 OFFSET (SELECT COUNT(*) / 2 FROM \(table))
                            """)
                else { return nil }
                do {
                    try db.execute(sql: "UPDATE \(table) SET \(name) = \(value.sql) WHERE rowid = ?", arguments: [row])
                } catch let error as DatabaseError
                    where error.resultCode == .SQLITE_MISMATCH || error.resultCode == .SQLITE_CONSTRAINT
                {
                    return nil  // SQLite itself refuses it (a text rowid, a second row of a unique name).
                }
                // A new rowid for the row when its key was changed.
                return definition.isKey
                    ? try Int64.fetchOne(db, sql: "SELECT rowid FROM \(table) WHERE \(key) IS \(value.sql)") : row
            }
            guard let target else { continue }
            let what = "\(column) = \(value.name) (row \(target))"

            let report: VerifyReport
            do {
                report = try Verifier.verify(path: path)
            } catch {
                Issue.record("verify refused \(what): \(error)")
                continue
            }
            #expect(
                report.findings == (try Verifier.verify(path: path, engine: .sql)).findings,
                "\(what): the engines differ")
            // A wrong storage class in an INTEGER column, or a NULL where one is
            // required, is a finding on that very row.
            let storageIsWrong =
                definition.isInteger && !definition.isKey
                && ["text", "real", "blob", "empty", "non-ascii"].contains(value.name)
            let requiredIsNull = definition.notNull && value.name == "null"
            if storageIsWrong || requiredIsNull {
                let named = report.findings.contains { finding in
                    finding.rowID == target
                        && (finding.table == table || (table == "documents" && finding.table == "transactions"))
                }
                #expect(named, "verify names no finding on the row for \(what): \(report.findings.map(Expected.init))")
            }

            let rebuilt: RebuildReport
            do {
                rebuilt = try Rebuilder.rebuild(
                    path: path, options: RebuildOptions(backupFolder: folder.file("backups")))
            } catch {
                Issue.record("rebuild refused \(what): \(error)")
                continue
            }
            #expect(
                rebuilt.remaining.allSatisfy { !$0.repairable }, "repairable findings left after rebuilding \(what)")
            let after = try Verifier.verify(path: path)
            #expect(
                after.findings.allSatisfy { !$0.repairable },
                "\(what): \(after.findings.filter(\.repairable).map(\.message))")
            #expect(
                try CompanyFile.read(path) { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok", "\(what)"
            )
        }
    }
}
