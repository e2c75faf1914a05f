import Foundation
import Testing

@testable import LedgerKit

/// The fleet report's judgement: exact concerns, exact ranks, hostile records and texts.
@Suite struct FleetReportTests {
    static let now = Date(timeIntervalSince1970: 1_796_472_000)  // 2026-12-05T12:00:00Z

    static func at(hoursAgo hours: Double) -> String {
        Timestamp.string(from: now.addingTimeInterval(-hours * 3_600))
    }

    /// A client verified clean, backed up and proven an hour ago.
    static func healthy(_ name: String) -> ClientStatus {
        var status = ClientStatus(client: name, slug: name.lowercased(), updatedAt: at(hoursAgo: 1))
        status.verify = .init(at: at(hoursAgo: 1), outcome: .clean)
        var backup = ClientStatus.BackupStep(at: at(hoursAgo: 1), outcome: .clean)
        backup.lastGoodAt = at(hoursAgo: 1)
        backup.lastGoodBytes = 1_000
        status.backup = backup
        var drill = ClientStatus.DrillStep(at: at(hoursAgo: 1), outcome: .clean)
        drill.lastProvenAt = at(hoursAgo: 1)
        status.drill = drill
        return status
    }

    static func report(_ statuses: [ClientStatus]) -> FleetReport {
        var report = FleetReport(generatedAt: now)
        for status in statuses { report.add(status, slug: status.slug) }
        report.rank()
        return report
    }

    /// A record this machine signed is believed; where it signed any, one it
    /// did not sign (written by hand, planted, or changed since) is not: a
    /// damaged client's record replaced with a clean one needs attention.
    @Test func aRecordNotSignedHereIsNotBelievedWhereOthersAre() throws {
        let key = ManifestKey.random()
        let signed = try Self.healthy("Signed").signed(by: key)
        let decoded = try #require(ClientStatus.decoded(try signed.encoded()))
        #expect(decoded.isSigned(by: key) && !decoded.isSigned(by: ManifestKey.random()))
        var changed = decoded
        changed.verify?.outcome = .clean
        changed.backup?.lastGoodBytes = 2_000
        #expect(!changed.isSigned(by: key), "a field changed since")
        let forged = Self.healthy("Forged")
        func rows(_ key: ManifestKey?, _ statuses: [ClientStatus]) -> [ReportRow] {
            var report = FleetReport(generatedAt: Self.now, signedBy: key)
            for status in statuses { report.add(status, slug: status.slug) }
            report.rank()
            report.rank()
            return report.rows
        }
        let doubted = rows(key, [signed, forged])
        #expect(doubted.map(\.client) == ["Forged", "Signed"])
        #expect(doubted.map(\.level) == [.attention, .good])
        #expect(doubted.map(\.signedHere) == [false, true])
        #expect(doubted[0].concerns.map(\.detail) == [FleetReport.notSignedHere], "once, however often ranked")
        #expect(doubted[0].risk == Concern.unreadableRecord.weight)
        // Without the key, or where it signed none, every record is taken at its word.
        #expect(rows(nil, [signed, forged]).map(\.level) == [.good, .good])
        #expect(rows(ManifestKey.random(), [signed, forged]).map(\.level) == [.good, .good])
    }

