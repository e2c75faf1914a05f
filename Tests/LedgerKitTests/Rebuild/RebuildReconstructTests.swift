import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// `empty-transaction` rebuilds lost splits from what the file still says
/// (docs/rebuild.md, "Reconstruct before deleting") and deletes only a transaction
/// with nothing to rebuild from.
@Suite struct RebuildReconstructTests {
    let folder = TemporaryDirectory()

    /// One split as the tests compare them.
    struct Posting: Hashable, CustomStringConvertible {
        let account: Int64?
        let party: Int64?
        let amount: Int64?
        let memo: String?

        var description: String {
            "\(account.map(String.init) ?? "-") \(party.map(String.init) ?? "-") \(amount.map(String.init) ?? "?") \(memo ?? "")"
        }

        /// Without the memo, to compare with the splits as they were.
        var money: Posting { Posting(account: account, party: party, amount: amount, memo: nil) }
    }

    static func postings(_ db: Database, _ transaction: Int64) throws -> [Posting] {
        try Row.fetchAll(
            db, sql: "SELECT account_id, party_id, amount, memo FROM splits WHERE transaction_id = ? ORDER BY id",
            arguments: [transaction]
        ).map {
            Posting(
                account: $0.integer("account_id"), party: $0.integer("party_id"), amount: $0.integer("amount"),
                memo: $0.text("memo"))
        }
    }

    static func one(_ db: Database, _ sql: String, _ arguments: StatementArguments = []) throws -> Int64? {
        try Int64.fetchOne(db, sql: sql, arguments: arguments)
    }

    static func rebuild(_ path: String, _ folder: TemporaryDirectory) throws -> RebuildReport {
        try Rebuilder.rebuild(
            path: path, options: RebuildOptions(backupFolder: folder.file("backups"), now: RebuildRepairTests.now))
    }

    /// The splits a transaction rebuilt from its one feed line `line` (`id`,
    /// `account_id`, `amount`) gets: the line's amount in its account, the other side in Rebuild Suspense.
    static func fromFeedLine(_ line: Row, suspense: Int64?) -> [Posting] {
        let id: Int64 = line["id"]
        let amount: Int64 = line["amount"]
        return [
            Posting(
                account: line["account_id"], party: nil, amount: amount,
                memo: "Rebuilt by rebuild from bank feed line \(id) (its splits were lost)"),
            Posting(
                account: suspense, party: nil, amount: -amount,
                memo:
                    "Rebuilt by rebuild from bank feed line \(id); the other account is unknown (Rebuild Suspense, empty-transaction)"
            ),
        ]
    }

    static let suspenseSQL =
        "SELECT id FROM accounts WHERE name = 'Rebuild Suspense' AND type = 'other_current_asset' AND parent_id IS NULL"

