import Foundation

/// What one repair did to one row: docs/company-file.md's `repair_actions` row.
public struct RepairAction: Codable, Sendable, Equatable {
    /// What the repair did to the row: added it, changed it or removed it.
    public enum Kind: String, Codable, Sendable { case insert, update, delete }

    /// The finding code whose repair made the change.
    public let code: FindingCode
    /// The table of the row.
    public let table: String
    /// The row's rowid; nil when the record names none.
    public let rowID: Int64?
    /// Whether the row was inserted, updated or deleted.
    public let action: Kind
    /// JSON of the row before; nil for an insert.
    public let before: String?
    /// JSON of the row after; nil for a delete.
    public let after: String?
    /// The change in a bookkeeper's words (money in dollars, rows named),
    /// when read from a company file.
    public var words: String?

    enum CodingKeys: String, CodingKey {
        case code, table
        case rowID = "row_id"
        case action, before, after, words
    }

    /// A record of one change; `words` is filled in when read back from a file.
    public init(
        code: FindingCode, table: String, rowID: Int64?, action: Kind, before: String?, after: String?,
        words: String? = nil
    ) {
        self.code = code
        self.table = table
        self.rowID = rowID
        self.action = action
        self.before = before
        self.after = after
        self.words = words
    }

    /// Always writes every key, `null` when absent, like a finding's object in docs/findings.md.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(table, forKey: .table)
        try container.encode(rowID, forKey: .rowID)
        try container.encode(action, forKey: .action)
        try container.encode(before, forKey: .before)
        try container.encode(after, forKey: .after)
        try container.encode(words, forKey: .words)
    }
}
