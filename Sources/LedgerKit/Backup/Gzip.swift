import Dispatch
import Foundation

/// gzip files (RFC 1952) of one member, written with deflate on every core the
/// way pigz does: the input is cut into blocks, each block is deflated on its
/// own, primed with the 32 KiB before it as dictionary and ended with a sync
/// flush, so the pieces join into one ordinary deflate stream; the CRC-32s of
/// the blocks are combined. Memory stays bounded: one batch of blocks at a time.
enum Gzip {
    static let blockSize = 128 * 1024
    static let dictionarySize = 32 * 1024

    /// Compresses the file at `source` into a gzip member written to `output`
    /// (an open descriptor) with `comment` in the header's FCOMMENT field.
    ///
    /// - Parameters:
    ///   - modified: the header's MTIME.
    ///   - observe: called with each piece of uncompressed input, in order (for a digest).
    /// - Returns: the number of uncompressed bytes.
    /// The comment field starts right after the 10 fixed bytes of the header.
    static let commentOffset: off_t = 10

    static func compress(file source: String, to output: Int32, outputPath: String, comment: String, modified: Date,
                         level: Int32, observe: (UnsafeRawBufferPointer) -> Void) throws -> Int64 {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BackupError.cannotRead(path: source, reason: String(cString: strerror(errno))) }
        defer { close(input) }

