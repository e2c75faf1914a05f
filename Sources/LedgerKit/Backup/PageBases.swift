import Crypto
import Foundation

/// The local file of base pages an incremental backup compresses changed
/// pages against (docs/incremental.md, "Delta blobs"): beside the company
/// file, mode 0600, one per company file and location, holding for each page
/// the bytes of its newest whole-page blob there (page 1 zeroed, so the file
/// is no SQLite file and no company file).
///
/// It is only ever a hint: a base is used only when its keyed hash is a
/// whole-page blob the location holds, so a file gone, stale or changed by
/// anyone costs bigger blobs, never a wrong one. Reads and writes that fail
/// stop its use for the run; they never fail a backup.
final class PageBases {
    let path: String
    private let pageSize: Int
    private var descriptor: Int32?
    /// Whether every page is written this run (the file was new, empty, or not whole pages).
    let rewriting: Bool

    /// The file of `file`'s base pages for the location `location` (its description).
    static func path(for file: String, location: String) -> String {
        let url = URL(fileURLWithPath: file)
        let tag = Array(SHA256.hash(data: Data(location.utf8))).prefix(8).hex
        return url.deletingLastPathComponent().path + "/." + url.lastPathComponent + ".ledger-pages-" + tag
    }

    /// Opens (or creates) the file at `path` for pages of `pageSize` bytes;
    /// nil when it can be neither. Anything else under its name (a link, a
    /// file with another name too, someone else's) is removed, never written
    /// through, and a new file made in its place.
    init?(path: String, pageSize: Int) {
        guard pageSize >= 512, let descriptor = Self.open(path) ?? Self.replace(path) else { return nil }
        // It holds the books: private, whoever made it and however.
        guard (try? SystemCalls.fchmod(descriptor, 0o600, path: path)) != nil,
            let size = try? SystemCalls.size(of: descriptor, path: path)
        else {
            SystemCalls.close(descriptor)
            return nil
        }
        self.path = path
        self.pageSize = pageSize
        self.descriptor = descriptor
        rewriting = size == 0 || size % Int64(pageSize) != 0
    }

    /// The file at `path` opened, when it is this user's own regular file and has no other name.
    private static func open(_ path: String) -> Int32? {
        guard let descriptor = try? SystemCalls.open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK) else { return nil }
        guard (try? SystemCalls.isOwnPlainFile(descriptor, path: path)) == true else {
            SystemCalls.close(descriptor)
            return nil
        }
        return descriptor
    }

    /// A new, empty file at `path`, whatever was under the name.
    private static func replace(_ path: String) -> Int32? {
        unlink(path)
        return try? PrivateFile.opened(at: path, readable: true)
    }

    deinit {
        if let descriptor { SystemCalls.close(descriptor) }
    }

    /// Reads page `number` (from 1) into `page`; false when the file has none
    /// (page 1 is never a base).
    func read(_ number: Int, into page: UnsafeMutableRawBufferPointer) -> Bool {
        guard let descriptor, number > 1, page.count == pageSize else { return false }
        let got = try? SystemCalls.pread(descriptor, into: page, at: Int64(number - 1) * Int64(pageSize), path: path)
        return got == pageSize
    }

    /// Writes `page` as page `number` (from 1); page 1 is written as zeros.
    func write(_ page: UnsafeRawBufferPointer, at number: Int) {
        guard let descriptor, page.count == pageSize else { return }
        let offset = Int64(number - 1) * Int64(pageSize)
        do {
            if number == 1 {
                let zeros = [UInt8](repeating: 0, count: pageSize)
                try zeros.withUnsafeBytes { try SystemCalls.pwrite(descriptor, $0, at: offset, path: path) }
            } else {
                try SystemCalls.pwrite(descriptor, page, at: offset, path: path)
            }
        } catch {
            stop()
        }
    }

    /// Cuts the file to `pages` pages and closes it.
    func finish(pages: Int) {
        guard let descriptor else { return }
        try? SystemCalls.ftruncate(descriptor, to: Int64(pages) * Int64(pageSize), path: path)
        stop()
    }

    /// Stops using the file for this run.
    private func stop() {
        if let descriptor { SystemCalls.close(descriptor) }
        descriptor = nil
    }
}
