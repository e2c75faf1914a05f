import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// Seeded statements written the many ways banks write them give back every
/// line's exact cents; the same bytes mutated at random never crash a reader,
/// and what an import stores is what the reader read, with verify clean.
@Suite struct StatementPropertyTests {
    let folder = TemporaryDirectory()

    /// A line's amount as a bank might write it, with a point before the cents.
    static func written(_ cents: Int64, _ random: inout SplitMix64, csv: Bool) -> String {
        let units = abs(cents) / 100
        let digits = String(units)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        let body =
            (random.next() % 2 == 0 || !csv ? digits : grouped) + "."
            + String(String(abs(cents) % 100 + 100).dropFirst())
        let negative = cents < 0
        let text: String
        switch csv ? random.next() % 4 : 0 {
        case 1: text = negative ? "(\(body))" : body
        case 2: text = negative ? body + "-" : "+" + body
        case 3: text = (negative ? "-" : "") + "$" + body
        default: text = (negative ? "-" : "") + body
        }
        return csv && text.contains(",") ? "\"\(text)\"" : text
    }

    static func amounts(_ random: inout SplitMix64) -> [Int64] {
        (0..<(1 + Int(random.next() % 6))).map { _ in
            let scale: [Int64] = [100, 10_000, 1_000_000, 100_000_000_000]
            return (Int64(random.next() % UInt64(scale[Int(random.next() % 4)])) + 1)
                * (random.next() % 2 == 0 ? -1 : 1)
        }
    }

    static func csv(_ amounts: [Int64], _ random: inout SplitMix64) -> String {
        let trailing = random.next() % 3 == 0 ? "," : ""
        var text = "Date,Description,Amount" + trailing + "\n"
        for (index, cents) in amounts.enumerated() {
            let payee = ["Shell", "Acme \"Supply\"", "Rent, office", "Café"][Int(random.next() % 4)]
            let quoted = "\"" + payee.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            text += "2026-01-\(10 + index),\(quoted),\(written(cents, &random, csv: true))\(trailing)\n"
        }
        return text
    }

    static func ofx(_ amounts: [Int64], _ random: inout SplitMix64) -> String {
        let xml = random.next() % 2 == 0
        func leaf(_ name: String, _ value: String) -> String {
            xml ? "<\(name)>\(value)</\(name)>" : "<\(name)>\(value)"
        }
        var text = xml ? "<?xml version=\"1.0\"?>\n" : "OFXHEADER:100\nDATA:OFXSGML\n\n"
        text += "<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>" + leaf("CURDEF", "USD") + "<BANKTRANLIST>\n"
        for (index, cents) in amounts.enumerated() {
            let payee =
                random.next() % 2 == 0
                ? leaf("NAME", "Shop &amp; Co") : "<PAYEE>" + leaf("NAME", "Payee Inc") + leaf("CITY", "X") + "</PAYEE>"
            text += "<STMTTRN>" + leaf("DTPOSTED", "202601\(10 + index)")
            text += leaf("TRNAMT", written(cents, &random, csv: false)) + leaf("FITID", "T\(index)") + payee
            text += "</STMTTRN>\n"
        }
        return text + "</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    }

    /// The text with a few bytes replaced by ones that matter to the readers.
    static func mutated(_ text: String, _ random: inout SplitMix64) -> Data {
        var bytes = [UInt8](text.utf8)
        let hostile: [UInt8] = Array("<>/,;\"\n\r&#.-()$0159 ".utf8) + [0x00, 0xFF, 0xC3, 0x80]
        for _ in 0..<(1 + Int(random.next() % 4)) where !bytes.isEmpty {
            bytes[Int(random.next() % UInt64(bytes.count))] = hostile[Int(random.next() % UInt64(hostile.count))]
        }
        return Data(bytes)
    }

    @Test(arguments: 0..<150)
    func everyLinesCentsComeBackAndNoMutationCrashes(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &+ 7_919)
        let amounts = Self.amounts(&random)
        let csvText = Self.csv(amounts, &random)
        let mapping = CSVMapping(date: "Date", amount: "Amount", payee: "Description")
        let csv = try CSVReader.read(Data(csvText.utf8), path: "s.csv", mapping: mapping, style: AmountStyle())
        #expect(csv.rejected == [], "seed \(seed)\n\(csvText)")
        #expect(csv.lines.map(\.amount) == amounts, "seed \(seed)\n\(csvText)")
        let ofxText = Self.ofx(amounts, &random)
        let ofx = try OFXReader.parse(ofxText, path: "s.ofx", style: AmountStyle())
        #expect(ofx.statements.flatMap(\.rejected) == [], "seed \(seed)\n\(ofxText)")
        #expect(ofx.statements.flatMap(\.lines).map(\.amount) == amounts, "seed \(seed)\n\(ofxText)")

        // Mutated: any outcome but a crash; what is imported is what was read, and verify stays clean.
        let books = folder.file("books-\(seed).db")
        _ = try CompanyFile.create(at: books, profile: CompanyProfile(name: "Acme"))
        var read: [StatementLine] = []
        let brokenCSV = Self.mutated(csvText, &random)
        if let statement = try? CSVReader.read(brokenCSV, path: "m.csv", mapping: mapping, style: AmountStyle()),
            statement.rejected.isEmpty,
            let report = try? FeedImport.run(file: books, statement: statement, from: "m.csv", account: "Checking"),
            report.rejected.isEmpty
        {
            read += statement.lines
        }
        let brokenOFX = Self.mutated(ofxText, &random)
        if let file = try? OFXReader.parse(statementText(brokenOFX), path: "m.ofx", style: AmountStyle()),
            file.statements.count == 1, let statement = file.statements.first, statement.rejected.isEmpty,
            let report = try? FeedImport.run(file: books, statement: statement, from: "m.ofx", account: "Checking"),
            report.rejected.isEmpty
        {
            read += statement.lines
        }
        #expect(read.allSatisfy { abs($0.amount) <= Money.limit })
        let stored = try CompanyFile.read(books) { db in
            try Int64.fetchAll(db, sql: "SELECT amount FROM bank_feed ORDER BY id")
        }
        #expect(stored.sorted() == read.map(\.amount).sorted(), "seed \(seed)")
        #expect(try Verifier.verify(path: books).findings.isEmpty, "seed \(seed)")
    }
}