    /// The transactions one test loses the splits of, and what each had.
    struct Picked {
        var invoice: Int64 = 0, bill: Int64 = 0, payment: Int64 = 0, billPayment: Int64 = 0, check: Int64 = 0,
            journal: Int64 = 0
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
            picked.invoice = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t JOIN documents d ON d.transaction_id = t.id
                WHERE t.kind = 'invoice' AND (SELECT COUNT(*) FROM document_lines l WHERE l.transaction_id = t.id) >= 2 ORDER BY t.id LIMIT 1
                """)
            picked.bill = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t JOIN documents d ON d.transaction_id = t.id WHERE t.kind = 'bill'
                  AND EXISTS (SELECT 1 FROM document_lines l WHERE l.transaction_id = t.id AND l.item_id IS NULL)
                  AND EXISTS (SELECT 1 FROM document_lines l WHERE l.transaction_id = t.id AND l.item_id IS NOT NULL)
                ORDER BY t.id LIMIT 1
                """)
            picked.payment = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t WHERE t.kind = 'payment'
                  AND (SELECT COUNT(*) FROM applications a WHERE a.payment_id = t.id) >= 2
                  AND NOT EXISTS (SELECT 1 FROM bank_feed f WHERE f.transaction_id = t.id) ORDER BY t.id LIMIT 1
                """)
            picked.billPayment = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t JOIN bank_feed f ON f.transaction_id = t.id AND f.status = 'matched'
                WHERE t.kind = 'bill_payment' AND EXISTS (SELECT 1 FROM applications a WHERE a.payment_id = t.id) ORDER BY t.id LIMIT 1
                """)
            picked.check = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t JOIN bank_feed f ON f.transaction_id = t.id AND f.status = 'matched'
                WHERE t.kind = 'check' ORDER BY t.id LIMIT 1
                """)
            picked.journal = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t WHERE t.kind = 'journal'
                  AND NOT EXISTS (SELECT 1 FROM bank_feed f WHERE f.transaction_id = t.id) ORDER BY t.id LIMIT 1
                """)
            for transaction in picked.all {
                picked.before[transaction] = try postings(db, transaction)
                picked.statements.formUnion(
                    try Damage.all(
                        db,
                        """
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
            try ["documents", "document_lines", "applications", "bank_feed"].reduce(into: [String: [String]]()) {
                tables, table in
                tables[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid").map(\.description)
            }
        }
        let report = try Self.rebuild(path, folder)

        try CompanyFile.read(path) { db in
            let suspense = try Self.one(db, Self.suspenseSQL)
            let receivable = try Self.one(
                db, "SELECT id FROM accounts WHERE type = 'accounts_receivable' ORDER BY id LIMIT 1")
            let payable = try Self.one(
                db, "SELECT id FROM accounts WHERE type = 'accounts_payable' ORDER BY id LIMIT 1")
            func party(_ transaction: Int64) throws -> Int64? {
                try Self.one(db, "SELECT party_id FROM transactions WHERE id = ?", [transaction])
            }
            func number(_ transaction: Int64) throws -> String {
                try String.fetchOne(db, sql: "SELECT number FROM transactions WHERE id = ?", arguments: [transaction])
                    ?? "?"
            }

            // The invoice: receivable +total with the customer, an income split per line
            // in its item's account: exactly the splits it had, each memo naming the source.
            let invoice = picked.invoice
            let invoiceName = "invoice \(try number(invoice))"
            var expected = [
                Posting(
                    account: receivable, party: try party(invoice),
                    amount: try Self.one(db, "SELECT total FROM documents WHERE transaction_id = ?", [invoice]),
                    memo: "Rebuilt by rebuild from \(invoiceName)'s document and lines (its splits were lost)")
            ]
            for line in try Row.fetchAll(
                db,
                sql: """
                    SELECT l.id, l.amount, i.income_account_id FROM document_lines l JOIN items i ON i.id = l.item_id
                    WHERE l.transaction_id = ? ORDER BY l.id
                    """, arguments: [invoice])
            {
                expected.append(
                    Posting(
                        account: line["income_account_id"], party: nil, amount: -(line["amount"] as Int64),
                        memo:
                            "Rebuilt by rebuild from \(invoiceName)'s line \(line["id"] as Int64) (its splits were lost)"
                    ))
            }
            #expect(try Self.postings(db, invoice) == expected)
            #expect(
                Set(expected.map(\.money)) == Set(picked.before[invoice]!.map(\.money)), "the invoice posts as it did")

            // The bill: payable -total with the vendor, item lines in the item's
            // expense account, lines without an item in Rebuild Suspense.
            let bill = picked.bill
            let billName = "bill \(try number(bill))"
            expected = [
                Posting(
                    account: payable, party: try party(bill),
                    amount: -(try Self.one(db, "SELECT total FROM documents WHERE transaction_id = ?", [bill]) ?? 0),
                    memo: "Rebuilt by rebuild from \(billName)'s document and lines (its splits were lost)")
            ]
            for line in try Row.fetchAll(
                db,
                sql: """
                    SELECT l.id, l.amount, i.expense_account_id FROM document_lines l LEFT JOIN items i ON i.id = l.item_id
                    WHERE l.transaction_id = ? ORDER BY l.id
                    """, arguments: [bill])
            {
                let account: Int64? = line["expense_account_id"]
                expected.append(
                    Posting(
                        account: account ?? suspense, party: nil, amount: line["amount"],
                        memo: account == nil
                            ? "Rebuilt by rebuild from \(billName)'s line \(line["id"] as Int64); its expense account is unknown (Rebuild Suspense, empty-transaction)"
                            : "Rebuilt by rebuild from \(billName)'s line \(line["id"] as Int64) (its splits were lost)"
                    ))
            }
            #expect(try Self.postings(db, bill) == expected)

            // The payment: receivable -applied with the customer, the deposit account unknown.
            let payment = picked.payment
            let paymentName = "payment \(try number(payment))"
            let applied = try Self.one(db, "SELECT SUM(amount) FROM applications WHERE payment_id = ?", [payment]) ?? 0
            let count = try Self.one(db, "SELECT COUNT(*) FROM applications WHERE payment_id = ?", [payment]) ?? 0
            #expect(
                try Self.postings(db, payment) == [
                    Posting(
                        account: receivable, party: try party(payment), amount: -applied,
                        memo: "Rebuilt by rebuild from \(paymentName)'s \(count) applications (its splits were lost)"),
                    Posting(
                        account: suspense, party: nil, amount: applied,
                        memo:
                            "Rebuilt by rebuild from \(paymentName)'s \(count) applications; the deposit account is unknown (Rebuild Suspense, empty-transaction)"
                    ),
                ])

            // The bill payment: payable +applied with the vendor, the bank side from
            // its feed line: exactly the splits it had.
            let billPayment = picked.billPayment
            let billPaymentName = "bill payment \(try number(billPayment))"
            let paid = try Self.one(db, "SELECT SUM(amount) FROM applications WHERE payment_id = ?", [billPayment]) ?? 0
            let paidCount =
                try Self.one(db, "SELECT COUNT(*) FROM applications WHERE payment_id = ?", [billPayment]) ?? 0
            let line = try #require(
                try Row.fetchOne(
                    db, sql: "SELECT id, account_id, amount FROM bank_feed WHERE transaction_id = ?",
                    arguments: [billPayment]))
            #expect(
                try Self.postings(db, billPayment) == [
                    Posting(
                        account: payable, party: try party(billPayment), amount: paid,
                        memo:
                            "Rebuilt by rebuild from \(billPaymentName)'s \(paidCount) application\(paidCount == 1 ? "" : "s") (its splits were lost)"
                    ),
                    Posting(
                        account: line["account_id"], party: nil, amount: line["amount"],
                        memo: "Rebuilt by rebuild from bank feed line \(line["id"] as Int64) (its splits were lost)"),
                ])
            #expect(
                Set(try Self.postings(db, billPayment).map(\.money)) == Set(picked.before[billPayment]!.map(\.money)))

            // The check: its feed line's amount in the feed's account, the other side unknown.
            let feed = try #require(
                try Row.fetchOne(
                    db, sql: "SELECT id, account_id, amount FROM bank_feed WHERE transaction_id = ?",
                    arguments: [picked.check]))
            let feedID: Int64 = feed["id"]
            #expect(try Self.postings(db, picked.check) == Self.fromFeedLine(feed, suspense: suspense))
            #expect(
                try String.fetchOne(db, sql: "SELECT status FROM bank_feed WHERE id = ?", arguments: [feedID])
                    == "matched")

            // The journal entry had nothing to rebuild from: deleted, as before.
            #expect(try Self.one(db, "SELECT COUNT(*) FROM transactions WHERE id = ?", [picked.journal]) == 0)
            #expect(
                try Self.one(
                    db,
                    "SELECT COUNT(*) FROM repair_actions WHERE code = 'empty-transaction' AND table_name = 'transactions' AND action = 'delete'"
                ) == 1)

            // Every other header survived, and every document, line, application and feed line.
            for transaction in picked.all where transaction != picked.journal {
                #expect(try Self.one(db, "SELECT COUNT(*) FROM transactions WHERE id = ?", [transaction]) == 1)
            }
            for (table, rows) in snapshot {
                #expect(
                    try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid").map(\.description) == rows,
                    "\(table) changed")
            }
            // Every added split is recorded, and nothing but splits (and the suspense account) was added.
            let added = try Self.one(
                db,
                """
                SELECT COUNT(*) FROM splits WHERE transaction_id IN (\(picked.all.map(String.init).joined(separator: ",")))
                """)
            #expect(
                try Self.one(
                    db,
                    """
                    SELECT COUNT(*) FROM repair_actions WHERE code = 'empty-transaction' AND table_name = 'splits' AND action = 'insert'
                    """) == added)
            #expect(
                try Self.one(
                    db, "SELECT COUNT(*) FROM repair_actions WHERE code = 'empty-transaction' AND action = 'update'")
                    == 0)
            // Balanced, and every cached balance is its splits' sum to the cent.
            let broken = try Invariants.violations(in: db).filter {
                !$0.hasPrefix("document lines") && !$0.hasPrefix("reconciliations chain")
            }
            #expect(broken == [])
        }
        // Only what needs a person is left: the statements that lost reconciled lines.
        let left = try Verifier.verify(path: path).findings
        #expect(
            Set(left.map(Expected.init))
                == Set(picked.statements.map { Expected(.reconciliationDiscrepancy, "reconciliations", $0) }))
        #expect(report.remaining.allSatisfy { !$0.repairable })

        // Idempotent: a second rebuild finds nothing to do.
        let again = try Self.rebuild(path, folder)
        #expect(again.changedRows == 0)
    }

    @Test func hostileValuesNeverBecomeSplits() throws {
        let path = try Damage.sample(in: folder, transactions: 200, seed: 4)
        let big: Int64 = 9_223_372_036_854_775_000
        let (invoices, payment, bill, check) = try Damage.apply(to: path) { db -> ([Int64], Int64, Int64, Int64) in
            let invoices = try Damage.all(
                db,
                """
                SELECT t.id FROM transactions t JOIN documents d ON d.transaction_id = t.id WHERE t.kind = 'invoice' ORDER BY t.id LIMIT 2
                """)
            let payment = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t WHERE t.kind = 'payment' AND EXISTS (SELECT 1 FROM applications a WHERE a.payment_id = t.id)
                  AND NOT EXISTS (SELECT 1 FROM bank_feed f WHERE f.transaction_id = t.id) ORDER BY t.id LIMIT 1
                """)
            let bill = try Damage.one(
                db,
                "SELECT transaction_id FROM documents d JOIN transactions t ON t.id = d.transaction_id WHERE t.kind = 'bill' ORDER BY 1 LIMIT 1"
            )
            let check = try Damage.one(
                db,
                "SELECT t.id FROM transactions t JOIN bank_feed f ON f.transaction_id = t.id WHERE t.kind = 'check' ORDER BY t.id LIMIT 1"
            )
            for transaction in invoices + [payment, bill, check] {
                try db.execute(sql: "DELETE FROM splits WHERE transaction_id = ?", arguments: [transaction])
            }
            // A line holding text, a line past 10^15 cents.
            try db.execute(
                sql:
                    "UPDATE document_lines SET amount = 'twelve' WHERE id = (SELECT MIN(id) FROM document_lines WHERE transaction_id = ?)",
                arguments: [invoices[0]])
            try db.execute(
                sql:
                    "UPDATE document_lines SET amount = 2000000000000000 WHERE id = (SELECT MIN(id) FROM document_lines WHERE transaction_id = ?)",
                arguments: [invoices[1]])
            // An application of the payment holding text: left out.
            try db.execute(
                sql: """
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
            try db.execute(
                sql: """
                    INSERT INTO transactions (id, kind, date, number, party_id, created_at, modified_at)
                    VALUES (?, 'invoice', '2025-06-01', NULL, NULL, '2025-06-01T10:00:00Z', '2025-06-01T10:00:00Z')
                    """, arguments: [big])
            try db.execute(
                sql:
                    "INSERT INTO documents (transaction_id, due_date, total, balance_due) VALUES (?, NULL, 5000, 5000)",
                arguments: [big])
            try db.execute(
                sql:
                    "INSERT INTO document_lines (transaction_id, item_id, description, amount) VALUES (?, ?, 'with item', 3000)",
                arguments: [big, item])
            try db.execute(
                sql:
                    "INSERT INTO document_lines (transaction_id, item_id, description, amount) VALUES (?, NULL, 'no item', 1500)",
                arguments: [big])
            return (invoices, payment, bill, check)
        }
        let report = try Self.rebuild(path, folder)
        #expect(report.remaining.allSatisfy { !$0.repairable }, "\(report.remaining)")

        try CompanyFile.read(path) { db in
            let suspense = try Self.one(db, Self.suspenseSQL)
            let receivable = try Self.one(
                db, "SELECT id FROM accounts WHERE type = 'accounts_receivable' ORDER BY id LIMIT 1")
            for invoice in invoices {
                let number =
                    try String.fetchOne(db, sql: "SELECT number FROM transactions WHERE id = ?", arguments: [invoice])
                    ?? "?"
                let total = try Self.one(db, "SELECT total FROM documents WHERE transaction_id = ?", [invoice]) ?? 0
                #expect(
                    try Self.postings(db, invoice) == [
                        Posting(
                            account: receivable,
                            party: try Self.one(db, "SELECT party_id FROM transactions WHERE id = ?", [invoice]),
                            amount: total,
                            memo: "Rebuilt by rebuild from invoice \(number)'s total (its splits were lost)"),
                        Posting(
                            account: suspense, party: nil, amount: -total,
                            memo:
                                "Rebuilt by rebuild from invoice \(number)'s total; its lines hold an amount that is not valid, so the income accounts are unknown (Rebuild Suspense, empty-transaction)"
                        ),
                    ])
            }
            let huge = try Self.postings(db, big)
            let income = try Self.one(
                db,
                "SELECT income_account_id FROM items WHERE id = (SELECT item_id FROM document_lines WHERE transaction_id = ? AND item_id IS NOT NULL)",
                [big])
            let lines = try Damage.all(db, "SELECT id FROM document_lines WHERE transaction_id = ? ORDER BY id", [big])
            #expect(
                huge == [
                    Posting(
                        account: receivable, party: nil, amount: 5000,
                        memo: "Rebuilt by rebuild from this invoice's document and lines (its splits were lost)"),
                    Posting(
                        account: income, party: nil, amount: -3000,
                        memo: "Rebuilt by rebuild from this invoice's line \(lines[0]) (its splits were lost)"),
                    Posting(
                        account: suspense, party: nil, amount: -1500,
                        memo:
                            "Rebuilt by rebuild from this invoice's line \(lines[1]); its income account is unknown (Rebuild Suspense, empty-transaction)"
                    ),
                    Posting(
                        account: suspense, party: nil, amount: -500,
                        memo:
                            "Rebuilt by rebuild: the difference between this invoice's total and its lines (Rebuild Suspense, empty-transaction)"
                    ),
                ])
            // The payment counts only its valid applications, and says so.
            let applied =
                try Self.one(
                    db, "SELECT SUM(amount) FROM applications WHERE payment_id = ? AND typeof(amount) = 'integer'",
                    [payment]) ?? 0
            let counted =
                try Self.one(
                    db, "SELECT COUNT(*) FROM applications WHERE payment_id = ? AND typeof(amount) = 'integer'",
                    [payment]) ?? 0
            let paymentSplits = try Self.postings(db, payment)
            #expect(paymentSplits.map(\.amount) == [-applied, applied])
            #expect(
                paymentSplits.first?.memo?.hasSuffix(
                    "\(counted) application\(counted == 1 ? "" : "s") (its splits were lost; 1 with an amount that is not valid left out)"
                ) == true)
            // The bill with a blob total: its lines' sum, the total named as not valid.
            let lineSum =
                try Self.one(db, "SELECT SUM(amount) FROM document_lines WHERE transaction_id = ?", [bill]) ?? 0
            let billSplits = try Self.postings(db, bill)
            #expect(billSplits.first?.amount == -lineSum)
            #expect(
                billSplits.first?.memo?.contains("'s lines; its total is not a valid amount (its splits were lost)")
                    == true)
            #expect(billSplits.compactMap(\.amount).reduce(0, +) == 0)
            // The check with nothing valid is gone; its feed line is unlinked, not deleted.
            #expect(try Self.one(db, "SELECT COUNT(*) FROM transactions WHERE id = ?", [check]) == 0)
            #expect(
                try Self.one(
                    db, "SELECT COUNT(*) FROM bank_feed WHERE transaction_id IS NULL AND typeof(amount) = 'real'") == 1)
            // No invented amount is past the limit or not an integer.
            #expect(
                try Self.one(
                    db,
                    """
                    SELECT COUNT(*) FROM splits WHERE memo LIKE 'Rebuilt by rebuild%' AND (typeof(amount) != 'integer' OR ABS(amount) > 1000000000000000)
                    """) == 0)
            #expect(try Self.one(db, "SELECT COUNT(*) FROM transactions WHERE id = ?", [big]) == 1)
        }
        let left = Set(try Verifier.verify(path: path).findings.map(\.code))
        #expect(
            left.isSubset(of: [
                .invalidValue, .receivablePayableWithoutParty, .documentLinesMismatch, .reconciliationDiscrepancy,
            ]), "\(left)")
        #expect(left.isSuperset(of: [.invalidValue, .receivablePayableWithoutParty, .documentLinesMismatch]))
        #expect(try Self.rebuild(path, folder).changedRows == 0)
    }

    /// A payment whose applications fall short of its feed line: the bank side
    /// from the line, the receivable from the applications, the rest in suspense.
    /// The feed lines of every empty transaction are read in one pass: each
    /// takes its own line and no other's, and a line naming a transaction by
    /// text that is not its id is no line of it.
    @Test func everyEmptyTransactionTakesItsOwnFeedLine() throws {
        let path = try Damage.sample(in: folder, transactions: 400, seed: 7)
        let (checks, lines) = try Damage.apply(to: path) { db -> ([Int64], [Int64: Row]) in
            let checks = try Damage.all(
                db,
                """
                SELECT t.id FROM transactions t WHERE t.kind = 'check'
                  AND (SELECT COUNT(*) FROM bank_feed f WHERE f.transaction_id = t.id) = 1
                  AND EXISTS (SELECT 1 FROM bank_feed f WHERE f.transaction_id = t.id AND f.status IN ('matched', 'added'))
                ORDER BY t.id LIMIT 12
                """)
            var lines: [Int64: Row] = [:]
            for check in checks {
                lines[check] = try Row.fetchOne(
                    db, sql: "SELECT id, account_id, amount FROM bank_feed WHERE transaction_id = ?", arguments: [check]
                )
                try db.execute(sql: "DELETE FROM splits WHERE transaction_id = ?", arguments: [check])
            }
            if let last = checks.last {
                try db.execute(
                    sql: "UPDATE bank_feed SET transaction_id = CAST(? AS TEXT) || 'x' WHERE transaction_id = ?",
                    arguments: [last, last])
            }
            return (checks, lines)
        }
        try #require(checks.count == 12)
        _ = try Self.rebuild(path, folder)

        try CompanyFile.read(path) { db in
            let suspense = try Self.one(db, Self.suspenseSQL)
            for check in checks.dropLast() {
                let line = try #require(lines[check])
                #expect(try Self.postings(db, check) == Self.fromFeedLine(line, suspense: suspense), "check \(check)")
            }
            // Its line names it by other text: nothing tells its splits, so it goes.
            let last = try #require(checks.last)
            #expect(try Self.one(db, "SELECT COUNT(*) FROM transactions WHERE id = ?", [last]) == 0)
            #expect(
                try Self.one(
                    db,
                    "SELECT COUNT(*) FROM repair_actions WHERE code = 'empty-transaction' AND table_name = 'transactions' AND action = 'delete'"
                ) == 1)
        }
    }

    @Test func aPaymentTakesItsBankSideFromItsFeedLine() throws {
        let path = try Damage.sample(in: folder, transactions: 300, seed: 6)
        let payment = try Damage.apply(to: path) { db -> Int64 in
            let payment = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t JOIN bank_feed f ON f.transaction_id = t.id AND f.status = 'matched'
                WHERE t.kind = 'payment' AND EXISTS (SELECT 1 FROM applications a WHERE a.payment_id = t.id AND a.amount > 100)
                ORDER BY t.id LIMIT 1
                """)
            try db.execute(sql: "DELETE FROM splits WHERE transaction_id = ?", arguments: [payment])
            // 1.00 of the payment was never applied: a credit the customer keeps.
            try db.execute(
                sql: """
                    UPDATE applications SET amount = amount - 100 WHERE id = (SELECT MIN(id) FROM applications WHERE payment_id = ? AND amount > 100)
                    """, arguments: [payment])
            return payment
        }
        let report = try Self.rebuild(path, folder)
        #expect(report.remaining.allSatisfy { !$0.repairable })
        try CompanyFile.read(path) { db in
            let number =
                try String.fetchOne(db, sql: "SELECT number FROM transactions WHERE id = ?", arguments: [payment])
                ?? "?"
            let applied = try Self.one(db, "SELECT SUM(amount) FROM applications WHERE payment_id = ?", [payment]) ?? 0
            let count = try Self.one(db, "SELECT COUNT(*) FROM applications WHERE payment_id = ?", [payment]) ?? 0
            let line = try #require(
                try Row.fetchOne(
                    db, sql: "SELECT id, account_id, amount FROM bank_feed WHERE transaction_id = ?",
                    arguments: [payment]))
            let lineID: Int64 = line["id"]
            let amount: Int64 = line["amount"]
            #expect(amount - applied == 100)
            #expect(
                try Self.postings(db, payment) == [
                    Posting(
                        account: try Self.one(
                            db, "SELECT id FROM accounts WHERE type = 'accounts_receivable' ORDER BY id LIMIT 1"),
                        party: try Self.one(db, "SELECT party_id FROM transactions WHERE id = ?", [payment]),
                        amount: -applied,
                        memo:
                            "Rebuilt by rebuild from payment \(number)'s \(count) application\(count == 1 ? "" : "s") (its splits were lost)"
                    ),
                    Posting(
                        account: line["account_id"], party: nil, amount: amount,
                        memo: "Rebuilt by rebuild from bank feed line \(lineID) (its splits were lost)"),
                    Posting(
                        account: try Self.one(db, Self.suspenseSQL), party: nil, amount: -100,
                        memo:
                            "Rebuilt by rebuild: the part of payment \(number) that its applications and bank feed line \(lineID) do not explain (Rebuild Suspense, empty-transaction)"
                    ),
                ])
            #expect(
                try String.fetchOne(db, sql: "SELECT status FROM bank_feed WHERE id = ?", arguments: [lineID])
                    == "matched")
            let broken = try Invariants.violations(in: db).filter {
                !$0.hasPrefix("document lines") && !$0.hasPrefix("reconciliations chain")
            }
            #expect(broken == [])
        }
        #expect(try Self.rebuild(path, folder).changedRows == 0)
    }

    // MARK: Partly lost transactions

    /// How `unbalanced-transaction`'s suspense memo writes an amount ("-1234.56").
    static func memoMoney(_ cents: Int64) -> String {
        "\(cents < 0 ? "-" : "")\(abs(cents) / 100).\(String(format: "%02d", abs(cents) % 100))"
    }

    static func tableRows(_ db: Database, _ tables: [String]) throws -> [String: [String]] {
        try tables.reduce(into: [String: [String]]()) { rows, table in
            rows[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid").map(\.description)
        }
    }

    /// Damage that takes only the receivable (payable) split of an invoice, a
    /// bill, a payment and a bill payment (and one income split of the
    /// invoice): each gets that split again from its document's total or its
    /// applications, in the account its party uses most; only what still does
    /// not balance goes to Rebuild Suspense; no total is overwritten and no
    /// application deleted; every name's balance is what it was, to the cent.
    @Test func aLostReceivableOrPayableSplitIsRebuiltFromTheTotalOrTheApplications() throws {
        let path = try Damage.sample(in: folder, transactions: 400, seed: 3)
        struct Picked {
            var invoice: Int64 = 0, bill: Int64 = 0, payment: Int64 = 0, billPayment: Int64 = 0
            var secondReceivable: Int64 = 0, lostIncome: Int64 = 0, lostIncomeAccount: Int64 = 0
            var survivors: [Int64: [Posting]] = [:], before: [Int64: [Posting]] = [:]
        }
        let ar = "(SELECT id FROM accounts WHERE type IN ('accounts_receivable', 'accounts_payable'))"
        let picked = try Damage.apply(to: path) { db -> Picked in
            var picked = Picked()
            // An invoice already paid in part or in full, with at least two income splits.
            picked.invoice = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t JOIN documents d ON d.transaction_id = t.id
                WHERE t.kind = 'invoice' AND EXISTS (SELECT 1 FROM applications a WHERE a.document_id = t.id)
                  AND (SELECT COUNT(*) FROM splits s WHERE s.transaction_id = t.id AND s.account_id NOT IN \(ar)) >= 2
                ORDER BY t.id LIMIT 1
                """)
            picked.bill = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t JOIN documents d ON d.transaction_id = t.id
                WHERE t.kind = 'bill' AND EXISTS (SELECT 1 FROM applications a WHERE a.document_id = t.id) ORDER BY t.id LIMIT 1
                """)
            // A payment of another customer, applied in full, so that it posts exactly as before.
            picked.payment = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t WHERE t.kind = 'payment'
                  AND t.party_id IS NOT (SELECT party_id FROM transactions WHERE id = ?)
                  AND (SELECT SUM(amount) FROM applications a WHERE a.payment_id = t.id)
                      = -(SELECT SUM(amount) FROM splits s WHERE s.transaction_id = t.id AND s.account_id IN \(ar))
                ORDER BY t.id LIMIT 1
                """, [picked.invoice])
            picked.billPayment = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t WHERE t.kind = 'bill_payment'
                  AND (SELECT SUM(amount) FROM applications a WHERE a.payment_id = t.id)
                      = (SELECT SUM(amount) FROM splits s WHERE s.transaction_id = t.id AND s.account_id IN \(ar))
                ORDER BY t.id LIMIT 1
                """)
            // The payment's customer keeps their receivables in a second account
            // (higher id): the rebuilt split goes there, not to the lowest-id one.
            try db.execute(
                sql: """
                    INSERT INTO accounts (id, parent_id, number, name, type, is_active, balance)
                    VALUES (9001, NULL, NULL, 'Receivables (branch)', 'accounts_receivable', 1, 0)
                    """)
            picked.secondReceivable = 9001
            try db.execute(
                sql: """
                    UPDATE splits SET account_id = 9001
                    WHERE party_id = (SELECT party_id FROM transactions WHERE id = ?) AND account_id IN \(ar)
                    """, arguments: [picked.payment])
            try db.execute(
                sql: """
                    UPDATE accounts SET balance = (SELECT COALESCE(SUM(amount), 0) FROM splits WHERE account_id = accounts.id)
                    WHERE type = 'accounts_receivable'
                    """)
            for transaction in [picked.invoice, picked.bill, picked.payment, picked.billPayment] {
                picked.before[transaction] = try Self.postings(db, transaction)
                try db.execute(
                    sql: "DELETE FROM splits WHERE transaction_id = ? AND account_id IN \(ar)", arguments: [transaction]
                )
            }
            let income = try #require(
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT id, account_id, amount FROM splits WHERE transaction_id = ? ORDER BY id LIMIT 1
                        """, arguments: [picked.invoice]))
            picked.lostIncome = income["amount"]
            picked.lostIncomeAccount = income["account_id"]
            try db.execute(sql: "DELETE FROM splits WHERE id = ?", arguments: [income["id"] as Int64])
            for transaction in [picked.invoice, picked.bill, picked.payment, picked.billPayment] {
                picked.survivors[transaction] = try Self.postings(db, transaction)
            }
            return picked
        }
        let tables = ["transactions", "documents", "document_lines", "applications", "bank_feed", "parties"]
        let (kept, accounts) = try CompanyFile.read(path) { db in
            (
                try Self.tableRows(db, tables),
                try Dictionary(
                    uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, balance FROM accounts").map {
                        ($0["id"] as Int64, $0["balance"] as Int64)
                    })
            )
        }
        let report = try Self.rebuild(path, folder)
        #expect(report.remaining == [], "\(report.remaining)")

        try CompanyFile.read(path) { db in
            let suspense = try #require(try Self.one(db, Self.suspenseSQL))
            let receivable = try Self.one(
                db, "SELECT id FROM accounts WHERE type = 'accounts_receivable' ORDER BY id LIMIT 1")
            let payable = try Self.one(
                db, "SELECT id FROM accounts WHERE type = 'accounts_payable' ORDER BY id LIMIT 1")
            func party(_ transaction: Int64) throws -> Int64? {
                try Self.one(db, "SELECT party_id FROM transactions WHERE id = ?", [transaction])
            }
            func number(_ transaction: Int64) throws -> String {
                try String.fetchOne(db, sql: "SELECT number FROM transactions WHERE id = ?", arguments: [transaction])
                    ?? "?"
            }
            func total(_ transaction: Int64) throws -> Int64 {
                try #require(try Self.one(db, "SELECT total FROM documents WHERE transaction_id = ?", [transaction]))
            }
            func applied(_ transaction: Int64) throws -> (Int64, Int64) {
                (
                    try Self.one(db, "SELECT SUM(amount) FROM applications WHERE payment_id = ?", [transaction]) ?? 0,
                    try Self.one(db, "SELECT COUNT(*) FROM applications WHERE payment_id = ?", [transaction]) ?? 0
                )
            }

            // The invoice: receivable +total with its customer; the income split it
            // also lost is the one thing left unknown, in Rebuild Suspense.
            let invoice = picked.invoice
            let invoiceTotal = try total(invoice)
            #expect(
                try Self.postings(db, invoice) == picked.survivors[invoice]! + [
                    Posting(
                        account: receivable, party: try party(invoice), amount: invoiceTotal,
                        memo:
                            "Rebuilt by rebuild from invoice \(try number(invoice))'s total (its accounts receivable split was lost)"
                    ),
                    Posting(
                        account: suspense, party: nil, amount: picked.lostIncome,
                        memo:
                            "Rebuild Suspense: transaction \(invoice) was out of balance by \(Self.memoMoney(-picked.lostIncome)) (unbalanced-transaction)"
                    ),
                ])
            #expect(
                picked.before[invoice]!.map(\.money).contains(
                    Posting(account: receivable, party: try party(invoice), amount: invoiceTotal, memo: nil)))

            // The bill: payable -total with its vendor, exactly the split it had.
            let bill = picked.bill
            #expect(
                try Self.postings(db, bill) == picked.survivors[bill]! + [
                    Posting(
                        account: payable, party: try party(bill), amount: -(try total(bill)),
                        memo:
                            "Rebuilt by rebuild from bill \(try number(bill))'s total (its accounts payable split was lost)"
                    )
                ])
            #expect(Set(try Self.postings(db, bill).map(\.money)) == Set(picked.before[bill]!.map(\.money)))

            // The payment: receivable -applied with its customer, in the account that
            // customer uses most.
            let payment = picked.payment
            let (paid, count) = try applied(payment)
            #expect(
                try Self.postings(db, payment) == picked.survivors[payment]! + [
                    Posting(
                        account: picked.secondReceivable, party: try party(payment), amount: -paid,
                        memo:
                            "Rebuilt by rebuild from payment \(try number(payment))'s \(count) application\(count == 1 ? "" : "s") (its accounts receivable split was lost)"
                    )
                ])
            #expect(Set(try Self.postings(db, payment).map(\.money)) == Set(picked.before[payment]!.map(\.money)))

            // The bill payment: payable +applied with its vendor.
            let billPayment = picked.billPayment
            let (billPaid, billCount) = try applied(billPayment)
            #expect(
                try Self.postings(db, billPayment) == picked.survivors[billPayment]! + [
                    Posting(
                        account: payable, party: try party(billPayment), amount: billPaid,
                        memo:
                            "Rebuilt by rebuild from bill payment \(try number(billPayment))'s \(billCount) application\(billCount == 1 ? "" : "s") (its accounts payable split was lost)"
                    )
                ])
            #expect(
                Set(try Self.postings(db, billPayment).map(\.money)) == Set(picked.before[billPayment]!.map(\.money)))

            // Headers, documents (totals and balances due), lines, applications,
            // feed lines and every name's balance: as they were, to the cent.
            #expect(try Self.tableRows(db, tables) == kept)
            // Accounts: only the lost income split's account and Rebuild Suspense moved.
            for row in try Row.fetchAll(db, sql: "SELECT id, balance FROM accounts") {
                let id: Int64 = row["id"]
                let balance: Int64 = row["balance"]
                let expected =
                    id == suspense
                    ? picked.lostIncome
                    : id == picked.lostIncomeAccount ? accounts[id]! - picked.lostIncome : accounts[id]
                #expect(balance == expected, "account \(id)")
            }
            // Five splits added, each recorded; nothing else changed but cached balances.
            #expect(
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT code, table_name, action, COUNT(*) AS n FROM repair_actions GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                        """
                ).map {
                    "\($0["code"] as String) \($0["table_name"] as String) \($0["action"] as String) \($0["n"] as Int)"
                } == [
                    "account-balance-mismatch accounts update 2",
                    "unbalanced-transaction accounts insert 1",
                    "unbalanced-transaction splits insert 5",
                ])
            #expect(try Invariants.violations(in: db) == [])
        }
        #expect(try Verifier.verify(path: path).findings == [])
        #expect(try Self.rebuild(path, folder).changedRows == 0)
    }

    /// Hostile values around a lost receivable or payable split: a total that
    /// is text, past 10^15 or negative, applications that are text, a split
    /// that would widen the gap, one that was moved to Rebuild Suspense rather
    /// than lost, no customer, ids at Int64.max. Nothing is made from a bad
    /// value (the gap goes to Rebuild Suspense as before), what is valid is
    /// rebuilt, and nothing crashes.
    @Test func hostileValuesAroundALostReceivableOrPayableSplit() throws {
        let path = try Damage.sample(in: folder, transactions: 300, seed: 4)
        let top = Int64.max
        struct Picked {
            var text: Int64 = 0, huge: Int64 = 0, negative: Int64 = 0, widening: Int64 = 0, moved: Int64 = 0
            var noCustomer: Int64 = 0, textPayment: Int64 = 0, customer: Int64 = 0, vendor: Int64 = 0
            var expense: Int64 = 0, bank: Int64 = 0, paidInvoice: Int64 = 0
        }
        let rp = "(SELECT id FROM accounts WHERE type IN ('accounts_receivable', 'accounts_payable'))"
        let picked = try Damage.apply(to: path) { db -> Picked in
            var picked = Picked()
            let invoices = try Damage.all(
                db,
                """
                SELECT t.id FROM transactions t JOIN documents d ON d.transaction_id = t.id
                WHERE t.kind = 'invoice' AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.document_id = t.id) ORDER BY t.id LIMIT 6
                """)
            #expect(invoices.count == 6)
            (picked.text, picked.huge, picked.negative, picked.widening, picked.moved, picked.noCustomer) =
                (invoices[0], invoices[1], invoices[2], invoices[3], invoices[4], invoices[5])
            // The one that was moved, not lost: its receivable split sits in a second
            // receivable account that is then deleted (split-account-missing moves
            // it to Rebuild Suspense), and an income split was changed by 1.00.
            try db.execute(
                sql: "INSERT INTO accounts (id, name, type) VALUES (9002, 'Old receivables', 'accounts_receivable')")
            try db.execute(
                sql: "UPDATE splits SET account_id = 9002 WHERE transaction_id = ? AND account_id IN \(rp)",
                arguments: [picked.moved])
            try db.execute(sql: "DELETE FROM accounts WHERE id = 9002")
            try db.execute(
                sql:
                    "UPDATE splits SET amount = amount - 100 WHERE id = (SELECT MIN(id) FROM splits WHERE transaction_id = ? AND account_id NOT IN \(rp))",
                arguments: [picked.moved])
            for invoice in [picked.text, picked.huge, picked.negative, picked.widening, picked.noCustomer] {
                try db.execute(
                    sql: "DELETE FROM splits WHERE transaction_id = ? AND account_id IN \(rp)", arguments: [invoice])
            }
            try db.execute(
                sql: "UPDATE documents SET total = 'lots' WHERE transaction_id = ?", arguments: [picked.text])
            try db.execute(
                sql: "UPDATE documents SET total = 2000000000000000 WHERE transaction_id = ?", arguments: [picked.huge])
            try db.execute(
                sql: "UPDATE documents SET total = -total WHERE transaction_id = ?", arguments: [picked.negative])
            // Its surviving splits are debits: a receivable debit would widen the gap.
            picked.expense = try Damage.one(db, "SELECT MIN(id) FROM accounts WHERE type = 'expense'")
            try db.execute(
                sql: """
                    INSERT INTO splits (transaction_id, account_id, amount, memo)
                    SELECT ?1, ?2, 2 * total, 'stray' FROM documents WHERE transaction_id = ?1
                    """, arguments: [picked.widening, picked.expense])
            try db.execute(sql: "UPDATE transactions SET party_id = NULL WHERE id = ?", arguments: [picked.noCustomer])
            // A payment whose only applications hold text: nothing to rebuild from.
            picked.textPayment = try Damage.one(
                db,
                """
                SELECT t.id FROM transactions t WHERE t.kind = 'payment' AND EXISTS (SELECT 1 FROM applications a WHERE a.payment_id = t.id)
                ORDER BY t.id LIMIT 1
                """)
            try db.execute(
                sql: "UPDATE applications SET amount = 'some' WHERE payment_id = ?", arguments: [picked.textPayment])
            try db.execute(
                sql: "DELETE FROM splits WHERE transaction_id = ? AND account_id IN \(rp)",
                arguments: [picked.textPayment])
            // A bill at Int64.max and a payment at Int64.max - 1, both without a
            // number, whose receivable and payable splits are gone; the payment has
            // one valid application and one of text.
            picked.vendor = try Damage.one(db, "SELECT MIN(id) FROM parties WHERE kind = 'vendor'")
            try db.execute(
                sql: """
                    INSERT INTO transactions (id, kind, date, number, party_id, created_at, modified_at)
                    VALUES (?, 'bill', '2025-06-01', NULL, ?, '2025-06-01T10:00:00Z', '2025-06-01T10:00:00Z')
                    """, arguments: [top, picked.vendor])
            try db.execute(
                sql:
                    "INSERT INTO documents (transaction_id, due_date, total, balance_due) VALUES (?, NULL, 7000, 7000)",
                arguments: [top])
            try db.execute(
                sql: "INSERT INTO document_lines (transaction_id, description, amount) VALUES (?, 'Parts', 7000)",
                arguments: [top])
            try db.execute(
                sql: "INSERT INTO splits (transaction_id, account_id, amount) VALUES (?, ?, 7000)",
                arguments: [top, picked.expense])
            let paid = try #require(
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT d.transaction_id, t.party_id FROM documents d JOIN transactions t ON t.id = d.transaction_id
                        WHERE t.kind = 'invoice' AND d.balance_due >= 3000 AND t.id NOT IN (\(invoices.map(String.init).joined(separator: ",")))
                        ORDER BY d.transaction_id LIMIT 1
                        """))
            picked.paidInvoice = paid["transaction_id"]
            picked.customer = paid["party_id"]
            picked.bank = try Damage.one(db, "SELECT MIN(id) FROM accounts WHERE type = 'bank'")
            try db.execute(
                sql: """
                    INSERT INTO transactions (id, kind, date, number, party_id, created_at, modified_at)
                    VALUES (?, 'payment', '2025-06-02', NULL, ?, '2025-06-02T10:00:00Z', '2025-06-02T10:00:00Z')
                    """, arguments: [top - 1, picked.customer])
            try db.execute(
                sql: "INSERT INTO splits (transaction_id, account_id, amount) VALUES (?, ?, 3000)",
                arguments: [top - 1, picked.bank])
            try db.execute(
                sql: "INSERT INTO applications (payment_id, document_id, amount) VALUES (?, ?, 3000)",
                arguments: [top - 1, picked.paidInvoice])
            try db.execute(
                sql: "INSERT INTO applications (payment_id, document_id, amount) VALUES (?, ?, 'twelve')",
                arguments: [top - 1, picked.paidInvoice])
            try db.execute(
                sql: "UPDATE documents SET balance_due = balance_due - 3000 WHERE transaction_id = ?",
                arguments: [picked.paidInvoice])
            return picked
        }
        let report = try Self.rebuild(path, folder)
        #expect(report.remaining.allSatisfy { !$0.repairable }, "\(report.remaining)")

        try CompanyFile.read(path) { db in
            let suspense = try #require(try Self.one(db, Self.suspenseSQL))
            let receivable = try Self.one(
                db, "SELECT id FROM accounts WHERE type = 'accounts_receivable' ORDER BY id LIMIT 1")
            let payable = try Self.one(
                db, "SELECT id FROM accounts WHERE type = 'accounts_payable' ORDER BY id LIMIT 1")
            func rebuilt(_ transaction: Int64) throws -> [Posting] {
                try Self.postings(db, transaction).filter { $0.memo?.hasPrefix("Rebuilt by rebuild") == true }
            }
            // Bad totals, a widening split, a split moved rather than lost, text
            // applications: nothing rebuilt, the whole gap in Rebuild Suspense.
            for transaction in [
                picked.text, picked.huge, picked.negative, picked.widening, picked.moved, picked.textPayment,
            ] {
                #expect(try rebuilt(transaction) == [], "transaction \(transaction)")
                let splits = try Self.postings(db, transaction)
                #expect(splits.compactMap(\.amount).reduce(0, +) == 0, "transaction \(transaction)")
                #expect(
                    splits.last?.account == suspense
                        && splits.last?.memo?.hasSuffix("(unbalanced-transaction)") == true,
                    "transaction \(transaction)")
                #expect(
                    !splits.contains { $0.account == receivable || $0.account == payable }, "transaction \(transaction)"
                )
            }
            // The moved split is in Rebuild Suspense once, not rebuilt a second time.
            #expect(
                try Self.one(
                    db,
                    """
                    SELECT COUNT(*) FROM splits WHERE transaction_id = ? AND account_id = ? AND memo LIKE '%[split-account-missing:%'
                    """, [picked.moved, suspense]) == 1)
            // A total that is text is left as it was (invalid-value, for a person).
            #expect(
                try String.fetchOne(
                    db, sql: "SELECT total FROM documents WHERE transaction_id = ?", arguments: [picked.text]) == "lots"
            )
            // No customer: the receivable is rebuilt without one, for a person to name.
            let number =
                try String.fetchOne(
                    db, sql: "SELECT number FROM transactions WHERE id = ?", arguments: [picked.noCustomer]) ?? "?"
            let total = try Self.one(db, "SELECT total FROM documents WHERE transaction_id = ?", [picked.noCustomer])
            #expect(
                try rebuilt(picked.noCustomer) == [
                    Posting(
                        account: receivable, party: nil, amount: total,
                        memo:
                            "Rebuilt by rebuild from invoice \(number)'s total (its accounts receivable split was lost)"
                    )
                ])
            // At the top of the ids: the bill's payable from its total, the
            // payment's receivable from its one valid application.
            #expect(
                try Self.postings(db, top) == [
                    Posting(account: picked.expense, party: nil, amount: 7000, memo: nil),
                    Posting(
                        account: payable, party: picked.vendor, amount: -7000,
                        memo: "Rebuilt by rebuild from this bill's total (its accounts payable split was lost)"),
                ])
            #expect(
                try Self.postings(db, top - 1) == [
                    Posting(account: picked.bank, party: nil, amount: 3000, memo: nil),
                    Posting(
                        account: receivable, party: picked.customer, amount: -3000,
                        memo:
                            "Rebuilt by rebuild from this payment's 1 application (its accounts receivable split was lost; 1 with an amount that is not valid left out)"
                    ),
                ])
            #expect(try Self.one(db, "SELECT COUNT(*) FROM applications WHERE payment_id = ?", [top - 1]) == 2)
            #expect(
                try Self.one(
                    db,
                    """
                    SELECT COUNT(*) FROM splits WHERE memo LIKE 'Rebuilt by rebuild%' AND (typeof(amount) != 'integer' OR ABS(amount) > 1000000000000000)
                    """) == 0)
        }
        let left = Set(try Verifier.verify(path: path).findings.map(\.code))
        #expect(
            left.isSubset(of: [
                .invalidValue, .receivablePayableWithoutParty, .documentLinesMismatch, .reconciliationDiscrepancy,
            ]), "\(left)")
        #expect(left.isSuperset(of: [.invalidValue, .receivablePayableWithoutParty]))
        #expect(try Self.rebuild(path, folder).changedRows == 0)
    }

    /// Issue 24's scenario, item 3: one zeroed page of `splits` in a
    /// 500-transaction sample (`dd if=/dev/zero of=h.db bs=4096 seek=38
    /// count=1`), rebuilt with no snapshot to recover from. Invoice 375
    /// (invoice 1102, 4,503.00, paid in full by application 141) lost its
    /// receivable split and one income split; rebuild used to book -4,378.00
    /// to Rebuild Suspense, overwrite its total with 0 and delete the
    /// application. Now no surviving document, line or application is
    /// deleted or changed, and its customer's balance is explained by its
    /// own lines, not by a "Lost in damage" entry.
    @Test func aZeroedPageOfSplitsKeepsEveryDocumentLineAndApplication() throws {
        let path = try Damage.sample(in: folder, name: "h.db", transactions: 500, seed: 5)
        let kept = ["documents", "document_lines", "applications"]
        let (before, customerBalance, receivableSplit) = try CompanyFile.read(path) { db in
            // The sample is the issue's: invoice 375 and its application 141.
            #expect(
                try Row.fetchOne(db, sql: "SELECT kind, number, party_id FROM transactions WHERE id = 375")
                    == ["kind": "invoice", "number": "1102", "party_id": 1])
            #expect(
                try Row.fetchOne(db, sql: "SELECT payment_id, document_id, amount FROM applications WHERE id = 141")
                    == ["payment_id": 406, "document_id": 375, "amount": 450300])
            return (
                try Self.tableRows(db, kept), try Self.one(db, "SELECT balance FROM parties WHERE id = 1"),
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT account_id, party_id, amount FROM splits
                        WHERE transaction_id = 375 AND account_id IN (SELECT id FROM accounts WHERE type = 'accounts_receivable')
                        """)
            )
        }
        #expect(receivableSplit == ["account_id": 4, "party_id": 1, "amount": 450300])
        try Damage.scribble(on: path, page: 39, byte: 0x00)
        let noSnapshots = folder.file("no-snapshots")
        try FileManager.default.createDirectory(atPath: noSnapshots, withIntermediateDirectories: true)
        let report = try Rebuilder.rebuild(
            path: path, options: RebuildOptions(backupFolder: noSnapshots, now: RebuildRepairTests.now))
        let damage = try #require(report.damage)
        #expect(damage.snapshot == nil)
        for table in kept + ["transactions"] {
            #expect(damage.loss.first { $0.table == table }?.lost == (table == "transactions" ? 3 : 0), "\(table)")
        }
        #expect(report.remaining.allSatisfy { !$0.repairable }, "\(report.remaining)")

        try CompanyFile.read(path) { db in
            // No repair touched a document, a line or an application; the only
            // headers deleted are three with nothing to rebuild from.
            #expect(
                try Self.one(
                    db,
                    "SELECT COUNT(*) FROM repair_actions WHERE table_name IN ('documents', 'document_lines', 'applications')"
                ) == 0)
            #expect(
                try Self.one(
                    db, "SELECT COUNT(*) FROM repair_actions WHERE table_name = 'transactions' AND action != 'insert'")
                    == 3)
            #expect(
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT json_extract(before, '$.kind') FROM repair_actions
                        WHERE table_name = 'transactions' AND action = 'delete' ORDER BY 1
                        """) == ["credit_card_charge", "journal"])
            #expect(try Self.tableRows(db, kept) == before)

            // Invoice 375: its receivable split again, from its total; the lost
            // income line (125.00) is all that Rebuild Suspense holds for it.
            let suspense = try Self.one(db, Self.suspenseSQL)
            #expect(
                try Self.postings(db, 375).filter { $0.memo?.hasPrefix("Re") == true } == [
                    Posting(
                        account: 4, party: 1, amount: 450300,
                        memo: "Rebuilt by rebuild from invoice 1102's total (its accounts receivable split was lost)"),
                    Posting(
                        account: suspense, party: nil, amount: -12500,
                        memo: "Rebuild Suspense: transaction 375 was out of balance by 125.00 (unbalanced-transaction)"),
                ])
            #expect(try Self.one(db, "SELECT SUM(amount) FROM splits WHERE transaction_id = 375") == 0)
            // Abbott Dental shows what it showed, and its own invoice explains it.
            #expect(try Self.one(db, "SELECT balance FROM parties WHERE id = 1") == customerBalance)
            #expect(
                try Self.one(db, "SELECT COUNT(*) FROM splits WHERE party_id = 1 AND memo LIKE 'Lost in damage%'") == 0)
            #expect(try Self.one(db, "SELECT SUM(amount) FROM splits") == 0)
        }
        #expect(try Verifier.verify(path: path).findings.filter(\.repairable) == [])
        let again = try Rebuilder.rebuild(
            path: path, options: RebuildOptions(backupFolder: noSnapshots, now: RebuildRepairTests.now))
        #expect(again.changedRows == 0)
    }
}
