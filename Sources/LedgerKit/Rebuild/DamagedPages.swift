import Foundation
import GRDB

/// The rows on pages SQLite's integrity check names as damaged: salvage reads
/// them, but they may not be what was written (docs/rebuild.md: rows read from a
/// damaged page are checked against the last good snapshot, or listed).
enum DamagedPages {
    /// How many of the integrity check's lines are read: past that, the file
    /// is damaged throughout and the rows it gives are doubtful anyway.
    static let lineLimit = 2_000

    /// The integrity check's lines of one run, read for what they name: a
    /// salvage runs it once, for its indexes and for its pages.
    struct Check: Sendable {
        /// Up to `lineLimit` lines, each split at its line ends; nil when the check cannot run.
        let lines: [Substring]?

        /// Runs the check on `db`.
        init(_ db: Database) {
            lines = try? String.fetchAll(db, sql: "PRAGMA integrity_check(\(lineLimit))").flatMap {
                $0.split(separator: "\n")
            }
        }

        /// Runs the check on the file at `source`, on a read-only connection.
        init(path source: String) {
            let access = ReadOnlyAccess(path: source)
            defer { access.close() }
            lines = (try? access.connect())?.inDatabase { Check($0).lines }
        }

        /// The indexes the lines name ("row 5 missing from index
        /// splits_account", "wrong # of entries in index …", "non-unique entry
        /// in index …"): their entries may be short of the rows. Nil when the
        /// check could not run (a page too damaged for it): it vouches for none.
        var indexesNamed: Set<String>? {
            guard let lines else { return nil }
            var names: Set<String> = []
            for line in lines {
                let words = line.split(separator: " ")
                for (index, word) in words.enumerated() where word == "index" && index + 1 < words.count {
                    names.insert(String(words[index + 1]).trimmingCharacters(in: CharacterSet(charactersIn: ",.:;")))
                }
            }
            return names
        }

        /// The page numbers the lines name ("Page 38: …", "On tree page 38
        /// cell 1: …", "Multiple uses for byte 3611 of page 38").
        var pagesNamed: Set<Int> {
            var pages: Set<Int> = []
            for line in lines ?? [] {
                let words = line.lowercased().split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "," })
                for (index, word) in words.enumerated() where word == "page" && index + 1 < words.count {
                    if let number = Int(words[index + 1]), number > 0 { pages.insert(number) }
                }
            }
            return pages
        }
    }

    /// Per table of docs/company-file.md, the rowids on the table's leaf pages of
    /// `source` that the integrity check names (`pages`). Empty when it names none.
    static func rows(in source: String, named pages: Set<Int>) -> [String: [Int64]] {
        guard !pages.isEmpty, let file = try? PageFile(path: source) else { return [:] }
        let free = file.freelist()
        var found: [String: [Int64]] = [:]
        for (table, root) in file.tableRoots() where Schema.tableNames.contains(table) {
            // A cell outside the rowids the leaf's place holds is not a row of this table
            // (another table's page, or garbage): salvage did not take it, and a real row
            // elsewhere under that rowid is not in doubt for it.
            let places = Dictionary(
                file.leafKeys(from: root, skipping: free).map { ($0.page, $0.keys) }, uniquingKeysWith: { $1 })
            for leaf in file.leaves(from: root, skipping: free) where pages.contains(leaf) {
                guard let bytes = file.page(leaf), let rowids = file.rowids(ofLeaf: bytes) else { continue }
                found[table, default: []] += rowids.filter { places[leaf]?.contains($0) ?? true }
            }
        }
        return found
    }
}
