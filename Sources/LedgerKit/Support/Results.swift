import Foundation

/// One value per job, set from the jobs' threads.
final class Results<Value>: @unchecked Sendable {
    // `slots` is guarded by `lock`.
    private let lock = NSLock()
    private var slots: [Value?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = value
    }

    /// The value of job `index`, if it set one.
    func value(_ index: Int) -> Value? {
        lock.lock()
        defer { lock.unlock() }
        return slots.indices.contains(index) ? slots[index] : nil
    }

    /// The values of the jobs that finished, in job order.
    var values: [Value] {
        lock.lock()
        defer { lock.unlock() }
        return slots.compactMap { $0 }
    }
}
