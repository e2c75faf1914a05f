import ArgumentParser
import Foundation
import LedgerKit

/// What opens encrypted snapshots, for restore, check-backups and snapshots.
struct IdentityOptions: ParsableArguments {
    @Option(
        name: .customLong("identity"),
        help: ArgumentHelp(
            "An age identity file that opens encrypted snapshots (also LEDGER_IDENTITY_FILE); repeat for several.",
            valueName: "file"))
    var files: [String] = []

    @Flag(name: .customLong("passphrase"), help: "Open snapshots encrypted with a passphrase, asked on the terminal.")
    var passphrase = false

    func resolve() throws -> SnapshotIdentities {
        try Self.keys(files: files, passphrase: passphrase)
    }

    /// The identities in `files`, LEDGER_IDENTITY_FILE's, else the saved key; and the passphrase, asked.
    static func keys(files: [String], passphrase: Bool) throws -> SnapshotIdentities {
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
