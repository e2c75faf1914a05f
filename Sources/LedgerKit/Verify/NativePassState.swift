import GRDB

private let transactionKinds = Vocabulary(TransactionKind.allCases.map(\.rawValue))

/// The code the pass keeps for a kind: its place in `TransactionKind.allCases`
/// plus one; 0 is a kind that is none of them.
private func code(of kind: TransactionKind) -> UInt8 {
    UInt8((TransactionKind.allCases.firstIndex(of: kind) ?? -1) + 1)
}

private let kindInvoice = code(of: .invoice)
private let kindBill = code(of: .bill)
private let kindPayment = code(of: .payment)
private let kindBillPayment = code(of: .billPayment)

/// The pass over one file, and the records of rows it keeps.
extension NativePass {
    /// What the pass keeps about a transaction's row.
    struct TransactionFlags: OptionSet {
        let rawValue: UInt8
        static let rowIsFine = TransactionFlags(rawValue: 1)
        static let hasDocument = TransactionFlags(rawValue: 2)
        static let partyIsNull = TransactionFlags(rawValue: 4)
        /// party_id is neither NULL nor an integer that fits the party array.
        static let partyIsOdd = TransactionFlags(rawValue: 8)
        static let hasApplications = TransactionFlags(rawValue: 16)
        static let hasSplits = TransactionFlags(rawValue: 32)
        /// A matched or added feed line names it: the splits look for their feed lines.
        static let hasFeedLines = TransactionFlags(rawValue: 64)
    }

    /// A reconciliation's row, as the pass keeps it.
    struct StatementRow {
        let id: Int64
        let account: Int64?
        /// YYYYMMDD, nil when the date is not canonical.
        let date: Int32?
        let beginning: Int64?
        let ending: Int64?
    }

    /// A matched or added bank feed line, which the splits of its transaction in
    /// its account must add up to. The lines are sorted by transaction, and a
    /// split finds its transaction's by binary search.
    struct MatchedFeedLine {
        let id: Int64
        /// The line's amount less the splits' so far: 0 at the end when they agree.
        var unbooked: CompactSum
        let account: Int32
        /// The slot of its transaction.
        let transaction: Int32
    }

    /// The sums an invoice's or a bill's checks read: its receivable or payable
    /// postings, the payments applied to it and its lines.
    struct DocumentSums {
        var receivablePayable: Int64 = 0
        var applied = CompactSum()
        var lines = CompactSum()
    }

    /// The sums a payment's check reads: its receivable or payable postings and
    /// what it is applied for.
    struct PaymentSums {
        var receivablePayable: Int64 = 0
        var applied = CompactSum()
    }

    /// The pass over one file: its arrays, filled table by table.
    struct State {
        var accounts: Slots, parties: Slots, items: Slots, reconciliations: Slots, transactions: Slots

        var accountFine: [Bool], accountBalance: [Int64?], accountIsReceivablePayable: [Bool], accountSum: [Sum]
        var partyFine: [Bool], partyBalance: [Int64?], partySum: [Sum]
        var statements: [StatementRow?], statementSum: [Sum]
        /// The day of the transaction's date as `CanonicalTime.day` gives it (0: not canonical).
        var kind: [UInt8], flags: [TransactionFlags], date: [UInt16], party: [Int32]
        var splitSum: [CompactSum]
        /// Every split's amount within the limit, summed (`Suspects.splitTotal`).
        var splitTotal: Int64 = 0
        /// Splits whose account is not a row of `accounts`: the sums by account then miss them.
        var splitsWithoutAccount = 0
        /// For an invoice, bill, payment or bill payment, the place of its sums in
        /// `documentSums` or `paymentSums` (its kind says which); else -1. Only
        /// these kinds' sums are read, so only they have them.
        var sums: [Int32]
        var documentSums: [DocumentSums] = [], paymentSums: [PaymentSums] = []
        var feedLines: [MatchedFeedLine] = []

        var suspectRows: [String: [Int64]] = [:]
        /// Where the rows' sides of the index check go, when the structure check waits for them.
        let sides: RowSides?
        /// The sum of every amount's absolute value: while it fits an Int64, no sum
        /// of the checks, in any order, can overflow.
        var absoluteTotal: Int64 = 0

