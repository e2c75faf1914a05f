import GRDB

@testable import LedgerKit

/// The rules of docs/company-file.md that a correct company file obeys, each as SQL that
/// returns the offending rows' ids: an empty result means the rule holds.
enum Invariants {
    static let rules: [(name: String, sql: String)] = [
        (
            "every transaction sums to 0",
            """
            SELECT transaction_id FROM splits GROUP BY transaction_id HAVING SUM(amount) != 0
            """
        ),
        (
            "every transaction has splits",
            """
            SELECT id FROM transactions t WHERE NOT EXISTS (SELECT 1 FROM splits s WHERE s.transaction_id = t.id)
            """
        ),
        (
            "account balances equal their splits",
            """
            SELECT a.id FROM accounts a
            LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM splits GROUP BY account_id) s ON s.account_id = a.id
            WHERE a.balance != COALESCE(s.total, 0)
            """
        ),
        (
            "party balances equal their A/R and A/P splits",
            """
            SELECT p.id FROM parties p
            LEFT JOIN (SELECT s.party_id, SUM(s.amount) AS total FROM splits s JOIN accounts a ON a.id = s.account_id
                       WHERE a.type IN ('accounts_receivable', 'accounts_payable') GROUP BY s.party_id) s ON s.party_id = p.id
            WHERE p.balance != COALESCE(s.total, 0)
            """
        ),
        (
            "A/R and A/P splits name a party",
            """
            SELECT s.id FROM splits s JOIN accounts a ON a.id = s.account_id
            WHERE a.type IN ('accounts_receivable', 'accounts_payable') AND s.party_id IS NULL
            """
        ),
        (
            "every invoice and bill has a documents row, and only they do",
            """
            SELECT t.id FROM transactions t LEFT JOIN documents d ON d.transaction_id = t.id
            WHERE t.kind IN ('invoice', 'bill') AND d.transaction_id IS NULL
            UNION ALL
            SELECT d.transaction_id FROM documents d LEFT JOIN transactions t ON t.id = d.transaction_id
            WHERE t.id IS NULL OR t.kind NOT IN ('invoice', 'bill')
            """
        ),
        (
            "document totals equal their A/R or A/P splits",
            """
            SELECT d.transaction_id FROM documents d
            LEFT JOIN (SELECT s.transaction_id, ABS(SUM(s.amount)) AS total FROM splits s JOIN accounts a ON a.id = s.account_id
                       WHERE a.type IN ('accounts_receivable', 'accounts_payable') GROUP BY s.transaction_id) s
              ON s.transaction_id = d.transaction_id
            WHERE d.total != COALESCE(s.total, 0)
            """
        ),
        (
            "document lines sum to the total",
            """
            SELECT d.transaction_id FROM documents d
            LEFT JOIN (SELECT transaction_id, SUM(amount) AS total FROM document_lines GROUP BY transaction_id) l
              ON l.transaction_id = d.transaction_id
            WHERE d.total != COALESCE(l.total, 0)
            """
        ),
        (
            "balance due is total less applications, never below 0",
            """
            SELECT d.transaction_id FROM documents d
            LEFT JOIN (SELECT document_id, SUM(amount) AS applied FROM applications GROUP BY document_id) p
              ON p.document_id = d.transaction_id
            WHERE d.balance_due != d.total - COALESCE(p.applied, 0) OR d.balance_due < 0
            """
        ),
        (
            "applications stay within their payment",
            """
            SELECT p.payment_id FROM (SELECT payment_id, SUM(amount) AS applied FROM applications GROUP BY payment_id) p
            JOIN (SELECT s.transaction_id, ABS(SUM(s.amount)) AS amount FROM splits s JOIN accounts a ON a.id = s.account_id
                  WHERE a.type IN ('accounts_receivable', 'accounts_payable') GROUP BY s.transaction_id) s
              ON s.transaction_id = p.payment_id
            WHERE p.applied > s.amount
            """
        ),
        (
            "applications join a payment to an invoice (or a bill payment to a bill) of the same party",
            """
            SELECT ap.id FROM applications ap
            JOIN transactions p ON p.id = ap.payment_id JOIN transactions d ON d.id = ap.document_id
            WHERE NOT ((p.kind = 'payment' AND d.kind = 'invoice') OR (p.kind = 'bill_payment' AND d.kind = 'bill'))
               OR p.party_id IS NOT d.party_id OR d.date > p.date
            """
        ),
        (
            "reconciled splits link a statement of their account dated on or after them",
            """
            SELECT s.id FROM splits s JOIN transactions t ON t.id = s.transaction_id
            LEFT JOIN reconciliations r ON r.id = s.reconciliation_id
            WHERE (s.cleared = 'r') != (s.reconciliation_id IS NOT NULL)
               OR (s.reconciliation_id IS NOT NULL AND (r.id IS NULL OR r.account_id != s.account_id OR r.statement_date < t.date))
            """
        ),
        (
            "reconciliations chain",
            """
            SELECT id FROM (
              SELECT r.id, r.beginning_balance, r.ending_balance,
                     LAG(r.ending_balance, 1, 0) OVER (PARTITION BY r.account_id ORDER BY r.statement_date, r.id) AS previous,
                     (SELECT COALESCE(SUM(amount), 0) FROM splits s WHERE s.reconciliation_id = r.id) AS cleared
              FROM reconciliations r)
            WHERE beginning_balance != previous OR ending_balance != beginning_balance + cleared
            """
        ),
        (
            "matched and added feed lines equal their transaction's split in that account",
            """
            SELECT f.id FROM bank_feed f
            WHERE (f.status IN ('matched', 'added')) != (f.transaction_id IS NOT NULL)
               OR (f.transaction_id IS NOT NULL AND f.amount !=
                   (SELECT COALESCE(SUM(s.amount), 0) FROM splits s WHERE s.transaction_id = f.transaction_id AND s.account_id = f.account_id))
            """
        ),
        (
            "dates are YYYY-MM-DD, timestamps YYYY-MM-DDTHH:MM:SSZ",
            """
            SELECT id FROM transactions
            WHERE date NOT GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]' OR date(date) IS NOT date
               OR created_at NOT GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z'
               OR modified_at < created_at
            """
        ),
        (
            "amounts are integers",
            """
            SELECT id FROM splits WHERE typeof(amount) != 'integer'
            UNION ALL SELECT transaction_id FROM documents WHERE typeof(total) != 'integer' OR typeof(balance_due) != 'integer'
            UNION ALL SELECT id FROM bank_feed WHERE typeof(amount) != 'integer'
            """
        ),
    ]

