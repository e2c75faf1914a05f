import Foundation

/// What the first 100 bytes of a file say, read without SQLite: enough to refuse
/// what is not a company file before any library touches it, and to recognise a
/// damaged company file that SQLite itself can no longer open.
public struct FileHeader: Sendable, Equatable {
    /// The 16 bytes every SQLite database begins with.
    public static let sqliteMagic = Array("SQLite format 3\0".utf8)

    /// The size of a page in bytes, as the header gives it (65536 for the stored 1).
    public let pageSize: Int
    /// `PRAGMA user_version`: the company file's format version.
    public let userVersion: Int
    /// `PRAGMA application_id`: `Schema.applicationID` in a company file.
    public let applicationID: Int32
    /// The file's size in bytes.
    public let fileSize: Int64
    /// The page count the header itself gives, when SQLite would trust it (it
    /// is nonzero and written by the same change as the header's counter).
    public var headerPageCount: Int? = nil

    /// Whether the path (followed through links) names a regular file that
    /// starts as an SQLite database. Anything else (a FIFO, a device, a folder)
    /// is never opened, so asking never blocks.
    public static func holdsDatabase(_ path: String) -> Bool {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return false }
        return (try? read(path: path)) != nil
    }

    /// Reads the header of the file at `path`.
    ///
    /// - Throws: `CompanyFileError` for a missing, unreadable, empty or non-SQLite file.
    ///   A file of another application is returned, not refused: see `isCompanyFile`.
    public static func read(path: String) throws -> FileHeader {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == EACCES { throw CompanyFileError.unreadable(path: path) }
            throw CompanyFileError.notFound(path: path)
        }
        if (status.st_mode & S_IFMT) == S_IFDIR { throw CompanyFileError.isDirectory(path: path) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == EACCES || errno == EPERM { throw CompanyFileError.unreadable(path: path) }
            throw CompanyFileError.notFound(path: path)
        }
        defer { close(descriptor) }
        if status.st_size == 0 { throw CompanyFileError.empty(path: path) }
        var bytes = [UInt8](repeating: 0, count: 100)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 100, 0) }
        guard count >= 100, Array(bytes[0..<16]) == sqliteMagic else {
            throw CompanyFileError.notSQLite(path: path)
        }
        func bigEndian(_ offset: Int, _ length: Int) -> UInt32 {
            bytes[offset..<offset + length].reduce(0) { $0 << 8 | UInt32($1) }
        }
        let rawPageSize = Int(bigEndian(16, 2))
        let counted = bigEndian(28, 4)
        return FileHeader(
            pageSize: rawPageSize == 1 ? 65_536 : rawPageSize,
            userVersion: Int(Int32(bitPattern: bigEndian(60, 4))),
            applicationID: Int32(bitPattern: bigEndian(68, 4)),
            fileSize: Int64(status.st_size),
            headerPageCount: counted > 0 && bigEndian(24, 4) == bigEndian(92, 4) ? Int(counted) : nil)
    }

    /// Pages the header says the file has and its end lacks: the file was cut
    /// short (a copy stopped half-way, a disk that filled). Nil when it is whole
    /// or the header's count cannot be trusted.
    public var missingPages: Int? {
        guard let headerPageCount, pageSize > 0 else { return nil }
        let present = Int(fileSize / Int64(pageSize))
        return headerPageCount > present ? headerPageCount - present : nil
    }

    /// Whether the header carries the company file's application id.
    public var isCompanyFile: Bool { applicationID == Schema.applicationID }
}
