import Foundation

/// The lock that proves no other program has an SQLite file open: a write
/// lock over SQLite's own lock bytes, which every open WAL connection holds
/// a share of.
enum DatabaseLock {
    /// Runs `work` while holding a write lock over SQLite's lock bytes of the
    /// file at `path`, and returns false without running it if another program
    /// holds any of them. Every open WAL connection holds a SHARED lock there, so
    /// the lock is granted only when no other program has the file open.
    ///
    /// POSIX locks belong to the process: connections of this very process are
    /// not seen, and closing the descriptor drops this process's locks on the
    /// file, so callers close their own connections first.
    static func whileNoOneElseHasItOpen(_ path: String, _ work: () throws -> Void) rethrows -> Bool {
        try whileNoOneElseHasItOpen(path, holding: { _ in try work() })
    }

    /// The same, giving `work` the descriptor that holds the lock: the file
    /// `path` named when the lock was taken, whatever `work` does to the name.
    static func whileNoOneElseHasItOpen(_ path: String, holding work: (Int32) throws -> Void) rethrows -> Bool {
        guard let descriptor = try? SystemCalls.open(path, O_RDWR) else { return false }
        defer { SystemCalls.close(descriptor) }
        // SQLite's PENDING_BYTE; RESERVED and SHARED follow.
        let start: Int64 = 0x4000_0000
        let length: Int64 = 512
        let locked = try? SystemCalls.tryLock(descriptor, from: start, length: length, path: path)
        guard locked == true else { return false }
        defer { SystemCalls.unlock(descriptor, from: start, length: length) }
        try work(descriptor)
        return true
    }
}
