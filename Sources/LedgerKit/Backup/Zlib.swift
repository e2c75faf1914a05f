import CLibdeflate
import CZlib

/// One raw-inflate decompressor: owns its `z_stream`, which lives on the heap
/// because zlib keeps a pointer back to it, and ends it in `deinit`.
final class Inflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private(set) var finished = false

    /// - Parameter windowBits: zlib's, negative for raw inflate (-8 to -15).
    init(windowBits: Int32 = -15) throws {
        // The stream is stored only once zlib has started it: an initializer that
        // throws after every property is set runs `deinit`, which would end and
        // free it a second time.
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
        // An empty buffer may have no base address: nothing to inflate.
        guard !finished, input.count > 0, let inputBase = input.baseAddress else { return 0 }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: inputBase.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while stream.pointee.avail_in > 0 && !finished {
            let produced = try buffer.withUnsafeMutableBytes { out -> Int in
                guard let outBase = out.baseAddress else { return 0 }
                stream.pointee.next_out = outBase.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(out.count)
                let status = CZlib.inflate(stream, Z_NO_FLUSH)
                switch status {
                case Z_STREAM_END: finished = true
                case Z_OK, Z_BUF_ERROR: break
                default: throw BackupError.damagedSnapshot("the compressed data is damaged (zlib code \(status))")
                }
                return out.count - Int(stream.pointee.avail_out)
            }
            if produced > 0 {
                try buffer.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
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
        return libdeflate_crc32(crc, base, bytes.count)
    }
}

/// One libdeflate compressor, owned like `Inflater`: whole buffers in, a
/// complete (final) deflate stream out.
final class WholeDeflater {
    private let compressor: OpaquePointer

    init(level: Int32) throws {
        guard let compressor = libdeflate_alloc_compressor(level) else {
            throw BackupError.compression("libdeflate could not start at level \(level)")
        }
        self.compressor = compressor
    }

    deinit {
        libdeflate_free_compressor(compressor)
    }

    /// `input` as one final deflate stream.
    func compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let bound = libdeflate_deflate_compress_bound(compressor, input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            libdeflate_deflate_compress(compressor, input.baseAddress, input.count, out.baseAddress, out.count)
        }
        guard written > 0 else { throw BackupError.compression("libdeflate had no room for a block") }
        output.removeSubrange(written...)
        return output
    }
}
