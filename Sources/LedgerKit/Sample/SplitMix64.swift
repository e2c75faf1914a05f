/// A small, fast, seedable random number generator (Steele, Lea and Flood's
/// SplitMix64), so that one seed always gives the same sample company on every
/// machine and every Swift version; `SystemRandomNumberGenerator` cannot.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `range`, without the modulo bias of `next() % n`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) + 1
        // Lemire's multiply-shift: the high half of a 128-bit product.
        let product = next().multipliedFullWidth(by: span)
        return range.lowerBound + Int(product.high)
    }

    /// A uniform `Int64` in `range`.
    mutating func cents(_ range: ClosedRange<Int64>) -> Int64 {
        Int64(int(Int(range.lowerBound)...Int(range.upperBound)))
    }

    /// True with probability `percent` / 100.
    mutating func chance(_ percent: Int) -> Bool {
        int(0...99) < percent
    }

    mutating func pick<T>(_ elements: [T]) -> T {
        elements[int(0...(elements.count - 1))]
    }
}
