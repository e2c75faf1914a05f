import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// Statements are read a piece at a time, twice, never whole: what a reader
/// holds does not grow with the file, and what it reads is what the whole
/// file says, cent for cent.
@Suite struct StreamingStatementTests {
    let folder = TemporaryDirectory()

    /// A file's bytes handed out in pieces no larger than asked, and at most `most`
    /// at a time, counting the largest piece asked for and the bytes handed out.
    final class CountingBytes: StatementBytes {
        private let data: [UInt8]
        private var offset = 0
        private let most: Int
        private let counts: Counts

        final class Counts {
            var largestAsked = 0
            var handedOut = 0
            var passes = 0
        }

        init(_ data: [UInt8], most: Int = .max, counts: Counts) {
            self.data = data
            self.most = most
            self.counts = counts
            counts.passes += 1
        }

        func read(upTo count: Int) throws -> [UInt8] {
            counts.largestAsked = max(counts.largestAsked, count)
            let end = min(data.count, offset + min(count, most))
            defer { offset = end }
            counts.handedOut += end - offset
            return Array(data[offset..<end])
        }
    }

    private func company() throws -> String {
        let path = folder.file("books.db")
        _ = try CompanyFile.create(at: path, profile: CompanyProfile(name: "Acme Plumbing"))
        return path
    }

    /// A CSV of `count` lines on one line each, more bytes than a reader holds at once, and its amounts.
    static func csv(lines count: Int) -> (text: String, amounts: [Int64]) {
        var random = SplitMix64(seed: 42)
        var text = "Date,Description,Amount\r\n"
        var amounts: [Int64] = []
        for index in 0..<count {
            let cents = Int64(random.next() % 2_000_000) - 1_000_000
            amounts.append(cents)
            let sign = cents < 0 ? "-" : ""
            let payee = index % 7 == 0 ? "\"Café \"\"Zoë\"\", Ünï\"" : "Shop \(index % 1000)"
            text +=
                "2026-\(String(format: "%02d", index % 12 + 1))-15,\(payee),\(sign)\(abs(cents) / 100).\(String(format: "%02d", abs(cents) % 100))\r\n"
        }
        return (text, amounts)
    }

    @Test func aCSVLargerThanAnythingHeldIsReadInPiecesCentForCent() throws {
        let (text, amounts) = Self.csv(lines: 24_000)
        let bytes = Array(text.utf8)
        #expect(bytes.count > 8 * StatementLimits.chunkBytes)
        let counts = CountingBytes.Counts()
        let source = StatementSource(path: "big.csv") { CountingBytes(bytes, counts: counts) }
        let mapping = CSVMapping(date: "Date", amount: "Amount", payee: "Description")
        let statement = try CSVReader.collected(source, mapping: mapping, style: AmountStyle())
        #expect(statement.rejected == [])
        #expect(statement.lines.map(\.amount) == amounts)
        #expect(statement.lines[7].payee == "Café \"Zoë\", Ünï")
        #expect(statement.lines.last?.line == amounts.count + 1)
        // Never the whole file at once: pieces of at most 64 KiB, the file gone through three times
        // (its encoding, then the reader's two passes).
        #expect(counts.largestAsked == StatementLimits.chunkBytes)
        #expect(counts.passes == 3 && counts.handedOut == 3 * bytes.count)
        // What waits to be decoded is a piece and the part of a line after it.
        let characters = try source.characters()
        while try characters.next() != nil {}
        #expect(characters.mostHeld <= StatementLimits.chunkBytes + 100)
    }

