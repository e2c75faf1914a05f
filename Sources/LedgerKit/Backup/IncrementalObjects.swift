import Foundation

/// Reading and writing the small whole objects of incremental snapshots
/// (docs/incremental.md): staged as files, encrypted as one age file when the
/// location has recipients, opened again in memory.
enum IncrementalObjects {
    /// Writes `bytes` to a new private file beside `near` (one age file when
    /// `sealing` names anyone) and returns its path; the caller removes it.
    static func stage(_ bytes: [UInt8], sealing: SnapshotRecipients, near: String, purpose: String) throws -> String {
        let path = AtomicFile.temporaryPath(beside: near, purpose: purpose)
        do {
            if sealing.isEmpty {
                let descriptor = try SystemCalls.open(path, O_WRONLY | O_CREAT | O_EXCL)
                defer { SystemCalls.close(descriptor) }
                try bytes.withUnsafeBytes { try SystemCalls.pwrite(descriptor, $0, at: 0, path: path) }
            } else {
                let writer = try AgeFile.Writer(to: path, for: sealing)
                try writer.append(bytes)
                try writer.finish()
            }
        } catch let error as SystemCallError {
            unlink(path)
            throw BackupError.cannotWrite(path: error.path, reason: error.reason)
        }
        return path
    }

    /// The plain bytes of an object read whole: `stored` itself, or decrypted with `keys` when `sealed`.
    static func open(_ stored: Data, sealed: Bool, with keys: SnapshotIdentities, path: String) throws -> [UInt8] {
        guard sealed else { return [UInt8](stored) }
        var plain: [UInt8] = []
        do {
            try AgeFile.decrypt(ByteFeed.bytes([UInt8](stored)), with: keys) { plain += $0 }
        } catch AgeFile.Failure.noMatch {
            throw keys.isEmpty ? EncryptionError.needsIdentity(path: path) : EncryptionError.noMatchingKey(path: path)
        } catch let failure as AgeFile.Failure {
            throw EncryptionError.damaged(path: path, reason: SnapshotSealing.reason(failure))
        }
        return plain
    }

    /// One gzip member of `data` whose header carries `comment`.
    static func gzip(_ data: [UInt8], comment: String, modified: Date, level: Int) throws -> [UInt8] {
        let deflated = try data.withUnsafeBytes { try WholeDeflater(level: Int32(max(1, min(9, level)))).compress($0) }
        let crc = data.withUnsafeBytes { CRC32.of($0) }
        return Gzip.header(comment: comment, modified: modified, level: Int32(level)) + deflated
            + Gzip.littleEndian(crc) + Gzip.littleEndian(UInt32(truncatingIfNeeded: data.count))
    }

    /// The data of the one gzip member `bytes`, at most `limit` bytes, its CRC and length checked.
    static func gunzip(_ bytes: [UInt8], limit: Int) throws -> [UInt8] {
        var data: [UInt8] = []
        try gunzip(bytes, limit: limit) { data += $0 }
        return data
    }

    /// Hands the data of the one gzip member `bytes` to `sink` piece by piece
    /// as it inflates, never holding it whole: at most `limit` bytes, its CRC
    /// and length checked after the last piece (so the caller trusts nothing
    /// before this returns).
    static func gunzip(_ bytes: [UInt8], limit: Int, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let header = Gzip.parseHeader(bytes), bytes.count >= header.dataOffset + 8 else {
            throw BackupError.damagedSnapshot("it is not a gzip file")
        }
        var count = 0
        var crc: UInt32 = 0
        let inflater = try Inflater()
        let used = try bytes[header.dataOffset...].withUnsafeBytes { input in
            try inflater.inflate(input) { piece in
                guard count + piece.count <= limit else {
                    throw BackupError.damagedSnapshot("it holds more than its manifest says")
                }
                count += piece.count
                crc = CRC32.of(piece, continuing: crc)
                try sink(piece)
            }
        }
        let trailer = Array(bytes[(header.dataOffset + used)...])
        guard inflater.finished, trailer.count == 8, Array(trailer[0..<4]) == Gzip.littleEndian(crc),
            Array(trailer[4..<8]) == Gzip.littleEndian(UInt32(truncatingIfNeeded: count))
        else {
            throw BackupError.damagedSnapshot("its gzip data does not add up")
        }
    }
}