        try write(header(comment: comment, modified: modified, level: level), to: output, path: outputPath)
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let batch = workers * 2
        let work = try Batch(size: batch, level: level)
        var crc: UInt32 = 0
        var total: Int64 = 0
        var ahead = try readBlock(input, path: source)
        while !ahead.isEmpty {
            var count = 0
            while count < batch && !ahead.isEmpty {
                work.inputs[count] = ahead
                ahead = try readBlock(input, path: source)
                count += 1
            }
            try work.compress(count: count, last: ahead.isEmpty)
            for index in 0..<count {
                work.inputs[index].withUnsafeBytes(observe)
                crc = CRC32.combine(crc, work.crcs[index], secondLength: work.inputs[index].count)
                total += Int64(work.inputs[index].count)
                try write(work.outputs[index], to: output, path: outputPath)
            }
            work.dictionary = Array(work.inputs[count - 1].suffix(dictionarySize))
        }
        if total == 0 {
            // An empty input still needs one final (empty) deflate block.
            let empty = try Deflater(level: level).compress(UnsafeRawBufferPointer(start: nil, count: 0), dictionary: nil, last: true)
            try write(empty, to: output, path: outputPath)
        }
        try write(littleEndian(crc) + littleEndian(UInt32(truncatingIfNeeded: total)), to: output, path: outputPath)
        return total
    }

    /// One batch of blocks compressed at once. The slots live in buffers
    /// allocated once; each worker writes only its own index, and the inputs do
    /// not change while `compress` runs: hence `@unchecked Sendable`.
    private final class Batch: @unchecked Sendable {
        let size: Int
        let inputs: UnsafeMutableBufferPointer<[UInt8]>
        let outputs: UnsafeMutableBufferPointer<[UInt8]>
        let crcs: UnsafeMutableBufferPointer<UInt32>
        let failures: UnsafeMutableBufferPointer<(any Error)?>
        var dictionary: [UInt8] = []
        let deflaters: [Deflater]

        init(size: Int, level: Int32) throws {
            self.size = size
            deflaters = try (0..<size).map { _ in try Deflater(level: level) }
            inputs = .allocate(capacity: size)
            inputs.initialize(repeating: [])
            outputs = .allocate(capacity: size)
            outputs.initialize(repeating: [])
            crcs = .allocate(capacity: size)
            crcs.initialize(repeating: 0)
            failures = .allocate(capacity: size)
            failures.initialize(repeating: nil)
        }

        deinit {
            inputs.deinitialize().deallocate()
            outputs.deinitialize().deallocate()
            crcs.deinitialize().deallocate()
            failures.deinitialize().deallocate()
        }

        func compress(count: Int, last: Bool) throws {
            let first = dictionary
            DispatchQueue.concurrentPerform(iterations: count) { index in
                do {
                    let primer = index == 0 ? first : Array(inputs[index - 1].suffix(dictionarySize))
                    let compressed = try inputs[index].withUnsafeBytes { bytes in
                        try primer.withUnsafeBytes { primed in
                            try deflaters[index].compress(bytes, dictionary: primed.count > 0 ? primed : nil,
                                                          last: last && index == count - 1)
                        }
                    }
                    outputs[index] = compressed
                    crcs[index] = inputs[index].withUnsafeBytes { CRC32.of($0) }
                    failures[index] = nil
                } catch {
                    failures[index] = error
                }
            }
            if let failure = failures.prefix(count).compactMap({ $0 }).first { throw failure }
        }
    }

    static func header(comment: String, modified: Date, level: Int32) -> [UInt8] {
        let seconds = UInt32(clamping: Int64(max(0, modified.timeIntervalSince1970)))
        let extraFlags: UInt8 = level >= 9 ? 2 : (level <= 1 ? 4 : 0)
        return [0x1F, 0x8B, 8, 0x10] + littleEndian(seconds) + [extraFlags, 3] + Array(comment.utf8) + [0]
    }

    /// What a gzip header says, and where the compressed data begins.
    struct Header {
        let comment: String?
        let dataOffset: Int
    }

    /// Parses the header at the start of `bytes`; nil if it is not a complete gzip header.
    static func parseHeader(_ bytes: [UInt8]) -> Header? {
        guard bytes.count >= 10, bytes[0] == 0x1F, bytes[1] == 0x8B, bytes[2] == 8 else { return nil }
        let flags = bytes[3]
        var position = 10
        if flags & 0x04 != 0 {  // FEXTRA
            guard bytes.count >= position + 2 else { return nil }
            position += 2 + (Int(bytes[position]) | Int(bytes[position + 1]) << 8)
        }
        func zeroTerminated() -> [UInt8]? {
            guard position <= bytes.count, let end = bytes[position...].firstIndex(of: 0) else { return nil }
            defer { position = end + 1 }
            return Array(bytes[position..<end])
        }
        if flags & 0x08 != 0 { guard zeroTerminated() != nil else { return nil } }  // FNAME
        var comment: String?
        if flags & 0x10 != 0 {  // FCOMMENT
            guard let text = zeroTerminated() else { return nil }
            comment = String(decoding: text, as: UTF8.self)
        }
        if flags & 0x02 != 0 { position += 2 }  // FHCRC
        guard position <= bytes.count else { return nil }
        return Header(comment: comment, dataOffset: position)
    }

    /// Decompresses the gzip file at `path`, checking its CRC-32 and length, and
    /// hands every piece of output to `sink`, in order.
    /// - Throws: `BackupError.damagedSnapshot` for anything that does not add up.
    static func decompress(path: String, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BackupError.cannotRead(path: path, reason: String(cString: strerror(errno))) }
        defer { close(input) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var pending: [UInt8] = []
        var header: Header?
        let inflater = try Inflater()
        var crc: UInt32 = 0
        var size: UInt32 = 0
        var trailer: [UInt8] = []
        while true {
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { try SystemCalls.read(input, into: $0, path: path) }
            } catch let error as SystemCallError {
                throw BackupError.cannotRead(path: path, reason: error.reason)
            }
            if count == 0 { break }
            var data = ArraySlice(chunk[0..<count])
            if header == nil {
                pending += data
                guard let parsed = parseHeader(pending) else {
                    if pending.count > 1 << 20 { throw BackupError.damagedSnapshot("its gzip header is unreadable") }
                    continue
                }
                header = parsed
                data = ArraySlice(pending[parsed.dataOffset...])
                pending = []
            }
            if inflater.finished {
                trailer += data
                continue
            }
            let used = try data.withUnsafeBytes { bytes in
                try inflater.inflate(bytes) { piece in
                    crc = CRC32.of(piece, continuing: crc)
                    size &+= UInt32(truncatingIfNeeded: piece.count)
                    try sink(piece)
                }
            }
            if inflater.finished { trailer += data.dropFirst(used) }
        }
        guard header != nil else { throw BackupError.damagedSnapshot("it is not a gzip file") }
        guard inflater.finished else { throw BackupError.damagedSnapshot("it is cut short") }
        guard trailer.count >= 8 else { throw BackupError.damagedSnapshot("its gzip trailer is missing") }
        let storedCRC = UInt32(trailer[0]) | UInt32(trailer[1]) << 8 | UInt32(trailer[2]) << 16 | UInt32(trailer[3]) << 24
        let storedSize = UInt32(trailer[4]) | UInt32(trailer[5]) << 8 | UInt32(trailer[6]) << 16 | UInt32(trailer[7]) << 24
        guard storedCRC == crc, storedSize == size else { throw BackupError.damagedSnapshot("its checksum does not match its content") }
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }

    private static func readBlock(_ descriptor: Int32, path: String) throws -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        var filled = 0
        while filled < blockSize {
            let count: Int
            do {
                count = try block.withUnsafeMutableBytes {
                    try SystemCalls.read(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]), path: path)
                }
            } catch let error as SystemCallError {
                throw BackupError.cannotRead(path: path, reason: error.reason)
            }
            if count == 0 { break }
            filled += count
        }
        block.removeSubrange(filled...)
        return block
    }

    static func write(_ bytes: [UInt8], to descriptor: Int32, path: String) throws {
        do {
            try bytes.withUnsafeBytes { try SystemCalls.write(descriptor, $0, path: path) }
        } catch let error as SystemCallError {
            throw BackupError.cannotWrite(path: path, reason: error.reason)
        }
    }
}
