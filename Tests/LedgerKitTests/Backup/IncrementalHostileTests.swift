import Foundation
import Testing

@testable import LedgerKit

/// Pack index objects and page tables are read from a location anyone who can
/// write there may have changed (docs/incremental.md): random and adversarial
/// bytes give `BackupError.damagedSnapshot`, never a trap, and what decodes
/// holds together.
@Suite struct IncrementalHostileTests {
    static let pack = String(repeating: "5a", count: 32)

    /// A valid index of `count` blobs with lengths drawn by `random`.
    static func validIndex(count: Int, _ random: inout SplitMix64) -> [UInt8] {
        var index = PackIndex()
        for _ in 0..<count {
            let hash = Data((0..<IncrementalTable.hashBytes).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            index.append(hash: hash, length: Int(random.next() % UInt64(IncrementalTable.largestBlob)) + 1)
        }
        return index.encoded(for: pack)
    }

    /// `valid` changed as a hostile writer would: flipped bytes, cut, grown,
    /// a count or a length set to an edge, or nothing but random bytes.
    static func hostileIndex(from valid: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = valid
        let edges: [UInt32] = [
            0, 1, 2, UInt32(IncrementalTable.largestBlob), UInt32(IncrementalTable.largestBlob) + 1,
            0x7FFF_FFFF, 0xFFFF_FFFF,
        ]
        func set(_ value: UInt32, at offset: Int) {
            guard offset + 4 <= bytes.count else { return }
            bytes.replaceSubrange(offset..<offset + 4, with: Gzip.littleEndian(value))
        }
        let entries = max(1, (bytes.count - PackIndex.headerBytes) / PackIndex.entryBytes)
        switch random.next() % 7 {
        case 0:
            for _ in 0...(random.next() % 8) where !bytes.isEmpty {
                bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            }
        case 1:
            bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count + 1))))
        case 2:
            bytes += (0..<(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        case 3:
            set(edges[Int(random.next() % UInt64(edges.count))], at: 12)
        case 4:
            let entry = Int(random.next() % UInt64(entries))
            set(
                edges[Int(random.next() % UInt64(edges.count))],
                at: PackIndex.headerBytes + entry * PackIndex.entryBytes + IncrementalTable.hashBytes)
        case 5:
            set(UInt32(truncatingIfNeeded: random.next()), at: 8)
        default:
            bytes = (0..<(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
        return bytes
    }

    @Test(arguments: 0..<8 as Range<UInt64>)
    func hostilePackIndexesAreRefusedOrHoldTogether(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for _ in 0..<500 {
            let valid = Self.validIndex(count: Int(random.next() % 6) + 1, &random)
            #expect(try PackIndex.decode(valid, for: Self.pack).encoded(for: Self.pack) == valid)
            let hostile = Self.hostileIndex(from: valid, &random)
            do {
                let index = try PackIndex.decode(hostile, for: Self.pack)
                // What decodes is exactly what it encodes, with every length in bounds.
                #expect(index.encoded(for: Self.pack) == hostile)
                #expect(index.count >= 1)
                for number in 0..<index.count {
                    #expect(index.range(number).count >= 1 && index.range(number).count <= IncrementalTable.largestBlob)
                }
            } catch let error as BackupError {
                guard case .damagedSnapshot = error else { throw error }
            }
        }
        #expect(throws: BackupError.self) {
            try PackIndex.decode(Self.validIndex(count: 2, &random), for: String(repeating: "a5", count: 32))
        }
    }

    /// A table of hostile numbers and names: runs of any shape, versions and hashes.
    static func hostileTable(_ random: inout SplitMix64, pageCount: Int) -> [UInt8] {
        let numbers: [Int] = [
            Int.min, -1, 0, 1, 2, 3, pageCount, pageCount &+ 1, IncrementalTable.largestBlob,
            IncrementalTable.largestBlob + 1, Int(UInt32.max), Int(UInt32.max) + 1, Int.max,
        ]
        func number() -> Int {
            random.next() % 3 == 0 ? numbers[Int(random.next() % UInt64(numbers.count))] : Int(random.next() % 6)
        }
        var fields: [String] = []
        if random.next() % 4 != 0 {
            let versions = ["1", "2", "3", "-1", "9223372036854775807", "\"2\"", "null", "2.5"]
            fields.append("\"version\": " + versions[Int(random.next() % UInt64(versions.count))])
        }
        let names = [pack, String(repeating: "A", count: 64), "../../x", "", String(repeating: "0", count: 64)]
        let packs = (0..<(random.next() % 3)).map { _ in "\"" + names[Int(random.next() % UInt64(names.count))] + "\"" }
        fields.append("\"packs\": [" + packs.joined(separator: ",") + "]")
        let runs = (0..<(random.next() % 4)).map { _ in
            "[" + (0..<(random.next() % 7)).map { _ in String(number()) }.joined(separator: ",") + "]"
        }
        fields.append("\"runs\": [" + runs.joined(separator: ",") + "]")
        if random.next() % 2 == 0 {
            let hashes = Data((0..<(random.next() % 3) * 16).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            fields.append("\"hashes\": \"" + (random.next() % 5 == 0 ? "*!" : hashes.base64EncodedString()) + "\"")
        }
        return Array(("{" + fields.shuffled(using: &random).joined(separator: ",") + "}").utf8)
    }

    /// The table `IncrementalTableReader` reads from `bytes` in one piece, or nil when it refuses them.
    static func read(_ bytes: [UInt8], pageCount: Int, keep: IncrementalTableReader.Keep) -> IncrementalTable? {
        var reader = IncrementalTableReader(pageCount: pageCount, keep: keep)
        guard (try? bytes.withUnsafeBytes { try reader.read($0) }) != nil else { return nil }
        return try? reader.finish()
    }

    @Test(arguments: 0..<8 as Range<UInt64>)
    func hostilePageTablesAreRefusedOrHoldTogether(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for round in 0..<2_000 {
            let pageCount = [0, 1, 2, 3, 5, Int(UInt32.max), Int.max][Int(random.next() % 7)]
            let bytes =
                round % 5 == 0
                ? (0..<(random.next() % 120)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                : Self.hostileTable(&random, pageCount: pageCount)
            // The streaming reader takes no table that JSONDecoder and checkRuns refuse, and reads the same one.
            let read = [
                Self.read(bytes, pageCount: pageCount, keep: .everything),
                Self.read(bytes, pageCount: pageCount, keep: .packs),
            ]
            if let whole = read[0] {
                // In pieces of 1 to 7 bytes, as an inflater may hand them: the same table.
                var pieces = IncrementalTableReader(pageCount: pageCount, keep: .everything)
                var start = 0
                try bytes.withUnsafeBytes { all in
                    while start < all.count {
                        let end = min(all.count, start + 1 + Int(random.next() % 7))
                        try pieces.read(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                        start = end
                    }
                }
                #expect(try pieces.finish() == whole)
                let decoded = try IncrementalTable.decode(bytes)
                try decoded.checkRuns(pageCount: pageCount)
                #expect(decoded == whole)
                #expect(read[1]?.packs == whole.packs && read[1]?.version == whole.version)
            } else {
                #expect(read[1] == nil)
            }
            do {
                let table = try IncrementalTable.decode(bytes)
                try table.checkRuns(pageCount: pageCount)
                // What passes the check names only packs' names and covers every page once;
                // places are made only for the small counts a test can hold.
                #expect(table.packs.allSatisfy(PackIndex.isPackName))
                guard pageCount <= 5 else { continue }
                let places = try table.places(pageCount: pageCount)
                #expect(places.count == pageCount)
                for place in places {
                    #expect(table.packs.indices.contains(place.pack))
                    switch place {
                    case .blob(_, let number): #expect(number >= 0 && number < Int(UInt32.max))
                    case .range(_, let offset, let length):
                        #expect(offset >= 0 && length >= 1 && length <= IncrementalTable.largestBlob)
                    }
                }
                if let hashes = try table.pageHashes(pageCount: pageCount) {
                    #expect(hashes.count == pageCount * IncrementalTable.hashBytes)
                }
            } catch let error as BackupError {
                guard case .damagedSnapshot = error else { throw error }
            }
        }
    }

    /// A list that ends right after a "," is not JSON (RFC 8259), though Foundation's
    /// JSONDecoder takes it: refused, while the same table without the comma is read.
    @Test func aListEndingInACommaIsRefused() throws {
        let packs = "\"packs\": [\"\(Self.pack)\"]"
        let sound = "{\"version\": 2, \(packs), \"runs\": [[1, 2, 0, 0]]}"
        #expect(Self.read(Array(sound.utf8), pageCount: 2, keep: .everything)?.runs == [[1, 2, 0, 0]])
        let trailing = [
            "{\"version\": 2, \(packs), \"runs\": [[1, 2, 0, 0,]]}",
            "{\"version\": 2, \(packs), \"runs\": [[1, 2, 0, 0],]}",
            "{\"version\": 2, \"packs\": [\"\(Self.pack)\",], \"runs\": [[1, 2, 0, 0]]}",
        ]
        for text in trailing {
            #expect(Self.read(Array(text.utf8), pageCount: 2, keep: .everything) == nil)
        }
    }

    /// A pack's name taken by an object that cannot be read now is left as
    /// it is (it may be the very pack other snapshots need) and the backup
    /// fails; other bytes under the name, readable, are replaced.
    @Test func aPackThatCannotBeReadIsNeverRemovedToMakeRoom() throws {
        let folder = TemporaryDirectory()
        let location = folder.file("backups")
        try FileManager.default.createDirectory(atPath: location + "/packs", withIntermediateDirectories: true)
        let store = try SnapshotStore.open(location)
        let staged = folder.file("staged")
        let bytes = Array("pack bytes".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: staged))
        let unreadable = location + "/packs/" + Self.pack
        #expect(mkfifo(unreadable, 0o600) == 0)
        #expect(throws: FileError.self) {
            try PackWriter.create("packs/" + Self.pack, from: staged, bytes: bytes, in: store)
        }
        var status = stat()
        #expect(lstat(unreadable, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO)

        let changed = location + "/packs/" + String(repeating: "6b", count: 32)
        try Data("other bytes".utf8).write(to: URL(fileURLWithPath: changed))
        #expect(
            try PackWriter.create("packs/" + String(repeating: "6b", count: 32), from: staged, bytes: bytes, in: store))
        #expect(try Data(contentsOf: URL(fileURLWithPath: changed)) == Data(bytes))
        #expect(
            try !PackWriter.create("packs/" + String(repeating: "6b", count: 32), from: staged, bytes: bytes, in: store)
        )
    }

    /// A location can write a small object whose table holds millions of
    /// one-page runs: each run is kept in 16 bytes (room for twice that
    /// while the storage grows), never an array of its own, and each pack's
    /// share in 4 more.
    @Test func aTableOfManyOnePageRunsIsKeptFlat() throws {
        let count = 200_000
        var text = "{\"version\": 2, \"packs\": [\"\(Self.pack)\"], \"runs\": ["
        text += (1...count).map { "[\($0),1,0,0]" }.joined(separator: ",") + "]}"
        let table = try #require(Self.read(Array(text.utf8), pageCount: count, keep: .everything))
        #expect(table.runs.count == count)
        #expect(table.runs.heldBytes <= count * 32)
        #expect(table.runs[count - 1] == PageRuns.Run(first: count, count: 1, pack: 0, start: 0))
        let byPack = try table.runsByPack(pageCount: count)
        #expect(byPack.count == 1 && byPack[0].count == count && byPack[0].positions.capacity <= count * 2)
    }

    @Test func aTableThatClaimsMorePagesThanSQLiteAllowsIsRefusedWithoutMemory() throws {
        let table = IncrementalTable(
            version: 2, packs: [Self.pack], runs: [[1, Int.max, 0, 0]], hashes: nil)
        #expect(throws: BackupError.self) { try table.checkRuns(pageCount: Int.max) }
        let overflowing = IncrementalTable(
            version: 2, packs: [Self.pack], runs: [[1, 2, 0, Int(UInt32.max) - 1]], hashes: nil)
        #expect(throws: BackupError.self) { try overflowing.checkRuns(pageCount: 2) }
        let longV1 = IncrementalTable(
            version: nil, packs: [Self.pack], runs: [[1, 2, 0, Int.max - 5, 3, 4]], hashes: "")
        #expect(throws: BackupError.self) { try longV1.checkRuns(pageCount: 2) }
    }
}
