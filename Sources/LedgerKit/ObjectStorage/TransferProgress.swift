import Foundation

/// Progress of uploads and downloads, for a person watching a terminal: the
/// library measures, the command line prints (it registers a sink once).
public struct TransferProgress: Sendable {
    /// What is moving: "Uploading acme-20261121T020000Z.db.gz".
    public let label: String
    /// Bytes moved so far.
    public let bytes: Int64
    /// Bytes to move in all.
    public let total: Int64
    /// Bytes a second since the transfer began.
    public let rate: Double

    /// Where reports go; nil (the default) reports nothing.
    public static func report(to sink: (@Sendable (TransferProgress) -> Void)?) {
        Sink.shared.set(sink)
    }

    /// A progress callback for one transfer, or nil when no one listens.
    static func reporter(_ label: String) -> S3Client.Progress? {
        guard let sink = Sink.shared.current else { return nil }
        let started = Date()
        return { done, total in
            let seconds = max(Date().timeIntervalSince(started), 0.001)
            sink(TransferProgress(label: label, bytes: done, total: total, rate: Double(done) / seconds))
        }
    }

    private final class Sink: @unchecked Sendable {
        static let shared = Sink()
        // Guarded by `lock`.
        private var sink: (@Sendable (TransferProgress) -> Void)?
        private let lock = NSLock()

        func set(_ new: (@Sendable (TransferProgress) -> Void)?) {
            lock.lock()
            defer { lock.unlock() }
            sink = new
        }

        var current: (@Sendable (TransferProgress) -> Void)? {
            lock.lock()
            defer { lock.unlock() }
            return sink
        }
    }
}
