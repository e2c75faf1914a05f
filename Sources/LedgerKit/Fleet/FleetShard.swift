import Crypto
import Foundation

/// One of N shares of a fleet (`--shard I/N`), so that several machines share
/// one: a client belongs to the share its slug's hash names, the same on every
/// machine and in every run, whatever the other clients are.
public struct FleetShard: Codable, Equatable, Sendable, CustomStringConvertible {
    /// 1…count.
    public let index: Int
    /// How many shares the fleet is cut into.
    public let count: Int

    /// The whole fleet.
    public static let all = FleetShard(index: 1, count: 1)

    /// Share `index` (1…`count`) of `count`.
    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// `I/N` with 1 ≤ I ≤ N ≤ 1000; nil otherwise.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]),
            (1...1_000).contains(count), (1...count).contains(index)
        else { return nil }
        self.init(index: index, count: count)
    }

    /// `I/N`, as `--shard` takes it.
    public var description: String { "\(index)/\(count)" }

    /// Whether the client of `slug` is this share's.
    public func contains(_ slug: String) -> Bool {
        count == 1 || Int(Self.hash(slug) % UInt64(count)) == index - 1
    }

    /// The first 8 bytes of the SHA-256 of `text`, big-endian: stable everywhere, unlike `Hasher`.
    static func hash(_ text: String) -> UInt64 {
        Array(SHA256.hash(data: Data(text.utf8))).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
