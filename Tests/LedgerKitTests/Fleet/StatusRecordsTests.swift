import Foundation
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// The report's reading of a location: every client folder makes exactly one row, from a
/// folder and from object storage alike, whatever the folder holds.
@Suite struct StatusRecordsTests {
    static func record(_ name: String, _ slug: String) throws -> Data {
        var status = ClientStatus(client: name, slug: slug, updatedAt: "2026-12-05T10:00:00Z")
        status.verify = .init(at: "2026-12-05T10:00:00Z", outcome: .clean)
        return try status.encoded()
    }

    /// Each client's name from its record, "-" when its record could not be used, or
    /// "refused" when it was not read at all (a link).
    static func read(_ location: String, environment: [String: String]) throws -> [String: String] {
        var seen: [String: String] = [:]
        try StatusRecords.forEach(in: location, environment: environment) { slug, data, refused, _ in
            seen[slug] = refused.map { _ in "refused" } ?? data.flatMap(ClientStatus.decoded)?.client ?? "-"
        }
        return seen
    }

    @Test func readsEveryClientFolderOfAFolder() throws {
        let folder = TemporaryDirectory()
        let root = folder.file("fleet")
        for (slug, data) in [
            ("acme", try Self.record("Acme", "acme")), ("bobs", Data("{not json".utf8)),
            ("big", Data(repeating: 0x20, count: ClientStatus.maximumBytes + 10)),
        ] {
            try FileManager.default.createDirectory(atPath: root + "/" + slug, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: root + "/" + slug + "/" + ClientStatus.objectName))
        }
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/fleet-journal.json"))
        try FileManager.default.createDirectory(atPath: root + "/.hidden", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: root + "/acme")
        // A record that is a link to a file of this machine is not read through.
        let outside = folder.file("elsewhere.json")
        try Self.record("Elsewhere", "planted").write(to: URL(fileURLWithPath: outside))
        try FileManager.default.createDirectory(atPath: root + "/planted", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: root + "/planted/" + ClientStatus.objectName, withDestinationPath: outside)
        let seen = try Self.read(root, environment: [:])
        // A link is never followed, but still makes a row: a client never drops out silently.
        #expect(seen == ["acme": "Acme", "bobs": "-", "big": "-", "empty": "-", "link": "refused", "planted": "-"])
        // Nor is it read, merged and written back by a step.
        let before = try Data(contentsOf: URL(fileURLWithPath: outside))
        let client = FleetClient(name: "Planted", slug: "planted", file: folder.file("planted.db"))
        let problem = StatusUpdates.update(client, root: root, now: Date()) { $0.size = nil }
        #expect(problem?.contains("it is a link") == true, "\(problem ?? "")")
        #expect(try Data(contentsOf: URL(fileURLWithPath: outside)) == before)
        #expect(throws: ReportError.locationMissing(folder.file("nowhere"))) {
            try Self.read(folder.file("nowhere"), environment: [:])
        }
        try FileManager.default.createDirectory(atPath: folder.file("unmounted/.x"), withIntermediateDirectories: true)
        #expect(throws: ReportError.noClientFolders(folder.file("unmounted"))) {
            try Self.read(folder.file("unmounted"), environment: [:])
        }
    }

    /// A record's word that a good backup exists is held against the location:
    /// a snapshot removed since (by hand, or by whoever should not have), or emptied, or a folder
    /// in its place, is gone, and the report says so.
    @Test func aLastGoodSnapshotRemovedSinceIsFoundGone() throws {
        let folder = TemporaryDirectory()
        let root = folder.file("fleet")
        let snapshot = root + "/acme/acme-20261205T100000Z.db.gz"
        var status = ClientStatus(client: "Acme", slug: "acme", updatedAt: "2026-12-05T10:00:00Z")
        var backup = ClientStatus.BackupStep(at: "2026-12-05T10:00:00Z", outcome: .clean)
        backup.lastGoodAt = "2026-12-05T10:00:00Z"
        backup.lastGoodSnapshot = snapshot
        backup.lastGoodBytes = 2
        status.backup = backup
        try FileManager.default.createDirectory(atPath: root + "/acme", withIntermediateDirectories: true)
        try status.encoded().write(to: URL(fileURLWithPath: root + "/acme/" + ClientStatus.objectName))
        try Data("gz".utf8).write(to: URL(fileURLWithPath: snapshot))
        func gone() throws -> [String: [String]] {
            var found: [String: [String]] = [:]
            try StatusRecords.forEach(in: root, environment: [:], checkingSnapshots: true) { slug, _, _, gone in
                found[slug] = gone
            }
            return found
        }
        #expect(try gone() == ["acme": []])
        try Data().write(to: URL(fileURLWithPath: snapshot))
        #expect(try gone() == ["acme": [snapshot]], "emptied")
        try FileManager.default.removeItem(atPath: snapshot)
        try FileManager.default.createDirectory(atPath: snapshot, withIntermediateDirectories: false)
        #expect(try gone() == ["acme": [snapshot]], "a folder in its place")
        try FileManager.default.removeItem(atPath: snapshot)
        #expect(try gone() == ["acme": [snapshot]])
        var report = FleetReport(generatedAt: Timestamp.parse("2026-12-05T11:00:00Z")!)
        report.add(status, slug: "acme", gone: [snapshot])
        #expect(report.rows.first?.level == .attention)
        #expect(
            report.rows.first?.concerns.contains {
                $0.concern == .backupOverdue
                    && $0.detail
                        == "the last good backup is gone from the location, or is no longer as it was written (\(snapshot))"
            } == true)
    }

    /// A record this machine signed, put back in the location after a later one
    /// was written (a damaged client's clean record of last week), passes its
    /// signature; it is older than the one this machine last wrote there, and not believed.
    @Test func aRecordPutBackAfterALaterOneIsNotBelieved() throws {
        let folder = TemporaryDirectory()
        let root = folder.file("fleet")
        let client = FleetClient(name: "Acme", slug: "acme", file: folder.file("acme.db"))
        let record = root + "/acme/" + ClientStatus.objectName
        let monday = try #require(Timestamp.parse("2026-12-07T02:00:00Z"))
        #expect(
            StatusUpdates.update(client, root: root, now: monday) {
                $0.verify = .init(at: "2026-12-07T02:00:00Z", outcome: .clean)
            } == nil)
        let clean = try Data(contentsOf: URL(fileURLWithPath: record))
        #expect(
            StatusUpdates.update(client, root: root, now: monday + 86_400) {
                $0.verify = .init(at: "2026-12-08T02:00:00Z", outcome: .damaged)
            } == nil)
        #expect(StatusRecords.lastWritten("acme", in: root) == "2026-12-08T02:00:00Z")
        #expect(StatusRecords.lastWritten("acme", in: root + "/") == "2026-12-08T02:00:00Z")
        func row() throws -> ReportRow {
            var report = FleetReport(generatedAt: monday + 90_000)
            try StatusRecords.forEach(in: root, environment: [:]) { slug, data, refused, gone in
                report.add(
                    slug: slug, data: data, refused: refused, gone: gone,
                    writtenHere: StatusRecords.lastWritten(slug, in: root))
            }
            report.rank()
            return try #require(report.rows.first)
        }
        #expect(try row().concerns.first?.concern == .damaged)
        try clean.write(to: URL(fileURLWithPath: record))
        let putBack = try row()
        #expect(putBack.level == .attention)
        #expect(
            putBack.concerns.first?.detail
                == "the record is older than the one this computer last wrote there (2026-12-08T02:00:00Z): it was "
                + "put back by someone who can write to the location; its word is not taken until the next fleet step")
    }

    @Test func readsEveryClientPrefixOfObjectStorage() throws {
        let bucket = S3TestServer.bucketName()
        let environment = try S3TestServer.environment()
        let client = S3Client(configuration: try S3TestServer.configuration())
        try client.expect("PUT", bucket: bucket)
        try client.create(
            bucket: bucket, key: "fleet/acme/\(ClientStatus.objectName)", body: try Self.record("Acme", "acme"))
        try client.create(bucket: bucket, key: "fleet/acme/acme-2026-12-05T100000Z-manual.db.gz", body: Data("gz".utf8))
        try client.create(
            bucket: bucket, key: "fleet/nostatus/books-2026-12-05T100000Z-manual.db.gz", body: Data("gz".utf8))
        try client.create(bucket: bucket, key: "fleet/bad/\(ClientStatus.objectName)", body: Data("[]".utf8))
        try client.create(
            bucket: bucket, key: "fleetish/other/\(ClientStatus.objectName)", body: try Self.record("No", "no"))
        let seen = try Self.read("s3://\(bucket)/fleet", environment: environment)
        #expect(seen == ["acme": "Acme", "nostatus": "-", "bad": "-"])
    }
}
