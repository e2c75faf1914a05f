import Foundation
import GRDB
import Testing

@testable import LedgerKit

@Suite struct StatusUpdateTests {
    let folder = TemporaryDirectory()

    /// One entry a night, the worst of its steps; at most `historyLimit` nights.
    @Test func nightsKeepTheWorstOutcomeAndAreBounded() {
        var status = ClientStatus(client: "Acme", slug: "acme", updatedAt: "2026-12-01T00:00:00Z")
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        for night in 0..<(ClientStatus.historyLimit + 5) {
            let moment = start + Double(night) * 86_400
            StatusUpdates.night(&status, outcome: .clean, now: moment, fileBytes: 10)
            StatusUpdates.night(&status, outcome: night == 3 ? .failed : .clean, now: moment + 60)
            StatusUpdates.night(&status, outcome: .findings, now: moment + 120, snapshotBytes: 5)
        }
        let history = status.history ?? []
        #expect(history.count == ClientStatus.historyLimit)
        #expect(history.allSatisfy { $0.outcome == .findings && $0.fileBytes == 10 && $0.snapshotBytes == 5 })
        #expect(Set(history.map(\.day)).count == history.count)
    }

    /// A record written and read back through a location is the same record; one that is not ours is not read.
    @Test func aRecordRoundTripsThroughAFolderLocation() throws {
        let client = FleetClient(name: "Smith & Sons", slug: "smith-sons", file: "/books/smith.db")
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let problem = StatusUpdates.update(client, root: folder.path, now: now) { status in
            status.verify = ClientStatus.VerifyStep(at: "2026-12-01T00:00:00Z", outcome: .damaged)
        }
        #expect(problem == nil)
        let read = try StatusUpdates.load(client, root: folder.path, now: now)
        #expect(read.verify?.outcome == .damaged)
        #expect(read.file == "/books/smith.db")
        let path = folder.file("smith-sons/" + ClientStatus.objectName)
        try Data(#"{"format":"someone-else","client":"x","slug":"y","updated_at":"z"}"#.utf8).write(
            to: URL(fileURLWithPath: path))
        #expect(try StatusUpdates.load(client, root: folder.path, now: now).verify == nil)
    }

    /// A sealed record keeps no free words of any step: each problem becomes a
    /// fixed phrase (a drill of another company's books names neither company),
    /// codes and snapshot names stay, and sealing again changes nothing.
    @Test func aSealedRecordKeepsNoFreeWordsOfAnyStep() throws {
        var status = ClientStatus(client: "acme", slug: "acme", updatedAt: "2026-12-01T00:00:00Z")
        var verify = ClientStatus.VerifyStep(at: "2026-12-01T00:00:00Z", outcome: .failed)
        verify.problem = "/books/acme.db is not a company file: Acme Trading Ltd, 1,234.56"
        verify.findings = [
            ClientStatus.FindingLine(
                code: "account-balance-mismatch", severity: "error",
                message: "Account 'Acme Trading Ltd' (1) shows a balance of 1,234.56")
        ]
        status.verify = verify
        var backup = ClientStatus.BackupStep(at: "2026-12-01T00:00:00Z", outcome: .failed)
        backup.problem = "cannot write /mnt/nas/fleet/acme: Acme Trading Ltd"
        backup.lastGoodSnapshot = "/mnt/nas/fleet/acme/acme-20261130T020000Z.db.gz.age"
        status.backup = backup
        var drill = ClientStatus.DrillStep(at: "2026-12-01T00:00:00Z", outcome: .failed)
        drill.problem =
            "it holds the books of another company, Globex Corp (created 2026-01-02T00:00:00Z), "
            + "not Acme Trading Ltd (created 2025-03-04T00:00:00Z)"
        status.drill = drill
        var check = ClientStatus.CheckStep(at: "2026-12-01T00:00:00Z", outcome: .failed)
        check.problems = [
            "newest-not-clean", "no-good-copy",
            "acme-20261130T020000Z.db.gz.age: its manifest says Acme Trading Ltd",
            "acme-20261129T020000Z.db.gz: cannot be decrypted: Acme Trading Ltd",
            "could not check: Acme Trading Ltd", "no snapshots in /mnt/nas/fleet/acme", "the server said Acme",
        ]
        status.check = check

        status.seal()
        let expected = (
            verify: ClientStatus.seeItsOutput, backup: ClientStatus.seeItsOutput,
            drill: "it holds another company's books",
            check: [
                "newest-not-clean", "no-good-copy", "acme-20261130T020000Z.db.gz.age: not whole",
                "acme-20261129T020000Z.db.gz: not whole", "see the output on the machine that ran it", "no snapshots",
            ]
        )
        #expect(ClientStatus.seeItsOutput == "see the output on the machine that ran it")
        #expect(status.sealed == true)
        #expect(status.verify?.problem == expected.verify)
        #expect(
            status.verify?.findings == [
                ClientStatus.FindingLine(
                    code: "account-balance-mismatch", severity: "error",
                    message: "Account balances that disagree with their transactions")
            ])
        #expect(status.backup?.problem == expected.backup)
        #expect(status.backup?.lastGoodSnapshot == "/mnt/nas/fleet/acme/acme-20261130T020000Z.db.gz.age")
        #expect(status.drill?.problem == expected.drill)
        #expect(status.check?.problems == expected.check)
        let text = String(decoding: try status.encoded(), as: UTF8.self)
        for word in ["Acme Trading", "Globex", "1,234.56", "server", "decrypted", "/books"] {
            #expect(!text.contains(word), "\(word): \(text)")
        }
        var again = status
        again.seal()
        #expect(again == status)

