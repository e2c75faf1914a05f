import Foundation
import GRDB

/// A piece of the logical checks, run on one connection.
enum WorkUnit: Sendable {
    case staging(Int)
    case scan(String)
    case query(Int)
    case counts

    private static let secondLaneStaging = SharedSums.byAccountPartyStatement

    /// Splits the units between two lanes. Temporary tables belong to one
    /// connection, so a staging table and every unit that reads it share a lane
    /// (v_grp in the second, the others in the first); the units that read no
    /// staging table go to a shared queue that whichever lane is free takes from,
    /// biggest tables first, so both lanes end together.
    static func lanes() -> (first: [WorkUnit], second: [WorkUnit], shared: [WorkUnit]) {
        var first: [WorkUnit] = []
        var second: [WorkUnit] = []
        var shared: [WorkUnit] = []
        func place(_ unit: WorkUnit, staging: [SharedSums]) {
            if staging.isEmpty {
                shared.append(unit)
            } else if staging.contains(secondLaneStaging) {
                second.append(unit)
            } else {
                first.append(unit)
            }
        }
        for (index, staging) in Catalog.staging.enumerated() { place(.staging(index), staging: [staging.sums]) }
        let biggestFirst = ["splits", "bank_feed", "applications", "document_lines"]
        let scans = Catalog.scans.sorted {
            (biggestFirst.firstIndex(of: $0.table) ?? biggestFirst.count)
                < (biggestFirst.firstIndex(of: $1.table) ?? biggestFirst.count)
        }
        for scan in scans {
            var staging: [SharedSums] = []
            for check in Catalog.checks {
                guard case .condition(let table, let uses, _) = check.source, table == scan.table else { continue }
                staging += check.needs.compactMap(\.sharedSums)
                staging += uses.flatMap { scan.joins[$0]?.needs ?? [] }.compactMap(\.sharedSums)
            }
            place(.scan(scan.table), staging: staging)
        }
        for (index, check) in Catalog.checks.enumerated() {
            guard case .query = check.source else { continue }
            place(.query(index), staging: check.needs.compactMap(\.sharedSums))
        }
        shared.append(.counts)
        return (first, second, shared)
    }
}
