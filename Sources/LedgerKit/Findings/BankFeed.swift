import GRDB

extension FindingCatalog {
    /// The bank feed.
    static let bankFeed: [FindingEntry] = [
        FindingEntry(
            .feedAccountMissing, .error, title: "Bank feed lines of accounts that no longer exist", nativePass: .judges,
            checks: [
                Check(
                    scan: "bank_feed", needs: [.table("accounts")],
                    when: "f.account_id IS NOT NULL AND f.account_id NOT IN (SELECT id FROM accounts)"
                ) { row in
                    "Bank feed line \(row.id) (\(row.text("posted_date")), \(row.money("amount"))) is of account \(row.text("account_id")), which does not exist"
                }
            ],
            remedy: .repair(.links, 5) { context in
                let lines = try Int64.fetchAll(
                    context.db, sql: context.rows(of: .feedAccountMissing, in: "bank_feed") + " ORDER BY 1")
                guard !lines.isEmpty else { return }
                let suspense = try context.suspense(for: .feedAccountMissing)
                // One at a time: two lines moving into the suspense account may share a bank id.
                for line in lines {
                    try context.change(
                        .feedAccountMissing, "bank_feed", rows: "SELECT ?", arguments: [line], .update,
                        apply: """
                            UPDATE bank_feed SET account_id = ?1, status = 'excluded', transaction_id = NULL,
                              fitid = CASE WHEN EXISTS (SELECT 1 FROM bank_feed o WHERE o.account_id = ?1 AND o.fitid = bank_feed.fitid AND o.id != bank_feed.id)
                                      THEN fitid || '#dup' || id ELSE fitid END
                            WHERE id = ?2
                            """, applyArguments: [suspense, line])
                }
            }),
        FindingEntry(
            .feedLinkInvalid, .error, title: "Bank feed lines with a wrong link to a transaction", nativePass: .judges,
            checks: [
                Check(
                    scan: "bank_feed", uses: ["t"], columns: ["t.id AS linked_exists"],
                    when: """
                        (f.status IN ('matched', 'added') AND (f.transaction_id IS NULL OR t.id IS NULL))
                        OR (f.status IN ('new', 'excluded') AND f.transaction_id IS NOT NULL)
                        """
                ) { row in
                    let line = "Bank feed line \(row.id) (\(row.text("posted_date")), \(row.money("amount")))"
                    let status: String = row["status"] ?? "?"
                    if status == "new" || status == "excluded" {
                        return "\(line) is \(status) but linked to transaction \(row.text("transaction_id"))"
                    }
                    return (row["transaction_id"] as Int64?) == nil
                        ? "\(line) is \(status) but linked to no transaction"
                        : "\(line) is \(status) to transaction \(row.text("transaction_id")), which does not exist"
                }
            ],
            remedy: .repair(.links, 6) { context in
                try context.update(.feedLinkInvalid, "bank_feed", set: "status = 'new', transaction_id = NULL")
            }),
        FindingEntry(
            .feedAmountMismatch, .warning, title: "Bank feed lines matched to a different amount", nativePass: .judges,
            checks: [
                Check(
                    scan: "bank_feed", uses: ["t"], needs: [.table("splits"), .table("accounts")],
                    columns: [
                        "(SELECT COALESCE(SUM(\(ValueRule.summable("sp.amount"))), 0) FROM splits sp WHERE sp.transaction_id = f.transaction_id AND +sp.account_id = f.account_id) AS booked"
                    ],
                    when: """
                        f.status IN ('matched', 'added') AND t.id IS NOT NULL AND f.account_id IN (SELECT id FROM accounts)
                        AND typeof(f.amount) = 'integer' AND NOT \(ValueRule.isBadAmount("f.amount"))
                        AND NOT EXISTS (SELECT 1 FROM splits sp WHERE sp.transaction_id = f.transaction_id AND +sp.account_id = f.account_id
                                        AND \(ValueRule.isBadAmount("sp.amount")))
                        AND f.amount != (SELECT COALESCE(SUM(\(ValueRule.summable("sp.amount"))), 0) FROM splits sp
                                         WHERE sp.transaction_id = f.transaction_id AND +sp.account_id = f.account_id)
                        """
                ) { row in
                    "Bank feed line \(row.id) (\(row.text("posted_date")), \(row.money("amount"))) is matched to \(try row.transaction("transaction_id")), which moves \(row.money("booked")) in that account"
                }
            ],
            remedy: .repair(.links, 7) { context in
                try context.update(.feedAmountMismatch, "bank_feed", set: "status = 'new', transaction_id = NULL")
            }),
        FindingEntry(
            .duplicateFeedLine, .error, title: "Bank feed lines downloaded twice", nativePass: .readsEveryRow,
            checks: [
                // The unique index bank_feed_fitid forbids duplicates while it exists.
                Check(
                    table: "bank_feed", needs: [.table("bank_feed"), .missingIndex("bank_feed_fitid")],
                    query: """
                        SELECT id AS row_id, fitid, keep FROM (
                          SELECT id, fitid, FIRST_VALUE(id) OVER w AS keep, ROW_NUMBER() OVER w AS position
                          FROM bank_feed WHERE fitid IS NOT NULL
                          WINDOW w AS (PARTITION BY account_id, fitid ORDER BY downloaded_at, id))
                        WHERE position > 1 ORDER BY id
                        """
                ) { row in
                    "Bank feed line \(row.id) repeats line \(row.text("keep")) (bank id \(row.text("fitid"))): the same line downloaded twice"
                }
            ],
            remedy: .repair(.links, 4) { context in
                // Only possible while the unique index is missing; it is made again afterwards.
                guard try !context.hasIndex("bank_feed_fitid") else { return }
                try context.update(
                    .duplicateFeedLine, "bank_feed",
                    set: "status = 'excluded', transaction_id = NULL, fitid = fitid || '#dup' || id")
            }),
    ]
}
