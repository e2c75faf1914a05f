import GRDB

@testable import LedgerKit

/// One realistic way to cause each finding of the catalog, and exactly what
/// Verify must then report: the finding itself and whatever the damage
/// necessarily brings with it, nothing more.
enum Faults {
    static let ar = "(SELECT id FROM accounts WHERE type = 'accounts_receivable')"

    /// Damages the open file to cause `code` and returns the expected findings.
    static func inject(_ code: FindingCode, _ db: Database) throws -> Set<Expected> {
        switch code {
        case .sqliteCorruption:
            fatalError("corruption is injected into the file's bytes: see VerifyCorruptionTests")

        case .schemaObjectMissing:
            try db.execute(sql: "DROP INDEX splits_account")
            return [Expected(code, "splits", nil)]

        case .orphanSplit:
            // A card charge has no feed line, reconciliation or document: only its splits are left behind.
            let charge = try Damage.one(db, "SELECT MIN(id) FROM transactions WHERE kind = 'credit_card_charge'")
            let splits = try Damage.all(db, "SELECT id FROM splits WHERE transaction_id = ?", [charge])
            try db.execute(sql: "DELETE FROM transactions WHERE id = ?", arguments: [charge])
            return Set(splits.map { Expected(code, "splits", $0) })

        case .splitAccountMissing:
            let meals = try Damage.one(db, "SELECT id FROM accounts WHERE name = 'Meals'")
            let splits = try Damage.all(db, "SELECT id FROM splits WHERE account_id = ?", [meals])
            try db.execute(sql: "DELETE FROM accounts WHERE id = ?", arguments: [meals])
            precondition(!splits.isEmpty)
            return Set(splits.map { Expected(code, "splits", $0) })

        case .emptyTransaction:
            // A crash between writing a transaction and its splits.
            try db.execute(
                sql: """
                    INSERT INTO transactions (id, kind, date, created_at, modified_at)
                    VALUES (900001, 'check', '2025-06-01', '2025-06-01T10:00:00Z', '2025-06-01T10:00:00Z')
                    """)
            return [Expected(code, "transactions", 900_001)]

        case .partyMissing:
            let customer = try Damage.one(db, "SELECT MIN(party_id) FROM transactions WHERE kind = 'invoice'")
            let transactions = try Damage.all(db, "SELECT id FROM transactions WHERE party_id = ?", [customer])
            let splits = try Damage.all(db, "SELECT id FROM splits WHERE party_id = ?", [customer])
            try db.execute(sql: "DELETE FROM parties WHERE id = ?", arguments: [customer])
            return Set(
                transactions.map { Expected(code, "transactions", $0) } + splits.map { Expected(code, "splits", $0) })

        case .accountParentMissing:
            let parent = try Damage.one(db, "SELECT id FROM accounts WHERE name = 'Automobile Expense'")
            let children = try Damage.all(db, "SELECT id FROM accounts WHERE parent_id = ?", [parent])
            try db.execute(sql: "DELETE FROM accounts WHERE id = ?", arguments: [parent])
            return Set(children.map { Expected(code, "accounts", $0) })

        case .accountCycle:
            let parent = try Damage.one(db, "SELECT id FROM accounts WHERE name = 'Automobile Expense'")
            let child = try Damage.one(db, "SELECT id FROM accounts WHERE name = 'Fuel'")
            try db.execute(sql: "UPDATE accounts SET parent_id = ? WHERE id = ?", arguments: [child, parent])
            return [Expected(code, "accounts", min(parent, child))]

        case .lineDocumentMissing:
            try db.execute(
                sql:
                    "INSERT INTO document_lines (id, transaction_id, description, amount) VALUES (900002, 987654, 'Lost line', 1200)"
            )
            return [Expected(code, "document_lines", 900_002)]

        case .lineItemMissing:
            let item = try Damage.one(
                db,
                "SELECT item_id FROM document_lines WHERE item_id IS NOT NULL GROUP BY item_id ORDER BY COUNT(*) LIMIT 1"
            )
            let lines = try Damage.all(db, "SELECT id FROM document_lines WHERE item_id = ?", [item])
            try db.execute(sql: "DELETE FROM items WHERE id = ?", arguments: [item])
            return Set(lines.map { Expected(code, "document_lines", $0) })

        case .applicationInvalid:
            let application = try Damage.one(db, "SELECT MIN(id) FROM applications")
            try db.execute(sql: "UPDATE applications SET payment_id = 987654 WHERE id = ?", arguments: [application])
            return [Expected(code, "applications", application)]

        case .documentRowMissing:
            let invoice = try Damage.one(
                db,
                """
                SELECT MIN(t.id) FROM transactions t WHERE t.kind = 'invoice'
                AND NOT EXISTS (SELECT 1 FROM applications WHERE document_id = t.id)
                """)
            let check = try Damage.one(db, "SELECT MIN(id) FROM transactions WHERE kind = 'check'")
            try db.execute(sql: "DELETE FROM documents WHERE transaction_id = ?", arguments: [invoice])
            try db.execute(
                sql: "INSERT INTO documents (transaction_id, total, balance_due) VALUES (?, 0, 0)", arguments: [check])
            return [Expected(code, "transactions", invoice), Expected(code, "documents", check)]

        case .reconciliationAccountMissing:
            let last = try Damage.one(db, "SELECT id FROM reconciliations ORDER BY statement_date DESC LIMIT 1")
            try db.execute(sql: "UPDATE reconciliations SET account_id = 987 WHERE id = ?", arguments: [last])
            return [Expected(code, "reconciliations", last)]

        case .reconciliationLinkInvalid:
            let split = try Damage.one(db, "SELECT MIN(id) FROM splits WHERE cleared = 'r'")
            try db.execute(sql: "UPDATE splits SET cleared = 'c' WHERE id = ?", arguments: [split])
            return [Expected(code, "splits", split)]

        case .feedLinkInvalid:
            let line = try Damage.one(db, "SELECT MIN(id) FROM bank_feed WHERE status = 'new'")
            try db.execute(sql: "UPDATE bank_feed SET transaction_id = 1 WHERE id = ?", arguments: [line])
            return [Expected(code, "bank_feed", line)]

        case .unbalancedTransaction:
            let charge = try Damage.one(db, "SELECT MIN(id) FROM transactions WHERE kind = 'credit_card_charge'")
            let split = try Damage.one(
                db, "SELECT MIN(id) FROM splits WHERE transaction_id = ? AND amount > 0", [charge])
            let account = try Damage.one(db, "SELECT account_id FROM splits WHERE id = ?", [split])
            try db.execute(sql: "UPDATE splits SET amount = amount + 1000 WHERE id = ?", arguments: [split])
            return [Expected(code, "transactions", charge), Expected(.accountBalanceMismatch, "accounts", account)]

        case .accountBalanceMismatch:
            try db.execute(sql: "UPDATE accounts SET balance = balance + 1 WHERE name = 'Checking'")
            return [Expected(code, "accounts", try Damage.one(db, "SELECT id FROM accounts WHERE name = 'Checking'"))]

        case .partyBalanceMismatch:
            let customer = try Damage.one(db, "SELECT MIN(party_id) FROM transactions WHERE kind = 'invoice'")
            try db.execute(sql: "UPDATE parties SET balance = balance + 500 WHERE id = ?", arguments: [customer])
            return [Expected(code, "parties", customer)]

        case .documentTotalMismatch:
            // The header's total is wrong while its balance due and lines agree with it.
            let invoice = try Damage.one(db, "SELECT MIN(transaction_id) FROM documents WHERE balance_due = total")
            let line = try Damage.one(db, "SELECT MIN(id) FROM document_lines WHERE transaction_id = ?", [invoice])
            try db.execute(
                sql:
                    "UPDATE documents SET total = total + 100, balance_due = balance_due + 100 WHERE transaction_id = ?",
                arguments: [invoice])
            try db.execute(sql: "UPDATE document_lines SET amount = amount + 100 WHERE id = ?", arguments: [line])
            return [Expected(code, "transactions", invoice)]

        case .documentBalanceMismatch:
            let invoice = try Damage.one(db, "SELECT MIN(transaction_id) FROM documents")
            try db.execute(
                sql: "UPDATE documents SET balance_due = balance_due + 1 WHERE transaction_id = ?", arguments: [invoice]
            )
            return [Expected(code, "transactions", invoice)]

        case .documentOverapplied:
            // A payment with money to spare is applied once more to an invoice already paid.
            let pair = try Row.fetchOne(
                db,
                sql: """
                    SELECT p.id AS payment, i.id AS invoice FROM transactions p
                    JOIN splits s ON s.transaction_id = p.id AND s.account_id IN \(ar)
                    JOIN transactions i ON i.party_id = p.party_id AND i.kind = 'invoice' AND i.date <= p.date
                    JOIN documents d ON d.transaction_id = i.id AND d.balance_due = 0
                    WHERE p.kind = 'payment'
                      AND -s.amount - (SELECT COALESCE(SUM(amount), 0) FROM applications WHERE payment_id = p.id) >= 100
                    ORDER BY p.id, i.id LIMIT 1
                    """)!
            let payment: Int64 = pair["payment"]
            let invoice: Int64 = pair["invoice"]
            try db.execute(
                sql: "INSERT INTO applications (payment_id, document_id, amount) VALUES (?, ?, 100)",
                arguments: [payment, invoice])
            try db.execute(
                sql: "UPDATE documents SET balance_due = -100 WHERE transaction_id = ?", arguments: [invoice])
            return [Expected(code, "transactions", invoice)]

        case .paymentOverapplied:
            // An application grows past what its payment brought, and the invoice's balance follows it.
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT a.id, a.payment_id, a.document_id FROM applications a
                    JOIN transactions p ON p.id = a.payment_id AND p.kind = 'payment'
                    JOIN documents d ON d.transaction_id = a.document_id AND d.balance_due >= 1000
                    JOIN splits s ON s.transaction_id = p.id AND s.account_id IN \(ar)
                    WHERE -s.amount = (SELECT SUM(amount) FROM applications WHERE payment_id = p.id)
                    ORDER BY a.id LIMIT 1
                    """)!
            let application: Int64 = row["id"]
            let payment: Int64 = row["payment_id"]
            let invoice: Int64 = row["document_id"]
            try db.execute(sql: "UPDATE applications SET amount = amount + 100 WHERE id = ?", arguments: [application])
            try db.execute(
                sql: "UPDATE documents SET balance_due = balance_due - 100 WHERE transaction_id = ?",
                arguments: [invoice])
            return [Expected(code, "transactions", payment)]

        case .documentLinesMismatch:
            let line = try Damage.one(db, "SELECT MIN(id) FROM document_lines")
            let document = try Damage.one(db, "SELECT transaction_id FROM document_lines WHERE id = ?", [line])
            try db.execute(sql: "UPDATE document_lines SET amount = amount + 1 WHERE id = ?", arguments: [line])
            return [Expected(code, "transactions", document)]

        case .reconciliationDiscrepancy:
            let last = try Damage.one(db, "SELECT id FROM reconciliations ORDER BY statement_date DESC LIMIT 1")
            try db.execute(
                sql: "UPDATE reconciliations SET ending_balance = ending_balance + 100 WHERE id = ?", arguments: [last])
            return [Expected(code, "reconciliations", last)]

        case .feedAmountMismatch:
            let line = try Damage.one(db, "SELECT MIN(id) FROM bank_feed WHERE status = 'matched'")
            try db.execute(sql: "UPDATE bank_feed SET amount = amount + 1 WHERE id = ?", arguments: [line])
            return [Expected(code, "bank_feed", line)]

        case .duplicateFeedLine:
            // An older importer without the unique index downloaded a line again.
            try db.execute(sql: "DROP INDEX bank_feed_fitid")
            try db.execute(
                sql: """
                    INSERT INTO bank_feed (id, account_id, fitid, posted_date, amount, payee, status, downloaded_at)
                    SELECT 900003, account_id, fitid, posted_date, amount, payee, 'new', '2026-01-05T06:00:00Z'
                    FROM bank_feed WHERE id = (SELECT MIN(id) FROM bank_feed)
                    """)
            return [Expected(code, "bank_feed", 900_003), Expected(.schemaObjectMissing, "bank_feed", nil)]

        case .feedAccountMissing:
            let line = try Damage.one(db, "SELECT MIN(id) FROM bank_feed WHERE status = 'matched'")
            try db.execute(sql: "UPDATE bank_feed SET account_id = 987 WHERE id = ?", arguments: [line])
            return [Expected(code, "bank_feed", line)]

        case .itemAccountMissing:
            let item = try Damage.one(db, "SELECT MIN(id) FROM items WHERE income_account_id IS NOT NULL")
            try db.execute(sql: "UPDATE items SET income_account_id = 987 WHERE id = ?", arguments: [item])
            return [Expected(code, "items", item)]

        case .duplicateName:
            try db.execute(sql: "DROP INDEX parties_name")
            try db.execute(
                sql:
                    "INSERT INTO parties (id, kind, name) SELECT 900004, kind, name FROM parties WHERE id = (SELECT MIN(id) FROM parties)"
            )
            return [Expected(code, "parties", 900_004), Expected(.schemaObjectMissing, "parties", nil)]

        case .receivablePayableWithoutParty:
            let split = try Damage.one(db, "SELECT MIN(id) FROM splits WHERE account_id IN \(ar)")
            let customer = try Damage.one(db, "SELECT party_id FROM splits WHERE id = ?", [split])
            try db.execute(sql: "UPDATE splits SET party_id = NULL WHERE id = ?", arguments: [split])
            return [Expected(code, "splits", split), Expected(.partyBalanceMismatch, "parties", customer)]

        case .invalidDate:
            let transaction = try Damage.one(db, "SELECT MIN(id) FROM transactions WHERE kind = 'credit_card_charge'")
            let edited = try Damage.one(db, "SELECT MAX(id) FROM transactions WHERE kind = 'credit_card_charge'")
            let line = try Damage.one(db, "SELECT MIN(id) FROM bank_feed")
            try db.execute(sql: "UPDATE transactions SET date = '2024-02-30' WHERE id = ?", arguments: [transaction])
            try db.execute(
                sql: "UPDATE transactions SET modified_at = '2024-13-01T09:00:00Z' WHERE id = ?", arguments: [edited])
            try db.execute(
                sql: "UPDATE bank_feed SET downloaded_at = '2024-06-01 06:00:00' WHERE id = ?", arguments: [line])
            return [
                Expected(code, "transactions", transaction), Expected(code, "transactions", edited),
                Expected(code, "bank_feed", line),
            ]

        case .invalidValue:
            // A text amount: reported once, and the balance checks step around it.
            let split = try Damage.one(
                db,
                """
                SELECT MIN(s.id) FROM splits s JOIN transactions t ON t.id = s.transaction_id
                WHERE t.kind = 'credit_card_charge' AND s.amount > 0
                """)
            let other = try Damage.one(db, "SELECT MIN(id) FROM splits WHERE cleared = 'n'")
            try db.execute(sql: "UPDATE splits SET amount = '12.5O' WHERE id = ?", arguments: [split])
            try db.execute(sql: "UPDATE splits SET cleared = 'x' WHERE id = ?", arguments: [other])
            return [Expected(code, "splits", split), Expected(code, "splits", other)]
        }
    }
}
