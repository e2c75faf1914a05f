import Foundation
import Testing

@testable import LedgerKit

/// A folder as a `ByteStore`.
@Suite struct FolderStoreTests {
    let folder = TemporaryDirectory()

    @Test func keepsTheContractOfEveryStore() throws {
        try ByteStoreContract.check(FolderStore(folder.file("store/")), scratch: folder)
    }

    @Test func nothingButTheObjectIsLeftInTheFolder() throws {
        let store = FolderStore(folder.file("store"))
        try store.prepare()
        let source = folder.file("source")
        try Data("books".utf8).write(to: URL(fileURLWithPath: source))
        try store.create("a", from: source, attributes: [:])
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.folder) == ["a"])
        #expect(try store.read("a", range: 0...99) == Data("books".utf8))
    }

    @Test func aMissingFolderHasNoListingButIsMadeWhenPrepared() throws {
        let store = FolderStore(folder.file("later"))
        #expect(try !store.exists())
        #expect(throws: ByteStoreError.noPlace(store.folder)) { _ = try store.list(prefix: "") }
        try store.prepare()
        #expect(try store.list(prefix: "").isEmpty)
    }

    @Test func aSizeTheListingGivesIsReadNoFurtherThanTheBytes() throws {
        let store = FolderStore(folder.file("store"))
        try store.prepare()
        let source = folder.file("source")
        try Data(repeating: 1, count: 10).write(to: URL(fileURLWithPath: source))
        try store.create("a", from: source, attributes: [:])
        // A caller trusting a hostile size of a gigabyte still gets only the bytes there are.
        #expect(try store.read("a", range: 0...(1 << 30)).count == 10)
        #expect(try store.read("a", range: 20...30).isEmpty)
    }

    @Test func aNameThatCannotBeLookedAtIsListedWithNoBytes() throws {
        let store = FolderStore(folder.file("store"))
        try store.prepare()
        #expect(symlink(folder.file("nowhere"), store.path(of: "dangling")) == 0)
        #expect(try store.list(prefix: "") == [StoredObject(name: "dangling", size: 0)])
        #expect(try store.entry("dangling") == nil)
    }

    @Test func namesOutsideTheFolderAreNotItsObjects() throws {
        let store = FolderStore(folder.file("store"))
        #expect(try store.name(at: folder.file("elsewhere/a")) == nil)
        #expect(try store.name(at: folder.file("store/a")) == "a")
    }
}
