import Foundation
import GRDB

/// Read-only connections to a company file that leave no trace on disk.
///
/// A read-only SQLite connection to a WAL file creates `-wal` and `-shm` beside
/// it and, being read-only, cannot remove them when it closes. `close()`
/// removes the ones that did not exist before (a `-wal` only while empty) the
/// way SQLite's last writer would: only while holding the lock that proves no
/// other connection has the file open. A `-wal` that was there stays: it may
/// hold committed transactions.
/// On read-only media, where the side files cannot be created, the file is
/// opened `immutable`, which is safe there because no one can write to it either.
/// A path that is a symbolic link is resolved once: SQLite puts the side files
/// beside the file the link names, and they are looked for and removed there.
final class ReadOnlyAccess: @unchecked Sendable {
    // `immutable` and `queues` are guarded by `lock`.
    /// The path as given, for messages.
    let path: String
    /// The file it names (`path` itself unless it is a symbolic link).
    private let file: String
    private let hadLog: Bool
    private let hadIndex: Bool
    private let lock = NSRecursiveLock()
    private var immutable: Bool
    private var queues: [DatabaseQueue] = []

    /// How long a connection waits for another program's lock before SQLite says busy.
    private let busyTimeout: TimeInterval

    init(path: String, busyTimeout: TimeInterval = CompanyFile.busyTimeout) {
        self.path = path
        file = AtomicFile.resolvedTarget(of: path)
        self.busyTimeout = busyTimeout
        hadLog = FileManager.default.fileExists(atPath: file + "-wal")
        hadIndex = FileManager.default.fileExists(atPath: file + "-shm")
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        immutable = !hadLog && !hadIndex && access(folder, W_OK) != 0
    }

    /// A new read-only connection; `close()` closes it.
    func connect() throws -> DatabaseQueue {
        lock.lock()
        defer { lock.unlock() }
        SQLiteSettings.apply()
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "ledger-reader"
        let location = immutable ? "file:" + Self.uriEscaped(file) + "?immutable=1" : file
        do {
            let queue = try DatabaseQueue(path: location, configuration: configuration)
            queues.append(queue)
            return queue
        } catch let error as DatabaseError {
            throw CompanyFileError(error, path: path)
        }
    }

    /// Retries the connections in `immutable` mode when SQLite could not make the
    /// side files it needs (read-only media); returns false if that does not apply.
    func switchToImmutableIfUseful(after error: DatabaseError) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !immutable, !hadLog, !hadIndex,
            [.SQLITE_CANTOPEN, .SQLITE_READONLY].contains(error.resultCode)
        else { return false }
        closeConnections()
        immutable = true
        return true
    }

    /// Closes every connection and removes the side files this access made.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        closeConnections()
        guard !immutable else { return }
        let wal = file + "-wal"
        let shm = file + "-shm"
        var status = stat()
        let madeLog = !hadLog && FileManager.default.fileExists(atPath: wal)
        let madeIndex = !hadIndex && FileManager.default.fileExists(atPath: shm)
        guard madeLog || madeIndex else { return }
        _ = DatabaseLock.whileNoOneElseHasItOpen(file) {
            // A log another program wrote meanwhile is not ours to remove.
            if madeLog, stat(wal, &status) == 0, status.st_size > 0 { return }
            if madeLog { unlink(wal) }
            if madeIndex { unlink(shm) }
        }
    }

    /// Waits up to `wait` seconds, checking ten times a second, until no other
    /// program has the file at `path` open; false if one still has it then.
    static func waitUntilNoOneElseHasItOpen(_ path: String, wait: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(wait)
        while !DatabaseLock.whileNoOneElseHasItOpen(path, {}) {
            guard Date() < deadline else { return false }
            usleep(100_000)
        }
        return true
    }

    private func closeConnections() {
        for queue in queues { try? queue.close() }
        queues.removeAll()
    }

    deinit {
        close()
    }

    private static func uriEscaped(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        return path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    }
}
