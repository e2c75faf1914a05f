import Foundation

/// Whom a snapshot written to a location is encrypted to: the owner's
/// recipients on this machine (`RecipientsConfig`), checked against the
/// location's own list (`.ledger-recipients`), which is never a source of
/// recipients (docs/snapshots.md).
public enum LocationRecipients {
    /// A location's list of recipients: only compared with the owner's
    /// (docs/snapshots.md), never a source of recipients, so that whoever writes to the
    /// location can neither add a reader nor turn encryption off.
    public static let fileName = ".ledger-recipients"

    /// The largest `.ledger-recipients` read: far beyond any list of recipients.
    static let locationFileLimit = 64 * 1024

    /// What a snapshot written to `location` is encrypted to: the owner's
    /// recipients, those `given` (`--encrypt-to`, `--recipients-file`,
    /// `--passphrase`) and those `config` sets for the location or the
    /// nearest location holding it (`RecipientsConfig.recipients(for:)`, the
    /// rule a status record is sealed by too); no one (a plain snapshot) when
    /// neither names anyone.
    /// - Throws: `RecipientsError` when the location's `.ledger-recipients`
    ///   differs from them, or exists while they name no one; nothing is
    ///   written then.
    /// - Parameter holder: a location holding `location` (a fleet's), whose
    ///   own list speaks for it too: every reader it names must be among
    ///   them (`compare(_:withListAt:holding:configPath:)`).
    static func sealing(
        given: SnapshotRecipients, at location: SnapshotStore, within holder: SnapshotStore? = nil,
        config: RecipientsConfig
    ) throws -> SnapshotRecipients {
        var owner = SnapshotRecipients(passphrase: given.passphrase)
        let configured = config.recipients(for: location.description)
        if given.passphrase != nil && !configured.isEmpty {
            throw RecipientsError.passphraseWithRecipients(location: location.description, configPath: config.path)
        }
        for recipient in given.recipients + configured where !owner.recipients.contains(recipient) {
            owner.recipients.append(recipient)
        }
        try compare(owner, withListAt: location, configPath: config.path)
        if let holder { try compare(owner, withListAt: holder, holding: true, configPath: config.path) }
        return owner
    }

    /// Compares `owner`, whom snapshots are encrypted to, with the list
    /// `.ledger-recipients` at `location` (the backup location, or one holding
    /// it such as a fleet's); a location without the file asks nothing.
    /// - Parameter holding: `location` holds the backup location (a fleet's):
    ///   `owner` may name more readers than its list (a line of this
    ///   machine's for the client's own folder), never fewer.
    /// - Throws: `RecipientsError` when the list differs from `owner`, or
    ///   exists while `owner` names no one.
    static func compare(
        _ owner: SnapshotRecipients, withListAt location: SnapshotStore, holding: Bool = false, configPath: String
    ) throws {
        guard let data = try location.setting(fileName) else { return }
        guard !owner.isEmpty else {
            throw RecipientsError.locationAsksForEncryption(location: location.description, configPath: configPath)
        }
        guard data.count <= locationFileLimit else {
            throw RecipientsError.badLocationFile(location: location.description, reason: "it is larger than 64 KiB")
        }
        let listed: [AgeRecipient]
        do {
            listed = try AgeKeyFiles.recipients(in: data, from: location.description + "/" + fileName)
        } catch {
            throw RecipientsError.badLocationFile(
                location: location.description, reason: "a line is not an age1… recipient")
        }
        let added = listed.filter { !owner.recipients.contains($0) }.map(\.text)
        let missing = holding ? [] : owner.recipients.filter { !listed.contains($0) }.map(\.text)
        guard added.isEmpty && missing.isEmpty else {
            throw RecipientsError.locationDiffers(
                location: location.description, added: Array(Set(added)).sorted(),
                missing: missing, configPath: configPath)
        }
    }

    /// Refuses to write a plain snapshot (`sealing` names no one) to a
    /// location that holds an encrypted one: the owner encrypted there once,
    /// and a plain snapshot would open the books to whoever reads it.
    static func refusePlain(_ sealing: SnapshotRecipients, into location: SnapshotStore, configPath: String) throws {
        guard sealing.isEmpty else { return }
        if let sealed = try location.listedNames().first(where: SnapshotName.isEncrypted) {
            throw RecipientsError.plainAmongEncrypted(
                location: location.description, example: sealed, configPath: configPath)
        }
    }
}
