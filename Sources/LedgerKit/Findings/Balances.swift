import GRDB

extension FindingCatalog {
    /// Balances and cached totals.
    static let balances: [FindingEntry] = [
        FindingEntry(
            .unbalancedTransaction, .error, title: "Transactions out of balance", nativePass: .judges,
            checks: [
                Check(
                    scan: "transactions", uses: ["x"], columns: ["x.total AS difference"],
                    when: "x.bad = 0 AND x.total != 0"
                ) { row in
                    "\(try row.transaction("id")) is out of balance by \(row.money("difference"))"
                }
            ],
            remedy: .repair(.money, 1) { context in
                try context.refresh(.byTransaction)
                let rows = context.rows(of: .unbalancedTransaction, in: "transactions")
                guard try Bool.fetchOne(context.db, sql: "SELECT EXISTS (\(rows))") == true else { return }
                // Reconstruct before suspense: the lost receivable or payable split first.
                if try rebuildLostReceivablesAndPayables(context) {
                    guard try Bool.fetchOne(context.db, sql: "SELECT EXISTS (\(rows))") == true else { return }
                }
                let suspense = try context.suspense(for: .unbalancedTransaction)
                let added = try context.insertNew(
                    .unbalancedTransaction, "splits",
                    insert: """
                        INSERT INTO splits (transaction_id, account_id, party_id, amount, memo, cleared, reconciliation_id)
                        SELECT x.id, ?, NULL, -x.total,
                               'Rebuild Suspense: transaction ' || x.id || ' was out of balance by ' || \(RepairContext.moneyText("x.total")) || ' (unbalanced-transaction)',
                               'n', NULL
                        FROM temp.v_tx x WHERE x.id IN (\(rows)) ORDER BY x.id
                        """, arguments: [suspense])
                // Each balanced transaction gained one integer split outside A/R and A/P:
                // its sums are patched rather than the whole table summed again.
                try context.db.execute(
                    sql: """
                        UPDATE temp.v_tx SET n = n + 1, total = 0
                        WHERE id IN (SELECT transaction_id FROM splits WHERE id IN (\(added.map(String.init).joined(separator: ","))))
                        """)
            }),
        FindingEntry(
            .accountBalanceMismatch, .error, title: "Account balances that disagree with their transactions",
            nativePass: .judges,
            checks: [
                Check(
                    scan: "accounts", uses: ["ab"], columns: ["COALESCE(ab.total, 0) AS expected"],
                    when:
                        "COALESCE(ab.bad, 0) = 0 AND typeof(a.balance) = 'integer' AND a.balance != COALESCE(ab.total, 0)"
                ) { row in
                    "Account \(row.text("name")) (\(row.id)) shows a balance of \(row.money("balance")), but its transactions add up to \(row.money("expected"))"
                }
            ],
            remedy: .repair(.totals, 5) { context in
                try context.refresh(.byAccountPartyStatement)
                try context.update(
                    .accountBalanceMismatch, "accounts",
                    set: "balance = COALESCE((SELECT SUM(total) FROM temp.v_grp g WHERE g.account_id = accounts.id), 0)"
                )
            }),
        FindingEntry(
            .partyBalanceMismatch, .error, title: "Customer and vendor balances that disagree with their transactions",
            nativePass: .judges,
            checks: [
                Check(
                    scan: "parties", uses: ["pb"], columns: ["COALESCE(pb.total, 0) AS expected"],
                    when:
                        "COALESCE(pb.bad, 0) = 0 AND typeof(p.balance) = 'integer' AND p.balance != COALESCE(pb.total, 0)"
                ) { row in
                    "\((row["kind"] as String?)?.capitalized ?? "Name") \(row.text("name")) (\(row.id)) shows a balance of \(row.money("balance")), but their receivable and payable lines add up to \(row.money("expected"))"
                }
            ],
            remedy: .repair(.totals, 6) { context in
                try context.update(
                    .partyBalanceMismatch, "parties",
                    set: """
                        balance = COALESCE((SELECT SUM(g.total) FROM temp.v_grp g JOIN accounts a ON a.id = g.account_id
                                            WHERE g.party_id = parties.id AND a.type IN \(Catalog.receivablePayable)), 0)
                        """)
            }),
        FindingEntry(
            .reconciliationDiscrepancy, .warning, title: "Reconciliations that no longer add up", nativePass: .judges,
            checks: [
                Check(
                    table: "reconciliations",
                    needs: [.table("reconciliations"), .table("accounts"), .sums(.byAccountPartyStatement)],
                    suspects: "temp.suspect_reconciliations",
                    query: """
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
                        """
                ) { row in
                    let name = "The \(row.text("name")) reconciliation \(row.id) of \(row.text("statement_date"))"
                    // The query lets through only amounts within Money.limit, and sums of
                    // them: these differences cannot overflow.
                    let beginning: Int64 = row["beginning_balance"] ?? 0
                    let previous: Int64 = row["previous"] ?? 0
                    let ending: Int64 = row["ending_balance"] ?? 0
                    let cleared: Int64 = row["cleared"] ?? 0
                    var parts: [String] = []
                    if beginning != previous {
                        parts.append(
                            "begins at \(Money(cents: beginning)), but the previous statement ended at \(Money(cents: previous)) (difference \(Money(cents: beginning - previous)))"
                        )
                    }
                    if ending != beginning + cleared {
                        parts.append(
                            "ends at \(Money(cents: ending)), but its beginning plus its reconciled lines is \(Money(cents: beginning + cleared)) (difference \(Money(cents: ending - beginning - cleared)))"
                        )
                    }
                    return name + " " + parts.joined(separator: " and ") + "; a reconciled line was changed or deleted"
                }
            ], remedy: .forAPerson),
    ]

