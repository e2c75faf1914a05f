import Crypto
import Foundation

extension Sequence where Element == UInt8 {
    /// Lower-case hex, two digits a byte.
    var hex: String {
        // Not String(format:) a byte at a time: bank import makes an id this way for every line.
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension Digest {
    /// The digest in lower-case hex, as manifests and signatures write it.
    var hex: String { Array(self).hex }
}
