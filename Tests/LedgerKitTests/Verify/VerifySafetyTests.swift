import Foundation
import GRDB
import Testing

@testable import LedgerKit

@Suite struct VerifySafetyTests {
    let folder = TemporaryDirectory()

    private func fingerprint(_ path: String) throws -> (Data, Date, [String]) {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return (try Data(contentsOf: URL(fileURLWithPath: path)), attributes[.modificationDate] as! Date, names)
    }

    @Test func neverChangesTheFileNorLeavesSideFiles() throws {
        let path = try Damage.sample(in: folder, transactions: 800)
        try Damage.apply(to: path) { db in try db.execute(sql: "UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        }
        let before = try fingerprint(path)
        #expect(before.2 == ["books.db"])
        _ = try Verifier.verify(path: path)
        _ = try Verifier.verify(path: path, quick: true)
        let after = try fingerprint(path)
        #expect(after.0 == before.0)
        #expect(after.1 == before.1)
        #expect(after.2 == ["books.db"], "no -wal or -shm is left behind")
    }

    @Test func leavesAnotherProgramsSideFilesAlone() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        let writer = try DatabaseQueue(path: path)
        try writer.write { db in try db.execute(sql: "UPDATE company SET name = 'Open Elsewhere'") }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["books.db", "books.db-shm", "books.db-wal"])
        let report = try Verifier.verify(path: path)
        #expect(report.ok)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == names)
        // The writer still works: its WAL was not taken from under it.
        try writer.write { db in try db.execute(sql: "UPDATE company SET name = 'Still Open'") }
        #expect(try writer.read { try String.fetchOne($0, sql: "SELECT name FROM company") } == "Still Open")
        try writer.close()
    }

    @Test func readsAFileAnotherProcessIsWriting() throws {
        let path = try Damage.sample(in: folder, transactions: 2_000)
        let writer = try DatabaseQueue(path: path)
        let stop = Flag()
        let thread = Thread {
            var round = 0
            while !stop.isSet {
                round += 1
                try? writer.write { db in
                    try db.execute(sql: "UPDATE company SET name = ?", arguments: ["Busy \(round)"])
                    try db.execute(sql: "UPDATE items SET unit_price = unit_price + 1 WHERE id = 1")
                }
            }
        }
        thread.start()
        defer { stop.set() }
        for _ in 0..<3 {
            let report = try Verifier.verify(path: path)
            #expect(report.findings == [])
        }
        stop.set()
        while !thread.isFinished { usleep(1000) }
        try writer.close()
    }

    @Test func refusesAFileLockedExclusively() throws {
        let path = try Damage.sample(in: folder, transactions: 50)
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true  // the lock is held across accesses on purpose
        let holder = try DatabaseQueue(path: path, configuration: configuration)
        try holder.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            try db.execute(sql: "BEGIN EXCLUSIVE")
            try db.execute(sql: "UPDATE company SET name = 'Mine'")
        }
        #expect(throws: CompanyFileError.locked(path: path)) { try Verifier.verify(path: path) }
        try holder.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        try holder.close()
    }

    @Test func refusesWhatIsNotAVerifiableCompanyFile() throws {
        let missing = folder.file("missing.db")
        #expect(throws: CompanyFileError.notFound(path: missing)) { try Verifier.verify(path: missing) }
        #expect(throws: CompanyFileError.isDirectory(path: folder.path)) { try Verifier.verify(path: folder.path) }
        let empty = folder.file("empty.db")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        #expect(throws: CompanyFileError.empty(path: empty)) { try Verifier.verify(path: empty) }
        let text = folder.file("notes.db")
        try Data(String(repeating: "not a database\n", count: 20).utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: CompanyFileError.notSQLite(path: text)) { try Verifier.verify(path: text) }
        let other = folder.file("other.db")
        let queue = try DatabaseQueue(path: other)
        try queue.write { db in try db.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1)") }
        try queue.close()
        #expect(throws: CompanyFileError.notCompanyFile(path: other)) { try Verifier.verify(path: other) }
        let newer = try Damage.sample(in: folder, name: "newer.db", transactions: 10)
        try Damage.apply(to: newer) { db in try db.execute(sql: "PRAGMA user_version = 2") }
        #expect(throws: CompanyFileError.newerFormat(path: newer, version: 2)) { try Verifier.verify(path: newer) }
    }

    @Test func acceptsPathsWithSpacesAndUnicode() throws {
        let path = try Damage.sample(in: folder, name: "Café Müller & Söhne books.db", transactions: 60)
        #expect(try Verifier.verify(path: path).ok)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["Café Müller & Söhne books.db"])
    }

    @Test func writesALogRecord() throws {
        let path = try Damage.sample(in: folder, transactions: 100)
        try Damage.apply(to: path) { db in try db.execute(sql: "UPDATE accounts SET balance = balance + 1 WHERE id = 1")
        }
        let report = try Verifier.verify(path: path)
        let log = folder.file("verify.log")
        let moment = Date(timeIntervalSince1970: 1_795_000_000)
        try VerifyLog.append(report, quick: false, to: log, at: moment)
        try VerifyLog.append(report, quick: true, to: log, at: moment)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 6)
        #expect(
            lines[0]
                == "2026-11-18T11:06:40Z verify \(path) of Sample Company (format 1): accounts 54, transactions 100, splits \(report.counts["splits"]!)"
        )
        #expect(
            lines[1].hasPrefix(
                "  error account-balance-mismatch [accounts 1]: Account 'Checking' (1) shows a balance of"))
        #expect(lines[2].hasPrefix("  result: 1 error, 0 warnings, 1 repairable, "))
        #expect(lines[3].contains("(format 1, quick)"))
        // The company file named as the log by a slip is not written to.
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(
            throws: CompanyFileError.cannotCreate(
                path: path, reason: "it is an SQLite database (a company file?), not a log; choose another --log")
        ) {
            try VerifyLog.append(report, quick: false, to: path, at: moment)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        // Asking whether a FIFO holds a database never opens it (which would wait for a writer).
        let fifo = folder.file("log.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(!FileHeader.holdsDatabase(fifo))
    }
}

/// A flag one thread sets and another reads.
final class Flag: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var value = false
    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }
}
