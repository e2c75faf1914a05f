import ArgumentParser
import Foundation
import LedgerKit

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Make the keys encrypted backups use.",
        subcommands: [NewKey.self])

    struct NewKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Write a new age identity (secret key) to a file and print its recipient (public key).",
            discussion: """
                The identity file (mode 0600) opens every snapshot encrypted to its recipient: keep \
                it off the backup host, and keep a copy somewhere safe (a password manager, a \
                printed copy in a safe): without it no encrypted snapshot can be read. Give the \
                recipient (age1…) to 'ledger backup --encrypt-to' or 'ledger schedule --encrypt-to', \
                or name it for the backup folder or bucket prefix in this machine's recipients file \
                (~/.config/ledger/recipients, one line 'LOCATION age1…'). Keys made by age-keygen \
                work the same. Never overwrites a file.
                """)

        @Option(help: "Where to write the identity (default: ~/.config/ledger/identity.txt, or under $XDG_CONFIG_HOME; restore, snapshots, check-backups and rebuild read it from there when no --identity is given).")
        var out: String?

        func run() throws {
            try reportingFailures {
                let path = out ?? AgeKeyFiles.defaultIdentityPath
                let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
                try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                         attributes: [.posixPermissions: 0o700])
                let identity = try AgeKeyFiles.writeNewIdentity(to: path)
                Output.message("Wrote a new identity to \(path) (mode 0600). Keep a copy of it safe: without it no snapshot encrypted to it can be read.")
                Output.line(identity.recipient.text)
            }
        }
    }
}

/// The recipients named on the command line, for `backup` and `schedule`.
struct RecipientOptions: ParsableArguments {
    @Option(name: .customLong("encrypt-to"), help: ArgumentHelp(
        "Encrypt snapshots to this age recipient (age1…); repeat for several.", valueName: "recipient"))
    var recipients: [String] = []

    @Option(name: .customLong("recipients-file"), help: ArgumentHelp(
        "Encrypt to the recipients in this file (age's format: one age1… a line, # comments).", valueName: "file"))
    var recipientFiles: [String] = []

    var isEmpty: Bool { recipients.isEmpty && recipientFiles.isEmpty }
}

/// Who `backup` encrypts to.
struct EncryptionOptions: ParsableArguments {
    @OptionGroup var named: RecipientOptions

    @Flag(name: .customLong("passphrase"), help: "Encrypt with a passphrase instead, asked on the terminal (never on the command line).")
    var passphrase = false

    func validate() throws {
        guard !(passphrase && !named.isEmpty) else {
            throw ValidationError("--passphrase cannot be combined with recipients: age allows a passphrase only alone.")
        }
    }

    /// The recipients named, reading files and asking for the passphrase.
    func resolve() throws -> SnapshotRecipients {
        var all = SnapshotRecipients(recipients: try named.recipients.map(AgeRecipient.init))
        for path in named.recipientFiles {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw BackupError.cannotRead(path: path, reason: "no such recipients file")
            }
            all.recipients += try AgeKeyFiles.recipients(in: data, from: path)
        }
        if passphrase { all.passphrase = try Terminal.passphrase(confirm: true) }
        return all
    }
}

/// What opens encrypted snapshots, for restore, check-backups and snapshots.
struct IdentityOptions: ParsableArguments {
    @Option(name: .customLong("identity"), help: ArgumentHelp(
        "An age identity file that opens encrypted snapshots (also LEDGER_IDENTITY_FILE); repeat for several.", valueName: "file"))
    var files: [String] = []

    @Flag(name: .customLong("passphrase"), help: "Open snapshots encrypted with a passphrase, asked on the terminal.")
    var passphrase = false

    func resolve() throws -> SnapshotIdentities {
        var paths = files
        if let fromEnvironment = ProcessInfo.processInfo.environment["LEDGER_IDENTITY_FILE"], !fromEnvironment.isEmpty {
            paths.append(fromEnvironment)
        }
        // The key 'ledger key new' saved, when none is named.
        if paths.isEmpty, !passphrase, FileManager.default.fileExists(atPath: AgeKeyFiles.defaultIdentityPath) {
            paths.append(AgeKeyFiles.defaultIdentityPath)
        }
        var keys = SnapshotIdentities(identities: try paths.flatMap(AgeKeyFiles.identities(at:)))
        if passphrase { keys.passphrases = [try Terminal.passphrase(confirm: false)] }
        return keys
    }
}
