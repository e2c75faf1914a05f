import Foundation

/// Why a snapshot was taken (docs/snapshots.md).
public enum SnapshotKind: String, Codable, CaseIterable, Sendable {
    case manual, scheduled
    case preRebuild = "pre-rebuild"
    case preRestore = "pre-restore"
}

/// The JSON manifest a snapshot carries in its gzip header's comment field:
/// enough to judge a snapshot without restoring it.
public struct Manifest: Codable, Equatable, Sendable {
    /// When the snapshot was taken, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    public var createdAt: String
    /// Why it was taken (`manual`, `scheduled`, `pre-rebuild`, `pre-restore`).
    public var kind: SnapshotKind
    /// The company's name from the file's company row, when it has one.
    public var company: String?
    /// The company file's name, without its folder.
    public var source: String
    /// The company file's format version (`user_version`).
    public var formatVersion: Int
    /// The size of the company file inside, in bytes.
    public var databaseBytes: Int64
    /// SHA-256 of the decompressed bytes, lowercase hex.
    public var databaseSha256: String
    /// `clean`, `findings` or `skipped`.
    public var verify: String
    /// Rows of accounts, transactions and splits, when the copy could be read.
    public var counts: [String: Int]?
    /// The sum of every split amount in cents: 0 when the books balance.
    public var splitSum: Int64?
    /// HMAC-SHA256 (hex) of the rest of the manifest under this machine's
    /// `ManifestKey`; nil when written without one. Only a manifest that
    /// carries a valid one is believed when it says `verify: clean`.
    public var hmac: String? = nil
    /// Rows of every table of the copy (`BookFigures`), when it verified clean;
    /// absent in older manifests. A restore drill compares them.
    public var tableCounts: [String: Int]? = nil
    /// SHA-256 (hex) of the copy's trial balance (`BookFigures`), when it verified clean;
    /// absent in older manifests. A restore drill compares it.
    public var trialBalanceSha256: String? = nil
    /// Set for an incremental snapshot (docs/incremental.md): its pages are in packs.
    public var incremental: IncrementalLayout? = nil
    /// `company.created_at` of the copy, when it could be read; absent in
    /// older manifests. Unlike the name, a rename leaves it as it was: it
    /// tells two companies' files of one name apart (keep rules, check-backups).
    public var companyCreatedAt: String? = nil
    /// The fleet client's folder (its slug) `fleet backup` took it into; absent
    /// for a single backup. Signed with the rest, it tells a snapshot moved
    /// into another client's folder (`Restorer.choose`).
    public var fleetClient: String? = nil

    enum CodingKeys: String, CodingKey {
        case createdAt = "created_at"
        case kind, company, source
        case formatVersion = "format_version"
        case databaseBytes = "database_bytes"
        case databaseSha256 = "database_sha256"
        case verify, counts
        case splitSum = "split_sum"
        case hmac
        case tableCounts = "table_counts"
        case trialBalanceSha256 = "trial_balance_sha256"
        case incremental
        case companyCreatedAt = "company_created_at"
        case fleetClient = "fleet_client"
    }

    /// The manifest as one line of ASCII JSON (RFC 1952 comments are Latin-1, so
    /// anything past ASCII is written as a \u escape).
    func commentText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(self), as: UTF8.self)
        var text = ""
        for unit in json.utf16 {
            if unit < 0x80 {
                text.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            } else {
                text +=
                    "\\u" + String(repeating: "0", count: 4 - String(unit, radix: 16).count) + String(unit, radix: 16)
            }
        }
        return text
    }
}

/// The company a manifest names: its name and creation time (nil in manifests
/// from before `company_created_at` was kept). Copies of one template share the
/// time and a rename keeps it: the two together tell companies apart.
struct ManifestCompany: Hashable, Comparable, Sendable {
    let name: String
    let createdAt: String?

    /// Whether a snapshot of this company may be of `other`: the same name,
    /// and the same time where both give one.
    func mayBe(_ other: ManifestCompany) -> Bool {
        name == other.name && (createdAt == nil || other.createdAt == nil || createdAt == other.createdAt)
    }

    static func < (a: ManifestCompany, b: ManifestCompany) -> Bool {
        (a.name, a.createdAt ?? "") < (b.name, b.createdAt ?? "")
    }
}

