import Foundation

/// The recipients the company file's owner keeps on this machine, per backup
/// location: the file `$XDG_CONFIG_HOME/ledger/recipients` (else
/// `~/.config/ledger/recipients`). A location's own `.ledger-recipients` is
/// only compared with them (docs/snapshots.md): whoever can write to the location
/// cannot add a reader, nor turn encryption off.
///
/// The format, one location a line:
///
///     # LOCATION            RECIPIENT [RECIPIENT…]
///     /mnt/nas/books        age1…  age1…
///     s3://acme-backups/books age1…
///     "/media/USB Drive/books" age1…
///
/// LOCATION is a full path (`/…`, or `~/…` for the home folder) or
/// `s3://BUCKET/PREFIX`, in double quotes when it holds spaces; the
/// recipients (`age1…`) follow it, separated by spaces. A `#` starts a
/// comment (a whole line, or after the recipients); blank lines are ignored.
/// Lines for one location add up. A location's recipients hold for it and
/// for every place under it (`/mnt/nas/fleet` for `/mnt/nas/fleet/acme`, never
/// for `/mnt/nas/fleet2`); where several lines' locations hold a place, the
/// nearest counts. Folders are matched after following symbolic links, so
/// `--to` may name a folder by another path.
public struct RecipientsConfig: Sendable, Equatable {
    /// Where it was read from (or would be), for messages.
    public let path: String
    /// The recipients of each location as written, in the order of the file.
    let entries: [(location: String, recipients: [AgeRecipient])]
    /// The home folder `~/` stands for.
    let home: String

    /// Equal when read from the same file, with the same home, naming the same recipients location by location.
    public static func == (lhs: RecipientsConfig, rhs: RecipientsConfig) -> Bool {
        lhs.path == rhs.path && lhs.home == rhs.home
            && lhs.entries.elementsEqual(rhs.entries) {
                $0.location == $1.location && $0.recipients == $1.recipients
            }
    }

    /// The largest recipients file read: far beyond any list of locations.
    static let maximumBytes = 1 << 20

