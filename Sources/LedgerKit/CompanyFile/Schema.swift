import Foundation
import GRDB

/// The company file schema of docs/company-file.md, format version 1, as an ordered list of
/// objects so that creation, bulk loading (tables first, indexes last) and the
/// schema check of Verify all read the one definition.
public enum Schema {
    /// `PRAGMA application_id`: the bytes `LEDG` read as a big-endian integer.
    public static let applicationID: Int32 = 1_279_607_879

    /// The newest format version this build reads and writes (`PRAGMA user_version`).
    public static let formatVersion = 1

    /// One table or index of the schema.
    public struct Object: Sendable, Hashable {
        /// Whether the object is a table or an index.
        public enum Kind: String, Sendable { case table, index }
        /// Whether the object is a table or an index.
        public let kind: Kind
        /// The object's name in `sqlite_master`.
        public let name: String
        /// The table the object belongs to (the table itself for a table).
        public let table: String
        /// The `CREATE` statement that makes it.
        public let sql: String
    }

    /// Every table of the format, in the order they are created.
    public static let tables: [Object] = [
        table(
            "company",
            """
            CREATE TABLE company (
              id         INTEGER PRIMARY KEY CHECK (id = 1),
              name       TEXT NOT NULL,
              currency   TEXT NOT NULL DEFAULT 'USD',
              created_at TEXT NOT NULL
            )
            """),
        table(
            "accounts",
            """
            CREATE TABLE accounts (
              id        INTEGER PRIMARY KEY,
              parent_id INTEGER REFERENCES accounts(id),
              number    TEXT,
              name      TEXT NOT NULL,
              type      TEXT NOT NULL CHECK (type IN (
                          'bank','accounts_receivable','other_current_asset','fixed_asset','other_asset',
                          'accounts_payable','credit_card','other_current_liability','long_term_liability',
                          'equity','income','cost_of_goods_sold','expense','other_income','other_expense')),
              is_active INTEGER NOT NULL DEFAULT 1,
              balance   INTEGER NOT NULL DEFAULT 0
            )
            """),
        table(
            "parties",
            """
            CREATE TABLE parties (
              id        INTEGER PRIMARY KEY,
              kind      TEXT NOT NULL CHECK (kind IN ('customer','vendor','employee','other')),
              name      TEXT NOT NULL,
              is_active INTEGER NOT NULL DEFAULT 1,
              balance   INTEGER NOT NULL DEFAULT 0
            )
            """),
        table(
            "items",
            """
            CREATE TABLE items (
              id                 INTEGER PRIMARY KEY,
              name               TEXT NOT NULL UNIQUE,
              income_account_id  INTEGER REFERENCES accounts(id),
              expense_account_id INTEGER REFERENCES accounts(id),
              unit_price         INTEGER
            )
            """),
        table(
            "transactions",
            """
            CREATE TABLE transactions (
              id          INTEGER PRIMARY KEY,
              kind        TEXT NOT NULL CHECK (kind IN ('journal','invoice','payment','bill','bill_payment',
                            'check','deposit','transfer','credit_card_charge')),
              date        TEXT NOT NULL,
              number      TEXT,
              party_id    INTEGER REFERENCES parties(id),
              memo        TEXT,
              created_at  TEXT NOT NULL,
              modified_at TEXT NOT NULL
            )
            """),
        table(
            "splits",
            """
            CREATE TABLE splits (
              id                INTEGER PRIMARY KEY,
              transaction_id    INTEGER NOT NULL REFERENCES transactions(id),
              account_id        INTEGER NOT NULL REFERENCES accounts(id),
              party_id          INTEGER REFERENCES parties(id),
              amount            INTEGER NOT NULL,
              memo              TEXT,
              cleared           TEXT NOT NULL DEFAULT 'n' CHECK (cleared IN ('n','c','r')),
              reconciliation_id INTEGER REFERENCES reconciliations(id)
            )
            """),
        table(
            "documents",
            """
            CREATE TABLE documents (
              transaction_id INTEGER PRIMARY KEY REFERENCES transactions(id),
              due_date       TEXT,
              total          INTEGER NOT NULL,
              balance_due    INTEGER NOT NULL
            )
            """),
        table(
            "document_lines",
            """
            CREATE TABLE document_lines (
              id             INTEGER PRIMARY KEY,
              transaction_id INTEGER NOT NULL REFERENCES transactions(id),
              item_id        INTEGER REFERENCES items(id),
              description    TEXT,
              amount         INTEGER NOT NULL
            )
            """),
        table(
            "applications",
            """
            CREATE TABLE applications (
              id          INTEGER PRIMARY KEY,
              payment_id  INTEGER NOT NULL REFERENCES transactions(id),
              document_id INTEGER NOT NULL REFERENCES transactions(id),
              amount      INTEGER NOT NULL CHECK (amount > 0)
            )
            """),
        table(
            "reconciliations",
            """
            CREATE TABLE reconciliations (
              id                INTEGER PRIMARY KEY,
              account_id        INTEGER NOT NULL REFERENCES accounts(id),
              statement_date    TEXT NOT NULL,
              beginning_balance INTEGER NOT NULL,
              ending_balance    INTEGER NOT NULL,
              reconciled_at     TEXT NOT NULL
            )
            """),
        table(
            "bank_feed",
            """
            CREATE TABLE bank_feed (
              id             INTEGER PRIMARY KEY,
              account_id     INTEGER NOT NULL REFERENCES accounts(id),
              fitid          TEXT NOT NULL,
              posted_date    TEXT NOT NULL,
              amount         INTEGER NOT NULL,
              payee          TEXT,
              memo           TEXT,
              status         TEXT NOT NULL CHECK (status IN ('new','matched','added','excluded')),
              transaction_id INTEGER REFERENCES transactions(id),
              downloaded_at  TEXT NOT NULL
            )
            """),
        table(
            "maintenance_runs",
            """
            CREATE TABLE maintenance_runs (
              id          INTEGER PRIMARY KEY,
              command     TEXT NOT NULL,
              started_at  TEXT NOT NULL,
              finished_at TEXT,
              outcome     TEXT,
              summary     TEXT
            )
            """),
        table(
            "repair_actions",
            """
            CREATE TABLE repair_actions (
              id         INTEGER PRIMARY KEY,
              run_id     INTEGER NOT NULL REFERENCES maintenance_runs(id),
              code       TEXT NOT NULL,
              table_name TEXT NOT NULL,
              row_id     INTEGER,
              action     TEXT NOT NULL,
              before     TEXT,
              after      TEXT
            )
            """),
    ]

