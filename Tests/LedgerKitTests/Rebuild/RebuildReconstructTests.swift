import Foundation
import GRDB
import Testing
@testable import LedgerKit

/// `empty-transaction` rebuilds lost splits from what the file still says
/// (SPEC §3, "Reconstruct before deleting") and deletes only a transaction
/// with nothing to rebuild from.
@Suite struct RebuildReconstructTests {
    let folder = TemporaryDirectory()

    /// One split as the tests compare them.
    struct Posting: Hashable, CustomStringConvertible {
        let account: Int64?
        let party: Int64?
        let amount: Int64?
        let memo: String?

        var description: String { "\(account.map(String.init) ?? "-") \(party.map(String.init) ?? "-") \(amount.map(String.init) ?? "?") \(memo ?? "")" }

        /// Without the memo, to compare with the splits as they were.
        var money: Posting { Posting(account: account, party: party, amount: amount, memo: nil) }
    }

    static func postings(_ db: Database, _ transaction: Int64) throws -> [Posting] {
        try Row.fetchAll(db, sql: "SELECT account_id, party_id, amount, memo FROM splits WHERE transaction_id = ? ORDER BY id",
                         arguments: [transaction]).map {
            Posting(account: $0.integer("account_id"), party: $0.integer("party_id"), amount: $0.integer("amount"), memo: $0.text("memo"))
        }
    }

    static func one(_ db: Database, _ sql: String, _ arguments: StatementArguments = []) throws -> Int64? {
        try Int64.fetchOne(db, sql: sql, arguments: arguments)
    }

    static func rebuild(_ path: String, _ folder: TemporaryDirectory) throws -> RebuildReport {
        try Rebuilder.rebuild(path: path, options: RebuildOptions(backupFolder: folder.file("backups"), now: RebuildRepairTests.now))
    }

    static let suspenseSQL = "SELECT id FROM accounts WHERE name = 'Rebuild Suspense' AND type = 'other_current_asset' AND parent_id IS NULL"

    /// The transactions one test loses the splits of, and what each had.
    struct Picked {
        var invoice: Int64 = 0, bill: Int64 = 0, payment: Int64 = 0, billPayment: Int64 = 0, check: Int64 = 0, journal: Int64 = 0
        var before: [Int64: [Posting]] = [:]
        /// Reconciliations that a lost split was reconciled on.
        var statements: Set<Int64> = []
        var all: [Int64] { [invoice, bill, payment, billPayment, check, journal] }
    }

    /// Loses every split of an invoice, a bill (with lines with and without
    /// an item), a payment with applications and no feed line, a bill payment
    /// and a check with matched feed lines, and a journal entry with nothing
    /// else, as a zeroed page of `splits` does.
    static func loseSplits(_ path: String) throws -> Picked {
        try Damage.apply(to: path) { db -> Picked in
            var picked = Picked()
            picked.invoice = try Damage.one(db, """
                SELECT t.id FROM transactions t JOIN documents d ON d.transaction_id = t.id
                WHERE t.kind = 'invoice' AND (SELECT COUNT(*) FROM document_lines l WHERE l.transaction_id = t.id) >= 2 ORDER BY t.id LIMIT 1
                """)
            picked.bill = try Damage.one(db, """
                SELECT t.id FROM transactions t JOIN documents d ON d.transaction_id = t.id WHERE t.kind = 'bill'
                  AND EXISTS (SELECT 1 FROM document_lines l WHERE l.transaction_id = t.id AND l.item_id IS NULL)
                  AND EXISTS (SELECT 1 FROM document_lines l WHERE l.transaction_id = t.id AND l.item_id IS NOT NULL)
                ORDER BY t.id LIMIT 1
                """)
            picked.payment = try Damage.one(db, """
                SELECT t.id FROM transactions t WHERE t.kind = 'payment'
                  AND (SELECT COUNT(*) FROM applications a WHERE a.payment_id = t.id) >= 2
                  AND NOT EXISTS (SELECT 1 FROM bank_feed f WHERE f.transaction_id = t.id) ORDER BY t.id LIMIT 1
                """)
            picked.billPayment = try Damage.one(db, """
                SELECT t.id FROM transactions t JOIN bank_feed f ON f.transaction_id = t.id AND f.status = 'matched'
                WHERE t.kind = 'bill_payment' AND EXISTS (SELECT 1 FROM applications a WHERE a.payment_id = t.id) ORDER BY t.id LIMIT 1
                """)
            picked.check = try Damage.one(db, """
                SELECT t.id FROM transactions t JOIN bank_feed f ON f.transaction_id = t.id AND f.status = 'matched'
                WHERE t.kind = 'check' ORDER BY t.id LIMIT 1
                """)
            picked.journal = try Damage.one(db, """
                SELECT t.id FROM transactions t WHERE t.kind = 'journal'
                  AND NOT EXISTS (SELECT 1 FROM bank_feed f WHERE f.transaction_id = t.id) ORDER BY t.id LIMIT 1
                """)
            for transaction in picked.all {
                picked.before[transaction] = try postings(db, transaction)
                picked.statements.formUnion(try Damage.all(db, """
                    SELECT reconciliation_id FROM splits WHERE transaction_id = ? AND reconciliation_id IS NOT NULL
                    """, [transaction]))
                try db.execute(sql: "DELETE FROM splits WHERE transaction_id = ?", arguments: [transaction])
            }
            return picked
        }
    }

