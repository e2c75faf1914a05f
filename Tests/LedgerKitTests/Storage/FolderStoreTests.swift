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

    /// A location is someone else's disk: a `packs` planted there as a link to another folder
    /// of this machine is neither listed through nor removed in, so no prune empties it, and
    /// prune removes only the names ledger writes under `packs/`.
    @Test func aPlantedLinkNeverLeadsAPruneOutOfTheLocation() throws {
        let store = FolderStore(folder.file("store"))
        try store.prepare()
        let elsewhere = folder.file("documents")
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let precious = elsewhere + "/" + String(repeating: "a", count: 64)
        try Data("letters".utf8).write(to: URL(fileURLWithPath: precious))
        try FileManager.default.createSymbolicLink(atPath: store.folder + "/packs", withDestinationPath: elsewhere)
        #expect(throws: FileError.self) { _ = try store.list(prefix: "packs/") }
        #expect(throws: FileError.self) { try store.remove("packs/" + String(repeating: "a", count: 64)) }
        #expect(throws: FileError.self) {
            try PackPrune.removeUnneeded(in: SnapshotStore(store), with: SnapshotIdentities())
        }
        #expect(FileManager.default.fileExists(atPath: precious))

        // A real packs folder: a folder in it is refused, not walked, and only ledger's names go.
        try FileManager.default.removeItem(atPath: store.folder + "/packs")
        try FileManager.default.createDirectory(
            atPath: store.folder + "/packs/sub", withIntermediateDirectories: true)
        #expect(throws: FileError.self) { try store.remove("packs/sub") }
        #expect(PackPrune.isPackObjectName("packs/" + String(repeating: "0f", count: 32)))
        #expect(PackPrune.isPackObjectName("packs/" + String(repeating: "0f", count: 32) + ".index"))
        #expect(!PackPrune.isPackObjectName("packs/sub"))
        #expect(!PackPrune.isPackObjectName("packs/" + String(repeating: "0F", count: 32)))
        #expect(!PackPrune.isPackObjectName("packs/../" + String(repeating: "0f", count: 32)))
        #expect(try PackPrune.removeUnneeded(in: SnapshotStore(store), with: SnapshotIdentities()).removed.isEmpty)
        #expect(FileManager.default.fileExists(atPath: store.folder + "/packs/sub"))
    }

    /// A link planted at the lock's name used to make the lock file wherever it pointed
    /// (an empty file anywhere the backup's user may write); a FIFO there is refused too.
    @Test func aPlantedLockIsNeitherFollowedNorOpened() throws {
        let store = FolderStore(folder.file("store"))
        try store.prepare()
        let target = folder.file("nologin")
        try FileManager.default.createSymbolicLink(atPath: store.folder + "/.ledger.lock", withDestinationPath: target)
        #expect(throws: FileError.self) { _ = try store.lock() }
        #expect(!FileManager.default.fileExists(atPath: target))

        try FileManager.default.removeItem(atPath: store.folder + "/.ledger.lock")
        #expect(mkfifo(store.folder + "/.ledger.lock", 0o600) == 0)
        #expect(throws: FileError.self) { _ = try store.lock() }

        try FileManager.default.removeItem(atPath: store.folder + "/.ledger.lock")
        let lock = try store.lock()
        lock.release()
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
        #expect(throws: FileError.cannotRead(path: store.path(of: "dangling"), reason: SystemCalls.linkRefused)) {
            try store.entry("dangling")
        }
    }

    /// A link planted at an object's name, or at the sub-folder it lies in, is
    /// never followed: its target is a file of this machine, not the location's.
    @Test func aPlantedLinkIsNeverReadThrough() throws {
        let store = FolderStore(folder.file("store"))
        try store.prepare()
        let secret = folder.file("secret.json")
        try Data("{\"the\":\"books\"}".utf8).write(to: URL(fileURLWithPath: secret))
        #expect(symlink(secret, store.path(of: "ledger-status.json")) == 0)
        let refused = FileError.cannotRead(path: store.path(of: "ledger-status.json"), reason: SystemCalls.linkRefused)
        #expect(throws: refused) { try store.entry("ledger-status.json") }
        #expect(throws: refused) { try store.contents(of: "ledger-status.json", limit: 1 << 20) }
        #expect(throws: refused) { try store.read("ledger-status.json", range: 0...100) }
        #expect(symlink(folder.path, store.path(of: "packs")) == 0)
        #expect(throws: FileError.self) { try store.read("packs/secret.json", range: 0...100) }
        #expect(throws: FileError.self) { try store.entry("packs/secret.json") }
    }

    /// A sub-folder planted as a link is never written through: a pack or a status
    /// record created "in" it would land in another folder of this machine.
    @Test func aPlantedLinkIsNeverWrittenThrough() throws {
        let store = FolderStore(folder.file("store"))
        try store.prepare()
        let elsewhere = folder.file("documents")
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        #expect(symlink(elsewhere, store.path(of: "packs")) == 0)
        let source = folder.file("source")
        try Data("books".utf8).write(to: URL(fileURLWithPath: source))
        #expect(throws: FileError.self) { try store.create("packs/a", from: source, attributes: [:]) }
        #expect(throws: FileError.self) {
            try store.withLocalFile(of: "packs/a", size: nil, near: folder.path) { _ in }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
        // A real sub-folder is written as before.
        try FileManager.default.removeItem(atPath: store.path(of: "packs"))
        try store.create("packs/a", from: source, attributes: [:])
        #expect(try store.read("packs/a", range: 0...99) == Data("books".utf8))
    }

    /// A whole read (restore, check-backups, a drill) reads the file that was opened:
    /// a link the location puts at its name meanwhile is not followed out of it.
    @Test func aLinkPutInPlaceDuringAReadIsNotFollowed() throws {
        let store = FolderStore(folder.file("store"))
        try store.prepare()
        let source = folder.file("source")
        try Data("books".utf8).write(to: URL(fileURLWithPath: source))
        try store.create("a.db.gz", from: source, attributes: [:])
        let secret = folder.file("secret")
        try Data("another file of this machine".utf8).write(to: URL(fileURLWithPath: secret))
        let read = try store.withLocalFile(of: "a.db.gz", size: nil, near: folder.path) { local in
            try FileManager.default.removeItem(atPath: store.path(of: "a.db.gz"))
            #expect(symlink(secret, store.path(of: "a.db.gz")) == 0)
            return try Data(contentsOf: URL(fileURLWithPath: local))
        }
        #expect(read == Data("books".utf8))
        // A link already there when the read begins is refused.
        #expect(throws: FileError.self) {
            try store.withLocalFile(of: "a.db.gz", size: nil, near: folder.path) { _ in }
        }
    }

    @Test func namesOutsideTheFolderAreNotItsObjects() throws {
        let store = FolderStore(folder.file("store"))
        #expect(try store.name(at: folder.file("elsewhere/a")) == nil)
        #expect(try store.name(at: folder.file("store/a")) == "a")
    }
}
