import Foundation

/// What the bank-feed commands log in `maintenance_runs`, read back by a
/// rebuild that brings bank lines back from a snapshot: a line a command
/// changed after the snapshot was taken must not be set back unnoticed.
extension FeedBook {
    /// Which bank-feed commands change a line of each status: a `new` line is
    /// matched, added or excluded; a matched or added one unmatched; an excluded
    /// one included. (An import only adds lines, which no snapshot holds.)
    static let loggedCommands: [(command: String, statuses: [String])] = [
        ("feed match", ["new"]), ("feed add", ["new"]), ("feed exclude", ["new"]),
        ("feed unmatch", ["matched", "added"]), ("feed include", ["excluded"]),
    ]

    /// The bank lines a bank-feed command's logged `summary` names; nil when
    /// it names none it changed (a `feed match` logged before its lines were).
    /// Read here, beside the commands that write these summaries: `feed add`
    /// its `FeedLink`, `feed match` its `MatchSummary`, `feed unmatch`,
    /// `feed include` and `feed exclude` their lines.
    static func linesNamed(by command: String, summary: String?) -> [Int64]? {
        guard let data = summary?.data(using: .utf8),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return nil }
        func ids(_ value: Any?) -> [Int64]? {
            (value as? [Any])?.compactMap { ($0 as? NSNumber)?.int64Value }
        }
        switch command {
        case "feed add": return (object["line"] as? NSNumber).map { [$0.int64Value] }
        case "feed exclude": return ids(object["excluded"])
        case "feed include": return ids(object["included"])
        case "feed match": return ids(object["lines"])
        case "feed unmatch":
            return (object["lines"] as? [Any])?.compactMap {
                (($0 as? [String: Any])?["line"] as? NSNumber)?.int64Value
            }
        default: return nil
        }
    }
}
