import Foundation
import GRDB
import Testing

@testable import LedgerKit

/// Every file holding books that the tool creates is mode 0600 whatever the
/// umask (docs/snapshots.md), and snapshots are read in a private scratch folder.
@Suite struct PrivateFileTests {
    let folder = TemporaryDirectory()

    /// Runs `body` under umask 022, the usual one, under which a file made
    /// without care is 0644: readable by every user of the machine.
    private func underUsualUmask<T>(_ body: () throws -> T) rethrows -> T {
        let saved = umask(0o022)
        defer { umask(saved) }
        return try body()
    }

    private func mode(_ path: String) -> mode_t? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return status.st_mode & 0o777
    }

    /// A sample company file readable by all (0644), as many are.
    private func openCompanyFile() throws -> String {
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 30)
        chmod(path, 0o644)
        return path
    }

    @Test func aBackupsPrivateCopyAndItsJournalWalAndShmAre0600() throws {
        let path = try openCompanyFile()
        try underUsualUmask {
            let copy = folder.file(".acme.db.copy.partial-1-a")
            #expect(try PrivateCopy.make(of: path, to: copy, wait: 1))
            #expect(mode(copy) == 0o600)
            // SQLite gives its companions the main file's mode: each while it exists.
            let queue = try DatabaseQueue(path: copy)
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try queue.inTransaction { db in
                try db.execute(sql: "UPDATE company SET name = name")
                try db.execute(sql: "CREATE TABLE scratch(x)")
                #expect(mode(copy + "-journal") == 0o600)
                return .commit
            }
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
            try queue.write { db in try db.execute(sql: "INSERT INTO scratch VALUES (1)") }
            #expect(mode(copy + "-wal") == 0o600 && mode(copy + "-shm") == 0o600)
            try queue.close()

            // A file SQLite cannot read is copied byte for byte, private too.
            let bytes = folder.file(".acme.db.copy.partial-1-b")
            try PrivateCopy.copyBytes(of: path, to: bytes)
            #expect(mode(bytes) == 0o600)
            #expect(try Data(contentsOf: URL(fileURLWithPath: bytes)) == Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(throws: FileError.self) { try PrivateCopy.copyBytes(of: path, to: bytes) }
        }
    }

    @Test func rebuildsSourceWorkingAndFinalFilesAre0600WhileTheyExist() throws {
        let path = try openCompanyFile()
        final class Seen: @unchecked Sendable {
            // Guarded by `lock`: progress comes from the rebuild's threads.
            let lock = NSLock()
            var modes: [String: mode_t] = [:]
        }
        let seen = Seen()
        let folderPath = folder.path
        try underUsualUmask {
            _ = try Rebuilder.rebuild(path: path, options: RebuildOptions(backupFolder: folder.file("backups"))) { _ in
                let names = (try? FileManager.default.contentsOfDirectory(atPath: folderPath)) ?? []
                seen.lock.lock()
                defer { seen.lock.unlock() }
                for name in names where name.hasPrefix(".acme.db.rebuild-") {
                    var status = stat()
                    if lstat(folderPath + "/" + name, &status) == 0 { seen.modes[name] = status.st_mode & 0o777 }
                }
            }
        }
        let purposes = Set(
            seen.modes.keys.compactMap { name in
                ["rebuild-source", "rebuild-working", "rebuild-final"].first { name.hasPrefix(".acme.db.\($0)-") }
            })
        #expect(purposes == ["rebuild-source", "rebuild-working", "rebuild-final"], "\(seen.modes)")
        #expect(seen.modes.values.allSatisfy { $0 == 0o600 }, "\(seen.modes)")
        #expect(mode(path) == 0o644, "the rebuilt file keeps the mode of the file it replaced")
        let snapshots = try FileManager.default.contentsOfDirectory(atPath: folder.file("backups")).filter {
            $0.hasSuffix(".gz")
        }
        #expect(snapshots.count == 1 && snapshots.allSatisfy { mode(folder.file("backups/" + $0)) == 0o600 })
    }

    @Test func salvagedDecryptedAndNewCompanyFilesAre0600() throws {
        let path = try openCompanyFile()
        try underUsualUmask {
            let salvaged = folder.file(".acme.db.rebuild-working-1-a")
            _ = try Salvage.run(from: path, into: salvaged, original: path, now: Date())
            #expect(mode(salvaged) == 0o600)

            let identity = AgeIdentity.generate()
            let sealed = try SnapshotWriter.take(
                SnapshotRequest(
                    of: path, kind: .manual,
                    recipients: SnapshotRecipients(recipients: [identity.recipient]),
                    config: RecipientsConfig.none(environment: [:])), into: SnapshotStore.open(folder.file("sealed")))
            let plain = folder.file("plain.gz")
            try SnapshotSealing.decrypt(
                sealed.path, to: plain, with: SnapshotIdentities(identities: [identity]), path: sealed.path)
            #expect(mode(plain) == 0o600 && mode(sealed.path) == 0o600)

            let made = folder.file("new.db")
            _ = try CompanyFile.create(at: made, profile: CompanyProfile(name: "New Books", currency: "USD"))
            #expect(mode(made) == 0o600)
        }
    }

    @Test func theScratchFolderIsPrivateAndLosesWhatKilledRunsLeft() throws {
        let environment = ["TMPDIR": folder.path + "/"]
        let scratch = try ScratchFolder.path(environment: environment)
        #expect(scratch == folder.path + "/ledger-\(getuid())")
        #expect(mode(scratch) == 0o700)
        let temporary = try ScratchFolder.temporaryPath(
            for: "/mnt/nas/acme-20261121T020000Z.db.gz.age", purpose: "checking",
            environment: environment)
        #expect(temporary.hasPrefix(scratch + "/.acme-20261121T020000Z.db.gz.age.checking-\(getpid())-"))

        // A process that no longer exists: its files go, and the folder of a drill it was
        // running, with the books restored in it; this one's stay.
        let gone = scratch + "/.acme.db.gz.checking-2147483646-zz"
        for file in [gone, gone + "-wal", temporary] {
            FileManager.default.createFile(atPath: file, contents: Data("SQLite format 3".utf8))
        }
        let drill = scratch + "/.restore.drill-2147483646-Ab12Cd"
        try FileManager.default.createDirectory(atPath: drill, withIntermediateDirectories: false)
        FileManager.default.createFile(atPath: drill + "/books.db", contents: Data("SQLite format 3".utf8))
        // In any other folder (a backup location is someone else's disk) a folder is never removed.
        ScratchFolder.removeLeftovers(in: scratch, purposes: nil)
        #expect(FileManager.default.fileExists(atPath: drill + "/books.db"))
        _ = try ScratchFolder.path(environment: environment)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: scratch) == [
                URL(fileURLWithPath: temporary).lastPathComponent
            ])

        chmod(scratch, 0o755)
        #expect(
            throws: FileError.cannotWrite(
                path: scratch,
                reason:
                    "the private scratch folder can be opened by other users (mode 755); make it private with 'chmod 700 \(scratch)'"
            )
        ) {
            _ = try ScratchFolder.path(environment: environment)
        }
        chmod(scratch, 0o700)
        let linked = folder.file("linked")
        try FileManager.default.createDirectory(atPath: linked, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: linked + "/ledger-\(getuid())", withDestinationPath: scratch)
        #expect(throws: FileError.self) { _ = try ScratchFolder.path(environment: ["TMPDIR": linked]) }
    }
}

