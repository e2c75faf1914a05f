import GRDB

/// The sums the pass adds up, as the checks' SQL adds them.
extension NativePass {
    /// A sum of amounts as the SQL of the checks makes it: amounts of at most
    /// `Money.limit` cents either way added, NULL skipped, anything else marking
    /// the sum `bad` (the checks then step around it). The pass keeps the sum of
    /// all absolute amounts within an Int64, so no sum overflows.
    struct Sum {
        var total: Int64 = 0
        var bad = false

        mutating func add(_ amount: Amount) {
            switch amount {
            case .cents(let cents): total &+= cents
            case .null: break
            case .bad: bad = true
            }
        }
    }

    /// The same sum in one Int64, for the arrays of a million transactions:
    /// `Int64.min` once a bad amount joined it (no sum of amounts whose absolute
    /// values fit an Int64 can reach it).
    struct CompactSum {
        private(set) var raw: Int64 = 0

        static let bad = Int64.min

        init(_ start: Int64 = 0) {
            raw = start
        }

        var isBad: Bool { raw == Self.bad }
        var total: Int64 { raw }

        mutating func add(_ amount: Amount) {
            guard raw != Self.bad else { return }
            switch amount {
            case .cents(let cents): raw &+= cents
            case .null: break
            case .bad: raw = Self.bad
            }
        }

        mutating func subtract(_ amount: Amount) {
            if case .cents(let cents) = amount { add(.cents(-cents)) } else { add(amount) }
        }
    }

    /// A stored amount, classified as docs/findings.md classifies it.
    enum Amount {
        case cents(Int64)
        case null
        case bad

        init(_ rows: RawRows, _ column: Int32) {
            if let value = rows.integer(column) {
                self = (-Money.limit...Money.limit).contains(value) ? .cents(value) : .bad
            } else {
                self = rows.isNull(column) ? .null : .bad
            }
        }

        var cents: Int64? {
            if case .cents(let value) = self { return value }
            return nil
        }
    }
}
