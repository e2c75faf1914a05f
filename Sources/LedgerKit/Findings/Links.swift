import GRDB

extension FindingCatalog {
    /// Rows that point at nothing: lines of missing transactions, links to missing
    /// accounts, names, items and statements, and what each repair makes of them.
    ///
    /// `x NOT IN (SELECT …)` is true for a NULL x when the table is empty (a new
    /// company has no parties yet): every such check says `x IS NOT NULL` first.
    static let links: [FindingEntry] = [
        FindingEntry(
            .orphanSplit, .error, title: "Lines of transactions that no longer exist", nativePass: .judges,
            checks: [
                Check(
                    scan: "splits", uses: ["t"],
                    when: "s.transaction_id IS NOT NULL AND t.id IS NULL"
                ) { row in
                    "Split \(row.id) of \(row.money("amount")) belongs to transaction \(row.text("transaction_id")), which does not exist"
                }
            ],
            remedy: .repair(.structure, 5) { context in
                // Any value that names no transaction, an integer or not (a text in
                // transaction_id is an orphan too): its splits go to one new journal.
                let missing = try DatabaseValue.fetchAll(
                    context.db,
                    sql: """
                        SELECT DISTINCT s.transaction_id FROM splits s LEFT JOIN transactions t ON t.id = s.transaction_id
                        WHERE s.transaction_id IS NOT NULL AND t.id IS NULL \(context.amongSuspects("splits", key: "s.id")) ORDER BY 1
                        """)
                for lost in missing {
                    let date =
                        try String.fetchOne(
                            context.db,
                            sql: """
                                SELECT COALESCE(
                                  (SELECT MIN(r.statement_date) FROM splits s JOIN reconciliations r ON r.id = s.reconciliation_id
                                   WHERE s.transaction_id = ?1 AND s.cleared = 'r'),
                                  (SELECT MIN(posted_date) FROM bank_feed WHERE transaction_id = ?1),
                                  ?2)
                                """, arguments: [lost, context.today]) ?? context.today
                    let journal = try context.insertNew(
                        .orphanSplit, "transactions",
                        insert: """
                            INSERT INTO transactions (kind, date, number, party_id, memo, created_at, modified_at)
                            VALUES ('journal', ?, NULL, NULL, 'Recovered by rebuild', ?, ?)
                            """, arguments: [date, context.timestamp, context.timestamp]
                    ).first
                    guard let journal else {
                        throw RepairFailure.noRowMade(
                            "a transaction for the lines of missing transaction \(lost.described)")
                    }
                    try context.change(
                        .orphanSplit, "splits", rows: "SELECT id FROM splits WHERE transaction_id IS ?",
                        arguments: [lost],
                        .update,
                        apply: "UPDATE splits SET transaction_id = ? WHERE id IN (SELECT id FROM temp.rebuild_rows)",
                        applyArguments: [journal])
                    try Repairs.balance(
                        journal, context, code: .orphanSplit,
                        memo:
                            "'Rebuild Suspense: balances the lines of missing transaction ' || \(Repairs.sqlLiteral(lost.described)) || ', recovered by rebuild (orphan-split)'"
                    )
                }
                if !missing.isEmpty { context.invalidate(.byTransaction) }
            }),
        FindingEntry(
            .splitAccountMissing, .error, title: "Lines posted to accounts that no longer exist", nativePass: .judges,
            checks: [
                Check(
                    scan: "splits", needs: [.table("accounts")],
                    when: "s.account_id IS NOT NULL AND s.account_id NOT IN (SELECT id FROM accounts)"
                ) { row in
                    "Split \(row.id) of \(try row.transaction("transaction_id")) posts \(row.money("amount")) to account \(row.text("account_id")), which does not exist"
                }
            ],
            remedy: .repair(.structure, 4) { context in
                let rows = context.rows(of: .splitAccountMissing, in: "splits")
                guard try Bool.fetchOne(context.db, sql: "SELECT EXISTS (\(rows))") == true else { return }
                let suspense = try context.suspense(for: .splitAccountMissing)
                try context.update(
                    .splitAccountMissing, "splits",
                    set: """
                        account_id = ?,
                        memo = COALESCE(memo || ' ', '') || '[split-account-missing: moved to Rebuild Suspense from account ' || account_id || ', which no longer exists]'
                        """, arguments: [suspense])
                context.invalidate(.byTransaction)
            }),
        FindingEntry(
            .emptyTransaction, .error, title: "Transactions with no lines", nativePass: .judges,
            checks: [
                Check(scan: "transactions", uses: ["x"], when: "x.id IS NULL") { row in
                    "\(try row.transaction("id")) has no splits"
                }
            ],
            remedy: .repair(.structure, 6) { context in
                // Reconstruct before deleting (docs/rebuild.md): splits lost to damage are
                // made again from the document, applications or feed lines; only a
                // transaction with none of those goes, with its document and lines.
                try context.refresh(.byTransaction)
                let empty = try Int64.fetchAll(
                    context.db,
                    sql: "SELECT * FROM (\(context.rows(of: .emptyTransaction, in: "transactions"))) ORDER BY 1")
                guard !empty.isEmpty else { return }
                var lost = LostSplits(context.db)
                let (rebuilt, unknown) = try lost.plan(empty)
                if !unknown.isEmpty {
                    try context.db.execute(
                        sql:
                            "DROP TABLE IF EXISTS temp.rebuild_gone; CREATE TEMP TABLE rebuild_gone (id INTEGER PRIMARY KEY)"
                    )
                    let add = try BulkStatement(context.db, sql: "INSERT INTO temp.rebuild_gone (id) VALUES (?)")
                    for transaction in unknown { try add.run(transaction) }
                    let gone = "SELECT id FROM temp.rebuild_gone"
                    try context.delete(
                        .emptyTransaction, "document_lines",
                        rows: "SELECT id FROM document_lines WHERE transaction_id IN (\(gone))")
                    try context.delete(
                        .emptyTransaction, "documents",
                        rows: "SELECT transaction_id FROM documents WHERE transaction_id IN (\(gone))")
                    try context.delete(.emptyTransaction, "transactions", rows: gone)
                    try context.db.execute(sql: "DROP TABLE temp.rebuild_gone")
                }
                try LostSplits.add(rebuilt, as: .emptyTransaction, context)
            }),
        FindingEntry(
            .partyMissing, .error, title: "Customers, vendors or other names that no longer exist", nativePass: .judges,
            checks: [
                Check(
                    scan: "transactions", needs: [.table("parties")],
                    when: "t.party_id IS NOT NULL AND t.party_id NOT IN (SELECT id FROM parties)"
                ) { row in
                    "\(try row.transaction("id")) names customer, vendor or other name \(row.text("party_id")), which does not exist"
                },
                Check(
                    scan: "splits", needs: [.table("parties")],
                    when: "s.party_id IS NOT NULL AND s.party_id NOT IN (SELECT id FROM parties)"
                ) { row in
                    "Split \(row.id) of \(try row.transaction("transaction_id")) names customer, vendor or other name \(row.text("party_id")), which does not exist"
                },
            ],
            remedy: .repair(.structure, 3) { context in
                // A party_id that is not an integer (text, a real, a blob) names no
                // row and no party can be made with it as id: the link is cleared,
                // the old value kept in the repair record.
                for table in ["transactions", "splits"] {
                    try context.change(
                        .partyMissing, table,
                        rows: """
                            SELECT id FROM \(table) WHERE party_id IS NOT NULL AND typeof(party_id) != 'integer' \(context.amongSuspects(table, key: "id"))
                            """, .update,
                        apply: "UPDATE \(table) SET party_id = NULL WHERE id IN (SELECT id FROM temp.rebuild_rows)")
                }
                let missing = try Int64.fetchAll(
                    context.db,
                    sql: """
                        SELECT party_id FROM transactions WHERE typeof(party_id) = 'integer' AND party_id NOT IN (SELECT id FROM parties)
                          \(context.amongSuspects("transactions", key: "id"))
                        UNION
                        SELECT party_id FROM splits WHERE typeof(party_id) = 'integer' AND party_id NOT IN (SELECT id FROM parties)
                          \(context.amongSuspects("splits", key: "id"))
                        ORDER BY 1
                        """)
                for party in missing {
                    let kind =
                        try String.fetchOne(
                            context.db,
                            sql: """
                                SELECT CASE a.type WHEN 'accounts_receivable' THEN 'customer' ELSE 'vendor' END
                                FROM splits s JOIN accounts a ON a.id = s.account_id
                                WHERE s.party_id = ? AND a.type IN \(Catalog.receivablePayable) ORDER BY s.id LIMIT 1
                                """, arguments: [party]) ?? "other"
                    let name = try Repairs.freeName(
                        "Recovered name \(party)", context.db,
                        taken: "SELECT COUNT(*) FROM parties WHERE kind = ? AND name = ?", [kind])
                    try context.insertKeyed(
                        .partyMissing, "parties", rows: "SELECT \(party)",
                        insert: """
                            INSERT INTO parties (id, kind, name, is_active, balance) VALUES (?, ?, ?, 1, 0)
                            """, arguments: [party, kind, name])
                }
            }),
        FindingEntry(
            .accountParentMissing, .error, title: "Sub-accounts of accounts that no longer exist", nativePass: .judges,
            checks: [
                Check(
                    scan: "accounts", uses: ["pa"],
                    when: "a.parent_id IS NOT NULL AND pa.id IS NULL"
                ) { row in
                    "Account \(row.text("name")) (\(row.id)) is a sub-account of account \(row.text("parent_id")), which does not exist"
                }
            ],
            remedy: .repair(.structure, 2) { context in
                try context.update(.accountParentMissing, "accounts", set: "parent_id = NULL")
            }),
        FindingEntry(
            .accountCycle, .error, title: "Accounts that are their own parent", nativePass: .readsEveryRow,
            checks: [
                Check(
                    table: "accounts", needs: [.table("accounts")],
                    query: """
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
                        """
                ) { row in
                    "Account \(row.text("name")) (\(row.id)) is in a loop of \(row.text("members")) accounts that are each other's parents"
                }
            ],
            remedy: .repair(.structure, 1) { context in
                // Breaking one loop can leave another; repeat until none is left.
                while true {
                    if try context.update(.accountCycle, "accounts", set: "parent_id = NULL") == 0 { break }
                }
            }),
        FindingEntry(
            .lineDocumentMissing, .error, title: "Invoice or bill lines without their invoice or bill",
            nativePass: .judges,
            checks: [
                Check(
                    scan: "document_lines", uses: ["t"],
                    when: "t.id IS NULL OR t.kind IS NOT 'invoice' AND t.kind IS NOT 'bill'"
                ) { row in
                    let owner: Int64? = row["transaction_id"]
                    let exists: Int64? = row["owner_exists"]
                    return exists == nil
                        ? "Line \(row.id) (\(row.money("amount"))) belongs to transaction \(owner.map(String.init) ?? "?"), which does not exist"
                        : "Line \(row.id) (\(row.money("amount"))) belongs to \(try row.transaction("transaction_id")), which is not an invoice or a bill"
                }.with(columns: ["t.id AS owner_exists"])
            ],
            remedy: .repair(.structure, 7) { context in
                try context.delete(.lineDocumentMissing, "document_lines")
            }),
        FindingEntry(
            .lineItemMissing, .warning, title: "Invoice or bill lines naming items that no longer exist",
            nativePass: .judges,
            checks: [
                Check(
                    scan: "document_lines", uses: ["i"],
                    when: "l.item_id IS NOT NULL AND i.id IS NULL"
                ) { row in
                    "Line \(row.id) of \(try row.transaction("transaction_id")) names item \(row.text("item_id")), which does not exist"
                }
            ],
            remedy: .repair(.structure, 8) { context in
                try context.update(.lineItemMissing, "document_lines", set: "item_id = NULL")
            }),
        FindingEntry(
            .applicationInvalid, .error, title: "Payments applied to the wrong invoice or bill", nativePass: .judges,
            checks: [
                Check(
                    scan: "applications", uses: ["p", "d"],
                    columns: [
                        "p.id AS payment_exists", "p.kind AS payment_kind", "d.id AS document_exists",
                        "d.kind AS document_kind",
                        "p.party_id AS payment_party", "d.party_id AS document_party",
                    ],
                    when: """
                        p.id IS NULL OR d.id IS NULL
                        OR NOT ((p.kind IS 'payment' AND d.kind IS 'invoice') OR (p.kind IS 'bill_payment' AND d.kind IS 'bill'))
                        OR p.party_id IS NOT d.party_id
                        """
                ) { row in
                    let what = "Application \(row.id) of \(row.money("amount"))"
                    if (row["payment_exists"] as Int64?) == nil {
                        return "\(what) is from payment \(row.text("payment_id")), which does not exist"
                    }
                    if (row["document_exists"] as Int64?) == nil {
                        return "\(what) is to invoice or bill \(row.text("document_id")), which does not exist"
                    }
                    let payment = try row.transaction("payment_id")
                    let document = try row.describe.transaction(row["document_id"])
                    if (row["payment_party"] as Int64?) != (row["document_party"] as Int64?)
                        && FindingCatalog.isPairing(row["payment_kind"], row["document_kind"])
                    {
                        return "\(what) applies \(payment) to \(document) of another customer or vendor"
                    }
                    return "\(what) applies \(payment) to \(document), which it cannot pay"
                }
            ],
            remedy: .repair(.links, 1) { context in
                if try context.delete(.applicationInvalid, "applications") > 0 {
                    context.invalidate(.appliedToDocument)
                }
            }),
        FindingEntry(
            .documentRowMissing, .error, title: "Invoices and bills without their header, or headers without them",
            nativePass: .judges,
            checks: [
                Check(
                    scan: "transactions", uses: ["d"],
                    when: "t.kind IN ('invoice', 'bill') AND d.transaction_id IS NULL"
                ) { row in
                    "\(try row.transaction("id")) has no invoice or bill header (due date, total, balance due)"
                },
                Check(
                    scan: "documents", uses: ["t"], columns: ["t.id AS owner_exists"],
                    when: "t.id IS NULL OR t.kind IS NOT 'invoice' AND t.kind IS NOT 'bill'"
                ) { row in
                    (row["owner_exists"] as Int64?) == nil
                        ? "The invoice or bill header \(row.id) (total \(row.money("total"))) belongs to no transaction"
                        : "The invoice or bill header of \(try row.transaction("transaction_id")) belongs to a transaction that is not an invoice or a bill"
                },
            ],
            remedy: .repair(.structure, 10) { context in
                try context.delete(.documentRowMissing, "documents")
                // The header is made from the splits: the total from the receivable or
                // payable line, the balance due less what was applied.
                try context.insertKeyed(
                    .documentRowMissing, "documents", rows: context.rows(of: .documentRowMissing, in: "transactions"),
                    insert: """
                        INSERT INTO documents (transaction_id, due_date, total, balance_due)
                        SELECT r.id, NULL, ABS(COALESCE(x.arap, 0)),
                               ABS(COALESCE(x.arap, 0)) - COALESCE((SELECT SUM(\(ValueRule.summable("amount"))) FROM applications WHERE document_id = r.id), 0)
                        FROM temp.rebuild_rows r LEFT JOIN temp.v_tx x ON x.id = r.id
                        """)
            }),
        FindingEntry(
            .reconciliationAccountMissing, .error, title: "Reconciliations of accounts that no longer exist",
            nativePass: .readsEveryRow,
            checks: [
                Check(
                    scan: "reconciliations", uses: ["a"],
                    when: "r.account_id IS NOT NULL AND a.id IS NULL"
                ) { row in
                    "Reconciliation \(row.id) (statement of \(row.text("statement_date"))) is of account \(row.text("account_id")), which does not exist"
                }
            ],
            remedy: .repair(.links, 2) { context in
                let statements = context.rows(of: .reconciliationAccountMissing, in: "reconciliations")
                guard try Bool.fetchOne(context.db, sql: "SELECT EXISTS (\(statements))") == true else { return }
                try context.change(
                    .reconciliationAccountMissing, "splits",
                    rows: "SELECT id FROM splits WHERE reconciliation_id IN (\(statements))", .update,
                    apply:
                        "UPDATE splits SET cleared = 'c', reconciliation_id = NULL WHERE id IN (SELECT id FROM temp.rebuild_rows)"
                )
                try context.delete(.reconciliationAccountMissing, "reconciliations", rows: statements)
            }),
        FindingEntry(
            .reconciliationLinkInvalid, .error, title: "Reconciled marks that do not match a reconciliation",
            nativePass: .judges,
            checks: [
                Check(
                    scan: "splits", uses: ["r", "t"], needs: [.table("accounts")],
                    columns: [
                        "r.id AS statement_exists", "r.account_id AS statement_account",
                        "r.statement_date AS statement_date",
                        "t.date AS transaction_date",
                    ],
                    when: """
                        (s.reconciliation_id IS NOT NULL AND (r.id IS NULL OR (r.account_id IN (SELECT id FROM accounts) AND (
                            r.account_id IS NOT s.account_id OR s.cleared IS NOT 'r' OR r.statement_date < t.date))))
                        OR (s.reconciliation_id IS NULL AND s.cleared IS 'r')
                        """
                ) { row in
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
                    return
                        "\(split) is linked to reconciliation \(statement) of \(row.text("statement_date")), before the transaction's date"
                }
            ],
            remedy: .repair(.links, 3) { context in
                try context.update(.reconciliationLinkInvalid, "splits", set: "cleared = 'c', reconciliation_id = NULL")
            }),
    ]

    static func isPairing(_ payment: String?, _ document: String?) -> Bool {
        (payment == "payment" && document == "invoice") || (payment == "bill_payment" && document == "bill")
    }
}