    @Test func lostSplitsAreRebuiltFromWhatSurvived() throws {
        let path = try Damage.sample(in: folder, transactions: 400, seed: 2)
        let picked = try Self.loseSplits(path)
        let snapshot = try CompanyFile.read(path) { db in
            try ["documents", "document_lines", "applications", "bank_feed"].reduce(into: [String: [String]]()) { tables, table in
                tables[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid").map(\.description)
            }
        }
        let report = try Self.rebuild(path, folder)

        try CompanyFile.read(path) { db in
            let suspense = try Self.one(db, Self.suspenseSQL)
            let receivable = try Self.one(db, "SELECT id FROM accounts WHERE type = 'accounts_receivable' ORDER BY id LIMIT 1")
            let payable = try Self.one(db, "SELECT id FROM accounts WHERE type = 'accounts_payable' ORDER BY id LIMIT 1")
            func party(_ transaction: Int64) throws -> Int64? { try Self.one(db, "SELECT party_id FROM transactions WHERE id = ?", [transaction]) }
            func number(_ transaction: Int64) throws -> String {
                try String.fetchOne(db, sql: "SELECT number FROM transactions WHERE id = ?", arguments: [transaction]) ?? "?"
            }

            // The invoice: receivable +total with the customer, an income split per line
            // in its item's account: exactly the splits it had, each memo naming the source.
            let invoice = picked.invoice, invoiceName = "invoice \(try number(invoice))"
            var expected = [Posting(account: receivable, party: try party(invoice),
                                    amount: try Self.one(db, "SELECT total FROM documents WHERE transaction_id = ?", [invoice]),
                                    memo: "Rebuilt by rebuild from \(invoiceName)'s document and lines (its splits were lost)")]
            for line in try Row.fetchAll(db, sql: """
                SELECT l.id, l.amount, i.income_account_id FROM document_lines l JOIN items i ON i.id = l.item_id
                WHERE l.transaction_id = ? ORDER BY l.id
                """, arguments: [invoice]) {
                expected.append(Posting(account: line["income_account_id"], party: nil, amount: -(line["amount"] as Int64),
                                        memo: "Rebuilt by rebuild from \(invoiceName)'s line \(line["id"] as Int64) (its splits were lost)"))
            }
            #expect(try Self.postings(db, invoice) == expected)
            #expect(Set(expected.map(\.money)) == Set(picked.before[invoice]!.map(\.money)), "the invoice posts as it did")

            // The bill: payable -total with the vendor, item lines in the item's
            // expense account, lines without an item in Rebuild Suspense.
            let bill = picked.bill, billName = "bill \(try number(bill))"
            expected = [Posting(account: payable, party: try party(bill),
                                amount: -(try Self.one(db, "SELECT total FROM documents WHERE transaction_id = ?", [bill]) ?? 0),
                                memo: "Rebuilt by rebuild from \(billName)'s document and lines (its splits were lost)")]
            for line in try Row.fetchAll(db, sql: """
                SELECT l.id, l.amount, i.expense_account_id FROM document_lines l LEFT JOIN items i ON i.id = l.item_id
                WHERE l.transaction_id = ? ORDER BY l.id
                """, arguments: [bill]) {
                let account: Int64? = line["expense_account_id"]
                expected.append(Posting(account: account ?? suspense, party: nil, amount: line["amount"], memo: account == nil
                    ? "Rebuilt by rebuild from \(billName)'s line \(line["id"] as Int64); its expense account is unknown (Rebuild Suspense, empty-transaction)"
                    : "Rebuilt by rebuild from \(billName)'s line \(line["id"] as Int64) (its splits were lost)"))
            }
            #expect(try Self.postings(db, bill) == expected)

            // The payment: receivable -applied with the customer, the deposit account unknown.
            let payment = picked.payment, paymentName = "payment \(try number(payment))"
            let applied = try Self.one(db, "SELECT SUM(amount) FROM applications WHERE payment_id = ?", [payment]) ?? 0
            let count = try Self.one(db, "SELECT COUNT(*) FROM applications WHERE payment_id = ?", [payment]) ?? 0
            #expect(try Self.postings(db, payment) == [
                Posting(account: receivable, party: try party(payment), amount: -applied,
                        memo: "Rebuilt by rebuild from \(paymentName)'s \(count) applications (its splits were lost)"),
                Posting(account: suspense, party: nil, amount: applied,
                        memo: "Rebuilt by rebuild from \(paymentName)'s \(count) applications; the deposit account is unknown (Rebuild Suspense, empty-transaction)"),
            ])

            // The bill payment: payable +applied with the vendor, the bank side from
            // its feed line: exactly the splits it had.
            let billPayment = picked.billPayment, billPaymentName = "bill payment \(try number(billPayment))"
            let paid = try Self.one(db, "SELECT SUM(amount) FROM applications WHERE payment_id = ?", [billPayment]) ?? 0
            let paidCount = try Self.one(db, "SELECT COUNT(*) FROM applications WHERE payment_id = ?", [billPayment]) ?? 0
            let line = try #require(try Row.fetchOne(db, sql: "SELECT id, account_id, amount FROM bank_feed WHERE transaction_id = ?",
                                                     arguments: [billPayment]))
            #expect(try Self.postings(db, billPayment) == [
                Posting(account: payable, party: try party(billPayment), amount: paid,
                        memo: "Rebuilt by rebuild from \(billPaymentName)'s \(paidCount) application\(paidCount == 1 ? "" : "s") (its splits were lost)"),
                Posting(account: line["account_id"], party: nil, amount: line["amount"],
                        memo: "Rebuilt by rebuild from bank feed line \(line["id"] as Int64) (its splits were lost)"),
            ])
            #expect(Set(try Self.postings(db, billPayment).map(\.money)) == Set(picked.before[billPayment]!.map(\.money)))

            // The check: its feed line's amount in the feed's account, the other side unknown.
            let feed = try #require(try Row.fetchOne(db, sql: "SELECT id, account_id, amount FROM bank_feed WHERE transaction_id = ?",
                                                     arguments: [picked.check]))
            let feedID: Int64 = feed["id"], feedAmount: Int64 = feed["amount"]
            #expect(try Self.postings(db, picked.check) == [
                Posting(account: feed["account_id"], party: nil, amount: feedAmount,
                        memo: "Rebuilt by rebuild from bank feed line \(feedID) (its splits were lost)"),
                Posting(account: suspense, party: nil, amount: -feedAmount,
                        memo: "Rebuilt by rebuild from bank feed line \(feedID); the other account is unknown (Rebuild Suspense, empty-transaction)"),
            ])
            #expect(try String.fetchOne(db, sql: "SELECT status FROM bank_feed WHERE id = ?", arguments: [feedID]) == "matched")

            // The journal entry had nothing to rebuild from: deleted, as before.
            #expect(try Self.one(db, "SELECT COUNT(*) FROM transactions WHERE id = ?", [picked.journal]) == 0)
            #expect(try Self.one(db, "SELECT COUNT(*) FROM repair_actions WHERE code = 'empty-transaction' AND table_name = 'transactions' AND action = 'delete'") == 1)

            // Every other header survived, and every document, line, application and feed line.
            for transaction in picked.all where transaction != picked.journal {
                #expect(try Self.one(db, "SELECT COUNT(*) FROM transactions WHERE id = ?", [transaction]) == 1)
            }
            for (table, rows) in snapshot {
                #expect(try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid").map(\.description) == rows, "\(table) changed")
            }
            // Every added split is recorded, and nothing but splits (and the suspense account) was added.
            let added = try Self.one(db, """
                SELECT COUNT(*) FROM splits WHERE transaction_id IN (\(picked.all.map(String.init).joined(separator: ",")))
                """)
            #expect(try Self.one(db, """
                SELECT COUNT(*) FROM repair_actions WHERE code = 'empty-transaction' AND table_name = 'splits' AND action = 'insert'
                """) == added)
            #expect(try Self.one(db, "SELECT COUNT(*) FROM repair_actions WHERE code = 'empty-transaction' AND action = 'update'") == 0)
            // Balanced, and every cached balance is its splits' sum to the cent.
            let broken = try Invariants.violations(in: db).filter { !$0.hasPrefix("document lines") && !$0.hasPrefix("reconciliations chain") }
            #expect(broken == [])
        }
        // Only what needs a person is left: the statements that lost reconciled lines.
        let left = try Verifier.verify(path: path).findings
        #expect(Set(left.map(Expected.init)) == Set(picked.statements.map { Expected(.reconciliationDiscrepancy, "reconciliations", $0) }))
        #expect(report.remaining.allSatisfy { !$0.repairable })

        // Idempotent: a second rebuild finds nothing to do.
        let again = try Self.rebuild(path, folder)
        #expect(again.changedRows == 0)
    }

    @Test func hostileValuesNeverBecomeSplits() throws {
        let path = try Damage.sample(in: folder, transactions: 200, seed: 4)
        let big: Int64 = 9_223_372_036_854_775_000
        let (invoices, payment, bill, check) = try Damage.apply(to: path) { db -> ([Int64], Int64, Int64, Int64) in
            let invoices = try Damage.all(db, """
                SELECT t.id FROM transactions t JOIN documents d ON d.transaction_id = t.id WHERE t.kind = 'invoice' ORDER BY t.id LIMIT 2
                """)
            let payment = try Damage.one(db, """
                SELECT t.id FROM transactions t WHERE t.kind = 'payment' AND EXISTS (SELECT 1 FROM applications a WHERE a.payment_id = t.id)
                  AND NOT EXISTS (SELECT 1 FROM bank_feed f WHERE f.transaction_id = t.id) ORDER BY t.id LIMIT 1
                """)
            let bill = try Damage.one(db, "SELECT transaction_id FROM documents d JOIN transactions t ON t.id = d.transaction_id WHERE t.kind = 'bill' ORDER BY 1 LIMIT 1")
            let check = try Damage.one(db, "SELECT t.id FROM transactions t JOIN bank_feed f ON f.transaction_id = t.id WHERE t.kind = 'check' ORDER BY t.id LIMIT 1")
            for transaction in invoices + [payment, bill, check] {
                try db.execute(sql: "DELETE FROM splits WHERE transaction_id = ?", arguments: [transaction])
            }
            // A line holding text, a line past 10^15 cents.
            try db.execute(sql: "UPDATE document_lines SET amount = 'twelve' WHERE id = (SELECT MIN(id) FROM document_lines WHERE transaction_id = ?)",
                           arguments: [invoices[0]])
            try db.execute(sql: "UPDATE document_lines SET amount = 2000000000000000 WHERE id = (SELECT MIN(id) FROM document_lines WHERE transaction_id = ?)",
                           arguments: [invoices[1]])
            // An application of the payment holding text: left out.
            try db.execute(sql: """
                INSERT INTO applications (payment_id, document_id, amount)
                SELECT payment_id, document_id, 'lots' FROM applications WHERE payment_id = ? ORDER BY id LIMIT 1
                """, arguments: [payment])
            // A bill whose total is a blob: rebuilt from its lines.
            try db.execute(sql: "UPDATE documents SET total = x'00ff' WHERE transaction_id = ?", arguments: [bill])
            // A check whose only feed line holds a real: nothing to rebuild from.
            try db.execute(sql: "UPDATE bank_feed SET amount = 12.5 WHERE transaction_id = ?", arguments: [check])
            // An invoice at a huge id, with no customer, lines that fall short of
            // its total, one without an item.
            let item = try Damage.one(db, "SELECT MIN(id) FROM items WHERE income_account_id IS NOT NULL")
            try db.execute(sql: """
                INSERT INTO transactions (id, kind, date, number, party_id, created_at, modified_at)
                VALUES (?, 'invoice', '2025-06-01', NULL, NULL, '2025-06-01T10:00:00Z', '2025-06-01T10:00:00Z')
                """, arguments: [big])
            try db.execute(sql: "INSERT INTO documents (transaction_id, due_date, total, balance_due) VALUES (?, NULL, 5000, 5000)",
                           arguments: [big])
            try db.execute(sql: "INSERT INTO document_lines (transaction_id, item_id, description, amount) VALUES (?, ?, 'with item', 3000)",
                           arguments: [big, item])
            try db.execute(sql: "INSERT INTO document_lines (transaction_id, item_id, description, amount) VALUES (?, NULL, 'no item', 1500)",
                           arguments: [big])
            return (invoices, payment, bill, check)
        }
        let report = try Self.rebuild(path, folder)
        #expect(report.remaining.allSatisfy { !$0.repairable }, "\(report.remaining)")

        try CompanyFile.read(path) { db in
            let suspense = try Self.one(db, Self.suspenseSQL)
            let receivable = try Self.one(db, "SELECT id FROM accounts WHERE type = 'accounts_receivable' ORDER BY id LIMIT 1")
            for invoice in invoices {
                let number = try String.fetchOne(db, sql: "SELECT number FROM transactions WHERE id = ?", arguments: [invoice]) ?? "?"
                let total = try Self.one(db, "SELECT total FROM documents WHERE transaction_id = ?", [invoice]) ?? 0
                #expect(try Self.postings(db, invoice) == [
                    Posting(account: receivable, party: try Self.one(db, "SELECT party_id FROM transactions WHERE id = ?", [invoice]), amount: total,
                            memo: "Rebuilt by rebuild from invoice \(number)'s total (its splits were lost)"),
                    Posting(account: suspense, party: nil, amount: -total,
                            memo: "Rebuilt by rebuild from invoice \(number)'s total; its lines hold an amount that is not valid, so the income accounts are unknown (Rebuild Suspense, empty-transaction)"),
                ])
            }
            let huge = try Self.postings(db, big)
            let income = try Self.one(db, "SELECT income_account_id FROM items WHERE id = (SELECT item_id FROM document_lines WHERE transaction_id = ? AND item_id IS NOT NULL)", [big])
            let lines = try Damage.all(db, "SELECT id FROM document_lines WHERE transaction_id = ? ORDER BY id", [big])
            #expect(huge == [
                Posting(account: receivable, party: nil, amount: 5000,
                        memo: "Rebuilt by rebuild from this invoice's document and lines (its splits were lost)"),
                Posting(account: income, party: nil, amount: -3000, memo: "Rebuilt by rebuild from this invoice's line \(lines[0]) (its splits were lost)"),
                Posting(account: suspense, party: nil, amount: -1500,
                        memo: "Rebuilt by rebuild from this invoice's line \(lines[1]); its income account is unknown (Rebuild Suspense, empty-transaction)"),
                Posting(account: suspense, party: nil, amount: -500,
                        memo: "Rebuilt by rebuild: the difference between this invoice's total and its lines (Rebuild Suspense, empty-transaction)"),
            ])
            // The payment counts only its valid applications, and says so.
            let applied = try Self.one(db, "SELECT SUM(amount) FROM applications WHERE payment_id = ? AND typeof(amount) = 'integer'", [payment]) ?? 0
            let counted = try Self.one(db, "SELECT COUNT(*) FROM applications WHERE payment_id = ? AND typeof(amount) = 'integer'", [payment]) ?? 0
            let paymentSplits = try Self.postings(db, payment)
            #expect(paymentSplits.map(\.amount) == [-applied, applied])
            #expect(paymentSplits.first?.memo?.hasSuffix("\(counted) application\(counted == 1 ? "" : "s") (its splits were lost; 1 with an amount that is not valid left out)") == true)
            // The bill with a blob total: its lines' sum, the total named as not valid.
            let lineSum = try Self.one(db, "SELECT SUM(amount) FROM document_lines WHERE transaction_id = ?", [bill]) ?? 0
            let billSplits = try Self.postings(db, bill)
            #expect(billSplits.first?.amount == -lineSum)
            #expect(billSplits.first?.memo?.contains("'s lines; its total is not a valid amount (its splits were lost)") == true)
            #expect(billSplits.compactMap(\.amount).reduce(0, +) == 0)
            // The check with nothing valid is gone; its feed line is unlinked, not deleted.
            #expect(try Self.one(db, "SELECT COUNT(*) FROM transactions WHERE id = ?", [check]) == 0)
            #expect(try Self.one(db, "SELECT COUNT(*) FROM bank_feed WHERE transaction_id IS NULL AND typeof(amount) = 'real'") == 1)
            // No invented amount is past the limit or not an integer.
            #expect(try Self.one(db, """
                SELECT COUNT(*) FROM splits WHERE memo LIKE 'Rebuilt by rebuild%' AND (typeof(amount) != 'integer' OR ABS(amount) > 1000000000000000)
                """) == 0)
            #expect(try Self.one(db, "SELECT COUNT(*) FROM transactions WHERE id = ?", [big]) == 1)
        }
        let left = Set(try Verifier.verify(path: path).findings.map(\.code))
        #expect(left.isSubset(of: [.invalidValue, .receivablePayableWithoutParty, .documentLinesMismatch, .reconciliationDiscrepancy]), "\(left)")
        #expect(left.isSuperset(of: [.invalidValue, .receivablePayableWithoutParty, .documentLinesMismatch]))
        #expect(try Self.rebuild(path, folder).changedRows == 0)
    }

    /// A payment whose applications fall short of its feed line: the bank side
    /// from the line, the receivable from the applications, the rest in suspense.
    @Test func aPaymentTakesItsBankSideFromItsFeedLine() throws {
        let path = try Damage.sample(in: folder, transactions: 300, seed: 6)
        let payment = try Damage.apply(to: path) { db -> Int64 in
            let payment = try Damage.one(db, """
                SELECT t.id FROM transactions t JOIN bank_feed f ON f.transaction_id = t.id AND f.status = 'matched'
                WHERE t.kind = 'payment' AND EXISTS (SELECT 1 FROM applications a WHERE a.payment_id = t.id AND a.amount > 100)
                ORDER BY t.id LIMIT 1
                """)
            try db.execute(sql: "DELETE FROM splits WHERE transaction_id = ?", arguments: [payment])
            // 1.00 of the payment was never applied: a credit the customer keeps.
            try db.execute(sql: """
                UPDATE applications SET amount = amount - 100 WHERE id = (SELECT MIN(id) FROM applications WHERE payment_id = ? AND amount > 100)
                """, arguments: [payment])
            return payment
        }
        let report = try Self.rebuild(path, folder)
        #expect(report.remaining.allSatisfy { !$0.repairable })
        try CompanyFile.read(path) { db in
            let number = try String.fetchOne(db, sql: "SELECT number FROM transactions WHERE id = ?", arguments: [payment]) ?? "?"
            let applied = try Self.one(db, "SELECT SUM(amount) FROM applications WHERE payment_id = ?", [payment]) ?? 0
            let count = try Self.one(db, "SELECT COUNT(*) FROM applications WHERE payment_id = ?", [payment]) ?? 0
            let line = try #require(try Row.fetchOne(db, sql: "SELECT id, account_id, amount FROM bank_feed WHERE transaction_id = ?",
                                                     arguments: [payment]))
            let lineID: Int64 = line["id"], amount: Int64 = line["amount"]
            #expect(amount - applied == 100)
            #expect(try Self.postings(db, payment) == [
                Posting(account: try Self.one(db, "SELECT id FROM accounts WHERE type = 'accounts_receivable' ORDER BY id LIMIT 1"),
                        party: try Self.one(db, "SELECT party_id FROM transactions WHERE id = ?", [payment]), amount: -applied,
                        memo: "Rebuilt by rebuild from payment \(number)'s \(count) application\(count == 1 ? "" : "s") (its splits were lost)"),
                Posting(account: line["account_id"], party: nil, amount: amount,
                        memo: "Rebuilt by rebuild from bank feed line \(lineID) (its splits were lost)"),
                Posting(account: try Self.one(db, Self.suspenseSQL), party: nil, amount: -100,
                        memo: "Rebuilt by rebuild: the part of payment \(number) that its applications and bank feed line \(lineID) do not explain (Rebuild Suspense, empty-transaction)"),
            ])
            #expect(try String.fetchOne(db, sql: "SELECT status FROM bank_feed WHERE id = ?", arguments: [lineID]) == "matched")
            let broken = try Invariants.violations(in: db).filter { !$0.hasPrefix("document lines") && !$0.hasPrefix("reconciliations chain") }
            #expect(broken == [])
        }
        #expect(try Self.rebuild(path, folder).changedRows == 0)
    }
}
