import Foundation

/// Finds a fleet's company files: in folders (every file whose header says it
/// is a company file, by its `application_id` of docs/company-file.md, not by its
/// name), by glob patterns, or from a list file.
public enum FleetDiscovery {
    /// The clients `sources` and the list file at `list` name, each file once, with unique slugs.
    ///
    /// A path named outright (on the command line or in the list) is a client even
    /// when it is missing or not a company file: its step then says so. Folders,
    /// and folders or files a pattern matches, give only company files.
    /// - Throws: `FleetError.listUnreadable`, `FleetError.noClients`.
    public static func clients(from sources: [String], list: String? = nil) throws -> [FleetClient] {
        // The list first: the name a firm gave a client wins over a file's stem.
        var named: [(file: String, name: String)] = try list.map(listed(in:)) ?? []
        for source in sources { named += entries(for: source) }
        var seen = Set<String>()
        let unique = named.filter { seen.insert($0.file).inserted }
        guard !unique.isEmpty else { throw FleetError.noClients(sources: sources + (list.map { [$0] } ?? [])) }
        return ClientSlug.assign(unique)
    }

    /// The lines of a list file: `PATH`, or `PATH<TAB>NAME`, or `PATH  NAME` (two spaces or more);
    /// blank lines and lines starting with `#` are skipped; a relative path is taken from the list's folder.
    public static func listed(in path: String) throws -> [(file: String, name: String)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw FleetError.listUnreadable(path: path) }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var entries: [(file: String, name: String)] = []
        for raw in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let cut = line.range(of: "\t") ?? line.range(of: "  ")
            let file = cut.map { String(line[..<$0.lowerBound]) } ?? line
            let name = cut.map { String(line[$0.upperBound...]).trimmingCharacters(in: .whitespaces) } ?? ""
            let full = absolute(file.hasPrefix("/") ? file : folder + "/" + file)
            entries.append((full, name.isEmpty ? stem(of: full) : name))
        }
        return entries
    }

    private static func entries(for source: String) -> [(file: String, name: String)] {
        if source.contains(where: { "*?[".contains($0) }) {
            // Named by their paths inside the pattern's own folder, as a folder's files are inside it:
            // 'clients/*/books.db' names acme/books and west/books, whatever else matches.
            let base = literalFolder(of: source)
            return matches(of: source).flatMap { path -> [(file: String, name: String)] in
                if isFolder(path) { return named(companyFiles(under: path), under: base) }
                return isCompanyFile(path) ? named([absolute(path)], under: base) : []
            }
        }
        if isFolder(source) { return named(companyFiles(under: source), under: source) }
        return [(absolute(source), stem(of: source))]
    }

    /// Files found in `folder`, named by their path inside it without the extension
    /// (`acme/books` for `folder/acme/books.db`): two `books.db` in two client folders get two
    /// names, which stay the same whatever other files come and go.
    private static func named(_ files: [String], under folder: String) -> [(file: String, name: String)] {
        let root = absolute(folder)
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return files.map { file in
            let inside =
                file.hasPrefix(prefix)
                ? String(file.dropFirst(prefix.count)) : URL(fileURLWithPath: file).lastPathComponent
            let url = URL(fileURLWithPath: inside)
            let parent = url.deletingLastPathComponent().relativePath
            return (file, (parent == "." || parent.isEmpty ? "" : parent + "/") + stem(of: inside))
        }
    }

    /// Every company file in `folder` and its subfolders, sorted; hidden entries and links are passed over.
    /// The folder a pattern's matches lie in before its first wildcard: `clients` for
    /// `clients/*/books.db`, `.` for `*.db`.
    static func literalFolder(of pattern: String) -> String {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let literal = parts.prefix { !$0.contains(where: { "*?[".contains($0) }) }
        guard literal.count < parts.count else { return URL(fileURLWithPath: pattern).deletingLastPathComponent().path }
        let joined = literal.joined(separator: "/")
        return literal.isEmpty ? "." : joined.isEmpty ? "/" : joined
    }

    static func companyFiles(under folder: String) -> [String] {
        let root = absolute(folder)
        guard
            let walker = FileManager.default.enumerator(
                at: URL(fileURLWithPath: root),
                includingPropertiesForKeys: [.isRegularFileKey],
                options: [.skipsHiddenFiles])
        else { return [] }
        var found: [String] = []
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            if isCompanyFile(url.path) { found.append(url.path) }
        }
        return found.sorted()
    }

    /// Whether the file's header names it a company file; a file that cannot be read is not one here.
    static func isCompanyFile(_ path: String) -> Bool {
        (try? FileHeader.read(path: path))?.isCompanyFile ?? false
    }

    private static func matches(of pattern: String) -> [String] {
        var found = glob_t()
        defer { globfree(&found) }
        guard glob(pattern, 0, nil, &found) == 0 else { return [] }
        return (0..<Int(found.gl_pathc)).compactMap { found.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }

    private static func isFolder(_ path: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder.boolValue
    }

    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    /// `acme` for `/books/acme.db`.
    static func stem(of path: String) -> String {
        URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }
}
