import Foundation

/// Encrypted snapshots (docs/snapshots.md): the snapshot's gzip file encrypted
/// as one age v1 file, so `age -d -i KEY SNAPSHOT | gzip -dc` gives the company
/// file with no tool of ours. The backup host needs only recipients (public
/// keys); reading needs an identity or the passphrase. Which recipients a
/// location's snapshots get is Backup's (`LocationRecipients`).
public enum SnapshotSealing {
    /// Decrypts the age file `input` into the new file `output` (mode 0600).
    /// - Throws: `EncryptionError` naming `path` (the snapshot) when the keys
    ///   do not open it or it was changed.
    static func decrypt(_ input: String, to output: String, with keys: SnapshotIdentities, path: String) throws {
        let source = try SystemCalls.open(input, O_RDONLY)
        defer { SystemCalls.close(source) }
        let target = try SystemCalls.open(output, O_WRONLY | O_CREAT | O_EXCL)
        defer { SystemCalls.close(target) }
        var written: Int64 = 0
        do {
            try AgeFile.decrypt(ByteFeed.file(source, path: input), with: keys) { chunk in
                try chunk.withUnsafeBytes { try SystemCalls.pwrite(target, $0, at: written, path: output) }
                written += Int64(chunk.count)
            }
        } catch AgeFile.Failure.noMatch {
            throw keys.isEmpty ? EncryptionError.needsIdentity(path: path) : EncryptionError.noMatchingKey(path: path)
        } catch let failure as AgeFile.Failure {
            throw EncryptionError.damaged(path: path, reason: reason(failure))
        }
        try SystemCalls.fsync(target, path: output)
    }

    /// Why an age file did not open, in a person's words.
    static func reason(_ error: any Error) -> String {
        switch error as? AgeFile.Failure {
        case .header(let why): return "its age header is not valid (\(why))"
        case .workFactor(let asked):
            return "its passphrase stanza asks for scrypt work factor \(asked), above the "
                + "\(AgeFile.maxScryptWorkFactor) ledger accepts"
        case .noMatch: return "none of the keys given opens it"
        case .hmac: return "its age header was changed (the MAC does not match)"
        case .payload(let why): return "its content was changed or cut short (\(why))"
        case nil: return "\(error)"
        }
    }
}
