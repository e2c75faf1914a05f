/// A running sum of cents that never overflows: Int64's wraps are counted
/// beside it, so ten thousand splits of 10^15 cents add up exactly.
struct CentsSum: Equatable, Sendable {
    /// The sum modulo 2^64, as Int64 holds it.
    private var low: Int64 = 0
    /// How many times `low` wrapped, up (positive) or down (negative).
    private var wraps = 0

    mutating func add(_ cents: Int64) {
        let (sum, overflow) = low.addingReportingOverflow(cents)
        low = sum
        if overflow { wraps += cents < 0 ? -1 : 1 }
    }

    /// Whether the sum is exactly zero.
    var isZero: Bool { low == 0 && wraps == 0 }

    /// The sum, or nil when it does not fit in Int64.
    var money: Money? { wraps == 0 ? Money(cents: low) : nil }
}
