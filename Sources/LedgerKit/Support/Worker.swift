import Foundation

/// Work on a thread of its own that is always waited for: the one way this
/// library runs things side by side (verify's lanes and structure check,
/// rebuild's snapshot and compaction, backup's verify).
///
/// `Worker.run(_:during:)` starts the work, runs `body` on the calling thread,
/// and waits for the work before it returns or rethrows, so no thread outlives
/// the call that started it, whatever `body` throws.
final class Worker<Value>: @unchecked Sendable {
    // `result` is guarded by `condition`: set once by the thread, read by waiters.
    private let condition = NSCondition()
    private var result: Result<Value, any Error>?

    /// SQLite's recursive descent into a damaged b-tree wants more than the
    /// default 512 KiB of a secondary thread.
    static var stackSize: Int { 1 << 22 }

    private init() {}

    /// Starts `work` on a new thread, lets `body` use the worker (to wait for
    /// its value when it needs it), and waits for the thread before returning.
    static func run<R>(_ work: @escaping @Sendable () throws -> Value, during body: (Worker<Value>) throws -> R) rethrows -> R {
        let worker = Worker<Value>()
        let thread = Thread {
            let outcome = Result { try work() }
            worker.condition.lock()
            worker.result = outcome
            worker.condition.broadcast()
            worker.condition.unlock()
        }
        thread.stackSize = stackSize
        thread.start()
        defer { _ = worker.wait() }
        return try body(worker)
    }

    /// Blocks until the work has finished and returns what it produced or threw.
    func wait() -> Result<Value, any Error> {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let result { return result }
            condition.wait()
        }
    }
}
