import Foundation

/// A `ByteStore` that is a folder on this machine: each object a file of it.
/// Objects appear with `link(2)`, which never replaces a name, from a file
/// already whole and flushed; files made here are private (mode 0600). The
/// lock is `flock(2)` on `.ledger.lock` (`FolderLock`).
public struct FolderStore: ByteStore {
    /// The folder, as given, less trailing slashes.
    public let folder: String

    /// `folder` as given, less trailing slashes (`backups/` names `backups`; `/` stays `/`).
    public init(_ folder: String) {
        var trimmed = Substring(folder)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        self.folder = String(trimmed)
    }

    /// The folder, less trailing slashes: how messages name this store.
    public var description: String { folder }

    /// Creates the folder (private, mode 0700) when missing, and refuses a file
    /// in its place or a folder this user cannot write.
    public func prepare() throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw FileError.cannotWrite(path: folder, reason: "it is a file, not a folder")
            }
        } else {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw FileError.cannotWrite(path: folder, reason: "the folder cannot be created")
            }
        }
        guard access(folder, W_OK) == 0 else {
            throw FileError.cannotWrite(path: folder, reason: "the folder is not writable")
        }
    }

    /// Whether the folder is there and is a folder.
    public func exists() throws -> Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue
    }

    /// The folder's files whose names start with `prefix`, sorted by name; one
    /// that cannot be looked at is listed with size 0.
    public func list(prefix: String) throws -> [StoredObject] {
        // A prefix naming a subfolder (`packs/`) lists that folder's files.
        let sub = prefix.range(of: "/", options: .backwards).map { String(prefix[..<$0.upperBound]) } ?? ""
        let names: [String]
        if sub.isEmpty {
            names = try entryNames()
        } else {
            guard try exists() else { throw ByteStoreError.noPlace(folder) }
            try refuseLinkedFolders(in: sub)
            names = try FolderStore(path(of: String(sub.dropLast()))).entryNamesIfPresent().map { sub + $0 }
        }
        // A name whose file cannot be looked at (a dangling link, a file gone
        // since) is listed with no bytes: the caller says it cannot be read.
        return names.filter { $0.hasPrefix(prefix) }.sorted().map { name in
            ((try? entry(name)) ?? nil) ?? StoredObject(name: name, size: 0)
        }
    }

    /// Every name in the folder, unsorted.
    private func entryNames() throws -> [String] {
        guard try exists() else { throw ByteStoreError.noPlace(folder) }
        return try entryNamesIfPresent()
    }

    /// Every name in the folder, unsorted; none when there is no folder.
    private func entryNamesIfPresent() throws -> [String] {
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw FileError.cannotRead(path: folder, reason: "its names cannot be listed")
        }
    }

    /// The real sub-folders, sorted; links to folders are left out, as they could
    /// lead anywhere on this machine.
    public func folders() throws -> [String] {
        // A folder itself, not a link to one: a link could lead anywhere on this machine.
        return try entryNames().sorted().filter { name in
            var status = stat()
            return lstat(path(of: name), &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
        }
    }

    /// The file `name` with its size and time, or nil when there is none. A
    /// link in its place is refused, never followed: a location is someone
    /// else's disk, and a link planted there could lead to any file on this machine.
    public func entry(_ name: String) throws -> StoredObject? {
        try refuseLinkedFolders(above: name)
        var status = stat()
        guard lstat(path(of: name), &status) == 0 else {
            if errno == ENOENT { return nil }
            throw FileError.cannotRead(path: path(of: name), reason: String(cString: strerror(errno)))
        }
        guard status.st_mode & S_IFMT != S_IFLNK else {
            throw FileError.cannotRead(path: path(of: name), reason: SystemCalls.linkRefused)
        }
        let modified = Date(timeIntervalSince1970: TimeInterval(status.st_mtim.tv_sec))
        return StoredObject(name: name, size: Int64(status.st_size), modified: Timestamp.string(from: modified))
    }

    /// Bytes `range` of the file `name`: fewer only where the file ends. A
    /// link in its place is refused, as by `entry`.
    public func read(_ name: String, range: ClosedRange<Int64>) throws -> Data {
        let (path, descriptor) = try openRefusingLinks(name)
        defer { SystemCalls.close(descriptor) }
        var data = Data(count: Int(range.upperBound - range.lowerBound + 1))
        var got = 0
        do {
            while got < data.count {
                let count = try data.withUnsafeMutableBytes {
                    try SystemCalls.pread(
                        descriptor, into: UnsafeMutableRawBufferPointer(rebasing: $0[got...]),
                        at: range.lowerBound + Int64(got), path: path)
                }
                if count == 0 { break }
                got += count
            }
        } catch let error as SystemCallError {
            throw FileError.cannotRead(path: path, reason: error.reason)
        }
        return data.prefix(got)
    }

    /// The whole file `name` when it is at most `limit` bytes, or nil when there
    /// is none; a longer one throws `ByteStoreError.tooLarge`.
    public func contents(of name: String, limit: Int) throws -> Data? {
        guard let entry = try entry(name) else { return nil }
        guard entry.size <= limit else { throw ByteStoreError.tooLarge(path: path(of: name), limit: limit) }
        // One byte past the size it had, to tell a file grown since: never the whole limit's room.
        let data = try read(name, range: 0...min(Int64(limit), max(entry.size, 0)))
        guard data.count <= limit else { throw ByteStoreError.tooLarge(path: path(of: name), limit: limit) }
        return data
    }

    /// Calls `body` with the file itself: no copy is made, so `size` and `near` are unused.
    /// The file is opened here, never through a link, and `body` is given that open file
    /// (`/proc/self/fd/N`), not its name: a link put in its place after it was listed
    /// is not followed out of the location.
    public func withLocalFile<T>(of name: String, size: Int64?, near: String, _ body: (String) throws -> T) throws -> T
    {
        let (path, descriptor) = try openRefusingLinks(name)
        defer { SystemCalls.close(descriptor) }
        let opened = "/proc/self/fd/\(descriptor)"
        guard FileManager.default.fileExists(atPath: opened) else { return try body(path) }
        do {
            return try body(opened)
        } catch FileError.cannotRead(opened, let reason) {
            // Said of the file's own name.
            throw FileError.cannotRead(path: path, reason: reason)
        }
    }

    /// The folder itself: a file built here becomes an object by a link, not a copy.
    public var stagingFolder: String? { folder }

    /// Links the flushed file at `source` under `name` (a private copy first when it
    /// is on another file system), never over an existing name; attributes are not kept.
    /// - Returns: when the file was written, as its modification time gives it.
    @discardableResult
    public func create(_ name: String, from source: String, attributes: [String: String]) throws -> String? {
        let final = path(of: name)
        // Never into a sub-folder that is a link: the object would be written outside the location.
        do {
            try refuseLinkedFolders(above: name)
        } catch FileError.cannotRead(let path, let reason) {
            throw FileError.cannotWrite(path: path, reason: reason)
        }
        if let slash = name.lastIndex(of: "/") {
            // A name in a subfolder (`packs/…`): the subfolder is made first.
            try? FileManager.default.createDirectory(
                atPath: path(of: String(name[..<slash])),
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        }
        do {
            try SystemCalls.fsync(path: source)
            do {
                try SystemCalls.link(source, final)
            } catch let error as SystemCallError where error.code == EXDEV {
                // Another file system: a private copy here, whole and flushed, takes the name.
                let copy = AtomicFile.temporaryPath(beside: final, purpose: "store.partial")
                defer { unlink(copy) }
                try PrivateFile.copy(source, to: copy)
                try SystemCalls.fsync(path: copy)
                try SystemCalls.link(copy, final)
            }
        } catch let error as SystemCallError where error.code == EEXIST {
            throw ByteStoreError.exists(store: description, name: name)
        } catch let error as SystemCallError {
            throw FileError.cannotWrite(path: final, reason: error.reason)
        }
        try AtomicFile.fsync(path: folder)
        return (try? entry(name))??.modified
    }

    /// Removes the file `name`; one already gone is no error. A name under a
    /// sub-folder that is a link, or a name that is a folder, is refused: a
    /// location is someone else's disk, and a link planted there must not
    /// turn a prune into removing files elsewhere on this machine.
    public func remove(_ name: String) throws {
        let path = path(of: name)
        if let slash = name.range(of: "/", options: .backwards) {
            try refuseLinkedFolders(in: String(name[..<slash.upperBound]))
        }
        var status = stat()
        if lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            throw FileError.cannotWrite(path: path, reason: "it is a folder, not a file the location holds")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw FileError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        try AtomicFile.fsync(path: folder)
    }

    /// Throws unless every folder of `sub` (`packs/`) that exists is a folder
    /// itself, not a link to one, which could lead anywhere on this machine.
    /// `refuseLinkedFolders(in:)` for the sub-folders a name in one (`packs/…`) lies in.
    /// The path of the file `name` and a descriptor open on it for reading, neither it
    /// nor a folder above it in the location being a link.
    private func openRefusingLinks(_ name: String) throws -> (path: String, descriptor: Int32) {
        try refuseLinkedFolders(above: name)
        let path = path(of: name)
        do {
            return (path, try SystemCalls.openRegularFile(path, followingLinks: false))
        } catch let error as SystemCallError {
            throw FileError.cannotRead(path: path, reason: error.detail ?? "cannot open it")
        }
    }

    private func refuseLinkedFolders(above name: String) throws {
        guard let slash = name.range(of: "/", options: .backwards) else { return }
        try refuseLinkedFolders(in: String(name[..<slash.upperBound]))
    }

    func refuseLinkedFolders(in sub: String) throws {
        var walked = folder
        for part in sub.split(separator: "/") {
            walked += "/" + part
            var status = stat()
            guard lstat(walked, &status) == 0 else { return }
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw FileError.cannotRead(
                    path: walked,
                    reason:
                        "it is a link or not a folder; in a backup location it must be a folder itself (remove the link, then run the command again)"
                )
            }
        }
    }

    /// Waits for and takes the folder's lock (`flock(2)` on `.ledger.lock`).
    public func lock() throws -> any StoreLock {
        try FolderLock(folder: folder)
    }

    /// The path of `name` in this folder, for messages and for opening it.
    public func path(of name: String) -> String {
        folder + "/" + name
    }

    /// The name of the object at `path` when that file is directly in this folder,
    /// else nil.
    public func name(at path: String) throws -> String? {
        let url = URL(fileURLWithPath: path)
        guard
            url.deletingLastPathComponent().standardizedFileURL.path
                == URL(fileURLWithPath: folder).standardizedFileURL.path
        else { return nil }
        return url.lastPathComponent
    }
}
