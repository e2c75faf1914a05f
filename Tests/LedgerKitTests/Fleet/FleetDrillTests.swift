import Foundation
import Testing

@testable import LedgerKit

/// `fleet drill` proves the client's own newest snapshot: a newer one that a
/// location holds in the client's folder for another file, or made for
/// another client, is never the one drilled.
@Suite struct FleetDrillTests {
    let folder = TemporaryDirectory()

    private func company(_ name: String, company: String, seed: UInt64) throws -> String {
        let path = folder.file(name)
        try FileManager.default.createDirectory(
            atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        _ = try SampleCompany.generate(
            at: path, options: SampleOptions(transactions: 60, seed: seed, name: company))
        return path
    }

    /// The client's snapshot, then a newer one of `planted` (another company's
    /// books), in the client's folder; `plantedFor` is its manifest's fleet client.
    private func drilled(plantedName: String, plantedFor: String?) throws -> (ClientResult, ClientStatus) {
        let root = folder.file("location")
        let file = try company("acme.db", company: "Acme", seed: 1)
        let client = FleetClient(name: "Acme", slug: "acme", file: file)
        var own = SnapshotRequest(of: file, kind: .scheduled, now: Date(timeIntervalSince1970: 1_790_000_000))
        own.fleetClient = "acme"
        let store = try SnapshotStore.open(root + "/acme")
        let taken = try SnapshotWriter.take(own, into: store)
        let other = try company(plantedName, company: "Other Co", seed: 2)
        var planted = SnapshotRequest(of: other, kind: .scheduled, now: Date(timeIntervalSince1970: 1_790_000_600))
        planted.fleetClient = plantedFor
        _ = try SnapshotWriter.take(planted, into: store)

        let result = FleetDrill.run(client, root: root, keys: SnapshotIdentities()) {
            Date(timeIntervalSince1970: 1_790_001_000)
        }
        let status = try StatusUpdates.load(client, root: root, now: Date(timeIntervalSince1970: 1_790_001_000))
        #expect(status.drill?.snapshot == taken.path)
        return (result, status)
    }

    /// A company renamed after its last snapshot keeps its creation time,
    /// but so do copies of one template: the drill cannot tell a rename from
    /// another company's books, so it fails and says which, rather than prove
    /// what may be another client's (the next backup is the client's again).
    @Test func aSnapshotFromBeforeARenameFailsItsDrillUntilTheNextBackup() throws {
        let root = folder.file("location")
        let file = try company("acme.db", company: "Acme", seed: 1)
        var own = SnapshotRequest(of: file, kind: .scheduled, now: Date(timeIntervalSince1970: 1_790_000_000))
        own.fleetClient = "acme"
        let store = try SnapshotStore.open(root + "/acme")
        _ = try SnapshotWriter.take(own, into: store)
        try Damage.apply(to: file) { db in try db.execute(sql: "UPDATE company SET name = 'Acme Renamed'") }
        let client = FleetClient(name: "Acme", slug: "acme", file: file)
        let before = FleetDrill.run(client, root: root, keys: SnapshotIdentities()) {
            Date(timeIntervalSince1970: 1_790_001_000)
        }
        #expect(before.outcome == .failed)
        #expect(before.summary.contains("another company"), "\(before.summary)")
        var next = SnapshotRequest(of: file, kind: .scheduled, now: Date(timeIntervalSince1970: 1_790_002_000))
        next.fleetClient = "acme"
        _ = try SnapshotWriter.take(next, into: store)
        let after = FleetDrill.run(client, root: root, keys: SnapshotIdentities()) {
            Date(timeIntervalSince1970: 1_790_003_000)
        }
        #expect(after.outcome == .clean, "\(after.summary)")
    }

    @Test func aNewerSnapshotOfAnotherFileInTheClientsFolderIsNotDrilled() throws {
        let (result, status) = try drilled(plantedName: "planted.db", plantedFor: nil)
        #expect(result.outcome == .clean, "\(result.summary)")
        #expect(status.drill?.outcome == .clean)
    }

    @Test func aNewerSnapshotMadeForAnotherClientIsNotDrilled() throws {
        let (result, status) = try drilled(plantedName: "sub/acme.db", plantedFor: "other-co")
        #expect(result.outcome == .clean, "\(result.summary)")
        #expect(status.drill?.outcome == .clean)
    }
}
