import Crypto
import Foundation

/// The size and SHA-256 of a file's bytes, as a snapshot's manifest records
/// them for the company file it holds.
enum FileDigest {
    /// The size and SHA-256 (hex) of the file at `path`, read 1 MiB at a time.
    static func of(_ path: String) throws -> (bytes: Int64, sha256: String) {
        let descriptor: Int32
        do {
            descriptor = try SystemCalls.open(path, O_RDONLY)
        } catch let error as SystemCallError {
            throw FileError.cannotRead(path: path, reason: error.reason)
        }
        defer { SystemCalls.close(descriptor) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total: Int64 = 0
        while true {
            let got = try buffer.withUnsafeMutableBytes {
                try SystemCalls.pread(descriptor, into: $0, at: total, path: path)
            }
            if got == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0.prefix(got))) }
            total += Int64(got)
        }
        return (total, hasher.finalize().hex)
    }
}
