import GRDB

/// One entry of the repair catalog: the repair of SPEC §2's "what rebuild does"
/// column for one finding code. Each selects its rows with the very SQL its
/// check in `Catalog` uses, so it changes exactly what Verify reports.
struct Repair: Sendable {
    let code: FindingCode
    let run: @Sendable (RepairContext) throws -> Void
}

/// The repairs, in the order they run: each one's output is checked by the
/// ones after it. Structure first (accounts, names, lines of missing
/// transactions), then links, then money (suspense splits), then the cached
/// totals, and names last, since earlier repairs create names.
enum Repairs {
    static let ordered: [Repair] = [
        Repair(code: .accountCycle) { context in
            // Breaking one loop can leave another; repeat until none is left.
            while true {
                if try context.update(.accountCycle, "accounts", set: "parent_id = NULL") == 0 { break }
            }
        },
        Repair(code: .accountParentMissing) { context in
            try context.update(.accountParentMissing, "accounts", set: "parent_id = NULL")
        },
        Repair(code: .partyMissing) { context in
            // A party_id that is not an integer (text, a real, a blob) names no
            // row and no party can be made with it as id: the link is cleared,
            // the old value kept in the repair record.
            for table in ["transactions", "splits"] {
                try context.change(.partyMissing, table, rows: """
                    SELECT id FROM \(table) WHERE party_id IS NOT NULL AND typeof(party_id) != 'integer' \(context.amongSuspects(table, key: "id"))
                    """, .update, apply: "UPDATE \(table) SET party_id = NULL WHERE id IN (SELECT id FROM temp.rebuild_rows)")
            }
            let missing = try Int64.fetchAll(context.db, sql: """
                SELECT party_id FROM transactions WHERE typeof(party_id) = 'integer' AND party_id NOT IN (SELECT id FROM parties)
                  \(context.amongSuspects("transactions", key: "id"))
                UNION
                SELECT party_id FROM splits WHERE typeof(party_id) = 'integer' AND party_id NOT IN (SELECT id FROM parties)
                  \(context.amongSuspects("splits", key: "id"))
                ORDER BY 1
                """)
            for party in missing {
                let kind = try String.fetchOne(context.db, sql: """
                    SELECT CASE a.type WHEN 'accounts_receivable' THEN 'customer' ELSE 'vendor' END
                    FROM splits s JOIN accounts a ON a.id = s.account_id
                    WHERE s.party_id = ? AND a.type IN \(Catalog.receivablePayable) ORDER BY s.id LIMIT 1
                    """, arguments: [party]) ?? "other"
                let name = try freeName("Recovered name \(party)", context.db,
                                        taken: "SELECT COUNT(*) FROM parties WHERE kind = ? AND name = ?", [kind])
                try context.insertKeyed(.partyMissing, "parties", rows: "SELECT \(party)", insert: """
                    INSERT INTO parties (id, kind, name, is_active, balance) VALUES (?, ?, ?, 1, 0)
                    """, arguments: [party, kind, name])
            }
        },
        Repair(code: .splitAccountMissing) { context in
            let rows = context.rows(of: .splitAccountMissing, in: "splits")
            guard try Bool.fetchOne(context.db, sql: "SELECT EXISTS (\(rows))") == true else { return }
            let suspense = try context.suspense(for: .splitAccountMissing)
            try context.update(.splitAccountMissing, "splits", set: """
                account_id = ?,
                memo = COALESCE(memo || ' ', '') || '[split-account-missing: moved to Rebuild Suspense from account ' || account_id || ', which no longer exists]'
                """, arguments: [suspense])
            context.invalidate("temp.v_tx")
        },
        Repair(code: .orphanSplit) { context in
            // Any value that names no transaction, an integer or not (a text in
            // transaction_id is an orphan too): its splits go to one new journal.
            let missing = try DatabaseValue.fetchAll(context.db, sql: """
                SELECT DISTINCT s.transaction_id FROM splits s LEFT JOIN transactions t ON t.id = s.transaction_id
                WHERE s.transaction_id IS NOT NULL AND t.id IS NULL \(context.amongSuspects("splits", key: "s.id")) ORDER BY 1
                """)
            for lost in missing {
                let date = try String.fetchOne(context.db, sql: """
                    SELECT COALESCE(
                      (SELECT MIN(r.statement_date) FROM splits s JOIN reconciliations r ON r.id = s.reconciliation_id
                       WHERE s.transaction_id = ?1 AND s.cleared = 'r'),
                      (SELECT MIN(posted_date) FROM bank_feed WHERE transaction_id = ?1),
                      ?2)
                    """, arguments: [lost, context.today]) ?? context.today
                let journal = try context.insertNew(.orphanSplit, "transactions", insert: """
                    INSERT INTO transactions (kind, date, number, party_id, memo, created_at, modified_at)
                    VALUES ('journal', ?, NULL, NULL, 'Recovered by rebuild', ?, ?)
                    """, arguments: [date, context.timestamp, context.timestamp]).first
                guard let journal else { throw RepairFailure.noRowMade("a transaction for the lines of missing transaction \(lost.described)") }
                try context.change(.orphanSplit, "splits", rows: "SELECT id FROM splits WHERE transaction_id IS ?", arguments: [lost],
                                   .update, apply: "UPDATE splits SET transaction_id = ? WHERE id IN (SELECT id FROM temp.rebuild_rows)",
                                   applyArguments: [journal])
                try balance(journal, context, code: .orphanSplit,
                            memo: "'Rebuild Suspense: balances the lines of missing transaction ' || \(sqlLiteral(lost.described)) || ', recovered by rebuild (orphan-split)'")
            }
            if !missing.isEmpty { context.invalidate("temp.v_tx") }
        },
        Repair(code: .emptyTransaction) { context in
            try context.refresh("temp.v_tx")
            let empty = context.rows(of: .emptyTransaction, in: "transactions")
            try context.delete(.emptyTransaction, "document_lines", rows: "SELECT id FROM document_lines WHERE transaction_id IN (\(empty))")
            try context.delete(.emptyTransaction, "documents", rows: "SELECT transaction_id FROM documents WHERE transaction_id IN (\(empty))")
            try context.delete(.emptyTransaction, "transactions", rows: empty)
        },
        Repair(code: .lineDocumentMissing) { context in
            try context.delete(.lineDocumentMissing, "document_lines")
        },
        Repair(code: .lineItemMissing) { context in
            try context.update(.lineItemMissing, "document_lines", set: "item_id = NULL")
        },
        Repair(code: .itemAccountMissing) { context in
            try context.update(.itemAccountMissing, "items", set: """
                income_account_id = CASE WHEN income_account_id IS NOT NULL AND income_account_id NOT IN (SELECT id FROM accounts)
                                    THEN NULL ELSE income_account_id END,
                expense_account_id = CASE WHEN expense_account_id IS NOT NULL AND expense_account_id NOT IN (SELECT id FROM accounts)
                                     THEN NULL ELSE expense_account_id END
                """)
        },
        Repair(code: .documentRowMissing) { context in
            try context.delete(.documentRowMissing, "documents")
            // The header is made from the splits: the total from the receivable or
            // payable line, the balance due less what was applied.
            try context.insertKeyed(.documentRowMissing, "documents", rows: context.rows(of: .documentRowMissing, in: "transactions"),
                                    insert: """
                INSERT INTO documents (transaction_id, due_date, total, balance_due)
                SELECT r.id, NULL, ABS(COALESCE(x.arap, 0)),
                       ABS(COALESCE(x.arap, 0)) - COALESCE((SELECT SUM(\(ValueRule.summable("amount"))) FROM applications WHERE document_id = r.id), 0)
                FROM temp.rebuild_rows r LEFT JOIN temp.v_tx x ON x.id = r.id
                """)
        },
        Repair(code: .applicationInvalid) { context in
            if try context.delete(.applicationInvalid, "applications") > 0 { context.invalidate("temp.v_applied") }
        },
        Repair(code: .reconciliationAccountMissing) { context in
            let statements = context.rows(of: .reconciliationAccountMissing, in: "reconciliations")
            guard try Bool.fetchOne(context.db, sql: "SELECT EXISTS (\(statements))") == true else { return }
            try context.change(.reconciliationAccountMissing, "splits",
                               rows: "SELECT id FROM splits WHERE reconciliation_id IN (\(statements))", .update,
                               apply: "UPDATE splits SET cleared = 'c', reconciliation_id = NULL WHERE id IN (SELECT id FROM temp.rebuild_rows)")
            try context.delete(.reconciliationAccountMissing, "reconciliations", rows: statements)
        },
        Repair(code: .reconciliationLinkInvalid) { context in
            try context.update(.reconciliationLinkInvalid, "splits", set: "cleared = 'c', reconciliation_id = NULL")
        },
        Repair(code: .duplicateFeedLine) { context in
            // Only possible while the unique index is missing; it is made again afterwards.
            guard try !context.hasIndex("bank_feed_fitid") else { return }
            try context.update(.duplicateFeedLine, "bank_feed", set: "status = 'excluded', transaction_id = NULL, fitid = fitid || '#dup' || id")
        },
        Repair(code: .feedAccountMissing) { context in
            let lines = try Int64.fetchAll(context.db, sql: context.rows(of: .feedAccountMissing, in: "bank_feed") + " ORDER BY 1")
            guard !lines.isEmpty else { return }
            let suspense = try context.suspense(for: .feedAccountMissing)
            // One at a time: two lines moving into the suspense account may share a bank id.
            for line in lines {
                try context.change(.feedAccountMissing, "bank_feed", rows: "SELECT ?", arguments: [line], .update, apply: """
                    UPDATE bank_feed SET account_id = ?1, status = 'excluded', transaction_id = NULL,
                      fitid = CASE WHEN EXISTS (SELECT 1 FROM bank_feed o WHERE o.account_id = ?1 AND o.fitid = bank_feed.fitid AND o.id != bank_feed.id)
                              THEN fitid || '#dup' || id ELSE fitid END
                    WHERE id = ?2
                    """, applyArguments: [suspense, line])
            }
        },
        Repair(code: .feedLinkInvalid) { context in
            try context.update(.feedLinkInvalid, "bank_feed", set: "status = 'new', transaction_id = NULL")
        },
        Repair(code: .feedAmountMismatch) { context in
            try context.update(.feedAmountMismatch, "bank_feed", set: "status = 'new', transaction_id = NULL")
        },
        Repair(code: .unbalancedTransaction) { context in
            try context.refresh("temp.v_tx")
            let rows = context.rows(of: .unbalancedTransaction, in: "transactions")
            guard try Bool.fetchOne(context.db, sql: "SELECT EXISTS (\(rows))") == true else { return }
            let suspense = try context.suspense(for: .unbalancedTransaction)
            let added = try context.insertNew(.unbalancedTransaction, "splits", insert: """
                INSERT INTO splits (transaction_id, account_id, party_id, amount, memo, cleared, reconciliation_id)
                SELECT x.id, ?, NULL, -x.total,
                       'Rebuild Suspense: transaction ' || x.id || ' was out of balance by ' || \(RepairContext.moneyText("x.total")) || ' (unbalanced-transaction)',
                       'n', NULL
                FROM temp.v_tx x WHERE x.id IN (\(rows)) ORDER BY x.id
                """, arguments: [suspense])
            // Each balanced transaction gained one integer split outside A/R and A/P:
            // its sums are patched rather than the whole table summed again.
            try context.db.execute(sql: """
                UPDATE temp.v_tx SET n = n + 1, total = 0
                WHERE id IN (SELECT transaction_id FROM splits WHERE id IN (\(added.map(String.init).joined(separator: ","))))
                """)
        },
        Repair(code: .documentTotalMismatch) { context in
            try context.update(.documentTotalMismatch, "documents", found: "transactions",
                               set: "total = (SELECT ABS(x.arap) FROM temp.v_tx x WHERE x.id = documents.transaction_id)")
        },
        Repair(code: .documentOverapplied) { context in
            try context.refresh("temp.v_applied")
            // Keeping the oldest applications whose running sum fits the total is
            // deleting the newest until the rest fits (amounts are positive).
            let deleted = try context.change(.documentOverapplied, "applications", rows: """
                SELECT id FROM (
                  SELECT a.id, SUM(a.amount) OVER (PARTITION BY a.document_id ORDER BY a.id) AS running, d.total
                  FROM applications a JOIN documents d ON d.transaction_id = a.document_id
                  WHERE a.document_id IN (\(context.rows(of: .documentOverapplied, in: "transactions"))))
                WHERE running > total
                """, .delete, apply: "DELETE FROM applications WHERE id IN (SELECT id FROM temp.rebuild_rows)")
            if deleted > 0 { context.invalidate("temp.v_applied") }
        },
        Repair(code: .paymentOverapplied) { context in
            let deleted = try context.change(.paymentOverapplied, "applications", rows: """
                SELECT id FROM (
                  SELECT a.id, SUM(a.amount) OVER (PARTITION BY a.payment_id ORDER BY a.id) AS running, ABS(x.arap) AS amount
                  FROM applications a JOIN temp.v_tx x ON x.id = a.payment_id
                  WHERE a.payment_id IN (\(context.rows(of: .paymentOverapplied, in: "transactions"))))
                WHERE running > amount
                """, .delete, apply: "DELETE FROM applications WHERE id IN (SELECT id FROM temp.rebuild_rows)")
            if deleted > 0 { context.invalidate("temp.v_applied") }
        },
        Repair(code: .documentBalanceMismatch) { context in
            try context.refresh("temp.v_applied")
            try context.update(.documentBalanceMismatch, "documents", found: "transactions", set: """
                balance_due = total - COALESCE((SELECT ap.applied FROM temp.v_applied ap WHERE ap.document_id = documents.transaction_id), 0)
                """)
        },
        Repair(code: .accountBalanceMismatch) { context in
            try context.refresh("temp.v_grp")
            try context.update(.accountBalanceMismatch, "accounts",
                               set: "balance = COALESCE((SELECT SUM(total) FROM temp.v_grp g WHERE g.account_id = accounts.id), 0)")
        },
        Repair(code: .partyBalanceMismatch) { context in
            try context.update(.partyBalanceMismatch, "parties", set: """
                balance = COALESCE((SELECT SUM(g.total) FROM temp.v_grp g JOIN accounts a ON a.id = g.account_id
                                    WHERE g.party_id = parties.id AND a.type IN \(Catalog.receivablePayable)), 0)
                """)
        },
        Repair(code: .duplicateName) { context in
            for (table, scope) in [("accounts", "COALESCE(parent_id, 0)"), ("parties", "kind")] {
                let index = table == "accounts" ? "accounts_name" : "parties_name"
                guard try !context.hasIndex(index) else { continue }
                let later = try Int64.fetchAll(context.db, sql: context.rows(of: .duplicateName, in: table) + " ORDER BY 1")
                for id in later {
                    guard let row = try Row.fetchOne(context.db, sql: "SELECT name, \(scope) AS scope FROM \(table) WHERE id = ?", arguments: [id]) else { continue }
                    let scopeValue = row.stored("scope")
                    // The row itself still holds the name, so the first free one is "NAME (2)", then "NAME (3)"…
                    let name = try freeName(row.text("name") ?? row.stored("name").described, context.db,
                                            taken: "SELECT COUNT(*) FROM \(table) WHERE \(scope) IS ? AND name = ?", [scopeValue])
                    try context.change(.duplicateName, table, rows: "SELECT ?", arguments: [id], .update,
                                       apply: "UPDATE \(table) SET name = ? WHERE id = ?", applyArguments: [name, id])
                }
            }
        },
    ]

