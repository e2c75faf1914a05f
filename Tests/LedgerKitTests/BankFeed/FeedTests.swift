import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// Import, match, add and exclude on the sample company, with the bundled statements.
@Suite struct FeedTests {
    let folder = TemporaryDirectory()
    static let december = StatementReaderTests.sampleData + "/checking-2025-12.qfx"
    static let january = StatementReaderTests.sampleData + "/checking-2026-01.ofx"

    private func sample() throws -> String {
        try Damage.sample(in: folder, transactions: 500, seed: 1)
    }

    private func importStatement(_ file: String, _ statement: String) throws -> ImportReport {
        try FeedImport.run(
            file: file, statement: try OFXReader.read(path: statement), from: statement, account: "Checking")
    }

    private func feedCount(_ file: String) throws -> Int {
        try CompanyFile.read(file) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM bank_feed") ?? 0 }
    }

    @Test func importTwiceAddsNothingTheSecondTime() throws {
        let file = try sample()
        let before = try feedCount(file)
        let first = try importStatement(file, Self.december)
        #expect(first.added == 2)
        #expect(first.alreadyPresent == 4)
        #expect(first.account == "Checking")
        #expect(first.balanceCheck?.statement == 11_905_364)
        #expect(first.balanceCheck?.books == 11_906_552)
        let second = try importStatement(file, Self.december)
        #expect(second.added == 0)
        #expect(second.alreadyPresent == 6)
        // January overlaps December by two lines.
        let overlapping = try importStatement(file, Self.january)
        #expect(overlapping.added == 3)
        #expect(overlapping.alreadyPresent == 2)
        #expect(try feedCount(file) == before + 5)
        try CompanyFile.read(file) { db in
            let line = try Row.fetchOne(
                db,
                sql:
                    "SELECT account_id, posted_date, amount, payee, status, transaction_id FROM bank_feed WHERE fitid = '20260105900003'"
            )
            #expect(line?["account_id"] == 1 as Int64)
            #expect(line?["posted_date"] == "2026-01-05")
            #expect(line?["amount"] == -24_999 as Int64)
            #expect(line?["payee"] == "Staples")
            #expect(line?["status"] == "new")
            #expect(line?["transaction_id"] == nil as Int64?)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM maintenance_runs WHERE command = 'import'") == 3)
        }
        #expect(try Verifier.verify(path: file).ok)
    }

    @Test func aStatementWithABadLineAddsNothing() throws {
        let file = try sample()
        let before = try feedCount(file)
        let path = folder.file("bad.ofx")
        let text = try String(contentsOfFile: Self.january, encoding: .utf8).replacingOccurrences(
            of: "<TRNAMT>-249.99</TRNAMT>", with: "<TRNAMT>-249,99</TRNAMT>")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let report = try FeedImport.run(
            file: file, statement: try OFXReader.read(path: path), from: path, account: "Checking")
        #expect(report.added == 0)
        #expect(report.rejected.map(\.line) == [23])
        #expect(report.rejected.first?.reason.contains("--decimal-comma") == true)
        #expect(try feedCount(file) == before)
    }

