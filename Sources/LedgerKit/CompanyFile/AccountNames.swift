/// Accounts' full names, as the trial balance, the bank feed and exports show them.
enum AccountNames {
    /// SQL returning `id`, `full_name` ("Payroll Expenses:Wages": every parent's
    /// name, then its own), `number` and `type` of every account. A parent chain
    /// deeper than 32 (a loop: account-cycle) stops there, and so does one whose
    /// parent is missing (account-parent-missing): the name is then as far as it goes.
    static let sql = """
        WITH RECURSIVE path(id, name, parent, depth) AS (
          SELECT id, name, parent_id, 0 FROM accounts
          UNION ALL
          SELECT p.id, a.name || ':' || p.name, a.parent_id, p.depth + 1
          FROM path p JOIN accounts a ON a.id = p.parent WHERE p.depth < 32
        )
        SELECT p.id, p.name AS full_name, a.number, a.type FROM path p JOIN accounts a ON a.id = p.id
        WHERE p.parent IS NULL OR p.depth = 32 OR NOT EXISTS (SELECT 1 FROM accounts x WHERE x.id = p.parent)
        """
}
