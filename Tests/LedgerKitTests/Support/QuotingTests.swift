import GRDB
import Testing

@testable import LedgerKit

/// Quote marks followed by a combining mark are one Character: they are
/// doubled all the same, so SQLite and a CSV reader read the text back whole.
@Suite struct QuotingTests {
    let folder = TemporaryDirectory()

    @Test func aQuoteWithACombiningMarkIsDoubled() throws {
        let name = "t\"\u{301} x'\u{301}"
        #expect(Quoting.sqlIdentifier(name).unicodeScalars.elementsEqual("\"t\"\"\u{301} x'\u{301}\"".unicodeScalars))
        #expect(Quoting.sqlLiteral(name).unicodeScalars.elementsEqual("'t\"\u{301} x''\u{301}'".unicodeScalars))
        #expect(Quoting.csvField(name).unicodeScalars.elementsEqual("\"t\"\"\u{301} x'\u{301}\"".unicodeScalars))
        #expect(Quoting.csvField("plain") == "plain")

        let queue = try DatabaseQueue(path: folder.file("q.db"))
        let read = try queue.write { db -> [String] in
            try db.execute(sql: "CREATE TABLE \(Quoting.sqlIdentifier(name)) (v TEXT)")
            try db.execute(sql: "INSERT INTO \(Quoting.sqlIdentifier(name)) VALUES (\(Quoting.sqlLiteral(name)))")
            return try String.fetchAll(db, sql: "SELECT v FROM \(Quoting.sqlIdentifier(name))")
        }
        #expect(read.map { Array($0.unicodeScalars) } == [Array(name.unicodeScalars)])
    }
}
