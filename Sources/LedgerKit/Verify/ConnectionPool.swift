import Foundation
import GRDB

/// Connections that jobs on several threads take one at a time.
final class ConnectionPool: @unchecked Sendable {
    // `free` is guarded by `condition`.
    private let condition = NSCondition()
    private var free: [DatabaseQueue]

    init(_ connections: [DatabaseQueue]) {
        free = connections
    }

    func with<T>(_ work: (DatabaseQueue) throws -> T) throws -> T {
        condition.lock()
        while free.isEmpty { condition.wait() }
        let queue = free.removeLast()
        condition.unlock()
        defer {
            condition.lock()
            free.append(queue)
            condition.signal()
            condition.unlock()
        }
        return try work(queue)
    }
}
