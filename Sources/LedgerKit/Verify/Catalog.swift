import GRDB

/// A table that the logical checks read row by row, with the joins its checks
/// may use. The verifier asks SQLite for every check of a scan in one query, so
/// each big table is read once however many checks look at it.
struct Scan: Sendable {
    /// The table whose rows the findings name.
    let table: String
    let alias: String
    /// The SQL of the row's primary key.
    let key: String
    /// The joins checks can use, by alias: the tables they need and their SQL.
    let joins: [String: (needs: [String], sql: String)]
}

/// One entry of the finding catalog: a code and how to find its rows.
struct Check: Sendable {
    enum Source: Sendable {
        /// Rows of `scan` for which `condition` is true; `uses` names the joins it reads.
        case condition(scan: String, uses: [String], sql: String)
        /// A query of its own returning `row_id` and the columns its message reads;
        /// with `suspects`, the temporary table of the only rows that can be
        /// found when the native pass ran (`Suspects`).
        case query(String, suspects: String?)
    }

    let code: FindingCode
    let source: Source
    /// Tables (or `temp.` staging tables) that must be there for the check to run.
    let needs: [String]
    /// The table the finding names, when it is not the scan's own (or for a query).
    let findingTable: String?
    /// Extra SELECT columns the message reads (`expression AS name`).
    let columns: [String]
    let message: @Sendable (FindingRow) throws -> String

    init(_ code: FindingCode, scan: String, uses: [String] = [], needs: [String] = [], reportAs: String? = nil,
         columns: [String] = [], when condition: String, message: @escaping @Sendable (FindingRow) throws -> String) {
        self.code = code
        self.source = .condition(scan: scan, uses: uses, sql: condition)
        self.needs = needs
        self.findingTable = reportAs
        self.columns = columns
        self.message = message
    }

    init(_ code: FindingCode, table: String, needs: [String], suspects: String? = nil, query: String,
         message: @escaping @Sendable (FindingRow) throws -> String) {
        self.code = code
        self.source = .query(query, suspects: suspects)
        self.needs = needs
        self.findingTable = table
        self.columns = []
        self.message = message
    }
}

/// A row found by a check, with what its message needs to say.
struct FindingRow {
    let row: Row
    let rowID: Int64?
    let describe: TransactionDescriber

    /// The column's value as `T`, or nil when it holds something else: any
    /// column may hold any value (SPEC §2), and reading one must never trap.
    subscript<T: DatabaseValueConvertible>(_ column: String) -> T? { row.value(column) }

    func money(_ column: String) -> String {
        row.integer(column).map { Money(cents: $0).description } ?? "?"
    }

    func text(_ column: String) -> String {
        row.stored(column).described
    }

    /// "Check 1043 of 2026-03-02 for 250.00 (transaction 812)".
    func transaction(_ column: String) throws -> String {
        guard let id = row.integer(column) else {
            let value = row.stored(column)
            return value.isNull ? "a transaction with no id" : "transaction \(value.described)"
        }
        return try describe.transaction(id)
    }

    var id: String { rowID.map(String.init) ?? "?" }
}

/// Names a transaction as a bookkeeper would, looked up only for found rows.
final class TransactionDescriber {
    private let db: Database
    private var cache: [Int64: String] = [:]
    private let hasSplits: Bool

    init(db: Database, hasSplits: Bool) {
        self.db = db
        self.hasSplits = hasSplits
    }

    func transaction(_ id: Int64?) throws -> String {
        guard let id else { return "a transaction with no id" }
        if let known = cache[id] { return known }
        let sql = hasSplits
            ? "SELECT kind, number, date, (SELECT SUM(CASE WHEN amount BETWEEN 1 AND \(Money.limit) THEN amount END) FROM splits WHERE transaction_id = t.id) AS debits FROM transactions t WHERE id = ?"
            : "SELECT kind, number, date, NULL AS debits FROM transactions WHERE id = ?"
        var text = "Transaction \(id)"
        if let row = try? Row.fetchOne(db, sql: sql, arguments: [id]) {
            let kind = row.text("kind").flatMap(TransactionKind.init(rawValue:))?.displayName ?? "Transaction"
            let number = row.stored("number")
            let date = row.text("date") ?? "an unknown date"
            text = kind + (number.isNull ? "" : " " + (row.text("number") ?? number.described)) + " of \(date)"
            if let debits = row.integer("debits"), debits > 0 { text += " for \(Money(cents: debits))" }
            text += " (transaction \(id))"
        } else {
            text = "Transaction \(id), which no longer exists,"
        }
        if cache.count > 10_000 { cache.removeAll() }
        cache[id] = text
        return text
    }
}