/// The one way a company file is replaced whole: what another program that
/// opened the old file meets afterwards.
@Suite struct AtomicReplaceTests {
    let folder = TemporaryDirectory()

    private func file(_ name: String, _ text: String) throws -> String {
        let path = folder.file(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A program that opened the old file but had not read it yet (SQLite takes
    /// no lock until then) finds no database there, rather than old books whose
    /// log it would write beside the new file.
    @Test func aProgramThatOpenedTheOldFileFindsNoDatabaseThere() throws {
        let path = try file("acme.db", "SQLite format 3\u{0}old books")
        let other = open(path, O_RDONLY)
        defer { close(other) }
        #expect(other >= 0)
        try AtomicFile.replace(path, with: try file(".acme.db.new", "SQLite format 3\u{0}new books"), database: true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "SQLite format 3\u{0}new books")
        var seen = [UInt8](repeating: 0xFF, count: 16)
        #expect(pread(other, &seen, 16, 0) == 16)
        #expect(seen == [UInt8](repeating: 0, count: 16))
    }

    /// An old file kept by a second name (restore --force keeps what no snapshot can take) is left whole.
    @Test func anOldFileKeptByASecondNameIsLeftWhole() throws {
        let path = try file("acme.db", "SQLite format 3\u{0}old books")
        let kept = folder.file("acme.db.replaced")
        try AtomicFile.replace(path, with: try file(".acme.db.new", "SQLite format 3\u{0}new books"), database: true) {
            try AtomicFile.keepSecondName(path, as: kept)
        }
        #expect(try String(contentsOfFile: kept, encoding: .utf8) == "SQLite format 3\u{0}old books")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "SQLite format 3\u{0}new books")
    }

    /// A link another user planted in a sticky folder anyone may write (/tmp)
    /// is not followed, as the kernel's protected_symlinks would not; one of
    /// this user's own is.
    @Test func aLinkAnotherUserPlantedInASharedFolderIsNotFollowed() throws {
        let shared = folder.file("tmp")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        #expect(chmod(shared, 0o1777) == 0)
        let victim = try file("victim.txt", "mine")
        let planted = shared + "/books.csv"
        #expect(symlink(victim, planted) == 0)
        #expect(AtomicFile.resolvedTarget(of: planted) == victim, "this user's own link")
        let other: uid_t = geteuid() == 65_534 ? 65_533 : 65_534
        // Only root may give a link to another user; elsewhere this half cannot be set up.
        guard lchown(planted, other, other) == 0 else { return }
        #expect(AtomicFile.resolvedTarget(of: planted) == planted)
    }
}
