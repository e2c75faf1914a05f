import ArgumentParser
import Foundation
import LedgerKit

/// `check-backups LOCATION --drill`: a restore drill of the newest snapshot of each company
/// file in one location, folded into the location's status record when it is a fleet client's.
struct FleetLocationDrill: Encodable {
    /// Each company file's stem and its drill.
    let drills: [(stem: String, result: DrillResult)]

    var ok: Bool { drills.allSatisfy { $0.result.outcome == .clean } }

    /// Drills every company file `location` holds snapshots of.
    /// - Throws: when the location cannot be listed.
    /// - Parameter key: this machine's manifest key: a snapshot restore refuses for who signed it fails its drill.
    init(location: String, keys: SnapshotIdentities, signedBy key: ManifestKey? = nil) throws {
        drills = try RestoreDrill.stems(in: location, keys: keys).map { stem in
            (stem, RestoreDrill.newest(in: location, stem: stem, keys: keys, signedBy: key))
        }
        let now = Date()
        for (_, result) in drills {
            let recorded = StatusUpdates.updateExisting(in: location, now: now) {
                FleetDrill.record(result, in: &$0, now: now)
            }
            if let problem = recorded.problem {
                Output.message("ledger: the status record could not be updated: \(problem)")
            }
        }
    }

    /// "acme: last proven restorable: …" or "acme: DRILL FAILED: …", a line a company file.
    func lines() -> [String] {
        drills.map { stem, result in
            "\(stem): " + (result.outcome == .clean ? result.summary : "DRILL FAILED: " + result.summary)
        }
    }

    private struct Entry: Encodable {
        let stem: String
        let result: DrillResult
    }

    func encode(to encoder: any Encoder) throws {
        try drills.map { Entry(stem: $0.stem, result: $0.result) }.encode(to: encoder)
    }
}
