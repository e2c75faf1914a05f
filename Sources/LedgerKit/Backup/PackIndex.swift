import Foundation

/// The index of one pack (docs/incremental.md, "Pack index objects"): each
/// blob's page hash and stored length, in blob order, written once beside
/// the pack as `packs/<pack>.index`, so that page tables need neither.
///
/// Its bytes, all integers little-endian: the 8 ASCII bytes `LDGPKIDX`, the
/// version (4 bytes), the number of blobs N (4 bytes), the pack's name (its
/// 32-byte keyed hash, so an index copied over another's is known). Version 1
/// then has N entries of 20 bytes: the blob's 16-byte page hash, then its
/// length (4 bytes). Version 2, written when a blob is a delta (`PageDeltas`),
/// has the number of base packs B (4 bytes), their B names (32 bytes each),
/// then N entries of 28 bytes: hash, length, the base pack's number from 1
/// (0: a whole page) and the base blob's number in it (4 bytes each).
struct PackIndex: Equatable, Sendable {
    static let magic = Array("LDGPKIDX".utf8)
    static let version: UInt32 = 1
    static let deltaVersion: UInt32 = 2
    static let headerBytes = 48
    static let entryBytes = IncrementalTable.hashBytes + 4
    static let deltaEntryBytes = entryBytes + 8
    /// Base packs an index may name: more would be a hostile count.
    static let largestBaseCount = 1 << 16

    /// A delta blob's base: a whole-page blob of another pack.
    struct Base: Equatable, Sendable {
        let pack: String
        let number: Int
    }

    /// The page hashes, 16 bytes each, blob 0 first.
    private(set) var hashes: [UInt8] = []
    /// Where each blob starts in the pack's plain bytes, and last where the
    /// last one ends: one more than the blobs.
    private(set) var offsets: [Int] = [0]
    /// The packs the delta blobs' bases lie in.
    private(set) var basePacks: [String] = []
    /// Each blob's base: 0 for a whole page, else the base pack's number in
    /// `basePacks` plus 1, and the base blob's number.
    private var bases: [Reference] = []

    /// A blob's base as the index stores it.
    private struct Reference: Equatable, Sendable {
        var pack: UInt32
        var number: UInt32
    }

    /// How many blobs the pack holds.
    var count: Int { offsets.count - 1 }
    /// How many plain bytes the pack holds: where its last blob ends.
    var plainBytes: Int { offsets[offsets.count - 1] }

    /// The name of the index object of `pack` (a pack's name without `packs/`).
    static func objectName(of pack: String) -> String { "packs/" + pack + ".index" }

    /// Adds a blob of `length` bytes (at most `IncrementalTable.largestBlob`)
    /// whose page hash is `hash` (16 bytes): a whole page, or a delta against `base`.
    mutating func append(hash: Data, length: Int, base: Base? = nil) {
        hashes += hash
        offsets.append(plainBytes + length)
        guard let base else {
            bases.append(Reference(pack: 0, number: 0))
            return
        }
        let pack = basePacks.firstIndex(of: base.pack) ?? basePacks.count
        if pack == basePacks.count { basePacks.append(base.pack) }
        bases.append(Reference(pack: UInt32(pack + 1), number: UInt32(truncatingIfNeeded: base.number)))
    }

    /// The base of blob `number`, or nil when it is a whole page.
    func base(_ number: Int) -> Base? {
        let base = bases[number]
        guard base.pack > 0 else { return nil }
        return Base(pack: basePacks[Int(base.pack) - 1], number: Int(base.number))
    }

    /// The page hash of blob `number`.
    func hash(_ number: Int) -> Data {
        Data(hashes[number * IncrementalTable.hashBytes..<(number + 1) * IncrementalTable.hashBytes])
    }

    /// The range of blob `number` in the pack's plain bytes.
    func range(_ number: Int) -> Range<Int> { offsets[number]..<offsets[number + 1] }

    /// Whether `name` is a pack's name: 64 lowercase hex digits, the keyed hash of its bytes.
    static func isPackName(_ name: String) -> Bool {
        name.utf8.count == 64 && name.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The index object's plain bytes, for the pack `pack` (a pack's name).
    /// The count of base packs, then their names, as version 2 encodes them at byte 48.
    private var basePackList: [UInt8] {
        basePacks.reduce(Gzip.littleEndian(UInt32(basePacks.count))) { $0 + (ManifestKey.bytes(hex: $1) ?? []) }
    }

    /// What the index says beyond the pack's bytes: the count of base packs,
    /// their names, then each blob's base (pack number and blob number, 4
    /// bytes each); empty when every blob is a whole page. A pack's name covers them too (`PackWriter`).
    var references: [UInt8] {
        guard !basePacks.isEmpty else { return [] }
        var bytes = basePackList
        for base in bases { bytes += Gzip.littleEndian(base.pack) + Gzip.littleEndian(base.number) }
        return bytes
    }

