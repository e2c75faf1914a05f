import ArgumentParser
import LedgerKit

/// How far a listing of object storage is followed before it is taken for a
/// server that never ends one (exit 2): shared by every command that lists a
/// location (snapshots, check-backups, prune, restore, backup).
struct ListingOptions: ParsableArguments {
    @Option(
        name: .customLong("max-objects"),
        help: ArgumentHelp(
            "In object storage, the most objects a listing of the place may hold; a listing that goes on past it, or repeats itself, is stopped (exit 2).",
            valueName: "count"))
    var maxObjects = ListingBound.defaultMaxObjects

    func validate() throws {
        guard maxObjects > 0 else { throw ValidationError("--max-objects must be 1 or more.") }
    }

    /// Makes the bound the process's, before any listing.
    func apply() {
        ListingBound.set(maxObjects: maxObjects)
    }
}
