import Foundation

/// A system call that failed, with its `errno`, so a caller can tell a full
/// disk (`ENOSPC`) from a refused permission (`EACCES`).
struct SystemCallError: Error, Equatable, CustomStringConvertible {
    /// The C name of the call: "open", "pwrite", "rename"…
    let call: String
    let path: String
    let code: Int32
    /// What went wrong, where `strerror` would not say it.
    var detail: String? = nil

    var isNoSpace: Bool { code == ENOSPC || code == EDQUOT }
    var isPermission: Bool { code == EACCES || code == EPERM || code == EROFS }
    var isMissing: Bool { code == ENOENT }

    /// "No space left on device" and the like.
    var reason: String { detail ?? String(cString: strerror(code)) }

    var description: String { "\(call) \(path): \(reason)" }
}

/// The raw system calls of the library, in one place: each retries when a
/// signal interrupts it (EINTR) and throws `SystemCallError` on failure.
enum SystemCalls {
    /// Lowers the calling thread's scheduling priority (nice 10), so its work
    /// takes only the time of cores the other threads leave idle. Best effort.
    /// (On Linux the nice value belongs to a thread: `who` 0 is this thread.)
    static func lowerThreadPriority() {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
    }

    /// Runs `body` until it does not fail with EINTR; a negative result throws.
    @discardableResult
    private static func retrying<T: BinaryInteger>(_ call: String, _ path: String, _ body: () -> T) throws -> T {
        while true {
            let result = body()
            if result >= 0 { return result }
            if errno == EINTR { continue }
            throw SystemCallError(call: call, path: path, code: errno)
        }
    }

    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws -> Int32 {
        try retrying("open", path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// Why a link in a backup location is not followed.
    static let linkRefused = "it is a link, which could lead anywhere on this machine"

    /// Opens a file others may have put in place (in a backup location) for
    /// reading, without blocking: a FIFO, a device or a folder in a file's
    /// place is refused, so nothing hangs or reads without end; without
    /// `followingLinks`, so is a link.
    static func openRegularFile(_ path: String, followingLinks: Bool = true) throws -> Int32 {
        let descriptor: Int32
        do {
            descriptor = try open(path, O_RDONLY | O_NONBLOCK | (followingLinks ? 0 : O_NOFOLLOW))
        } catch let error as SystemCallError where error.code == ELOOP && !followingLinks {
            throw SystemCallError(call: "open", path: path, code: ELOOP, detail: Self.linkRefused)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw SystemCallError(call: "open", path: path, code: EINVAL, detail: "it is not a regular file")
        }
        return descriptor
    }

    static func close(_ descriptor: Int32) {
        _ = Glibc.close(descriptor)
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    static func pread(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64,
        path: String
    ) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }  // an empty buffer: nothing to read
        var done = 0
        while done < buffer.count {
            let count = try retrying("pread", path) {
                Glibc.pread(descriptor, base + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Writes all of `buffer` at `offset`.
    static func pwrite(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer, at offset: Int64, path: String) throws {
        guard let base = buffer.baseAddress else { return }  // an empty buffer: nothing to write
        var done = 0
        while done < buffer.count {
            done += try retrying("pwrite", path) {
                Glibc.pwrite(descriptor, base + done, buffer.count - done, off_t(offset) + off_t(done))
            }
        }
    }

    /// Reads from the file position until `buffer` is full or the file ends.
    static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }  // an empty buffer: nothing to read
        var done = 0
        while done < buffer.count {
            let count = try retrying("read", path) { Glibc.read(descriptor, base + done, buffer.count - done) }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Writes all of `bytes` at the file position.
    static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard let base = bytes.baseAddress else { return }  // an empty buffer: nothing to write
        var done = 0
        while done < bytes.count {
            let count = try retrying("write", path) { Glibc.write(descriptor, base + done, bytes.count - done) }
            guard count > 0 else { throw SystemCallError(call: "write", path: path, code: EIO) }
            done += count
        }
    }

    /// Takes a POSIX write lock on `length` bytes from `start` without waiting;
    /// false when another process holds any of them.
    static func tryLock(_ descriptor: Int32, from start: Int64, length: Int64, path: String) throws -> Bool {
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = off_t(start)
        lock.l_len = off_t(length)
        while fcntl(descriptor, F_SETLK, &lock) != 0 {
            if errno == EINTR { continue }
            if errno == EACCES || errno == EAGAIN { return false }
            throw SystemCallError(call: "fcntl", path: path, code: errno)
        }
        return true
    }

    /// Lets go of a lock `tryLock` took.
    static func unlock(_ descriptor: Int32, from start: Int64, length: Int64) {
        var lock = flock()
        lock.l_type = Int16(F_UNLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = off_t(start)
        lock.l_len = off_t(length)
        _ = fcntl(descriptor, F_SETLK, &lock)
    }

    /// Takes the whole-file `flock` without waiting; false when another holds it.
    static func tryFlock(_ descriptor: Int32, path: String) throws -> Bool {
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw SystemCallError(call: "flock", path: path, code: errno)
        }
        return true
    }

    static func unflock(_ descriptor: Int32) {
        _ = flock(descriptor, LOCK_UN)
    }

    /// Sets the open file's permission bits to exactly `mode`, whatever the umask made of them.
    static func fchmod(_ descriptor: Int32, _ mode: mode_t, path: String) throws {
        try retrying("fchmod", path) { Glibc.fchmod(descriptor, mode) }
    }

    static func ftruncate(_ descriptor: Int32, to size: Int64, path: String) throws {
        try retrying("ftruncate", path) { Glibc.ftruncate(descriptor, off_t(size)) }
    }

    /// Flushes a descriptor's data; EINVAL (a file system that cannot sync a folder) is not an error.
    static func fsync(_ descriptor: Int32, path: String) throws {
        while Glibc.fsync(descriptor) != 0 {
            if errno == EINTR { continue }
            if errno == EINVAL { return }
            throw SystemCallError(call: "fsync", path: path, code: errno)
        }
    }

    /// Flushes the file or folder at `path`. Opened without blocking: a FIFO
    /// put in a file's place (in a folder others can write) never hangs the run.
    static func fsync(path: String) throws {
        let descriptor = try open(path, O_RDONLY | O_NONBLOCK)
        defer { close(descriptor) }
        try fsync(descriptor, path: path)
    }

    static func rename(_ from: String, _ to: String) throws {
        try retrying("rename", to) { Glibc.rename(from, to) }
    }

    /// A second name for a file; fails with EEXIST rather than replace one.
    static func link(_ from: String, _ to: String) throws {
        try retrying("link", to) { Glibc.link(from, to) }
    }

    /// The bytes an unprivileged user may still write in the file system that
    /// holds `folder`; nil when the system does not say.
    static func freeBytes(in folder: String) -> Int64? {
        var space = statvfs()
        guard statvfs(folder, &space) == 0 else { return nil }
        let (free, overflow) = Int64(space.f_bavail).multipliedReportingOverflow(by: Int64(space.f_frsize))
        return overflow ? Int64.max : free
    }

    /// The size of the open file, in bytes.
    static func size(of descriptor: Int32, path: String) throws -> Int64 {
        var status = stat()
        try retrying("fstat", path) { fstat(descriptor, &status) }
        return Int64(status.st_size)
    }

    /// Whether the open file `descriptor` is a regular file of this user's
    /// with no other name (no hard link elsewhere), so that writing to it
    /// changes no one else's file.
    static func isOwnPlainFile(_ descriptor: Int32, path: String) throws -> Bool {
        var status = stat()
        try retrying("fstat", path) { fstat(descriptor, &status) }
        return status.st_mode & S_IFMT == S_IFREG && status.st_nlink == 1 && status.st_uid == geteuid()
    }

    /// The size of the file at `path`, in bytes.
    static func size(of path: String) throws -> Int64 {
        var status = stat()
        try retrying("stat", path) { stat(path, &status) }
        return Int64(status.st_size)
    }
}

/// How the process asks the C library for memory.
public enum ProcessMemory {
    /// Keeps every allocation of 128 KiB or more in a mapping of its own, which
    /// goes back to the system when freed. glibc otherwise raises that threshold
    /// after the first big buffer is freed, and later big arrays (the native
    /// pass of verify, a million entries each) stay in the heap after use: on
    /// the 1,000,000-transaction sample, rebuild's peak fell from 106 to 97 MB.
    public static func returnLargeBuffersPromptly() {
        // glibc's mallopt and M_MMAP_THRESHOLD, of <malloc.h>, which the Glibc
        // module does not bring in: looked up, and left alone where absent.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mmapThreshold: Int32 = -3
        _ = unsafeBitCast(symbol, to: Mallopt.self)(mmapThreshold, 128 * 1024)
    }
}
