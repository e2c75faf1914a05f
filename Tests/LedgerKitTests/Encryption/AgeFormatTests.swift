import Crypto
import Foundation
import Testing

@testable import LedgerKit

/// The age format against the C2SP testkit's vectors, and encryption round
/// trips, tampering and wrong keys.
@Suite struct AgeFormatTests {
    let folder = TemporaryDirectory()

    /// One testkit vector: its header fields and its age file.
    struct Vector: CustomStringConvertible {
        let name: String
        let fields: [(String, String)]
        let file: [UInt8]

        var description: String { name }
        func values(_ key: String) -> [String] { fields.filter { $0.0 == key }.map(\.1) }
    }

    static let vectorFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures/age-testkit"
    ).path

    static let vectors: [Vector] = {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: vectorFolder)) ?? []).filter {
            $0 != "SOURCE.md"
        }.sorted()
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: vectorFolder + "/" + name) else { return nil }
            let bytes = [UInt8](data)
            guard let blank = (0..<bytes.count - 1).first(where: { bytes[$0] == 10 && bytes[$0 + 1] == 10 }) else {
                return nil
            }
            let fields = String(decoding: bytes[..<blank], as: UTF8.self).split(separator: "\n").compactMap {
                line -> (String, String)? in
                guard let colon = line.range(of: ": ") else { return nil }
                return (String(line[..<colon.lowerBound]), String(line[colon.upperBound...]))
            }
            var file = Array(bytes[(blank + 2)...])
            if fields.contains(where: { $0 == ("compressed", "zlib") }), let inflater = try? Inflater(windowBits: 15) {
                var out: [UInt8] = []
                _ = try? file.withUnsafeBytes { try inflater.inflate($0) { out += $0 } }
                file = out
            }
            return Vector(name: name, fields: fields, file: file)
        }
    }()

    private static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func theTestkitHasItsVectors() {
        #expect(Self.vectors.count == 92)
    }

    @Test(arguments: vectors)
    func testkitVector(_ vector: Vector) throws {
        let keys = SnapshotIdentities(
            identities: vector.values("identity").compactMap { AgeIdentity(text: $0) },
            passphrases: vector.values("passphrase"))
        var released: [UInt8] = []
        var outcome = "success"
        do {
            try AgeFile.decrypt(ByteFeed.bytes(vector.file), with: keys) { released += $0 }
        } catch let failure as AgeFile.Failure {
            switch failure {
            case .header, .workFactor: outcome = "header failure"
            case .noMatch: outcome = "no match"
            case .hmac: outcome = "HMAC failure"
            case .payload: outcome = "payload failure"
            }
        }
        #expect(outcome == vector.values("expect").first)
        if let payload = vector.values("payload").first {
            #expect(Self.hex(Array(SHA256.hash(data: released))) == payload, "what was released before any failure")
        }
    }

    /// A passphrase stanza may ask for any scrypt work factor, and each step
    /// doubles the memory (128 · 8 · 2^N bytes: 22 is 4 GiB, and a listing
    /// opens eight heads at once): above 20 the file is refused by name, before
    /// anything is derived. Ledger writes 18.
    @Test func aPassphraseStanzaAskingAboveTwentyIsRefusedBeforeDeriving() throws {
        let backups = folder.file("backups")
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: true)
        let salt = RawBase64.encode([UInt8](repeating: 7, count: 16))
        #expect(salt.count == 22)
        let header =
            "age-encryption.org/v1\n-> scrypt \(salt) 21\n\(RawBase64.encode([UInt8](repeating: 1, count: 32)))\n"
            + "--- \(RawBase64.encode([UInt8](repeating: 2, count: 32)))\n"
        let path = backups + "/acme-20261121T020000Z.db.gz.age"
        try Data(Array(header.utf8) + [UInt8](repeating: 3, count: 16 + 100)).write(to: URL(fileURLWithPath: path))

        let started = ContinuousClock.now
        let listed = try SnapshotCatalog.list(backups, with: SnapshotIdentities(passphrases: ["correct horse"]))
        let took = ContinuousClock.now - started
        #expect(listed.snapshots.isEmpty)
        #expect(
            listed.unreadable == [
                .init(
                    path: path,
                    reason: "\(path) cannot be decrypted: its passphrase stanza asks for scrypt work factor 21, "
                        + "above the 20 ledger accepts. It was changed or cut short; use another snapshot.")
            ])
        #expect(took < .seconds(1), "refused before a derivation of 2 GiB: \(took)")
    }

    @Test func keysRoundTripThroughTheirTexts() throws {
        let identity = AgeIdentity.generate()
        #expect(identity.recipient.text.hasPrefix("age1") && identity.recipient.text.count == 62)
        #expect(try AgeRecipient(identity.recipient.text) == identity.recipient)
        #expect(AgeIdentity(text: identity.secretText)?.recipient == identity.recipient)
        #expect(identity.secretText.hasPrefix("AGE-SECRET-KEY-1"))
        #expect(!"\(identity)".contains("AGE-SECRET"), "an identity never prints its secret")
        let text = identity.recipient.text
        let lastChanged = String(text.dropLast()) + (text.hasSuffix("q") ? "p" : "q")
        for bad in ["age1", text.uppercased(), lastChanged, "ssh-ed25519 AAAA", String(text.dropLast())] {
            #expect(throws: EncryptionError.self) { try AgeRecipient(bad) }
        }
    }

    private func encrypted(_ plain: [UInt8], for recipients: SnapshotRecipients) throws -> [UInt8] {
        let input = folder.file("plain-\(UUID().uuidString)")
        let output = folder.file("sealed-\(UUID().uuidString)")
        try Data(plain).write(to: URL(fileURLWithPath: input))
        try AgeFile.encrypt(file: input, to: output, for: recipients, workFactor: 10)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
    }

    private func decrypted(_ sealed: [UInt8], with keys: SnapshotIdentities) throws -> [UInt8] {
        var out: [UInt8] = []
        try AgeFile.decrypt(ByteFeed.bytes(sealed), with: keys) { out += $0 }
        return out
    }

    @Test(arguments: [0, 1, 65_535, 65_536, 65_537, 200_000])
    func encryptionRoundTrips(size: Int) throws {
        var random = SplitMix64(seed: UInt64(size))
        let plain = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let alice = AgeIdentity.generate()
        let bob = AgeIdentity.generate()
        let sealed = try encrypted(plain, for: SnapshotRecipients(recipients: [alice.recipient, bob.recipient]))
        #expect(try decrypted(sealed, with: SnapshotIdentities(identities: [bob])) == plain)
        #expect(try decrypted(sealed, with: SnapshotIdentities(identities: [alice])) == plain)
        #expect(throws: AgeFile.Failure.noMatch) {
            try decrypted(sealed, with: SnapshotIdentities(identities: [AgeIdentity.generate()]))
        }
        let head = try AgeFile.decryptHead(
            Array(sealed.prefix(70_000)), size: Int64(sealed.count), with: SnapshotIdentities(identities: [alice]))
        #expect(head == Array(plain.prefix(65_536)))

        let locked = try encrypted(plain, for: SnapshotRecipients(passphrase: "correct horse"))
        #expect(try decrypted(locked, with: SnapshotIdentities(passphrases: ["wrong", "correct horse"])) == plain)
        // The sizes a sealed file of so many bytes can have hold both, and nothing a byte short of the payload.
        let sizes = AgeFile.sealedSizes(ofPlain: Int64(size))
        #expect(sizes.contains(Int64(sealed.count)) && sizes.contains(Int64(locked.count)))
        let single = try encrypted(plain, for: SnapshotRecipients(recipients: [alice.recipient]))
        #expect(sizes.contains(Int64(single.count)))
        #expect(!sizes.contains(Int64(single.count) - 99) && !sizes.contains(Int64(size)))
        #expect(throws: AgeFile.Failure.noMatch) {
            try decrypted(locked, with: SnapshotIdentities(passphrases: ["wrong"]))
        }
    }

    @Test func everyChangedByteIsRefusedAndNothingUnauthenticatedIsReleased() throws {
        let identity = AgeIdentity.generate()
        var random = SplitMix64(seed: 7)
        let plain = (0..<150_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let sealed = try encrypted(plain, for: SnapshotRecipients(recipients: [identity.recipient]))
        let keys = SnapshotIdentities(identities: [identity])
        for _ in 0..<300 {
            var changed = sealed
            let position = Int(random.next() % UInt64(sealed.count))
            changed[position] ^= UInt8(1 + random.next() % 255)
            var released: [UInt8] = []
            #expect(throws: AgeFile.Failure.self, "byte \(position)") {
                try AgeFile.decrypt(ByteFeed.bytes(changed), with: keys) { released += $0 }
            }
            #expect(plain.starts(with: released), "only chunks before the change were released")
        }
        // Cut short anywhere, two chunks swapped, another recipient's header.
        for length in [0, 10, 100, 200, sealed.count - 65_552, sealed.count - 1] {
            #expect(throws: AgeFile.Failure.self, "cut at \(length)") {
                try decrypted(Array(sealed.prefix(length)), with: keys)
            }
        }
        let chunk = 65_552
        let start: Int = sealed.count - (150_000 - 131_072 + 16) - 2 * chunk
        var swapped: [UInt8] = Array(sealed[..<start])
        swapped += sealed[(start + chunk)..<(start + 2 * chunk)]
        swapped += sealed[start..<(start + chunk)]
        swapped += sealed[(start + 2 * chunk)...]
        #expect(swapped.count == sealed.count)
        #expect(throws: AgeFile.Failure.self) { try decrypted(swapped, with: keys) }
        let other = try encrypted(plain, for: SnapshotRecipients(recipients: [AgeIdentity.generate().recipient]))
        #expect(throws: AgeFile.Failure.noMatch) { try decrypted(other, with: keys) }
    }

    @Test func identityFilesAreWrittenPrivateAndRefusedWhenOthersCanReadThem() throws {
        let path = folder.file("key.txt")
        let identity = try AgeKeyFiles.writeNewIdentity(to: path)
        var status = stat()
        stat(path, &status)
        #expect(status.st_mode & 0o777 == 0o600)
        #expect(try AgeKeyFiles.identities(at: path).map(\.recipient) == [identity.recipient])
        #expect(throws: EncryptionError.keyFileExists(path: path)) { try AgeKeyFiles.writeNewIdentity(to: path) }
        chmod(path, 0o644)
        #expect(throws: EncryptionError.identityFileOpen(path: path, mode: "644")) {
            try AgeKeyFiles.identities(at: path)
        }
    }

    @Test func aSecretKeyGivenAsRecipientsIsNamedAsOneAndItsPublicKeyOffered() throws {
        let path = folder.file("id.txt")
        let identity = try AgeKeyFiles.writeNewIdentity(to: path)
        let data = try #require(FileManager.default.contents(atPath: path))
        let expected = EncryptionError.secretKeyAsRecipients(path: path, publicKeys: [identity.recipient.text])
        #expect(throws: expected) { try AgeKeyFiles.recipients(in: data, from: path) }
        #expect(
            expected.errorDescription
                == "\(path) is a secret key (AGE-SECRET-KEY-1…), not a recipients file: a recipients file "
                + "holds age1… public keys. Never give a secret key to backup; give its public key instead: --encrypt-to "
                + "\(identity.recipient.text), or a recipients file holding that line ('age-keygen -y \(path)' prints it too)."
        )
        let secret = try #require(String(data: data, encoding: .utf8)?.split(separator: "\n").last.map(String.init))
        #expect(!(expected.errorDescription ?? "").contains(String(secret.dropFirst(15))), "never the secret")
        // Neither a secret nor a public key: said as a recipients file, by line.
        #expect(throws: EncryptionError.badRecipientsFile(path: path, reason: "line 2 is not an age1… recipient")) {
            try AgeKeyFiles.recipients(in: Data("# office\n\(identity.recipient.text)\nage1notakey\n".utf8), from: path)
        }
        // And the other way: a public key given as an identity.
        let recipients = folder.file("recipients.txt")
        try "\(identity.recipient.text)\n".write(toFile: recipients, atomically: true, encoding: .utf8)
        chmod(recipients, 0o600)
        #expect(
            throws: EncryptionError.badIdentityFile(
                path: recipients, reason: "line 1 is a recipient (age1…, a public key): it encrypts, but opens nothing")
        ) {
            try AgeKeyFiles.identities(at: recipients)
        }
    }
}
