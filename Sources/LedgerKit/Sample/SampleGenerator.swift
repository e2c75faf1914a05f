import GRDB

/// The invoices (or bills) of each party that still have a balance due, oldest
/// first, and the parties that have any, for picking one at random in O(1).
private struct OpenDocuments {
    struct Document {
        let id: Int64
        var due: Int64
    }

    private(set) var byParty: [Int64: [Document]] = [:]
    private var parties: [Int64] = []
    private var position: [Int64: Int] = [:]

    mutating func add(_ document: Document, party: Int64) {
        if byParty[party, default: []].isEmpty {
            position[party] = parties.count
            parties.append(party)
        }
        byParty[party, default: []].append(document)
    }

    func randomParty(_ random: inout SplitMix64) -> Int64? {
        parties.isEmpty ? nil : parties[random.int(0...(parties.count - 1))]
    }

    /// Replaces the open documents of `party` (paid ones removed by the caller).
    mutating func set(_ documents: [Document], party: Int64) {
        if documents.isEmpty {
            byParty[party] = nil
            if let index = position.removeValue(forKey: party) {
                let last = parties.removeLast()
                if index < parties.count {
                    parties[index] = last
                    position[last] = index
                }
            }
        } else {
            byParty[party] = documents
        }
    }
}

/// One split of the transaction being built.
private struct PendingSplit {
    let account: Int64
    let amount: Int64
    let party: Int64?
    let memo: String?
}

/// How a checking-account line shows in the bank feed.
private enum FeedPlan {
    case usual, added, none
}

/// The state of one generation run. See `SampleCompany`.
struct SampleGenerator {
    private let db: Database
    private let options: SampleOptions
    private let progress: ((Int, Int) -> Void)?
    private var random: SplitMix64

    private let insertTransaction: BulkStatement
    private let insertSplit: BulkStatement
    private let insertDocument: BulkStatement
    private let insertLine: BulkStatement
    private let insertApplication: BulkStatement
    private let reduceBalanceDue: BulkStatement
    private let insertFeed: BulkStatement
    private let insertReconciliation: BulkStatement
    private let finishReconciliation: BulkStatement

    private let accountID: [String: Int64]
    private let checking: Int64, savings: Int64, receivable: Int64, undeposited: Int64
    private let payable: Int64, creditCard: Int64, openingEquity: Int64
    private let payrollAccounts: [Int64]
    private let expenseAccounts: [Int64]
    private var accountBalance: [Int64]

    private var customers: [Int64] = []
    private var vendors: [Int64] = []
    private var employees: [Int64] = []
    private var partyName: [Int64: String] = [:]
    private var partyBalance: [Int64: Int64] = [:]

    private struct Item {
        let id: Int64
        let name: String
        let unitPrice: Int64
        let incomeAccount: Int64?
        let expenseAccount: Int64?
    }
    private var saleItems: [Item] = []
    private var purchaseItems: [Item] = []

    private var nextTransactionID: Int64 = 1
    private var pending: [PendingSplit] = []
    private var openInvoices = OpenDocuments()
    private var openBills = OpenDocuments()
    private var invoiceNumber = 1000
    private var checkNumber = 4000
    private var feedCounter = 0
    private var splitCount = 0
    private var feedCount = 0

    private var today: CivilDate
    private var todayText: String
    /// Months since the first day's month; the last month of the books is not reconciled yet.
    private var currentMonth = 0
    private let lastReconciledMonth: Int
    private var reconciliationID: [Int64] = []
    private var reconciliationSum: [Int64] = []
    private var reconciledThrough = -1
    private var reconciledEnding: Int64 = 0

