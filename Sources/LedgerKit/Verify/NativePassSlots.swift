import GRDB

/// Where the pass keeps each row of a table in its arrays.
extension NativePass {
    /// The slots of a table's rows in the pass's arrays: `id - lowest` when the
    /// ids are dense, a hash map when they are not.
    struct Slots {
        private let lowest: Int64
        private let dense: Bool
        private var present: [Bool]
        private var map: [Int64: Int32] = [:]
        private var ids: [Int64] = []
        let capacity: Int

        init(_ db: Database, table: String) throws {
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT MIN(rowid) AS low, MAX(rowid) AS high, COUNT(*) AS n FROM \(table)
                    """)
            let count = row?.integer("n") ?? 0
            if let low = row?.integer("low"), let high = row?.integer("high"),
                case (let span, let overflow) = high.subtractingReportingOverflow(low), !overflow,
                span < 2 * count + 1024
            {
                dense = true
                lowest = low
                capacity = Int(span) + 1
                present = Array(repeating: false, count: capacity)
            } else {
                dense = false
                lowest = 0
                capacity = Int(count)
                present = []
            }
        }

        /// Gives the row `id` of this table its slot.
        /// - Throws: `Abandoned` when the table holds more than it did when counted.
        mutating func add(_ id: Int64) throws -> Int {
            if dense {
                guard id >= lowest, id - lowest < Int64(capacity) else { throw NativePass.Abandoned() }
                present[Int(id - lowest)] = true
                return Int(id - lowest)
            }
            guard ids.count < capacity, map[id] == nil else { throw NativePass.Abandoned() }
            map[id] = Int32(ids.count)
            ids.append(id)
            return ids.count - 1
        }

        /// The slot of the row whose id is `id`, when that row exists.
        func slot(_ id: Int64?) -> Int? {
            guard let id else { return nil }
            if dense {
                guard id >= lowest, id - lowest < Int64(capacity), present[Int(id - lowest)] else { return nil }
                return Int(id - lowest)
            }
            return map[id].map(Int.init)
        }

        /// The id of the row in `slot`, or nil when no row has it.
        func id(at slot: Int) -> Int64? {
            if dense { return present[slot] ? lowest + Int64(slot) : nil }
            return slot < ids.count ? ids[slot] : nil
        }
    }
}
