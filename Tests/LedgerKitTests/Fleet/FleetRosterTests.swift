import Foundation
import LedgerTestSupport
import Testing

@testable import LedgerKit

/// The fleet's roster: a client whose folder goes from the location still makes a row
/// of the report, until `fleet forget` says it left.
@Suite struct FleetRosterTests {
    /// Each client's row in the report of `location`: its slug and its worst concern's detail
    /// ("ok" when it has none).
    static func rows(_ location: String, environment: [String: String] = [:]) throws -> [String: String] {
        var report = FleetReport(generatedAt: Timestamp.parse("2026-12-05T11:00:00Z") ?? Date())
        try StatusRecords.forEach(in: location, environment: environment) { slug, data, refused, gone in
            report.add(slug: slug, data: data, refused: refused, gone: gone)
        }
        report.rank()
        return Dictionary(uniqueKeysWithValues: report.rows.map { ($0.slug, $0.concerns.first?.detail ?? "ok") })
    }

    static let now = Timestamp.parse("2026-12-05T10:00:00Z") ?? Date()

    /// Writes a record for each client as a fleet step does.
    static func step(_ clients: [FleetClient], root: String) throws {
        for client in clients {
            let problem = StatusUpdates.update(client, root: root, now: now) {
                $0.verify = .init(at: "2026-12-05T10:00:00Z", outcome: .clean)
            }
            #expect(problem == nil, "\(problem ?? "")")
        }
    }

    static func gone(_ since: String?) -> String {
        "the client's folder is gone from the location, yet the location's roster lists it"
            + (since.map { " (since \($0))" } ?? "")
            + ": put the folder back, or run ledger fleet forget if the client left"
    }

