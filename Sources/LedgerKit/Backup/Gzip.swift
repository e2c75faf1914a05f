import Dispatch
import Foundation

/// gzip files (RFC 1952) written with deflate on every core: the input is cut
/// into 1 MiB pieces, each compressed on its own by libdeflate (on the
/// 1,000,000-transaction sample, libdeflate -6 took 5.1 s where gzip -6 took
/// 18.9 s, for 0.94 of the size) into a gzip member of its
/// own; the members follow one another, as RFC 1952 allows, so `gzip -dc` (and
/// Python's gzip module) give the whole input back, as for bgzip's files. The first member's
/// header carries the comment (the manifest). Memory stays bounded: one batch
/// of pieces at a time.
enum Gzip {
    static let pieceSize = 1 << 20

    /// The comment field starts right after the 10 fixed bytes of the header.
    static let commentOffset: off_t = 10

    /// Compresses the file at `source` into gzip members handed to `output` in
    /// order, the first with `comment` in its FCOMMENT field.
    ///
    /// - Parameters:
    ///   - modified: the headers' MTIME.
    ///   - threads: how many threads compress: nil for one per core; 1
    ///     compresses on the calling thread alone.
    ///   - yielding: compress on threads of lowered priority (nice 10), so that
    ///     work beside it that others wait for (a backup's verify) goes first.
    ///   - observe: called with each piece of uncompressed input, in order (for a digest).
    /// - Returns: the number of uncompressed bytes.
    static func compress(
        file source: String, into output: ([UInt8]) throws -> Void, comment: String, modified: Date,
        level: Int32, threads: Int? = nil, yielding: Bool = false,
        observe: (UnsafeRawBufferPointer) -> Void
    ) throws -> Int64 {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BackupError.cannotRead(path: source, reason: String(cString: strerror(errno))) }
        defer { close(input) }

