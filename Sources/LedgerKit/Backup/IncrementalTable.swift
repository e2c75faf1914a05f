import Foundation

/// The page table of an incremental snapshot (docs/incremental.md): the packs
/// it needs, where each page's blob lies in them, and each page's keyed hash.
struct IncrementalTable: Codable, Equatable, Sendable {
    /// Where one page's blob lies.
    struct Place: Equatable, Sendable {
        var pack: String
        var offset: Int
        var length: Int
    }

    /// The packs' names, without `packs/`.
    var packs: [String]
    /// `[first_page, count, pack, offset, length_1 … length_count]`.
    var runs: [[Int]]
    /// Base64 of the 16-byte page hashes, page 1 first.
    var hashes: String

    static let hashBytes = 16

    /// The table of `places` (page 1 first) and `pageHashes` (16 bytes each).
    init(places: [Place], pageHashes: [Data]) {
        var packs: [String] = []
        var index: [String: Int] = [:]
        var runs: [[Int]] = []
        var previous: Place?
        for (number, place) in places.enumerated() {
            let packIndex = index[place.pack] ?? packs.count
            if index[place.pack] == nil {
                index[place.pack] = packIndex
                packs.append(place.pack)
            }
            if let previous, previous.pack == place.pack, previous.offset + previous.length == place.offset {
                runs[runs.count - 1][1] += 1
                runs[runs.count - 1].append(place.length)
            } else {
                runs.append([number + 1, 1, packIndex, place.offset, place.length])
            }
            previous = place
        }
        self.packs = packs
        self.runs = runs
        hashes = pageHashes.reduce(into: Data()) { $0.append($1) }.base64EncodedString()
    }

    /// Every page's place, page 1 first.
    /// - Throws: `BackupError.damagedSnapshot` unless the runs cover pages 1 to `pageCount` once each, in order.
    func places(pageCount: Int) throws -> [Place] {
        var places: [Place] = []
        places.reserveCapacity(pageCount)
        for run in runs {
            guard run.count >= 5, run[0] == places.count + 1, run[1] >= 1, run.count == 4 + run[1],
                packs.indices.contains(run[2]), run[3] >= 0
            else {
                throw BackupError.damagedSnapshot("a run of its page table does not add up")
            }
            var offset = run[3]
            for length in run[4...] {
                guard length > 0, length <= Self.largestBlob else {
                    throw BackupError.damagedSnapshot("a blob length is wrong")
                }
                places.append(Place(pack: packs[run[2]], offset: offset, length: length))
                offset += length
            }
        }
        guard places.count == pageCount else { throw BackupError.damagedSnapshot("its page table misses pages") }
        return places
    }

    /// The page hashes, page 1 first.
    func pageHashes(pageCount: Int) throws -> [Data] {
        guard let all = Data(base64Encoded: hashes), all.count == pageCount * Self.hashBytes else {
            throw BackupError.damagedSnapshot("its page hashes do not add up")
        }
        return (0..<pageCount).map { all.subdata(in: $0 * Self.hashBytes..<($0 + 1) * Self.hashBytes) }
    }

    /// The longest blob a page of 64 KiB can compress to.
    static let largestBlob = 1 << 17

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