/// The finding catalog of SPEC §2 (all but the physical layer and the schema
/// objects, which `StructureCheck` finds): one entry per check.
enum Catalog {
    static let receivablePayable = "('accounts_receivable', 'accounts_payable')"

    /// Tables computed once per run from the big tables, shared by many checks:
    /// `sql` over every row, `suspectsOnly` over the rows the native pass left
    /// to the SQL (`Suspects`), whose groups are then whole for every key a
    /// check of a suspect reads.
    typealias Staging = (name: String, needs: [String], sql: String, suspectsOnly: String)

    static let staging: [Staging] = [
        ("temp.v_tx", ["splits", "accounts"], vTx(""), vTx("AND s.transaction_id IN (SELECT id FROM temp.suspect_summed)")),
        ("temp.v_grp", ["splits"], vGrp("FROM splits NOT INDEXED"), vGrp("""
            FROM splits WHERE id IN (
              SELECT id FROM splits WHERE account_id IN (SELECT id FROM temp.suspect_accounts)
              UNION SELECT id FROM splits WHERE party_id IN (SELECT id FROM temp.suspect_parties)
              UNION SELECT id FROM splits WHERE reconciliation_id IN (SELECT id FROM temp.suspect_reconciliations))
            """)),
        ("temp.v_applied", ["applications"], vApplied(""), vApplied("AND document_id IN (SELECT id FROM temp.suspect_documents)")),
        ("temp.v_lines", ["document_lines"], vLines(""), vLines("AND transaction_id IN (SELECT id FROM temp.suspect_documents)")),
    ]

    /// The SQL that builds `staging` over the suspects' rows. The sums by
    /// account, party and statement read the suspects' splits through the
    /// indexes when they are few, and the whole table in order when they are
    /// a fifth of it or more: there one read in order beats a lookup a row.
    /// Rebuild's choice, on a copy whose indexes REINDEX has just made; verify
    /// keeps `suspectsOnly`, since on a damaged file an index and its table may
    /// hold different rows, and verify's findings must not depend on the count.
    static func suspectsSQL(of staging: Staging, in db: Database) throws -> String {
        guard staging.name == "temp.v_grp" else { return staging.suspectsOnly }
        return try suspectSplitsAreMany(db) ? vGrp("""
            FROM splits NOT INDEXED WHERE account_id IN (SELECT id FROM temp.suspect_accounts)
              OR party_id IN (SELECT id FROM temp.suspect_parties)
              OR reconciliation_id IN (SELECT id FROM temp.suspect_reconciliations)
            """) : staging.suspectsOnly
    }

