import Foundation

/// Finds a fleet's company files: in folders (every file whose header says it
/// is a company file, by its `application_id` of docs/company-file.md, not by its
/// name), by glob patterns, or from a list file.
public enum FleetDiscovery {
    /// The clients `sources` and the list file at `list` name, each file once, with unique slugs.
    ///
    /// A path named outright (on the command line or in the list) is a client even
    /// when it is missing or not a company file: its step then says so. Folders,
    /// and folders or files a pattern matches, give only company files; but with the
    /// fleet's `location`, a file that a client's status record there says was found in
    /// one of those folders or by one of those patterns, and that is now missing or no
    /// longer a company file, is a client still, under its own folder, marked `lost`.
    /// - Throws: `FleetError.listUnreadable`, `FleetError.noClients`.
    public static func clients(from sources: [String], list: String? = nil, location: String? = nil) throws
        -> [FleetClient]
    {
        // The list first: the name a firm gave a client wins over a file's stem.
        var named: [(file: String, name: String)] = try list.map(listed(in:)) ?? []
        for source in sources { named += entries(for: source) }
        var seen = Set<String>()
        let unique = named.filter { seen.insert($0.file).inserted }
        // A source that is not there may be a folder not mounted: its clients' records still count.
        let searched = sources.filter { isPattern($0) || isFolder($0) || !FileManager.default.fileExists(atPath: $0) }
        let found = ClientSlug.assign(unique)
        // Only a folder no client found now has can be a lost client's: the others' records are not read.
        let taken = Set(found.map(\.slug))
        let recorded = searched.isEmpty ? [] : location.map { recordedFiles(in: $0, skipping: taken) } ?? []
        let lost = lostClients(recorded, searched: searched, found: found)
        guard !found.isEmpty || !lost.isEmpty else {
            throw FleetError.noClients(sources: sources + (list.map { [$0] } ?? []))
        }
        return found + lost
    }

    /// Each client folder of `location` (but those of `skipping`) with the file its status
    /// record names; none when the location cannot be read (each client's step then says why).
    static func recordedFiles(in location: String, skipping: Set<String> = []) -> [(slug: String, file: String)] {
        var recorded: [(slug: String, file: String)] = []
        try? StatusRecords.forEach(in: location, skipping: skipping) { slug, data, refused, _ in
            guard refused == nil, let file = data.flatMap(ClientStatus.decoded)?.file else { return }
            recorded.append((slug, file))
        }
        return recorded
    }

    /// The clients of `recorded` (a client folder and the file its record names) that a folder
    /// or pattern of `searched` would have found, and that are now missing or not company files.
    /// The record is the location's word: only a file inside a folder or pattern named here is
    /// taken, and only under the folder the record is in, when that folder's slug is the one the
    /// file's name gives and no client found now has it. Nothing but its header is read.
    static func lostClients(
        _ recorded: [(slug: String, file: String)], searched: [String], found: [FleetClient]
    ) -> [FleetClient] {
        var taken = Set(found.map(\.slug))
        var files = Set(found.map(\.file))
        var lost: [FleetClient] = []
        for (slug, file) in recorded.sorted(by: { $0.slug < $1.slug }) {
            guard !taken.contains(slug), !files.contains(file), absolute(file) == file,
                let name = searched.lazy.compactMap({ formerName(of: file, in: $0) }).first
            else { continue }
            let plain = ClientSlug.safe(name)
            guard slug == plain || slug.hasPrefix(plain + "-"), let why = whyNotFound(file) else { continue }
            taken.insert(slug)
            files.insert(file)
            lost.append(
                FleetClient(
                    name: name, slug: slug, file: file,
                    lost: "no longer found: \(file) \(why), yet its status record says it was a client"))
        }
        return lost
    }

    /// The name `file` would have had, found by the folder or pattern `source`; nil when the
    /// source would not find it (outside it, or under a hidden entry).
    private static func formerName(of file: String, in source: String) -> String? {
        let base = absolute(isPattern(source) ? literalFolder(of: source) : source)
        let prefix = base.hasSuffix("/") ? base : base + "/"
        guard file.hasPrefix(prefix) else { return nil }
        let inside = file.dropFirst(prefix.count).split(separator: "/")
        guard !inside.isEmpty, !inside.contains(where: { $0.hasPrefix(".") }) else { return nil }
        if isPattern(source) {
            // The pattern matched the file, or a folder it lies in.
            let parts = source.split(separator: "/", omittingEmptySubsequences: false)
            let literal = parts.prefix { !$0.contains(where: { "*?[".contains($0) }) }.count
            let pattern = prefix + parts.dropFirst(literal).joined(separator: "/")
            let matched = (1...inside.count).contains { count in
                fnmatch(pattern, prefix + inside.prefix(count).joined(separator: "/"), FNM_PATHNAME | FNM_PERIOD) == 0
            }
            guard matched else { return nil }
        }
        return named([file], under: base).first?.name
    }

    /// Why a file that was a client is not found now: "is missing", or "is no longer a company
    /// file (…)"; nil when it is found after all (a company file), or is not a plain file
    /// (a link, a folder), which a folder search passes over in any case.
    private static func whyNotFound(_ file: String) -> String? {
        var status = stat()
        guard lstat(file, &status) == 0 else {
            return errno == ENOENT || errno == ENOTDIR ? "is missing" : "cannot be read"
        }
        guard status.st_mode & S_IFMT == S_IFREG, !isCompanyFile(file) else { return nil }
        return "is no longer a company file (its header was overwritten, cut short or encrypted?)"
    }

    private static func isPattern(_ source: String) -> Bool { source.contains(where: { "*?[".contains($0) }) }

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
        if isPattern(source) {
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
