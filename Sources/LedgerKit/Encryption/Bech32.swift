/// Bech32 (BIP 173), as age writes its keys: recipients `age1…` and
/// identities `AGE-SECRET-KEY-1…`. Like age, no 90-character limit.
enum Bech32 {
    private static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let values: [UInt8: UInt8] = Dictionary(
        uniqueKeysWithValues: alphabet.enumerated().map { ($1, UInt8($0)) })

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var check: UInt32 = 1
        for value in values {
            let top = check >> 25
            check = (check & 0x1ff_ffff) << 5 ^ UInt32(value)
            for bit in 0..<5 where (top >> UInt32(bit)) & 1 == 1 { check ^= generator[bit] }
        }
        return check
    }

    private static func expanded(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    /// `hrp` + `1` + the data in 5-bit groups + a 6-character checksum, in lower case.
    static func encode(hrp: String, data: [UInt8]) -> String {
        let human = Array(hrp.lowercased().utf8)
        let groups = regroup(data, from: 8, to: 5, pad: true) ?? []
        let check = polymod(expanded(human) + groups + [0, 0, 0, 0, 0, 0]) ^ 1
        let checksum = (0..<6).map { UInt8((check >> UInt32(5 * (5 - $0))) & 31) }
        return String(
            decoding: human + [UInt8(ascii: "1")] + (groups + checksum).map { alphabet[Int($0)] }, as: UTF8.self)
    }

    /// The human-readable part (in lower case) and the data; nil for anything
    /// that is not valid Bech32 (mixed case, a bad character, a bad checksum,
    /// non-zero padding).
    static func decode(_ text: String) -> (hrp: String, data: [UInt8])? {
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy({ (33...126).contains($0) }) else { return nil }
        let lower = bytes.contains { (65...90).contains($0) }
        let upper = bytes.contains { (97...122).contains($0) }
        guard !(lower && upper) else { return nil }
        let folded = bytes.map { (65...90).contains($0) ? $0 + 32 : $0 }
        guard let separator = folded.lastIndex(of: UInt8(ascii: "1")), separator >= 1, folded.count - separator > 6
        else { return nil }
        let human = Array(folded[..<separator])
        var groups: [UInt8] = []
        for byte in folded[(separator + 1)...] {
            guard let value = values[byte] else { return nil }
            groups.append(value)
        }
        guard polymod(expanded(human) + groups) == 1,
            let data = regroup(Array(groups.dropLast(6)), from: 5, to: 8, pad: false)
        else {
            return nil
        }
        return (String(decoding: human, as: UTF8.self), data)
    }

    /// Regroups bits; without `pad`, leftover bits must be fewer than `from` and zero.
    private static func regroup(_ data: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var accumulator = 0
        var bits = 0
        var out: [UInt8] = []
        let mask = (1 << to) - 1
        for value in data {
            guard Int(value) >> from == 0 else { return nil }
            accumulator = (accumulator << from) | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                out.append(UInt8((accumulator >> bits) & mask))
            }
        }
        if pad {
            if bits > 0 { out.append(UInt8((accumulator << (to - bits)) & mask)) }
        } else if bits >= from || (accumulator << (to - bits)) & mask != 0 {
            return nil
        }
        return out
    }
}

/// Base64 as age writes it (RFC 4648 §4 without `=` padding), read strictly:
/// a character outside the alphabet, padding, or non-zero leftover bits
/// (a non-canonical encoding) is refused.
enum RawBase64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8: UInt8] = Dictionary(
        uniqueKeysWithValues: alphabet.enumerated().map { ($1, UInt8($0)) })

    static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var accumulator = 0
        var bits = 0
        for byte in bytes {
            accumulator = (accumulator << 8) | Int(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[(accumulator >> bits) & 63])
            }
            accumulator &= (1 << bits) - 1
        }
        if bits > 0 { out.append(alphabet[(accumulator << (6 - bits)) & 63]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode<Text: Collection>(_ text: Text) -> [UInt8]? where Text.Element == UInt8 {
        guard text.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var accumulator = 0
        var bits = 0
        for character in text {
            guard let value = values[character] else { return nil }
            accumulator = (accumulator << 6) | Int(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((accumulator >> bits) & 255))
            }
            accumulator &= (1 << bits) - 1
        }
        guard accumulator == 0 else { return nil }
        return out
    }
}
