import Foundation

/// Enough of a file's and its WAL's metadata to notice that another program
/// wrote to it.
struct FileIdentity: Equatable {
    let file: [Int64]
    let wal: [Int64]

    init(_ path: String) {
        file = Self.describe(path)
        wal = Self.describe(path + "-wal")
    }

    private static func describe(_ path: String) -> [Int64] {
        var status = stat()
        guard stat(path, &status) == 0 else { return [] }
        // An empty WAL says nothing: readers make and remove one.
        if path.hasSuffix("-wal") && status.st_size == 0 { return [] }
        return [
            Int64(status.st_dev), Int64(status.st_ino), Int64(status.st_size),
            Int64(status.st_mtim.tv_sec), Int64(status.st_mtim.tv_nsec),
        ]
    }
}
