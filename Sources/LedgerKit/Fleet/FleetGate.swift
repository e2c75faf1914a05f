import Foundation

/// At most a given number of steps at once: backups read whole files and write
/// whole snapshots, and a disk takes only so many of those side by side.
public final class FleetGate: @unchecked Sendable {
    // DispatchSemaphore is safe from any thread.
    private let semaphore: DispatchSemaphore

    /// Backups at once, whatever `--jobs` says.
    public static let backupsAtOnce = 2

    /// A gate that lets `count` through at once (at least one).
    public init(_ count: Int) {
        semaphore = DispatchSemaphore(value: max(1, count))
    }

    /// Runs `body` when a place is free.
    public func passing<T>(_ body: () throws -> T) rethrows -> T {
        semaphore.wait()
        defer { semaphore.signal() }
        return try body()
    }
}
