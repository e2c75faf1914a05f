import Foundation
import LedgerTestSupport
import Testing

/// Issue 26's "Keys and time": the key 'ledger key new' saved is the one the
/// readers of snapshots use, and a folder named with a slash is that folder.
@Suite struct OwnerKeyCommandTests {
    let folder = TemporaryDirectory()

    private var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = folder.file("config")
        environment.removeValue(forKey: "LEDGER_IDENTITY_FILE")
        return environment
    }

    @Test func theSavedKeyOpensSnapshotsWithoutNamingIt() throws {
        let made = try Ledger.run(["key", "new"], environment: environment)
        #expect(made.status == 0, "\(made.stderr)")
        let saved = folder.file("config/ledger/identity.txt")
        #expect(FileManager.default.fileExists(atPath: saved))
        let recipient = try #require(
            made.stdout.split(separator: "\n").compactMap { line in
                line.split(separator: " ").first { $0.hasPrefix("age1") }.map(String.init)
            }.first)

        let path = try folder.sample()
        let backup = try Ledger.run(
            ["backup", path, "--to", folder.file("bk") + "/", "--encrypt-to", recipient], environment: environment)
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(!backup.stdout.contains("//"))
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.file("bk")).filter {
            $0.hasSuffix(".gz.age")
        }
        #expect(names.count == 1)

        // No --identity: the saved key opens the manifest and the snapshot.
        let listed = try Ledger.run(["snapshots", folder.file("bk"), "--json"], environment: environment)
        #expect(listed.status == 0)
        let snapshots = try #require(
            try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(snapshots.first?["company"] as? String == "Sample Company")
        let restored = try Ledger.run(
            ["restore", folder.file("bk/\(names[0])"), "--to", folder.file("back.db")], environment: environment)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.file("back.db")))
    }
}
