import Foundation
import GRDB
import Testing

@testable import LedgerKit

@Suite struct CompanyFileTests {
    let folder = TemporaryDirectory()

    @Test func createThenOpenRoundTrip() throws {
        let path = folder.file("acme.db")
        let created = Date(timeIntervalSince1970: 1_700_000_000)
        try CompanyFile.create(
            at: path, profile: CompanyProfile(name: "  Acme Plumbing ", currency: "EUR", createdAt: created))
        let file = try CompanyFile.open(path)
        try file.database.read { db throws in
            let company = try #require(try Row.fetchOne(db, sql: "SELECT * FROM company"))
            #expect(company["name"] as String == "Acme Plumbing")
            #expect(company["currency"] as String == "EUR")
            #expect(company["created_at"] as String == "2023-11-14T22:13:20Z")
            #expect(try Int32.fetchOne(db, sql: "PRAGMA application_id") == 1_279_607_879)
            #expect(try Int.fetchOne(db, sql: "PRAGMA user_version") == 1)
            #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
            for object in Schema.objects {
                let found = try String.fetchOne(
                    db, sql: "SELECT type FROM sqlite_master WHERE name = ?", arguments: [object.name])
                #expect(found == object.kind.rawValue, "\(object.name)")
            }
        }
        #expect(file.formatVersion == 1)
    }

