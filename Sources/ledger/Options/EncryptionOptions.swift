import ArgumentParser
import Foundation
import LedgerKit

/// Who `backup` encrypts to.
struct EncryptionOptions: ParsableArguments {
    @OptionGroup var named: RecipientOptions

    @Flag(
        name: .customLong("passphrase"),
        help: "Encrypt with a passphrase instead, asked on the terminal (never on the command line).")
    var passphrase = false

    func validate() throws {
        guard !(passphrase && !named.isEmpty) else {
            throw ValidationError(
                "--passphrase cannot be combined with recipients: age allows a passphrase only alone.")
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
