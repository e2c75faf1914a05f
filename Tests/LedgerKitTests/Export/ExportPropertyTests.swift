import Foundation
import GRDB
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// Seeded hostile company files, as other programs and bad days leave them:
/// amounts of any type and size, names of any bytes, splits of no account and
/// of no transaction. The export never traps; it refuses exactly the books it
/// cannot carry whole (nothing left behind), and otherwise writes journals
/// whose every account's hledger balance, and CSV sum, is that account's sum
/// of splits, to the cent.
///
/// The expected sums are the trial balance's, worked out here from the
/// splits: TrialBalance itself reads some of these values with GRDB's
/// trapping subscript, which is another part's to fix.
@Suite struct ExportPropertyTests {
    /// A small company, made once and copied per case.
    static let template: String = {
        let folder = FileManager.default.temporaryDirectory.path + "/ledger-export-template-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/template.db"
        if !FileManager.default.fileExists(atPath: path) {
            do {
                _ = try SampleCompany.generate(at: path, options: SampleOptions(transactions: 40, seed: 21))
            } catch {
                Issue.record("could not make the template company: \(error)")
            }
        }
        return path
    }()

    /// Amounts no export may carry.
    static let invalidAmounts = [
        "9223372036854775807", "-9223372036854775808", "-9223372036854775807", "1000000000000001",
        "-1000000000000001", "2.5", "12000000.99", "'abc'", "''", "x'00ff'",
    ]
    /// Names that clean alike, hide bytes that are not UTF-8, or look like formulas.
    static let names = [
        "'Checking '", "'Checking'", "''", "'Unnamed'", "'(Old)'", "'_(Old)'", "'* Star'", "'! Star'", "'Star'",
        "'Payroll Liabilities:Federal Withholding'", "'Cash' || char(160)", "char(160) || 'Cash'", "'Cash'",
        "'Missing account 77'", "'Missing account ''1x'''", "x'ff'", "CAST(x'53e9' AS TEXT)", "'=SUM(A1)'",
        "char(39) || '=SUM(A1)'",
        "'a' || char(13, 10) || 'b'", "'a' || char(9) || 'b'", "'a  b'", "'a b'", "'; comment'", "':'", "'A::B'",
    ]
    /// Values a split's account_id may hold that name no account.
    static let strayAccounts = ["'1x'", "77", "20.5", "x'01'", "''"]

    @Test(arguments: Array(0..<100))
    func exportNeverTrapsAndNeverLosesACent(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 7_919 &+ 3)
        let folder = TemporaryDirectory()
        let file = folder.file("books.db")
        try FileManager.default.copyItem(atPath: Self.template, toPath: file)
        let edits = try Damage.apply(to: file) { db in try Self.damage(db, &random) }
        let context = "seed \(seed): \(edits.joined(separator: "; "))"
        let expected = try Self.expectation(of: file)