    /// Where this machine's recipients file is: `$XDG_CONFIG_HOME/ledger/recipients`
    /// when that variable holds a full path (as the XDG spec says), else
    /// `$HOME/.config/ledger/recipients`.
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let base = environment["XDG_CONFIG_HOME"], base.hasPrefix("/") { return base + "/ledger/recipients" }
        return home(environment) + "/.config/ledger/recipients"
    }

    private static func home(_ environment: [String: String]) -> String {
        environment["HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? NSHomeDirectory()
    }

    /// No recipients for any location.
    public static func none(environment: [String: String] = ProcessInfo.processInfo.environment) -> RecipientsConfig {
        RecipientsConfig(path: path(environment: environment), entries: [], home: home(environment))
    }

    /// This machine's recipients file; none when it does not exist.
    /// - Throws: `RecipientsError.configOpen` when others can change it (as
    ///   ssh refuses an `authorized_keys` others can write), `.badConfigLine`
    ///   for a line that does not read.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> RecipientsConfig
    {
        let path = path(environment: environment)
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return none(environment: environment) }
            throw RecipientsError.configOpen(path: path, reason: "cannot be read (\(String(cString: strerror(errno))))")
        }
        guard status.st_mode & S_IFMT == S_IFREG, status.st_size <= maximumBytes else {
            throw RecipientsError.badConfigLine(
                path: path, line: 0, reason: "it is not a recipients file (a plain file under 1 MiB)")
        }
        guard status.st_uid == getuid() || status.st_uid == 0 else {
            throw RecipientsError.configOpen(path: path, reason: "belongs to another user")
        }
        guard status.st_mode & 0o022 == 0 else {
            throw RecipientsError.configOpen(
                path: path, reason: "can be changed by other users (mode \(String(status.st_mode & 0o777, radix: 8)))")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecipientsError.configOpen(path: path, reason: "cannot be read")
        }
        return try parse(data, path: path, home: home(environment))
    }

    /// Reads the recipients file's bytes (see the type's comment for the format).
    /// - Throws: `RecipientsError.badConfigLine` naming the first line that does not read.
    public static func parse(_ data: Data, path: String, home: String) throws -> RecipientsConfig {
        guard data.count <= maximumBytes else {
            throw RecipientsError.badConfigLine(path: path, line: 0, reason: "it is larger than 1 MiB")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RecipientsError.badConfigLine(path: path, line: 0, reason: "it is not UTF-8 text")
        }
        var entries: [(location: String, recipients: [AgeRecipient])] = []
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .enumerated()
        {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            func refuse(_ reason: String) -> RecipientsError {
                .badConfigLine(path: path, line: index + 1, reason: reason)
            }
            var rest = line.drop { $0 == " " || $0 == "\t" }
            if rest.isEmpty || rest.hasPrefix("#") { continue }
            let location: String
            if rest.hasPrefix("\"") {
                guard let end = rest.dropFirst().firstIndex(of: "\"") else {
                    throw refuse("its location's quote is not closed")
                }
                location = String(rest[rest.index(after: rest.startIndex)..<end])
                rest = rest[rest.index(after: end)...]
                guard rest.isEmpty || rest.first == " " || rest.first == "\t" else {
                    throw refuse("a space must follow its quoted location")
                }
            } else {
                location = String(rest.prefix { $0 != " " && $0 != "\t" })
                rest = rest.dropFirst(location.count)
            }
            // A secret key pasted here is never quoted back, not even its start: messages reach logs.
            guard !AgeKeyFiles.holdsSecretKey(location) else { throw refuse(Self.secretKey(location)) }
            guard location.hasPrefix("/") || location.hasPrefix("~/") || location.lowercased().hasPrefix("s3://") else {
                throw refuse("'\(Self.shown(location))' is not a full path (/…, ~/…) or s3://BUCKET/PREFIX")
            }
            if location.lowercased().hasPrefix("s3://") {
                do {
                    _ = try S3Location(location)
                } catch {
                    throw refuse("'\(Self.shown(location))' is not an s3://BUCKET/PREFIX location")
                }
            }
            var recipients: [AgeRecipient] = []
            for word in rest.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                if word.hasPrefix("#") { break }
                guard !AgeKeyFiles.holdsSecretKey(word) else { throw refuse(Self.secretKey(String(word))) }
                guard let recipient = try? AgeRecipient(String(word)) else {
                    throw refuse("'\(Self.shown(String(word)))' is not an age1… recipient")
                }
                recipients.append(recipient)
            }
            guard !recipients.isEmpty else { throw refuse("it names no recipient for \(Self.shown(location))") }
            entries.append((location, recipients))
        }
        return RecipientsConfig(path: path, entries: entries, home: home)
    }

    /// Why a line holding a secret key is refused: what to write instead, never the key.
    private static func secretKey(_ word: String) -> String {
        let instead =
            AgeIdentity(text: word).map { "its public key, \($0.recipient.text)," }
            ?? "its public key (what 'age-keygen -y KEYFILE' prints)"
        return "it holds a secret key (AGE-SECRET-KEY-1…), which must never be written here: "
            + "remove it, and write \(instead) in its place"
    }

    /// A piece of a line, short and on one line, for a message.
    private static func shown(_ text: String) -> String {
        Quoting.oneLine(text.count > 40 ? String(text.prefix(40)) + "…" : text)
    }

    /// The recipients set for the location `text` names (a folder, relative
    /// to the current folder, or `s3://…`): those of the nearest configured
    /// location that is it or holds it, component by component
    /// (`s3://books/fleet` holds `s3://books/fleet/acme`, not
    /// `s3://books/fleet2`), from every line naming that location, each once,
    /// in the file's order. Every writer and reader of a location asks here,
    /// so a fleet's line covers each of its clients' folders.
    ///
    /// A folder is known by two spellings, as written (`.` and `..` taken
    /// away) and with its links resolved; each gets the recipients of its
    /// nearest line, and a snapshot there is encrypted to both: a link planted
    /// in a covered folder, leading out of it (or to a place another line
    /// covers), does not take what is written through it out of the owner's rule.
    public func recipients(for text: String) -> [AgeRecipient] {
        var found: [AgeRecipient] = []
        for wanted in Self.spellings(text, home: home) {
            for recipient in nearest(holding: wanted) where !found.contains(recipient) { found.append(recipient) }
        }
        return found
    }

    /// The recipients of the nearest lines whose place (either spelling of
    /// it) is `wanted` or holds it.
    private func nearest(holding wanted: [String]) -> [AgeRecipient] {
        let holding = entries.compactMap { entry -> (depth: Int, recipients: [AgeRecipient])? in
            let depths = Self.spellings(entry.location, home: home).compactMap { place in
                wanted.starts(with: place) ? place.count : nil
            }
            return depths.max().map { ($0, entry.recipients) }
        }
        // Two places that both hold `wanted` and have as many components are the same place.
        guard let nearest = holding.map(\.depth).max() else { return [] }
        var found: [AgeRecipient] = []
        for entry in holding where entry.depth == nearest {
            for recipient in entry.recipients where !found.contains(recipient) { found.append(recipient) }
        }
        return found
    }

    /// The place `text` names, component by component from the top: a
    /// folder's as `/` then its canonical path's names, an object storage
    /// location's as `s3://BUCKET` then its prefix's parts, so that no folder
    /// holds a bucket's place nor the other way round. Nil for an `s3://` text
    /// that is not a location.
    static func components(_ text: String, home: String) -> [String]? {
        guard let canonical = canonical(text, home: home) else { return nil }
        if let bucket = try? S3Location(canonical) {
            return ["s3://" + bucket.bucket] + bucket.prefix.split(separator: "/").map(String.init)
        }
        return ["/"] + canonical.split(separator: "/").map(String.init)
    }

    /// The place `text` names as `components` gives it and, for a folder,
    /// also as written: a full path with `.` and `..` taken away, no link
    /// resolved. Empty for an `s3://` text that is not a location.
    static func spellings(_ text: String, home: String) -> [[String]] {
        guard let resolved = components(text, home: home) else { return [] }
        guard resolved.first == "/" else { return [resolved] }
        let path = URL(fileURLWithPath: expanded(text, home: home)).standardizedFileURL.path
        let written = ["/"] + path.split(separator: "/").map(String.init)
        return written == resolved ? [resolved] : [resolved, written]
    }

    /// One spelling per place: `s3://bucket/prefix` without a trailing `/`;
    /// a folder as a full path with `.`, `..` and symbolic links resolved
    /// as far as it exists (a client's folder not made yet, under a link, is
    /// still under the folder the link leads to). Nil for an `s3://` text
    /// that is not a location.
    static func canonical(_ text: String, home: String) -> String? {
        if text.lowercased().hasPrefix("s3://") { return (try? S3Location(text))?.description }
        var existing = URL(fileURLWithPath: expanded(text, home: home)).standardizedFileURL
        var missing: [String] = []
        while existing.path != "/", !FileManager.default.fileExists(atPath: existing.path) {
            missing.insert(existing.lastPathComponent, at: 0)
            existing = existing.deletingLastPathComponent()
        }
        return missing.reduce(existing.resolvingSymlinksInPath()) { $0.appendingPathComponent($1) }.path
    }

    /// `text` with a leading `~` for `home`.
    private static func expanded(_ text: String, home: String) -> String {
        text == "~" ? home : text.hasPrefix("~/") ? home + text.dropFirst(1) : text
    }
}
