import Foundation
import Testing

@testable import LedgerKit

/// What every `ByteStore` must do, run against each one: names are created
/// only when absent and only whole, ranges read what they ask (fewer bytes
/// only where the object ends), listings give names and sizes under a prefix.
enum ByteStoreContract {
    /// Runs every check against `store`, empty, with `scratch` a folder of this machine.
    static func check(_ store: any ByteStore, scratch: TemporaryDirectory) throws {
        try store.prepare()
        #expect(try store.exists())
        #expect(try store.list(prefix: "").isEmpty)
        #expect(try store.entry("absent") == nil)
        #expect(try store.contents(of: "absent", limit: 100) == nil)

        let bytes = Data((0..<5_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let source = scratch.file("source")
        try bytes.write(to: URL(fileURLWithPath: source))
        try store.create("books-a", from: source, attributes: ["kind": "manual"])
        try store.create("books-b", from: source, attributes: [:])
        try store.create("other", from: source, attributes: [:])

        // Create-if-absent: a taken name is refused and keeps its bytes.
        let other = scratch.file("other")
        try Data("different".utf8).write(to: URL(fileURLWithPath: other))
        #expect(throws: ByteStoreError.exists(store: store.description, name: "books-a")) {
            try store.create("books-a", from: other, attributes: [:])
        }
        #expect(try store.read("books-a", range: 0...4_999) == bytes)

        // Listing: names and sizes under a prefix.
        let listed = try store.list(prefix: "books-")
        #expect(listed.map(\.name).sorted() == ["books-a", "books-b"])
        #expect(listed.allSatisfy { $0.size == 5_000 })
        #expect(try store.list(prefix: "").count == 3)

        // Ranges: exact inside, cut short where the object ends, never more.
        #expect(try store.read("books-a", range: 10...19) == bytes[10...19])
        #expect(try store.read("books-a", range: 4_990...5_999) == bytes[4_990...])
        #expect(try store.entry("books-a")?.size == 5_000)

        // Whole small objects, within a limit.
        #expect(try store.contents(of: "books-b", limit: 5_000) == bytes)
        #expect(throws: (any Error).self) { _ = try store.contents(of: "books-b", limit: 100) }
        // Whole to the caller's limit, past any bound of the store's own (an encrypted
        // pack is a little over 16 MiB; S3's answers were held to 16 MiB).
        let large = Data((0..<((16 << 20) + 4_096)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 12) })
        let largeSource = scratch.file("large")
        try large.write(to: URL(fileURLWithPath: largeSource))
        try store.create("large", from: largeSource, attributes: [:])
        #expect(try store.contents(of: "large", limit: 64 << 20) == large)
        #expect(throws: ByteStoreError.self) { _ = try store.contents(of: "large", limit: 16 << 20) }
        try store.remove("large")

        // The object's bytes as a local file.
        let local = try store.withLocalFile(of: "books-b", size: nil, near: scratch.file("near")) {
            try Data(contentsOf: URL(fileURLWithPath: $0))
        }
        #expect(local == bytes)

        // Paths and names go both ways.
        #expect(try store.name(at: store.path(of: "books-a")) == "books-a")

        // Removing, twice, is no error; the lock can be taken again once released.
        try store.remove("books-a")
        try store.remove("books-a")
        #expect(try store.entry("books-a") == nil)
        try store.exclusively {}
        try store.exclusively {}
    }
}
