import Foundation
import GRDB

/// The name, currency and birth date of a new company.
public struct CompanyProfile: Sendable, Equatable {
    /// What the company calls itself, as its reports show it.
    public var name: String
    /// The ISO 4217 code of the books' money, `USD` unless told.
    public var currency: String
    /// When the company file was made.
    public var createdAt: Date

    /// A profile to check with `validate()` before a file is made from it.
    public init(name: String, currency: String = "USD", createdAt: Date = Date()) {
        self.name = name
        self.currency = currency
        self.createdAt = createdAt
    }

    /// Throws `CompanyFileError.invalidCompany` for an empty name or a currency
    /// that is not three capital letters (ISO 4217).
    public func validate() throws {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw CompanyFileError.invalidCompany(
                reason: "The company name is empty. Give one with --name \"Acme Plumbing\".")
        }
        guard trimmed.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) }) else {
            throw CompanyFileError.invalidCompany(
                reason: "The company name contains control characters. Type it again as plain text.")
        }
        guard currency.utf8.count == 3,
            currency.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) })
        else {
            throw CompanyFileError.invalidCompany(
                reason: "'\(currency)' is not a currency code. Use three capital letters, as in USD, EUR or GBP.")
        }
    }
}

/// An open company file (docs/company-file.md).
///
/// Read-only handles never write to the file. Read-write handles have foreign
/// keys on (GRDB's default) and wait up to `busyTimeout` for other writers.
public final class CompanyFile: Sendable {
    /// Whether a handle may write: read-only handles never change the file.
    public enum Mode: Sendable { case readOnly, readWrite }

    /// The path the file was opened at, for messages.
    public let path: String
    /// How the file was opened.
    public let mode: Mode
    /// The file's `user_version`.
    public let formatVersion: Int
    /// The connection. `DatabaseQueue` serializes all access to it.
    public let database: DatabaseQueue

    /// How long an open waits for a lock another program holds.
    public static let busyTimeout: TimeInterval = 3
    /// How long backup, rebuild and restore wait by default for a file another
    /// program holds locked before they refuse (`--wait`, docs/snapshots.md).
    public static let lockWait: TimeInterval = 60

    private init(path: String, mode: Mode, formatVersion: Int, database: DatabaseQueue) {
        self.path = path
        self.mode = mode
        self.formatVersion = formatVersion
        self.database = database
    }

    /// Opens an existing company file.
    ///
    /// - Parameters:
    ///   - allowOlderFormat: let a file of an older format version open
    ///     (for `migrate`); otherwise it is refused with `.olderFormat`.
    ///   - wait: how long to wait for another program's lock (`--wait`); GRDB
    ///     begins write transactions IMMEDIATE, so a writer waits for another
    ///     writer too, rather than fail at once.
    /// - Throws: `CompanyFileError` for a missing, unreadable, foreign, newer,
    ///   locked or damaged file. Nothing is written while checking.
    public static func open(
        _ path: String, mode: Mode = .readOnly, allowOlderFormat: Bool = false,
        wait: TimeInterval = busyTimeout
    ) throws -> CompanyFile {
        let header = try FileHeader.read(path: path)
        // Ask SQLite itself on a read-only connection: page 1 may be newer in the WAL
        // than in the main file. Fall back to the raw header when SQLite cannot read.
        let probe = try connect(path, readOnly: true, wait: wait)
        let identity: (applicationID: Int32, version: Int)
        do {
            identity = try probe.read { db in
                (
                    try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                    try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                )
            }
        } catch let error as DatabaseError {
            let mapped = CompanyFileError(error, path: path)
            if case .damaged = mapped, !header.isCompanyFile { throw CompanyFileError.notSQLite(path: path) }
            throw mapped
        }
        guard identity.applicationID == Schema.applicationID else { throw CompanyFileError.notCompanyFile(path: path) }
        guard identity.version <= Schema.formatVersion else {
            throw CompanyFileError.newerFormat(path: path, version: identity.version)
        }
        guard identity.version == Schema.formatVersion || allowOlderFormat else {
            throw CompanyFileError.olderFormat(path: path, version: identity.version)
        }
        if mode == .readOnly {
            return CompanyFile(path: path, mode: mode, formatVersion: identity.version, database: probe)
        }
        try probe.close()
        return CompanyFile(
            path: path, mode: mode, formatVersion: identity.version,
            database: try connect(path, readOnly: false, wait: wait))
    }

