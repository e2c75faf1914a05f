import Foundation

/// The company-file side of `AtomicFile`: creating a file and flushing one,
/// with failures told as `CompanyFileError`, which Support cannot name.
extension AtomicFile {
    /// Builds a file with `build` (given the temporary path) and publishes it at `path`.
    ///
    /// - Parameter replacing: when false, an existing file at `path` is never
    ///   overwritten and `CompanyFileError.alreadyExists` is thrown.
    /// - Parameter database: the file is a company file (`sample --force`):
    ///   replaced as `replace(_:with:database:)` replaces one (only while no
    ///   other program has it open, else `CompanyFileError.locked`), and, when
    ///   `path` is a link, in the file it names. Other files (a status record in
    ///   a backup location) are renamed over, never through a link.
    /// - Throws: whatever `build` throws (the temporary file is removed), or
    ///   `CompanyFileError.cannotCreate` when the folder refuses the file.
    static func create(at given: String, replacing: Bool, database: Bool = false, build: (String) throws -> Void)
        throws
    {
        // A company file a link names takes the new content, and the link stays.
        let path = replacing && database ? resolvedTarget(of: given) : given
        if !replacing {
            for candidate in [path, path + "-wal"] where FileManager.default.fileExists(atPath: candidate) {
                throw CompanyFileError.alreadyExists(path: candidate)
            }
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw CompanyFileError.cannotCreate(path: path, reason: "the folder \(folder) does not exist")
        }
        guard access(folder, W_OK) == 0 else {
            throw CompanyFileError.cannotCreate(path: path, reason: "the folder \(folder) is not writable")
        }
        let temporary = temporaryPath(beside: path, purpose: "creating")
        defer { removeDatabaseFiles(at: temporary) }
        try build(temporary)
        do {
            try SystemCalls.fsync(path: temporary)
            if replacing && database {
                // Only while no other program has the old file open, its stale -wal removed
                // under the same lock (it would be replayed onto the new file).
                do {
                    try replace(path, with: temporary, database: true)
                } catch Refusal.inUse {
                    throw CompanyFileError.locked(path: given)
                }
            } else if replacing {
                try SystemCalls.rename(temporary, path)
            } else {
                try SystemCalls.link(temporary, path)
            }
            try SystemCalls.fsync(path: folder)
        } catch let error as SystemCallError {
            if error.code == EEXIST { throw CompanyFileError.alreadyExists(path: path) }
            throw CompanyFileError.cannotCreate(path: path, reason: error.reason)
        }
    }

    /// Flushes a file's or a folder's content to the disk.
    static func fsync(path: String) throws {
        do {
            try SystemCalls.fsync(path: path)
        } catch let error as SystemCallError {
            throw CompanyFileError.cannotCreate(path: path, reason: error.reason)
        }
    }
}