        let workers = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let mode: Batch.Mode = yielding ? .yielding : (workers == 1 ? .callingThread : .everyCore)
        let work = try Batch(size: workers * 2, level: level, mode: mode)
        var total: Int64 = 0
        var first = true
        repeat {
            var count = 0
            while count < work.size {
                let piece = try readPiece(input, path: source)
                // An empty input still makes one (empty) member.
                guard !piece.isEmpty || (first && count == 0) else { break }
                work.inputs[count] = piece
                count += 1
                if piece.count < pieceSize { break }
            }
            guard count > 0 else { break }
            try work.compress(count: count)
            for index in 0..<count {
                let piece = work.inputs[index]
                piece.withUnsafeBytes(observe)
                total += Int64(piece.count)
                let header =
                    first
                    ? self.header(comment: comment, modified: modified, level: level)
                    : self.header(comment: nil, modified: modified, level: level)
                first = false
                try output(
                    header + work.outputs[index] + littleEndian(work.crcs[index])
                        + littleEndian(UInt32(truncatingIfNeeded: piece.count)))
            }
            if work.inputs[count - 1].count < pieceSize { break }
        } while true
        return total
    }

    /// One batch of pieces compressed at once. The slots live in buffers
    /// allocated once; each worker writes only its own index, and the inputs do
    /// not change while `compress` runs: hence `@unchecked Sendable`.
    private final class Batch: @unchecked Sendable {
        let size: Int
        let inputs: UnsafeMutableBufferPointer<[UInt8]>
        let outputs: UnsafeMutableBufferPointer<[UInt8]>
        let crcs: UnsafeMutableBufferPointer<UInt32>
        let failures: UnsafeMutableBufferPointer<(any Error)?>
        let compressors: [WholeDeflater]
        /// Where the pieces are compressed.
        enum Mode {
            /// On the calling thread, one after the other.
            case callingThread
            /// On GCD's threads, one per core.
            case everyCore
            /// On threads of their own, of lowered priority.
            case yielding
        }
        let mode: Mode

        init(size: Int, level: Int32, mode: Mode) throws {
            self.size = size
            self.mode = mode
            compressors = try (0..<size).map { _ in try WholeDeflater(level: level) }
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

        func compress(count: Int) throws {
            let one: @Sendable (Int) -> Void = { index in
                do {
                    self.outputs[index] = try self.inputs[index].withUnsafeBytes {
                        try self.compressors[index].compress($0)
                    }
                    self.crcs[index] = self.inputs[index].withUnsafeBytes { CRC32.of($0) }
                    self.failures[index] = nil
                } catch {
                    self.failures[index] = error
                }
            }
            switch mode {
            case .callingThread:
                for index in 0..<count { one(index) }
            case .everyCore:
                DispatchQueue.concurrentPerform(iterations: count, execute: one)
            case .yielding:
                // `one` keeps its failures in `failures`: nothing to rethrow here.
                try Parallel.forEach(count, width: size / 2) { index in
                    SystemCalls.lowerThreadPriority()
                    one(index)
                }
            }
            if let failure = failures.prefix(count).compactMap({ $0 }).first { throw failure }
        }
    }

    /// A member's header: with FCOMMENT when there is a comment.
    static func header(comment: String?, modified: Date, level: Int32) -> [UInt8] {
        let seconds = UInt32(clamping: Int64(max(0, modified.timeIntervalSince1970)))
        let extraFlags: UInt8 = level >= 9 ? 2 : (level <= 1 ? 4 : 0)
        guard let comment else { return [0x1F, 0x8B, 8, 0] + littleEndian(seconds) + [extraFlags, 3] }
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

    /// Decompresses the gzip file at `path`, every member of it in turn,
    /// checking each member's CRC-32 and length, and hands every piece of
    /// output to `sink`, in order. Anything after the last member that is not
    /// another member is damage, never ignored.
    ///
    /// - Parameter limit: the most output there may be (a manifest's
    ///   `database_bytes`). A piece that would pass it is refused before `sink`
    ///   sees it, and once the output has reached it, anything more in the file
    ///   (another member, even an empty one) is refused too: a snapshot's
    ///   members end where its database does.
    /// - Throws: `BackupError.damagedSnapshot` for anything that does not add up.
    static func decompress(path: String, limit: Int64? = nil, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        // A snapshot lies in a location others may write: a FIFO in its place is refused, not waited on.
        let input: Int32
        do {
            input = try SystemCalls.openRegularFile(path)
        } catch let error as SystemCallError {
            throw BackupError.cannotRead(path: path, reason: error.reason)
        }
        defer { SystemCalls.close(input) }
        var reader = PendingBytes(descriptor: input, path: path)
        var members = 0
        var total: Int64 = 0
        while true {
            // The member's header.
            // A header is a few KiB at most: the whole of what is read is tried only when that fails.
            var header = parseHeader(Array(reader.bytes.prefix(4096))) ?? parseHeader(Array(reader.bytes))
            while header == nil {
                guard reader.bytes.count <= 1 << 20, try reader.fill() else {
                    throw BackupError.damagedSnapshot(
                        members == 0
                            ? (reader.bytes.isEmpty ? "it is empty" : "it is not a gzip file")
                            : "what follows its last gzip member is not one")
                }
                header = parseHeader(Array(reader.bytes))
            }
            reader.consume(header?.dataOffset ?? 0)
            // Its deflate stream.
            let inflater = try Inflater()
            var crc: UInt32 = 0
            var size: UInt32 = 0
            while !inflater.finished {
                if reader.bytes.isEmpty {
                    guard try reader.fill() else { throw BackupError.damagedSnapshot("it is cut short") }
                }
                let used = try reader.bytes.withUnsafeBytes { bytes in
                    try inflater.inflate(bytes) { piece in
                        total += Int64(piece.count)
                        if let limit, total > limit {
                            throw BackupError.damagedSnapshot(
                                "it holds more than the \(limit) bytes its manifest gives")
                        }
                        crc = CRC32.of(piece, continuing: crc)
                        size &+= UInt32(truncatingIfNeeded: piece.count)
                        try sink(piece)
                    }
                }
                reader.consume(used)
            }
            // Its trailer.
            while reader.bytes.count < 8 {
                guard try reader.fill() else { throw BackupError.damagedSnapshot("its gzip trailer is missing") }
            }
            let trailer = Array(reader.bytes.prefix(8))
            let storedCRC =
                UInt32(trailer[0]) | UInt32(trailer[1]) << 8 | UInt32(trailer[2]) << 16 | UInt32(trailer[3]) << 24
            let storedSize =
                UInt32(trailer[4]) | UInt32(trailer[5]) << 8 | UInt32(trailer[6]) << 16 | UInt32(trailer[7]) << 24
            guard storedCRC == crc, storedSize == size else {
                throw BackupError.damagedSnapshot("its checksum does not match its content")
            }
            reader.consume(8)
            members += 1
            if reader.bytes.isEmpty, try !reader.fill() { return }
            if let limit, total >= limit {
                throw BackupError.damagedSnapshot("it goes on past the \(limit) bytes its manifest gives")
            }
        }
    }

    /// Bytes read from a file and not yet used, read 1 MiB at a time.
    private struct PendingBytes {
        let descriptor: Int32
        let path: String
        private(set) var bytes: ArraySlice<UInt8> = []

        init(descriptor: Int32, path: String) {
            self.descriptor = descriptor
            self.path = path
        }

        /// Reads more; false at the end of the file.
        mutating func fill() throws -> Bool {
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { try SystemCalls.read(descriptor, into: $0, path: path) }
            } catch let error as SystemCallError {
                throw BackupError.cannotRead(path: path, reason: error.reason)
            }
            guard count > 0 else { return false }
            bytes = ArraySlice(Array(bytes) + chunk[0..<count])
            return true
        }

        mutating func consume(_ count: Int) {
            bytes = bytes.dropFirst(count)
        }
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }

    private static func readPiece(_ descriptor: Int32, path: String) throws -> [UInt8] {
        var block = [UInt8](repeating: 0, count: pieceSize)
        var filled = 0
        while filled < pieceSize {
            let count: Int
            do {
                count = try block.withUnsafeMutableBytes {
                    try SystemCalls.read(
                        descriptor, into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]), path: path)
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
