import Foundation

/// Encrypted snapshots (SPEC §4): the snapshot's gzip file encrypted as one
/// age v1 file, so `age -d -i KEY SNAPSHOT | gzip -dc` gives the company file
/// with no tool of ours. The backup host needs only recipients (public keys);
/// reading needs an identity or the passphrase.
public enum SnapshotSealing {
    /// A location's list of recipients: only compared with the owner's (SPEC
    /// §4), never a source of recipients, so that whoever writes to the
    /// location can neither add a reader nor turn encryption off.
    public static let recipientsFile = ".ledger-recipients"

    /// The largest `.ledger-recipients` read: far beyond any list of recipients.
    static let locationFileLimit = 64 * 1024

    /// What a snapshot written to `location` is encrypted to: the owner's
    /// recipients, those `given` (`--encrypt-to`, `--recipients-file`,
    /// `--passphrase`) and those `config` sets for the location; no one (a
    /// plain snapshot) when neither names anyone.
    /// - Throws: `RecipientsError` when the location's `.ledger-recipients`
    ///   differs from them, or exists while they name no one; nothing is
    ///   written then.
    static func sealing(given: SnapshotRecipients, at location: any SnapshotLocation,
                        config: RecipientsConfig) throws -> SnapshotRecipients {
        var owner = SnapshotRecipients(passphrase: given.passphrase)
        let configured = config.recipients(for: location.description)
        if given.passphrase != nil && !configured.isEmpty {
            throw RecipientsError.passphraseWithRecipients(location: location.description, configPath: config.path)
        }
        for recipient in given.recipients + configured where !owner.recipients.contains(recipient) {
            owner.recipients.append(recipient)
        }
        guard let data = try location.setting(recipientsFile) else { return owner }
        guard !owner.isEmpty else {
            throw RecipientsError.locationAsksForEncryption(location: location.description, configPath: config.path)
        }
        guard data.count <= locationFileLimit else {
            throw RecipientsError.badLocationFile(location: location.description, reason: "it is larger than 64 KiB")
        }
        let listed: [AgeRecipient]
        do {
            listed = try AgeKeyFiles.recipients(in: data, from: location.description + "/" + recipientsFile)
        } catch {
            throw RecipientsError.badLocationFile(location: location.description, reason: "a line is not an age1… recipient")
        }
        let added = listed.filter { !owner.recipients.contains($0) }.map(\.text)
        let missing = owner.recipients.filter { !listed.contains($0) }.map(\.text)
        guard added.isEmpty && missing.isEmpty else {
            throw RecipientsError.locationDiffers(location: location.description, added: Array(Set(added)).sorted(),
                                                  missing: missing, configPath: config.path)
        }
        return owner
    }

    /// Refuses to write a plain snapshot (`sealing` names no one) to a
    /// location that holds an encrypted one: the owner encrypted there once,
    /// and a plain snapshot would open the books to whoever reads it.
    static func refusePlain(_ sealing: SnapshotRecipients, into location: any SnapshotLocation, configPath: String) throws {
        guard sealing.isEmpty else { return }
        if let sealed = try location.listedNames().first(where: SnapshotName.isEncrypted) {
            throw RecipientsError.plainAmongEncrypted(location: location.description, example: sealed, configPath: configPath)
        }
    }

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
        case .noMatch: return "none of the keys given opens it"
        case .hmac: return "its age header was changed (the MAC does not match)"
        case .payload(let why): return "its content was changed or cut short (\(why))"
        case nil: return "\(error)"
        }
    }
}
