import Foundation
import GRDB

/// Units that either lane may run, taken one at a time.
final class SharedUnits: @unchecked Sendable {
    // `units` is guarded by `lock`.
    private let lock = NSLock()
    private var units: [WorkUnit]

    init(_ units: [WorkUnit]) {
        self.units = units.reversed()
    }

    func next() -> WorkUnit? {
        lock.lock()
        defer { lock.unlock() }
        return units.popLast()
    }
}
