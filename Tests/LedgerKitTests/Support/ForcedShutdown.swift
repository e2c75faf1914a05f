import Foundation
import GRDB

@testable import LedgerKit

/// Company files as a forced shutdown leaves them: committed transactions in
/// the `-wal` that were never checkpointed into the main file.
enum ForcedShutdown {
    /// Commits `transactions` balanced journal transactions (ids returned) so
    /// that they live only in `path-wal`: the files are copied while the writer
    /// still has them open, as a power cut would leave them, since SQLite folds
    /// the log into the file when its last connection closes.
    @discardableResult
    static func commitInLogOnly(_ path: String, transactions: Int, amount: Int64 = 12_345) throws -> [Int64] {
        let copy = path + ".crash"
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        var ids: [Int64] = []
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            let accounts = try Int64.fetchAll(
                db, sql: "SELECT id FROM accounts WHERE type IN ('bank', 'expense') ORDER BY type, id LIMIT 2")
            for number in 0..<transactions {
                try db.inTransaction {
                    try db.execute(
                        sql: """
                            INSERT INTO transactions (kind, date, number, party_id, memo, created_at, modified_at)
                            VALUES ('journal', '2026-11-30', NULL, NULL, 'committed before the power cut', '2026-11-30T23:00:00Z', '2026-11-30T23:00:00Z')
                            """)
                    let id = db.lastInsertedRowID
                    ids.append(id)
                    let cents = amount + Int64(number)
                    try db.execute(
                        sql: """
                            INSERT INTO splits (transaction_id, account_id, amount, cleared) VALUES (?, ?, ?, 'n'), (?, ?, ?, 'n');
                            UPDATE accounts SET balance = balance + ? WHERE id = ?;
                            UPDATE accounts SET balance = balance - ? WHERE id = ?;
                            """,
                        arguments: [
                            id, accounts[0], -cents, id, accounts[1], cents, -cents, accounts[0], -cents, accounts[1],
                        ])
                    return .commit
                }
            }
        }
        for suffix in ["", "-wal"] {
            unlink(copy + suffix)
            try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix)
        }
        try queue.close()
        for suffix in ["", "-wal"] {
            unlink(path + suffix)
            try FileManager.default.moveItem(atPath: copy + suffix, toPath: path + suffix)
        }
        unlink(path + "-shm")
        return ids
    }

    /// Gives the -wal beside `path` format version 3,007,001, with the header's
    /// checksum made again (else SQLite ignores the log): SQLite then will not
    /// open the file at all (SQLITE_CANTOPEN), and no copy takes the log in.
    static func giveUnknownVersion(toLogOf path: String) throws {
        var header = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "-wal")).prefix(32))
        header.replaceSubrange(4..<8, with: [0x00, 0x2D, 0xE2, 0x19])
        let sums = WriteAheadLog.checksum(header[0..<24], bigEndian: header[3] & 1 == 1, seed: (0, 0))
        header.replaceSubrange(
            24..<32, with: [sums.0, sums.1].flatMap { withUnsafeBytes(of: $0.bigEndian, Array.init) })
        try Damage.write(path + "-wal", at: 0, header)
    }

    /// The rowids of every table of docs/company-file.md, read from a throwaway copy (with
    /// its -wal), so that the file itself is not checkpointed.
    static func rows(of path: String) throws -> [String: Set<Int64>] {
        let folder = TemporaryDirectory()
        let copy = folder.file("copy.db")
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix)
        }
        let queue = try DatabaseQueue(path: copy)
        defer { try? queue.close() }
        return try queue.read { db in
            var rows: [String: Set<Int64>] = [:]
            for table in Schema.tableNames {
                rows[table] = Set(try Int64.fetchAll(db, sql: "SELECT rowid FROM \(table)"))
            }
            return rows
        }
    }

    /// Copies the file and its -wal to `path.log-only`, the state before the
    /// main file is damaged too.
    static func keepLogOnlyCopy(of path: String) throws {
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: path + ".log-only" + suffix)
        }
    }

    /// What `PRAGMA integrity_check` (read-write, so CHECKs count) says of the
    /// file, or SQLite's error; with `constraintsAside`, without the lines of
    /// NULL, NOT NULL and CHECK failures, as docs/findings.md's sqlite-corruption. The
    /// file itself is left alone: the check runs on a copy.
    static func integrityCheck(_ path: String, constraintsAside: Bool = false) -> String {
        let folder = TemporaryDirectory()
        let copy = folder.file("check.db")
        do {
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix)
            }
            let queue = try DatabaseQueue(path: copy)
            defer { try? queue.close() }
            let lines = try queue.read { db in
                try String.fetchAll(db, sql: "PRAGMA integrity_check").flatMap {
                    $0.split(separator: "\n").map(String.init)
                }
            }
            let kept = lines.filter { line in
                !constraintsAside
                    || !(line.hasPrefix("NULL value in ") || line.hasPrefix("CHECK constraint failed")
                        || line.hasPrefix("NOT NULL constraint failed"))
            }
            return kept.isEmpty ? "ok" : kept.joined(separator: "\n")
        } catch {
            return "\(error)"
        }
    }
}