        init(_ db: Database, sides: RowSides?) throws {
            self.sides = sides
            accounts = try Slots(db, table: "accounts")
            parties = try Slots(db, table: "parties")
            items = try Slots(db, table: "items")
            reconciliations = try Slots(db, table: "reconciliations")
            transactions = try Slots(db, table: "transactions")
            let a = accounts.capacity
            let p = parties.capacity
            let t = transactions.capacity
            accountFine = Array(repeating: false, count: a)
            accountBalance = Array(repeating: nil, count: a)
            accountIsReceivablePayable = Array(repeating: false, count: a)
            accountSum = Array(repeating: Sum(), count: a)
            partyFine = Array(repeating: false, count: p)
            partyBalance = Array(repeating: nil, count: p)
            partySum = Array(repeating: Sum(), count: p)
            statements = Array(repeating: nil, count: reconciliations.capacity)
            statementSum = Array(repeating: Sum(), count: reconciliations.capacity)
            kind = Array(repeating: 0, count: t)
            flags = Array(repeating: [], count: t)
            date = Array(repeating: 0, count: t)
            party = Array(repeating: 0, count: t)
            splitSum = Array(repeating: CompactSum(), count: t)
            sums = Array(repeating: -1, count: t)
        }

        /// Reads the tables in the order their sums are needed, letting go of
        /// each array once no table left needs it, so that the splits, the biggest
        /// table, are read with the least memory held.
        mutating func run(_ db: Database) throws {
            try readAccounts(db)
            try readParties(db)
            try readItems(db)
            try readReconciliations(db)
            try readTransactions(db)
            try readDocumentLines(db)
            try readApplications(db)
            party = []
            try readBankFeed(db)
            try readSplits(db)
            date = []
            try readDocuments(db)
        }

        /// `columns` of `table`, then the rowid, in rowid order; with the rows'
        /// side of the index check when the structure check waits for it.
        /// The table itself is read (NOT INDEXED): the side must come from the
        /// rows, never from an index it is to be compared with.
        private func select(
            _ db: Database, _ columns: [String], from table: String, side: inout IndexAgreement.TableSide?
        ) throws -> RawRows {
            let rows = try RawRows(
                db, sql: "SELECT \(columns.joined(separator: ", ")), rowid FROM \(table) NOT INDEXED ORDER BY rowid")
            side = sides == nil ? nil : IndexAgreement.TableSide(db, table: table, columns: columns)
            return rows
        }

        /// Steps `rows`, adding each row to `side`; after the last, hands
        /// `side` (nil when it could not be summed) to the structure check.
        private func more(_ rows: RawRows, _ side: inout IndexAgreement.TableSide?, of table: String) throws -> Bool {
            guard try rows.next() else {
                sides?.hand(table, side)
                return false
            }
            side?.add(rows)
            return true
        }

        private func isDocument(_ slot: Int) -> Bool { kind[slot] == kindInvoice || kind[slot] == kindBill }
        private func isPayment(_ slot: Int) -> Bool { kind[slot] == kindPayment || kind[slot] == kindBillPayment }

        private mutating func count(_ amount: Amount) throws {
            guard let cents = amount.cents else { return }
            let (sum, overflow) = absoluteTotal.addingReportingOverflow(abs(cents))
            guard !overflow else { throw NativePass.Abandoned() }
            absoluteTotal = sum
        }

        private mutating func suspect(_ table: String, _ id: Int64) {
            suspectRows[table, default: []].append(id)
        }

        // MARK: The tables

        private mutating func readAccounts(_ db: Database) throws {
            let types = Vocabulary(ValueRule.accountTypes)
            let receivable = ValueRule.accountTypes.firstIndex(of: AccountType.accountsReceivable.rawValue)
            let payable = ValueRule.accountTypes.firstIndex(of: AccountType.accountsPayable.rawValue)
            let rows = try RawRows(
                db,
                sql: """
                    SELECT id, parent_id, name, type, is_active, balance FROM accounts ORDER BY rowid
                    """)
            var parents: [(slot: Int, parent: Int64?)] = []
            while try rows.next() {
                guard let id = rows.integer(0) else { throw NativePass.Abandoned() }
                let slot = try accounts.add(id)
                let type = types.index(of: rows.text(3))
                let active = rows.integer(4)
                let balance = Amount(rows, 5).cents
                accountFine[slot] = !rows.isNull(2) && type != nil && (active == 0 || active == 1) && balance != nil
                if !rows.isNull(1) { parents.append((slot, rows.integer(1))) }
                accountBalance[slot] = balance
                accountIsReceivablePayable[slot] = type != nil && (type == receivable || type == payable)
            }
            // A parent is judged once every account has its slot.
            for (slot, parent) in parents where accounts.slot(parent) == nil {
                accountFine[slot] = false
            }
        }