    @Test func ranksWorstFirstWithExactConcerns() throws {
        var damaged = Self.healthy("Damaged")
        damaged.verify = .init(at: Self.at(hoursAgo: 2), outcome: .damaged)
        var errors = Self.healthy("Errors")
        var found = ClientStatus.VerifyStep(at: Self.at(hoursAgo: 2), outcome: .findings)
        found.bySeverity = ["error": 3, "warning": 1]
        errors.verify = found
        var stale = Self.healthy("Stale")
        stale.backup?.lastGoodAt = Self.at(hoursAgo: 31)
        var unproven = Self.healthy("Unproven")
        unproven.drill = nil
        var failedDrill = Self.healthy("FailedDrill")
        failedDrill.drill?.outcome = .failed
        failedDrill.drill?.problem = "row counts differ"
        let report = Self.report([Self.healthy("Good"), unproven, stale, errors, failedDrill, damaged])

        #expect(report.rows.map(\.client) == ["Damaged", "Errors", "Stale", "FailedDrill", "Unproven", "Good"])
        #expect(report.rows.map(\.rank) == [1, 2, 3, 4, 5, 6])
        #expect(report.rows.map(\.level) == [.attention, .attention, .attention, .attention, .watch, .good])
        #expect(report.rows[1].concerns.map(\.concern) == [.errors, .warnings])
        #expect(report.rows[1].concerns.map(\.detail) == ["3 errors found", "1 warning found"])
        #expect(report.rows[2].concerns.map(\.detail) == ["last good backup 31 hours ago"])
        #expect(report.rows[2].lastGoodBackupAgeHours == 31)
        #expect(report.rows[3].concerns.map(\.detail) == ["the last restore drill failed: row counts differ"])
        #expect(report.rows[4].concerns.map(\.concern) == [.notProven])
        #expect(report.rows[5].concerns.isEmpty && report.rows[5].risk == 0)
    }

    @Test func nothingIsGreenThatWasNotChecked() {
        var unverified = Self.healthy("Unverified")
        unverified.verify = nil
        var stale = Self.healthy("OldVerify")
        stale.verify = .init(at: Self.at(hoursAgo: 40), outcome: .clean)
        var unknown = Self.healthy("Unknown")
        unknown.verify = .init(at: Self.at(hoursAgo: 1), outcome: .unknown)
        let report = Self.report([unverified, stale, unknown])
        for row in report.rows {
            #expect(row.level == .attention, "\(row.client)")
            #expect(row.concerns.first?.concern == .notVerified, "\(row.client)")
        }
    }

    @Test func aFailedCheckOutranksAGoodBackup() {
        var failedVerify = Self.healthy("A")
        failedVerify.verify = .init(at: Self.at(hoursAgo: 1), outcome: .failed)
        var noBackup = Self.healthy("B")
        noBackup.backup = nil
        let report = Self.report([noBackup, failedVerify])
        #expect(report.rows.map(\.client) == ["A", "B"])
        #expect(report.rows[1].concerns.map(\.detail) == ["no good backup"])
    }

