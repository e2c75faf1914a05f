import Foundation
import GRDB

/// The private copy (mode 0600) a snapshot or a rebuild starts from: one
/// consistent moment of a company file even while other programs write to it,
/// or, when SQLite says the file is damaged, its bytes as they are.
enum PrivateCopy {
    /// Makes the private copy `copy` of `file`: SQLite's consistent copy, or,
    /// only when SQLite says the file is damaged, the file's bytes as they are
    /// with the committed frames of its `-wal` written onto them (docs/snapshots.md),
    /// as SQLite's own recovery would. A `-wal` whose page size is not the
    /// file's is not its log (`WriteAheadLog.isForeign`): SQLite would read
    /// its pages as the file's, so the file is copied by its bytes, without it.
    /// - Parameter wait: how long to wait for another program's lock.
    /// - Returns: whether SQLite could read the file (the copy is consistent).
    /// - Throws: `CompanyFileError.locked` when the file stayed locked for
    ///   `wait` seconds; nothing falls back to raw bytes on an error that is not damage.
    static func make(of file: String, to copy: String, wait: TimeInterval) throws -> Bool {
        // The bytes and the -wal of the file a link names, not the link's.
        let target = AtomicFile.resolvedTarget(of: file)
        if try !hasForeignLog(target) {
            do {
                try consistent(of: file, to: copy, wait: wait)
                return true
            } catch let error as DatabaseError where CompanyFileError.isDamage(error) {
                // SQLite cannot read it: keep the bytes, for salvage.
            } catch let error as DatabaseError where CompanyFileError.isLock(error) {
                throw CompanyFileError.locked(path: file)
            } catch CompanyFileError.damaged {
                // The same, met while opening.
            } catch CompanyFileError.notSQLite {
                // SQLITE_NOTADB on a file whose header says SQLite: damage too.
            }
        }
        AtomicFile.removeDatabaseFiles(at: copy)
        try copyBytes(of: target, to: copy)
        do {
            try WriteAheadLog.apply(logAt: target + "-wal", onto: copy)
        } catch let error as SystemCallError {
            throw FileError.cannotWrite(path: copy, reason: error.reason)
        }
        return false
    }

    /// Folds a leftover WAL into the file at `path` so that the file alone holds
    /// every committed transaction (before it is replaced: a `-wal` removed with
    /// the old file must hold nothing). A `-wal` that is not the file's log
    /// (another page size) is never checkpointed: that would write its pages
    /// over the file; nor is one SQLite cannot read, nor one of a damaged file
    /// (the private copy takes its committed frames).
    /// - Returns: false, with nothing done, when another program has the file open.
    static func settle(_ path: String, wait: TimeInterval) throws -> Bool {
        guard ReadOnlyAccess.waitUntilNoOneElseHasItOpen(path, wait: wait) else { return false }
        // Only a log SQLite reads, beside a file that starts as SQLite's: checkpointing one it cannot
        // read would empty it unread, and SQLite removes a log beside an empty file.
        guard WriteAheadLog.isBeside(path), (try? FileHeader.read(path: path)) != nil,
            !WriteAheadLog.holdsUntakenWork(beside: path)
        else { return true }
        // The last connection to close checkpoints the WAL and removes it.
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try queue.close()
        } catch let error as DatabaseError where CompanyFileError.isDamage(error) {
            return true
        } catch let error as DatabaseError
            where error.resultCode == .SQLITE_CANTOPEN && WriteAheadLog.hasUnknownVersion(path: path + "-wal")
        {
            return true
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
        {
            return false
        }
        return true
    }

    /// Whether the `-wal` beside `file` is not its log (see `WriteAheadLog.isForeign`).
    static func hasForeignLog(_ file: String) throws -> Bool {
        do {
            return try WriteAheadLog.isForeign(logAt: file + "-wal", database: file)
        } catch let error as SystemCallError {
            throw FileError.cannotRead(path: error.path, reason: error.reason)
        }
    }

    /// The company's name in a readable copy, if it can be read.
    static func companyName(in copy: String) -> String? {
        (try? CompanyFile.read(copy) { try String.fetchOne($0, sql: "SELECT name FROM company WHERE id = 1") }) ?? nil
    }

    /// An online, consistent copy through SQLite's backup API; the copy is closed
    /// and checkpointed, so its one file holds everything.
    static func consistent(of file: String, to copy: String, wait: TimeInterval) throws {
        let access = ReadOnlyAccess(path: file, busyTimeout: wait)
        defer { access.close() }
        let source = try access.connect()
        do {
            try PrivateFile.create(at: copy)
        } catch let error as SystemCallError {
            throw FileError.cannotWrite(path: copy, reason: error.reason)
        }
        let destination = try DatabaseQueue(path: copy)
        // The copy is read and removed, never kept: what is kept (a snapshot, a rebuilt file) is
        // fsynced where it is written. Syncing the copy's pages to the disk first only waits:
        // 0.83 s against 0.47 s for the 382 MiB sample.
        try destination.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = OFF") }
        try source.backup(to: destination)
        try destination.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try destination.close()
    }

    /// Copies the file's bytes into the new private file `copy` (mode 0600).
    static func copyBytes(of file: String, to copy: String) throws {
        do {
            try PrivateFile.copy(file, to: copy)
        } catch let error as SystemCallError {
            throw FileError.cannotWrite(path: error.path, reason: error.reason)
        }
    }
}
