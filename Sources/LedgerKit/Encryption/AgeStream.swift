import Crypto
import Foundation

/// Bytes read in order from somewhere (a file, a buffer), fewer than asked only at the end.
final class ByteFeed {
    private let source: (Int) throws -> [UInt8]
    private var pending: [UInt8] = []
    private var ended = false

    init(_ source: @escaping (Int) throws -> [UInt8]) {
        self.source = source
    }

    /// A feed over the file at `path`, read 1 MiB at a time.
    static func file(_ descriptor: Int32, path: String) -> ByteFeed {
        var offset: Int64 = 0
        return ByteFeed { count in
            var buffer = [UInt8](repeating: 0, count: max(count, 1 << 20))
            let got = try buffer.withUnsafeMutableBytes { try SystemCalls.pread(descriptor, into: $0, at: offset, path: path) }
            offset += Int64(got)
            return Array(buffer.prefix(got))
        }
    }

    /// A feed over bytes in memory.
    static func bytes(_ bytes: [UInt8]) -> ByteFeed {
        var rest = bytes[...]
        return ByteFeed { count in
            let piece = rest.prefix(count)
            rest = rest.dropFirst(count)
            return Array(piece)
        }
    }

    /// Up to `count` bytes; fewer only at the end.
    func take(_ count: Int) throws -> [UInt8] {
        while pending.count < count && !ended {
            let more = try source(count - pending.count)
            if more.isEmpty { ended = true } else { pending += more }
        }
        let piece = Array(pending.prefix(count))
        pending.removeFirst(piece.count)
        return piece
    }

    /// Whether nothing is left.
    func atEnd() throws -> Bool {
        if !pending.isEmpty { return false }
        pending = try take(1)
        return pending.isEmpty
    }
}

extension AgeFile {
    /// Encrypts the file at `input` into the new file `output` (mode 0600) for
    /// `recipients`, one 64 KiB chunk in memory at a time.
    static func encrypt(file input: String, to output: String, for recipients: SnapshotRecipients,
                        workFactor: Int = scryptWorkFactor) throws {
        let writer = try Writer(to: output, for: recipients, workFactor: workFactor)
        try writer.sealTail(of: input)
        try writer.sealHead(of: input)
    }

    /// An age file written in two steps: every chunk but the first, then the
    /// header and the first chunk. A snapshot's first 64 KiB hold its gzip
    /// header, whose manifest is written last; the rest of it is final earlier
    /// and is encrypted while the verify finishes.
    final class Writer {
        private let output: String
        private let target: Int32
        private let header: [UInt8]
        private let key: SymmetricKey

        /// Chooses the file key and the payload nonce and opens `output` (new, mode 0600).
        init(to output: String, for recipients: SnapshotRecipients, workFactor: Int = scryptWorkFactor) throws {
            let fileKey = (0..<16).map { _ in UInt8.random(in: 0...255) }
            let nonce = (0..<16).map { _ in UInt8.random(in: 0...255) }
            key = payloadKey(fileKey: fileKey, nonce: nonce)
            header = AgeFile.header(try stanzas(for: recipients, fileKey: fileKey, workFactor: workFactor), fileKey: fileKey) + nonce
            self.output = output
            target = try SystemCalls.open(output, O_WRONLY | O_CREAT | O_EXCL)
        }

        deinit {
            SystemCalls.close(target)
        }

        /// Encrypts every chunk of `input` but the first, at their places in the file.
        func sealTail(of input: String) throws {
            try seal(input, chunks: 1...)
        }

        /// Writes the header and the first chunk, and makes the file durable.
        func sealHead(of input: String) throws {
            try header.withUnsafeBytes { try SystemCalls.pwrite(target, $0, at: 0, path: output) }
            try seal(input, chunks: 0...0)
            try SystemCalls.fsync(target, path: output)
        }

