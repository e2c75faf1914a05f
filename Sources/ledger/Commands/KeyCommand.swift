import ArgumentParser
import Foundation
import LedgerKit

/// `ledger key new`: the keys encrypted backups use.
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

        @Option(
            help:
                "Where to write the identity (default: ~/.config/ledger/identity.txt, or under $XDG_CONFIG_HOME; restore, snapshots, check-backups and rebuild read it from there when no --identity is given)."
        )
        var out: String?

        func run() throws {
            try reportingFailures {
                let path = out ?? AgeKeyFiles.defaultIdentityPath
                let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
                try? FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
                let identity = try AgeKeyFiles.writeNewIdentity(to: path)
                Output.message(
                    "Wrote a new identity to \(path) (mode 0600). Keep a copy of it safe: without it no snapshot encrypted to it can be read."
                )
                Output.line(identity.recipient.text)
            }
        }
    }
}
