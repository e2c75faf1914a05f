import Foundation
import Testing

@testable import LedgerKit

/// Recipients belong to the company file's owner (docs/snapshots.md): this machine's
/// recipients file and the recipients given; a location's `.ledger-recipients`
/// is only compared with them.
@Suite struct OwnerRecipientsTests {
    let folder = TemporaryDirectory()
    let office = AgeIdentity.generate().recipient
    let laptop = AgeIdentity.generate().recipient
    let intruder = AgeIdentity.generate().recipient

    private func config(_ text: String) throws -> RecipientsConfig {
        try RecipientsConfig.parse(
            Data(text.utf8), path: "/home/office/.config/ledger/recipients", home: "/home/office")
    }

    private func refusal(_ body: () throws -> Void) -> RecipientsError? {
        do {
            try body()
            return nil
        } catch let error as RecipientsError {
            return error
        } catch {
            Issue.record("not a RecipientsError: \(error)")
            return nil
        }
    }

    @Test func theFileNamesRecipientsPerLocation() throws {
        let backups = folder.file("backups")
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder.file("nas"), withDestinationPath: backups)
        let read = try config(
            """
            # the office's books
            \(backups) \(office.text)\t\(laptop.text)   # both machines
            \r
            "\(folder.file("USB Drive"))" \(office.text)
            s3://acme-books/ledger/ \(office.text)
            ~/books \(laptop.text)
            \(backups)/ \(office.text) \(intruder.text)
            """)
        #expect(read.recipients(for: backups) == [office, laptop, intruder])
        #expect(
            read.recipients(for: folder.file("nas")) == [office, laptop, intruder], "a link to the folder is the folder"
        )
        #expect(read.recipients(for: folder.file("backups/../backups/.")) == [office, laptop, intruder])
        #expect(read.recipients(for: folder.file("USB Drive")) == [office])
        #expect(read.recipients(for: "s3://acme-books/ledger") == [office])
        #expect(read.recipients(for: "S3://acme-books/ledger/") == [office])
        #expect(read.recipients(for: "s3://acme-books/ledger/old") == [office], "a place under the location")
        #expect(read.recipients(for: "/home/office/books") == [laptop])
        #expect(read.recipients(for: folder.file("other")).isEmpty)
    }

    /// A line's recipients hold for its location and every place under it,
    /// component by component, never by a mere string prefix; the nearest
    /// location's lines count. A fleet's line thus encrypts each client's folder.
    @Test func aLocationsRecipientsHoldForEveryPlaceUnderIt() throws {
        let fleet = folder.file("fleet")
        try FileManager.default.createDirectory(atPath: fleet + "/acme", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder.file("nas"), withDestinationPath: fleet)
        let read = try config(
            """
            \(fleet) \(office.text)
            \(fleet)/acme/old \(laptop.text)
            \(fleet)/acme/old/ \(office.text)
            s3://acme-books/fleet \(office.text)
            s3://acme-books/fleet/acme/old \(intruder.text)
            """)
        #expect(read.recipients(for: fleet) == [office])
        #expect(read.recipients(for: fleet + "/acme") == [office])
        #expect(read.recipients(for: fleet + "/globex") == [office], "a client's folder not made yet")
        #expect(read.recipients(for: folder.file("nas/globex/2026")) == [office], "through a link, not made yet")
        #expect(read.recipients(for: fleet + "/acme/old") == [laptop, office])
        #expect(read.recipients(for: fleet + "/acme/old/x") == [laptop, office])
        #expect(read.recipients(for: folder.file("fleet2")).isEmpty, "not a place under the location")
        #expect(read.recipients(for: folder.file("fleet2/acme")).isEmpty)
        #expect(read.recipients(for: folder.path).isEmpty, "the place holding it")
        #expect(read.recipients(for: "s3://acme-books/fleet/globex") == [office])
        #expect(read.recipients(for: "s3://acme-books/fleet/acme/old/x") == [intruder])
        #expect(read.recipients(for: "s3://acme-books/fleet2/acme").isEmpty)
        #expect(read.recipients(for: "s3://acme-books").isEmpty)
        #expect(read.recipients(for: "s3://acme-booksx/fleet").isEmpty)
        #expect(read.recipients(for: "/acme-books/fleet/acme").isEmpty, "a folder is never a bucket's place")

        // The snapshot writer follows the same rule: a client's folder under the fleet is encrypted to it.
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 20)
        let sealed = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, config: read), into: SnapshotStore.open(fleet + "/globex"))
        #expect(sealed.encrypted)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: fleet + "/globex").filter { $0.hasSuffix(".gz") } == [])
        let plain = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, config: read), into: SnapshotStore.open(folder.file("fleet2")))
        #expect(!plain.encrypted)
    }

    /// Whoever writes the location may put a link in it that leads out of it:
    /// what is written through the link is still the owner's to encrypt.
    @Test func aLinkPlantedInACoveredFolderDoesNotTurnEncryptionOff() throws {
        let books = folder.file("nas/books")
        let outside = folder.file("nas/public")
        try FileManager.default.createDirectory(atPath: books, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: books + "/acme", withDestinationPath: "../public")
        try FileManager.default.createDirectory(atPath: outside + "/deep", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: books + "/beta", withDestinationPath: "../public/deep")
        let read = try config("\(books) \(office.text)\n\(outside)/deep \(laptop.text)")
        // Through a link to a place another line covers, it is encrypted to both owners' lines.
        #expect(read.recipients(for: books + "/beta") == [laptop, office])
        #expect(read.recipients(for: books + "/acme") == [office])
        #expect(read.recipients(for: books + "/acme/2026") == [office], "a place not made yet under the link")
        #expect(read.recipients(for: outside).isEmpty, "the folder the link leads to, named as it is")

        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 20)
        let snapshot = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, config: read), into: SnapshotStore.open(books + "/acme"))
        #expect(snapshot.encrypted)
        let written = try FileManager.default.contentsOfDirectory(atPath: outside)
        #expect(written.filter { $0.contains(".db.") } == [URL(fileURLWithPath: snapshot.path).lastPathComponent])
        #expect(snapshot.path.hasSuffix(".db.gz.age"), "\(written)")
    }

    @Test(arguments: [
        (
            "backups \(AgeIdentity.generate().recipient.text)", 1,
            "'backups' is not a full path (/…, ~/…) or s3://BUCKET/PREFIX"
        ),
        ("# fine\n/srv/backups", 2, "it names no recipient for /srv/backups"),
        ("/srv/backups age1notakey", 1, "'age1notakey' is not an age1… recipient"),
        ("\"/srv/USB Drive age1", 1, "its location's quote is not closed"),
        ("\"/srv/USB\"age1", 1, "a space must follow its quoted location"),
        ("s3://A/x age1", 1, "'s3://A/x' is not an s3://BUCKET/PREFIX location"),
        ("\u{1B}[2J age1", 1, "'?[2J' is not a full path (/…, ~/…) or s3://BUCKET/PREFIX"),
    ])
    func aLineThatDoesNotReadIsRefusedByNumber(text: String, line: Int, reason: String) {
        let error = refusal { _ = try config(text) }
        #expect(error == .badConfigLine(path: "/home/office/.config/ledger/recipients", line: line, reason: reason))
    }

    /// A secret key pasted into the file, as a recipient or as the location,
    /// in any case, is refused naming its line and its public key: not one
    /// character of it is quoted.
    @Test func aSecretKeyInTheFileIsNeverQuoted() throws {
        let identity = AgeIdentity.generate()
        let secret = identity.secretText
        let reason =
            "it holds a secret key (AGE-SECRET-KEY-1…), which must never be written here: remove it, and write "
            + "its public key, \(identity.recipient.text), in its place"
        for (text, line) in [
            ("/srv/backups \(office.text)\n/srv/books \(secret)", 2),
            ("/srv/backups \(office.text) \(secret.lowercased()) # the office", 1),
            ("# pasted\n\n\(secret)", 3),
            ("\"\(secret)\" \(office.text)", 1),
        ] {
            #expect(
                refusal { _ = try config(text) }
                    == .badConfigLine(path: "/home/office/.config/ledger/recipients", line: line, reason: reason),
                "\(text)")
        }
        // Cut or run into a path, it cannot be read as a key: still refused without a word of it.
        #expect(
            refusal { _ = try config("/srv/books\(secret.dropLast(3)) \(office.text)") }
                == .badConfigLine(
                    path: "/home/office/.config/ledger/recipients", line: 1,
                    reason: "it holds a secret key (AGE-SECRET-KEY-1…), which must never be written here: remove it, "
                        + "and write its public key (what 'age-keygen -y KEYFILE' prints) in its place"))
        #expect(throws: EncryptionError.secretKeyAsRecipient(publicKey: identity.recipient.text)) {
            _ = try AgeRecipient(" " + secret)
        }
        #expect(
            EncryptionError.secretKeyAsRecipient(publicKey: nil).errorDescription
                == "A secret key (AGE-SECRET-KEY-1…) was given as a recipient: never give a secret key to backup; "
                + "give its public key instead (what 'age-keygen -y KEYFILE' prints).")
    }

    @Test func theFileIsFoundWhereXDGSaysAndMustBeTheOwnersAlone() throws {
        #expect(
            RecipientsConfig.path(environment: ["XDG_CONFIG_HOME": "/x/config", "HOME": "/home/a"])
                == "/x/config/ledger/recipients")
        #expect(
            RecipientsConfig.path(environment: ["XDG_CONFIG_HOME": "relative", "HOME": "/home/a"])
                == "/home/a/.config/ledger/recipients")
        #expect(RecipientsConfig.path(environment: ["HOME": "/home/a"]) == "/home/a/.config/ledger/recipients")
        let environment = ["XDG_CONFIG_HOME": folder.file("config"), "HOME": folder.path]
        #expect(try RecipientsConfig.load(environment: environment) == RecipientsConfig.none(environment: environment))
        try FileManager.default.createDirectory(atPath: folder.file("config/ledger"), withIntermediateDirectories: true)
        let path = folder.file("config/ledger/recipients")
        try "/srv/backups \(office.text)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o664)
        #expect(
            refusal { _ = try RecipientsConfig.load(environment: environment) }
                == .configOpen(path: path, reason: "can be changed by other users (mode 664)"))
        chmod(path, 0o644)
        #expect(try RecipientsConfig.load(environment: environment).recipients(for: "/srv/backups") == [office])
    }

    @Test func aLocationsListIsOnlyComparedWithTheOwners() throws {
        let backups = folder.file("backups")
        let location = try SnapshotStore.open(backups, environment: [:])
        try location.prepare()
        let owner = try config("\(backups) \(office.text) \(laptop.text)\n")
        let given = SnapshotRecipients(recipients: [laptop])
        // No list there: the owner's recipients, those given first, each once.
        #expect(
            try LocationRecipients.sealing(given: given, at: location, config: owner).recipients == [laptop, office])
        #expect(
            try LocationRecipients.sealing(given: SnapshotRecipients(), at: location, config: try config("")).isEmpty)

        // The same list, in any order: accepted. One more, one fewer: refused, saying which.
        let list = backups + "/.ledger-recipients"
        try "# the office\n\(laptop.text)\n\(office.text)\n".write(toFile: list, atomically: true, encoding: .utf8)
        #expect(
            try LocationRecipients.sealing(given: SnapshotRecipients(), at: location, config: owner).recipients == [
                office, laptop,
            ])
        try "\(laptop.text)\n\(office.text)\n\(intruder.text)\n".write(toFile: list, atomically: true, encoding: .utf8)
        #expect(
            refusal { _ = try LocationRecipients.sealing(given: SnapshotRecipients(), at: location, config: owner) }
                == .locationDiffers(location: backups, added: [intruder.text], missing: [], configPath: owner.path))
        try "\(office.text)\n".write(toFile: list, atomically: true, encoding: .utf8)
        #expect(
            refusal { _ = try LocationRecipients.sealing(given: SnapshotRecipients(), at: location, config: owner) }
                == .locationDiffers(location: backups, added: [], missing: [laptop.text], configPath: owner.path))
        // A list where the owner set no one asks for encryption the owner did not configure here.
        #expect(
            refusal {
                _ = try LocationRecipients.sealing(given: SnapshotRecipients(), at: location, config: try config(""))
            }
                == .locationAsksForEncryption(location: backups, configPath: owner.path))
        try "not a key\n".write(toFile: list, atomically: true, encoding: .utf8)
        #expect(
            refusal {
                _ = try LocationRecipients.sealing(
                    given: SnapshotRecipients(recipients: [office]), at: location, config: try config(""))
            }
                == .badLocationFile(location: backups, reason: "a line is not an age1… recipient"))
        #expect(
            refusal {
                _ = try LocationRecipients.sealing(
                    given: SnapshotRecipients(passphrase: "words"), at: location, config: owner)
            }
                == .passphraseWithRecipients(location: backups, configPath: owner.path))
    }

    @Test func theMessagesSayWhatDiffersAndWhatToDo() {
        let differs = RecipientsError.locationDiffers(
            location: "/mnt/nas/books", added: ["age1aaa"], missing: ["age1bbb"],
            configPath: "/home/office/.config/ledger/recipients")
        #expect(
            differs.errorDescription
                == "/mnt/nas/books/.ledger-recipients names age1aaa, which this machine does not and lacks "
                + "age1bbb, which this machine sets; nothing was written. If the location's list is right, set the same recipients here "
                + "(--encrypt-to, or its line in /home/office/.config/ledger/recipients); if not, someone changed it: correct or remove it."
        )
        let plain = RecipientsError.plainAmongEncrypted(
            location: "/mnt/nas/books", example: "acme-20261121T020000Z.db.gz.age",
            configPath: "/home/office/.config/ledger/recipients")
        #expect(
            plain.errorDescription
                == "/mnt/nas/books holds encrypted snapshots (acme-20261121T020000Z.db.gz.age) and no "
                + "recipients are set for it on this machine, so this snapshot would be readable there by anyone; nothing was written. "
                + "Give --encrypt-to, or add the line '/mnt/nas/books age1…' to /home/office/.config/ledger/recipients."
        )
    }

    @Test func aLocationHoldingAnEncryptedSnapshotNeverReceivesAPlainOne() throws {
        let path = try Damage.sample(in: folder, name: "acme.db", transactions: 20)
        let backups = folder.file("backups")
        let none = try config("")
        _ = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, config: none), into: SnapshotStore.open(backups))
        let sealed = try SnapshotWriter.take(
            SnapshotRequest(
                of: path, kind: .manual, recipients: SnapshotRecipients(recipients: [office]),
                config: none), into: SnapshotStore.open(backups))
        let before = try FileManager.default.contentsOfDirectory(atPath: backups).sorted()
        #expect(
            refusal {
                _ = try SnapshotWriter.take(
                    SnapshotRequest(of: path, kind: .manual, config: none), into: SnapshotStore.open(backups))
            }
                == .plainAmongEncrypted(
                    location: backups, example: URL(fileURLWithPath: sealed.path).lastPathComponent,
                    configPath: none.path))
        // Nor a pre-rebuild one: refused before any work, the file untouched.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: RecipientsError.self) {
            _ = try Rebuilder.rebuild(path: path, options: RebuildOptions(backupFolder: backups))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: backups).sorted() == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") } == [])
        // With the owner's recipients, it is encrypted there.
        let again = try SnapshotWriter.take(
            SnapshotRequest(of: path, kind: .manual, config: try config("\(backups) \(office.text)")),
            into: SnapshotStore.open(backups))
        #expect(again.encrypted)
    }

    /// Seeded: any bytes are read or refused by line, never trapped on; any
    /// file of well-formed lines is read back whole.
    @Test func anyBytesAreReadOrRefusedAndWellFormedLinesRoundTrip() throws {
        var random = SplitMix64(seed: 25)
        let pieces = [
            "/srv/b", "\"/srv/a b\"", "s3://acme-books/x", "~/b", "#", " ", "\t", "\n", "\r\n", "\"", "age1",
            office.text,
            "\u{1B}", "\u{0}", "s3://", "é", "/",
        ]
        for _ in 0..<2_000 {
            let count = Int(random.next() % 24)
            let text = (0..<count).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
            var bytes = Array(text.utf8)
            if random.next() % 4 == 0, !bytes.isEmpty {
                bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            do {
                _ = try RecipientsConfig.parse(Data(bytes), path: "p", home: "/h")
            } catch let error as RecipientsError {
                guard case .badConfigLine = error else {
                    Issue.record("\(error)")
                    continue
                }
            }
        }
        for _ in 0..<200 {
            let locations = (0..<Int(random.next() % 5 + 1)).map { _ in "/srv/place\(random.next() % 1000)" }
            let keys = [office, laptop, intruder]
            var expected: [String: [AgeRecipient]] = [:]
            var text = ""
            for location in locations {
                let chosen = (0..<Int(random.next() % 3 + 1)).map { _ in keys[Int(random.next() % 3)] }
                text += location + " " + chosen.map(\.text).joined(separator: " ") + "\n"
                for key in chosen where !(expected[location] ?? []).contains(key) {
                    expected[location, default: []].append(key)
                }
            }
            let read = try RecipientsConfig.parse(Data(text.utf8), path: "p", home: "/h")
            for (location, keys) in expected { #expect(read.recipients(for: location) == keys) }
        }
    }
}