    /// Runs `body` in one write transaction, begun IMMEDIATE after waiting for
    /// another program's lock as long as the file was opened to (`wait`).
    /// - Throws: `CompanyFileError.locked` when another program still holds
    ///   the file (never SQLite's bare "database is locked"), or what `body` throws.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.write(body)
        } catch let error as DatabaseError where CompanyFileError.isLock(error) {
            throw CompanyFileError(error, path: path)
        }
    }

    /// Opens the file read-only, runs `body` in one read transaction, and closes
    /// it again, removing the `-wal`/`-shm` the connection made (see
    /// `ReadOnlyAccess`). Prefer it to `open` for one-off reads.
    /// - Throws: `CompanyFileError`, or what `body` throws.
    public static func read<T>(_ path: String, _ body: (Database) throws -> T) throws -> T {
        let header = try FileHeader.read(path: path)
        let access = ReadOnlyAccess(path: path)
        defer { access.close() }
        let queue = try access.connect()
        do {
            let (application, version) = try queue.read { db in
                (
                    try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                    try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                )
            }
            guard application == Schema.applicationID else {
                throw header.isCompanyFile
                    ? CompanyFileError.damaged(path: path, detail: "its header disagrees with itself")
                    : CompanyFileError.notCompanyFile(path: path)
            }
            guard version <= Schema.formatVersion else {
                throw CompanyFileError.newerFormat(path: path, version: version)
            }
            guard version == Schema.formatVersion else {
                throw CompanyFileError.olderFormat(path: path, version: version)
            }
            return try queue.read(body)
        } catch let error as DatabaseError {
            throw CompanyFileError(error, path: path)
        }
    }

    /// Creates a new company file with the chart of accounts `chart`.
    ///
    /// The file is built under a temporary name and appears at `path` only when
    /// complete. Throws `CompanyFileError.alreadyExists` rather than overwrite.
    @discardableResult
    public static func create(
        at path: String, profile: CompanyProfile,
        chart: [ChartEntry] = DefaultChart.entries
    ) throws -> CompanyFile {
        try profile.validate()
        try AtomicFile.create(at: path, replacing: false) { temporary in
            // The books are private from the first byte: SQLite's -wal and -shm follow the file's mode.
            try PrivateFile.create(at: temporary)
            let queue = try connect(temporary, readOnly: false)
            try FormatMigrations.migrator.migrate(queue)
            try queue.write { db in
                try insertCompany(profile, in: db)
                try insertChart(chart, in: db)
            }
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
            try queue.close()
        }
        return try open(path, mode: .readWrite)
    }

    static func insertCompany(_ profile: CompanyProfile, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO company (id, name, currency, created_at) VALUES (1, ?, ?, ?)",
            arguments: [
                profile.name.trimmingCharacters(in: .whitespacesAndNewlines), profile.currency,
                Timestamp.string(from: profile.createdAt),
            ])
    }

    /// Inserts `chart` and returns the id given to each account number.
    @discardableResult
    static func insertChart(_ chart: [ChartEntry], in db: Database) throws -> [String: Int64] {
        var ids: [String: Int64] = [:]
        let statement = try db.makeStatement(
            sql: "INSERT INTO accounts (parent_id, number, name, type) VALUES (?, ?, ?, ?)")
        for entry in chart {
            let parent = entry.parentNumber.flatMap { ids[$0] }
            try statement.execute(arguments: [parent, entry.number, entry.name, entry.type.rawValue])
            ids[entry.number] = db.lastInsertedRowID
        }
        return ids
    }

    /// A GRDB connection to `path`, with the settings every ledger connection uses.
    static func connect(_ path: String, readOnly: Bool, wait: TimeInterval = busyTimeout) throws -> DatabaseQueue {
        SQLiteSettings.apply()
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(wait)
        configuration.label = "ledger"
        do {
            return try DatabaseQueue(path: path, configuration: configuration)
        } catch let error as DatabaseError {
            throw CompanyFileError(error, path: path)
        }
    }
}

extension CompanyFileError {
    /// Whether SQLite failed because another connection holds the file
    /// (`SQLITE_BUSY`, `SQLITE_LOCKED`), not because of the file itself.
    static func isLock(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }

    /// Whether SQLite failed because the file's bytes are damaged, not for a lock or a full disk.
    static func isDamage(_ error: DatabaseError) -> Bool {
        // SQLITE_TOOBIG: a record claiming a value longer than SQLite allows (damaged bytes across a
        // page boundary did so under `integrity_check`); no company file holds one.
        [
            .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_IOERR, .SQLITE_FORMAT, .SQLITE_RANGE, .SQLITE_MISMATCH,
            .SQLITE_TOOBIG,
        ]
        .contains(error.resultCode)
    }

    /// Names an SQLite failure in a company file's terms.
    init(_ error: DatabaseError, path: String) {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            self = .locked(path: path)
        case .SQLITE_NOTADB:
            self = .notSQLite(path: path)
        case .SQLITE_CANTOPEN where WriteAheadLog.hasUnknownVersion(path: path + "-wal"):
            // Nothing is refused to us: the log's own header is damaged.
            self = .damaged(path: path, detail: "its -wal has a format version SQLite does not know")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
            self = .unreadable(path: path)
        default:
            self = .damaged(path: path, detail: error.message ?? "\(error.resultCode)")
        }
    }
}