    /// The spool holds a statement's lines (payees, amounts): only its owner may read it.
    @Test func theSpoolIsMadePrivate() throws {
        let spool = try StatementSpool()
        let mode = try #require(
            try FileManager.default.attributesOfItem(atPath: spool.path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
    }

    @Test func aStatementOverTheOldLimitImportsThroughTheSpool() throws {
        // More lines than any whole-file reader was allowed (32 MiB) would take too long in a debug
        // build: these are enough to pass the pieces and the spool, and each cent is checked.
        let (text, amounts) = Self.csv(lines: 5_000)
        let path = try folder.write("big.csv", text)
        let books = try company()
        let spool = try StatementSpool()
        let mapping = CSVMapping(date: "Date", amount: "Amount", payee: "Description")
        let statement = try CSVReader.read(path: path, mapping: mapping, into: spool)
        #expect(statement.lines.isEmpty && statement.span.count == amounts.count)
        let report = try FeedImport.run(
            file: books, statements: StatementFile(statements: [statement]), lines: spool, from: path,
            accounts: AccountChoice(account: "Checking"))
        #expect(report.rejectedCount == 0 && report.added == amounts.count)
        let stored = try CompanyFile.read(books) { db in
            try Int64.fetchAll(db, sql: "SELECT amount FROM bank_feed ORDER BY id")
        }
        #expect(stored == amounts)
        // The same file again adds nothing: every line is present.
        let again = try FeedImport.run(
            file: books, statement: try CSVReader.read(path: path, mapping: mapping), from: path, account: "Checking")
        #expect(again.added == 0 && again.alreadyPresent == amounts.count)
        #expect(try Verifier.verify(path: books).findings.isEmpty)
    }

    @Test func anOFXOnOneLineIsCutBetweenCharactersOnly() throws {
        var random = SplitMix64(seed: 7)
        var text = "<?xml version=\"1.0\"?><OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD</CURDEF><BANKTRANLIST>"
        var amounts: [Int64] = []
        for index in 0..<6_000 {
            let cents = Int64(random.next() % 100_000) - 50_000
            amounts.append(cents)
            let sign = cents < 0 ? "-" : ""
            text +=
                "<STMTTRN><DTPOSTED>20260115</DTPOSTED><TRNAMT>\(sign)\(abs(cents) / 100).\(String(format: "%02d", abs(cents) % 100))</TRNAMT>"
                + "<FITID>F\(index)</FITID><NAME>Zoë &amp; 日本 <![CDATA[A>B]]></NAME></STMTTRN>"
        }
        text += "</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
        let bytes = Array(text.utf8)
        #expect(bytes.count > 8 * StatementLimits.chunkBytes)
        let counts = CountingBytes.Counts()
        let lines = CollectedLines()
        let file = lines.filled(
            try OFXReader.read(
                StatementSource(path: "one.ofx") { CountingBytes(bytes, most: 4_099, counts: counts) },
                style: AmountStyle(), into: lines))
        let statement = try #require(file.statements.first)
        #expect(statement.rejected == [])
        #expect(statement.lines.map(\.amount) == amounts)
        #expect(statement.lines.allSatisfy { $0.payee == "Zoë & 日本 A>B" && $0.line == 1 })
        #expect(counts.largestAsked == StatementLimits.chunkBytes)
    }

    /// Bytes that test the seams: marks, line ends, NULs, characters of several bytes and scalars.
    static func seamBytes(_ random: inout SplitMix64) -> [UInt8] {
        let starts: [[UInt8]] = [
            [], [0xEF, 0xBB, 0xBF], [0xFF, 0xFE], [0xFE, 0xFF], [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF],
        ]
        var pieces: [[UInt8]] = [Array("a".utf8), Array("<".utf8), Array(">".utf8), [0x0D], [0x0A], [0x0D, 0x0A]]
        pieces += [[0x00], [0x00, 0x00], Array("é".utf8), Array("e\u{301}".utf8), Array("🇫🇷".utf8)]
        pieces += [Array("👩‍👩‍👧".utf8), [0x81], [0xE9], [0xC3], [0x3D, 0xD8], [0x00, 0xDC], [0x41, 0x00]]
        pieces += [[0x00, 0x41], [0x0A, 0x00], [0x0D, 0x00]]
        var bytes = starts[Int(random.next() % UInt64(starts.count))]
        for _ in 0..<Int(random.next() % 400) { bytes += pieces[Int(random.next() % UInt64(pieces.count))] }
        return bytes
    }

    @Test(arguments: 0..<200)
    func piecesGiveTheCharactersOfTheWholeText(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 31 &+ 5)
        let bytes = Self.seamBytes(&random)
        let most = 1 + Int(random.next() % 9)
        let counts = CountingBytes.Counts()
        let source = StatementSource(path: "seams") { CountingBytes(bytes, most: most, counts: counts) }
        let characters = try source.characters()
        var read: [Character] = []
        while let character = try characters.next() { read.append(character) }
        // Every NUL is a space, also one before a combining mark, which the whole text's search keeps.
        let spaced = statementText(Data(bytes)).unicodeScalars.map { $0 == "\0" ? " " : $0 }
        let whole = Array(String(String.UnicodeScalarView(spaced)))
        #expect(read == whole, "seed \(seed): \(bytes.map { String($0, radix: 16) })")
    }

    @Test func aRowLongerThanAnyBanksIsRejectedNotHeld() throws {
        let long = String(repeating: "x,", count: StatementLimits.rowFields) + "\n"
        let path = try folder.write("wide.csv", "Date,Amount\n2026-01-05,1.00\n" + long + "2026-01-06,2.00\n")
        let statement = try CSVReader.read(path: path, mapping: CSVMapping(date: "Date", amount: "Amount"))
        #expect(statement.lines.map(\.amount) == [100, 200])
        #expect(
            statement.rejected == [
                RejectedLine(
                    line: 3,
                    reason:
                        "it is longer than 1 MiB or has more than 4096 fields, more than any bank writes on one line: "
                        + "download the file again or ask the bank")
            ])
    }

    @Test func aThousandRejectedLinesAreListedAndTheRestCounted() throws {
        let bad = (0..<1_500).map { "2026-01-\(10 + $0 % 10),abc\n" }.joined()
        let path = try folder.write("bad.csv", "Date,Amount\n2026-01-05,1.00\n" + bad + "2026-01-06,2.00\n")
        let statement = try CSVReader.read(path: path, mapping: CSVMapping(date: "Date", amount: "Amount"))
        #expect(statement.rejected.count == StatementLimits.listedLines)
        #expect(statement.unlisted.rejected == 500)
        let books = try company()
        let report = try FeedImport.run(file: books, statement: statement, from: path, account: "Checking")
        #expect(report.added == 0 && report.rejectedCount == 1_500)
    }

    @Test func elementsNestedDeeperThanAnyStatementAreRefused() throws {
        let text = "<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>" + String(repeating: "<PAYEE>", count: 2_000) + "</OFX>"
        #expect(throws: StatementError.self) { try OFXReader.parse(text, path: "deep.ofx", style: AmountStyle()) }
    }
}