    /// A failed check of the backups makes a row red over the good backup taken since it.
    @Test func aFailedCheckOfTheBackupsOutranksAGoodBackup() {
        var checked = Self.healthy("Checked")
        var check = ClientStatus.CheckStep(at: Self.at(hoursAgo: 5), outcome: .failed)
        check.problems = ["newest-not-clean", "checked-20261205T070000Z.db.gz: not whole"]
        checked.check = check
        var passed = Self.healthy("Passed")
        passed.check = .init(at: Self.at(hoursAgo: 5), outcome: .clean)
        let report = Self.report([passed, checked])
        #expect(report.rows.map(\.client) == ["Checked", "Passed"])
        #expect(report.rows.map(\.level) == [.attention, .good])
        #expect(report.rows[0].risk == 70 && report.rows[0].concerns.map(\.concern) == [.checkFailed])
        #expect(
            report.rows[0].concerns.map(\.detail) == [
                "the last check of the backups failed: newest-not-clean; checked-20261205T070000Z.db.gz: not whole"
            ])
        #expect(report.rows[0].checkOutcome == .failed && report.rows[0].lastCheckAt == Self.at(hoursAgo: 5))
    }

    /// A backup, last good backup or proven restore dated more than the clock's tolerance
    /// ahead is not believed (it would stay on time for ever); a minute ahead is now.
    @Test func timesFarAheadAreNotBelieved() {
        let ahead = "2999-01-01T00:00:00Z"
        var good = Self.healthy("AheadGood")
        good.backup?.lastGoodAt = ahead
        var taken = Self.healthy("AheadTaken")
        taken.backup?.at = ahead
        var proven = Self.healthy("AheadProven")
        proven.drill?.lastProvenAt = ahead
        var soon = Self.healthy("Soon")
        let minute = Timestamp.string(from: Self.now + 60)
        soon.backup?.at = minute
        soon.backup?.lastGoodAt = minute
        soon.drill?.lastProvenAt = minute
        let report = Self.report([soon, proven, taken, good])
        #expect(report.rows.map(\.client) == ["AheadGood", "AheadTaken", "AheadProven", "Soon"])
        #expect(report.rows.map(\.level) == [.attention, .attention, .watch, .good])
        #expect(
            report.rows.map { $0.concerns.map(\.detail) } == [
                ["the last good backup's time is in the future (2999-01-01T00:00:00Z)"],
                ["the last backup's time is in the future (2999-01-01T00:00:00Z)"],
                ["the last proven restore's time is in the future (2999-01-01T00:00:00Z)"],
                [],
            ])
        #expect(report.rows[0].lastGoodBackupAgeHours == nil && report.rows[3].lastGoodBackupAgeHours == 0)
    }

    /// A verify the record calls clean while it lists findings is not believed, and a
    /// severity this version does not know ranks as an error, never as a warning.
    @Test func cleanWithFindingsAndUnknownSeveritiesAreNotTakenAsMild() {
        var cleanButErrors = Self.healthy("CleanButErrors")
        var claimed = ClientStatus.VerifyStep(at: Self.at(hoursAgo: 1), outcome: .clean)
        claimed.bySeverity = ["error": 2]
        claimed.findings = [.init(code: "x", severity: "error", message: "m")]
        cleanButErrors.verify = claimed
        var odd = Self.healthy("OddSeverity")
        var critical = ClientStatus.VerifyStep(at: Self.at(hoursAgo: 1), outcome: .findings)
        critical.bySeverity = ["critical": 3]
        odd.verify = critical
        var unlabelled = Self.healthy("Unlabelled")
        var fatal = ClientStatus.VerifyStep(at: Self.at(hoursAgo: 1), outcome: .findings)
        fatal.findings = [.init(code: "x", severity: "fatal", message: "m")]
        unlabelled.verify = fatal
        var warned = Self.healthy("Warned")
        var warning = ClientStatus.VerifyStep(at: Self.at(hoursAgo: 1), outcome: .findings)
        warning.bySeverity = ["warning": 1]
        warned.verify = warning
        let report = Self.report([warned, unlabelled, odd, cleanButErrors])
        #expect(report.rows.map(\.client) == ["CleanButErrors", "OddSeverity", "Unlabelled", "Warned"])
        #expect(report.rows.map(\.level) == [.attention, .attention, .attention, .watch])
        #expect(
            report.rows.map { $0.concerns.map(\.detail) } == [
                ["the last verify says clean, yet lists findings", "2 errors found"],
                ["3 findings of a severity this version does not know"],
                ["findings of unknown severity"],
                ["1 warning found"],
            ])
        #expect(report.rows.map(\.risk) == [90, 80, 80, 50])
        #expect(report.rows.map(\.errors) == [2, 3, 0, 0])
        #expect(report.rows[0].verifyOutcome == .unknown)
        #expect(report.html().contains("unclear, see details") && !report.html().contains("could not run"))
    }

    @Test func nightsAndGrowthAndFreePages() {
        var status = Self.healthy("Growing")
        let today = CivilDate(Self.now)
        status.history = [
            .init(day: (today + -8).description, outcome: .clean, fileBytes: 10_000_000, snapshotBytes: 3_000_000),
            .init(day: (today + -1).description, outcome: .findings, fileBytes: 12_000_000),
            .init(day: today.description, outcome: .failed, fileBytes: 14_000_000, snapshotBytes: 4_000_000),
        ]
        status.size = .init(at: Self.at(hoursAgo: 1), bytes: 14_000_000, pageSize: 4_096, freePages: 1_000)
        let row = Self.report([status]).rows[0]
        #expect(row.nights.count == 30)
        #expect(row.nights.suffix(3) == [.missed, .warning, .failed])
        #expect(row.nights[21] == .good)
        #expect(row.nights.filter { $0 == .missed }.count == 27)
        #expect(row.concerns.map(\.detail) == ["grew 40% in a week", "29% of the file is free pages"])
        #expect(row.freePagesPercent == 29)
        #expect(row.sizes.map(\.fileBytes) == [10_000_000, 12_000_000, 14_000_000])
    }

    @Test func unreadableRecordsStillMakeARow() {
        var report = FleetReport(generatedAt: Self.now)
        report.add(slug: "missing", data: nil)
        report.add(slug: "foreign", data: Data(#"{"format":"other","version":1}"#.utf8))
        report.add(
            slug: "later",
            data: Data(#"{"format":"ledger-client-status","version":99,"client":"x","slug":"x","updated_at":"x"}"#.utf8)
        )
        report.add(slug: "huge", data: Data(repeating: 0x20, count: ClientStatus.maximumBytes + 1))
        report.rank()
        #expect(report.rows.map(\.slug) == ["foreign", "huge", "later", "missing"])
        #expect(report.rows.allSatisfy { $0.concerns.map(\.concern) == [.unreadableRecord] && $0.level == .attention })
    }

    @Test func hostileTextsAreEscapedInHTMLAndCSV() throws {
        var status = Self.healthy("<script>alert(1)</script>")
        var found = ClientStatus.VerifyStep(at: Self.at(hoursAgo: 1), outcome: .findings)
        found.bySeverity = ["warning": 1]
        found.findings = [.init(code: "x\"><img src=x>", severity: "warning", message: "</td><script>")]
        status.verify = found
        var formula = Self.healthy("=HYPERLINK(\"http://evil\")")
        formula.slug = "formula"
        let report = Self.report([status, formula])
        let html = report.html()
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("href=\"http"))
        let csv = report.csv()
        #expect(csv.contains(",\"'=HYPERLINK(\"\"http://evil\"\")\","))
        #expect(FleetReport.csvField("-12") == "-12")
        #expect(FleetReport.csvField("-x") == "'-x")
        #expect(FleetReport.csvField("Evil Ltd\r\n=cmd") == "\"Evil Ltd\r\n=cmd\"")
        #expect(FleetReport.csvField("Evil Ltd\n") == "\"Evil Ltd\n\"")
    }

    /// A formula behind spaces or invisible characters is marked too, and a
    /// direction override cannot make a name show as another client's.
    @Test func hiddenFormulasAndDirectionMarksAreDefused() {
        for hidden in [" =1+1", "\u{A0}=1+1", "\u{200B}=1+1", "\u{FEFF}=1+1", "\u{FF1D}1+1", "\u{2028}@SUM(A1)"] {
            #expect(
                FleetReport.csvField(hidden).hasPrefix("'") || FleetReport.csvField(hidden).hasPrefix("\"'"),
                "\(hidden)")
        }
        #expect(FleetReport.csvField(" 12") == " 12" && FleetReport.csvField("Acme Ltd") == "Acme Ltd")
        var spoof = Self.healthy("Acme Ltd\u{202E}")
        spoof.slug = "dtl-emca"
        let html = Self.report([spoof]).html()
        #expect(!html.contains("\u{202E}") && html.contains("<bdi>Acme Ltd\u{FFFD}</bdi>"))
        #expect(FleetReport.csvField("Acme Ltd\u{202E}") == "Acme Ltd\u{FFFD}")
        #expect(
            Self.report([spoof]).csv().contains("Acme Ltd\u{FFFD}") && !Self.report([spoof]).csv().contains("\u{202E}"))
    }

    /// A record copied into another client's folder, or naming snapshots
    /// outside its own, is not believed: its good news is not this client's.
    @Test func aRecordOfAnotherFolderIsNotBelieved() {
        var report = FleetReport(generatedAt: Self.now)
        report.add(Self.healthy("Acme"), slug: "beta")
        var stray = Self.healthy("Gamma")
        stray.backup?.lastGoodSnapshot = "/srv/fleet/acme/acme-20261205T110000Z.db.gz"
        report.add(stray, slug: "gamma")
        var own = Self.healthy("Delta")
        own.backup?.lastGoodSnapshot = "s3://books/fleet/delta/delta-20261205T110000Z.db.gz"
        report.add(own, slug: "delta")
        report.rank()
        #expect(report.rows.map(\.slug) == ["beta", "gamma", "delta"])
        #expect(report.rows.map(\.level) == [.attention, .attention, .good])
        #expect(
            report.rows.prefix(2).map { $0.concerns.first?.detail } == [
                "the record is another client's (it names the folder acme): copied or planted",
                "the record names a snapshot outside the client's folder (/srv/fleet/acme/acme-20261205T110000Z.db.gz)",
            ])
    }

    /// A semicolon or a tab is quoted: a spreadsheet whose list separator is one of them must not
    /// split a record's name into a cell that starts with `=`.
    @Test func aSemicolonOrTabInAFieldIsQuoted() {
        #expect(FleetReport.csvField("a;=cmd|' /C calc'!A0") == "\"a;=cmd|' /C calc'!A0\"")
        #expect(FleetReport.csvField("a\t=cmd|' /C calc'!A0") == "\"a\t=cmd|' /C calc'!A0\"")
        #expect(FleetReport.csvField("\t=cmd") == "\"'\t=cmd\"")
        #expect(FleetReport.csvField("Acme Ltd") == "Acme Ltd")
        var status = Self.healthy("Acme;=cmd|' /C calc'!A0")
        status.slug = "acme"
        let lines = Self.report([status]).csv().components(separatedBy: "\r\n")
        let hour = Self.at(hoursAgo: 1)
        #expect(
            lines[1] == "1,\"Acme;=cmd|' /C calc'!A0\",acme,good,0,,\(hour),clean,0,0,\(hour),1,1000,\(hour),clean,,",
            "\(lines[1])")
    }

    /// Counts and sizes at the edges of 64 bits cost their own row nothing and trap nowhere.
    @Test func countsAndSizesAtTheEdgesMakeARow() throws {
        var status = Self.healthy("Edges")
        var found = ClientStatus.VerifyStep(at: Self.at(hoursAgo: 1), outcome: .findings)
        found.bySeverity = ["error": Int.max, "warning": 1]
        found.findings = [.init(code: "x", severity: "error", message: "m")]
        status.verify = found
        let today = CivilDate(Self.now)
        status.history = [
            .init(day: (today + -8).description, outcome: .clean, fileBytes: 1),
            .init(day: today.description, outcome: .clean, fileBytes: Int64.max),
        ]
        var negative = Self.healthy("Negative")
        var odd = ClientStatus.VerifyStep(at: Self.at(hoursAgo: 1), outcome: .findings)
        odd.bySeverity = ["error": Int.min, "warning": -3]
        negative.verify = odd
        let report = Self.report([status, negative])
        let row = try #require(report.rows.first { $0.client == "Edges" })
        #expect(row.errors == Int(Int32.max) && row.warnings == 1)
        #expect(row.concerns.map(\.detail).contains("grew 100000000% in a week"), "\(row.concerns)")
        #expect(report.rows.first { $0.client == "Negative" }.map { ($0.errors, $0.warnings) } ?? (1, 1) == (0, 0))
        #expect(report.html().contains("The first 1 of \(Int(Int32.max) + 1)"))
        _ = report.csv()
        _ = try report.json()
    }

    /// A record's long texts are cut when it is judged (a name, a problem, a finding's code,
    /// severity and message: 500 scalars, marked), so the page grows with the clients, never
    /// with what a hostile record holds.
    @Test func aRecordsLongTextsAreCutSoThePageGrowsWithTheClientsOnly() throws {
        var status = Self.healthy(String(repeating: "N", count: 4_000))
        var found = ClientStatus.VerifyStep(at: Self.at(hoursAgo: 1), outcome: .findings)
        found.bySeverity = ["error": 50]
        found.findings = (0..<50).map { _ in
            .init(
                code: String(repeating: "c", count: 100), severity: "error",
                message: String(repeating: "<", count: 4_000))
        }
        status.verify = found
        status.drill?.outcome = .failed
        status.drill?.problem = String(repeating: "p", count: 20_000)
        let data = try status.encoded()
        #expect(data.count <= ClientStatus.maximumBytes)
        var report = FleetReport(generatedAt: Self.now)
        for index in 0..<10 {
            status.slug = "hostile-\(index)"
            report.add(slug: status.slug, data: try status.encoded())
        }
        report.rank()
        let row = report.rows[0]
        #expect(row.client == String(repeating: "N", count: 500) + "… (cut)")
        #expect(row.findings.count == 50)
        #expect(row.findings.first?.message == String(repeating: "<", count: 500) + "… (cut)")
        #expect(row.findings.first?.code == String(repeating: "c", count: 64) + "… (cut)")
        // Past the row's room (4 KiB of the record's texts), a finding keeps the cut mark alone.
        #expect(row.findings.last?.message == "… (cut)" && row.findings.last?.code == "… (cut)")
        #expect(row.findings.allSatisfy { $0.severity == "error" })
        let kept = row.findings.reduce(0) { $0 + $1.code.utf8.count + $1.severity.utf8.count + $1.message.utf8.count }
        #expect(kept <= FleetReport.rowTextBytes + 50 * 3 * "… (cut)".utf8.count, "\(kept) bytes")
        #expect(
            row.concerns.map(\.detail) == [
                "50 errors found", "the last restore drill failed: " + String(repeating: "p", count: 469) + "… (cut)",
            ])
        let page = report.html()
        #expect(page.utf8.count < 10 * 150_000, "\(page.utf8.count) bytes")
        #expect(FleetReport.cut("e\u{301}\u{301}\u{301}", 2) == "e\u{301}… (cut)")
    }

    @Test func jsonCarriesTheRanking() throws {
        var damaged = Self.healthy("Damaged")
        damaged.verify = .init(at: Self.at(hoursAgo: 2), outcome: .damaged)
        let data = try Self.report([Self.healthy("Good"), damaged]).json()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["format"] as? String == "ledger-fleet-report")
        #expect(object["attention"] as? Int == 1 && object["good"] as? Int == 1)
        let clients = try #require(object["clients"] as? [[String: Any]])
        #expect(clients.map { $0["client"] as? String } == ["Damaged", "Good"])
        #expect(clients[0]["last_verify_at"] as? String == Self.at(hoursAgo: 2))
    }

    /// Seeded: mutated and random records never trap, always make exactly one row each,
    /// and never put a raw tag of theirs into the page.
    @Test(arguments: 0..<8) func hostileRecordsNeverTrap(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 7_919 &+ 3)
        var template = Self.healthy("Template")
        template.history = [.init(day: "2026-12-01", outcome: .clean, fileBytes: 5, snapshotBytes: 2)]
        let valid = try template.encoded()
        var report = FleetReport(generatedAt: Self.now)
        let count = 200
        for index in 0..<count {
            var bytes = [UInt8](valid)
            switch random.next() % 3 {
            case 0:
                for _ in 0..<(1 + Int(random.next() % 8)) {
                    bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            case 1:
                bytes = (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            default:
                let text = String(decoding: bytes, as: UTF8.self)
                    .replacingOccurrences(of: "Template", with: "<b>\(index)</b>")
                    .replacingOccurrences(of: "2026-12-01", with: ["9999-99-99", "", "2026-02-30", "x"][index % 4])
                bytes = Array(text.utf8)
            }
            report.add(slug: "client-\(index)", data: Data(bytes))
        }
        report.rank()
        #expect(report.rows.count == count)
        #expect(Set(report.rows.map(\.slug)).count == count)
        let html = report.html()
        #expect(!html.contains("<b>"))
        _ = report.csv()
        _ = try report.json()
    }
}