        private func seal(_ input: String, chunks: some RangeExpression<Int>) throws {
            let source = try SystemCalls.open(input, O_RDONLY)
            defer { SystemCalls.close(source) }
            let size = try SystemCalls.size(of: source, path: input)
            let count = max(1, Int((size + Int64(chunkSize) - 1) / Int64(chunkSize)))
            let range = (0..<count).clamped(to: chunks.relative(to: 0..<count))
            var buffer = [UInt8](repeating: 0, count: chunkSize)
            var out: [UInt8] = []
            var outAt: Int64 = -1
            for index in range {
                let offset = Int64(index) * Int64(chunkSize)
                let length = Int(min(Int64(chunkSize), size - offset))
                let got = try buffer.withUnsafeMutableBytes {
                    try SystemCalls.pread(source, into: UnsafeMutableRawBufferPointer(rebasing: $0.prefix(length)), at: offset, path: input)
                }
                guard got == length else { throw SystemCallError(call: "pread", path: input, code: EIO) }
                let sealed = try ChaChaPoly.seal(buffer.prefix(got), using: key, nonce: chunkNonce(UInt64(index), last: index == count - 1))
                if outAt < 0 { outAt = Int64(header.count) + Int64(index) * Int64(sealedChunkSize) }
                out += sealed.ciphertext
                out += sealed.tag
                if out.count >= 1 << 20 || index == range.upperBound - 1 {
                    try out.withUnsafeBytes { try SystemCalls.pwrite(target, $0, at: outAt, path: output) }
                    outAt += Int64(out.count)
                    out.removeAll(keepingCapacity: true)
                }
            }
        }
    }

    /// Decrypts what `feed` holds, giving each chunk to `sink` only once it
    /// has authenticated.
    /// - Throws: `Failure`, or what the feed or the sink threw.
    static func decrypt(_ feed: ByteFeed, with keys: SnapshotIdentities, sink: ([UInt8]) throws -> Void) throws {
        let (header, rest) = try readHeader(feed)
        let fileKey = try fileKey(of: header, with: keys)
        // What the header read took past the header, then the rest of the feed.
        var leftover = rest[...]
        let chunks = ByteFeed { count in
            guard leftover.isEmpty else {
                let piece = Array(leftover.prefix(count))
                leftover = leftover.dropFirst(piece.count)
                return piece
            }
            return try feed.take(count)
        }
        let nonce = try chunks.take(16)
        guard nonce.count == 16 else { throw Failure.header("the payload's nonce is cut short") }
        let key = payloadKey(fileKey: fileKey, nonce: nonce)
        var counter: UInt64 = 0
        while true {
            let sealed = try chunks.take(sealedChunkSize)
            guard !sealed.isEmpty else { throw Failure.payload("the payload ends without its last chunk") }
            let (plain, last) = try openChunk(sealed[...], key: key, counter: counter)
            if last && plain.isEmpty && counter > 0 { throw Failure.payload("the last chunk is empty") }
            try sink(plain)
            if last {
                guard try chunks.atEnd() else { throw Failure.payload("data follows the last chunk") }
                return
            }
            counter += 1
        }
    }

    /// The header from the start of `feed`, and the bytes read past it.
    private static func readHeader(_ feed: ByteFeed) throws -> (Header, [UInt8]) {
        var bytes: [UInt8] = []
        while true {
            let more = try feed.take(4096)
            bytes += more
            switch Result(catching: { () throws(Failure) -> Header in try parseHeader(bytes) }) {
            case .success(let header):
                return (header, Array(bytes[header.length...]))
            case .failure(let failure):
                guard failure == .header(cutShort), !more.isEmpty, bytes.count < maxHeaderBytes else { throw failure }
            }
        }
    }

    /// The first plaintext chunk of an age file of `size` bytes whose first
    /// bytes are `head` (at least the header, the nonce and one sealed chunk,
    /// or the whole file): enough to read a snapshot's manifest.
    static func decryptHead(_ head: [UInt8], size: Int64, with keys: SnapshotIdentities) throws -> [UInt8] {
        let header = try parseHeader(head)
        let fileKey = try fileKey(of: header, with: keys)
        let start = header.length + 16
        guard head.count >= start else { throw Failure.header("the payload's nonce is cut short") }
        let key = payloadKey(fileKey: fileKey, nonce: Array(head[header.length..<start]))
        let end = min(head.count, start + sealedChunkSize)
        guard end - start == sealedChunkSize || Int64(end) == size else { throw Failure.payload("the first chunk is cut short") }
        return try openChunk(head[start..<end], key: key, counter: 0).plain
    }
}