    /// The names of the rules that `db` breaks, each with its first offending ids.
    static func violations(in db: Database) throws -> [String] {
        var broken: [String] = []
        for rule in rules {
            let ids = try Int64.fetchAll(db, sql: rule.sql + " LIMIT 5")
            if !ids.isEmpty { broken.append("\(rule.name): \(ids)") }
        }
        for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") {
            broken.append("foreign key: \(row)")
        }
        let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
        if integrity != ["ok"] { broken.append("integrity_check: \(integrity)") }
        return broken
    }

    /// Every split's id and amount as stored, to check later that none was lost or changed.
    static func splits(in path: String) throws -> [Row] {
        try CompanyFile.read(path) { try Row.fetchAll($0, sql: "SELECT id, amount FROM splits ORDER BY id") }
    }

    /// The ids of the splits of `splits` that `db` no longer has with the same amount.
    static func lostOrChanged(_ splits: [Row], in db: Database) throws -> [Int64] {
        let statement = try db.makeStatement(sql: "SELECT amount FROM splits WHERE id = ?")
        return try splits.compactMap { split in
            let id: Int64 = split["id"]
            let amount = try DatabaseValue.fetchOne(statement, arguments: [id])
            return amount == (split["amount"] as DatabaseValue) ? nil : id
        }
    }

    /// A digest of every row of every table, for comparing two files' contents.
    static func contentDigest(of db: Database) throws -> [String: String] {
        var digest: [String: String] = [:]
        for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
            var hasher = FNV1a()
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM \"\(table)\" ORDER BY rowid")
            while let row = try rows.next() { hasher.add(row.description) }
            digest[table] = String(hasher.value, radix: 16)
        }
        return digest
    }
}

/// 64-bit FNV-1a: stable across runs, unlike `Hasher`.
struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ text: String) {
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01B3
        }
        value ^= 0xFF
        value = value &* 0x100_0000_01B3
    }
}
