import GRDB

extension FindingCatalog {
    /// Invoices, bills and what pays them.
    static let documents: [FindingEntry] = [
        FindingEntry(
            .documentTotalMismatch, .error, title: "Invoice and bill totals that disagree with their postings",
            nativePass: .judges,
            checks: [
                Check(
                    scan: "documents", uses: ["t", "x"], reportAs: "transactions",
                    columns: ["ABS(x.arap) AS expected_total"],
                    when: """
                        t.kind IN ('invoice', 'bill') AND x.bad = 0 AND typeof(d.total) = 'integer' AND d.total != ABS(x.arap)
                        """
                ) { row in
                    "\(try row.transaction("transaction_id")) has a total of \(row.money("total")), but its receivable or payable line says \(row.money("expected_total"))"
                }
            ],
            remedy: .repair(.totals, 1) { context in
                try context.update(
                    .documentTotalMismatch, "documents", found: "transactions",
                    set: "total = (SELECT ABS(x.arap) FROM temp.v_tx x WHERE x.id = documents.transaction_id)")
            }),
        FindingEntry(
            .documentBalanceMismatch, .error,
            title: "Open balances of invoices and bills that disagree with their payments", nativePass: .judges,
            checks: [
                Check(
                    scan: "documents", uses: ["t", "ap"], reportAs: "transactions",
                    columns: ["d.total - COALESCE(ap.applied, 0) AS expected_due"],
                    when: """
                        t.kind IN ('invoice', 'bill') AND COALESCE(ap.bad, 0) = 0 AND typeof(d.total) = 'integer'
                        AND typeof(d.balance_due) = 'integer' AND d.balance_due != d.total - COALESCE(ap.applied, 0)
                        """
                ) { row in
                    "\(try row.transaction("transaction_id")) shows \(row.money("balance_due")) due, but its total less payments applied is \(row.money("expected_due"))"
                }
            ],
            remedy: .repair(.totals, 4) { context in
                try context.refresh(.appliedToDocument)
                try context.update(
                    .documentBalanceMismatch, "documents", found: "transactions",
                    set: """
                        balance_due = total - COALESCE((SELECT ap.applied FROM temp.v_applied ap WHERE ap.document_id = documents.transaction_id), 0)
                        """)
            }),
        FindingEntry(
            .documentOverapplied, .error, title: "Invoices and bills paid more than their total", nativePass: .judges,
            checks: [
                Check(
                    scan: "documents", uses: ["t", "ap"], reportAs: "transactions",
                    columns: ["ap.applied AS applied"],
                    when: """
                        t.kind IN ('invoice', 'bill') AND ap.bad = 0 AND typeof(d.total) = 'integer' AND ap.applied > d.total
                        """
                ) { row in
                    "\(try row.transaction("transaction_id")) has \(row.money("applied")) of payments applied to a total of \(row.money("total"))"
                }
            ],
            remedy: .repair(.totals, 2) { context in
                try context.refresh(.appliedToDocument)
                // Keeping the oldest applications whose running sum fits the total is
                // deleting the newest until the rest fits (amounts are positive).
                let deleted = try context.change(
                    .documentOverapplied, "applications",
                    rows: """
                        SELECT id FROM (
                          SELECT a.id, SUM(a.amount) OVER (PARTITION BY a.document_id ORDER BY a.id) AS running, d.total
                          FROM applications a JOIN documents d ON d.transaction_id = a.document_id
                          WHERE a.document_id IN (\(context.rows(of: .documentOverapplied, in: "transactions"))))
                        WHERE running > total
                        """, .delete, apply: "DELETE FROM applications WHERE id IN (SELECT id FROM temp.rebuild_rows)")
                if deleted > 0 { context.invalidate(.appliedToDocument) }
            }),
        FindingEntry(
            .paymentOverapplied, .error, title: "Payments applied for more than they were", nativePass: .judges,
            checks: [
                Check(
                    table: "transactions",
                    needs: [.table("applications"), .table("transactions"), .sums(.byTransaction)],
                    suspects: "temp.suspect_payments",
                    query: """
                        SELECT t.id AS row_id, a.applied, ABS(x.arap) AS amount
                        FROM (SELECT payment_id, SUM(\(ValueRule.summable("amount"))) AS applied, MAX(\(ValueRule.isBadAmount("amount")) OR amount IS NULL) AS bad
                              FROM applications WHERE typeof(payment_id) = 'integer' GROUP BY payment_id) a
                        JOIN transactions t ON t.id = a.payment_id
                        JOIN temp.v_tx x ON x.id = t.id
                        WHERE t.kind IN ('payment', 'bill_payment') AND a.bad = 0 AND x.bad = 0 AND a.applied > ABS(x.arap)
                        ORDER BY t.id
                        """
                ) { row in
                    "\(try row.transaction("row_id")) is applied for \(row.money("applied")) but was for \(row.money("amount"))"
                }
            ],
            remedy: .repair(.totals, 3) { context in
                let deleted = try context.change(
                    .paymentOverapplied, "applications",
                    rows: """
                        SELECT id FROM (
                          SELECT a.id, SUM(a.amount) OVER (PARTITION BY a.payment_id ORDER BY a.id) AS running, ABS(x.arap) AS amount
                          FROM applications a JOIN temp.v_tx x ON x.id = a.payment_id
                          WHERE a.payment_id IN (\(context.rows(of: .paymentOverapplied, in: "transactions"))))
                        WHERE running > amount
                        """, .delete, apply: "DELETE FROM applications WHERE id IN (SELECT id FROM temp.rebuild_rows)")
                if deleted > 0 { context.invalidate(.appliedToDocument) }
            }),
        FindingEntry(
            .documentLinesMismatch, .warning, title: "Invoice and bill lines that do not add up to the total",
            nativePass: .judges,
            checks: [
                Check(
                    scan: "documents", uses: ["t", "l"], reportAs: "transactions",
                    columns: ["COALESCE(l.total, 0) AS lines"],
                    when: """
                        t.kind IN ('invoice', 'bill') AND COALESCE(l.bad, 0) = 0 AND typeof(d.total) = 'integer'
                        AND COALESCE(l.total, 0) != d.total
                        """
                ) { row in
                    "The lines of \(try row.transaction("transaction_id")) add up to \(row.money("lines")), not its total of \(row.money("total"))"
                }
            ], remedy: .forAPerson),
    ]
}
