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
    static func run<R>(_ work: @escaping @Sendable () throws -> Value, during body: (Worker<Value>) throws -> R)
        rethrows -> R
    {
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

/// A few threads sharing one list of jobs: the parts of an upload, the heads
/// of a listing. Blocks until every started job has finished.
enum Parallel {
    /// Runs `work(0)` … `work(count - 1)` on up to `width` threads. After the
    /// first error no new job starts, and that error is rethrown.
    static func forEach(_ count: Int, width: Int, _ work: @escaping @Sendable (Int) throws -> Void) throws {
        let queue = JobQueue(count: count)
        let threads = max(1, min(width, count))
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                while let index = queue.next() {
                    do {
                        try work(index)
                    } catch {
                        queue.fail(error)
                    }
                }
            }
            thread.stackSize = Worker<Void>.stackSize
            thread.start()
        }
        group.wait()
        if let error = queue.error { throw error }
    }

    private final class JobQueue: @unchecked Sendable {
        // Guarded by `lock`.
        private var nextIndex = 0
        private var firstError: (any Error)?
        private let count: Int
        private let lock = NSLock()

        init(count: Int) {
            self.count = count
        }

        func next() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard firstError == nil, nextIndex < count else { return nil }
            nextIndex += 1
            return nextIndex - 1
        }

        func fail(_ error: any Error) {
            lock.lock()
            defer { lock.unlock() }
            if firstError == nil { firstError = error }
        }

        var error: (any Error)? {
            lock.lock()
            defer { lock.unlock() }
            return firstError
        }
    }
}
