import Foundation
import Testing

@testable import LedgerKit

@Suite struct RetentionTests {
    let folder = TemporaryDirectory()
    /// Days counted in UTC, whatever the machine's zone: the tests of the rules themselves.
    let utc = TimeZone(identifier: "UTC")!

    private func nightly(_ days: Int, endingOn last: String, source: String = "acme.db") -> [Snapshot] {
        let end = CivilDate(last)!
        return (0..<days).map { back in
            let day = CivilDate(dayNumber: end.dayNumber - back)
            let manifest = Manifest(
                createdAt: Timestamp.string(day: day, secondOfDay: 7_200), kind: .scheduled,
                company: "Acme", source: source, formatVersion: 1, databaseBytes: 1,
                databaseSha256: "", verify: "clean", counts: nil, splitSum: nil)
            return Snapshot(path: "/b/\(source)-\(day).gz", bytes: 1, manifest: manifest)
        }
    }

    @Test func fourHundredNightsKeepExactlyWhatTheRulesSay() {
        let snapshots = nightly(400, endingOn: "2026-11-21")
        let decisions = Retention.decide(
            snapshots, policy: RetentionPolicy(last: 3, daily: 7, weekly: 4, monthly: 6), timeZone: utc)
        #expect(decisions.count == 400)
        let kept = Set(decisions.filter(\.keep).map { String($0.snapshot.createdAt.prefix(10)) })
        let expected: Set<String> = [
            "2026-11-15", "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21",  // 7 days
            "2026-11-08", "2026-11-01",  // the Sundays ending ISO weeks 45 and 44 (weeks 47 and 46 are in the days)
            "2026-10-31", "2026-09-30", "2026-08-31", "2026-07-31", "2026-06-30",  // month ends
        ]
        #expect(kept == expected)
        let newest = decisions.last!
        #expect(
            newest.reasons.contains("newest") && newest.reasons.contains("last 1")
                && newest.reasons.contains("weekly 2026-W47"))
        let october = decisions.first { $0.snapshot.createdAt.hasPrefix("2026-10-31") }!
        #expect(october.reasons == ["monthly 2026-10"])
    }

    /// Clean snapshots taken at these UTC times.
    private func taken(_ times: [String]) -> [Snapshot] {
        times.map { snapshot("acme", $0, verify: "clean") }
    }

    @Test func daysAreTheMachinesLocalDays() throws {
        // 21:00 and 23:30 on Nov 20 in New York are Nov 21 in UTC.
        let snapshots = taken(["2026-11-21T02:00:00Z", "2026-11-21T04:30:00Z", "2026-11-21T13:00:00Z"])
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let local = Retention.decide(snapshots, policy: RetentionPolicy(daily: 2), timeZone: newYork)
        #expect(local.map(\.reasons) == [[], ["daily 2026-11-20"], ["newest", "daily 2026-11-21", "newest clean"]])
        let inUTC = Retention.decide(snapshots, policy: RetentionPolicy(daily: 2), timeZone: utc)
        #expect(inUTC.map(\.reasons) == [[], [], ["newest", "daily 2026-11-21", "newest clean"]])
    }

    @Test func theDayTheClocksGoBackIsOneDayAndWeeksAndMonthsAreLocalToo() throws {
        // New York, 2026-11-01 (a Sunday) is 25 hours long: 00:30 EDT and 23:30 EST are
        // the same day; 23:30 EDT on Oct 31 is the day before. A fixed -05:00 would put
        // 00:30 EDT on Oct 31.
        let snapshots = taken(["2026-11-01T03:30:00Z", "2026-11-01T04:30:00Z", "2026-11-02T04:30:00Z"])
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let decisions = Retention.decide(
            snapshots, policy: RetentionPolicy(daily: 2, weekly: 2, monthly: 2), timeZone: newYork)
        #expect(
            decisions.map(\.reasons) == [
                ["daily 2026-10-31", "monthly 2026-10"],
                [],
                ["newest", "daily 2026-11-01", "weekly 2026-W44", "monthly 2026-11", "newest clean"],
            ])
    }

    @Test func theNewestAlwaysStaysAndFilesAreJudgedApart() {
        let snapshots = nightly(5, endingOn: "2026-01-10") + nightly(5, endingOn: "2026-01-03", source: "other.db")
        let decisions = Retention.decide(snapshots, policy: RetentionPolicy(weekly: 0, monthly: 0), timeZone: utc)
        let kept = decisions.filter(\.keep).map(\.snapshot.path)
        #expect(kept == ["/b/other.db-2026-01-03.gz", "/b/acme.db-2026-01-10.gz"])
    }

    /// A snapshot named as docs/snapshots.md names them, taken at `time` (its manifest's
    /// time) and listed at `listed`; without `verify`, encrypted and read without a key.
    private func snapshot(
        _ stem: String, _ time: String, listed: String? = nil, verify: String?, company: String = "Acme",
        created: String? = nil
    ) -> Snapshot {
        let name =
            "\(stem)-" + time.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "") + ".db.gz"
        guard let verify else {
            return Snapshot(sealedAt: "/b/" + name + ".age", bytes: 1, kind: nil, listedAt: listed ?? time)!
        }
        var manifest = Manifest(
            createdAt: time, kind: .scheduled, company: company, source: "\(stem).db", formatVersion: 1,
            databaseBytes: 1, databaseSha256: "", verify: verify, counts: nil, splitSum: nil)
        manifest.companyCreatedAt = created
        return Snapshot(path: "/b/" + name, bytes: 1, manifest: manifest, listedAt: listed ?? time)
    }

    /// `snapshot` with its manifest signed by `key`.
    static func signed(_ snapshot: Snapshot, by key: ManifestKey) -> Snapshot {
        var signed = snapshot
        signed.manifest?.hmac = snapshot.manifest.flatMap { try? key.signature(of: $0) }
        return signed
    }

    private func kept(_ decisions: [RetentionDecision]) -> [String: RetentionDecision.Safeguard?] {
        Dictionary(
            uniqueKeysWithValues: decisions.filter(\.keep).map {
                (URL(fileURLWithPath: $0.snapshot.path).lastPathComponent, $0.safeguard)
            })
    }

    @Test func theNewestCleanSnapshotStaysBeyondTheRules() {
        let snapshots = [
            snapshot("acme", "2026-11-01T02:00:00Z", verify: "clean"),
            snapshot("acme", "2026-11-02T02:00:00Z", verify: "clean"),
            snapshot("acme", "2026-11-03T02:00:00Z", verify: "skipped"),
            snapshot("acme", "2026-11-04T02:00:00Z", verify: "findings"),
        ]
        let decisions = Retention.decide(snapshots, policy: RetentionPolicy(last: 1), timeZone: utc)
        #expect(kept(decisions) == ["acme-20261102T020000Z.db.gz": .newestClean, "acme-20261104T020000Z.db.gz": nil])
        #expect(decisions.map(\.reasons) == [[], ["newest clean"], [], ["newest", "last 1"]])
        // A rule that keeps it anyway needs no safeguard.
        let daily = Retention.decide(snapshots, policy: RetentionPolicy(daily: 3), timeZone: utc)
        #expect(
            kept(daily) == [
                "acme-20261102T020000Z.db.gz": nil, "acme-20261103T020000Z.db.gz": nil,
                "acme-20261104T020000Z.db.gz": nil,
            ])
        #expect(daily[1].reasons == ["daily 2026-11-02", "newest clean"])
    }

    /// Two clients' `books.db` backed up to one folder: the newer clean
    /// snapshots of one must not prune the other's last good copy.
    @Test func twoCompaniesOfOneFileNameEachKeepTheirNewestClean() {
        let (acme, bayside) = ("2023-01-01T09:00:00Z", "2024-05-06T10:00:00Z")
        let snapshots = [
            snapshot("books", "2026-11-01T02:00:00Z", verify: "clean", company: "Acme", created: acme),
            snapshot("books", "2026-11-01T03:00:00Z", verify: "clean", company: "Bayside", created: bayside),
            snapshot("books", "2026-11-02T02:00:00Z", verify: "findings", company: "Acme", created: acme),
            snapshot("books", "2026-11-02T03:00:00Z", verify: "clean", company: "Bayside", created: bayside),
            snapshot("books", "2026-11-03T02:00:00Z", verify: nil),
        ]
        let decisions = Retention.decide(snapshots, policy: RetentionPolicy(last: 1), timeZone: utc)
        #expect(
            kept(decisions) == [
                "books-20261101T020000Z.db.gz": .newestClean, "books-20261102T030000Z.db.gz": .newestClean,
                "books-20261103T020000Z.db.gz.age": nil,
            ])
        // Two companies may share a creation time (copies of one template, files made in one
        // second): each name keeps its own newest clean one. A company renamed keeps one more
        // copy for it, its newest clean one under the old name: a rename and a second company
        // made from one template look alike.
        let sameMoment = [
            snapshot("books", "2026-11-01T02:00:00Z", verify: "clean", company: "Acme", created: acme),
            snapshot("books", "2026-11-02T02:00:00Z", verify: "clean", company: "Acme Ltd", created: acme),
            snapshot("books", "2026-11-03T02:00:00Z", verify: "findings", company: "Acme Ltd", created: acme),
        ]
        #expect(
            kept(Retention.decide(sameMoment, policy: RetentionPolicy(last: 1), timeZone: utc)) == [
                "books-20261101T020000Z.db.gz": .newestClean, "books-20261102T020000Z.db.gz": .newestClean,
                "books-20261103T020000Z.db.gz": nil,
            ])
        // Manifests from before company_created_at was kept: told apart by name.
        let untimed = [
            snapshot("books", "2026-11-01T02:00:00Z", verify: "clean", company: "Acme"),
            snapshot("books", "2026-11-02T02:00:00Z", verify: "clean", company: "Bayside", created: bayside),
            snapshot("books", "2026-11-03T02:00:00Z", verify: "clean", company: "Bayside"),
        ]
        #expect(
            kept(Retention.decide(untimed, policy: RetentionPolicy(last: 1), timeZone: utc)) == [
                "books-20261101T020000Z.db.gz": .newestClean, "books-20261103T020000Z.db.gz": nil,
            ])
    }

    /// A file planted in the location with a later date and a `clean` manifest
    /// (storage that takes writes but not deletes) does not leave the books
    /// without the newest clean snapshot this machine signed.
    @Test func theNewestCleanSnapshotThisMachineSignedStays() {
        let key = ManifestKey.random()
        func signed(_ snapshot: Snapshot) -> Snapshot { Self.signed(snapshot, by: key) }
        let snapshots = [
            signed(snapshot("acme", "2026-11-01T02:00:00Z", verify: "clean")),
            signed(snapshot("acme", "2026-11-02T02:00:00Z", verify: "clean")),
            snapshot("acme", "2026-11-03T02:00:00Z", verify: "clean"),
        ]
        #expect(
            kept(Retention.decide(snapshots, policy: RetentionPolicy(last: 1), timeZone: utc)) == [
                "acme-20261103T020000Z.db.gz": nil
            ])
        #expect(
            kept(Retention.decide(snapshots, policy: RetentionPolicy(last: 1), timeZone: utc, signedBy: key)) == [
                "acme-20261102T020000Z.db.gz": nil, "acme-20261103T020000Z.db.gz": nil,
            ])
        // Unsigned, the newer one would have been the newest clean; this machine's clean one stays all the same.
        let unsigned = snapshots.map {
            var plain = $0
            plain.manifest?.hmac = nil
            return plain
        }
        #expect(
            kept(Retention.decide(unsigned, policy: RetentionPolicy(last: 1), timeZone: utc, signedBy: key)) == [
                "acme-20261103T020000Z.db.gz": nil
            ])
        let onlyClean =
            [signed(snapshot("acme", "2026-11-02T02:00:00Z", verify: "clean"))] + [
                signed(snapshot("acme", "2026-11-03T02:00:00Z", verify: "findings")),
                snapshot("acme", "2026-11-04T02:00:00Z", verify: "clean"),
            ]
        #expect(
            kept(Retention.decide(onlyClean, policy: RetentionPolicy(last: 1), timeZone: utc, signedBy: key)) == [
                "acme-20261102T020000Z.db.gz": .newestClean, "acme-20261103T020000Z.db.gz": nil,
                "acme-20261104T020000Z.db.gz": nil,
            ])
    }

    /// Files planted in the location with later dates (storage that takes
    /// writes but not deletes; an encrypted file needs no key to make), and
    /// the location re-dating this machine's files, take no place the keep
    /// rules give: the snapshots this machine signed keep theirs, by their
    /// signed times, and all the others share their own.
    @Test func plantedSnapshotsNeverPushThisMachinesHistoryOutOfTheRules() {
        let key = ManifestKey.random()
        let ours = (1...10).map { day in
            Self.signed(
                snapshot(
                    "acme", String(format: "2026-11-%02dT02:00:00Z", day), listed: "2026-10-01T00:00:00Z",
                    verify: "clean"), by: key)
        }
        let planted = (11...20).map { day in
            snapshot("acme", String(format: "2026-11-%02dT03:00:00Z", day), verify: "clean")
        }
        let junk = (21...22).map { day in snapshot("acme", "2026-11-\(day)T03:00:00Z", verify: nil) }
        let policy = RetentionPolicy(last: 2, daily: 3)
        let decided = Retention.decide(ours + planted + junk, policy: policy, timeZone: utc, signedBy: key)
        #expect(
            decided.filter(\.keep).map(\.snapshot.createdAt) == [
                "2026-11-08T02:00:00Z", "2026-11-09T02:00:00Z", "2026-11-10T02:00:00Z",
                "2026-11-20T03:00:00Z", "2026-11-21T03:00:00Z", "2026-11-22T03:00:00Z",
            ])
        func reasons(_ time: String) -> [String]? { decided.first { $0.snapshot.createdAt == time }?.reasons }
        #expect(reasons("2026-11-10T02:00:00Z") == ["last 1", "daily 2026-11-10", "newest clean"])
        #expect(
            reasons("2026-11-22T03:00:00Z") == [
                "newest", "last 1 (not made here)", "daily 2026-11-22 (not made here)", "may be newest clean",
            ])
        // Without this machine's key, all are one history: the others take every place.
        #expect(
            Retention.decide(ours + planted + junk, policy: policy, timeZone: utc).filter(\.keep).map(
                \.snapshot.createdAt) == ["2026-11-20T03:00:00Z", "2026-11-21T03:00:00Z", "2026-11-22T03:00:00Z"])
    }

    /// Copies of the newest snapshot under `-2`, `-3` names (its very manifest)
    /// take no place of `--keep-last`: the history it keeps is the one taken,
    /// and one of the identical newest stays.
    @Test func copiesOfASnapshotTakeNoPlaceOfKeepLast() throws {
        let key = ManifestKey.random()
        let taken = (1...3).map { day in
            Self.signed(snapshot("acme", String(format: "2026-11-%02dT02:00:00Z", day), verify: "clean"), by: key)
        }
        let newest = try #require(taken[2].manifest)
        let copies = (2...3).map { number in
            Snapshot(
                path: "/b/acme-20261103T020000Z-\(number).db.gz", bytes: 1, manifest: newest,
                listedAt: "2026-11-03T02:00:00Z")
        }
        for signedBy in [key, nil] {
            let decided = Retention.decide(
                taken + copies, policy: RetentionPolicy(last: 3), timeZone: utc, signedBy: signedBy)
            // The copy ranked newest ("-3") keeps the newest's place; the two before it keep theirs.
            #expect(
                decided.filter(\.keep).map(\.snapshot.path) == [
                    taken[0].path, taken[1].path, "/b/acme-20261103T020000Z-3.db.gz",
                ], "\(decided.map { ($0.snapshot.path, $0.reasons) })")
        }
    }

    /// A location that sets the file time of the newest snapshot this machine
    /// signed back by years cannot make it older than the others: its signed
    /// time is believed, so it stays the newest, and restore picks it.
    @Test func aSignedSnapshotsTimeIsNotTheLocations() {
        let key = ManifestKey.random()
        func signed(_ snapshot: Snapshot) -> Snapshot { Self.signed(snapshot, by: key) }
        let snapshots = [
            signed(snapshot("acme", "2026-11-01T02:00:00Z", verify: "clean")),
            signed(snapshot("acme", "2026-11-02T02:00:00Z", listed: "2001-01-01T00:00:00Z", verify: "clean")),
        ]
        // Without the key, the location's word stands: the back-dated one is the older.
        #expect(
            kept(Retention.decide(snapshots, policy: RetentionPolicy(last: 1), timeZone: utc)) == [
                "acme-20261101T020000Z.db.gz": nil
            ])
        #expect(
            kept(Retention.decide(snapshots, policy: RetentionPolicy(last: 1), timeZone: utc, signedBy: key)) == [
                "acme-20261102T020000Z.db.gz": nil
            ])
    }

    @Test func encryptedSnapshotsNoKeyOpensStayWhileAnyMayBeTheNewestClean() {
        let snapshots = [
            snapshot("acme", "2026-11-01T02:00:00Z", verify: nil),
            snapshot("acme", "2026-11-02T02:00:00Z", verify: "clean"),
            snapshot("acme", "2026-11-03T02:00:00Z", verify: nil),
            snapshot("acme", "2026-11-04T02:00:00Z", verify: nil),
            snapshot("acme", "2026-11-05T02:00:00Z", verify: "skipped"),
        ]
        let decisions = Retention.decide(snapshots, policy: RetentionPolicy(last: 1), timeZone: utc)
        #expect(
            kept(decisions) == [
                "acme-20261102T020000Z.db.gz": .newestClean, "acme-20261103T020000Z.db.gz.age": .mayBeNewestClean,
                "acme-20261104T020000Z.db.gz.age": .mayBeNewestClean, "acme-20261105T020000Z.db.gz": nil,
            ])
        // The snapshot a backup has just taken is known to its writer: when clean, nothing older is in doubt.
        var taken = snapshot("acme", "2026-11-06T02:00:00Z", verify: "clean")
        taken.encrypted = true
        let sealed = snapshot("acme", "2026-11-06T02:00:00Z", verify: nil)
        taken.path = sealed.path
        let known = Retention.decide(snapshots + [taken], policy: RetentionPolicy(last: 1), taken: taken, timeZone: utc)
        #expect(kept(known) == ["acme-20261106T020000Z.db.gz.age": nil])
        let standing = CompanyStanding.of(snapshots)
        #expect(standing.map(\.stem) == ["acme"] && standing[0].lastGoodCopy == "/b/acme-20261102T020000Z.db.gz")
        #expect(standing[0].unknown == ["/b/acme-20261104T020000Z.db.gz.age", "/b/acme-20261103T020000Z.db.gz.age"])
        #expect(standing[0].problems == [.newestNotClean])
    }

    /// Encrypted snapshots read without a key, and a plain one planted after
    /// them (any `ledger backup` of any books under that file name makes one):
    /// the planted one is clean and newest, but this machine did not sign it,
    /// and any of the encrypted ones may be the newest clean one it signed, so
    /// they stay. Without this machine's key, the planted one's word stands.
    @Test func aPlantedPlainSnapshotLeavesTheEncryptedOnesNoKeyOpensInPlace() {
        let key = ManifestKey.random()
        let snapshots = [
            snapshot("acme", "2026-11-01T02:00:00Z", verify: nil),
            snapshot("acme", "2026-11-02T02:00:00Z", verify: nil),
            snapshot("acme", "2026-11-03T02:00:00Z", verify: nil),
            snapshot("acme", "2026-11-04T02:00:00Z", verify: "clean", company: "Whatever"),
        ]
        #expect(
            kept(Retention.decide(snapshots, policy: RetentionPolicy(last: 1), timeZone: utc)) == [
                "acme-20261104T020000Z.db.gz": nil
            ])
        #expect(
            kept(Retention.decide(snapshots, policy: RetentionPolicy(last: 1), timeZone: utc, signedBy: key)) == [
                "acme-20261101T020000Z.db.gz.age": .mayBeNewestClean,
                "acme-20261102T020000Z.db.gz.age": .mayBeNewestClean,
                "acme-20261103T020000Z.db.gz.age": .mayBeNewestClean, "acme-20261104T020000Z.db.gz": nil,
            ])
    }

    /// A snapshot this machine signed while its clock ran a year ahead: its
    /// time has not come, so it is not known, and it ranks oldest; before, it
    /// stayed the newest, and the newest clean, for ever, and every later
    /// snapshot was pruned in its favour.
    @Test func aSignedSnapshotFromAClockRunningAheadDoesNotOutrankLaterOnes() {
        let key = ManifestKey.random()
        func signed(_ snapshot: Snapshot) -> Snapshot { Self.signed(snapshot, by: key) }
        let ahead = Timestamp.string(from: Date().addingTimeInterval(180 * 86_400))
        let recent = Timestamp.string(from: Date().addingTimeInterval(-3_600))
        let earlier = Timestamp.string(from: Date().addingTimeInterval(-7_200))
        let snapshots = [
            signed(snapshot("acme", ahead, listed: ahead, verify: "clean")),
            signed(snapshot("acme", earlier, verify: "clean")),
            signed(snapshot("acme", recent, verify: "clean")),
        ]
        let decisions = Retention.decide(snapshots, policy: RetentionPolicy(last: 1), timeZone: utc, signedBy: key)
        #expect(decisions.filter(\.keep).map(\.snapshot.createdAt) == [recent])
        #expect(decisions.first?.snapshot.createdAt == ahead)
    }

    @Test func aNameDatedInTheFutureNeverOutranksOneTakenSince() {
        let future = snapshot("acme", "2099-12-31T00:00:00Z", listed: "2026-12-01T00:00:00Z", verify: "clean")
        let taken = snapshot("acme", "2026-12-04T16:00:00Z", verify: "clean")
        #expect(future.takenAt == Timestamp.parse("2026-12-01T00:00:00Z"))
        // A copy made later (cp, aws s3 cp) keeps the time its snapshot was taken.
        let copied = snapshot("acme", "2026-11-01T02:00:00Z", listed: "2026-12-04T17:00:00Z", verify: "clean")
        #expect(copied.takenAt == Timestamp.parse("2026-11-01T02:00:00Z"))
        let decisions = Retention.decide([taken, copied, future], policy: RetentionPolicy(last: 1), timeZone: utc)
        #expect(decisions.map(\.snapshot) == [copied, future, taken])
        #expect(kept(decisions) == ["acme-20261204T160000Z.db.gz": nil])
        #expect(CompanyStanding.of([future, taken]).first?.newest == taken.path)
    }

    @Test func standingsAreByWholeStemAndJudgeTheAgeOfTheLastGoodCopy() {
        let now = Timestamp.parse("2026-12-04T12:00:00Z")!
        let snapshots = [
            snapshot("acme", "2026-12-01T12:00:00Z", verify: "clean"),
            snapshot("acme-west", "2026-12-04T11:00:00Z", verify: "clean"),
            snapshot("acme-west", "2026-12-04T11:30:00Z", verify: nil),
            snapshot("acme-2", "2026-12-04T11:00:00Z", verify: "findings"),
        ]
        let standings = CompanyStanding.of(snapshots, maxAge: 48 * 3_600, now: now)
        #expect(standings.map(\.stem) == ["acme", "acme-2", "acme-west"])
        #expect(standings.map(\.problems) == [[.goodCopyTooOld], [.newestNotClean, .noGoodCopy], [.newestUnknown]])
        #expect(standings[0].lastGoodCopyAgeSeconds == 3 * 86_400 && standings[2].lastGoodCopyAgeSeconds == 3_600)
        let damaged = CompanyStanding.of(snapshots, verdicts: ["/b/acme-20261201T120000Z.db.gz": "damaged"], now: now)
        #expect(damaged[0].problems == [.newestNotClean, .noGoodCopy] && damaged[0].newestVerify == "damaged")
    }

    /// One client's books.db found damaged last night must not hide behind
    /// another client's clean books.db snapshot in the same place.
    @Test func twoCompaniesOfOneFileNameStandApart() {
        let now = Timestamp.parse("2026-12-04T12:00:00Z")!
        let (acme, bayside) = ("2023-01-01T09:00:00Z", "2024-05-06T10:00:00Z")
        let snapshots = [
            snapshot("books", "2026-12-03T02:00:00Z", verify: "clean", company: "Acme", created: acme),
            snapshot("books", "2026-12-04T02:00:00Z", verify: "findings", company: "Acme Ltd", created: acme),
            snapshot("books", "2026-12-04T03:00:00Z", verify: "clean", company: "Bayside", created: bayside),
        ]
        let standings = CompanyStanding.of(snapshots, now: now)
        #expect(standings.map(\.company) == ["Acme Ltd", "Bayside"])
        #expect(standings.map(\.companyCreatedAt) == [acme, bayside])
        #expect(standings.map(\.problems) == [[.newestNotClean], []])
        #expect(standings[0].lastGoodCopy == "/b/books-20261203T020000Z.db.gz" && standings[0].snapshots == 2)
        // One company alone names none.
        #expect(CompanyStanding.of(Array(snapshots.prefix(2)), now: now).map(\.company) == [nil])
    }

    /// Two copies of one template share its creation time: Alpha's books.db,
    /// damaged last night, must not hide behind Beta's clean one backed up
    /// beside it each night. A rename, whose names follow one another, stays one company.
    @Test func copiesOfOneTemplateStandApartAndARenameDoesNot() {
        let now = Timestamp.parse("2026-12-04T12:00:00Z")!
        let template = "2022-01-01T00:00:00Z"
        let copies = [
            snapshot("books", "2026-12-02T02:00:00Z", verify: "clean", company: "Alpha", created: template),
            snapshot("books", "2026-12-02T02:30:00Z", verify: "clean", company: "Beta", created: template),
            snapshot("books", "2026-12-03T02:00:00Z", verify: "clean", company: "Alpha", created: template),
            snapshot("books", "2026-12-03T02:30:00Z", verify: "clean", company: "Beta", created: template),
            snapshot("books", "2026-12-04T02:00:00Z", verify: "findings", company: "Alpha", created: template),
            snapshot("books", "2026-12-04T02:30:00Z", verify: "clean", company: "Beta", created: template),
            // An older manifest without the time goes with its name.
            snapshot("books", "2026-12-01T02:00:00Z", verify: "clean", company: "Beta"),
        ]
        let standings = CompanyStanding.of(copies, now: now)
        #expect(standings.map(\.company) == ["Alpha", "Beta"])
        #expect(standings.map(\.problems) == [[.newestNotClean], []])
        #expect(standings.map(\.snapshots) == [3, 4])
        #expect(standings[0].lastGoodCopy == "/b/books-20261203T020000Z.db.gz")
        let renamed = [
            snapshot("books", "2026-12-02T02:00:00Z", verify: "clean", company: "Alpha", created: template),
            snapshot("books", "2026-12-03T02:00:00Z", verify: "clean", company: "Alpha", created: template),
            snapshot("books", "2026-12-04T02:00:00Z", verify: "findings", company: "Alpha Ltd", created: template),
        ]
        let one = CompanyStanding.of(renamed, now: now)
        #expect(one.map(\.company) == [nil] && one.map(\.snapshots) == [3])
        #expect(one.first?.problems == [.newestNotClean])
        #expect(one.first?.lastGoodCopy == "/b/books-20261203T020000Z.db.gz")
        // A rename undone (Alpha, Alpha Ltd, Alpha again) is still one company, not one whose
        // "Alpha Ltd" copy grows older for ever.
        let undone = [
            snapshot("books", "2026-12-02T02:00:00Z", verify: "clean", company: "Alpha", created: template),
            snapshot("books", "2026-12-03T02:00:00Z", verify: "clean", company: "Alpha Ltd", created: template),
            snapshot("books", "2026-12-04T02:00:00Z", verify: "clean", company: "Alpha", created: template),
        ]
        let same = CompanyStanding.of(undone, maxAge: 12 * 3_600, now: now)
        #expect(same.map(\.company) == [nil] && same.map(\.snapshots) == [3] && same.allSatisfy(\.ok))
    }

    /// The newest clean snapshot's bytes rotted: prune reads it whole before
    /// removing anything, keeps it for a person (`notWhole`), and keeps the
    /// older clean one as the last good copy, the one check-backups names.
    @Test func aLastGoodCopyThatIsNotWholeDoesNotLetPruneRemoveTheOneBefore() throws {
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 300)
        let backups = folder.file("backups")
        var taken: [Snapshot] = []
        for day in 1...3 {
            taken.append(
                try SnapshotWriter.take(
                    SnapshotRequest(of: path, kind: .scheduled, now: Timestamp.parse("2026-11-0\(day)T02:00:00Z")!),
                    into: SnapshotStore.open(backups)))
        }
        let size = Int(try #require(taken[2].bytes))
        try Damage.write(taken[2].path, at: size / 2, [UInt8](repeating: 0, count: 8))

        let decisions = try Retention.prune(backups, policy: RetentionPolicy(last: 1), dryRun: false).decisions
        #expect(
            kept(decisions) == ["acme-20261102T020000Z.db.gz": .newestClean, "acme-20261103T020000Z.db.gz": nil])
        #expect(decisions[2].reasons == ["newest", "last 1", "not whole"])
        #expect(try SnapshotCatalog.list(backups).snapshots.map(\.path) == [taken[1].path, taken[2].path])
        let check = try SnapshotChecker.checkLocation(backups, maxAge: nil)
        #expect(check.companies.first?.lastGoodCopy == taken[1].path)
    }

    /// Two companies' books.db backed up into one encrypted location, each
    /// with `--keep-last 2`: Beta's one snapshot stays however often Alpha's is
    /// taken, because the keep rules open the earlier snapshots with the key
    /// given (the saved one, from the command line) and see two companies.
    /// Before, a full backup opened none, and Beta's only copy was pruned.
    @Test func twoCompaniesInOneEncryptedLocationKeepEachTheirNewestClean() throws {
        let identity = AgeIdentity.generate()
        let recipients = SnapshotRecipients(recipients: [identity.recipient])
        let keys = SnapshotIdentities(identities: [identity])
        try FileManager.default.createDirectory(atPath: folder.file("a"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder.file("b"), withIntermediateDirectories: true)
        let alpha = try Damage.sample(in: folder, name: "a/books.db", transactions: 60, seed: 1)
        let beta = try Damage.sample(in: folder, name: "b/books.db", transactions: 60, seed: 2)
        try Damage.apply(to: beta) { db in
            try db.execute(sql: "UPDATE company SET name = 'Beta Plumbing', created_at = '2024-03-01T09:00:00Z'")
        }
        let location = folder.file("location")
        let start = Date().addingTimeInterval(-3_600)
        let betas = try BackupRun.perform(
            of: beta, into: location, kind: .manual, recipients: recipients, policy: RetentionPolicy(last: 2),
            now: start, keys: keys
        ).snapshot
        for night in 1...3 {
            _ = try BackupRun.perform(
                of: alpha, into: location, kind: .manual, recipients: recipients, policy: RetentionPolicy(last: 2),
                now: start.addingTimeInterval(Double(night) * 60), keys: keys)
        }
        let left = try SnapshotStore.open(location).list(with: keys).snapshots
        #expect(left.contains { $0.path == betas.path })
        #expect(left.filter { $0.manifest?.company != "Beta Plumbing" }.count == 2)
    }

    @Test func pruneRemovesFilesAndDryRunDoesNot() throws {
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 30)
        let backups = folder.file("backups")
        for day in 1...5 {
            _ = try SnapshotWriter.take(
                SnapshotRequest(
                    of: path, kind: .scheduled,
                    now: Timestamp.parse("2026-11-0\(day)T02:00:00Z")!), into: SnapshotStore.open(backups))
        }
        let dry = try Retention.prune(backups, policy: RetentionPolicy(last: 2), dryRun: true).decisions
        #expect(dry.filter { !$0.keep }.count == 3)
        #expect(try SnapshotCatalog.list(backups).snapshots.count == 5)
        _ = try Retention.prune(backups, policy: RetentionPolicy(last: 2), dryRun: false)
        let left = try SnapshotCatalog.list(backups).snapshots.map { URL(fileURLWithPath: $0.path).lastPathComponent }
        #expect(left == ["acme-20261104T020000Z.db.gz", "acme-20261105T020000Z.db.gz"])
    }

    @Test func checkBackupsReadsEverything() throws {
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 200)
        let backups = folder.file("backups")
        let good = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, now: Timestamp.parse("2026-11-01T02:00:00Z")!),
            into: SnapshotStore.open(backups))
        let bad = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, now: Timestamp.parse("2026-11-02T02:00:00Z")!),
            into: SnapshotStore.open(backups))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: bad.path))
        bytes[bytes.count - 5000] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: bad.path))
        let results = try SnapshotChecker.check(backups)
        #expect(results.map(\.path) == [good.path, bad.path])
        #expect(results[0].ok && results[0].verify == "clean")
        #expect(!results[1].ok && results[1].problem != nil)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: backups).sorted()
                == [
                    ".ledger.lock", URL(fileURLWithPath: good.path).lastPathComponent,
                    URL(fileURLWithPath: bad.path).lastPathComponent,
                ])
    }

    @Test func scheduleWritesUnitsSystemdAccepts() throws {
        let schedule = BackupSchedule(
            ledger: "/usr/bin/env", file: "/srv/books/Acme Plumbing.db", folder: "/srv/backups",
            time: "02:30", policy: RetentionPolicy(daily: 7, weekly: 4))
        #expect(schedule.unitName == "ledger-backup-Acme-Plumbing-6c03288e")
        let paths = try schedule.writeUnits(into: folder.file("units"))
        #expect(
            paths.map { URL(fileURLWithPath: $0).lastPathComponent } == [
                "ledger-backup-Acme-Plumbing-6c03288e.service", "ledger-backup-Acme-Plumbing-6c03288e.timer",
            ])
        let service = try String(contentsOfFile: paths[0], encoding: .utf8)
        #expect(
            service.contains(
                "ExecStart=\"/usr/bin/env\" \"backup\" \"/srv/books/Acme Plumbing.db\" \"--to\" \"/srv/backups\" \"--kind\" \"scheduled\" \"--keep-daily\" \"7\" \"--keep-weekly\" \"4\"\n"
            ))
        let timer = try String(contentsOfFile: paths[1], encoding: .utf8)
        #expect(timer.contains("OnCalendar=*-*-* 02:30:00\n"))
        #expect(timer.contains("Persistent=true\n"))
        #expect(
            schedule.cronLine
                == "30 2 * * * status=$( { { '/usr/bin/env' 'backup' '/srv/books/Acme Plumbing.db' '--to' '/srv/backups' '--kind' 'scheduled' '--keep-daily' '7' '--keep-weekly' '4'; echo $? >&3; } | logger -t ledger-backup-Acme-Plumbing-6c03288e; } 3>&1 ); exit \"${status:-1}\""
        )
        try expectSystemdAccepts(paths)
        #expect(BackupSchedule.validTime("24:00") == nil)
        #expect(BackupSchedule.validTime("2:00") == nil)
    }

    /// `schedule --every 15m --incremental`: a timer (and a crontab line) at every quarter hour running an
    /// incremental backup, which `--list` reads back.
    @Test func aScheduleEveryFifteenMinutesRunsIncrementalBackups() throws {
        var schedule = BackupSchedule(
            ledger: "/usr/bin/env", file: "/srv/books/acme.db", folder: "/srv/backups", time: "02:00",
            policy: RetentionPolicy(last: 96, daily: 7))
        schedule.every = try #require(ScheduleInterval("15m"))
        schedule.incremental = IncrementalJob(fullEvery: "1d", identityFiles: ["/home/office/key.txt"])
        #expect(schedule.when == "every 15m")
        let units = folder.file("units")
        let paths = try schedule.writeUnits(into: units)
        let service = try String(contentsOfFile: paths[0], encoding: .utf8)
        #expect(
            service.contains(
                "ExecStart=\"/usr/bin/env\" \"backup\" \"/srv/books/acme.db\" \"--to\" \"/srv/backups\" \"--kind\" \"scheduled\" \"--keep-last\" \"96\" \"--keep-daily\" \"7\" \"--incremental\" \"--full-every\" \"1d\" \"--identity\" \"/home/office/key.txt\"\n"
            ))
        let timer = try String(contentsOfFile: paths[1], encoding: .utf8)
        #expect(timer.contains("OnCalendar=*-*-* *:00/15:00\n"))
        #expect(timer.contains("RandomizedDelaySec=60\n"), "a fifteenth of the interval, at most a minute")
        #expect(ScheduleInterval("5m")?.randomDelay == 20)
        #expect(schedule.cronLine.hasPrefix("*/15 * * * * status=$( { { '/usr/bin/env' 'backup'"))
        #expect(schedule.cronLine.contains("'--incremental' '--full-every' '1d' '--identity' '/home/office/key.txt'"))
        try expectSystemdAccepts(paths)
        let listed = BackupSchedule.existing(unitFolder: units, crontab: schedule.cronLine)
        #expect(listed.count == 2)
        #expect(listed.allSatisfy { $0.every == "15m" && $0.time == nil && $0.incremental })
        #expect(listed.allSatisfy { $0.file == "/srv/books/acme.db" && $0.folder == "/srv/backups" })
        #expect(listed.first?.when == "every 15m")
    }

    /// Every interval a schedule takes says the same in systemd's calendar and in cron's fields, and reads back.
    @Test func scheduleIntervalsAreClockTimesBothWays() throws {
        for text in ["5m", "10m", "15m", "30min", "1h", "60m", "2h", "3h", "12h"] {
            let interval = try #require(ScheduleInterval(text), "\(text)")
            #expect(ScheduleInterval.parse(onCalendar: interval.onCalendar) == interval, "\(text)")
            let fields = interval.cronFields.split(separator: " ").map(String.init)
            #expect(ScheduleInterval.parse(cronMinute: fields[0], hour: fields[1]) == interval, "\(text)")
        }
        #expect(ScheduleInterval("15m")?.onCalendar == "*-*-* *:00/15:00")
        #expect(ScheduleInterval("1h")?.onCalendar == "*-*-* *:00:00")
        #expect(ScheduleInterval("2h")?.onCalendar == "*-*-* 00/2:00:00")
        #expect(ScheduleInterval("2h")?.cronFields == "0 */2 * * *")
        #expect(ScheduleInterval("120m")?.text == "2h")
        // Not a divisor of an hour or a day, too short, not a number, or no unit.
        for text in ["7m", "45m", "5h", "1m", "0m", "", "m", "15", "15s", "-15m", "99999m", "1.5h", "15 m"] {
            #expect(ScheduleInterval(text) == nil, "\(text)")
        }
    }

    @Test func aSampleOfSnapshotsIsReadAndTheRestListed() throws {
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 30)
        let backups = folder.file("backups")
        for day in 1...4 {
            _ = try SnapshotWriter.take(
                SnapshotRequest(of: path, kind: .scheduled, now: Timestamp.parse("2026-11-0\(day)T02:00:00Z")!),
                into: SnapshotStore.open(backups))
        }
        for (share, read) in [(0.5, 2), (0.01, 1), (0.26, 2), (1.0, 4)] {
            let results = try SnapshotChecker.check(backups, sample: share)
            #expect(results.count == 4 && results.allSatisfy(\.ok))
            #expect(results.filter(\.read).count == read, "a share of \(share)")
            #expect(
                results.filter(\.read).allSatisfy { $0.verify == "clean" }
                    && results.filter { !$0.read }.allSatisfy { $0.verify.isEmpty })
        }
    }

    @Test func aScheduleToObjectStorageKeepsTheSettingsThatAreNotSecrets() throws {
        let environment = [
            "AWS_PROFILE": "books", "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "https://minio.lan:9000",
            "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
            "HOME": "/home/office", "LEDGER_S3_ADDRESSING": "path",
        ]
        #expect(BackupSchedule.keptEnvironment(for: "/srv/backups", from: environment).isEmpty)
        let kept = BackupSchedule.keptEnvironment(for: "s3://acme-books/ledger", from: environment)
        #expect(
            kept == [
                "AWS_PROFILE": "books", "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "https://minio.lan:9000",
                "LEDGER_S3_ADDRESSING": "path",
            ])
        // A user name and password in the endpoint (S3 never uses them) stay out of the unit.
        var withPassword = environment
        withPassword["AWS_ENDPOINT_URL"] = "https://office:hunter2@minio.lan:9000/"
        withPassword["AWS_ENDPOINT_URL_S3"] = "https://office:hunter2@[bad"
        #expect(
            BackupSchedule.keptEnvironment(for: "s3://acme-books/ledger", from: withPassword)["AWS_ENDPOINT_URL"]
                == "https://minio.lan:9000/")
        #expect(
            BackupSchedule.keptEnvironment(for: "s3://acme-books/ledger", from: withPassword)["AWS_ENDPOINT_URL_S3"]
                == nil)
        // The schedule refuses it rather than let the job write elsewhere.
        #expect(throws: ObjectStorageError.self) {
            try BackupSchedule.jobEnvironment(for: "s3://acme-books/ledger", from: withPassword)
        }
        withPassword["AWS_ENDPOINT_URL_S3"] = nil
        #expect(
            try BackupSchedule.jobEnvironment(for: "s3://acme-books/ledger", from: withPassword)["AWS_ENDPOINT_URL"]
                == "https://minio.lan:9000/")
        let schedule = BackupSchedule(
            ledger: "/usr/local/bin/ledger", file: "/srv/books/acme.db", folder: "s3://acme-books/ledger",
            time: "02:00", policy: RetentionPolicy(daily: 7), environment: kept)
        #expect(
            schedule.service.contains(
                "Environment=\"AWS_ENDPOINT_URL=https://minio.lan:9000\"\nEnvironment=\"AWS_PROFILE=books\"\n"))
        #expect(schedule.service.contains("\"--to\" \"s3://acme-books/ledger\""))
        #expect(
            !schedule.service.contains("secret") && !schedule.cronLine.contains("secret")
                && !schedule.cronLine.contains("AKIA"))
        #expect(
            schedule.cronLine.hasPrefix(
                "0 2 * * * status=$( { { AWS_ENDPOINT_URL='https://minio.lan:9000' AWS_PROFILE='books' AWS_REGION='eu-west-1' LEDGER_S3_ADDRESSING='path' '/usr/local/bin/ledger' 'backup'"
            ),
            "\(schedule.cronLine)")
    }

    /// `systemd-analyze verify` accepts the unit files at `paths`, where the machine has it.
    private func expectSystemdAccepts(_ paths: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        process.arguments = ["verify"] + paths
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
