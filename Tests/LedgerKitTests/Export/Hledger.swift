import Foundation
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// hledger, run on an exported journal.
enum Hledger {
    static func tool() throws -> ExternalTool {
        try ExternalTool.require("hledger", install: "apt-get install hledger")
    }

    /// hledger's own balance of every account of `journal` with one, as it
    /// prints it: name → "1234.50 USD". A name printed twice fails the test.
    static func balances(_ journal: String) throws -> [String: String] {
        let result = try tool().run(["-f", journal, "balance", "--flat", "--no-total", "-O", "csv"])
        #expect(result.status == 0, "\(result.output)")
        var balances: [String: String] = [:]
        for record in CSVReader.rows(of: result.output, delimiter: ",").records.dropFirst() {
            guard record.fields.count == 2 else { continue }
            #expect(balances[record.fields[0]] == nil, "\(record.fields[0]) twice")
            balances[record.fields[0]] = record.fields[1]
        }
        return balances
    }

    /// `cents` as hledger prints the journal's USD: "-1234.50 USD".
    static func usd(_ cents: Int64) -> String {
        Money(cents: cents).formatted(grouping: false) + " USD"
    }
}

extension ExportAccounts {
    /// The names the export gives the accounts of the company file at `file`.
    static func read(file: String) throws -> ExportAccounts {
        try CompanyFile.read(file) { db in
            var text = StoredText()
            return try read(db, text: &text)
        }
    }
}