        // Problems that quote nothing stay as they are.
        var plain = ClientStatus(client: "acme", slug: "acme", updatedAt: "2026-12-01T00:00:00Z")
        var damaged = ClientStatus.VerifyStep(at: "2026-12-01T00:00:00Z", outcome: .damaged)
        damaged.problem = "SQLite cannot read the whole file: run ledger rebuild"
        plain.verify = damaged
        var forged = ClientStatus.DrillStep(at: "2026-12-01T00:00:00Z", outcome: .failed)
        forged.problem = "the splits add up to another sum than the one recorded"
        plain.drill = forged
        plain.seal()
        #expect(plain.verify?.problem == "SQLite cannot read the whole file: run ledger rebuild")
        #expect(plain.drill?.problem == "the splits add up to another sum than the one recorded")
        forged.problem = "there is no snapshot to restore in /mnt/nas/fleet/acme"
        plain.drill = forged
        plain.seal()
        #expect(plain.drill?.problem == "there is no snapshot to restore")
    }

    /// A manifest written before the drill's fields were added still decodes, without them.
    @Test func anOldManifestStillDecodes() throws {
        let old =
            #"{"created_at":"2026-11-21T02:00:00Z","kind":"manual","source":"acme.db","format_version":1,"#
            + #""database_bytes":4096,"#
            + #""database_sha256":"00","verify":"clean","counts":{"accounts":3}}"#
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(old.utf8))
        #expect(manifest.tableCounts == nil && manifest.trialBalanceSha256 == nil)
        #expect(manifest.counts == ["accounts": 3])
    }

    /// The trial balance's digest changes when an amount moves between accounts, not when nothing does.
    @Test func theTrialBalanceDigestSeesAMovedAmount() throws {
        let path = try Damage.sample(in: folder, transactions: 200)
        let before = try BookFigures.read(path: path)
        #expect(try BookFigures.read(path: path) == before)
        #expect(before.tableCounts["transactions"] == 200)
        try Damage.apply(to: path) { db in
            try db.execute(
                sql: """
                    UPDATE splits SET account_id = CASE WHEN account_id = (SELECT MIN(id) FROM accounts)
                    THEN (SELECT MAX(id) FROM accounts) ELSE (SELECT MIN(id) FROM accounts) END
                    WHERE id = (SELECT MIN(id) FROM splits WHERE amount != 0)
                    """)
        }
        let after = try BookFigures.read(path: path)
        #expect(after.trialBalanceSha256 != before.trialBalanceSha256)
        #expect(after.tableCounts == before.tableCounts)
    }

    /// A backup takes the trial balance's digest from its verify's sums: it must
    /// be the digest the SQL gives, which a drill recomputes on the restored file.
    @Test func theVerifysAccountTotalsGiveTheSQLsDigest() throws {
        let path = try Damage.sample(in: folder, transactions: 300)
        // An account with no lines gets two that cancel out: it has no line in the trial balance.
        let cancelled = try Damage.apply(to: path) { db -> Int64 in
            let id = try #require(
                try Int64.fetchOne(
                    db, sql: "SELECT MIN(id) FROM accounts WHERE id NOT IN (SELECT account_id FROM splits)"))
            try db.execute(
                sql: """
                    INSERT INTO splits (transaction_id, account_id, amount, cleared)
                    SELECT transaction_id, ?, amount, 'n' FROM splits WHERE id = (SELECT MIN(id) FROM splits WHERE amount > 0);
                    INSERT INTO splits (transaction_id, account_id, amount, cleared)
                    SELECT transaction_id, ?, -amount, 'n' FROM splits WHERE id = (SELECT MIN(id) FROM splits WHERE amount > 0)
                    """, arguments: [id, id])
            return id
        }
        let report = try Verifier.verify(path: path, quick: true)
        let totals = try #require(report.accountTotals)
        #expect(totals.values.contains { $0 < 0 } && totals.values.contains { $0 > 0 })
        #expect(totals.values.contains(0))
        #expect(totals[cancelled] == 0)
        let bySQL = try BookFigures.read(path: path)
        #expect(try BookFigures.read(path: path, accountTotals: totals) == bySQL)

        // A split whose account is no row: the pass cannot vouch for the sums by account.
        try Damage.apply(to: path) { db in
            try db.execute(sql: "UPDATE splits SET account_id = 987654 WHERE id = (SELECT MIN(id) FROM splits)")
        }
        #expect(try Verifier.verify(path: path, quick: true).accountTotals == nil)
    }
}
