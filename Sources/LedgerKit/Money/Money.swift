/// An amount of money as an integer count of minor units (cents).
///
/// Debits are positive and credits negative, as in the company file. There is no
/// floating point anywhere on the way in or out: formatting works on the integer.
public struct Money: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The amount in minor units (cents).
    public var cents: Int64

    /// An amount of `cents` minor units.
    public init(cents: Int64) {
        self.cents = cents
    }

    /// No money at all.
    public static let zero = Money(cents: 0)

    /// The largest amount, either way, that one stored value may hold: 10^15
    /// cents (docs/findings.md). Anything larger is `invalid-value` and left out of every
    /// sum, so no sum of a file's amounts overflows.
    public static let limit: Int64 = 1_000_000_000_000_000

    /// `1,234.56`, `-10.00`: two decimals, comma thousands separators, a leading minus.
    public var description: String { formatted() }

    /// The amount with two decimals; `grouping` adds comma thousands separators.
    public func formatted(grouping: Bool = true) -> String {
        // magnitude is a UInt64, so Int64.min formats without overflow.
        let magnitude = cents.magnitude
        let whole = String(magnitude / 100)
        let fraction = magnitude % 100
        var text = ""
        if grouping {
            for (offset, character) in whole.enumerated() {
                if offset > 0 && (whole.count - offset) % 3 == 0 { text.append(",") }
                text.append(character)
            }
        } else {
            text = whole
        }
        text += fraction < 10 ? ".0\(fraction)" : ".\(fraction)"
        return cents < 0 ? "-" + text : text
    }

    /// The absolute amount.
    public var magnitude: Money { Money(cents: cents < 0 ? -cents : cents) }

    /// Orders amounts by their cents: credits before debits.
    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.cents < rhs.cents }
    /// The sum; traps on overflow, which `limit` keeps sums of stored amounts from reaching.
    public static func + (lhs: Money, rhs: Money) -> Money { Money(cents: lhs.cents + rhs.cents) }
    /// The difference; traps on overflow, like `+`.
    public static func - (lhs: Money, rhs: Money) -> Money { Money(cents: lhs.cents - rhs.cents) }
    /// The same amount the other way: a debit for a credit.
    public static prefix func - (value: Money) -> Money { Money(cents: -value.cents) }
    /// Adds `rhs` to `lhs`.
    public static func += (lhs: inout Money, rhs: Money) { lhs.cents += rhs.cents }
    /// Takes `rhs` from `lhs`.
    public static func -= (lhs: inout Money, rhs: Money) { lhs.cents -= rhs.cents }

    /// Reads an amount stored as a whole number of cents.
    public init(from decoder: any Decoder) throws {
        cents = try decoder.singleValueContainer().decode(Int64.self)
    }

    /// Stores the amount as a whole number of cents, never as a decimal.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(cents)
    }
}
