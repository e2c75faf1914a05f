import Foundation
import GRDB

/// Reports the share of work units done, from either lane.
final class ProgressCounter: @unchecked Sendable {
    // `done` is guarded by `lock`; the callback is called with the lock held, one at a time.
    private let lock = NSLock()
    private let total: Int
    private var done = 0
    private let report: (@Sendable (VerifyProgress) -> Void)?

    init(total: Int, report: (@Sendable (VerifyProgress) -> Void)?) {
        self.total = max(total, 1)
        self.report = report
    }

    func step() {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        report?(
            VerifyProgress(
                phase: "Checking the file's structure and the books",
                fraction: Double(done) / Double(total)))
    }
}
