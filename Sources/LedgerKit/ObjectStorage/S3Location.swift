import Foundation

/// A place in S3-compatible object storage: `s3://BUCKET/PREFIX` (docs/snapshots.md).
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    /// The bucket's name.
    public let bucket: String
    /// The key prefix of the snapshots, without a trailing `/` ("" for the bucket's top).
    public let prefix: String

    /// Nil when `text` is not an `s3://` location; throws when it is one that cannot be.
    public init?(_ text: String) throws {
        guard text.lowercased().hasPrefix("s3://") else { return nil }
        let rest = text.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        // S3's bucket names: 3 to 63 lower-case letters, digits, dots and hyphens.
        guard (3...63).contains(bucket.count),
            bucket.utf8.allSatisfy({
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: ".")
                    || $0 == UInt8(ascii: "-")
            })
        else {
            throw ObjectStorageError.badLocation(
                text, reason: "'\(bucket)' is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens)")
        }
        self.bucket = bucket
        prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
    }

    private init(bucket: String, prefix: String) {
        self.bucket = bucket
        self.prefix = prefix
    }

    /// The last part of the prefix ("" at the bucket's top).
    var name: String { prefix.split(separator: "/").last.map(String.init) ?? "" }

    /// The place holding this one.
    var parent: S3Location {
        S3Location(bucket: bucket, prefix: prefix.split(separator: "/").dropLast().joined(separator: "/"))
    }

    /// The key of an object named `name` at this place.
    public func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "/" + name }

    /// The location as written: `s3://BUCKET/PREFIX`, or `s3://BUCKET` at the top.
    public var description: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }
}
