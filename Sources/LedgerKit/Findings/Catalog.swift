import GRDB

/// What a check, a join or a shared sum needs before it can run; a run has a
/// set of them (`StructureCheck.schema`'s whole tables and missing indexes,
/// and the shared sums made so far).
enum Need: Hashable, Sendable {
    /// A table of docs/company-file.md, present with every column.
    case table(String)
    /// A table of sums computed once per run and shared by many checks.
    case sums(SharedSums)
    /// An index that is missing: a check that the index makes impossible.
    case missingIndex(String)

    /// The table, when this is one.
    var table: String? {
        guard case .table(let name) = self else { return nil }
        return name
    }

    /// The shared sums, when these are.
    var sharedSums: SharedSums? {
        guard case .sums(let sums) = self else { return nil }
        return sums
    }
}

/// The shared sums, by the temporary table that holds them.
enum SharedSums: String, Sendable {
    /// Per transaction: its splits' count, sum, receivable or payable sum.
    case byTransaction = "temp.v_tx"
    /// Per account, party and statement: the splits' sum.
    case byAccountPartyStatement = "temp.v_grp"
    /// Per invoice or bill: the payments applied to it.
    case appliedToDocument = "temp.v_applied"
    /// Per invoice or bill: its lines' sum.
    case ofDocumentLines = "temp.v_lines"
}

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
    let joins: [String: (needs: [Need], sql: String)]

    /// The SQL of the join `alias`; a check that uses a join its scan lacks
    /// is a mistake in the catalog.
    func joinSQL(_ alias: String) -> String {
        guard let join = joins[alias] else { preconditionFailure("the scan of \(table) has no join \(alias)") }
        return join.sql
    }
}

/// How to find the rows of one finding code in one table (a `FindingEntry`
/// holds its code's checks).
struct Check: Sendable {
    /// Where a check's rows come from.
    enum Source: Sendable {
        /// Rows of `scan` for which `condition` is true; `uses` names the joins it reads.
        case condition(scan: String, uses: [String], sql: String)
        /// A query of its own returning `row_id` and the columns its message reads;
        /// with `suspects`, the temporary table of the only rows that can be
        /// found when the native pass ran (`Suspects`).
        case query(String, suspects: String?)
    }

    let source: Source
    /// What must be there for the check to run.
    let needs: [Need]
    /// The table the finding names, when it is not the scan's own (or for a query).
    let findingTable: String?
    /// Extra SELECT columns the message reads (`expression AS name`).
    let columns: [String]
    let message: @Sendable (FindingRow) throws -> String

    init(
        scan: String, uses: [String] = [], needs: [Need] = [], reportAs: String? = nil,
        columns: [String] = [], when condition: String, message: @escaping @Sendable (FindingRow) throws -> String
    ) {
        self.source = .condition(scan: scan, uses: uses, sql: condition)
        self.needs = needs
        self.findingTable = reportAs
        self.columns = columns
        self.message = message
    }

    init(
        table: String, needs: [Need], suspects: String? = nil, query: String,
        message: @escaping @Sendable (FindingRow) throws -> String
    ) {
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
    /// column may hold any value (docs/findings.md), and reading one must never trap.
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
    private var cache: [Int64: String?] = [:]
    private let hasSplits: Bool

    init(db: Database, hasSplits: Bool) {
        self.db = db
        self.hasSplits = hasSplits
    }

    func transaction(_ id: Int64?) throws -> String {
        guard let id else { return "a transaction with no id" }
        return try present(id) ?? "transaction \(id), which no longer exists,"
    }

    /// "Check 1043 of 2026-03-02 for 250.00 (transaction 812)", or nil when
    /// the file has no transaction `id`.
    func present(_ id: Int64) throws -> String? {
        if let known = cache[id] { return known }
        let sql =
            hasSplits
            ? "SELECT kind, number, date, (SELECT SUM(CASE WHEN amount BETWEEN 1 AND \(Money.limit) THEN amount END) FROM splits WHERE transaction_id = t.id) AS debits FROM transactions t WHERE id = ?"
            : "SELECT kind, number, date, NULL AS debits FROM transactions WHERE id = ?"
        var text: String?
        if let row = try? Row.fetchOne(db, sql: sql, arguments: [id]) {
            let kind = row.text("kind").flatMap(TransactionKind.init(rawValue:))?.displayName ?? "Transaction"
            let number = row.stored("number")
            let date = row.text("date") ?? "an unknown date"
            var named = kind + (number.isNull ? "" : " " + (row.text("number") ?? number.described)) + " of \(date)"
            if let debits = row.integer("debits"), debits > 0 { named += " for \(Money(cents: debits))" }
            text = named + " (transaction \(id))"
        }
        if cache.count > 10_000 { cache.removeAll() }
        cache[id] = text
        return text
    }
}

/// What the checks of the finding catalog (`FindingCatalog`) run on: the
/// tables they scan with their joins, the sums they share, and every check
/// with its code in one list.
enum Catalog {
    static let receivablePayable = "('accounts_receivable', 'accounts_payable')"

