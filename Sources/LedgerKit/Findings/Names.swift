import GRDB

extension FindingCatalog {
    /// The names lists: items, accounts, customers and vendors.
    static let names: [FindingEntry] = [
        FindingEntry(
            .itemAccountMissing, .warning, title: "Items posting to accounts that no longer exist",
            nativePass: .readsEveryRow,
            checks: [
                Check(
                    scan: "items", uses: ["ia", "ea"], columns: ["ia.id AS income_exists", "ea.id AS expense_exists"],
                    when: """
                        (i.income_account_id IS NOT NULL AND ia.id IS NULL) OR (i.expense_account_id IS NOT NULL AND ea.id IS NULL)
                        """
                ) { row in
                    var missing: [String] = []
                    if !row.row.stored("income_account_id").isNull && row.row.stored("income_exists").isNull {
                        missing.append("income account \(row.text("income_account_id"))")
                    }
                    if !row.row.stored("expense_account_id").isNull && row.row.stored("expense_exists").isNull {
                        missing.append("expense account \(row.text("expense_account_id"))")
                    }
                    return
                        "Item \(row.text("name")) (\(row.id)) posts to \(missing.joined(separator: " and ")), which does not exist"
                }
            ],
            remedy: .repair(.structure, 9) { context in
                try context.update(
                    .itemAccountMissing, "items",
                    set: """
                        income_account_id = CASE WHEN income_account_id IS NOT NULL AND income_account_id NOT IN (SELECT id FROM accounts)
                                            THEN NULL ELSE income_account_id END,
                        expense_account_id = CASE WHEN expense_account_id IS NOT NULL AND expense_account_id NOT IN (SELECT id FROM accounts)
                                             THEN NULL ELSE expense_account_id END
                        """)
            }),
        FindingEntry(
            .duplicateName, .error, title: "Names used twice", nativePass: .readsEveryRow,
            checks: [
                Check(
                    table: "accounts", needs: [.table("accounts"), .missingIndex("accounts_name")],
                    query: """
                        SELECT id AS row_id, name, keep FROM (
                          SELECT id, name, FIRST_VALUE(id) OVER w AS keep, ROW_NUMBER() OVER w AS position
                          FROM accounts WHERE name IS NOT NULL
                          WINDOW w AS (PARTITION BY COALESCE(parent_id, 0), name ORDER BY id))
                        WHERE position > 1 ORDER BY id
                        """
                ) { row in
                    "Account \(row.id) is named \(row.text("name")), like account \(row.text("keep")) under the same parent"
                },
                Check(
                    table: "parties", needs: [.table("parties"), .missingIndex("parties_name")],
                    query: """
                        SELECT id AS row_id, name, kind, keep FROM (
                          SELECT id, name, kind, FIRST_VALUE(id) OVER w AS keep, ROW_NUMBER() OVER w AS position
                          FROM parties WHERE name IS NOT NULL
                          WINDOW w AS (PARTITION BY kind, name ORDER BY id))
                        WHERE position > 1 ORDER BY id
                        """
                ) { row in
                    "\((row["kind"] as String?)?.capitalized ?? "Name") \(row.id) is named \(row.text("name")), like \(row["kind"] as String? ?? "name") \(row.text("keep"))"
                },
            ],
            remedy: .repair(.names, 1) { context in
                for (table, scope) in [("accounts", "COALESCE(parent_id, 0)"), ("parties", "kind")] {
                    let index = table == "accounts" ? "accounts_name" : "parties_name"
                    guard try !context.hasIndex(index) else { continue }
                    let later = try Int64.fetchAll(
                        context.db, sql: context.rows(of: .duplicateName, in: table) + " ORDER BY 1")
                    for id in later {
                        guard
                            let row = try Row.fetchOne(
                                context.db, sql: "SELECT name, \(scope) AS scope FROM \(table) WHERE id = ?",
                                arguments: [id])
                        else { continue }
                        let scopeValue = row.stored("scope")
                        // The row itself still holds the name, so the first free one is "NAME (2)", then "NAME (3)"…
                        let name = try Repairs.freeName(
                            row.text("name") ?? row.stored("name").described, context.db,
                            taken: "SELECT COUNT(*) FROM \(table) WHERE \(scope) IS ? AND name = ?", [scopeValue])
                        try context.change(
                            .duplicateName, table, rows: "SELECT ?", arguments: [id], .update,
                            apply: "UPDATE \(table) SET name = ? WHERE id = ?", applyArguments: [name, id])
                    }
                }
            }),
        FindingEntry(
            .receivablePayableWithoutParty, .warning, title: "Receivable or payable lines without a customer or vendor",
            nativePass: .judges,
            checks: [
                Check(
                    scan: "splits", needs: [.table("accounts")],
                    columns: ["(SELECT name FROM accounts WHERE id = s.account_id) AS account_name"],
                    when:
                        "s.party_id IS NULL AND s.account_id IN (SELECT id FROM accounts WHERE type IN \(Catalog.receivablePayable))"
                ) { row in
                    "Split \(row.id) of \(try row.transaction("transaction_id")) posts \(row.money("amount")) to \(row.text("account_name")) without naming a customer or vendor"
                }
            ], remedy: .forAPerson),
    ]
}
