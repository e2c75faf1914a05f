import Foundation

/// The runs of a page table (docs/incremental.md), kept flat: a run takes 16
/// bytes (and version 1's lengths 4 bytes a page), never an array of its own.
/// A table is someone else's bytes: one of millions of one-page runs must not
/// take a hundred bytes a run before a single pack is read.
///
/// In JSON a run is `[first_page, count, pack, first_blob]` (version 2) or
/// `[first_page, count, pack, offset, length_1 … length_count]` (version 1).
/// A number outside 0 … 2^32 - 1, or a run of neither shape, cannot be kept
/// flat: the runs are then `isSound == false`, and `IncrementalTable.checkRuns`
/// refuses them, as it refuses any run that does not add up.
struct PageRuns: Sendable, Equatable {
    /// One run: pages `first` … `first + count - 1` (from 1) lie in pack
    /// number `pack`, from blob `start` on (version 2) or from byte `start`
    /// of its plain bytes on (version 1, each page's blob as long as
    /// `PageRuns.length(ofPage:)` says).
    struct Run: Sendable, Equatable {
        let first: Int
        let count: Int
        let pack: Int
        let start: Int
    }

    /// Each run's four leading numbers, one run after another.
    private var heads: [UInt32] = []
    /// Version 1: each page's blob length, in the order of the runs.
    private var lengths: [UInt32] = []
    /// Whether runs of each shape were added.
    private(set) var hasBlobRuns = false
    private(set) var hasRangeRuns = false
    /// False once a number did not fit or a run had neither shape.
    private(set) var isSound = true

    init() {}

    var count: Int { heads.count / 4 }

    /// The bytes the runs take (what their storage has room for).
    var heldBytes: Int { (heads.capacity + lengths.capacity) * MemoryLayout<UInt32>.stride }

    subscript(position: Int) -> Run {
        let at = position * 4
        return Run(
            first: Int(heads[at]), count: Int(heads[at + 1]), pack: Int(heads[at + 2]), start: Int(heads[at + 3]))
    }

    /// Version 1: the length of page `number`'s blob (from 0); 0 when the
    /// runs hold no length for it (they do not add up then).
    func length(ofPage number: Int) -> Int {
        lengths.indices.contains(number) ? Int(lengths[number]) : 0
    }

    /// Adds a run of version 2's shape.
    mutating func append(first: Int, count: Int, pack: Int, blob: Int) {
        appendHead(first: first, count: count, pack: pack, start: blob, ranges: false)
    }

    /// Adds a run of version 1's shape, `lengths` one a page.
    mutating func append(first: Int, count: Int, pack: Int, offset: Int, lengths: [Int]) {
        if lengths.count != count { isSound = false }
        for length in lengths { appendLength(length) }
        appendHead(first: first, count: count, pack: pack, start: offset, ranges: true)
    }

    /// Version 1, as a table is read: the next page's blob length, before
    /// its run's head (`appendHead`).
    mutating func appendLength(_ length: Int) {
        guard let value = UInt32(exactly: length) else {
            isSound = false
            return
        }
        lengths.append(value)
    }

    /// The four leading numbers of a run, of version 1's shape when
    /// `ranges` (its lengths added before it).
    mutating func appendHead(first: Int, count: Int, pack: Int, start: Int, ranges: Bool) {
        guard let first = UInt32(exactly: first), let count = UInt32(exactly: count),
            let pack = UInt32(exactly: pack), let start = UInt32(exactly: start)
        else {
            isSound = false
            return
        }
        heads.append(first)
        heads.append(count)
        heads.append(pack)
        heads.append(start)
        if ranges { hasRangeRuns = true } else { hasBlobRuns = true }
    }

    /// One more page at the end of the last run (its next blob).
    mutating func extendLast() {
        guard heads.count >= 4, heads[heads.count - 3] < UInt32.max else {
            isSound = false
            return
        }
        heads[heads.count - 3] += 1
    }

    /// A run as JSON gives it, of either shape.
    mutating func append(_ numbers: [Int]) {
        if numbers.count == 4 {
            append(first: numbers[0], count: numbers[1], pack: numbers[2], blob: numbers[3])
        } else if numbers.count > 4 {
            append(
                first: numbers[0], count: numbers[1], pack: numbers[2], offset: numbers[3],
                lengths: Array(numbers[4...]))
        } else {
            isSound = false
        }
    }
}

extension PageRuns: RandomAccessCollection {
    var startIndex: Int { 0 }
    var endIndex: Int { count }
}

extension PageRuns: ExpressibleByArrayLiteral {
    /// The runs as JSON gives them.
    init(_ runs: [[Int]]) {
        self.init()
        for run in runs { append(run) }
    }

    init(arrayLiteral runs: [Int]...) {
        self.init(runs)
    }
}

extension PageRuns: Codable {
    init(from decoder: any Decoder) throws {
        self.init()
        var list = try decoder.unkeyedContainer()
        while !list.isAtEnd { append(try list.decode([Int].self)) }
    }

    /// Writes the runs as JSON gives them, version 1's lengths after each run's head.
    func encode(to encoder: any Encoder) throws {
        var list = encoder.unkeyedContainer()
        var lengthAt = 0
        for run in self {
            var numbers = [run.first, run.count, run.pack, run.start]
            if hasRangeRuns {
                let end = Swift.min(lengths.count, lengthAt + run.count)
                numbers += lengths[Swift.min(lengthAt, end)..<end].map(Int.init)
                lengthAt = end
            }
            try list.encode(numbers)
        }
    }
}

/// The runs of one pack, in table order: positions into the table's runs,
/// 4 bytes a run.
struct PackRuns: Sendable, RandomAccessCollection {
    let runs: PageRuns
    let positions: [UInt32]

    var startIndex: Int { 0 }
    var endIndex: Int { positions.count }
    subscript(position: Int) -> PageRuns.Run { runs[Int(positions[position])] }
}
