import Foundation

/// An exclusive lock on a folder (`.ledger.lock` inside it, held with
/// `flock(2)`), so two backups or prunes of one folder never run at once; the
/// second waits.
final class FolderLock: StoreLock {
    private let descriptor: Int32

    /// Waits up to `timeout` seconds for the lock.
    /// - Throws: `FileError.cannotWrite` if the folder cannot hold the lock file
    ///   or another run keeps the lock past the timeout.
    init(folder: String, timeout: TimeInterval = 600) throws {
        let path = folder + "/.ledger.lock"
        // The location is someone else's disk: a link planted at the lock's name is
        // not followed (it would make the lock file wherever it points), and anything
        // that is not a regular file is refused.
        do {
            descriptor = try SystemCalls.open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK)
        } catch let error as SystemCallError where error.code == ELOOP {
            throw FileError.cannotWrite(
                path: path,
                reason: "it is a symbolic link, which ledger does not follow in a backup location; remove it")
        } catch let error as SystemCallError {
            throw FileError.cannotWrite(path: path, reason: error.reason)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            SystemCalls.close(descriptor)
            throw FileError.cannotWrite(path: path, reason: "it is not a regular file; remove it")
        }
        let deadline = Date().addingTimeInterval(timeout)
        do {
            while try !SystemCalls.tryFlock(descriptor, path: path) {
                guard Date() < deadline else {
                    throw FileError.cannotWrite(
                        path: folder, reason: "another ledger backup or prune has held it for \(Int(timeout)) s")
                }
                usleep(100_000)
            }
        } catch {
            SystemCalls.close(descriptor)
            if let error = error as? SystemCallError { throw FileError.cannotWrite(path: path, reason: error.reason) }
            throw error
        }
    }

    /// Lets the next waiter in.
    func release() {
        SystemCalls.unflock(descriptor)
        SystemCalls.close(descriptor)
    }
}
