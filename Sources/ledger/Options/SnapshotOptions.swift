import ArgumentParser
import LedgerKit

/// How `backup` and `fleet backup` take each snapshot: its kind and its compression level.
struct SnapshotOptions: ParsableArguments {
    @Option(help: "manual or scheduled.")
    var kind: String = "manual"

    @Option(help: "Compression level, 1 (fastest) to 9 (smallest).")
    var level = 6

    /// The kind `--kind` names.
    var snapshotKind: SnapshotKind { kind == "scheduled" ? .scheduled : .manual }

    func validate() throws {
        guard ["manual", "scheduled"].contains(kind) else {
            throw ValidationError("--kind must be manual or scheduled.")
        }
        guard (1...9).contains(level) else { throw ValidationError("--level must be from 1 to 9.") }
    }
}
