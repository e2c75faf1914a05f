import Foundation
import LedgerKit

/// `check-backups --json --drill`: the check's object with the drills beside it.
struct CheckWithDrills: Encodable {
    let check: BackupCheck
    let drills: FleetLocationDrill

    enum Keys: String, CodingKey { case drills }

    func encode(to encoder: any Encoder) throws {
        try check.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(drills, forKey: .drills)
    }
}
