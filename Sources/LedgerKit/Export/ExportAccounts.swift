import GRDB

/// Every account an export posts to, under the name it writes: the full name
/// made safe for an hledger posting, then made unique, so that two accounts
/// never become one in the other tool (hledger sums postings by name).
struct ExportAccounts {
    /// One account as the export writes it.
    struct Account: Equatable {
        /// Unique among all the export's accounts.
        let name: String
        let number: String?
        /// `accounts.type` as stored; nil for a value that names no account.
        let type: String?
    }

    /// The accounts of the file, by id.
    private(set) var byID: [Int64: Account] = [:]
    /// The splits' `account_id` values that name no account of the file
    /// (split-account-missing, or an account whose full name cannot be made).
    private(set) var missing: [DatabaseValue: Account] = [:]

    /// The accounts of the file, by name, for the journal's declarations.
    var declared: [Account] { byID.values.sorted { $0.name < $1.name } }

    /// The account a split's stored `account_id` names. Read strictly: GRDB's
    /// Int64 conversion would read the text '1x' as account 1.
    func account(for value: DatabaseValue) -> Account {
        if case .int64(let id) = value.storage, let account = byID[id] { return account }
        return missing[value] ?? Account(name: Self.missingName(value), number: nil, type: nil)
    }

    /// Reads every account and every value splits post to, and names them.
    ///
    /// Names are given in a fixed order, so the same file always exports the
    /// same names: accounts by id, then values that name no account as SQLite
    /// orders them. The first to claim a name keeps it; a later one with the
    /// same name (or one the CSV writes alike) gets " #id" after it
    /// ("Checking #950").
    static func read(_ db: Database, text: inout StoredText) throws -> ExportAccounts {
        var accounts = ExportAccounts()
        var taken: Set<String> = []
        var rows: [(id: Int64, name: String, number: String?, type: String?)] = []
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT id, CAST(full_name AS BLOB) AS full_name, CAST(number AS BLOB) AS number,
                       CAST(type AS BLOB) AS type
                FROM (\(AccountNames.sql))
                """)
        while let row = try cursor.next() {
            guard let id = row.integer("id") else { continue }
            rows.append((id, text.read(row, "full_name") ?? "", text.read(row, "number"), text.read(row, "type")))
        }
        for row in rows.sorted(by: { $0.id < $1.id }) {
            let name = claim(hledgerName(row.name), tag: String(row.id), from: &taken)
            accounts.byID[row.id] = Account(name: name, number: row.number, type: row.type ?? "")
        }
        let posted = try DatabaseValue.fetchCursor(
            db, sql: "SELECT DISTINCT account_id FROM splits ORDER BY account_id")
        while let value = try posted.next() {
            if case .int64(let id) = value.storage, accounts.byID[id] != nil { continue }
            let name = claim(missingName(value), tag: "missing", from: &taken)
            accounts.missing[value] = Account(name: name, number: nil, type: nil)
        }
        return accounts
    }

    /// "Missing account 77", as the trial balance names a split's account id that
    /// no account has; "Missing account '1x'" for a value that is no id at all.
    private static func missingName(_ value: DatabaseValue) -> String {
        hledgerName("Missing account \(value.described)")
    }

    /// `name`, or when it is taken `name #tag`, `name #tag-2`, …: the first free one.
    ///
    /// Taken as the CSV writes it, so that the names stay apart there too: the
    /// CSV writes "=A" as "'=A", which an account named "'=A" already is.
    private static func claim(_ name: String, tag: String, from taken: inout Set<String>) -> String {
        var candidate = name
        var round = 0
        while !taken.insert(JournalExport.csvText(candidate)).inserted {
            round += 1
            candidate = name + " #" + tag + (round == 1 ? "" : "-\(round)")
        }
        return candidate
    }

    /// An hledger account name that hledger reads back as written, so that
    /// distinct names stay distinct there.
    ///
    /// hledger ends a name at two spaces of any kind (a no-break space too) or
    /// a tab, trims spaces of any kind from both ends, reads a leading * or !
    /// as the posting's status and a leading ( or [ as a virtual posting, and a
    /// posting that begins with ; as a comment. So every run of whitespace or
    /// control characters becomes one space, the ends are trimmed, and such a
    /// first character gets a _ before it.
    static func hledgerName(_ name: String) -> String {
        var text = ""
        var space = false
        for scalar in name.unicodeScalars {
            if scalar.properties.isWhitespace || scalar.properties.generalCategory == .control {
                space = !text.isEmpty
            } else {
                if space { text.unicodeScalars.append(" ") }
                space = false
                text.unicodeScalars.append(scalar)
            }
        }
        if let first = text.unicodeScalars.first, "([*!;".unicodeScalars.contains(first) { text = "_" + text }
        return text.isEmpty ? "Unnamed" : text
    }
}