    /// The tables whose scans read only their suspects when the native pass
    /// ran: it leaves their ids in `temp.suspect_TABLE` (`Suspects.store`).
    static let suspectTables = [
        "accounts", "parties", "transactions", "splits", "documents", "document_lines",
        "applications", "bank_feed",
    ]

    /// `KEY IN (the suspects of table)`, for SQL that reads `table`'s rows by
    /// `key`; nil for a table the pass does not leave suspects of.
    static func suspectRestriction(of table: String, key: String) -> String? {
        suspectTables.contains(table) ? "\(key) IN (SELECT id FROM temp.suspect_\(table))" : nil
    }

    /// Tables computed once per run from the big tables, shared by many checks:
    /// `sql` over every row, `suspectsOnly` over the rows the native pass left
    /// to the SQL (`Suspects`), whose groups are then whole for every key a
    /// check of a suspect reads.
    struct Staging: Sendable {
        let sums: SharedSums
        let needs: [Need]
        let sql: String
        let suspectsOnly: String

        /// The temporary table's name.
        var name: String { sums.rawValue }
    }

    static let staging: [Staging] = [
        Staging(
            sums: .byTransaction, needs: [.table("splits"), .table("accounts")],
            sql: vTx(""), suspectsOnly: vTx("AND s.transaction_id IN (SELECT id FROM temp.suspect_summed)")),
        Staging(
            sums: .byAccountPartyStatement, needs: [.table("splits")], sql: vGrp("FROM splits NOT INDEXED"),
            suspectsOnly: vGrp(
                """
                FROM splits WHERE id IN (
                  SELECT id FROM splits WHERE account_id IN (SELECT id FROM temp.suspect_accounts)
                  UNION SELECT id FROM splits WHERE party_id IN (SELECT id FROM temp.suspect_parties)
                  UNION SELECT id FROM splits WHERE reconciliation_id IN (SELECT id FROM temp.suspect_reconciliations))
                """)),
        Staging(
            sums: .appliedToDocument, needs: [.table("applications")],
            sql: vApplied(""), suspectsOnly: vApplied("AND document_id IN (SELECT id FROM temp.suspect_documents)")),
        Staging(
            sums: .ofDocumentLines, needs: [.table("document_lines")],
            sql: vLines(""), suspectsOnly: vLines("AND transaction_id IN (SELECT id FROM temp.suspect_documents)")),
    ]

    /// The staging entry that makes `sums`.
    static func staging(_ sums: SharedSums) -> Staging? {
        staging.first { $0.sums == sums }
    }

    /// The SQL that builds `staging` over the suspects' rows. The sums by
    /// account, party and statement read the suspects' splits through the
    /// indexes when they are few, and the whole table in order when they are
    /// a fifth of it or more: there one read in order beats a lookup a row.
    /// Rebuild's choice, on a copy whose indexes REINDEX has just made; verify
    /// keeps `suspectsOnly`, since on a damaged file an index and its table may
    /// hold different rows, and verify's findings must not depend on the count.
    static func suspectsSQL(of staging: Staging, in db: Database) throws -> String {
        guard staging.sums == .byAccountPartyStatement else { return staging.suspectsOnly }
        return try suspectSplitsAreMany(db)
            ? vGrp(
                """
                FROM splits NOT INDEXED WHERE account_id IN (SELECT id FROM temp.suspect_accounts)
                  OR party_id IN (SELECT id FROM temp.suspect_parties)
                  OR reconciliation_id IN (SELECT id FROM temp.suspect_reconciliations)
                """) : staging.suspectsOnly
    }