        private mutating func readParties(_ db: Database) throws {
            let kinds = Vocabulary(PartyKind.allCases.map(\.rawValue))
            var side: IndexAgreement.TableSide?
            let rows = try select(db, ["id", "kind", "name", "is_active", "balance"], from: "parties", side: &side)
            while try more(rows, &side, of: "parties") {
                guard let id = rows.integer(0) else { throw NativePass.Abandoned() }
                let slot = try parties.add(id)
                let active = rows.integer(3)
                let balance = Amount(rows, 4).cents
                partyFine[slot] =
                    kinds.index(of: rows.text(1)) != nil && !rows.isNull(2)
                    && (active == 0 || active == 1)
                    && balance != nil
                partyBalance[slot] = balance
            }
        }

        private mutating func readItems(_ db: Database) throws {
            let rows = try RawRows(db, sql: "SELECT id FROM items ORDER BY rowid")
            while try rows.next() {
                guard let id = rows.integer(0) else { throw NativePass.Abandoned() }
                _ = try items.add(id)
            }
        }

        private mutating func readReconciliations(_ db: Database) throws {
            var side: IndexAgreement.TableSide?
            let rows = try select(
                db, ["id", "account_id", "statement_date", "beginning_balance", "ending_balance"],
                from: "reconciliations", side: &side)
            while try more(rows, &side, of: "reconciliations") {
                guard let id = rows.integer(0) else { throw NativePass.Abandoned() }
                let slot = try reconciliations.add(id)
                statements[slot] = StatementRow(
                    id: id, account: rows.integer(1),
                    date: CanonicalTime.date(rows.text(2)),
                    beginning: Amount(rows, 3).cents, ending: Amount(rows, 4).cents)
            }
        }

        private mutating func readTransactions(_ db: Database) throws {
            var documentCount = 0
            var paymentCount = 0
            var side: IndexAgreement.TableSide?
            let rows = try select(
                db, ["id", "kind", "date", "party_id", "created_at", "modified_at"], from: "transactions", side: &side)
            while try more(rows, &side, of: "transactions") {
                guard let id = rows.integer(0) else { throw NativePass.Abandoned() }
                let slot = try transactions.add(id)
                let code = transactionKinds.index(of: rows.text(1)).map { UInt8($0 + 1) } ?? 0
                kind[slot] = code
                if code == kindInvoice || code == kindBill {
                    guard let place = Int32(exactly: documentCount) else { throw NativePass.Abandoned() }
                    sums[slot] = place
                    documentCount += 1
                } else if code == kindPayment || code == kindBillPayment {
                    guard let place = Int32(exactly: paymentCount) else { throw NativePass.Abandoned() }
                    sums[slot] = place
                    paymentCount += 1
                } else {
                    // A damaged b-tree can give one id twice, an invoice and then a journal:
                    // the second kind's place (none) is the one that holds.
                    sums[slot] = -1
                }
                let day = CanonicalTime.date(rows.text(2))
                date[slot] = day.map(CanonicalTime.day) ?? 0
                var mark: TransactionFlags = []
                if rows.isNull(3) {
                    mark.insert(.partyIsNull)
                } else if let partyID = rows.integer(3), let small = Int32(exactly: partyID),
                    parties.slot(partyID) != nil
                {
                    party[slot] = small
                } else {
                    mark.insert(.partyIsOdd)
                }
                let created = rows.text(4)
                let modified = rows.text(5)
                var modifiedIsFine = CanonicalTime.isTimestamp(modified)
                if let created, let modified, created.elementsEqual(modified) { modifiedIsFine = true }
                if code != 0, day != nil, !mark.contains(.partyIsOdd), CanonicalTime.isTimestamp(created),
                    modifiedIsFine
                {
                    mark.insert(.rowIsFine)
                }
                flags[slot] = mark
            }
            // Made once counted, so that no array doubles its memory as it grows.
            documentSums = Array(repeating: DocumentSums(), count: documentCount)
            paymentSums = Array(repeating: PaymentSums(), count: paymentCount)
        }

