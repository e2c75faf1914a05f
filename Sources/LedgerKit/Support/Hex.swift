import Crypto
import Foundation

extension Sequence where Element == UInt8 {
    /// Lower-case hex, two digits a byte.
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

extension Digest {
    /// The digest in lower-case hex, as manifests and signatures write it.
    var hex: String { Array(self).hex }
}
