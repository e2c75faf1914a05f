import ArgumentParser
import Foundation
import LedgerKit

/// How long backup, rebuild and restore wait for another program to let go of
/// the company file (a write transaction, `locking_mode=EXCLUSIVE`) before they
/// refuse with exit 2, writing nothing (docs/snapshots.md).
struct WaitOption: ParsableArguments {
    @Option(
        name: .customLong("wait"),
        help: ArgumentHelp(
            "Seconds to wait for another program that holds the company file locked, then give up (exit 2, nothing written).",
            valueName: "seconds"))
    var seconds: Double = CompanyFile.lockWait

    func validate() throws {
        guard seconds >= 0, seconds.isFinite else { throw ValidationError("--wait must be 0 or more seconds.") }
    }
}
