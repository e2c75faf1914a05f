import Foundation
import LedgerKit

/// "37 of 200 clients done, 2 need attention, about 4 min left" on stderr, only on a terminal.
final class FleetMeter: @unchecked Sendable {
    // `shown` is guarded by `lock`: clients finish on several threads.
    private let lock = NSLock()
    private let enabled: Bool
    private var shown = false

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func show(_ progress: FleetProgress) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        shown = true
        let left =
            progress.secondsLeft.map { $0 < 90 ? "about \(Int($0)) s left" : "about \(Int($0 / 60)) min left" } ?? ""
        Output.progress(
            "\(progress.done) of \(progress.total) clients done, \(progress.failed) need attention, \(left)")
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if shown { Output.endProgress() }
    }
}
