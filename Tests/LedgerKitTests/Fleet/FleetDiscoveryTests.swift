import Crypto
import Foundation
import Testing

@testable import LedgerKit

@Suite struct FleetDiscoveryTests {
    let folder = TemporaryDirectory()

    @Test(arguments: [
        ("Smith & Sons, Ltd.", "smith-sons-ltd"), ("", "client"), ("---", "client"),
        ("ACME  West", "acme-west"), ("Café Müller", "caf-m-ller"), ("a/../../etc", "a-etc"),
    ])
    func namesBecomeSafeSlugs(name: String, slug: String) {
        #expect(ClientSlug.safe(name) == slug)
    }

    @Test func aSlugIsNeverLongerThanTheLimit() {
        #expect(ClientSlug.safe(String(repeating: "ab-", count: 40)).count <= ClientSlug.maximumLength)
    }

    /// Two `books.db` never share a folder, and each keeps its own whatever order they come in.
    @Test func twoFilesOfOneNameGetTwoStableSlugs() {
        let one = ClientSlug.assign([
            ("/clients/a/books.db", "books"), ("/clients/b/books.db", "books"), ("/x/acme.db", "acme"),
        ])
        let other = ClientSlug.assign([
            ("/x/acme.db", "acme"), ("/clients/b/books.db", "books"), ("/clients/a/books.db", "books"),
        ])
        #expect(Set(one.map(\.slug)).count == 3)
        #expect(one.first { $0.slug == "acme" } != nil)
        for client in one {
            #expect(other.first { $0.file == client.file }?.slug == client.slug)
        }
        #expect(one[0].slug.hasPrefix("books-") && one[0].slug.count == "books-".count + 8)
    }

    /// A name that is another client's hashed slug, and a file listed twice
    /// under one name: still a slug each, none shared.
    @Test func aHashedSlugThatIsTakenIsMadeLonger() {
        let hashed = "x-" + Array(SHA256.hash(data: Data("/c/a.db".utf8))).prefix(4).hex
        let clients = ClientSlug.assign([
            ("/c/c.db", hashed), ("/c/a.db", "x"), ("/c/b.db", "x"), ("/c/d.db", "d"), ("/c/d.db", "d"),
        ])
        #expect(Set(clients.map(\.slug)).count == 5, "\(clients.map(\.slug))")
        #expect(clients[0].slug == hashed)
        #expect(clients[1].slug.hasPrefix(hashed) && clients[1].slug.count == "x-".count + 16)
        #expect(clients[2].slug.count == "x-".count + 8)
        #expect(clients[4].slug.count == "d-".count + 16 && clients[4].slug.hasPrefix(clients[3].slug))
    }

    /// A seeded fleet: every client is in exactly one share of N, the same one each time.
    @Test(arguments: [2, 3, 7])
    func everyClientIsInExactlyOneShard(count: Int) {
        var random = SplitMix64(seed: 28)
        let slugs = (0..<500).map { _ in "client-" + String(random.next(), radix: 36) }
        var sizes = Array(repeating: 0, count: count)
        for slug in slugs {
            let holders = (1...count).filter { FleetShard(index: $0, count: count).contains(slug) }
            #expect(holders.count == 1)
            if let holder = holders.first { sizes[holder - 1] += 1 }
            #expect(FleetShard(index: holders.first ?? 1, count: count).contains(slug))
        }
        // A fair share each, give or take: the hash spreads them.
        #expect(sizes.allSatisfy { $0 > 500 / count / 2 })
    }

    @Test(arguments: ["1/2", "2/2", "1/1", "7/10"])
    func sharesParse(text: String) {
        #expect(FleetShard(text)?.description == text)
    }

    @Test(arguments: ["0/2", "3/2", "1/0", "1", "a/b", "1/2/3", "-1/2"])
    func badSharesAreRefused(text: String) {
        #expect(FleetShard(text) == nil)
    }

