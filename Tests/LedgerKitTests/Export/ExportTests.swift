import Foundation
import GRDB
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// The hledger journal passes hledger's own checks and agrees with the trial balance.
@Suite struct ExportTests {
    let folder = TemporaryDirectory()

    /// Runs hledger; a missing hledger fails the test with one line saying how to install it.
    private func hledger(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try ExternalTool.require("hledger", install: "apt-get install hledger").run(arguments)
    }

    @Test(arguments: [(500, UInt64(1)), (3_000, UInt64(7))])
    func hledgerAgreesWithTheTrialBalance(transactions: Int, seed: UInt64) throws {
        let file = try Damage.sample(in: folder, transactions: transactions, seed: seed)
        // A party name with characters a journal must escape.
        try Damage.apply(to: file) { db in
            try db.execute(
                sql:
                    "UPDATE parties SET name = 'Smith; Jones (Holdings)' WHERE id = (SELECT MIN(party_id) FROM transactions)"
            )
        }
        let journal = folder.file("books.journal")
        let count = try JournalExport.export(file: file, format: .hledger, to: journal)
        #expect(count.transactions == transactions)
        let check = try hledger(["-f", journal, "check", "accounts", "commodities"])
        #expect(check.status == 0, "\(check.output)")

        let balance = try hledger(["-f", journal, "balance", "--flat", "--no-total", "-O", "csv"])
        #expect(balance.status == 0)
        var fromHledger: [String: Int64] = [:]
        for line in balance.output.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            guard fields.count == 2 else { continue }
            let amount = fields[1].replacingOccurrences(of: " USD", with: "")
            fromHledger[fields[0]] = try AmountStyle().cents(amount).get()
        }
        let trial = try TrialBalance.read(path: file)
        let fromLedger = Dictionary(
            uniqueKeysWithValues: trial.lines.map { ($0.name, $0.debit.cents - $0.credit.cents) })
        #expect(fromHledger == fromLedger)
        #expect(!fromLedger.isEmpty)
    }

    @Test func csvHasOneRowPerSplit() throws {
        let file = try Damage.sample(in: folder, transactions: 300, seed: 3)
        try Damage.apply(to: file) { db in
            try db.execute(sql: "UPDATE splits SET memo = 'Lunch, \"team\"' WHERE id = 2")
        }
        let path = folder.file("books.csv")
        try JournalExport.export(file: file, format: .csv, to: path)
        let rows = CSVReader.rows(of: try String(contentsOfFile: path, encoding: .utf8), delimiter: ",").records
        let splits = try CompanyFile.read(file) { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM splits") }
        #expect(rows.count == splits! + 1)
        #expect(
            rows[0].fields == [
                "date", "transaction_id", "kind", "number", "payee", "account", "account_number", "amount", "currency",
                "memo", "cleared",
            ])
        let total = try rows.dropFirst().reduce(Int64(0)) { $0 + (try AmountStyle().cents($1.fields[7]).get()) }
        #expect(total == 0)
        #expect(rows.contains { $0.fields[9] == "Lunch, \"team\"" })
    }

    /// --out naming the company file itself (or any SQLite database) is refused:
    /// an export never turns books into a CSV file. A link at --out is written through and kept.
    @Test func anOutputThatIsADatabaseIsRefusedAndALinkIsWrittenThrough() throws {
        let file = try Damage.sample(in: folder, transactions: 100)
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(
            throws: ExportError.cannotWrite(
                path: file,
                reason:
                    "it is an SQLite database (a company file?), which an export never replaces; choose another --out")
        ) {
            try JournalExport.export(file: file, format: .csv, to: file)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before)
        let target = folder.file("books.csv")
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        let link = folder.file("latest.csv")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try JournalExport.export(file: file, format: .csv, to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        #expect(try String(contentsOfFile: target, encoding: .utf8).hasPrefix("date,transaction_id,"))
    }

    @Test func unbalancedBooksAreRefusedAndNothingIsWritten() throws {
        let file = try Damage.sample(in: folder, transactions: 100)
        try Damage.apply(to: file) { db in try db.execute(sql: "UPDATE splits SET amount = amount + 1 WHERE id = 40") }
        let transaction = try CompanyFile.read(file) {
            try Int64.fetchOne($0, sql: "SELECT transaction_id FROM splits WHERE id = 40")!
        }
        let path = folder.file("books.journal")
        #expect(throws: ExportError.unbalanced(path: file, transaction: transaction)) {
            try JournalExport.export(file: file, format: .hledger, to: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") } == [])
    }
}
