import Foundation

/// Why a snapshot was taken (SPEC §4).
public enum SnapshotKind: String, Codable, CaseIterable, Sendable {
    case manual, scheduled
    case preRebuild = "pre-rebuild"
    case preRestore = "pre-restore"
}

/// The JSON manifest a snapshot carries in its gzip header's comment field:
/// enough to judge a snapshot without restoring it.
public struct Manifest: Codable, Equatable, Sendable {
    public var createdAt: String
    public var kind: SnapshotKind
    public var company: String?
    /// The company file's name, without its folder.
    public var source: String
    public var formatVersion: Int
    public var databaseBytes: Int64
    /// SHA-256 of the decompressed bytes, lowercase hex.
    public var databaseSha256: String
    /// `clean`, `findings` or `skipped`.
    public var verify: String
    /// Rows of accounts, transactions and splits, when the copy could be read.
    public var counts: [String: Int]?
    /// The sum of every split amount in cents: 0 when the books balance.
    public var splitSum: Int64?

    enum CodingKeys: String, CodingKey {
        case createdAt = "created_at", kind, company, source, formatVersion = "format_version"
        case databaseBytes = "database_bytes", databaseSha256 = "database_sha256", verify, counts
        case splitSum = "split_sum"
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
                text += "\\u" + String(repeating: "0", count: 4 - String(unit, radix: 16).count) + String(unit, radix: 16)
            }
        }
        return text
    }
}

/// A snapshot file and what its manifest says.
public struct Snapshot: Codable, Equatable, Sendable {
    public var path: String
    /// The snapshot file's size.
    public var bytes: Int64
    public var manifest: Manifest
}

/// How snapshot files are named: `<stem>-<YYYYMMDD>T<HHMMSS>Z[-N]<ext>.gz`.
enum SnapshotName {
    static func make(source: String, at moment: Date, sequence: Int) -> String {
        let name = URL(fileURLWithPath: source).lastPathComponent
        let dot = name.lastIndex(of: ".").flatMap { $0 == name.startIndex ? nil : $0 }
        let stem = dot.map { String(name[..<$0]) } ?? name
        let ext = dot.map { String(name[$0...]) } ?? ""
        let compact = Timestamp.string(from: moment).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        return stem + "-" + compact + (sequence > 1 ? "-\(sequence)" : "") + ext + ".gz"
    }

    /// Whether a listing shows the entry `name`: hidden and partial files never.
    static func isListed(_ name: String) -> Bool {
        !name.hasPrefix(".") && name.hasSuffix(".gz")
    }

    /// Whether `name` names one snapshot rather than a place holding them.
    static func looksLikeSnapshot(_ name: String) -> Bool {
        isListed(name)
    }
}