    /// Indexes. Those on the small name lists are unique and guard data entry; the
    /// rest serve lookups and can be built after a bulk load.
    public static let indexes: [Object] = [
        index(
            "accounts_name", on: "accounts",
            "CREATE UNIQUE INDEX accounts_name ON accounts(COALESCE(parent_id, 0), name)"),
        index("parties_name", on: "parties", "CREATE UNIQUE INDEX parties_name ON parties(kind, name)"),
        index("transactions_date", on: "transactions", "CREATE INDEX transactions_date ON transactions(date)"),
        index("transactions_party", on: "transactions", "CREATE INDEX transactions_party ON transactions(party_id)"),
        index("splits_transaction", on: "splits", "CREATE INDEX splits_transaction ON splits(transaction_id)"),
        index("splits_account", on: "splits", "CREATE INDEX splits_account ON splits(account_id)"),
        index("splits_party", on: "splits", "CREATE INDEX splits_party ON splits(party_id)"),
        index(
            "document_lines_transaction", on: "document_lines",
            "CREATE INDEX document_lines_transaction ON document_lines(transaction_id)"),
        index(
            "applications_payment", on: "applications", "CREATE INDEX applications_payment ON applications(payment_id)"),
        index(
            "applications_document", on: "applications",
            "CREATE INDEX applications_document ON applications(document_id)"),
        index(
            "reconciliations_account", on: "reconciliations",
            "CREATE INDEX reconciliations_account ON reconciliations(account_id, statement_date)"),
        index(
            "bank_feed_fitid", on: "bank_feed", "CREATE UNIQUE INDEX bank_feed_fitid ON bank_feed(account_id, fitid)"),
    ]

    /// A column of a table, as SQLite describes it.
    struct Column: Sendable, Equatable {
        let name: String
        /// The declared type, as docs/company-file.md writes it (INTEGER, TEXT).
        let type: String
        let isInteger: Bool
        let notNull: Bool
        /// The INTEGER PRIMARY KEY: the rowid, stored in a row as NULL.
        let isKey: Bool
    }

    /// The columns of each table, in order, read from the SQL above (so that
    /// they cannot drift from it). Parsed in Swift rather than asked of SQLite,
    /// so that nothing can fail: a test holds them equal to `PRAGMA table_info`.
    static let columns: [String: [Column]] = Dictionary(
        uniqueKeysWithValues: tables.map { ($0.name, parseColumns($0.sql)) })

    /// The column definitions of a `CREATE TABLE` of this file: one per line,
    /// a name then a type; lines that continue a CHECK, and comments, are not columns.
    static func parseColumns(_ sql: String) -> [Column] {
        guard let open = sql.firstIndex(of: "(") else { return [] }
        return sql[sql.index(after: open)...].split(separator: "\n").compactMap { line -> Column? in
            let code = line.components(separatedBy: "--")[0].trimmingCharacters(in: .whitespaces)
            let words = code.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard words.count >= 2, let first = words[0].unicodeScalars.first, CharacterSet.letters.contains(first),
                ["INTEGER", "TEXT", "REAL", "BLOB"].contains(
                    words[1].trimmingCharacters(in: CharacterSet(charactersIn: ",")))
            else { return nil }
            let upper = code.uppercased()
            let type = words[1].trimmingCharacters(in: CharacterSet(charactersIn: ","))
            return Column(
                name: words[0], type: type, isInteger: type == "INTEGER",
                notNull: upper.contains("NOT NULL"), isKey: upper.contains("PRIMARY KEY"))
        }
    }

    /// Every object, tables first, in creation order.
    public static var objects: [Object] { tables + indexes }

    /// The names of the tables, in creation order.
    public static var tableNames: [String] { tables.map(\.name) }

    private static func table(_ name: String, _ sql: String) -> Object {
        Object(kind: .table, name: name, table: name, sql: sql)
    }

    private static func index(_ name: String, on table: String, _ sql: String) -> Object {
        Object(kind: .index, name: name, table: table, sql: sql)
    }
}