    /// Whether the suspect accounts' and parties' splits are a fifth of the
    /// table or more (counted through the indexes).
    static func suspectSplitsAreMany(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT 5 * ((SELECT COUNT(*) FROM splits WHERE account_id IN (SELECT id FROM temp.suspect_accounts))
                        + (SELECT COUNT(*) FROM splits WHERE party_id IN (SELECT id FROM temp.suspect_parties)))
                   >= (SELECT COALESCE(MAX(rowid) - MIN(rowid) + 1, 0) FROM splits)
            """) ?? false
    }

    private static func vTx(_ restriction: String) -> String {
        """
        CREATE TEMP TABLE v_tx (id INTEGER PRIMARY KEY, n INTEGER, total INTEGER, arap INTEGER, bad INTEGER);
        INSERT INTO v_tx
        SELECT s.transaction_id, COUNT(*), SUM(\(ValueRule.summable("s.amount"))),
               SUM(CASE WHEN s.account_id IN (SELECT id FROM accounts WHERE type IN \(receivablePayable))
                   THEN \(ValueRule.summable("s.amount")) ELSE 0 END),
               MAX(\(ValueRule.isBadAmount("s.amount")))
        FROM splits s
        WHERE s.transaction_id IS NOT NULL AND CAST(s.transaction_id AS INTEGER) IS s.transaction_id \(restriction)
        GROUP BY s.transaction_id;
        """
    }

    private static func vGrp(_ from: String) -> String {
        """
        CREATE TEMP TABLE v_grp AS
        SELECT account_id, party_id, reconciliation_id, SUM(\(ValueRule.summable("amount"))) AS total,
               MAX(\(ValueRule.isBadAmount("amount"))) AS bad
        \(from)
        GROUP BY account_id, party_id, reconciliation_id;
        """
    }

    private static func vApplied(_ restriction: String) -> String {
        """
        CREATE TEMP TABLE v_applied (document_id INTEGER PRIMARY KEY, applied INTEGER, bad INTEGER);
        INSERT INTO v_applied
        SELECT document_id, SUM(\(ValueRule.summable("amount"))), MAX(\(ValueRule.isBadAmount("amount"))) FROM applications
        WHERE document_id IS NOT NULL AND CAST(document_id AS INTEGER) IS document_id \(restriction) GROUP BY document_id;
        """
    }

    private static func vLines(_ restriction: String) -> String {
        """
        CREATE TEMP TABLE v_lines (transaction_id INTEGER PRIMARY KEY, total INTEGER, bad INTEGER);
        INSERT INTO v_lines
        SELECT transaction_id, SUM(\(ValueRule.summable("amount"))), MAX(\(ValueRule.isBadAmount("amount"))) FROM document_lines
        WHERE transaction_id IS NOT NULL AND CAST(transaction_id AS INTEGER) IS transaction_id \(restriction) GROUP BY transaction_id;
        """
    }

    static let scans: [Scan] = [
        Scan(table: "company", alias: "c", key: "c.id", joins: [:]),
        Scan(table: "accounts", alias: "a", key: "a.id", joins: [
            "pa": (["accounts"], "LEFT JOIN accounts pa ON pa.id = a.parent_id"),
            "ab": (["temp.v_grp"], """
                LEFT JOIN (SELECT account_id, SUM(total) AS total, MAX(bad) AS bad FROM temp.v_grp GROUP BY account_id) ab
                  ON ab.account_id = a.id
                """),
        ]),
        Scan(table: "parties", alias: "p", key: "p.id", joins: [
            "pb": (["temp.v_grp", "accounts"], """
                LEFT JOIN (SELECT g.party_id, SUM(g.total) AS total, MAX(g.bad) AS bad FROM temp.v_grp g
                           JOIN accounts ga ON ga.id = g.account_id
                           WHERE ga.type IN \(receivablePayable) AND g.party_id IS NOT NULL GROUP BY g.party_id) pb
                  ON pb.party_id = p.id
                """),
        ]),
        Scan(table: "items", alias: "i", key: "i.id", joins: [
            "ia": (["accounts"], "LEFT JOIN accounts ia ON ia.id = i.income_account_id"),
            "ea": (["accounts"], "LEFT JOIN accounts ea ON ea.id = i.expense_account_id"),
        ]),
        Scan(table: "transactions", alias: "t", key: "t.id", joins: [
            "x": (["temp.v_tx"], "LEFT JOIN temp.v_tx x ON x.id = t.id"),
            "d": (["documents"], "LEFT JOIN documents d ON d.transaction_id = t.id"),
        ]),
        Scan(table: "splits", alias: "s", key: "s.id", joins: [
            "t": (["transactions"], "LEFT JOIN transactions t ON t.id = s.transaction_id"),
            "r": (["reconciliations"], "LEFT JOIN reconciliations r ON r.id = s.reconciliation_id"),
        ]),
        Scan(table: "documents", alias: "d", key: "d.transaction_id", joins: [
            "t": (["transactions"], "LEFT JOIN transactions t ON t.id = d.transaction_id"),
            "x": (["temp.v_tx"], "LEFT JOIN temp.v_tx x ON x.id = d.transaction_id"),
            "ap": (["temp.v_applied"], "LEFT JOIN temp.v_applied ap ON ap.document_id = d.transaction_id"),
            "l": (["temp.v_lines"], "LEFT JOIN temp.v_lines l ON l.transaction_id = d.transaction_id"),
        ]),
        Scan(table: "document_lines", alias: "l", key: "l.id", joins: [
            "t": (["transactions"], "LEFT JOIN transactions t ON t.id = l.transaction_id"),
            "i": (["items"], "LEFT JOIN items i ON i.id = l.item_id"),
        ]),
        Scan(table: "applications", alias: "ap", key: "ap.id", joins: [
            "p": (["transactions"], "LEFT JOIN transactions p ON p.id = ap.payment_id"),
            "d": (["transactions"], "LEFT JOIN transactions d ON d.id = ap.document_id"),
        ]),
        Scan(table: "reconciliations", alias: "r", key: "r.id", joins: [
            "a": (["accounts"], "LEFT JOIN accounts a ON a.id = r.account_id"),
        ]),
        Scan(table: "bank_feed", alias: "f", key: "f.id", joins: [
            "t": (["transactions"], "LEFT JOIN transactions t ON t.id = f.transaction_id"),
        ]),
        Scan(table: "maintenance_runs", alias: "m", key: "m.id", joins: [:]),
        Scan(table: "repair_actions", alias: "ra", key: "ra.id", joins: [:]),
    ]

    static func scan(_ table: String) -> Scan { scans.first { $0.table == table }! }

    static let checks: [Check] = structural + documents + balances + feed + names + values

    // MARK: Rows that point at nothing
    //
    // `x NOT IN (SELECT …)` is true for a NULL x when the table is empty (a new
    // company has no parties yet): every such check says `x IS NOT NULL` first.

    static let structural: [Check] = [
        Check(.orphanSplit, scan: "splits", uses: ["t"],
              when: "s.transaction_id IS NOT NULL AND t.id IS NULL") { row in
            "Split \(row.id) of \(row.money("amount")) belongs to transaction \(row.text("transaction_id")), which does not exist"
        },
        Check(.splitAccountMissing, scan: "splits", needs: ["accounts"],
              when: "s.account_id IS NOT NULL AND s.account_id NOT IN (SELECT id FROM accounts)") { row in
            "Split \(row.id) of \(try row.transaction("transaction_id")) posts \(row.money("amount")) to account \(row.text("account_id")), which does not exist"
        },
        Check(.emptyTransaction, scan: "transactions", uses: ["x"], when: "x.id IS NULL") { row in
            "\(try row.transaction("id")) has no splits"
        },
        Check(.partyMissing, scan: "transactions", needs: ["parties"],
              when: "t.party_id IS NOT NULL AND t.party_id NOT IN (SELECT id FROM parties)") { row in
            "\(try row.transaction("id")) names customer, vendor or other name \(row.text("party_id")), which does not exist"
        },
        Check(.partyMissing, scan: "splits", needs: ["parties"],
              when: "s.party_id IS NOT NULL AND s.party_id NOT IN (SELECT id FROM parties)") { row in
            "Split \(row.id) of \(try row.transaction("transaction_id")) names customer, vendor or other name \(row.text("party_id")), which does not exist"
        },
        Check(.accountParentMissing, scan: "accounts", uses: ["pa"],
              when: "a.parent_id IS NOT NULL AND pa.id IS NULL") { row in
            "Account \(row.text("name")) (\(row.id)) is a sub-account of account \(row.text("parent_id")), which does not exist"
        },
        Check(.accountCycle, table: "accounts", needs: ["accounts"], query: """
            WITH RECURSIVE walk(start, node) AS (
              SELECT id, parent_id FROM accounts WHERE typeof(parent_id) = 'integer'
              UNION
              SELECT w.start, a.parent_id FROM walk w JOIN accounts a ON a.id = w.node WHERE typeof(a.parent_id) = 'integer'
            ),
            loops AS (
              SELECT w.start AS id, MIN(w.node) AS lowest, COUNT(*) AS members FROM walk w
              WHERE w.start IN (SELECT start FROM walk WHERE node = start) GROUP BY w.start
            )
            SELECT l.id AS row_id, l.members, a.name FROM loops l JOIN accounts a ON a.id = l.id
            WHERE l.id = l.lowest ORDER BY l.id
            """) { row in
            "Account \(row.text("name")) (\(row.id)) is in a loop of \(row.text("members")) accounts that are each other's parents"
        },
        Check(.lineDocumentMissing, scan: "document_lines", uses: ["t"],
              when: "t.id IS NULL OR t.kind IS NOT 'invoice' AND t.kind IS NOT 'bill'") { row in
            let owner: Int64? = row["transaction_id"]
            let exists: Int64? = row["owner_exists"]
            return exists == nil
                ? "Line \(row.id) (\(row.money("amount"))) belongs to transaction \(owner.map(String.init) ?? "?"), which does not exist"
                : "Line \(row.id) (\(row.money("amount"))) belongs to \(try row.transaction("transaction_id")), which is not an invoice or a bill"
        }.with(columns: ["t.id AS owner_exists"]),
        Check(.lineItemMissing, scan: "document_lines", uses: ["i"],
              when: "l.item_id IS NOT NULL AND i.id IS NULL") { row in
            "Line \(row.id) of \(try row.transaction("transaction_id")) names item \(row.text("item_id")), which does not exist"
        },
        Check(.applicationInvalid, scan: "applications", uses: ["p", "d"], columns: [
            "p.id AS payment_exists", "p.kind AS payment_kind", "d.id AS document_exists", "d.kind AS document_kind",
            "p.party_id AS payment_party", "d.party_id AS document_party",
        ], when: """
            p.id IS NULL OR d.id IS NULL
            OR NOT ((p.kind IS 'payment' AND d.kind IS 'invoice') OR (p.kind IS 'bill_payment' AND d.kind IS 'bill'))
            OR p.party_id IS NOT d.party_id
            """) { row in
            let what = "Application \(row.id) of \(row.money("amount"))"
            if (row["payment_exists"] as Int64?) == nil {
                return "\(what) is from payment \(row.text("payment_id")), which does not exist"
            }
            if (row["document_exists"] as Int64?) == nil {
                return "\(what) is to invoice or bill \(row.text("document_id")), which does not exist"
            }
            let payment = try row.transaction("payment_id"), document = try row.describe.transaction(row["document_id"])
            if (row["payment_party"] as Int64?) != (row["document_party"] as Int64?)
                && isPairing(row["payment_kind"], row["document_kind"]) {
                return "\(what) applies \(payment) to \(document) of another customer or vendor"
            }
            return "\(what) applies \(payment) to \(document), which it cannot pay"
        },
        Check(.documentRowMissing, scan: "transactions", uses: ["d"],
              when: "t.kind IN ('invoice', 'bill') AND d.transaction_id IS NULL") { row in
            "\(try row.transaction("id")) has no invoice or bill header (due date, total, balance due)"
        },
        Check(.documentRowMissing, scan: "documents", uses: ["t"], columns: ["t.id AS owner_exists"],
              when: "t.id IS NULL OR t.kind IS NOT 'invoice' AND t.kind IS NOT 'bill'") { row in
            (row["owner_exists"] as Int64?) == nil
                ? "The invoice or bill header \(row.id) (total \(row.money("total"))) belongs to no transaction"
                : "The invoice or bill header of \(try row.transaction("transaction_id")) belongs to a transaction that is not an invoice or a bill"
        },
        Check(.reconciliationAccountMissing, scan: "reconciliations", uses: ["a"],
              when: "r.account_id IS NOT NULL AND a.id IS NULL") { row in
            "Reconciliation \(row.id) (statement of \(row.text("statement_date"))) is of account \(row.text("account_id")), which does not exist"
        },
        Check(.reconciliationLinkInvalid, scan: "splits", uses: ["r", "t"], needs: ["accounts"], columns: [
            "r.id AS statement_exists", "r.account_id AS statement_account", "r.statement_date AS statement_date",
            "t.date AS transaction_date",
        ], when: """
            (s.reconciliation_id IS NOT NULL AND (r.id IS NULL OR (r.account_id IN (SELECT id FROM accounts) AND (
                r.account_id IS NOT s.account_id OR s.cleared IS NOT 'r' OR r.statement_date < t.date))))
            OR (s.reconciliation_id IS NULL AND s.cleared IS 'r')
            """) { row in
            let split = "Split \(row.id) of \(try row.transaction("transaction_id"))"
            guard let statement = row["reconciliation_id"] as Int64? else {
                return "\(split) is marked reconciled but belongs to no reconciliation"
            }
            if (row["statement_exists"] as Int64?) == nil {
                return "\(split) is linked to reconciliation \(statement), which does not exist"
            }
            if (row["statement_account"] as Int64?) != (row["account_id"] as Int64?) {
                return "\(split) is linked to reconciliation \(statement) of another account"
            }
            if (row["cleared"] as String?) != "r" {
                return "\(split) is linked to reconciliation \(statement) but not marked reconciled"
            }
            return "\(split) is linked to reconciliation \(statement) of \(row.text("statement_date")), before the transaction's date"
        },
    ]

    private static func isPairing(_ payment: String?, _ document: String?) -> Bool {
        (payment == "payment" && document == "invoice") || (payment == "bill_payment" && document == "bill")
    }

    // MARK: Invoices, bills and what pays them

    static let documents: [Check] = [
        Check(.documentTotalMismatch, scan: "documents", uses: ["t", "x"], reportAs: "transactions",
              columns: ["ABS(x.arap) AS expected_total"], when: """
            t.kind IN ('invoice', 'bill') AND x.bad = 0 AND typeof(d.total) = 'integer' AND d.total != ABS(x.arap)
            """) { row in
            "\(try row.transaction("transaction_id")) has a total of \(row.money("total")), but its receivable or payable line says \(row.money("expected_total"))"
        },
        Check(.documentBalanceMismatch, scan: "documents", uses: ["t", "ap"], reportAs: "transactions",
              columns: ["d.total - COALESCE(ap.applied, 0) AS expected_due"], when: """
            t.kind IN ('invoice', 'bill') AND COALESCE(ap.bad, 0) = 0 AND typeof(d.total) = 'integer'
            AND typeof(d.balance_due) = 'integer' AND d.balance_due != d.total - COALESCE(ap.applied, 0)
            """) { row in
            "\(try row.transaction("transaction_id")) shows \(row.money("balance_due")) due, but its total less payments applied is \(row.money("expected_due"))"
        },
        Check(.documentOverapplied, scan: "documents", uses: ["t", "ap"], reportAs: "transactions",
              columns: ["ap.applied AS applied"], when: """
            t.kind IN ('invoice', 'bill') AND ap.bad = 0 AND typeof(d.total) = 'integer' AND ap.applied > d.total
            """) { row in
            "\(try row.transaction("transaction_id")) has \(row.money("applied")) of payments applied to a total of \(row.money("total"))"
        },
        Check(.paymentOverapplied, table: "transactions", needs: ["applications", "transactions", "temp.v_tx"],
              suspects: "temp.suspect_payments", query: """
            SELECT t.id AS row_id, a.applied, ABS(x.arap) AS amount
            FROM (SELECT payment_id, SUM(\(ValueRule.summable("amount"))) AS applied, MAX(\(ValueRule.isBadAmount("amount")) OR amount IS NULL) AS bad
                  FROM applications WHERE typeof(payment_id) = 'integer' GROUP BY payment_id) a
            JOIN transactions t ON t.id = a.payment_id
            JOIN temp.v_tx x ON x.id = t.id
            WHERE t.kind IN ('payment', 'bill_payment') AND a.bad = 0 AND x.bad = 0 AND a.applied > ABS(x.arap)
            ORDER BY t.id
            """) { row in
            "\(try row.transaction("row_id")) is applied for \(row.money("applied")) but was for \(row.money("amount"))"
        },
        Check(.documentLinesMismatch, scan: "documents", uses: ["t", "l"], reportAs: "transactions",
              columns: ["COALESCE(l.total, 0) AS lines"], when: """
            t.kind IN ('invoice', 'bill') AND COALESCE(l.bad, 0) = 0 AND typeof(d.total) = 'integer'
            AND COALESCE(l.total, 0) != d.total
            """) { row in
            "The lines of \(try row.transaction("transaction_id")) add up to \(row.money("lines")), not its total of \(row.money("total"))"
        },
    ]

    // MARK: Balances and cached totals

    static let balances: [Check] = [
        Check(.unbalancedTransaction, scan: "transactions", uses: ["x"], columns: ["x.total AS difference"],
              when: "x.bad = 0 AND x.total != 0") { row in
            "\(try row.transaction("id")) is out of balance by \(row.money("difference"))"
        },
        Check(.accountBalanceMismatch, scan: "accounts", uses: ["ab"], columns: ["COALESCE(ab.total, 0) AS expected"],
              when: "COALESCE(ab.bad, 0) = 0 AND typeof(a.balance) = 'integer' AND a.balance != COALESCE(ab.total, 0)") { row in
            "Account \(row.text("name")) (\(row.id)) shows a balance of \(row.money("balance")), but its transactions add up to \(row.money("expected"))"
        },
        Check(.partyBalanceMismatch, scan: "parties", uses: ["pb"], columns: ["COALESCE(pb.total, 0) AS expected"],
              when: "COALESCE(pb.bad, 0) = 0 AND typeof(p.balance) = 'integer' AND p.balance != COALESCE(pb.total, 0)") { row in
            "\((row["kind"] as String?)?.capitalized ?? "Name") \(row.text("name")) (\(row.id)) shows a balance of \(row.money("balance")), but their receivable and payable lines add up to \(row.money("expected"))"
        },
        Check(.reconciliationDiscrepancy, table: "reconciliations", needs: ["reconciliations", "accounts", "temp.v_grp"],
              suspects: "temp.suspect_reconciliations", query: """
            SELECT id AS row_id, statement_date, beginning_balance, ending_balance, previous, cleared, name FROM (
              SELECT r.id, r.statement_date, r.beginning_balance, r.ending_balance, a.name,
                     LAG(r.ending_balance, 1, 0) OVER (PARTITION BY r.account_id ORDER BY r.statement_date, r.id) AS previous,
                     COALESCE(g.total, 0) AS cleared, COALESCE(g.bad, 0) AS bad
              FROM reconciliations r JOIN accounts a ON a.id = r.account_id
              LEFT JOIN (SELECT reconciliation_id, SUM(total) AS total, MAX(bad) AS bad FROM temp.v_grp
                         WHERE reconciliation_id IS NOT NULL GROUP BY reconciliation_id) g ON g.reconciliation_id = r.id)
            WHERE bad = 0 AND typeof(beginning_balance) = 'integer' AND typeof(ending_balance) = 'integer'
              AND typeof(previous) = 'integer' AND NOT \(ValueRule.isBadAmount("beginning_balance"))
              AND NOT \(ValueRule.isBadAmount("ending_balance")) AND NOT \(ValueRule.isBadAmount("previous"))
              AND typeof(cleared) = 'integer' AND cleared BETWEEN -4000000000000000000 AND 4000000000000000000
              AND (beginning_balance != previous OR ending_balance != beginning_balance + cleared)
            ORDER BY id
            """) { row in
            let name = "The \(row.text("name")) reconciliation \(row.id) of \(row.text("statement_date"))"
            // The query lets through only amounts within Money.limit, and sums of
            // them: these differences cannot overflow.
            let beginning: Int64 = row["beginning_balance"] ?? 0, previous: Int64 = row["previous"] ?? 0
            let ending: Int64 = row["ending_balance"] ?? 0, cleared: Int64 = row["cleared"] ?? 0
            var parts: [String] = []
            if beginning != previous {
                parts.append("begins at \(Money(cents: beginning)), but the previous statement ended at \(Money(cents: previous)) (difference \(Money(cents: beginning - previous)))")
            }
            if ending != beginning + cleared {
                parts.append("ends at \(Money(cents: ending)), but its beginning plus its reconciled lines is \(Money(cents: beginning + cleared)) (difference \(Money(cents: ending - beginning - cleared)))")
            }
            return name + " " + parts.joined(separator: " and ") + "; a reconciled line was changed or deleted"
        },
    ]

    // MARK: Bank feed

    static let feed: [Check] = [
        Check(.feedAccountMissing, scan: "bank_feed", needs: ["accounts"],
              when: "f.account_id IS NOT NULL AND f.account_id NOT IN (SELECT id FROM accounts)") { row in
            "Bank feed line \(row.id) (\(row.text("posted_date")), \(row.money("amount"))) is of account \(row.text("account_id")), which does not exist"
        },
        Check(.feedLinkInvalid, scan: "bank_feed", uses: ["t"], columns: ["t.id AS linked_exists"], when: """
            (f.status IN ('matched', 'added') AND (f.transaction_id IS NULL OR t.id IS NULL))
            OR (f.status IN ('new', 'excluded') AND f.transaction_id IS NOT NULL)
            """) { row in
            let line = "Bank feed line \(row.id) (\(row.text("posted_date")), \(row.money("amount")))"
            let status: String = row["status"] ?? "?"
            if status == "new" || status == "excluded" {
                return "\(line) is \(status) but linked to transaction \(row.text("transaction_id"))"
            }
            return (row["transaction_id"] as Int64?) == nil
                ? "\(line) is \(status) but linked to no transaction"
                : "\(line) is \(status) to transaction \(row.text("transaction_id")), which does not exist"
        },
        Check(.feedAmountMismatch, scan: "bank_feed", uses: ["t"], needs: ["splits", "accounts"], columns: [
            "(SELECT COALESCE(SUM(\(ValueRule.summable("sp.amount"))), 0) FROM splits sp WHERE sp.transaction_id = f.transaction_id AND +sp.account_id = f.account_id) AS booked",
        ], when: """
            f.status IN ('matched', 'added') AND t.id IS NOT NULL AND f.account_id IN (SELECT id FROM accounts)
            AND typeof(f.amount) = 'integer' AND NOT \(ValueRule.isBadAmount("f.amount"))
            AND NOT EXISTS (SELECT 1 FROM splits sp WHERE sp.transaction_id = f.transaction_id AND +sp.account_id = f.account_id
                            AND \(ValueRule.isBadAmount("sp.amount")))
            AND f.amount != (SELECT COALESCE(SUM(\(ValueRule.summable("sp.amount"))), 0) FROM splits sp
                             WHERE sp.transaction_id = f.transaction_id AND +sp.account_id = f.account_id)
            """) { row in
            "Bank feed line \(row.id) (\(row.text("posted_date")), \(row.money("amount"))) is matched to \(try row.transaction("transaction_id")), which moves \(row.money("booked")) in that account"
        },
        // The unique index bank_feed_fitid forbids duplicates while it exists.
        Check(.duplicateFeedLine, table: "bank_feed", needs: ["bank_feed", "no-index:bank_feed_fitid"], query: """
            SELECT id AS row_id, fitid, keep FROM (
              SELECT id, fitid, FIRST_VALUE(id) OVER w AS keep, ROW_NUMBER() OVER w AS position
              FROM bank_feed WHERE fitid IS NOT NULL
              WINDOW w AS (PARTITION BY account_id, fitid ORDER BY downloaded_at, id))
            WHERE position > 1 ORDER BY id
            """) { row in
            "Bank feed line \(row.id) repeats line \(row.text("keep")) (bank id \(row.text("fitid"))): the same line downloaded twice"
        },
    ]

    // MARK: Names lists

    static let names: [Check] = [
        Check(.itemAccountMissing, scan: "items", uses: ["ia", "ea"], columns: ["ia.id AS income_exists", "ea.id AS expense_exists"], when: """
            (i.income_account_id IS NOT NULL AND ia.id IS NULL) OR (i.expense_account_id IS NOT NULL AND ea.id IS NULL)
            """) { row in
            var missing: [String] = []
            if !row.row.stored("income_account_id").isNull && row.row.stored("income_exists").isNull {
                missing.append("income account \(row.text("income_account_id"))")
            }
            if !row.row.stored("expense_account_id").isNull && row.row.stored("expense_exists").isNull {
                missing.append("expense account \(row.text("expense_account_id"))")
            }
            return "Item \(row.text("name")) (\(row.id)) posts to \(missing.joined(separator: " and ")), which does not exist"
        },
        Check(.duplicateName, table: "accounts", needs: ["accounts", "no-index:accounts_name"], query: """
            SELECT id AS row_id, name, keep FROM (
              SELECT id, name, FIRST_VALUE(id) OVER w AS keep, ROW_NUMBER() OVER w AS position
              FROM accounts WHERE name IS NOT NULL
              WINDOW w AS (PARTITION BY COALESCE(parent_id, 0), name ORDER BY id))
            WHERE position > 1 ORDER BY id
            """) { row in
            "Account \(row.id) is named \(row.text("name")), like account \(row.text("keep")) under the same parent"
        },
        Check(.duplicateName, table: "parties", needs: ["parties", "no-index:parties_name"], query: """
            SELECT id AS row_id, name, kind, keep FROM (
              SELECT id, name, kind, FIRST_VALUE(id) OVER w AS keep, ROW_NUMBER() OVER w AS position
              FROM parties WHERE name IS NOT NULL
              WINDOW w AS (PARTITION BY kind, name ORDER BY id))
            WHERE position > 1 ORDER BY id
            """) { row in
            "\((row["kind"] as String?)?.capitalized ?? "Name") \(row.id) is named \(row.text("name")), like \(row["kind"] as String? ?? "name") \(row.text("keep"))"
        },
        Check(.receivablePayableWithoutParty, scan: "splits", needs: ["accounts"],
              columns: ["(SELECT name FROM accounts WHERE id = s.account_id) AS account_name"],
              when: "s.party_id IS NULL AND s.account_id IN (SELECT id FROM accounts WHERE type IN \(receivablePayable))") { row in
            "Split \(row.id) of \(try row.transaction("transaction_id")) posts \(row.money("amount")) to \(row.text("account_name")) without naming a customer or vendor"
        },
    ]

    // MARK: Values

    /// `invalid-value` and `invalid-date` for every table, from `ValueRule.byTable`.
    static let values: [Check] = Schema.tableNames.flatMap { table -> [Check] in
        let alias = scan(table).alias
        return [(FindingCode.invalidValue, false), (FindingCode.invalidDate, true)].compactMap { code, dates in
            let rules = ValueRule.rules(of: table, dates: dates)
            guard !rules.isEmpty else { return nil }
            let condition = rules.map { $0.rule.violation("\(alias).\($0.column)") }.joined(separator: " OR ")
            return Check(code, scan: table, when: condition) { row in
                var broken: [String] = []
                for (column, rule) in rules where rule.isBroken(by: row.row[column] ?? .null) {
                    broken.append("\(column) is \(row.text(column)) but \(rule.expectation)")
                }
                return "\(table) row \(row.id): " + (broken.isEmpty ? "a value is not allowed" : broken.joined(separator: "; "))
            }
        }
    }
}

extension Check {
    /// The same check with more SELECT columns for its message.
    func with(columns more: [String]) -> Check {
        guard case .condition(let scan, let uses, let sql) = source else { return self }
        return Check(code, scan: scan, uses: uses, needs: needs, reportAs: findingTable, columns: columns + more,
                     when: sql, message: message)
    }
}

extension Catalog {
    /// SQL returning the ids of the rows that the checks of `code` on `table`
    /// find (`SELECT … AS row_id`), so that a repair changes exactly those rows.
    /// Staging tables the checks read must exist on the connection.
    ///
    /// With `onlySuspects`, only among the rows the native pass left to the SQL
    /// (the temporary tables `Suspects.store` makes), as Verify's SQL reads them.
    static func rowIDs(of code: FindingCode, in table: String, onlySuspects: Bool = false) -> String {
        let selections = checks.filter { $0.code == code }.compactMap { check -> String? in
            switch check.source {
            case .condition(let scanTable, let uses, let sql):
                guard (check.findingTable ?? scanTable) == table else { return nil }
                let scan = scan(scanTable)
                let joins = uses.sorted().map { scan.joins[$0]!.sql }.joined(separator: " ")
                let among = onlySuspects ? Suspects.restriction(of: scanTable, key: scan.key).map { "\($0) AND " } ?? "" : ""
                return "SELECT \(scan.key) AS row_id FROM \(scanTable) \(scan.alias) \(joins) WHERE \(among)COALESCE((\(sql)), 0)"
            case .query(let sql, let suspects):
                guard check.findingTable == table else { return nil }
                guard onlySuspects, let suspects else { return "SELECT row_id FROM (\(sql))" }
                return "SELECT row_id FROM (\(sql)) WHERE row_id IN (SELECT id FROM \(suspects))"
            }
        }
        precondition(!selections.isEmpty, "the catalog has no check of \(code.rawValue) on \(table)")
        return selections.joined(separator: " UNION ")
    }
}