    /// Version 1 when every blob is a whole page, so that a ledger that
    /// reads no delta reads every pack without one.
    func encoded(for pack: String) -> [UInt8] {
        let deltas = !basePacks.isEmpty
        var bytes =
            Self.magic + Gzip.littleEndian(deltas ? Self.deltaVersion : Self.version) + Gzip.littleEndian(UInt32(count))
        bytes += ManifestKey.bytes(hex: pack) ?? []
        if deltas { bytes += basePackList }
        bytes.reserveCapacity(bytes.count + count * (deltas ? Self.deltaEntryBytes : Self.entryBytes))
        for number in 0..<count {
            bytes += hashes[number * IncrementalTable.hashBytes..<(number + 1) * IncrementalTable.hashBytes]
            bytes += Gzip.littleEndian(UInt32(range(number).count))
            if deltas { bytes += Gzip.littleEndian(bases[number].pack) + Gzip.littleEndian(bases[number].number) }
        }
        return bytes
    }

    /// The index of the pack `pack` (a pack's name) whose plain bytes are `bytes`.
    /// - Throws: `BackupError.damagedSnapshot` unless the magic and version
    ///   are right, the count is at least 1 and matches the object's size, the
    ///   pack named is `pack`, and every length is between 1 and `IncrementalTable.largestBlob`.
    static func decode(_ bytes: [UInt8], for pack: String) throws -> PackIndex {
        guard bytes.count >= headerBytes, Array(bytes[0..<8]) == magic else {
            throw BackupError.damagedSnapshot("a pack index does not start as one")
        }
        guard isPackName(pack), ManifestKey.bytes(hex: pack) == Array(bytes[16..<48]) else {
            throw BackupError.damagedSnapshot("a pack index is another pack's")
        }
        let version = integer(bytes, at: 8)
        guard version == Self.version || version == deltaVersion else {
            throw BackupError.damagedSnapshot("a pack index has a version this ledger does not read")
        }
        var index = PackIndex()
        var start = headerBytes
        if version == deltaVersion {
            guard bytes.count >= headerBytes + 4 else {
                throw BackupError.damagedSnapshot("a pack index's count does not match its size")
            }
            let bases = Int(integer(bytes, at: headerBytes))
            start += 4
            guard bases >= 1, bases <= largestBaseCount, bases <= (bytes.count - start) / 32 else {
                throw BackupError.damagedSnapshot("a pack index names its base packs wrongly")
            }
            var named: Set<String> = [pack]
            for number in 0..<bases {
                let name = Array(bytes[start + 32 * number..<start + 32 * (number + 1)]).hex
                guard named.insert(name).inserted else {
                    throw BackupError.damagedSnapshot("a pack index names its base packs wrongly")
                }
                index.basePacks.append(name)
            }
            start += 32 * bases
        }
        let size = version == deltaVersion ? deltaEntryBytes : entryBytes
        let count = Int(integer(bytes, at: 12))
        let (entries, remainder) = (bytes.count - start).quotientAndRemainder(dividingBy: size)
        guard count >= 1, remainder == 0, entries == count else {
            throw BackupError.damagedSnapshot("a pack index's count does not match its size")
        }
        index.hashes.reserveCapacity(count * IncrementalTable.hashBytes)
        index.offsets.reserveCapacity(count + 1)
        index.bases.reserveCapacity(count)
        for number in 0..<count {
            let entry = start + number * size
            let length = Int(integer(bytes, at: entry + IncrementalTable.hashBytes))
            // Lengths are at most `largestBlob` and the count at most the bytes read, so no sum overflows.
            guard length > 0, length <= IncrementalTable.largestBlob else {
                throw BackupError.damagedSnapshot("a pack index gives a blob a wrong length")
            }
            index.hashes += bytes[entry..<entry + IncrementalTable.hashBytes]
            index.offsets.append(index.plainBytes + length)
            guard version == deltaVersion else {
                index.bases.append(Reference(pack: 0, number: 0))
                continue
            }
            let basePack = integer(bytes, at: entry + entryBytes)
            guard basePack <= UInt32(index.basePacks.count) else {
                throw BackupError.damagedSnapshot("a pack index gives a blob a base pack it does not name")
            }
            index.bases.append(Reference(pack: basePack, number: integer(bytes, at: entry + entryBytes + 4)))
        }
        return index
    }

    /// The index of a pack written before index objects (docs/incremental.md,
    /// "Version 1"), from its plain bytes: each blob inflated to a page of
    /// `pageSize` bytes and hashed under `key`.
    /// - Throws: `BackupError.damagedSnapshot` when the bytes are not whole blobs.
    static func build(fromPack plain: [UInt8], pageSize: Int, key: IncrementalKey) throws -> PackIndex {
        let blobs = try PackBlobs(level: 1)
        var page = [UInt8](repeating: 0, count: pageSize)
        var index = PackIndex()
        while index.plainBytes < plain.count {
            let used = plain[index.plainBytes...].withUnsafeBytes { rest in
                page.withUnsafeMutableBytes { blobs.inflateFirst(of: rest, into: $0) }
            }
            guard let used, used <= IncrementalTable.largestBlob else {
                throw BackupError.damagedSnapshot("a pack does not hold whole page blobs")
            }
            index.append(hash: page.withUnsafeBytes { key.pageHash($0) }, length: used)
        }
        guard index.count > 0 else { throw BackupError.damagedSnapshot("a pack is empty") }
        return index
    }

    /// The 4-byte little-endian integer at `offset` (which the caller has checked is within `bytes`).
    private static func integer(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }
}