    @Test func newFileHasTheDefaultChart() throws {
        let path = folder.file("chart.db")
        try CompanyFile.create(at: path, profile: CompanyProfile(name: "Chart Co"))
        try CompanyFile.open(path).database.read { db throws in
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts") == DefaultChart.entries.count)
            #expect(try Int.fetchOne(db, sql: "SELECT SUM(balance) FROM accounts") == 0)
            let types = try Set(String.fetchAll(db, sql: "SELECT DISTINCT type FROM accounts"))
            #expect(types == Set(AccountType.allCases.map(\.rawValue)))
            let wages = try Row.fetchOne(
                db,
                sql: """
                    SELECT c.name AS child, p.name AS parent FROM accounts c JOIN accounts p ON p.id = c.parent_id WHERE c.number = '6510'
                    """)
            #expect(wages?["child"] as String? == "Wages")
            #expect(wages?["parent"] as String? == "Payroll Expenses")
            for name in [
                "Checking", "Savings", "Undeposited Funds", "Accounts Receivable", "Accounts Payable",
                "Business Credit Card", "Opening Balance Equity", "Retained Earnings", "Payroll Liabilities",
            ] {
                #expect(
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM accounts WHERE name = ?", arguments: [name]) == 1,
                    "\(name)")
            }
        }
    }

    @Test func writeConnectionsEnforceForeignKeys() throws {
        let path = folder.file("fk.db")
        let file = try CompanyFile.create(at: path, profile: CompanyProfile(name: "FK Co"))
        #expect(file.mode == .readWrite)
        let foreignKeys = try file.database.read { db in try Int.fetchOne(db, sql: "PRAGMA foreign_keys") }
        #expect(foreignKeys == 1)
        #expect(throws: DatabaseError.self) {
            try file.database.write { db in
                try db.execute(sql: "INSERT INTO splits (transaction_id, account_id, amount) VALUES (999, 1, 100)")
            }
        }
    }

    @Test func readOnlyHandlesCannotWrite() throws {
        let path = folder.file("ro.db")
        try CompanyFile.create(at: path, profile: CompanyProfile(name: "RO Co"))
        let file = try CompanyFile.open(path, mode: .readOnly)
        #expect(throws: DatabaseError.self) {
            try file.database.writeWithoutTransaction { db in try db.execute(sql: "UPDATE company SET name = 'x'") }
        }
    }

    @Test func createRefusesToOverwrite() throws {
        let path = folder.file("exists.db")
        try Data("precious".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CompanyFileError.alreadyExists(path: path)) {
            try CompanyFile.create(at: path, profile: CompanyProfile(name: "New"))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(leftovers == ["exists.db"])
    }

    @Test func createRefusesBadProfiles() throws {
        #expect(throws: CompanyFileError.self) {
            try CompanyFile.create(at: folder.file("a.db"), profile: CompanyProfile(name: "  "))
        }
        #expect(throws: CompanyFileError.self) {
            try CompanyFile.create(at: folder.file("b.db"), profile: CompanyProfile(name: "B", currency: "usd"))
        }
        #expect(throws: CompanyFileError.self) {
            try CompanyFile.create(at: folder.file("c.db"), profile: CompanyProfile(name: "C", currency: "EURO"))
        }
        #expect(throws: CompanyFileError.self) {
            try CompanyFile.create(at: folder.path + "/no/such/folder/d.db", profile: CompanyProfile(name: "D"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func refusesMissingFile() {
        let path = folder.file("missing.db")
        #expect(throws: CompanyFileError.notFound(path: path)) { try CompanyFile.open(path) }
    }

    @Test func refusesDirectory() {
        #expect(throws: CompanyFileError.isDirectory(path: folder.path)) { try CompanyFile.open(folder.path) }
    }

    @Test func refusesEmptyFile() throws {
        let path = folder.file("empty.db")
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        #expect(throws: CompanyFileError.empty(path: path)) { try CompanyFile.open(path, mode: .readWrite) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty)
    }

    @Test func refusesTextFile() throws {
        let path = folder.file("notes.db")
        try Data(String(repeating: "Dear diary, today the books balanced.\n", count: 10).utf8).write(
            to: URL(fileURLWithPath: path))
        #expect(throws: CompanyFileError.notSQLite(path: path)) { try CompanyFile.open(path) }
    }

    @Test func refusesAnotherApplicationsDatabase() throws {
        let path = folder.file("photos.db")
        let other = try DatabaseQueue(path: path)
        try other.write { db in
            try db.execute(
                sql: "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos VALUES (1, 'cat')")
        }
        try other.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: CompanyFileError.notCompanyFile(path: path)) { try CompanyFile.open(path, mode: .readWrite) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func refusesNewerFormat() throws {
        let path = folder.file("future.db")
        try CompanyFile.create(at: path, profile: CompanyProfile(name: "Future"))
        let raw = try DatabaseQueue(path: path)
        try raw.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = 7") }
        try raw.close()
        #expect(throws: CompanyFileError.newerFormat(path: path, version: 7)) { try CompanyFile.open(path) }
        let error = CompanyFileError.newerFormat(path: path, version: 7)
        #expect(error.errorDescription?.contains("format version 7") == true)
    }

    @Test func refusesOlderFormatUnlessAsked() throws {
        let path = folder.file("old.db")
        try CompanyFile.create(at: path, profile: CompanyProfile(name: "Old"))
        let raw = try DatabaseQueue(path: path)
        try raw.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = 0") }
        try raw.close()
        #expect(throws: CompanyFileError.olderFormat(path: path, version: 0)) { try CompanyFile.open(path) }
        #expect(try CompanyFile.open(path, allowOlderFormat: true).formatVersion == 0)
    }

    @Test func readsTheHeaderWithoutSQLite() throws {
        let path = folder.file("header.db")
        try CompanyFile.create(at: path, profile: CompanyProfile(name: "Header"))
        let header = try FileHeader.read(path: path)
        #expect(header.isCompanyFile)
        #expect(header.userVersion == 1)
        #expect(header.pageSize == 4096)
    }

    @Test func migratorKnowsVersionOneIsApplied() throws {
        let path = folder.file("migrated.db")
        try CompanyFile.create(at: path, profile: CompanyProfile(name: "Migrated"))
        let file = try CompanyFile.open(path, mode: .readWrite)
        let applied = try file.database.read { db in try FormatMigrations.migrator.appliedIdentifiers(db) }
        #expect(applied == ["v1"])
        // Running the migrator again is a no-op on a current file.
        try FormatMigrations.migrator.migrate(file.database)
        let version = try file.database.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") }
        #expect(version == 1)
    }

    @Test func errorMessagesAreOneLineAndSayWhatToDo() {
        let errors: [CompanyFileError] = [
            .notFound(path: "a.db"), .isDirectory(path: "a"), .unreadable(path: "a.db"), .empty(path: "a.db"),
            .notSQLite(path: "a.db"), .notCompanyFile(path: "a.db"), .newerFormat(path: "a.db", version: 2),
            .olderFormat(path: "a.db", version: 0), .locked(path: "a.db"), .damaged(path: "a.db", detail: "x"),
            .alreadyExists(path: "a.db"), .cannotCreate(path: "a.db", reason: "disk full"),
        ]
        for error in errors {
            let message = error.errorDescription ?? ""
            #expect(!message.isEmpty && !message.contains("\n"), "\(error)")
            #expect(message.contains("a.db") || message.contains("a "), "\(error)")
        }
    }
}
