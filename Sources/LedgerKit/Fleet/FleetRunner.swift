import Foundation

/// How far a fleet run has come, for a progress line.
public struct FleetProgress: Sendable {
    /// Clients done so far.
    public var done: Int
    /// Clients done that need attention.
    public var failed: Int
    /// Clients this run does (those a resumed run left alone not counted).
    public var total: Int
    /// The time left, estimated from the clients done so far; nil before the first.
    public var secondsLeft: Double?
}

/// Runs one step over many clients, `jobs` at a time, each isolated: whatever
/// one client's step meets (damage, a lock, a missing file, a failing store)
/// ends as that client's result and never stops or hides another's.
public enum FleetRunner {
    /// Runs `step` for each client not already done in `journal`, recording each in it as it ends.
    /// - Returns: the results of the clients run, in the clients' order.
    public static func run(
        _ clients: [FleetClient], jobs: Int, journal: RunJournalKeeper? = nil,
        progress: (@Sendable (FleetProgress) -> Void)? = nil,
        step: @escaping @Sendable (FleetClient) -> ClientResult
    ) -> [ClientResult] {
        let skipped = journal?.done ?? []
        let pending = clients.filter { !skipped.contains($0.slug) }
        // The biggest files first: the run then ends with small ones on every thread, not one big one on one.
        let sizes = pending.map { (try? SystemCalls.size(of: $0.file)) ?? 0 }
        let board = Board(order: pending.indices.sorted { (sizes[$0], $1) > (sizes[$1], $0) })
        let group = DispatchGroup()
        for _ in 0..<max(1, min(jobs, pending.count)) {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                while let index = board.next() {
                    var result = step(pending[index])
                    if let lost = pending[index].lost {
                        // Whatever the step found (a drill may still pass), a client whose file is lost fails.
                        result.outcome = StatusUpdates.worse(result.outcome, .failed)
                        result.summary = lost + "; " + result.summary
                    }
                    journal?.record(result.slug, result.outcome)
                    progress?(board.finish(index, result))
                }
            }
            // Verify and compression use threads of their own; these mostly wait on them and on disks.
            thread.stackSize = Worker<Void>.stackSize
            thread.start()
        }
        group.wait()
        journal?.record(nil, finished: true)
        return board.results.compactMap { $0 }
    }

    /// The shared state of a run's threads.
    private final class Board: @unchecked Sendable {
        // Every field is guarded by `lock`.
        private let lock = NSLock()
        private var nextIndex = 0
        /// The indexes of the clients in the order they are started.
        private let order: [Int]
        private var failed = 0
        private var finished = 0
        private let started = Date()
        private(set) var results: [ClientResult?]

        init(order: [Int]) {
            self.order = order
            results = Array(repeating: nil, count: order.count)
        }

        func next() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard nextIndex < order.count else { return nil }
            nextIndex += 1
            return order[nextIndex - 1]
        }

        func finish(_ index: Int, _ result: ClientResult) -> FleetProgress {
            lock.lock()
            defer { lock.unlock() }
            results[index] = result
            finished += 1
            if result.needsAttention { failed += 1 }
            let elapsed = Date().timeIntervalSince(started)
            let left = Double(results.count - finished) * elapsed / Double(finished)
            return FleetProgress(done: finished, failed: failed, total: results.count, secondsLeft: left)
        }
    }
}
