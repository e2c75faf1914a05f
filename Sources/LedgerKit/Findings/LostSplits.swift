import GRDB

/// The splits of a transaction that lost them, made again from what the file
/// still says about it (docs/rebuild.md, "Reconstruct before deleting"): an invoice or
/// bill from its document and lines, a payment or bill payment from its
/// applications (and its bank-feed line, which names the bank side), any
/// transaction from its matched or added bank-feed lines; whatever stays
/// unknown goes to Rebuild Suspense. A transaction with none of these gets no
/// plan, and `empty-transaction` deletes it as before. A transaction that lost
/// only its receivable (payable) split gets that one split again
/// (`lostSide`, for `unbalanced-transaction`).
///
/// Every plan is read from the file as it is before any split is added, so
/// the plan of one transaction never depends on another's: the repairs among
/// the suspects and over every row make the same splits.
///
/// Not Sendable: it reads through a `Database`, which belongs to one connection's queue.
struct LostSplits {
    /// One split to add: `account` nil means Rebuild Suspense.
    struct Split: Equatable {
        let account: Int64?
        let party: Int64?
        let amount: Int64
        let memo: String
    }

    private let db: Database
    /// The receivable or payable account each (party, type) uses most, looked up once.
    private var mostUsed: [String: Int64?] = [:]

    init(_ db: Database) {
        self.db = db
    }

    /// The splits that rebuild each of `transactions`, balanced to 0 with
    /// Rebuild Suspense, and the transactions nothing in the file tells the
    /// splits of. The feed lines of all of them are read in one pass of
    /// `bank_feed`, which has no index by transaction (SPEC §1).
    mutating func plan(_ transactions: [Int64]) throws -> (
        rebuilt: [(transaction: Int64, splits: [Split])], unknown: [Int64]
    ) {
        try gatherFeed(of: transactions)
        defer {
            try? db.execute(sql: "DROP TABLE IF EXISTS temp.rebuild_feed; DROP TABLE IF EXISTS temp.rebuild_feed_of")
        }
        var rebuilt: [(transaction: Int64, splits: [Split])] = []
        var unknown: [Int64] = []
        for transaction in transactions {
            if let splits = try plan(transaction) {
                rebuilt.append((transaction, splits))
            } else {
                unknown.append(transaction)
            }
        }
        return (rebuilt, unknown)
    }

    /// Copies the matched or added feed lines of `transactions` (of accounts
    /// a split may take) into `temp.rebuild_feed`, indexed by transaction.
    private func gatherFeed(of transactions: [Int64]) throws {
        try db.execute(
            sql: """
                DROP TABLE IF EXISTS temp.rebuild_feed_of;
                CREATE TEMP TABLE rebuild_feed_of (id INTEGER PRIMARY KEY);
                DROP TABLE IF EXISTS temp.rebuild_feed;
                CREATE TEMP TABLE rebuild_feed (planned, id, account, amount);
                """)
        let add = try BulkStatement(db, sql: "INSERT OR IGNORE INTO temp.rebuild_feed_of (id) VALUES (?)")
        for transaction in transactions { try add.run(transaction) }
        // The lines and values the query of one transaction at a time gave: untyped
        // columns keep each value as stored, and `f.transaction_id = +o.id` compares
        // as `f.transaction_id = ?` did (an expression, like a bound value, has no
        // affinity; `o.id = …` alone would take the text '05' for 5). CROSS JOIN
        // keeps the feed the outer loop: one pass, whatever the planner guesses.
        try db.execute(
            sql: """
                INSERT INTO temp.rebuild_feed
                SELECT o.id, f.id, f.account_id, f.amount
                FROM bank_feed f JOIN accounts a ON a.id = f.account_id
                     CROSS JOIN temp.rebuild_feed_of o ON o.id = f.transaction_id AND f.transaction_id = +o.id
                WHERE f.status IN ('matched', 'added')
                  AND a.type NOT IN \(Catalog.receivablePayable)
                  AND NOT (a.name = 'Rebuild Suspense' AND a.parent_id IS NULL AND a.type = 'other_current_asset');
                CREATE INDEX temp.rebuild_feed_planned ON rebuild_feed(planned, id);
                """)
    }