    init(db: Database, options: SampleOptions, progress: ((Int, Int) -> Void)?) throws {
        self.db = db
        self.options = options
        self.progress = progress
        random = SplitMix64(seed: options.seed)
        today = options.firstDay
        todayText = options.firstDay.description
        lastReconciledMonth = SampleGenerator.month(of: options.lastDay, from: options.firstDay) - 1

        insertTransaction = try BulkStatement(
            db,
            sql: """
                INSERT INTO transactions (id, kind, date, number, party_id, memo, created_at, modified_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        insertSplit = try BulkStatement(
            db,
            sql: """
                INSERT INTO splits (transaction_id, account_id, party_id, amount, memo, cleared, reconciliation_id)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        insertDocument = try BulkStatement(
            db,
            sql: """
                INSERT INTO documents (transaction_id, due_date, total, balance_due) VALUES (?, ?, ?, ?)
                """)
        insertLine = try BulkStatement(
            db,
            sql: """
                INSERT INTO document_lines (transaction_id, item_id, description, amount) VALUES (?, ?, ?, ?)
                """)
        insertApplication = try BulkStatement(
            db,
            sql: """
                INSERT INTO applications (payment_id, document_id, amount) VALUES (?, ?, ?)
                """)
        reduceBalanceDue = try BulkStatement(
            db,
            sql: """
                UPDATE documents SET balance_due = balance_due - ? WHERE transaction_id = ?
                """)
        insertFeed = try BulkStatement(
            db,
            sql: """
                INSERT INTO bank_feed (account_id, fitid, posted_date, amount, payee, memo, status, transaction_id, downloaded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        insertReconciliation = try BulkStatement(
            db,
            sql: """
                INSERT INTO reconciliations (account_id, statement_date, beginning_balance, ending_balance, reconciled_at)
                VALUES (?, ?, 0, 0, ?)
                """)
        finishReconciliation = try BulkStatement(
            db,
            sql: """
                UPDATE reconciliations SET beginning_balance = ?, ending_balance = ? WHERE id = ?
                """)

        let ids = try CompanyFile.insertChart(DefaultChart.entries, in: db)
        accountID = ids
        checking = try Self.account("1000", in: ids)
        savings = try Self.account("1010", in: ids)
        receivable = try Self.account("1200", in: ids)
        undeposited = try Self.account("1300", in: ids)
        payable = try Self.account("2000", in: ids)
        creditCard = try Self.account("2100", in: ids)
        openingEquity = try Self.account("3000", in: ids)
        payrollAccounts = try ["2210", "2220", "2230"].map { try Self.account($0, in: ids) }
        let expenseNumbers = [
            "6000", "6110", "6120", "6310", "6320", "6400",
            "6600", "6700", "6800", "6850", "6950", "5100",
        ]
        expenseAccounts = try expenseNumbers.map { try Self.account($0, in: ids) }
        guard let highestAccount = ids.values.max() else { throw Self.broken("the accounts of its chart") }
        accountBalance = Array(repeating: 0, count: Int(highestAccount) + 1)

        try insertParties()
        try insertItems()
    }

    // MARK: Names lists

    private mutating func insertParties() throws {
        let count = options.transactions
        let statement = try db.makeStatement(sql: "INSERT INTO parties (kind, name) VALUES (?, ?)")
        func add(_ kind: PartyKind, _ name: String) throws -> Int64 {
            try statement.execute(arguments: [kind.rawValue, name])
            let id = db.lastInsertedRowID
            partyName[id] = name
            return id
        }
        for index in 0..<max(8, count / 60) { customers.append(try add(.customer, SampleNames.customer(index))) }
        for index in 0..<max(5, count / 400) { vendors.append(try add(.vendor, SampleNames.vendor(index))) }
        for index in 0..<min(24, max(2, count / 20_000 + 2)) {
            employees.append(try add(.employee, SampleNames.employee(index)))
        }
        _ = try add(.other, "State Department of Revenue")
    }

    private mutating func insertItems() throws {
        let statement = try db.makeStatement(
            sql: """
                INSERT INTO items (name, income_account_id, expense_account_id, unit_price) VALUES (?, ?, ?, ?)
                """)
        for item in SampleNames.items {
            let income = try item.incomeAccount.map { try account($0) }
            let expense = try item.expenseAccount.map { try account($0) }
            try statement.execute(arguments: [item.name, income, expense, item.unitPrice])
            let made = Item(
                id: db.lastInsertedRowID, name: item.name, unitPrice: item.unitPrice,
                incomeAccount: income, expenseAccount: expense)
            if income != nil { saleItems.append(made) }
            if expense != nil { purchaseItems.append(made) }
        }
    }

    /// The id of account `number` of the sample's fixed chart.
    private func account(_ number: String) throws -> Int64 {
        try Self.account(number, in: accountID)
    }

    /// The id of account `number` in `ids`, the chart as inserted.
    private static func account(_ number: String, in ids: [String: Int64]) throws -> Int64 {
        guard let id = ids[number] else { throw broken("account \(number) of its chart") }
        return id
    }

    /// The error for bookkeeping the generator relies on and lost: a bug in the generator.
    private static func broken(_ what: String) -> CompanyFileError {
        .invalidCompany(reason: "The sample generator lost \(what).")
    }

    // MARK: The run

    mutating func run() throws -> SampleSummary {
        let total = options.transactions
        let days = options.lastDay - options.firstDay + 1
        try openingBalances()
        for index in 1..<total {
            try setDay(options.firstDay + (index * days) / total)
            try makeTransaction()
            if index % 8192 == 0 { progress?(index, total) }
        }
        try finishReconciliations(through: reconciliationID.count - 1)
        try storeCachedBalances()
        progress?(total, total)
        return SampleSummary(
            transactions: Int(nextTransactionID - 1), splits: splitCount,
            customers: customers.count, vendors: vendors.count,
            reconciliations: reconciliationID.count, feedLines: feedCount)
    }

    private mutating func setDay(_ day: CivilDate) throws {
        guard day != today else { return }
        today = day
        todayText = day.description
        let month = SampleGenerator.month(of: day, from: options.firstDay)
        if month != currentMonth {
            currentMonth = month
            // Splits of an earlier month can land on this month's statement, never
            // on an older one: every statement before the previous one is final.
            try finishReconciliations(through: min(month - 2, reconciliationID.count - 1))
        }
    }

    private static func month(of day: CivilDate, from first: CivilDate) -> Int {
        let (y0, m0, _) = first.components
        let (y, m, _) = day.components
        return (y - y0) * 12 + (m - m0)
    }

    private mutating func makeTransaction() throws {
        let roll = random.int(0...99)
        switch roll {
        case 0..<24: try invoice()
        case 24..<44: try payment()
        case 44..<55: try bill()
        case 55..<64: try billPayment()
        case 64..<78: try check()
        case 78..<88: try creditCardCharge()
        case 88..<92: try transfer()
        case 92..<98: try deposit()
        default: try journal()
        }
    }

    // MARK: Kinds

    private mutating func openingBalances() throws {
        let cash: Int64 = 4_500_000
        let reserve: Int64 = 12_000_000
        let equipment: Int64 = 1_850_000
        add(checking, cash)
        add(savings, reserve)
        try add(account("1500"), equipment)
        add(openingEquity, -(cash + reserve + equipment))
        try post(.journal, memo: "Opening balances", feed: .none)
    }

    private mutating func invoice() throws {
        let customer = customers[min(random.int(0...(customers.count - 1)), random.int(0...(customers.count - 1)))]
        var lines: [(Item, String, Int64)] = []
        for _ in 0..<random.int(1...5) {
            let item = random.pick(saleItems)
            let quantity = Int64(random.int(1...(item.unitPrice < 10_000 ? 12 : 3)))
            lines.append((item, quantity == 1 ? item.name : "\(item.name) × \(quantity)", item.unitPrice * quantity))
        }
        let total = lines.reduce(0) { $0 + $1.2 }
        add(receivable, total, party: customer)
        for (item, description, amount) in lines {
            guard let income = item.incomeAccount else { throw Self.broken("the income account of \(item.name)") }
            add(income, -amount, memo: description)
        }
        invoiceNumber += 1
        let id = try post(.invoice, number: String(invoiceNumber), party: customer, feed: .none)
        try insertDocument.run(id, (today + 30).description, total, total)
        for (item, description, amount) in lines { try insertLine.run(id, item.id, description, amount) }
        // A few invoices are never paid: the bad debts every business has.
        if !random.chance(3) { openInvoices.add(.init(id: id, due: total), party: customer) }
    }

    private mutating func payment() throws {
        guard let customer = openInvoices.randomParty(&random) else { return try invoice() }
        guard let open = openInvoices.byParty[customer]?.count else { throw Self.broken("a customer's invoices") }
        let count = random.chance(25) ? random.int(1...min(3, open)) : 1
        let applied = try Self.settle(&openInvoices, party: customer, count: count, inFull: 88, random: &random)
        var amount = applied.reduce(0) { $0 + $1.1 }
        if random.chance(4) { amount += random.cents(500...25_000) }  // paid more than billed: a credit
        let intoChecking = random.chance(30)
        add(intoChecking ? checking : undeposited, amount)
        add(receivable, -amount, party: customer)
        let id = try post(
            .payment, number: String(random.int(1001...9999)), party: customer,
            feed: intoChecking ? .usual : .none)
        try writeApplications(applied, payment: id)
    }

    /// Pays the `count` oldest open documents of `party`, each in full with
    /// probability `inFull` percent, else in part; returns (document, amount) pairs.
    private static func settle(
        _ documents: inout OpenDocuments, party: Int64, count: Int, inFull: Int,
        random: inout SplitMix64
    ) throws -> [(Int64, Int64)] {
        guard var open = documents.byParty[party] else { throw broken("the open documents of a party") }
        var applied: [(Int64, Int64)] = []
        for index in 0..<count {
            let due = open[index].due
            let amount = random.chance(inFull) || due < 200 ? due : random.cents(100...(due - 1))
            applied.append((open[index].id, amount))
            open[index].due -= amount
        }
        documents.set(open.filter { $0.due > 0 }, party: party)
        return applied
    }

    private func writeApplications(_ applied: [(Int64, Int64)], payment: Int64) throws {
        for (document, part) in applied {
            try insertApplication.run(payment, document, part)
            try reduceBalanceDue.run(part, document)
        }
    }

    private mutating func bill() throws {
        let vendor = vendors[min(random.int(0...(vendors.count - 1)), random.int(0...(vendors.count - 1)))]
        var lines: [(Int64?, Int64, String, Int64)] = []
        for _ in 0..<random.int(1...3) {
            if random.chance(40) {
                let item = random.pick(purchaseItems)
                let quantity = Int64(random.int(1...10))
                let cost = item.unitPrice * quantity * 6 / 10
                guard let expense = item.expenseAccount else {
                    throw Self.broken("the expense account of \(item.name)")
                }
                lines.append((item.id, expense, "\(item.name) × \(quantity)", cost))
            } else {
                let account = random.pick(expenseAccounts)
                lines.append((nil, account, "Services and supplies", random.cents(2_500...120_000)))
            }
        }
        let total = lines.reduce(0) { $0 + $1.3 }
        add(payable, -total, party: vendor)
        for (_, account, description, amount) in lines { add(account, amount, memo: description) }
        let id = try post(.bill, number: "B-" + String(random.int(10_000...99_999)), party: vendor, feed: .none)
        try insertDocument.run(id, (today + 30).description, total, total)
        for (item, _, description, amount) in lines { try insertLine.run(id, item, description, amount) }
        if !random.chance(2) { openBills.add(.init(id: id, due: total), party: vendor) }
    }

    private mutating func billPayment() throws {
        guard let vendor = openBills.randomParty(&random) else { return try bill() }
        guard let open = openBills.byParty[vendor]?.count else { throw Self.broken("a vendor's bills") }
        let count = random.chance(20) ? min(2, open) : 1
        let applied = try Self.settle(&openBills, party: vendor, count: count, inFull: 92, random: &random)
        let amount = applied.reduce(0) { $0 + $1.1 }
        add(payable, amount, party: vendor)
        add(checking, -amount)
        checkNumber += 1
        let id = try post(.billPayment, number: String(checkNumber), party: vendor, feed: .usual)
        try writeApplications(applied, payment: id)
    }

    private mutating func check() throws {
        let roll = random.int(0...99)
        let withheld = payrollAccounts.reduce(0) { $0 + accountBalance[Int($1)] }
        if roll < 20 {
            let gross = random.cents(150_000...450_000)
            let federal = gross * 12 / 100
            let state = gross * 4 / 100
            let social = gross * 765 / 10_000
            try add(account("6510"), gross, memo: "Gross wages")
            add(payrollAccounts[0], -federal)
            add(payrollAccounts[1], -state)
            add(payrollAccounts[2], -social)
            add(checking, -(gross - federal - state - social), memo: "Net pay")
            checkNumber += 1
            try post(.check, number: String(checkNumber), party: random.pick(employees), memo: "Payroll", feed: .usual)
        } else if roll < 30 && withheld < 0 {
            for account in payrollAccounts where accountBalance[Int(account)] != 0 {
                add(account, -accountBalance[Int(account)])
            }
            add(checking, withheld)
            try post(.check, number: "EFTPS", memo: "Payroll tax deposit", feed: .usual)
        } else if roll < 38 {
            let fee = random.cents(1_500...4_500)
            try add(account("6200"), fee)
            add(checking, -fee)
            try post(.check, memo: "Monthly service fee", feed: .added)
        } else {
            var total: Int64 = 0
            for _ in 0..<random.int(1...2) {
                let amount = random.cents(1_000...60_000)
                add(random.pick(expenseAccounts), amount)
                total += amount
            }
            add(checking, -total)
            checkNumber += 1
            try post(.check, number: String(checkNumber), party: random.pick(vendors), feed: .usual)
        }
    }

    private mutating func creditCardCharge() throws {
        let amount = random.cents(599...95_000)
        add(random.pick(expenseAccounts), amount)
        add(creditCard, -amount)
        try post(.creditCardCharge, party: random.pick(vendors), feed: .none)
    }

    private mutating func transfer() throws {
        let owedOnCard = -accountBalance[Int(creditCard)]
        if owedOnCard > 50_000 && random.chance(60) {
            add(creditCard, owedOnCard)
            add(checking, -owedOnCard)
            try post(.transfer, memo: "Credit card payment", feed: .usual)
        } else {
            let amount = random.cents(1_000...20_000) * 100
            let toSavings = accountBalance[Int(savings)] < amount || random.chance(50)
            add(savings, toSavings ? amount : -amount)
            add(checking, toSavings ? -amount : amount)
            try post(.transfer, memo: toSavings ? "To savings" : "From savings", feed: .usual)
        }
    }

    private mutating func deposit() throws {
        let waiting = accountBalance[Int(undeposited)]
        if waiting > 0 {
            add(checking, waiting)
            add(undeposited, -waiting)
            try post(.deposit, memo: "Deposit of customer payments", feed: .usual)
        } else {
            let interest = random.cents(150...9_000)
            add(checking, interest)
            try add(account("7000"), -interest)
            try post(.deposit, memo: "Interest", feed: .usual)
        }
    }

    private mutating func journal() throws {
        let roll = random.int(0...99)
        if roll < 50 {
            let amount = random.cents(20_000...90_000)
            try add(account("6900"), amount)
            try add(account("1590"), -amount)
            try post(.journal, memo: "Monthly depreciation", feed: .none)
        } else if roll < 75 {
            let amount = random.cents(50_000...400_000)
            try add(account("3120"), amount)
            add(checking, -amount)
            try post(.journal, memo: "Owner's draw", feed: .usual)
        } else {
            let amount = random.cents(500...50_000)
            let from = random.pick(expenseAccounts)
            var to = random.pick(expenseAccounts)
            if to == from { to = try account("6400") == from ? account("6600") : account("6400") }
            add(to, amount)
            add(from, -amount)
            try post(.journal, memo: "Reclassification", feed: .none)
        }
    }

    // MARK: Writing

    private mutating func add(_ account: Int64, _ amount: Int64, party: Int64? = nil, memo: String? = nil) {
        pending.append(PendingSplit(account: account, amount: amount, party: party, memo: memo))
    }

    /// Writes the transaction made of the pending splits, with its checking
    /// account's reconciliation and feed line, and returns its id.
    @discardableResult
    private mutating func post(
        _ kind: TransactionKind, number: String? = nil, party: Int64? = nil,
        memo: String? = nil, feed: FeedPlan
    ) throws -> Int64 {
        let id = nextTransactionID
        nextTransactionID += 1
        let created = todayText + Timestamp.timeOfDay(random.int(8 * 3600...18 * 3600))
        let modified =
            random.chance(5)
            ? Timestamp.string(day: today + random.int(1...20), secondOfDay: random.int(8 * 3600...18 * 3600))
            : created
        try insertTransaction.run(id, kind.rawValue, todayText, number, party, memo, created, modified)

        var bankAmount: Int64 = 0
        for split in pending {
            var cleared = "n"
            var reconciliation: Int64?
            if split.account == checking {
                bankAmount += split.amount
                (cleared, reconciliation) = try reconcile(split.amount)
            }
            try insertSplit.run(
                id, split.account, split.party, split.amount, split.memo,
                cleared, reconciliation)
            accountBalance[Int(split.account)] += split.amount
            if let party = split.party { partyBalance[party, default: 0] += split.amount }
        }
        splitCount += pending.count
        pending.removeAll(keepingCapacity: true)
        if bankAmount != 0 && feed != .none {
            try feedLine(for: id, amount: bankAmount, payee: party.flatMap { partyName[$0] } ?? memo, plan: feed)
        }
        return id
    }

    /// Chooses the statement that clears a checking split: this month's, or for a
    /// late-month item sometimes next month's; the current month is not reconciled.
    private mutating func reconcile(_ amount: Int64) throws -> (String, Int64?) {
        var month = currentMonth
        guard month <= lastReconciledMonth else { return (random.chance(50) ? "c" : "n", nil) }
        if today.components.day >= 26 && month < lastReconciledMonth && random.chance(40) { month += 1 }
        while reconciliationID.count <= month {
            let statementDate = options.firstDay.monthEnd(adding: reconciliationID.count)
            try insertReconciliation.run(
                checking, statementDate.description, Timestamp.string(day: statementDate + 6, secondOfDay: 10 * 3600),
            )
            reconciliationID.append(db.lastInsertedRowID)
            reconciliationSum.append(0)
        }
        reconciliationSum[month] += amount
        return ("r", reconciliationID[month])
    }

    /// Writes the beginning and ending balances of every statement up to `month`.
    private mutating func finishReconciliations(through month: Int) throws {
        guard month > reconciledThrough else { return }
        for index in (reconciledThrough + 1)...month {
            let ending = reconciledEnding + reconciliationSum[index]
            try finishReconciliation.run(reconciledEnding, ending, reconciliationID[index])
            reconciledEnding = ending
        }
        reconciledThrough = month
    }

    private mutating func feedLine(for transaction: Int64, amount: Int64, payee: String?, plan: FeedPlan) throws {
        let roll = random.int(0...99)
        let status: String
        switch plan {
        case .added: status = "added"
        case .none: return
        case .usual:
            if roll >= 96 { return }  // not downloaded: some banks skip lines
            status = roll < 92 ? "matched" : "new"
        }
        try writeFeed(amount: amount, payee: payee, status: status, transaction: status == "new" ? nil : transaction)
        // Now and then the bank sends a pending copy that the bookkeeper excluded.
        if random.chance(1) { try writeFeed(amount: amount, payee: payee, status: "excluded", transaction: nil) }
    }

    private mutating func writeFeed(amount: Int64, payee: String?, status: String, transaction: Int64?) throws {
        feedCounter += 1
        let posted = today + random.int(0...3)
        let fitid =
            String(posted.components.year * 10_000 + posted.components.month * 100 + posted.components.day)
            + String(100_000 + feedCounter)
        try insertFeed.run(
            checking, fitid, posted.description, amount, payee, nil as String?, status, transaction,
            Timestamp.string(day: posted + 1, secondOfDay: 6 * 3600),
        )
        feedCount += 1
    }

    private func storeCachedBalances() throws {
        let accounts = try db.makeStatement(sql: "UPDATE accounts SET balance = ? WHERE id = ?")
        for (id, balance) in accountBalance.enumerated() where balance != 0 {
            try accounts.execute(arguments: [balance, id])
        }
        let parties = try db.makeStatement(sql: "UPDATE parties SET balance = ? WHERE id = ?")
        for (id, balance) in partyBalance.sorted(by: { $0.key < $1.key }) where balance != 0 {
            try parties.execute(arguments: [balance, id])
        }
    }
}

extension CivilDate {
    /// The last day of the month `months` after this day's month.
    func monthEnd(adding months: Int) -> CivilDate {
        let (year, month, _) = components
        let index = year * 12 + (month - 1) + months
        return CivilDate(dayNumber: CivilDate.dayNumber(year: index / 12, month: index % 12 + 1, day: 1)).endOfMonth
    }
}