    @Test func aStatementInAnotherCurrencyIsRefused() throws {
        let file = try sample()
        var statement = try OFXReader.read(path: Self.december)
        statement.currency = "EUR"
        #expect(throws: FeedError.currency(statement: "EUR", company: "USD")) {
            try FeedImport.run(file: file, statement: statement, from: Self.december, account: "Checking")
        }
    }

    @Test func accountsAreFoundByNameOrNumberAndMustTakeBankLines() throws {
        let file = try sample()
        let statement = try OFXReader.read(path: Self.december)
        #expect(try FeedImport.run(file: file, statement: statement, from: Self.december, account: "1000").added == 2)
        #expect {
            try FeedImport.run(file: file, statement: statement, from: Self.december, account: "Chequing")
        } throws: { error in
            guard case FeedError.unknownAccount(let name, file, let known) = error else { return false }
            return name == "Chequing" && known.contains("Checking") && known.contains("Business Credit Card")
        }
        #expect(
            throws: FeedError.wrongAccountType(
                name: "Rent Expense", type: "expense",
                wanted: "bank lines go to a bank, credit card or other current asset account")
        ) {
            try FeedImport.run(file: file, statement: statement, from: Self.december, account: "Rent Expense")
        }
    }

    @Test func matchAndAddKeepTheBooksInOrder() throws {
        let file = try sample()
        _ = try importStatement(file, Self.december)
        _ = try importStatement(file, Self.january)
        let newBefore = try FeedBook.lines(file: file, status: "new")
        #expect(newBefore.count == 17)

        let report = try FeedBook.match(file: file, addTo: "Uncategorized Expense")
        #expect(report.matched.count == 12)
        #expect(report.added.count == 5)
        #expect(report.unmatched == 0)
        let verify = try Verifier.verify(path: file)
        #expect(verify.ok, "\(verify.findings)")
        try CompanyFile.read(file) { db in
            // Every matched line's transaction moves exactly the line's amount in Checking.
            for link in report.matched {
                let moved = try Int64.fetchOne(
                    db, sql: "SELECT SUM(amount) FROM splits WHERE transaction_id = ? AND account_id = 1",
                    arguments: [link.transactionID])
                #expect(moved == link.amount)
            }
            let staples = try #require(report.added.first { $0.payee == "Staples" })
            let splits = try Row.fetchAll(
                db,
                sql: """
                    SELECT a.name, s.amount FROM splits s JOIN accounts a ON a.id = s.account_id WHERE s.transaction_id = ? ORDER BY s.id
                    """, arguments: [staples.transactionID])
            #expect(splits.map { $0["name"] as String } == ["Checking", "Uncategorized Expense"])
            #expect(splits.map { $0["amount"] as Int64 } == [-24_999, 24_999])
            let transaction = try Row.fetchOne(
                db, sql: "SELECT kind, date, memo FROM transactions WHERE id = ?", arguments: [staples.transactionID])
            #expect(transaction?["kind"] == "check")
            #expect(transaction?["date"] == "2026-01-05")
            #expect(transaction?["memo"] == "Staples")
            // The bank's payee stands as the transaction's memo, its memo as the splits'.
            #expect(
                try String.fetchAll(
                    db, sql: "SELECT memo FROM splits WHERE transaction_id = ?", arguments: [staples.transactionID])
                    == ["Office supplies", "Office supplies"])
        }
        // Nothing is left to match, and a second run changes nothing.
        let again = try FeedBook.match(file: file, addTo: "Uncategorized Expense")
        #expect(again.matched == [] && again.added == [])
    }

    /// The reviewer's case: a line added to the books early in a run must
    /// not be matched by a later line of the same amount more than a month
    /// on, when the candidates are read again: each line its own transaction.
    @Test func aLineAddedInARunIsNoMatchForALaterLine() throws {
        let file = try sample()
        let statement = folder.file("petty.csv")
        try "Date,Amount,Payee\n2026-01-01,-5.00,Stamps\n2026-01-31,-50.00,Courier\n2026-02-02,-50.00,Courier\n"
            .write(toFile: statement, atomically: true, encoding: .utf8)
        let read = try CSVReader.read(
            path: statement, mapping: CSVMapping(date: "Date", amount: "Amount", payee: "Payee"))
        _ = try FeedImport.run(file: file, statement: read, from: statement, account: "Petty Cash")
        let report = try FeedBook.match(file: file, account: "Petty Cash", addTo: "Uncategorized Expense")
        #expect(report.matched == [] && report.added.count == 3)
        #expect(Set(report.added.map(\.transactionID)).count == 3)
        try CompanyFile.read(file) { db in
            let moved = try Int64.fetchOne(
                db,
                sql: """
                    SELECT SUM(s.amount) FROM splits s JOIN accounts a ON a.id = s.account_id
                    WHERE a.name = 'Petty Cash' AND s.transaction_id IN (SELECT transaction_id FROM bank_feed)
                    """)
            #expect(moved == -10_500)
        }
        #expect(try Verifier.verify(path: file).ok)
    }

    @Test func matchPrefersTheClosestDateThenThePayee() throws {
        let file = try sample()
        try Damage.apply(to: file) { db in
            // Two checks of the same amount from Checking, 1 and 3 days from the line.
            for (id, date, memo) in [(9001, "2026-02-04", "Rent"), (9002, "2026-02-02", "Other")]
                as [(Int64, String, String)]
            {
                try db.execute(
                    sql:
                        "INSERT INTO transactions (id, kind, date, memo, created_at, modified_at) VALUES (?, 'check', ?, ?, '2026-02-01T00:00:00Z', '2026-02-01T00:00:00Z')",
                    arguments: [id, date, memo])
                try db.execute(
                    sql:
                        "INSERT INTO splits (transaction_id, account_id, amount) VALUES (?, 1, -77700), (?, 45, 77700)",
                    arguments: [id, id])
            }
            try db.execute(sql: "UPDATE accounts SET balance = balance - 155400 WHERE id = 1")
            try db.execute(sql: "UPDATE accounts SET balance = balance + 155400 WHERE id = 45")
            try db.execute(
                sql: """
                    INSERT INTO bank_feed (id, account_id, fitid, posted_date, amount, payee, status, downloaded_at) VALUES
                    (7001, 1, 'X1', '2026-02-03', -77700, 'Rent', 'new', '2026-02-05T00:00:00Z'),
                    (7002, 1, 'X2', '2026-02-03', -77700, 'Something', 'new', '2026-02-05T00:00:00Z'),
                    (7003, 1, 'X3', '2026-02-03', -77700, 'Third', 'new', '2026-02-05T00:00:00Z')
                    """)
        }
        let report = try FeedBook.match(file: file)
        let links = Dictionary(uniqueKeysWithValues: report.matched.map { ($0.line, $0.transactionID) })
        // Both checks are a day from 2026-02-03; "Rent" shares the payee's word, so line 7001 takes 9001.
        #expect(links[7001] == 9001)
        #expect(links[7002] == 9002)
        #expect(links[7003] == nil)
        #expect(try Verifier.verify(path: file).ok)
    }

    @Test func excludeSetsLinesAside() throws {
        let file = try sample()
        _ = try importStatement(file, Self.december)
        let fee = try #require(try FeedBook.lines(file: file, status: "new").first { $0.fitid == "20251231900001" })
        #expect(try FeedBook.exclude(file: file, lines: [fee.id]) == [fee.id])
        #expect(try FeedBook.exclude(file: file, lines: [fee.id]) == [])
        #expect(throws: FeedError.unknownLines([987_654])) {
            try FeedBook.exclude(file: file, lines: [fee.id, 987_654])
        }
        let added = try FeedBook.match(file: file, addTo: "Uncategorized Income").added
        let interest = try #require(added.first)
        #expect(throws: FeedError.lineAdded(line: interest.line, transaction: interest.transaction, file: file)) {
            try FeedBook.exclude(file: file, lines: [interest.line])
        }
        #expect(try FeedBook.lines(file: file).first { $0.id == fee.id }?.status == "excluded")
        #expect(try Verifier.verify(path: file).ok)
    }

    /// Another program may leave any value in a bank line: listing the lines
    /// says the file needs a rebuild, and never stops on the value.
    @Test func aLineWithAValueThatCannotBeReadAsksForARebuild() throws {
        let file = try sample()
        _ = try importStatement(file, Self.december)
        let line = try #require(try FeedBook.lines(file: file).first).id
        for (column, value) in [
            ("amount", "'12.50'"), ("status", "x'07'"), ("fitid", "x'00'"), ("posted_date", "x'2025'"),
        ] {
            try Damage.apply(to: file) { db in
                try db.execute(sql: "UPDATE bank_feed SET \(column) = \(value) WHERE id = ?", arguments: [line])
            }
            #expect(
                throws: FeedError.needsRebuild(
                    path: file, reason: "has bank line \(line) with a value that cannot be read"), "\(column)"
            ) {
                try FeedBook.lines(file: file)
            }
            try Damage.apply(to: file) { db in
                try db.execute(
                    sql:
                        "UPDATE bank_feed SET amount = 100, status = 'new', fitid = 'F', posted_date = '2025-12-01' WHERE id = ?",
                    arguments: [line])
            }
        }
        #expect(try FeedBook.lines(file: file).count > 1)
    }

    /// What each bank-feed command logs names the lines it changed, as a
    /// rebuild reads them back (`FeedBook.linesNamed`): a line changed after
    /// the snapshot it brings back from must not be set back unnoticed.
    @Test func eachCommandsLogNamesTheLinesItChanged() throws {
        let file = try sample()
        _ = try importStatement(file, Self.december)
        let new = try FeedBook.lines(file: file, status: "new").map(\.id).sorted()
        #expect(new.count == 14, "the sample's new lines and December's two")
        func logged() throws -> (command: String, lines: [Int64]?) {
            let row = try #require(
                try CompanyFile.read(file) {
                    try Row.fetchOne($0, sql: "SELECT command, summary FROM maintenance_runs ORDER BY id DESC LIMIT 1")
                })
            let command: String = try #require(row["command"])
            return (command, FeedBook.linesNamed(by: command, summary: row["summary"]).map { $0.sorted() })
        }
        #expect(try FeedBook.exclude(file: file, lines: [new[0]]) == [new[0]])
        #expect(try logged() == ("feed exclude", [new[0]]))
        #expect(try FeedBook.include(file: file, lines: [new[0]]) == [new[0]])
        #expect(try logged() == ("feed include", [new[0]]))
        let link = try FeedBook.add(file: file, line: new[1], to: "Uncategorized Income")
        #expect(try logged() == ("feed add", [new[1]]))
        _ = try FeedBook.unmatch(file: file, lines: [link.line])
        #expect(try logged() == ("feed unmatch", [new[1]]))
        let matched = try FeedBook.match(file: file, addTo: "Uncategorized Income")
        #expect(try logged() == ("feed match", (matched.matched.map(\.line) + matched.added.map(\.line)).sorted()))
        #expect(matched.matched.count + matched.added.count == 14)
    }
}
