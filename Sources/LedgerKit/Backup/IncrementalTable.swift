import Foundation

/// The page table of an incremental snapshot (docs/incremental.md): the packs
/// it needs and where each page's blob lies in them.
///
/// Version 2 (written now) names each blob by its number in its pack's index
/// object (`PackIndex`), which holds the hashes and lengths. Version 1 (no
/// `version` key, written before index objects) gives each blob's offset and
/// length and every page's hash in the table itself; it is still read.
struct IncrementalTable: Codable, Equatable, Sendable {
    /// A blob as the writer knows it: its pack's name and its number in the
    /// pack, and for a delta blob the pack its base lies in.
    struct Blob: Equatable, Sendable {
        var pack: String
        var number: Int
        var basePack: String? = nil
    }

    /// 2 for a table of blob numbers; nil (or 1) for a table of version 1.
    var version: Int?
    /// The packs' names, without `packs/`.
    var packs: [String]
    /// Version 2: `[first_page, count, pack, first_blob]`;
    /// version 1: `[first_page, count, pack, offset, length_1 … length_count]`;
    /// kept flat (`PageRuns`).
    var runs: PageRuns
    /// Version 1 only: base64 of the 16-byte page hashes, page 1 first.
    var hashes: String?

    static let hashBytes = 16

    /// The longest blob a page of 64 KiB can compress to.
    static let largestBlob = 1 << 17

    /// Whether this table names blobs by number (version 2) rather than by range (version 1).
    var namesBlobs: Bool { version == 2 }

    /// The runs of each pack (in the order of `packs`), for reading pack by
    /// pack without a place for every page: memory follows the table's own
    /// size, never a count it claims.
    /// - Throws: `BackupError.damagedSnapshot` unless the runs cover pages 1 to `pageCount` once each, in order.
    func runsByPack(pageCount: Int) throws -> [PackRuns] {
        try checkRuns(pageCount: pageCount)
        var byPack = [[UInt32]](repeating: [], count: packs.count)
        // checkRuns holds the runs below 2^32 pages, so their positions too.
        for position in runs.indices { byPack[runs[position].pack].append(UInt32(truncatingIfNeeded: position)) }
        return byPack.map { PackRuns(runs: runs, positions: $0) }
    }

    /// Checks the runs without making a place for each page, so that no count
    /// a table claims makes memory be taken: every number is in bounds and no
    /// sum overflows.
    /// - Throws: `BackupError.damagedSnapshot` naming what does not add up.
    func checkRuns(pageCount: Int) throws {
        guard version == nil || version == 1 || version == 2 else {
            throw BackupError.damagedSnapshot("its page table has a version this ledger does not read")
        }
        // No SQLite file has more pages than 2^32 - 2.
        guard pageCount >= 0, pageCount <= Int(UInt32.max), namesBlobs || hashes != nil else {
            throw BackupError.damagedSnapshot("its page table does not add up")
        }
        // A name becomes an object's name: nothing but a pack's name may reach the store.
        // Each pack once: a name repeated would have its index read, and held, as often.
        guard packs.allSatisfy(PackIndex.isPackName), Set(packs).count == packs.count else {
            throw BackupError.damagedSnapshot("its page table names a pack wrongly")
        }
        // Every number fits the flat runs, and every run has this version's shape.
        let shaped = namesBlobs ? !runs.hasRangeRuns : !runs.hasBlobRuns
        guard runs.isSound, shaped else {
            throw BackupError.damagedSnapshot("a run of its page table does not add up")
        }
        var covered = 0
        for run in runs {
            guard run.first >= 1, run.first - 1 == covered, run.count >= 1, run.count <= pageCount - covered,
                packs.indices.contains(run.pack)
            else {
                throw BackupError.damagedSnapshot("a run of its page table does not add up")
            }
            if namesBlobs {
                // The blob numbers must stay below any count a pack index can give (2^32).
                guard run.start <= Int(UInt32.max) - run.count else {
                    throw BackupError.damagedSnapshot("a run of its page table does not add up")
                }
            } else {
                // Version 1's lengths follow the runs page by page: the run's are from its first page on.
                var end = run.start
                for page in covered..<covered + run.count {
                    let length = runs.length(ofPage: page)
                    guard length > 0, length <= Self.largestBlob, end <= Int.max - length else {
                        throw BackupError.damagedSnapshot("a blob length is wrong")
                    }
                    end += length
                }
            }
            covered += run.count
        }
        guard covered == pageCount else { throw BackupError.damagedSnapshot("its page table misses pages") }
    }

    /// Version 1: the page hashes, 16 bytes each, page 1 first, in one buffer
    /// (a `Data` a page would take several times their bytes); nil for a
    /// table of version 2, whose hashes are in the pack indexes.
    func pageHashes(pageCount: Int) throws -> Data? {
        guard !namesBlobs, let hashes else { return nil }
        guard let all = Data(base64Encoded: hashes), all.count / Self.hashBytes == pageCount,
            all.count % Self.hashBytes == 0
        else {
            throw BackupError.damagedSnapshot("its page hashes do not add up")
        }
        return all
    }

    /// Version 1: the hash of page `number` (from 0) in `hashes`, as `pageHashes` gives them.
    static func pageHash(_ number: Int, in hashes: Data) -> Data {
        let start = hashes.startIndex + number * hashBytes
        return hashes[start..<start + hashBytes]
    }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }

    static func decode(_ bytes: [UInt8]) throws -> IncrementalTable {
        do {
            return try JSONDecoder().decode(IncrementalTable.self, from: Data(bytes))
        } catch {
            throw BackupError.damagedSnapshot("its page table is not the JSON it should be")
        }
    }
}

extension IncrementalTable {
    /// The version 2 table of `blobs` (page 1 first): a run for each stretch
    /// of pages whose blobs follow one another in one pack; then the packs
    /// only delta blobs' bases lie in, which have no run.
    init(blobs: [Blob]) {
        var packs: [String] = []
        var numbers: [String: Int] = [:]
        var runs = PageRuns()
        var previous: Blob?
        for (page, blob) in blobs.enumerated() {
            let pack = numbers[blob.pack] ?? packs.count
            if numbers[blob.pack] == nil {
                numbers[blob.pack] = pack
                packs.append(blob.pack)
            }
            if let previous, previous.pack == blob.pack, previous.number + 1 == blob.number {
                runs.extendLast()
            } else {
                runs.append(first: page + 1, count: 1, pack: pack, blob: blob.number)
            }
            previous = blob
        }
        for base in Set(blobs.compactMap(\.basePack)).sorted() where numbers[base] == nil {
            numbers[base] = packs.count
            packs.append(base)
        }
        self.init(version: 2, packs: packs, runs: runs, hashes: nil)
    }
}
