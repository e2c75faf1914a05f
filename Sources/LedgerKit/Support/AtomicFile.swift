import Foundation

/// Writing whole files so that a reader, or a crash, never sees half of one: the
/// content is built under a hidden temporary name in the destination's folder,
/// fsynced, moved into place with one `rename` (or `link`, which refuses to
/// replace), and the folder is fsynced so the new name survives a power cut.
enum AtomicFile {
    /// A hidden name beside `path` that no other run picks.
    static func temporaryPath(beside path: String, purpose: String) -> String {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        return folder + "/." + url.lastPathComponent + "." + purpose + "-" + String(getpid()) + "-" + random
    }

    /// The file a path finally names: `path` itself, or, when it is a
    /// symbolic link (`home/acme.db -> ../nas/acme.db`), what the chain of
    /// links ends at, even if that does not exist yet. Work that replaces a
    /// file resolves it once and works beside the result, so that the rename
    /// replaces the file the link names and the link stays a link. A chain
    /// longer than 40 links (a loop) is returned as it is: the work then
    /// meets SQLite's or the kernel's own refusal (ELOOP). A link is followed
    /// as the kernel's `protected_symlinks` would: not one another user
    /// planted in a sticky folder anyone may write (`/tmp`), whose target
    /// could be any file of this user's; the work then meets that link itself.
    static func resolvedTarget(of path: String) -> String {
        var current = path
        for _ in 0..<40 {
            var status = stat()
            guard lstat(current, &status) == 0, status.st_mode & S_IFMT == S_IFLNK else { return current }
            var folder = stat()
            let parent = URL(fileURLWithPath: current).deletingLastPathComponent().path
            if stat(parent, &folder) == 0, folder.st_mode & S_ISVTX != 0, folder.st_mode & S_IWOTH != 0,
                status.st_uid != geteuid(), status.st_uid != folder.st_uid
            {
                return current
            }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(current, &buffer, buffer.count - 1)
            guard count > 0 else { return current }
            let destination = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current =
                destination.hasPrefix("/")
                ? destination
                : URL(fileURLWithPath: current).deletingLastPathComponent().path + "/" + destination
        }
        return path
    }

    /// Whether `candidate` is a temporary file of this process made by
    /// `temporaryPath(beside: path, purpose:)` (or its `-wal`, `-shm`, `-journal`).
    static func isTemporary(_ candidate: String, of path: String) -> Bool {
        let url = URL(fileURLWithPath: path)
        let other = URL(fileURLWithPath: candidate)
        guard other.deletingLastPathComponent().path == url.deletingLastPathComponent().path else { return false }
        let name = other.lastPathComponent
        let prefix = "." + url.lastPathComponent + "."
        guard name.hasPrefix(prefix) else { return false }
        return name.dropFirst(prefix.count).contains("-" + String(getpid()) + "-")
    }

    /// Removes what killed runs left beside `path`: temporary files made by
    /// `temporaryPath(beside: path, purpose:)` for one of `purposes` (and their
    /// `-wal`, `-shm`, `-journal`), whose process no longer exists.
    static func removeLeftovers(beside path: String, purposes: [String]) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names {
            guard let purpose = purposes.first(where: { name.hasPrefix("." + url.lastPathComponent + "." + $0 + "-") })
            else { continue }
            // "-PID-RANDOM", maybe with "-wal" or "-shm" after it.
            var parts = name.dropFirst(url.lastPathComponent.count + purpose.count + 3).split(separator: "-")
            if let last = parts.last, ["wal", "shm", "journal"].contains(last) { parts.removeLast() }
            guard parts.count == 2, let pid = Int32(parts[0]), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else {
                continue
            }
            unlink(folder + "/" + name)
        }
    }

    /// Removes a database file and its `-wal`, `-shm` and `-journal` companions, if present.
    static func removeDatabaseFiles(at path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
    }

    /// Gives the file at `path` a second name, `kept`, so that it outlives a
    /// replacement of `path` (the rename takes the name, not the file). The
    /// same file already under `kept` (a run killed after this step, in the
    /// same second) is kept already.
    /// - Throws: `SystemCallError` (`link`: a name taken by another file, a permission).
    static func keepSecondName(_ path: String, as kept: String) throws {
        var status = stat()
        guard stat(path, &status) == 0 else { throw SystemCallError(call: "stat", path: path, code: errno) }
        guard link(path, kept) != 0 else { return }
        let code = errno
        var existing = stat()
        guard code == EEXIST, stat(kept, &existing) == 0, existing.st_ino == status.st_ino,
            existing.st_dev == status.st_dev
        else { throw SystemCallError(call: "link", path: kept, code: code) }
    }

    /// Why `replace` did not replace.
    enum Refusal: Error, Equatable {
        /// Another program has the file open (SQLite's lock bytes are held).
        case inUse
        /// The file changed since `unchangedSince` was taken.
        case changedMeanwhile
    }

    /// The one way a file is replaced whole (rebuild, restore, export): the new
    /// content at `temporary` (beside `path`) is fsynced, takes the owner and
    /// mode of the file it replaces, and is renamed over it; the folder is then
    /// fsynced, so the new name survives a power cut.
    ///
    /// - Parameters:
    ///   - database: the files are company files: the rename happens while
    ///     holding the lock that proves no other program has `path` open, and
    ///     its stale `-wal` and `-shm` are removed under that lock, so that no
    ///     old log ever meets the new file. A program may have opened the old
    ///     file without reading it yet (SQLite takes no lock until it reads): once
    ///     the old file has no name left, its header is wiped (`disown`), so
    ///     such a program fails to read it instead of writing a log beside the new one.
    ///   - identity: when given, the file must be as it was then.
    ///   - beforeRename: runs under the lock, just before the rename (second
    ///     names that must not outlive a refusal).
    /// - Throws: `Refusal`, or `SystemCallError` (a full disk, a permission).
    static func replace(
        _ path: String, with temporary: String, database: Bool, unchangedSince identity: FileIdentity? = nil,
        beforeRename: () throws -> Void = {}
    ) throws {
        try SystemCalls.fsync(path: temporary)
        let exists = FileManager.default.fileExists(atPath: path)
        func install(_ old: Int32?) throws {
            if let identity, FileIdentity(path) != identity { throw Refusal.changedMeanwhile }
            try beforeRename()
            if database {
                unlink(path + "-wal")
                unlink(path + "-shm")
            }
            // The new file keeps the owner and permissions of the one it replaces.
            var status = stat()
            if exists, stat(path, &status) == 0 {
                _ = chown(temporary, status.st_uid, status.st_gid)
                _ = chmod(temporary, status.st_mode & 0o7777)
            }
            try SystemCalls.rename(temporary, path)
            try SystemCalls.fsync(path: URL(fileURLWithPath: path).deletingLastPathComponent().path)
            if let old { disown(old) }
        }
        guard database && exists else { return try install(nil) }
        guard try DatabaseLock.whileNoOneElseHasItOpen(path, holding: { try install($0) }) else {
            throw Refusal.inUse
        }
    }

    /// Wipes the header of the replaced company file open as `descriptor`,
    /// when it has no name left (no second name keeps it): only programs that
    /// opened it before the rename still reach it, and SQLite, reading it, then
    /// says it is not a database, where it would have read the old books and
    /// written its log by name, beside the new file, which that log would damage.
    /// Its content is in the snapshot taken before (pre-rebuild, pre-restore).
    static func disown(_ descriptor: Int32) {
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_nlink == 0, status.st_size > 0 else { return }
        let blank = [UInt8](repeating: 0, count: min(100, Int(status.st_size)))
        _ = blank.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }
}