        private mutating func readBankFeed(_ db: Database) throws {
            let statuses = Vocabulary(["new", "matched", "added", "excluded"])
            feedLines.reserveCapacity(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bank_feed") ?? 0)
            var side: IndexAgreement.TableSide?
            let rows = try select(
                db,
                ["id", "account_id", "fitid", "posted_date", "amount", "status", "transaction_id", "downloaded_at"],
                from: "bank_feed", side: &side)
            while try more(rows, &side, of: "bank_feed") {
                guard let id = rows.integer(0) else { throw NativePass.Abandoned() }
                let account = rows.integer(1)
                let amount = Amount(rows, 4)
                try count(amount)
                let linked = transactions.slot(rows.integer(6))
                var fine =
                    accounts.slot(account) != nil && !rows.isNull(2) && CanonicalTime.date(rows.text(3)) != nil
                    && amount.cents != nil && CanonicalTime.isTimestamp(rows.text(7))
                switch statuses.index(of: rows.text(5)) {
                case 0, 3: fine = fine && rows.isNull(6)  // new, excluded: linked to nothing
                case 1, 2: fine = fine && linked != nil  // matched, added: to a transaction
                default: fine = false
                }
                if !fine {
                    suspect("bank_feed", id)
                } else if let account, let cents = amount.cents, let linked {
                    guard let small = Int32(exactly: account), let slot = Int32(exactly: linked) else {
                        throw NativePass.Abandoned()
                    }
                    feedLines.append(
                        MatchedFeedLine(
                            id: id, unbooked: CompactSum(cents), account: small,
                            transaction: slot))
                    flags[linked].insert(.hasFeedLines)
                }
            }
            feedLines.sort { ($0.transaction, $0.id) < ($1.transaction, $1.id) }
        }

        /// The first of the matched feed lines of the transaction in `slot`, if any.
        private func firstFeedLine(of slot: Int) -> Int? {
            var low = 0
            var high = feedLines.count
            while low < high {
                let middle = (low + high) / 2
                if Int(feedLines[middle].transaction) < slot { low = middle + 1 } else { high = middle }
            }
            return low < feedLines.count && Int(feedLines[low].transaction) == slot ? low : nil
        }

        private mutating func readSplits(_ db: Database) throws {
            let cleared = Vocabulary(["n", "c", "r"])
            let reconciled = 2
            var side: IndexAgreement.TableSide?
            let rows = try select(
                db, ["id", "transaction_id", "account_id", "party_id", "amount", "cleared", "reconciliation_id"],
                from: "splits", side: &side)
            while try more(rows, &side, of: "splits") {
                guard let id = rows.integer(0) else { throw NativePass.Abandoned() }
                let account = rows.integer(2)
                let amount = Amount(rows, 4)
                try count(amount)
                if let cents = amount.cents { splitTotal += cents }
                let t = transactions.slot(rows.integer(1))
                let a = accounts.slot(account)
                let partyIsNull = rows.isNull(3)
                let p = parties.slot(rows.integer(3))
                let mark = cleared.index(of: rows.text(5))
                let r = reconciliations.slot(rows.integer(6))

                var fine = t != nil && a != nil && amount.cents != nil && mark != nil && (partyIsNull || p != nil)
                if let a, partyIsNull, accountIsReceivablePayable[a] { fine = false }
                if rows.isNull(6) {
                    fine = fine && mark != reconciled
                } else if let r, let t, let statement = statements[r], let statementDate = statement.date {
                    let statementDay = CanonicalTime.day(statementDate)
                    fine =
                        fine && mark == reconciled && statement.account == account && date[t] != 0
                        && statementDay != 0 && statementDay >= date[t]
                } else {
                    fine = false
                }
                if !fine { suspect("splits", id) }

                // The sums of temp.v_tx, for splits whose transaction_id is an integer
                // (one of a transaction that does not exist changes no sum a check reads).
                if let t {
                    splitSum[t].add(amount)
                    flags[t].insert(.hasSplits)
                    if let a, accountIsReceivablePayable[a], let cents = amount.cents, sums[t] >= 0 {
                        if isDocument(t) {
                            documentSums[Int(sums[t])].receivablePayable &+= cents
                        } else {
                            paymentSums[Int(sums[t])].receivablePayable &+= cents
                        }
                    }
                    if flags[t].contains(.hasFeedLines), var line = firstFeedLine(of: t) {
                        while line < feedLines.count, Int(feedLines[line].transaction) == t {
                            if Int64(feedLines[line].account) == account { feedLines[line].unbooked.subtract(amount) }
                            line += 1
                        }
                    }
                }
                // The sums of temp.v_grp: by account, by customer or vendor, by reconciliation.
                if let a {
                    accountSum[a].add(amount)
                    if let p, accountIsReceivablePayable[a] { partySum[p].add(amount) }
                } else {
                    splitsWithoutAccount += 1
                }
                if let r { statementSum[r].add(amount) }
            }
        }

        private mutating func readDocumentLines(_ db: Database) throws {
            var side: IndexAgreement.TableSide?
            let rows = try select(
                db, ["id", "transaction_id", "item_id", "amount"], from: "document_lines", side: &side)
            while try more(rows, &side, of: "document_lines") {
                guard let id = rows.integer(0) else { throw NativePass.Abandoned() }
                let amount = Amount(rows, 3)
                try count(amount)
                let t = transactions.slot(rows.integer(1))
                let itemIsFine = rows.isNull(2) || items.slot(rows.integer(2)) != nil
                // Not `t.map(isDocument)`: a method as a closure copies the whole state, each row.
                var ofDocument = false
                if let t { ofDocument = isDocument(t) }
                if !(ofDocument && itemIsFine && amount.cents != nil) { suspect("document_lines", id) }
                if let t, isDocument(t), sums[t] >= 0 { documentSums[Int(sums[t])].lines.add(amount) }
            }
        }

        private mutating func readApplications(_ db: Database) throws {
            var side: IndexAgreement.TableSide?
            let rows = try select(db, ["id", "payment_id", "document_id", "amount"], from: "applications", side: &side)
            while try more(rows, &side, of: "applications") {
                guard let id = rows.integer(0) else { throw NativePass.Abandoned() }
                let amount = Amount(rows, 3)
                try count(amount)
                let payment = transactions.slot(rows.integer(1))
                let document = transactions.slot(rows.integer(2))
                var fine = false
                if let payment, let document, let cents = amount.cents, cents > 0 {
                    let pairs =
                        (kind[payment] == kindPayment && kind[document] == kindInvoice)
                        || (kind[payment] == kindBillPayment && kind[document] == kindBill)
                    let one = flags[payment]
                    let other = flags[document]
                    let sameParty =
                        !one.contains(.partyIsOdd) && !other.contains(.partyIsOdd)
                        && (one.contains(.partyIsNull)
                            ? other.contains(.partyIsNull)
                            : !other.contains(.partyIsNull) && party[payment] == party[document])
                    fine = pairs && sameParty
                }
                if !fine { suspect("applications", id) }
                if let document, isDocument(document), sums[document] >= 0 {
                    documentSums[Int(sums[document])].applied.add(amount)
                }
                if let payment, isPayment(payment), sums[payment] >= 0 {
                    // payment-overapplied counts a missing amount as one it cannot judge.
                    paymentSums[Int(sums[payment])].applied.add(rows.isNull(3) ? .bad : amount)
                    flags[payment].insert(.hasApplications)
                }
            }
        }

        private mutating func readDocuments(_ db: Database) throws {
            let rows = try RawRows(
                db,
                sql: """
                    SELECT transaction_id, due_date, total, balance_due FROM documents ORDER BY rowid
                    """)
            while try rows.next() {
                guard let id = rows.integer(0) else { throw NativePass.Abandoned() }
                guard let t = transactions.slot(id) else {
                    suspect("documents", id)
                    continue
                }
                flags[t].insert(.hasDocument)
                var fine = false
                if isDocument(t), sums[t] >= 0,
                    rows.isNull(1) || CanonicalTime.date(rows.text(1)) != nil,
                    let total = Amount(rows, 2).cents, let due = Amount(rows, 3).cents
                {
                    let postings = splitSum[t]
                    let own = documentSums[Int(sums[t])]
                    fine =
                        !postings.isBad && flags[t].contains(.hasSplits) && total == abs(own.receivablePayable)
                        && !own.applied.isBad && own.applied.total <= total && due == total - own.applied.total
                        && !own.lines.isBad && own.lines.total == total
                }
                if !fine { suspect("documents", id) }
            }
        }

        // MARK: What is left to the SQL

        mutating func suspects() -> Suspects {
            for slot in 0..<accounts.capacity {
                guard let id = accounts.id(at: slot) else { continue }
                let sum = accountSum[slot]
                if !(accountFine[slot] && !sum.bad && accountBalance[slot] == sum.total) { suspect("accounts", id) }
            }
            for slot in 0..<parties.capacity {
                guard let id = parties.id(at: slot) else { continue }
                let sum = partySum[slot]
                if !(partyFine[slot] && !sum.bad && partyBalance[slot] == sum.total) { suspect("parties", id) }
            }
            var payments: [Int64] = []
            for slot in 0..<transactions.capacity {
                guard let id = transactions.id(at: slot) else { continue }
                let mark = flags[slot]
                let postings = splitSum[slot]
                let document = isDocument(slot)
                if !(mark.contains(.rowIsFine) && mark.contains(.hasSplits) && !postings.isBad && postings.total == 0
                    && (!document || mark.contains(.hasDocument)))
                {
                    suspect("transactions", id)
                }
                if mark.contains(.hasApplications), isPayment(slot), sums[slot] >= 0 {
                    let own = paymentSums[Int(sums[slot])]
                    if own.applied.isBad || postings.isBad || !mark.contains(.hasSplits)
                        || own.applied.total > abs(own.receivablePayable)
                    {
                        payments.append(id)
                    }
                }
            }
            for line in feedLines where line.unbooked.isBad || line.unbooked.total != 0 {
                suspect("bank_feed", line.id)
            }
            var rows = suspectRows
            for table in rows.keys { rows[table]?.sort() }
            return Suspects(
                rows: rows, reconciliations: suspectStatements(), payments: payments,
                splitTotal: splitTotal, accountTotals: accountTotals())
        }

        /// Each account's sum of split amounts, as the trial balance's SQL sums
        /// them; nil when a split's account is not a row or an amount is not an
        /// integer within the limit (that SQL then decides).
        private func accountTotals() -> [Int64: Int64]? {
            guard splitsWithoutAccount == 0 else { return nil }
            var totals: [Int64: Int64] = [:]
            for slot in 0..<accounts.capacity {
                guard let id = accounts.id(at: slot) else { continue }
                let sum = accountSum[slot]
                guard !sum.bad else { return nil }
                totals[id] = sum.total
            }
            return totals
        }

        /// Reconciliations that may not follow the statement before them or may not
        /// add up; all of an account's when any of its dates is not canonical, since
        /// then their order is the SQL's to decide.
        private func suspectStatements() -> [Int64] {
            var byAccount: [Int64: [(statement: StatementRow, date: Int32?, sum: Sum)]] = [:]
            for slot in 0..<reconciliations.capacity {
                guard let statement = statements[slot], let account = statement.account,
                    accounts.slot(account) != nil
                else { continue }
                byAccount[account, default: []].append((statement, statement.date, statementSum[slot]))
            }
            var suspects: [Int64] = []
            for (_, list) in byAccount {
                let dated = list.compactMap { entry in entry.date.map { (entry.statement, $0, entry.sum) } }
                guard dated.count == list.count else {
                    suspects += list.map(\.statement.id)
                    continue
                }
                var previous: Int64? = 0
                for (statement, _, sum) in dated.sorted(by: { ($0.1, $0.0.id) < ($1.1, $1.0.id) }) {
                    var fine = !sum.bad && previous != nil && statement.beginning == previous
                    if let beginning = statement.beginning {
                        let (reached, overflow) = beginning.addingReportingOverflow(sum.total)
                        fine = fine && !overflow && statement.ending == reached
                    } else {
                        fine = false
                    }
                    if !fine { suspects.append(statement.id) }
                    previous = statement.ending
                }
            }
            return suspects.sorted()
        }
    }
}