extension Manifest {
    /// The company it names.
    var companyIdentity: ManifestCompany { ManifestCompany(name: company ?? "", createdAt: companyCreatedAt) }
}

/// A snapshot and what is known of it: everything its manifest says, or,
/// for an encrypted snapshot read without a key, what its name (and the
/// location's metadata) says.
public struct Snapshot: Codable, Equatable, Sendable {
    /// Where the snapshot is: a file's path or `s3://BUCKET/KEY`.
    public var path: String
    /// The snapshot file's size.
    public var bytes: Int64
    /// Its manifest; nil for an encrypted snapshot read without a key.
    public var manifest: Manifest?
    /// Whether it is encrypted (age, `….gz.age`).
    public var encrypted: Bool
    /// Its time: the manifest's, else its name's.
    public var createdAt: String
    /// Its kind: the manifest's, else the location's metadata's; nil when neither says.
    public var kind: SnapshotKind?
    /// The name of the company file it is of: the manifest's `source`, else from its name.
    public var source: String
    /// When its location says it was written (`YYYY-MM-DDTHH:MM:SSZ`): a
    /// file's modification time, an object's `LastModified`; nil when the
    /// location did not say.
    public var listedAt: String?
    /// Whether this machine's `ManifestKey` signed its manifest, as
    /// `marking(_:signedBy:)` found: it is then ranked by its own time, not
    /// the location's (`rankedAt`).
    public var signedHere = false

    enum CodingKeys: String, CodingKey {
        case path, bytes, manifest, encrypted, createdAt, kind, source, listedAt
    }

    /// `snapshots`, each marked `signedHere` when `key` signed its manifest.
    public static func marking(_ snapshots: [Snapshot], signedBy key: ManifestKey?) -> [Snapshot] {
        guard let key else { return snapshots }
        return snapshots.map { snapshot in
            var marked = snapshot
            marked.signedHere = snapshot.manifest.map(key.signed) ?? false
            return marked
        }
    }

    /// A snapshot whose manifest was read.
    public init(path: String, bytes: Int64, manifest: Manifest, encrypted: Bool = false, listedAt: String? = nil) {
        self.path = path
        self.bytes = bytes
        self.manifest = manifest
        self.encrypted = encrypted
        createdAt = manifest.createdAt
        kind = manifest.kind
        source = manifest.source
        self.listedAt = listedAt
    }

    /// An encrypted snapshot read without a key: what its name says.
    init?(sealedAt path: String, bytes: Int64, kind: SnapshotKind?, listedAt: String? = nil) {
        guard let named = SnapshotName.parse(URL(fileURLWithPath: path).lastPathComponent) else { return nil }
        self.path = path
        self.bytes = bytes
        manifest = nil
        encrypted = true
        createdAt = named.createdAt
        self.kind = kind
        source = named.source
        self.listedAt = listedAt
    }

    /// When it was taken, as far as can be trusted: the time its manifest (or
    /// name) says, unless that is later than the time its location lists it
    /// written, which it cannot honestly be, then the listed time. A copy made
    /// later (`cp`, `aws s3 cp`) keeps its own time; a name dated in the future
    /// never outranks a snapshot taken since. Nil when neither time can be read.
    public var takenAt: Date? {
        let claimed = Timestamp.parse(createdAt)
        let listed = listedAt.flatMap(Timestamp.parse)
        guard let claimed, let listed else { return claimed ?? listed }
        return min(claimed, listed)
    }

    /// The time it is ranked by among others (`SnapshotCatalog.isOlder`):
    /// `takenAt`, but the manifest's own time when this machine signed it
    /// (`signedHere`), so that a location setting its file's time back cannot
    /// make the newest snapshot this machine took rank as an old one. A time
    /// more than `clockSkew` past this machine's clock (a snapshot taken while a
    /// clock ran ahead) is not known: it ranks oldest, so that it never
    /// outranks, for ever, every snapshot taken since.
    var rankedAt: Date? {
        let time = signedHere ? Timestamp.parse(createdAt) ?? takenAt : takenAt
        guard let time, time <= Date().addingTimeInterval(Self.clockSkew) else { return nil }
        return time
    }