    /// Reconstruct before suspense (docs/rebuild.md): an invoice, bill, payment or
    /// bill payment that is out of balance because damage took its receivable
    /// (payable) split while other splits survived gets that split again,
    /// from its document's total or its applications (`LostSplits.lostSide`);
    /// `unbalanced-transaction` then books only what still does not balance to
    /// Rebuild Suspense, and `document-total-mismatch` and the overapplied
    /// repairs find nothing to erase. Every plan is read before any split is
    /// added, so the repairs among the suspects and over every row agree.
    ///
    /// Left alone: a transaction with any receivable or payable split (the
    /// split was not lost, something else is wrong), and one with a split in
    /// Rebuild Suspense, which may be that very split moved there by
    /// `split-account-missing`.
    /// - Returns: whether it added a split.
    private static func rebuildLostReceivablesAndPayables(_ context: RepairContext) throws -> Bool {
        let found = try Row.fetchAll(
            context.db,
            sql: """
                SELECT x.id, x.total FROM temp.v_tx x JOIN transactions t ON t.id = x.id
                WHERE x.id IN (\(context.rows(of: .unbalancedTransaction, in: "transactions")))
                  AND t.kind IN ('invoice', 'bill', 'payment', 'bill_payment')
                  AND NOT EXISTS (SELECT 1 FROM splits s JOIN accounts a ON a.id = s.account_id
                                  WHERE s.transaction_id = x.id AND (a.type IN \(Catalog.receivablePayable)
                                    OR (a.name = 'Rebuild Suspense' AND a.parent_id IS NULL AND a.type = 'other_current_asset')))
                ORDER BY x.id
                """)
        guard !found.isEmpty else { return false }
        var lost = LostSplits(context.db)
        var rebuilt: [(transaction: Int64, splits: [LostSplits.Split])] = []
        for row in found {
            guard let transaction = row.integer("id"), let gap = row.integer("total"),
                let split = try lost.lostSide(transaction, gap: gap)
            else { continue }
            rebuilt.append((transaction, [split]))
        }
        guard !rebuilt.isEmpty else { return false }
        try LostSplits.add(rebuilt, as: .unbalancedTransaction, context)
        try context.refresh(.byTransaction)
        return true
    }
}
