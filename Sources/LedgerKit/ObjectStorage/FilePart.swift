import Crypto
import Foundation

/// Reading a range of a file into memory, for one part or one small object.
enum FilePart {
    static func read(_ path: String, offset: Int64, count: Int) throws -> Data {
        let descriptor = try SystemCalls.open(path, O_RDONLY)
        defer { SystemCalls.close(descriptor) }
        var data = Data(count: count)
        let got = try data.withUnsafeMutableBytes {
            try SystemCalls.pread(descriptor, into: $0, at: Int64(offset), path: path)
        }
        guard got == count else { throw SystemCallError(call: "pread", path: path, code: EIO) }
        return data
    }
}

extension Data {
    /// The SHA-256 in base64, as `x-amz-checksum-sha256` wants it.
    var sha256Base64: String { Data(SHA256.hash(data: self)).base64EncodedString() }
}
