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
    /// The snapshot `restore` or `rebuild` takes of the file it replaces would
    /// be plain in `location`, which holds encrypted snapshots (`example` is
    /// one) or whose `.ledger-recipients` asks for them (`example` nil), and
    /// no recipients are set for it here: those commands take none on their
    /// command line, so the advice names this machine's recipients file, or another `--backup-dir`.
    case plainBeforeReplacing(location: String, example: String?, configPath: String)
    /// `locationDiffers`, said to `restore` or `rebuild`, which take no `--encrypt-to`.
    case locationDiffersBeforeReplacing(location: String, added: [String], missing: [String], configPath: String)

    /// This refusal as said to a command that snapshots the file it is about
    /// to replace (`restore`, `rebuild`): they have no `--encrypt-to`.
    var beforeReplacing: RecipientsError {
        switch self {
        case .plainAmongEncrypted(let location, let example, let configPath):
            return .plainBeforeReplacing(location: location, example: example, configPath: configPath)
        case .locationAsksForEncryption(let location, let configPath):
            return .plainBeforeReplacing(location: location, example: nil, configPath: configPath)
        case .locationDiffers(let location, let added, let missing, let configPath):
            return .locationDiffersBeforeReplacing(
                location: location, added: added, missing: missing, configPath: configPath)
        default:
            return self
        }
    }

    /// Runs `body`, which snapshots a file about to be replaced, saying its refusals as `beforeReplacing` does.
    static func beforeReplacing<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as RecipientsError {
            throw error.beforeReplacing
        }
    }

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
            return Self.differs(location, added, missing)
                + "If the location's list is right, set the same recipients here (--encrypt-to, or its line in \(configPath)); "
                + "if not, someone changed it: correct or remove it."
        case .locationDiffersBeforeReplacing(let location, let added, let missing, let configPath):
            return Self.differs(location, added, missing)
                + "If the location's list is right, set the same recipients in its line in \(configPath); if not, someone "
                + "changed it: correct or remove it. Or give --backup-dir another folder for the snapshot of the file "
                + "about to be replaced."
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
        case .plainBeforeReplacing(let location, let example, let configPath):
            let why =
                example.map { "\(location) holds encrypted snapshots (\($0))" }
                ?? "\(location)/\(LocationRecipients.fileName) asks for encrypted snapshots"
            return
                why + " and no recipients are set for it on this machine, so the snapshot of the file about to be "
                + "replaced would be readable there by anyone; nothing was written. Add the line '\(location) age1…' "
                + "(the recipients its snapshots are encrypted to) to \(configPath), or give --backup-dir another folder "
                + "for that snapshot."
        case .passphraseWithRecipients(let location, let configPath):
            return
                "--passphrase cannot be combined with the recipients \(configPath) sets for \(location): age allows a passphrase "
                + "only alone. Leave out --passphrase to encrypt to them."
        }
    }

    /// "LOCATION/.ledger-recipients names …, which this machine does not; nothing was written. "
    private static func differs(_ location: String, _ added: [String], _ missing: [String]) -> String {
        var differences: [String] = []
        if !added.isEmpty { differences.append("names \(Self.listed(added)), which this machine does not") }
        if !missing.isEmpty { differences.append("lacks \(Self.listed(missing)), which this machine sets") }
        return
            "\(location)/\(LocationRecipients.fileName) \(differences.joined(separator: " and ")); nothing was written. "
    }

    /// Up to three recipients in full, then how many more.
    private static func listed(_ recipients: [String]) -> String {
        recipients.prefix(3).joined(separator: ", ") + (recipients.count > 3 ? " and \(recipients.count - 3) more" : "")
    }
}
