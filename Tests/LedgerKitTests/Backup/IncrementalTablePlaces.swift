import Foundation

@testable import LedgerKit

/// Every page's place in a page table, for tests that look at a small table
/// page by page (restore itself goes run by run: `runsByPack`).
extension IncrementalTable {
    /// Where one page's blob lies, `pack` being an index into `packs`.
    enum Place: Equatable, Sendable {
        /// Version 2: blob `number` of the pack's index.
        case blob(pack: Int, number: Int)
        /// Version 1: bytes `offset ..< offset + length` of the pack's plain bytes.
        case range(pack: Int, offset: Int, length: Int)

        var pack: Int {
            switch self {
            case .blob(let pack, _), .range(let pack, _, _): return pack
            }
        }
    }

    /// Every page's place, page 1 first: a place for each page, so only for small tables.
    /// - Throws: `BackupError.damagedSnapshot` unless the runs cover pages 1 to `pageCount` once each, in order.
    func places(pageCount: Int) throws -> [Place] {
        try checkRuns(pageCount: pageCount)
        var places: [Place] = []
        places.reserveCapacity(pageCount)
        for run in runs {
            if namesBlobs {
                for step in 0..<run.count { places.append(.blob(pack: run.pack, number: run.start + step)) }
            } else {
                // Version 1: each blob starts where the one before ends.
                var offset = run.start
                for page in run.first - 1..<run.first - 1 + run.count {
                    let length = runs.length(ofPage: page)
                    places.append(.range(pack: run.pack, offset: offset, length: length))
                    offset += length
                }
            }
        }
        return places
    }
}
