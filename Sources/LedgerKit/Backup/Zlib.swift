import CZlib

/// One raw-deflate compressor: owns its `z_stream`, which lives on the heap
/// because zlib keeps a pointer back to it, and ends it in `deinit`.
final class Deflater {
    private let stream: UnsafeMutablePointer<z_stream>
    let level: Int32

    /// - Throws: `BackupError.compression` if zlib cannot start (out of memory).
    init(level: Int32) throws {
        // The stream is stored only once zlib has started it: an initializer that
        // throws after every property is set runs `deinit`, which would end and
        // free the stream a second time.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // windowBits -15: raw deflate; the gzip header and trailer are ours.
        let status = CZlib_deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY)
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw BackupError.compression("zlib could not start (code \(status))")
        }
        self.stream = stream
        self.level = level
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses one block into raw deflate that can be joined to the blocks
    /// before and after it: primed with `dictionary` (the 32 KiB before the
    /// block), ended with a sync flush, or with the final block when `last`.
    func compress(_ input: UnsafeRawBufferPointer, dictionary: UnsafeRawBufferPointer?, last: Bool) throws -> [UInt8] {
        guard deflateReset(stream) == Z_OK else { throw BackupError.compression("zlib could not reset") }
        if let dictionary, dictionary.count > 0 {
            let status = deflateSetDictionary(stream, dictionary.baseAddress!.assumingMemoryBound(to: Bytef.self),
                                              uInt(dictionary.count))
            guard status == Z_OK else { throw BackupError.compression("zlib refused the dictionary (code \(status))") }
        }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(input.count))) + 64)
        let produced = try output.withUnsafeMutableBytes { out -> Int in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(out.count)
            let status = CZlib.deflate(stream, last ? Z_FINISH : Z_SYNC_FLUSH)
            guard (last && status == Z_STREAM_END) || (!last && status == Z_OK), stream.pointee.avail_in == 0 else {
                throw BackupError.compression("zlib could not compress a block (code \(status))")
            }
            return out.count - Int(stream.pointee.avail_out)
        }
        output.removeSubrange(produced...)
        return output
    }
}

/// One raw-inflate decompressor, owned like `Deflater`.
final class Inflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private(set) var finished = false

    /// - Parameter windowBits: zlib's, negative for raw inflate (-8 to -15).
    init(windowBits: Int32 = -15) throws {
        // Stored only once zlib has started it, as in `Deflater`.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = CZlib_inflateInit2(stream, windowBits)
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw BackupError.compression("zlib could not start (code \(status))")
        }
        self.stream = stream
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Inflates as much of `input` as fits, calling `sink` with each piece of
    /// output; returns how many input bytes were used (less than all only at the
    /// end of the deflate stream, where the gzip trailer begins).
    func inflate(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        guard !finished, input.count > 0 else { return 0 }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while stream.pointee.avail_in > 0 && !finished {
            let produced = try buffer.withUnsafeMutableBytes { out -> Int in
                stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(out.count)
                let status = CZlib.inflate(stream, Z_NO_FLUSH)
                switch status {
                case Z_STREAM_END: finished = true
                case Z_OK, Z_BUF_ERROR: break
                default: throw BackupError.damagedSnapshot("the compressed data is damaged (zlib code \(status))")
                }
                return out.count - Int(stream.pointee.avail_out)
            }
            if produced > 0 { try buffer.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
            if produced == 0 && !finished && stream.pointee.avail_in > 0 {
                throw BackupError.damagedSnapshot("the compressed data stops making progress")
            }
        }
        return input.count - Int(stream.pointee.avail_in)
    }
}

/// CRC-32 as gzip uses it.
enum CRC32 {
    static func of(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return UInt32(crc32(uLong(crc), base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }

    /// The CRC of A followed by B, from the CRCs of each and B's length.
    static func combine(_ first: UInt32, _ second: UInt32, secondLength: Int) -> UInt32 {
        UInt32(crc32_combine(uLong(first), uLong(second), off_t(secondLength)))
    }
}
