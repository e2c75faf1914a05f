import CZlib
import Foundation

/// Delta blobs (docs/incremental.md, "Delta blobs"): a page compressed as one
/// raw deflate stream whose preset dictionary is another page, its base, and
/// back. A page changed by a few rows compresses against its earlier version
/// to a tenth of its own blob.
final class PageDeltas {
    /// The largest page a delta is made for: deflate reaches back 32 KiB, so a
    /// page of 32 KiB or more could not match its base's bytes at its own offset.
    static let largestPage = 16_384

    private let deflating: ZStream
    private let inflating: ZStream
    private var deflater: UnsafeMutablePointer<z_stream> { deflating.pointer }
    private var inflater: UnsafeMutablePointer<z_stream> { inflating.pointer }

    /// - Parameter level: the deflate level, 1 to 9.
    init(level: Int) throws {
        deflating = try ZStream.deflating(level: level)
        inflating = try ZStream.inflating()
    }

    /// The delta blob of `page` against `base` (a page of the same size).
    func delta(of page: UnsafeRawBufferPointer, against base: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard let pageStart = page.baseAddress, let baseStart = base.baseAddress, base.count == page.count else {
            throw BackupError.compression("a page and its base differ in size")
        }
        guard deflateReset(deflater) == Z_OK,
            deflateSetDictionary(deflater, baseStart.assumingMemoryBound(to: Bytef.self), uInt(base.count)) == Z_OK
        else {
            throw BackupError.compression("zlib would not take a base page")
        }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(deflater, uLong(page.count))))
        let status = output.withUnsafeMutableBytes { out -> Int32 in
            deflater.pointee.next_in = UnsafeMutablePointer(mutating: pageStart.assumingMemoryBound(to: Bytef.self))
            deflater.pointee.avail_in = uInt(page.count)
            deflater.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
            deflater.pointee.avail_out = uInt(out.count)
            return CZlib.deflate(deflater, Z_FINISH)
        }
        guard status == Z_STREAM_END else { throw BackupError.compression("zlib had no room for a delta") }
        output.removeSubrange(Int(deflater.pointee.total_out)...)
        return output
    }

    /// Inflates the delta blob `blob` against `base` into `page`, which it must fill exactly.
    /// - Returns: false unless `blob` is exactly one deflate stream of `page.count` bytes against `base`.
    func inflate(
        _ blob: UnsafeRawBufferPointer, against base: UnsafeRawBufferPointer, into page: UnsafeMutableRawBufferPointer
    ) -> Bool {
        guard let input = blob.baseAddress, let baseStart = base.baseAddress, let output = page.baseAddress,
            base.count == page.count, blob.count > 0,
            inflateReset(inflater) == Z_OK,
            inflateSetDictionary(inflater, baseStart.assumingMemoryBound(to: Bytef.self), uInt(base.count)) == Z_OK
        else { return false }
        inflater.pointee.next_in = UnsafeMutablePointer(mutating: input.assumingMemoryBound(to: Bytef.self))
        inflater.pointee.avail_in = uInt(blob.count)
        inflater.pointee.next_out = output.assumingMemoryBound(to: Bytef.self)
        inflater.pointee.avail_out = uInt(page.count)
        let status = CZlib.inflate(inflater, Z_FINISH)
        return status == Z_STREAM_END && inflater.pointee.avail_out == 0 && inflater.pointee.avail_in == 0
    }
}