    /// Whether the suspect accounts' and parties' splits are a fifth of the
    /// table's rowid span or more (counted through the indexes, and only up to
    /// that fifth: once there, the rest cannot change the answer).
    static func suspectSplitsAreMany(_ db: Database) throws -> Bool {
        guard let span = try Row.fetchOne(db, sql: "SELECT MIN(rowid), MAX(rowid) FROM splits"),
            let low = span[0] as Int64?, let high = span[1] as Int64?
        else { return true }
        // A span beyond 64 bits: no count of rows reaches a fifth of it.
        let (width, overflow) = high.subtractingReportingOverflow(low)
        guard !overflow, width <= Int64.max - 5 else { return false }
        let fifth = (width + 1 + 4) / 5
        let sides = [
            "SELECT 1 FROM splits WHERE account_id IN (SELECT id FROM temp.suspect_accounts)",
            "SELECT 1 FROM splits WHERE party_id IN (SELECT id FROM temp.suspect_parties)",
        ]
        var counted: Int64 = 0
        for side in sides where counted < fifth {
            counted +=
                try Int64.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM (\(side) LIMIT ?)", arguments: [fifth - counted]) ?? 0
        }
        return counted >= fifth
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
        Scan(
            table: "accounts", alias: "a", key: "a.id",
            joins: [
                "pa": ([.table("accounts")], "LEFT JOIN accounts pa ON pa.id = a.parent_id"),
                "ab": (
                    [.sums(.byAccountPartyStatement)],
                    """
                    LEFT JOIN (SELECT account_id, SUM(total) AS total, MAX(bad) AS bad FROM temp.v_grp GROUP BY account_id) ab
                      ON ab.account_id = a.id
                    """
                ),
            ]),
        Scan(
            table: "parties", alias: "p", key: "p.id",
            joins: [
                "pb": (
                    [.sums(.byAccountPartyStatement), .table("accounts")],
                    """
                    LEFT JOIN (SELECT g.party_id, SUM(g.total) AS total, MAX(g.bad) AS bad FROM temp.v_grp g
                               JOIN accounts ga ON ga.id = g.account_id
                               WHERE ga.type IN \(receivablePayable) AND g.party_id IS NOT NULL GROUP BY g.party_id) pb
                      ON pb.party_id = p.id
                    """
                )
            ]),
        Scan(
            table: "items", alias: "i", key: "i.id",
            joins: [
                "ia": ([.table("accounts")], "LEFT JOIN accounts ia ON ia.id = i.income_account_id"),
                "ea": ([.table("accounts")], "LEFT JOIN accounts ea ON ea.id = i.expense_account_id"),
            ]),
        Scan(
            table: "transactions", alias: "t", key: "t.id",
            joins: [
                "x": ([.sums(.byTransaction)], "LEFT JOIN temp.v_tx x ON x.id = t.id"),
                "d": ([.table("documents")], "LEFT JOIN documents d ON d.transaction_id = t.id"),
            ]),
        Scan(
            table: "splits", alias: "s", key: "s.id",
            joins: [
                "t": ([.table("transactions")], "LEFT JOIN transactions t ON t.id = s.transaction_id"),
                "r": ([.table("reconciliations")], "LEFT JOIN reconciliations r ON r.id = s.reconciliation_id"),
            ]),
        Scan(
            table: "documents", alias: "d", key: "d.transaction_id",
            joins: [
                "t": ([.table("transactions")], "LEFT JOIN transactions t ON t.id = d.transaction_id"),
                "x": ([.sums(.byTransaction)], "LEFT JOIN temp.v_tx x ON x.id = d.transaction_id"),
                "ap": ([.sums(.appliedToDocument)], "LEFT JOIN temp.v_applied ap ON ap.document_id = d.transaction_id"),
                "l": ([.sums(.ofDocumentLines)], "LEFT JOIN temp.v_lines l ON l.transaction_id = d.transaction_id"),
            ]),
        Scan(
            table: "document_lines", alias: "l", key: "l.id",
            joins: [
                "t": ([.table("transactions")], "LEFT JOIN transactions t ON t.id = l.transaction_id"),
                "i": ([.table("items")], "LEFT JOIN items i ON i.id = l.item_id"),
            ]),
        Scan(
            table: "applications", alias: "ap", key: "ap.id",
            joins: [
                "p": ([.table("transactions")], "LEFT JOIN transactions p ON p.id = ap.payment_id"),
                "d": ([.table("transactions")], "LEFT JOIN transactions d ON d.id = ap.document_id"),
            ]),
        Scan(
            table: "reconciliations", alias: "r", key: "r.id",
            joins: [
                "a": ([.table("accounts")], "LEFT JOIN accounts a ON a.id = r.account_id")
            ]),
        Scan(
            table: "bank_feed", alias: "f", key: "f.id",
            joins: [
                "t": ([.table("transactions")], "LEFT JOIN transactions t ON t.id = f.transaction_id")
            ]),
        Scan(table: "maintenance_runs", alias: "m", key: "m.id", joins: [:]),
        Scan(table: "repair_actions", alias: "ra", key: "ra.id", joins: [:]),
    ]

    /// The scan of `table`; every table a check scans has one.
    static func scan(_ table: String) -> Scan {
        guard let scan = scans.first(where: { $0.table == table }) else {
            preconditionFailure("the catalog has no scan of \(table)")
        }
        return scan
    }

    /// Every check of the finding catalog with its code, in the entries' order.
    static let checks: [CatalogCheck] = FindingCatalog.entries.flatMap { entry in
        entry.checks.map { CatalogCheck(code: entry.code, check: $0) }
    }
}

/// A check of the finding catalog and the code it finds.
@dynamicMemberLookup
struct CatalogCheck: Sendable {
    let code: FindingCode
    let check: Check

    subscript<T>(dynamicMember path: KeyPath<Check, T>) -> T { check[keyPath: path] }
}

extension Check {
    /// The same check with more SELECT columns for its message.
    func with(columns more: [String]) -> Check {
        guard case .condition(let scan, let uses, let sql) = source else { return self }
        return Check(
            scan: scan, uses: uses, needs: needs, reportAs: findingTable, columns: columns + more,
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
                let joins = uses.sorted().map(scan.joinSQL).joined(separator: " ")
                let restriction = onlySuspects ? Catalog.suspectRestriction(of: scanTable, key: scan.key) : nil
                let among = restriction.map { "\($0) AND " } ?? ""
                return
                    "SELECT \(scan.key) AS row_id FROM \(scanTable) \(scan.alias) \(joins) WHERE \(among)COALESCE((\(sql)), 0)"
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