    /// The splits that rebuild `transaction`, balanced to 0 with Rebuild
    /// Suspense, or nil when nothing in the file tells what they were; its
    /// feed lines are those `gatherFeed` copied.
    private mutating func plan(_ transaction: Int64) throws -> [Split]? {
        guard let (kind, name, party) = try header(transaction) else { return nil }
        if let kind, kind == .invoice || kind == .bill, let splits = try fromDocument(transaction, kind, name, party) {
            return splits
        }
        if let kind, kind == .payment || kind == .billPayment,
            let splits = try fromApplications(transaction, kind, name, party)
        {
            return splits
        }
        return try fromFeed(transaction, name)
    }

    /// The receivable (payable) split that an invoice, bill, payment or bill
    /// payment lost while other splits of it survived: an invoice's +total
    /// with its customer, a bill's -total with its vendor (from its stored
    /// `documents.total`), a payment's -SUM(applications) with its customer, a
    /// bill payment's +SUM with its vendor. The caller has found the
    /// transaction out of balance with no receivable, payable or Rebuild
    /// Suspense split; `gap` is what its splits sum to.
    ///
    /// Nil, and the gap left to Rebuild Suspense as before, when the source
    /// holds no valid amount (a total that is not a positive integer within
    /// `Money.limit`, no valid application), when the file has no account of
    /// that type, or when the split would widen the gap rather than close
    /// it (what is missing is not that split).
    mutating func lostSide(_ transaction: Int64, gap: Int64) throws -> Split? {
        guard let (kind, name, party) = try header(transaction), let kind else { return nil }
        let side: AccountType
        let amount: Int64
        let source: String
        let note: String
        switch kind {
        case .invoice, .bill:
            side = kind == .invoice ? .accountsReceivable : .accountsPayable
            guard
                let document = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT total FROM documents WHERE transaction_id = ?"),
                    arguments: [transaction]),
                let total = Self.sane(document.stored("total")), total > 0
            else { return nil }
            amount = kind == .invoice ? total : -total
            source = "\(name.possessive) total"
            note = ""
        case .payment, .billPayment:
            side = kind == .payment ? .accountsReceivable : .accountsPayable
            let applied = try applied(transaction, kind, name)
            guard applied.used > 0 else { return nil }
            amount = kind == .payment ? -applied.sum : applied.sum
            source = applied.counted
            note = applied.leftOut
        default:
            return nil
        }
        guard (gap < 0) != (amount < 0), let account = try receivableOrPayable(side, of: party) else { return nil }
        let what = side == .accountsReceivable ? "accounts receivable" : "accounts payable"
        return Split(
            account: account, party: party, amount: amount,
            memo: "Rebuilt by rebuild from \(source) (its \(what) split was lost\(note))")
    }

    /// The transaction's kind, how a memo names it, and its party when that is
    /// an integer naming an existing party; nil when there is no such transaction.
    private func header(_ transaction: Int64) throws -> (TransactionKind?, Name, Int64?)? {
        guard
            let header = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT kind, number,
                               CASE WHEN typeof(party_id) = 'integer' AND EXISTS (SELECT 1 FROM parties p WHERE p.id = t.party_id)
                                    THEN party_id END AS party
                        FROM transactions t WHERE id = ?
                        """), arguments: [transaction])
        else { return nil }
        let kind = header.text("kind").flatMap(TransactionKind.init(rawValue:))
        return (kind, Name(kind: kind, number: header.stored("number")), header.integer("party"))
    }

    // MARK: Sources

    /// An invoice's receivable split of +total with its customer and an income
    /// split per line (a bill: payable -total, expense +line); nil when it has
    /// neither a `documents` row nor lines whose amounts are all valid.
    private mutating func fromDocument(_ transaction: Int64, _ kind: TransactionKind, _ name: Name, _ party: Int64?)
        throws -> [Split]?
    {
        let invoice = kind == .invoice
        let document = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT total FROM documents WHERE transaction_id = ?"),
            arguments: [transaction])
        let itemAccount = invoice ? "income_account_id" : "expense_account_id"
        // A line's account: its item's, when that account exists and is not
        // receivable or payable (a line there would change the document's total).
        let lines = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT l.id, l.amount, a.id AS account FROM document_lines l
                    LEFT JOIN items i ON i.id = l.item_id
                    LEFT JOIN accounts a ON a.id = i.\(itemAccount) AND a.type NOT IN \(Catalog.receivablePayable)
                    WHERE l.transaction_id = ? ORDER BY l.id
                    """), arguments: [transaction])
        var lineSum: Int64? = lines.isEmpty ? nil : 0
        for line in lines {
            guard let sum = lineSum, let amount = Self.sane(line.stored("amount")) else {
                lineSum = nil
                break
            }
            let (next, overflow) = sum.addingReportingOverflow(amount)
            lineSum = overflow || !(-Money.limit...Money.limit).contains(next) ? nil : next
        }
        guard document != nil || lineSum != nil else { return nil }

        let total = document.flatMap { Self.sane($0.stored("total")) }
        let sign: Int64 = invoice ? 1 : -1
        let side: AccountType = invoice ? .accountsReceivable : .accountsPayable
        let account = try receivableOrPayable(side, of: party)
        let source: String
        let amount: Int64
        switch (total, lineSum) {
        case (let total?, let sum):
            amount = total
            source = sum == nil ? "\(name.possessive) total" : "\(name.possessive) document and lines"
        case (nil, let sum?):
            amount = sum
            source =
                document == nil
                ? "\(name.possessive) lines" : "\(name.possessive) lines; its total is not a valid amount"
        case (nil, nil):
            // A documents row whose total and lines hold no valid amount: the
            // transaction is kept, its amount left for a person.
            amount = 0
            source = "\(name.possessive) document; its total and lines are not valid amounts: enter the amount by hand"
        }
        let head = Split(
            account: account, party: account == nil ? nil : party, amount: sign * amount,
            memo: account == nil
                ? "Rebuilt by rebuild from \(source); the file has no \(side == .accountsReceivable ? "accounts receivable" : "accounts payable") account \(Self.suspenseMark)"
                : "Rebuilt by rebuild from \(source) (its splits were lost)")
        var detail: [Split] = []
        if lineSum != nil {
            for line in lines {
                guard let lineAmount = Self.sane(line.stored("amount")), lineAmount != 0, let id = line.integer("id")
                else { continue }
                let known = line.integer("account")
                detail.append(
                    Split(
                        account: known, party: nil, amount: -sign * lineAmount,
                        memo: known == nil
                            ? "Rebuilt by rebuild from \(name.possessive) line \(id); its \(invoice ? "income" : "expense") account is unknown \(Self.suspenseMark)"
                            : "Rebuilt by rebuild from \(name.possessive) line \(id) (its splits were lost)"))
            }
        }
        let why: String
        switch (lineSum, lines.isEmpty) {
        case (_?, _): why = "Rebuilt by rebuild: the difference between \(name.possessive) total and its lines"
        case (nil, true):
            why =
                "Rebuilt by rebuild from \(name.possessive) total; it has no lines, so the \(invoice ? "income" : "expense") account is unknown"
        case (nil, false):
            why =
                "Rebuilt by rebuild from \(name.possessive) total; its lines hold an amount that is not valid, so the \(invoice ? "income" : "expense") accounts are unknown"
        }
        return Self.balanced(head: [head], detail: detail, memo: why)
    }

    /// A payment's receivable split of -SUM(applications) with its customer (a
    /// bill payment: payable +SUM with its vendor), the bank side from its
    /// matched feed lines or else Rebuild Suspense. Only the applications that
    /// `application-invalid` keeps count, and only valid amounts; nil when none is left.
    private mutating func fromApplications(_ transaction: Int64, _ kind: TransactionKind, _ name: Name, _ party: Int64?)
        throws -> [Split]?
    {
        let payment = kind == .payment
        let (sum, used, counted, leftOut) = try applied(transaction, kind, name)
        guard used > 0 else { return nil }
        let side: AccountType = payment ? .accountsReceivable : .accountsPayable
        let account = try receivableOrPayable(side, of: party)
        let head = Split(
            account: account, party: account == nil ? nil : party, amount: payment ? -sum : sum,
            memo: account == nil
                ? "Rebuilt by rebuild from \(counted)\(leftOut); the file has no \(payment ? "accounts receivable" : "accounts payable") account \(Self.suspenseMark)"
                : "Rebuilt by rebuild from \(counted) (its splits were lost\(leftOut))")
        let (feed, lines) = try feedSplits(transaction)
        let why =
            feed.isEmpty
            ? "Rebuilt by rebuild from \(counted)\(leftOut); the \(payment ? "deposit account" : "account it was paid from") is unknown"
            : "Rebuilt by rebuild: the part of \(name.text) that its applications and bank feed \(lines) do not explain"
        return Self.balanced(head: [head], detail: feed, memo: why)
    }

    /// What a payment's (bill payment's) applications to invoices (bills) of
    /// its own party add up to, counting only the applications that
    /// `application-invalid` keeps and only valid amounts (positive integers,
    /// the sum within `Money.limit`); how a memo names those it counted, and
    /// those it left out.
    private func applied(_ transaction: Int64, _ kind: TransactionKind, _ name: Name)
        throws -> (sum: Int64, used: Int, counted: String, leftOut: String)
    {
        let applications = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT a.amount FROM applications a
                    JOIN transactions p ON p.id = a.payment_id JOIN transactions d ON d.id = a.document_id
                    WHERE a.payment_id = ? AND d.kind = ? AND d.party_id IS p.party_id ORDER BY a.id
                    """), arguments: [transaction, kind == .payment ? "invoice" : "bill"])
        var sum: Int64 = 0
        var used = 0
        for application in applications {
            guard let amount = Self.sane(application.stored("amount")), amount > 0 else { continue }
            let (next, overflow) = sum.addingReportingOverflow(amount)
            guard !overflow, next <= Money.limit else { continue }
            sum = next
            used += 1
        }
        let left = applications.count - used
        return (
            sum, used, "\(name.possessive) \(used) application\(used == 1 ? "" : "s")",
            left == 0 ? "" : "; \(left) with an amount that is not valid left out"
        )
    }

    /// A split of each matched or added feed line's amount in its account, the
    /// opposite in Rebuild Suspense; nil when no such line is linked.
    private func fromFeed(_ transaction: Int64, _ name: Name) throws -> [Split]? {
        let (feed, lines) = try feedSplits(transaction)
        guard let first = feed.first else { return nil }
        return Self.balanced(
            head: [first], detail: Array(feed.dropFirst()),
            memo: "Rebuilt by rebuild from bank feed \(lines); the other account is unknown")
    }

    /// One split per account of the transaction's matched or added feed lines,
    /// of the amount of its first line with a valid amount (so that
    /// `feed-amount-mismatch` holds for it), and how those lines are named.
    /// Lines of receivable, payable or Rebuild Suspense accounts are left out:
    /// a split there would change a document's total or cancel itself.
    private func feedSplits(_ transaction: Int64) throws -> ([Split], String) {
        let lines = try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT id, account, amount FROM temp.rebuild_feed WHERE planned = ? ORDER BY id"),
            arguments: [transaction])
        var splits: [Split] = []
        var ids: [Int64] = []
        var accounts: Set<Int64> = []
        for line in lines {
            guard let id = line.integer("id"), let account = line.integer("account"), !accounts.contains(account),
                let amount = Self.sane(line.stored("amount")), amount != 0
            else { continue }
            accounts.insert(account)
            ids.append(id)
            splits.append(
                Split(
                    account: account, party: nil, amount: amount,
                    memo: "Rebuilt by rebuild from bank feed line \(id) (its splits were lost)"))
        }
        let named = ids.count == 1 ? "line \(ids[0])" : "lines " + ids.map(String.init).joined(separator: ", ")
        return (splits, named)
    }

    // MARK: Helpers

    /// Adds the planned splits, in order, each recorded under `code` in
    /// `repair_actions`; a split with no account goes to Rebuild Suspense
    /// (made, under `code`, when first needed). The sums over transactions
    /// and over accounts and names are built again when next needed.
    static func add(_ plans: [(transaction: Int64, splits: [Split])], as code: FindingCode, _ context: RepairContext)
        throws
    {
        guard plans.contains(where: { !$0.splits.isEmpty }) else { return }
        let suspense =
            try plans.contains { $0.splits.contains { $0.account == nil } } ? context.suspense(for: code) : nil
        try context.db.execute(
            sql: """
                DROP TABLE IF EXISTS temp.rebuild_lost;
                CREATE TEMP TABLE rebuild_lost (seq INTEGER PRIMARY KEY, transaction_id INTEGER, account_id INTEGER,
                                                party_id INTEGER, amount INTEGER, memo TEXT)
                """)
        let plan = try BulkStatement(
            context.db,
            sql: """
                INSERT INTO temp.rebuild_lost (transaction_id, account_id, party_id, amount, memo) VALUES (?, ?, ?, ?, ?)
                """)
        for (transaction, splits) in plans {
            for split in splits {
                try plan.run(transaction, split.account ?? suspense, split.party, split.amount, split.memo)
            }
        }
        try context.insertNew(
            code, "splits",
            insert: """
                INSERT INTO splits (transaction_id, account_id, party_id, amount, memo, cleared, reconciliation_id)
                SELECT transaction_id, account_id, party_id, amount, memo, 'n', NULL FROM temp.rebuild_lost ORDER BY seq
                """)
        try context.db.execute(sql: "DROP TABLE temp.rebuild_lost")
        context.invalidate(.byTransaction)
        context.invalidate(.byAccountPartyStatement)
    }

    /// The receivable (payable) account this party's other splits of that type
    /// use most, else the lowest-id one; nil when the file has none.
    private mutating func receivableOrPayable(_ type: AccountType, of party: Int64?) throws -> Int64? {
        let key = "\(type.rawValue) \(party.map(String.init) ?? "-")"
        if let known = mostUsed[key] { return known }
        var found: Int64?
        if let party {
            found = try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT s.account_id FROM splits s JOIN accounts a ON a.id = s.account_id
                        WHERE s.party_id = ? AND a.type = ? GROUP BY s.account_id ORDER BY COUNT(*) DESC, s.account_id LIMIT 1
                        """), arguments: [party, type.rawValue])
        }
        if found == nil {
            found = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM accounts WHERE type = ? ORDER BY id LIMIT 1"),
                arguments: [type.rawValue])
        }
        mostUsed[key] = .some(found)
        return found
    }

    /// `head` and `detail` with a Rebuild Suspense split of what they lack to
    /// sum to 0, memo `memo`. Should that split pass `Money.limit` (hostile
    /// amounts), `detail` is dropped and the suspense takes all of the other side.
    private static func balanced(head: [Split], detail: [Split], memo: String) -> [Split] {
        func sum(_ splits: [Split]) -> Int64? {
            var total: Int64 = 0
            for split in splits {
                let (next, overflow) = total.addingReportingOverflow(split.amount)
                if overflow { return nil }
                total = next
            }
            return total
        }
        var splits = head + detail
        var why = memo
        if sum(splits).map({ !(-Money.limit...Money.limit).contains($0) }) ?? true {
            splits = head
            why = "Rebuilt by rebuild: the other side of this transaction; its amounts are too large to add up"
        }
        // head alone always fits: one amount within the limit.
        let rest = sum(splits) ?? 0
        if rest != 0 {
            splits.append(Split(account: nil, party: nil, amount: -rest, memo: "\(why) \(suspenseMark)"))
        }
        return splits
    }

    /// Says that a split went to Rebuild Suspense and which repair put it there (docs/rebuild.md).
    static let suspenseMark = "(Rebuild Suspense, empty-transaction)"

    /// The amount when it is an integer within `Money.limit`, else nil (docs/findings.md, invalid-value).
    static func sane(_ value: DatabaseValue) -> Int64? {
        guard case .int64(let amount) = value.storage, (-Money.limit...Money.limit).contains(amount) else { return nil }
        return amount
    }

    /// How a memo names the transaction: "invoice 1043", or "this invoice"
    /// when it has no number fit for a memo.
    struct Name {
        let text: String
        var possessive: String { text + "'s" }

        init(kind: TransactionKind?, number: DatabaseValue) {
            let noun = kind.map { $0 == .journal ? "journal entry" : $0.displayName.lowercased() } ?? "transaction"
            var shown: String?
            switch number.storage {
            case .int64(let value): shown = String(value)
            case .string(let value)
            where !value.isEmpty && value.count <= 30
                && value.unicodeScalars.allSatisfy({ !$0.properties.generalCategory.isControl }):
                shown = value
            default: shown = nil
            }
            text = shown.map { "\(noun) \($0)" } ?? "this \(noun)"
        }
    }
}

extension Unicode.GeneralCategory {
    fileprivate var isControl: Bool {
        self == .control || self == .format || self == .lineSeparator || self == .paragraphSeparator
    }
}