    /// Folders are searched by what files' headers say: a company file named `.txt`
    /// is found, another program's SQLite file and a stray `.db` are not.
    @Test func foldersAreSearchedByApplicationID() throws {
        try FileManager.default.createDirectory(
            atPath: folder.file("clients/deep/er"), withIntermediateDirectories: true)
        _ = try SampleCompany.generate(
            at: folder.file("clients/acme.db"), options: SampleOptions(transactions: 20, seed: 1))
        _ = try SampleCompany.generate(
            at: folder.file("clients/deep/er/west.txt"), options: SampleOptions(transactions: 20, seed: 2))
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: folder.file("clients/stray.db")))
        try Damage.apply(to: folder.file("clients/deep/other.db")) { db in
            try db.execute(sql: "CREATE TABLE t (x)")
        }
        let clients = try FleetDiscovery.clients(from: [folder.file("clients")])
        #expect(clients.map(\.name) == ["acme", "deep/er/west"])
        #expect(clients.map(\.slug) == ["acme", "deep-er-west"])
    }

    /// A list names files with an optional name after a tab or two spaces; comments and blank lines are skipped,
    /// relative paths are the list's folder's, and a name from the list wins over the stem a folder search gives.
    @Test func aListFileNamesClients() throws {
        try FileManager.default.createDirectory(atPath: folder.file("c"), withIntermediateDirectories: true)
        _ = try SampleCompany.generate(at: folder.file("c/books.db"), options: SampleOptions(transactions: 20, seed: 1))
        try Data(
            """
            # our clients
            c/books.db\tSmith & Sons

            /nowhere/gone.db  Gone Ltd
            \(folder.file("c/books.db"))
            """.utf8
        ).write(to: URL(fileURLWithPath: folder.file("list.txt")))
        let clients = try FleetDiscovery.clients(from: [folder.file("c")], list: folder.file("list.txt"))
        #expect(clients.map(\.name) == ["Smith & Sons", "Gone Ltd"])
        #expect(clients.map(\.slug) == ["smith-sons", "gone-ltd"])
        #expect(clients[0].file == folder.file("c/books.db"))
    }

    /// Two `books.db` in two client folders are named by their folders, and keep their names
    /// when another client's file comes.
    @Test func filesInClientFoldersAreNamedByTheirFolders() throws {
        for name in ["acme", "west"] {
            try FileManager.default.createDirectory(atPath: folder.file("c/" + name), withIntermediateDirectories: true)
            _ = try SampleCompany.generate(
                at: folder.file("c/\(name)/books.db"), options: SampleOptions(transactions: 20, seed: 1))
        }
        #expect(try FleetDiscovery.clients(from: [folder.file("c")]).map(\.slug) == ["acme-books", "west-books"])
        _ = try SampleCompany.generate(at: folder.file("c/books.db"), options: SampleOptions(transactions: 20, seed: 1))
        #expect(
            try FleetDiscovery.clients(from: [folder.file("c")]).map(\.slug) == ["acme-books", "books", "west-books"])
    }

    @Test func patternsFindCompanyFiles() throws {
        for name in ["a.db", "b.db"] {
            _ = try SampleCompany.generate(at: folder.file(name), options: SampleOptions(transactions: 20, seed: 1))
        }
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.file("c.db")))
        #expect(try FleetDiscovery.clients(from: [folder.file("*.db")]).map(\.name) == ["a", "b"])
    }

    /// Files a pattern matches are named by their paths inside the pattern's folder, so two
    /// `books.db` keep their names (and slugs) whether or not the other is there.
    @Test func patternsNameFilesByTheirFolders() throws {
        for name in ["acme", "west"] {
            try FileManager.default.createDirectory(atPath: folder.file("c/" + name), withIntermediateDirectories: true)
            _ = try SampleCompany.generate(
                at: folder.file("c/\(name)/books.db"), options: SampleOptions(transactions: 20, seed: 1))
        }
        let both = try FleetDiscovery.clients(from: [folder.file("c/*/books.db")])
        #expect(both.map(\.name) == ["acme/books", "west/books"])
        #expect(both.map(\.slug) == ["acme-books", "west-books"])
        #expect(try FleetDiscovery.clients(from: [folder.file("c/*")]).map(\.slug) == ["acme-books", "west-books"])
        try FileManager.default.removeItem(atPath: folder.file("c/west"))
        #expect(try FleetDiscovery.clients(from: [folder.file("c/*/books.db")]).map(\.slug) == ["acme-books"])

        #expect(FleetDiscovery.literalFolder(of: "clients/*/books.db") == "clients")
        #expect(FleetDiscovery.literalFolder(of: "*.db") == ".")
        #expect(FleetDiscovery.literalFolder(of: "/srv/c[ab]/*.db") == "/srv")
        #expect(FleetDiscovery.literalFolder(of: "/*.db") == "/")
    }

    /// A client that its record in the location says a folder or pattern found, whose file is
    /// now missing or no longer a company file, is a client still, marked lost, under its own
    /// folder. A record naming a file outside the sources, under a hidden entry, or in a folder
    /// that is not its own, is not believed.
    @Test func aClientWhoseFileIsLostStaysAClient() throws {
        try FileManager.default.createDirectory(atPath: folder.file("c/sub"), withIntermediateDirectories: true)
        for name in ["acme", "west", "sub/gone"] {
            _ = try SampleCompany.generate(
                at: folder.file("c/\(name).db"), options: SampleOptions(transactions: 20, seed: 1))
        }
        let location = folder.file("loc")
        for (slug, file) in [
            ("acme", folder.file("c/acme.db")), ("west", folder.file("c/west.db")),
            ("sub-gone", folder.file("c/sub/gone.db")), ("elsewhere", "/etc/passwd"),
            ("zzz", folder.file("c/other.db")), ("hidden", folder.file("c/.hidden/hidden.db")),
            ("dots", folder.file("c/sub/../west.db")),
        ] {
            var status = ClientStatus(client: slug, slug: slug, updatedAt: "2026-12-05T10:00:00Z")
            status.file = file
            try FileManager.default.createDirectory(atPath: location + "/" + slug, withIntermediateDirectories: true)
            try status.encoded().write(to: URL(fileURLWithPath: location + "/" + slug + "/" + ClientStatus.objectName))
        }
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: folder.file("c/west.db")))
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 100))
        try handle.close()
        try FileManager.default.removeItem(atPath: folder.file("c/sub/gone.db"))

        let clients = try FleetDiscovery.clients(from: [folder.file("c")], location: location)
        #expect(clients.map(\.slug) == ["acme", "sub-gone", "west"])
        #expect(clients.map(\.name) == ["acme", "sub/gone", "west"])
        #expect(
            clients.map(\.lost) == [
                nil,
                "no longer found: \(folder.file("c/sub/gone.db")) is missing, yet its status record says it was a client",
                "no longer found: \(folder.file("c/west.db")) is no longer a company file (its header was "
                    + "overwritten, cut short or encrypted?), yet its status record says it was a client",
            ])
        #expect(try FleetDiscovery.clients(from: [folder.file("c")]).map(\.slug) == ["acme"])
        let matched = try FleetDiscovery.clients(from: [folder.file("c/*.db")], location: location)
        #expect(matched.map(\.slug) == ["acme", "west"] && matched[1].lost != nil)
        // Named outright, a file is a client as it is: nothing is added from the records.
        #expect(try FleetDiscovery.clients(from: [folder.file("c/acme.db")], location: location).count == 1)
    }

    @Test func nothingFoundIsTheRunsFailure() throws {
        #expect(throws: FleetError.self) { try FleetDiscovery.clients(from: [folder.path]) }
        #expect(throws: FleetError.listUnreadable(path: folder.file("none.txt"))) {
            try FleetDiscovery.clients(from: [], list: folder.file("none.txt"))
        }
    }
}
