import ArgumentParser
import Foundation
import LedgerKit

/// Uploads and downloads on a terminal: "Uploading acme-….db.gz  45.2 MiB of 98.1 MiB  38.0 MiB/s",
/// rewritten at most four times a second.
final class TransferMeter: @unchecked Sendable {
    // Guarded by `lock`: reports come from the threads moving the parts.
    private var last = Date.distantPast
    private var shown = false
    private let lock = NSLock()

    func show(_ progress: TransferProgress) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard progress.bytes == progress.total || now.timeIntervalSince(last) >= 0.25 else { return }
        last = now
        shown = true
        Output.progress(
            "\(progress.label)  \(Output.bytes(progress.bytes)) of \(Output.bytes(progress.total))  \(Output.bytes(Int64(progress.rate)))/s"
        )
    }

    func end() {
        TransferProgress.report(to: nil)
        lock.lock()
        defer { lock.unlock() }
        if shown { Output.endProgress() }
    }
}
