import Crypto
import Foundation
import GRDB

/// Where a reader puts the lines it can import, as it reads them.
protocol StatementLines: AnyObject {
    /// Keeps `line` of statement `statement` (0 for the file's first), after those before it.
    func add(_ line: StatementLine, statement: Int) throws
    /// How many lines of statement `statement` came before with this content (`ContentIDs`), counting this one.
    func occurrence(of key: String, statement: Int) throws -> Int
}

/// Lines kept in memory, for a statement read whole (tests, small files).
final class CollectedLines: StatementLines {
    private(set) var lines: [Int: [StatementLine]] = [:]
    private var seen: [Int: [String: Int]] = [:]

    func add(_ line: StatementLine, statement: Int) {
        lines[statement, default: []].append(line)
    }

    func occurrence(of key: String, statement: Int) -> Int {
        let count = seen[statement, default: [:]][key, default: 0]
        seen[statement, default: [:]][key] = count + 1
        return count
    }

    /// The statements of `file` with their lines put back.
    func filled(_ file: StatementFile) -> StatementFile {
        var file = file
        for index in file.statements.indices { file.statements[index].lines = lines[index] ?? [] }
        return file
    }
}

/// A statement's lines on disk while an import reads and places them: an
/// SQLite file of its own in the temporary folder, removed when the spool
/// goes, so that what an import holds in memory does not grow with the
/// statement (README.md, *Bank feeds*). `FeedImport` attaches it to the
/// company file's connection to place the lines with SQL.
public final class StatementSpool {
    /// The spool's file.
    let path: String
    private var queue: DatabaseQueue?

    /// An empty spool in the temporary folder.
    /// - Throws: `StatementError.badOption` (its text says what) when the temporary folder cannot hold one.
    public init() throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("ledger-import-\(UUID().uuidString).spool")
            .path
        do {
            // A bank statement's lines are the books: the file is made 0600 first, whatever the umask
            // (and never over a file or link another user put there), and SQLite takes it as it is.
            try PrivateFile.create(at: path)
            var configuration = Configuration()
            configuration.label = "ledger spool"
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                try db.execute(
                    sql: """
                        PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -4096;
                        \(Self.schema)
                        """)
            }
            self.queue = queue
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw StatementError.badOption(
                "Cannot make the import's working file in \(FileManager.default.temporaryDirectory.path) (\(error)); "
                    + "check that the temporary folder (TMPDIR) is writable and has room. Nothing was imported.")
        }
    }

    deinit {
        try? queue?.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The spool's tables: the lines in file order, and how often each content came
    /// (`ContentIDs`); then what an import learns while it places them.
    static let schema = """
        CREATE TABLE line (
          seq INTEGER PRIMARY KEY, statement INTEGER NOT NULL, fitid TEXT NOT NULL, posted TEXT NOT NULL,
          amount INTEGER NOT NULL, payee TEXT, memo TEXT, line INTEGER NOT NULL, check_number TEXT, currency TEXT);
        CREATE TABLE seen (statement INTEGER, key BLOB, count INTEGER NOT NULL, PRIMARY KEY (statement, key)) WITHOUT ROWID;
        CREATE TABLE present (seq INTEGER PRIMARY KEY, feed_id INTEGER NOT NULL);
        CREATE TABLE paired (feed_id INTEGER PRIMARY KEY);
        CREATE TABLE assigned (account INTEGER, name TEXT, PRIMARY KEY (account, name)) WITHOUT ROWID;
        CREATE TABLE original (id INTEGER PRIMARY KEY, account INTEGER NOT NULL, posted TEXT NOT NULL, amount INTEGER NOT NULL);
        CREATE INDEX original_key ON original (account, posted, amount, id);
        """

    /// Runs `read` with the lines it adds going into the spool, in one transaction.
    func fill<T>(_ read: (any StatementLines) throws -> T) throws -> T {
        guard let queue else { throw StatementError.badOption("The import's working file is closed.") }
        return try queue.write { db in
            let writer = try Writer(db)
            return try read(writer)
        }
    }

    /// Fills the spool with the lines of statements read into memory.
    func fill(with file: StatementFile) throws {
        try fill { lines in
            for (index, statement) in file.statements.enumerated() {
                for line in statement.lines { try lines.add(line, statement: index) }
            }
        }
    }

    /// Closes the spool's own connection, so that another can attach its file.
    func close() throws {
        try queue?.close()
        queue = nil
    }

    /// The spool's lines as a reader adds them, in the transaction of `fill`.
    private final class Writer: StatementLines {
        private let insert: Statement
        private let count: Statement
        private let db: Database

        init(_ db: Database) throws {
            self.db = db
            insert = try db.makeStatement(
                sql: """
                    INSERT INTO line (statement, fitid, posted, amount, payee, memo, line, check_number, currency)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            count = try db.makeStatement(
                sql: """
                    INSERT INTO seen (statement, key, count) VALUES (?, ?, 1)
                    ON CONFLICT (statement, key) DO UPDATE SET count = count + 1 RETURNING count
                    """)
        }

        func add(_ line: StatementLine, statement: Int) throws {
            try insert.execute(arguments: [
                statement, line.fitid, line.posted, line.amount, line.payee, line.memo, line.line, line.checkNumber,
                line.currency,
            ])
        }

        func occurrence(of key: String, statement: Int) throws -> Int {
            // A digest stands for the content, which may be two fields of 64 KiB.
            let digest = Data(SHA256.hash(data: Data(key.utf8)).prefix(16))
            let after = try Int.fetchOne(count, arguments: [statement, digest]) ?? 1
            return after - 1
        }
    }
}