        for format in ExportFormat.allCases {
            let output = folder.file("out.\(format)")
            let summary: ExportSummary
            do {
                summary = try JournalExport.export(file: file, format: format, to: output)
            } catch let error as ExportError {
                Self.check(error, against: expected, file: file, context)
                let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                #expect(left == ["books.db"], "\(context): \(left)")
                continue
            }
            guard case .exported(let transactions, let sums) = expected else {
                Issue.record("\(context): exported \(format), but expected \(expected)")
                continue
            }
            #expect(summary.transactions == transactions, "\(context)")
            let accounts = try ExportAccounts.read(file: file)
            // One name per account, and hledger's and the CSV's sum of each is its own.
            var byName: [String: Int64] = [:]
            var splits = 0
            for (account, sum) in sums {
                let name = accounts.account(for: account.value).name
                #expect(byName[name] == nil, "\(context): two accounts are both '\(name)'")
                byName[name] = sum.cents
                splits += sum.splits
            }
            switch format {
            case .hledger:
                let expectedBalances = byName.filter { $0.value != 0 }.mapValues(Hledger.usd)
                #expect(try Hledger.balances(output) == expectedBalances, "\(context)")
            case .csv:
                let rows = CSVReader.rows(of: try String(contentsOfFile: output, encoding: .utf8), delimiter: ",")
                #expect(rows.unclosedQuote == nil, "\(context)")
                #expect(rows.records.count == splits + 1, "\(context)")
                var fromCSV: [String: Int64] = [:]
                for record in rows.records.dropFirst() {
                    guard record.fields.count == 11, let cents = Self.cents(record.fields[7]) else {
                        Issue.record("\(context): a CSV row reads \(record.fields)")
                        continue
                    }
                    fromCSV[record.fields[5], default: 0] += cents
                }
                // The CSV disarms a name that reads as a formula; the names stay apart all the same.
                let expectedSums = Dictionary(
                    byName.map { (JournalExport.csvText($0.key), $0.value) }, uniquingKeysWith: +)
                #expect(expectedSums.count == byName.count, "\(context): names alike in the CSV")
                #expect(fromCSV == expectedSums, "\(context)")
            }
        }
    }

    /// What the export must do with a file, worked out from its rows.
    enum Expectation: CustomStringConvertible {
        case invalidAmounts(splits: Int, first: Int64)
        case orphans(splits: Int, debits: Int64, credits: Int64)
        case unbalanced(Set<Int64>)
        /// Written: how many transactions, and each posted account_id's sum and splits.
        case exported(transactions: Int, sums: [Posted: (cents: Int64, splits: Int)])

        var description: String {
            switch self {
            case .invalidAmounts(let splits, let first): return "\(splits) invalid amounts from split \(first)"
            case .orphans(let splits, _, _): return "\(splits) orphan splits"
            case .unbalanced(let transactions): return "unbalanced \(transactions.sorted())"
            case .exported(let transactions, _): return "\(transactions) transactions written"
            }
        }
    }

    /// A split's stored account_id, hashable.
    struct Posted: Hashable {
        let value: DatabaseValue
    }

    static func expectation(of file: String) throws -> Expectation {
        try CompanyFile.read(file) { db in
            let transactions = Set(try Int64.fetchAll(db, sql: "SELECT id FROM transactions"))
            var invalid: [Int64] = []
            var orphans = 0
            var debits: Int64 = 0
            var credits: Int64 = 0
            var balances: [Int64: Int64] = [:]
            var sums: [Posted: (cents: Int64, splits: Int)] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT id, transaction_id, account_id, amount FROM splits ORDER BY id")
            {
                let id = row.integer("id") ?? 0
                guard case .int64(let cents) = row.stored("amount").storage, cents.magnitude <= Money.limit.magnitude
                else {
                    invalid.append(id)
                    continue
                }
                guard let transaction = row.integer("transaction_id"), transactions.contains(transaction) else {
                    orphans += 1
                    if cents > 0 { debits += cents } else { credits -= cents }
                    continue
                }
                balances[transaction, default: 0] += cents
                let posted = Posted(value: row.stored("account_id"))
                sums[posted, default: (0, 0)].cents += cents
                sums[posted, default: (0, 0)].splits += 1
            }
            if let first = invalid.first { return .invalidAmounts(splits: invalid.count, first: first) }
            if orphans > 0 { return .orphans(splits: orphans, debits: debits, credits: credits) }
            let unbalanced = Set(balances.filter { $0.value != 0 }.keys)
            if !unbalanced.isEmpty { return .unbalanced(unbalanced) }
            return .exported(transactions: balances.count, sums: sums)
        }
    }

    static func check(_ error: ExportError, against expected: Expectation, file: String, _ context: String) {
        switch (error, expected) {
        case (.invalidAmounts(let path, let splits, let first, _, _), .invalidAmounts(let count, let lowest)):
            #expect(path == file && splits == count && first == lowest, "\(context): \(error)")
        case (.orphanSplits(let path, let splits, let debits, let credits), .orphans(let count, let owed, let owing)):
            #expect(
                path == file && splits == count && debits == Money(cents: owed) && credits == Money(cents: owing),
                "\(context): \(error)")
        case (.unbalanced(let path, let transaction), .unbalanced(let transactions)):
            #expect(path == file && transactions.contains(transaction), "\(context): \(error)")
        default:
            Issue.record("\(context): refused with \(error), but expected \(expected)")
        }
    }

    /// "-1234.50" as cents; nil for anything else.
    static func cents(_ text: String) -> Int64? {
        let negative = text.hasPrefix("-")
        let parts = text.dropFirst(negative ? 1 : 0).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 2, let whole = Int64(parts[0]), let fraction = Int64(parts[1])
        else { return nil }
        return (whole * 100 + fraction) * (negative ? -1 : 1)
    }

    /// One to five seeded damages; each described, or "refused:" when SQLite refuses it.
    static func damage(_ db: Database, _ random: inout SplitMix64) throws -> [String] {
        let splits = try Int64.fetchAll(db, sql: "SELECT id FROM splits")
        let accounts = try Int64.fetchAll(db, sql: "SELECT id FROM accounts")
        let posted = try Int64.fetchAll(db, sql: "SELECT DISTINCT account_id FROM splits ORDER BY 1")
        let transactions = try Int64.fetchAll(db, sql: "SELECT id FROM transactions")
        var done: [String] = []
        for _ in 0..<random.int(1...5) {
            let sql: String
            switch random.int(0...19) {
            case 0, 1:
                sql = "UPDATE splits SET amount = \(random.pick(invalidAmounts)) WHERE id = \(random.pick(splits))"
            case 2:
                let by = random.pick([Int64(1), -1, random.cents(-100_000...100_000), Money.limit])
                sql =
                    "UPDATE splits SET amount = amount + \(by) WHERE id = \(random.pick(splits)) AND amount + \(by) != amount"
            case 3:
                sql =
                    random.chance(50)
                    ? "DELETE FROM transactions WHERE id = \(random.pick(transactions))"
                    : "UPDATE splits SET transaction_id = \(random.pick(["99999", "'zz'"])) WHERE id = \(random.pick(splits))"
            case 4...7:
                // Another posted account's name with a space of some kind after or before it, a child's
                // full name as one name, or a name from the list, on an account with splits.
                let other = random.pick(posted)
                let space = random.pick(["' '", "char(160)", "char(9)", "'  '"])
                let name = random.pick([
                    "(SELECT name FROM accounts WHERE id = \(other)) || \(space)",
                    "\(space) || (SELECT name FROM accounts WHERE id = \(other))",
                    "(SELECT p.name || ':' || c.name FROM accounts c JOIN accounts p ON p.id = c.parent_id WHERE c.id = \(other))",
                    random.pick(names), random.pick(names),
                ])
                sql = "UPDATE accounts SET name = COALESCE(\(name), 'x') WHERE id = \(random.pick(posted))"
            case 8, 9:
                // A new account, maybe under another, with a split to it.
                let id = 900 + random.int(0...9)
                let type = random.pick(["'bank'", "'expense'", "'equity'", "x'ff'", "'bogus'"])
                let parent = random.chance(30) ? String(random.pick(accounts)) : "NULL"
                let amount = random.cents(1...10_000_000)
                sql = """
                    INSERT INTO accounts (id, parent_id, name, type) VALUES (\(id), \(parent), \(random.pick(names)), \(type));
                    INSERT INTO transactions (kind, date, created_at, modified_at)
                    VALUES ('journal', '2024-07-01', '2024-07-01T00:00:00Z', '2024-07-01T00:00:00Z');
                    INSERT INTO splits (transaction_id, account_id, amount)
                    VALUES ((SELECT MAX(id) FROM transactions), \(id), \(amount)),
                           ((SELECT MAX(id) FROM transactions), \(random.pick(posted)), -\(amount));
                    """
            case 10...13:
                // A balanced transaction of big or small valid amounts, to accounts or to values naming none.
                let amount = random.pick([
                    Money.limit, random.cents(1...Money.limit), random.cents(1...10_000_000), Int64(1),
                ])
                let targets = accounts.map(String.init) + (900...909).map(String.init) + strayAccounts
                let (debit, credit) = (random.pick(targets), random.pick(targets))
                sql = """
                    INSERT INTO transactions (kind, date, created_at, modified_at)
                    VALUES ('journal', '2024-06-0\(random.int(1...9))', '2024-06-01T00:00:00Z', '2024-06-01T00:00:00Z');
                    INSERT INTO splits (transaction_id, account_id, amount)
                    VALUES ((SELECT MAX(id) FROM transactions), \(debit), \(amount)),
                           ((SELECT MAX(id) FROM transactions), \(credit), -\(amount));
                    """
            case 14, 15:
                sql = "UPDATE splits SET account_id = \(random.pick(strayAccounts)) WHERE id = \(random.pick(splits))"
            case 16, 17:
                let memo = random.pick(["'a' || char(13, 10) || 'b'", "'=1+1'", "x'ff'", "'\"q\", r'", "char(13)"])
                sql = "UPDATE splits SET memo = \(memo) WHERE id = \(random.pick(splits))"
            default:
                let value = random.pick(["x'ff'", "'=1+1'", "NULL", "'-5'", "'bogus'"])
                let column = random.pick(["number", "type"])
                sql = "UPDATE accounts SET \(column) = \(value) WHERE id = \(random.pick(accounts))"
            }
            do {
                try db.execute(sql: sql)
                done.append(sql)
            } catch let error as DatabaseError {
                done.append("refused (\(error.resultCode)): \(sql)")
            }
        }
        return done
    }
}
