import ArgumentParser
import Foundation
import LedgerKit

/// The recipients named on the command line, for `backup` and `schedule`.
struct RecipientOptions: ParsableArguments {
    @Option(
        name: .customLong("encrypt-to"),
        help: ArgumentHelp(
            "Encrypt snapshots to this age recipient (age1…); repeat for several.", valueName: "recipient"))
    var recipients: [String] = []

    @Option(
        name: .customLong("recipients-file"),
        help: ArgumentHelp(
            "Encrypt to the recipients in this file (age's format: one age1… a line, # comments).", valueName: "file"))
    var recipientFiles: [String] = []

    var isEmpty: Bool { recipients.isEmpty && recipientFiles.isEmpty }
}
