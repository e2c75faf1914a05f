import CLibdeflate
import CZlib

/// One zlib stream, raw (no zlib or gzip wrapper): it lives on the heap
/// because zlib keeps a pointer back to it, is started by its maker and ended
/// (`inflateEnd`, `deflateEnd`) in `deinit`.
final class ZStream {
    let pointer: UnsafeMutablePointer<z_stream>
    private let end: (UnsafeMutablePointer<z_stream>) -> Int32

    /// An inflating stream; `windowBits` is zlib's, negative for raw inflate (-8 to -15).
    static func inflating(windowBits: Int32 = -15) throws -> ZStream {
        try ZStream(start: { CZlib_inflateInit2($0, windowBits) }, end: { inflateEnd($0) })
    }

    /// A deflating stream at `level`, 1 to 9.
    static func deflating(level: Int) throws -> ZStream {
        let level = Int32(max(1, min(9, level)))
        return try ZStream(
            start: { CZlib_deflateInit2($0, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) }, end: { deflateEnd($0) })
    }

    private init(
        start: (UnsafeMutablePointer<z_stream>) -> Int32, end: @escaping (UnsafeMutablePointer<z_stream>) -> Int32
    ) throws {
        // The stream is stored only once zlib has started it: an initializer that
        // throws after every property is set runs `deinit`, which would end and
        // free it a second time.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = start(stream)
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw BackupError.compression("zlib could not start (code \(status))")
        }
        pointer = stream
        self.end = end
    }

    deinit {
        _ = end(pointer)
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }
}

/// One raw-inflate decompressor of a stream of any length.
final class Inflater {
    private let owned: ZStream
    private var stream: UnsafeMutablePointer<z_stream> { owned.pointer }
    private(set) var finished = false

    /// - Parameter windowBits: zlib's, negative for raw inflate (-8 to -15).
    init(windowBits: Int32 = -15) throws {
        owned = try ZStream.inflating(windowBits: windowBits)
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