    @Test func aClientWhoseFolderGoesStillMakesARowUntilForgotten() throws {
        let folder = TemporaryDirectory()
        let root = folder.file("fleet")
        let clients = ["acme", "bobs", "carl"].map { FleetClient(name: $0, slug: $0, file: folder.file($0 + ".db")) }
        try Self.step(clients, root: root)
        let roster = try FileManager.default.contentsOfDirectory(atPath: root + "/" + FleetRoster.folder).sorted()
        #expect(roster == ["acme", "bobs", "carl"])
        // An entry holds no word of the books: the slug and when it was made.
        let entry = try Data(contentsOf: URL(fileURLWithPath: root + "/.ledger-roster/acme"))
        #expect(
            String(decoding: entry, as: UTF8.self)
                == #"{"added_at":"2026-12-05T10:00:00Z","format":"ledger-fleet-roster","slug":"acme","version":1}"#)
        var status = stat()
        #expect(stat(root + "/.ledger-roster/acme", &status) == 0 && status.st_mode & 0o777 == 0o600)
        #expect(Set(try Self.rows(root).values) != [Self.gone(nil)])

        // One folder deleted, one renamed to a name the report does not read.
        try FileManager.default.removeItem(atPath: root + "/bobs")
        try FileManager.default.moveItem(atPath: root + "/carl", toPath: root + "/.carl-old")
        let since = try FolderStore(root).entry(".ledger-roster/bobs")?.modified
        let rows = try Self.rows(root)
        #expect(rows.keys.sorted() == ["acme", "bobs", "carl"])
        #expect(rows["bobs"] == Self.gone(since))
        #expect(rows["acme"] != Self.gone(since))
        // A later step does not take it off: only a person does.
        try Self.step([clients[0]], root: root)
        #expect(try Self.rows(root).keys.sorted() == ["acme", "bobs", "carl"])

        #expect(throws: FleetError.stillInLocation(slug: "acme", location: root)) {
            try FleetRoster.forget(["bobs", "acme"], in: root)
        }
        #expect(throws: FleetError.notOnRoster(slug: "dave", location: root)) {
            try FleetRoster.forget(["bobs", "dave"], in: root)
        }
        #expect(throws: FleetError.notOnRoster(slug: "../acme", location: root)) {
            try FleetRoster.forget(["../acme"], in: root)
        }
        // Nothing was forgotten by a refused call.
        #expect(try Self.rows(root).keys.sorted() == ["acme", "bobs", "carl"])
        try FleetRoster.forget(["bobs", "carl"], in: root)
        #expect(try Self.rows(root).keys.sorted() == ["acme"])

        // Every folder gone: the clients still make rows, not "no client folder".
        try FileManager.default.removeItem(atPath: root + "/acme")
        #expect(try Self.rows(root).keys.sorted() == ["acme"])
    }

    /// Whoever can write the location can remove a client's folder and its roster entry
    /// together: this machine's copy of the roster still makes the client's row.
    @Test func aClientRemovedWithItsRosterEntryStillMakesARowHere() throws {
        let folder = TemporaryDirectory()
        let root = folder.file("fleet")
        let clients = ["acme", "bobs"].map { FleetClient(name: $0, slug: $0, file: folder.file($0 + ".db")) }
        try Self.step(clients, root: root)
        try FileManager.default.removeItem(atPath: root + "/bobs")
        try FileManager.default.removeItem(atPath: root + "/.ledger-roster/bobs")
        let rows = try Self.rows(root)
        #expect(rows.keys.sorted() == ["acme", "bobs"])
        #expect(
            rows["bobs"]
                == "the client's folder is gone from the location, yet this computer's copy of the roster lists it "
                + "(its entry in the location is gone too): put the folder back, or run ledger fleet forget if the "
                + "client left")
        // Named the other way (a relative path), the location is the same.
        let relative = try Self.rows(URL(fileURLWithPath: root).path + "/./")
        #expect(relative.keys.sorted() == ["acme", "bobs"])
        try FleetRoster.forget(["bobs"], in: root)
        #expect(try Self.rows(root).keys.sorted() == ["acme"])
        #expect(throws: FleetError.notOnRoster(slug: "bobs", location: root)) {
            try FleetRoster.forget(["bobs"], in: root)
        }
    }

    @Test func theRosterIsTheLocationsWord() throws {
        let folder = TemporaryDirectory()
        let root = folder.file("fleet")
        try Self.step([FleetClient(name: "Acme", slug: "acme", file: folder.file("acme.db"))], root: root)
        // Names that are not slugs are not taken for clients.
        for name in ["Upper", "-dash", "dot.ted", String(repeating: "a", count: 129), "ok-1"] {
            try Data().write(to: URL(fileURLWithPath: root + "/.ledger-roster/" + name))
        }
        #expect(try Self.rows(root).keys.sorted() == ["acme", "ok-1"])
        // A roster that is a link is never read through: the report says it cannot read the location.
        try FileManager.default.removeItem(atPath: root + "/.ledger-roster")
        let elsewhere = folder.file("elsewhere")
        try FileManager.default.createDirectory(atPath: elsewhere + "/planted", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/.ledger-roster", withDestinationPath: elsewhere)
        #expect {
            try Self.rows(root)
        } throws: { error in
            guard case ReportError.locationUnreadable(root, let why)? = error as? ReportError else { return false }
            return why.contains("it is a link")
        }
        // Nor written through by a step: its record is written, and the step says why the roster is not.
        let problem = StatusUpdates.update(
            FleetClient(name: "Bobs", slug: "bobs", file: folder.file("bobs.db")), root: root, now: Self.now
        ) { _ in }
        #expect(problem?.contains("it is a link") == true, "\(problem ?? "")")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere) == ["planted"])
        #expect(FileManager.default.fileExists(atPath: root + "/bobs/" + ClientStatus.objectName))
    }

    @Test func aRosterInObjectStorage() throws {
        let bucket = S3TestServer.bucketName()
        let environment = try S3TestServer.environment()
        let client = S3Client(configuration: try S3TestServer.configuration())
        try client.expect("PUT", bucket: bucket)
        let root = "s3://\(bucket)/fleet"
        for slug in ["acme", "bobs"] {
            try client.create(
                bucket: bucket, key: "fleet/\(slug)/\(ClientStatus.objectName)",
                body: try ClientStatus(client: slug, slug: slug, updatedAt: "2026-12-05T10:00:00Z").encoded())
            try client.create(bucket: bucket, key: "fleet/.ledger-roster/\(slug)", body: Data("{}".utf8))
        }
        #expect(try Self.rows(root, environment: environment).keys.sorted() == ["acme", "bobs"])
        try client.expect("DELETE", bucket: bucket, key: "fleet/bobs/\(ClientStatus.objectName)")
        let rows = try Self.rows(root, environment: environment)
        #expect(rows.keys.sorted() == ["acme", "bobs"])
        #expect(rows["bobs"]?.hasPrefix("the client's folder is gone from the location") == true)
        try FleetRoster.forget(["bobs"], in: root, environment: environment)
        #expect(try Self.rows(root, environment: environment).keys.sorted() == ["acme"])
    }
}
