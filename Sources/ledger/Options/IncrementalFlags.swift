import ArgumentParser
import Foundation
import LedgerKit

/// `backup --incremental` and what goes with it (docs/incremental.md).
struct IncrementalFlags: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "Store only the pages no earlier snapshot of this file in the location holds (docs/incremental.md); "
                + "a full snapshot is taken instead every --full-every."))
    var incremental = false

    @Option(
        name: .customLong("full-every"),
        help: ArgumentHelp(
            "With --incremental, take a full snapshot when the newest full one of this file is older than this "
                + "(90m, 48h, 7d, 2w)."))
    var fullEvery = MaxAge(text: "7d", seconds: 7 * 86_400)

    @Option(
        name: .customLong("identity"),
        help: ArgumentHelp(
            "An age identity file that opens an encrypted location's earlier snapshots, for the keep rules and "
                + "(with --incremental) its page key (also LEDGER_IDENTITY_FILE; else the saved key).",
            valueName: "file"))
    var identityFiles: [String] = []

    /// The options, or nil without `--incremental`.
    func resolve() throws -> IncrementalOptions? {
        guard incremental else { return nil }
        let keys = try IdentityOptions.keys(files: identityFiles, passphrase: false)
        return IncrementalOptions(keys: keys, fullEvery: fullEvery.seconds)
    }
}
