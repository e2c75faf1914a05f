import Foundation

/// Files that hold the books (private copies, working files, staging and
/// decrypted files): mode 0600 whatever the umask, so that no other user of
/// the machine reads a company's books from a file the tool made (docs/snapshots.md).
enum PrivateFile {
    /// Creates the empty file `path`, mode exactly 0600, never over an
    /// existing file nor through a symbolic link. SQLite gives a database's
    /// `-journal`, `-wal` and `-shm` the main file's mode and takes an empty
    /// file for a new database (`VACUUM INTO` too), so a database made at
    /// `path` afterwards is private with all its companions.
    static func create(at path: String) throws {
        SystemCalls.close(try opened(at: path))
    }

    /// `create`, keeping the file open for writing (and reading, with
    /// `readable`): what is written goes into the very file made, whatever is
    /// put at `path` meanwhile. The caller closes the descriptor.
    static func opened(at path: String, readable: Bool = false) throws -> Int32 {
        let access = readable ? O_RDWR : O_WRONLY
        let descriptor = try SystemCalls.open(path, access | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
        do {
            try SystemCalls.fchmod(descriptor, 0o600, path: path)
        } catch {
            SystemCalls.close(descriptor)
            unlink(path)
            throw error
        }
        return descriptor
    }

    /// Writes `data` as the new file `path` (as `create` makes it), synced.
    static func write(_ data: Data, to path: String) throws {
        let output = try opened(at: path)
        defer { SystemCalls.close(output) }
        try data.withUnsafeBytes { try SystemCalls.pwrite(output, $0, at: 0, path: path) }
        try SystemCalls.fsync(output, path: path)
    }

    /// Copies the bytes of the file `source` into the new file `destination`
    /// (as `create` makes it), 1 MiB at a time.
    static func copy(_ source: String, to destination: String) throws {
        let input = try SystemCalls.open(source, O_RDONLY)
        defer { SystemCalls.close(input) }
        let output = try opened(at: destination)
        defer { SystemCalls.close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while true {
            let count = try buffer.withUnsafeMutableBytes {
                try SystemCalls.pread(input, into: $0, at: offset, path: source)
            }
            if count == 0 { break }
            try buffer.withUnsafeBytes {
                try SystemCalls.pwrite(
                    output, UnsafeRawBufferPointer(rebasing: $0.prefix(count)), at: offset, path: destination)
            }
            offset += Int64(count)
        }
    }
}

/// The private scratch folder of this machine where snapshots are decrypted
/// and decompressed to be read (`check-backups`, `restore`, rebuild's last
/// good copy): never a backup location, which is someone else's disk.
///
/// It is `$TMPDIR/ledger-<uid>` (`/tmp/ledger-<uid>` without TMPDIR), mode
/// 0700, made by this user: a folder that exists under cron and systemd
/// alike, on a disk that can hold a whole company file (the runtime folder
/// `$XDG_RUNTIME_DIR` is a small RAM disk, and unset under cron). One that
/// exists but is a link, another user's, or open to others is refused rather
/// than used. Each file in it carries its process's id; a run removes the
/// files of runs that no longer exist (killed before they could clean up).
enum ScratchFolder {
    /// The folder, made or checked, with what killed runs left in it removed.
    /// - Throws: `FileError.cannotWrite` when it cannot be made or is not private.
    static func path(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let base = environment["TMPDIR"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/tmp"
        let folder = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/ledger-\(getuid())"
        if mkdir(folder, 0o700) != 0 && errno != EEXIST {
            throw FileError.cannotWrite(
                path: folder,
                reason:
                    "the private scratch folder cannot be made (\(String(cString: strerror(errno)))); set TMPDIR to a folder of your own"
            )
        }
        var status = stat()
        guard lstat(folder, &status) == 0, status.st_mode & S_IFMT == S_IFDIR, status.st_uid == getuid() else {
            throw FileError.cannotWrite(
                path: folder,
                reason:
                    "the private scratch folder is not a folder of this user's; remove it, or set TMPDIR to a folder of your own"
            )
        }
        guard status.st_mode & 0o077 == 0 else {
            throw FileError.cannotWrite(
                path: folder,
                reason:
                    "the private scratch folder can be opened by other users (mode \(String(status.st_mode & 0o777, radix: 8))); make it private with 'chmod 700 \(folder)'"
            )
        }
        removeLeftovers(in: folder, purposes: nil, folders: true)
        return folder
    }

    /// A new name in the scratch folder for a file made from `name` for
    /// `purpose`: `.NAME.PURPOSE-PID-RANDOM`, as `AtomicFile.temporaryPath` names them.
    static func temporaryPath(
        for name: String, purpose: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> String {
        let base = URL(fileURLWithPath: name).lastPathComponent
        return AtomicFile.temporaryPath(beside: try path(environment: environment) + "/" + base, purpose: purpose)
    }

    /// Removes the hidden files (and their `-wal`, `-shm`, `-journal`) of
    /// `folder` whose names end in `.PURPOSE-PID-RANDOM` (any purpose when
    /// nil) of a process that no longer exists; with `folders`, also such
    /// folders of this user (a restore drill's, with what is in them). Only
    /// the private scratch folder asks for folders: in a backup location,
    /// someone else's disk, a folder is never removed.
    static func removeLeftovers(in folder: String, purposes: [String]?, folders: Bool = false) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(".") {
            if let purposes, !purposes.contains(where: { name.contains("." + $0 + "-") }) { continue }
            var parts = name.split(separator: "-", omittingEmptySubsequences: false)
            if let last = parts.last, ["wal", "shm", "journal"].contains(last) { parts.removeLast() }
            guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), pid > 0, pid != getpid(),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            var status = stat()
            let path = folder + "/" + name
            // A folder is removed with what is in it; a link (to a folder) only as a link.
            if lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
                if folders, status.st_uid == getuid() { try? FileManager.default.removeItem(atPath: path) }
            } else {
                unlink(path)
            }
        }
    }
}
