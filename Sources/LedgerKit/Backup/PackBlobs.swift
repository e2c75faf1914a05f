import CLibdeflate
import Foundation

/// Page blobs (docs/incremental.md): a page compressed as one raw deflate
/// stream, and back to exactly one page. Owns its libdeflate state.
final class PackBlobs {
    private let compressor: WholeDeflater
    private let decompressor: OpaquePointer

    init(level: Int) throws {
        compressor = try WholeDeflater(level: Int32(max(1, min(9, level))))
        guard let decompressor = libdeflate_alloc_decompressor() else {
            throw BackupError.compression("libdeflate could not start")
        }
        self.decompressor = decompressor
    }

    deinit {
        libdeflate_free_decompressor(decompressor)
    }

    /// The blob of `page`.
    func blob(of page: UnsafeRawBufferPointer) throws -> [UInt8] {
        try compressor.compress(page)
    }

    /// Inflates `blob` into `page`, which it must fill exactly.
    /// - Returns: false when the blob is not one deflate stream of exactly `page.count` bytes.
    func inflate(_ blob: UnsafeRawBufferPointer, into page: UnsafeMutableRawBufferPointer) -> Bool {
        guard let input = blob.baseAddress, let output = page.baseAddress else { return false }
        var produced = 0
        let result = libdeflate_deflate_decompress(decompressor, input, blob.count, output, page.count, &produced)
        return result == LIBDEFLATE_SUCCESS && produced == page.count
    }

    /// Inflates the blob at the start of `bytes` into `page`, which it must fill exactly.
    /// - Returns: the blob's length, or nil when `bytes` does not start with one deflate stream of `page.count` bytes.
    func inflateFirst(of bytes: UnsafeRawBufferPointer, into page: UnsafeMutableRawBufferPointer) -> Int? {
        guard let input = bytes.baseAddress, let output = page.baseAddress else { return nil }
        var used = 0
        var produced = 0
        let result = libdeflate_deflate_decompress_ex(
            decompressor, input, bytes.count, output, page.count, &used, &produced)
        guard result == LIBDEFLATE_SUCCESS, produced == page.count, used > 0 else { return nil }
        return used
    }
}