    /// How far past this machine's clock a snapshot's time may lie and still be believed (ten minutes).
    static let clockSkew: TimeInterval = 600

    /// Its verify, when its manifest could be read: nil for an encrypted snapshot read without a key.
    public var verify: String? { manifest?.verify }

    /// The stem of the company file it is a copy of (`acme-west` for
    /// `acme-west.db`): its manifest's `source`'s, else its name's
    /// (`acme-west-20261121T020000Z.db.gz.age`). Stems are matched whole:
    /// `acme` is not `acme-west`.
    public var stem: String {
        if let manifest { return SnapshotName.stem(of: manifest.source) }
        return SnapshotName.parse(URL(fileURLWithPath: path).lastPathComponent)?.stem ?? SnapshotName.stem(of: source)
    }
}

/// How snapshot files are named: `<stem>-<YYYYMMDD>T<HHMMSS>Z[-N]<ext>.gz`,
/// and `.gz.age` after it when encrypted.
enum SnapshotName {
    static let encryptedSuffix = ".age"

    static func make(source: String, at moment: Date, sequence: Int, encrypted: Bool = false) -> String {
        let (stem, ext) = split(source)
        let compact = Timestamp.compact(from: moment)
        return stem + "-" + compact + (sequence > 1 ? "-\(sequence)" : "") + ext + ".gz"
            + (encrypted ? encryptedSuffix : "")
    }

    /// A company file's name without its folder and last extension: `acme` for `/books/acme.db`.
    static func stem(of file: String) -> String { split(file).stem }

    /// A file's name split before its last dot (a leading dot is part of the stem).
    private static func split(_ file: String) -> (stem: String, ext: String) {
        let name = file.split(separator: "/").last.map(String.init) ?? ""
        let dot = name.lastIndex(of: ".").flatMap { $0 == name.startIndex ? nil : $0 }
        return (dot.map { String(name[..<$0]) } ?? name, dot.map { String(name[$0...]) } ?? "")
    }

    static func isEncrypted(_ name: String) -> Bool { name.hasSuffix(".gz" + encryptedSuffix) }

    /// The company file's name, its stem and the time a snapshot's name says:
    /// `acme-20261121T020000Z-2.db.gz.age` gives `acme.db`, `acme` and `2026-11-21T02:00:00Z`.
    static func parse(_ name: String) -> (source: String, stem: String, createdAt: String)? {
        var rest = name
        if rest.hasSuffix(encryptedSuffix) { rest.removeLast(encryptedSuffix.count) }
        guard rest.hasSuffix(".gz") else { return nil }
        rest.removeLast(3)
        // The last "-YYYYMMDDTHHMMSSZ" in the name, maybe followed by "-N", then the extension.
        let bytes = Array(rest.utf8)
        for start in stride(from: bytes.count - 17, through: 1, by: -1) where bytes[start - 1] == UInt8(ascii: "-") {
            let stamp = bytes[start..<start + 16]
            guard stamp[start + 8] == UInt8(ascii: "T"), stamp[start + 15] == UInt8(ascii: "Z"),
                stamp.enumerated().allSatisfy({ $0.offset == 8 || $0.offset == 15 || (48...57).contains($0.element) })
            else { continue }
            var after = bytes[(start + 16)...]
            if after.first == UInt8(ascii: "-") {
                let digits = after.dropFirst().prefix { (48...57).contains($0) }
                guard !digits.isEmpty else { continue }
                after = after.dropFirst(1 + digits.count)
            }
            let digits = String(decoding: stamp, as: UTF8.self)
            func part(_ from: Int, _ count: Int) -> String { String(digits.dropFirst(from).prefix(count)) }
            let time = "\(part(0, 4))-\(part(4, 2))-\(part(6, 2))T\(part(9, 2)):\(part(11, 2)):\(part(13, 2))Z"
            guard Timestamp.parse(time) != nil else { continue }
            let stem = String(decoding: bytes[..<(start - 1)], as: UTF8.self)
            return (stem + String(decoding: after, as: UTF8.self), stem, time)
        }
        return nil
    }

    /// Whether a listing shows the entry `name`: hidden and partial files never.
    static func isListed(_ name: String) -> Bool {
        !name.hasPrefix(".") && (name.hasSuffix(".gz") || isEncrypted(name))
    }

}