    /// Adds a Rebuild Suspense split for whatever the integer amounts of
    /// `transaction` lack to sum to 0; a transaction with an amount that is not
    /// an integer is left alone (SPEC §2, invalid-value).
    static func balance(_ transaction: Int64, _ context: RepairContext, code: FindingCode, memo: String) throws {
        let row = try Row.fetchOne(context.db, sql: """
            SELECT SUM(\(ValueRule.summable("amount"))) AS total, MAX(\(ValueRule.isBadAmount("amount"))) AS bad
            FROM splits WHERE transaction_id = ?
            """, arguments: [transaction])
        guard let row, row.integer("bad") == 0, let total = row.integer("total"), total != 0 else { return }
        let suspense = try context.suspense(for: code)
        try context.insertNew(code, "splits", insert: """
            INSERT INTO splits (transaction_id, account_id, party_id, amount, memo, cleared, reconciliation_id)
            VALUES (?, ?, NULL, ?, \(memo), 'n', NULL)
            """, arguments: [transaction, suspense, -total])
    }

    /// `base`, or `base (2)`, `base (3)`… whichever `taken` (given the extra
    /// arguments and the name) counts no row for.
    static func freeName(_ base: String, _ db: Database, taken: String, _ arguments: [DatabaseValueConvertible]) throws -> String {
        var candidate = base
        var number = 2
        while try Int.fetchOne(db, sql: taken, arguments: StatementArguments(arguments + [candidate])) ?? 0 > 0 {
            candidate = "\(base) (\(number))"
            number += 1
        }
        return candidate
    }

    /// `text` as an SQL string literal.
    static func sqlLiteral(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
