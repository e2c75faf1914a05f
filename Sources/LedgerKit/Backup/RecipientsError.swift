import Foundation

/// Why a backup was refused over who its snapshot would be readable by.
/// Each says what differs and what to do; nothing was written.
public enum RecipientsError: LocalizedError, Equatable, Sendable {
    /// A line of this machine's recipients file that cannot be read.
    case badConfigLine(path: String, line: Int, reason: String)
    /// This machine's recipients file can be changed by others, who could add themselves.
    case configOpen(path: String, reason: String)
    /// The location's `.ledger-recipients` names recipients this machine does
    /// not (`added`), or lacks some of this machine's (`missing`).
    case locationDiffers(location: String, added: [String], missing: [String], configPath: String)
    /// The location has a `.ledger-recipients`, but no recipients are set for it here.
    case locationAsksForEncryption(location: String, configPath: String)
    /// The location's `.ledger-recipients` does not read as recipients.
    case badLocationFile(location: String, reason: String)
    /// The location holds encrypted snapshots (`example` is one), and no recipients are set for it here.
    case plainAmongEncrypted(location: String, example: String, configPath: String)
    /// `--passphrase` for a location this machine's recipients file sets recipients for.
    case passphraseWithRecipients(location: String, configPath: String)

    /// One line for the person: what is wrong and what to do.
    public var errorDescription: String? {
        switch self {
        case .badConfigLine(let path, let line, let reason):
            return
                "\(path) line \(line): \(reason). Write each line as 'LOCATION age1… [age1…]' (a full path or s3://BUCKET/PREFIX); # starts a comment."
        case .configOpen(let path, let reason):
            return
                "\(path) \(reason), so someone else could add their own recipient: make it yours alone with 'chmod 600 \(path)', then try again."
        case .locationDiffers(let location, let added, let missing, let configPath):
            var differences: [String] = []
            if !added.isEmpty { differences.append("names \(Self.listed(added)), which this machine does not") }
            if !missing.isEmpty { differences.append("lacks \(Self.listed(missing)), which this machine sets") }
            return
                "\(location)/\(LocationRecipients.fileName) \(differences.joined(separator: " and ")); nothing was written. "
                + "If the location's list is right, set the same recipients here (--encrypt-to, or its line in \(configPath)); "
                + "if not, someone changed it: correct or remove it."
        case .locationAsksForEncryption(let location, let configPath):
            return
                "\(location)/\(LocationRecipients.fileName) asks for encrypted snapshots, but no recipients are set for \(location) "
                + "on this machine; nothing was written. Give --encrypt-to, or add the line '\(location) age1…' to \(configPath)."
        case .badLocationFile(let location, let reason):
            return
                "\(location)/\(LocationRecipients.fileName) is not a list of recipients (\(reason)); nothing was written. "
                + "Correct or remove it: the recipients that count are set on this machine."
        case .plainAmongEncrypted(let location, let example, let configPath):
            return
                "\(location) holds encrypted snapshots (\(example)) and no recipients are set for it on this machine, so this "
                + "snapshot would be readable there by anyone; nothing was written. Give --encrypt-to, or add the line "
                + "'\(location) age1…' to \(configPath)."
        case .passphraseWithRecipients(let location, let configPath):
            return
                "--passphrase cannot be combined with the recipients \(configPath) sets for \(location): age allows a passphrase "
                + "only alone. Leave out --passphrase to encrypt to them."
        }
    }

    /// Up to three recipients in full, then how many more.
    private static func listed(_ recipients: [String]) -> String {
        recipients.prefix(3).joined(separator: ", ") + (recipients.count > 3 ? " and \(recipients.count - 3) more" : "")
    }
}
