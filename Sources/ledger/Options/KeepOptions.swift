import ArgumentParser
import Foundation
import LedgerKit

/// The keep rules shared by backup, prune and schedule.
struct KeepOptions: ParsableArguments {
    @Option(name: .customLong("keep-last"), help: "Keep the newest N snapshots.")
    var last = 0

    @Option(
        name: .customLong("keep-daily"),
        help: "Keep the newest snapshot of each of the last N days (this machine's local days) that have one.")
    var daily = 0

    @Option(
        name: .customLong("keep-weekly"),
        help: "Keep the newest snapshot of each of the last N ISO weeks that have one.")
    var weekly = 0

    @Option(
        name: .customLong("keep-monthly"), help: "Keep the newest snapshot of each of the last N months that have one.")
    var monthly = 0

    var policy: RetentionPolicy { RetentionPolicy(last: last, daily: daily, weekly: weekly, monthly: monthly) }

    func validate() throws {
        guard [last, daily, weekly, monthly].allSatisfy({ $0 >= 0 }) else {
            throw ValidationError("--keep-… counts must be 0 or more.")
        }
    }
}
