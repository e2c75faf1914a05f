import Crypto
import Foundation

/// Bytes read in order from somewhere (a file, a buffer), fewer than asked only at the end.
final class ByteFeed {
    private let source: (Int) throws -> [UInt8]
    /// Read and not yet taken: `pending[start...]`.
    private var pending: [UInt8] = []
    private var start = 0
    private var ended = false

    init(_ source: @escaping (Int) throws -> [UInt8]) {
        self.source = source
    }

    /// A feed over the file at `path`, read 1 MiB at a time.
    static func file(_ descriptor: Int32, path: String) -> ByteFeed {
        var offset: Int64 = 0
        return ByteFeed { count in
            var buffer = [UInt8](repeating: 0, count: max(count, 1 << 20))
            let got = try buffer.withUnsafeMutableBytes {
                try SystemCalls.pread(descriptor, into: $0, at: offset, path: path)
            }
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
        while pending.count - start < count && !ended {
            if start > 0 {
                pending.removeFirst(start)
                start = 0
            }
            let more = try source(count - pending.count)
            if more.isEmpty { ended = true } else { pending += more }
        }
        let end = min(pending.count, start + count)
        let piece = Array(pending[start..<end])
        start = end
        return piece
    }

    /// Whether nothing is left; takes nothing.
    func atEnd() throws -> Bool {
        while pending.count == start && !ended {
            pending.removeAll(keepingCapacity: true)
            start = 0
            let more = try source(1)
            if more.isEmpty { ended = true } else { pending += more }
        }
        return pending.count == start
    }
}

extension AgeFile {
    /// Encrypts the file at `input` into the new file `output` (mode 0600) for
    /// `recipients`, a megabyte in memory at a time.
    static func encrypt(
        file input: String, to output: String, for recipients: SnapshotRecipients,
        workFactor: Int = scryptWorkFactor
    ) throws {
        let writer = try Writer(to: output, for: recipients, workFactor: workFactor)
        let source = try SystemCalls.open(input, O_RDONLY)
        defer { SystemCalls.close(source) }
        let feed = ByteFeed.file(source, path: input)
        while case let piece = try feed.take(1 << 20), !piece.isEmpty { try writer.append(piece) }
        try writer.finish()
    }

    /// An age file written as its plaintext streams in (in the compression
    /// pipeline of a backup): each 64 KiB chunk is sealed as soon as the next
    /// byte shows it is not the last, except the first, which stays in memory
    /// so that a snapshot's manifest (in its first bytes, known last) can be
    /// written into it; `finish` seals it and writes the header.
    final class Writer {
        private let output: String
        private let target: Int32
        private let header: [UInt8]
        private let key: SymmetricKey
        /// The plaintext of the first chunk, sealed last.
        private var head: [UInt8] = []
        /// The chunk being filled, or a full one not yet known not to be the last.
        private var pending: [UInt8] = []
        private var nextIndex = 1

        /// Chooses the file key and the payload nonce and opens `output` (new, mode 0600).
        init(to output: String, for recipients: SnapshotRecipients, workFactor: Int = scryptWorkFactor) throws {
            let fileKey = (0..<16).map { _ in UInt8.random(in: 0...255) }
            let nonce = (0..<16).map { _ in UInt8.random(in: 0...255) }
            key = payloadKey(fileKey: fileKey, nonce: nonce)
            header =
                AgeFile.header(try stanzas(for: recipients, fileKey: fileKey, workFactor: workFactor), fileKey: fileKey)
                + nonce
            self.output = output
            target = try SystemCalls.open(output, O_WRONLY | O_CREAT | O_EXCL)
            pending.reserveCapacity(chunkSize)
        }

        deinit {
            SystemCalls.close(target)
        }

        /// Takes the next plaintext bytes.
        func append(_ bytes: [UInt8]) throws {
            var rest = bytes[...]
            if head.count < chunkSize {
                let taken = rest.prefix(chunkSize - head.count)
                head += taken
                rest = rest.dropFirst(taken.count)
            }
            while !rest.isEmpty {
                if pending.count == chunkSize {
                    try seal(pending, index: nextIndex, last: false)
                    nextIndex += 1
                    pending.removeAll(keepingCapacity: true)
                }
                let taken = rest.prefix(chunkSize - pending.count)
                pending += taken
                rest = rest.dropFirst(taken.count)
            }
        }

        /// Whether `count` bytes at `offset` lie within the plaintext of the first chunk.
        func headHolds(_ count: Int, at offset: Int) -> Bool {
            offset >= 0 && offset + count <= head.count
        }

        /// Writes `bytes` over the plaintext at `offset` of the first chunk (a
        /// manifest); `headHolds` tells beforehand whether they fit.
        func overwriteHead(at offset: Int, with bytes: [UInt8]) throws {
            guard headHolds(bytes.count, at: offset) else {
                throw Failure.payload("the bytes do not fit in the first chunk")
            }
            head.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        }

        /// Seals the last chunk and the first, writes the header and makes the file durable.
        func finish() throws {
            if !pending.isEmpty { try seal(pending, index: nextIndex, last: true) }
            try header.withUnsafeBytes { try SystemCalls.pwrite(target, $0, at: 0, path: output) }
            try seal(head, index: 0, last: pending.isEmpty)
            try SystemCalls.fsync(target, path: output)
        }

        private func seal(_ plain: [UInt8], index: Int, last: Bool) throws {
            let sealed = try ChaChaPoly.seal(plain, using: key, nonce: chunkNonce(UInt64(index), last: last))
            let bytes = Array(sealed.ciphertext + sealed.tag)
            try bytes.withUnsafeBytes {
                try SystemCalls.pwrite(
                    target, $0, at: Int64(header.count) + Int64(index) * Int64(sealedChunkSize), path: output)
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
        guard end - start == sealedChunkSize || Int64(end) == size else {
            throw Failure.payload("the first chunk is cut short")
        }
        return try openChunk(head[start..<end], key: key, counter: 0).plain
    }
}
