import Crypto
import CryptoExtras
import Foundation

/// Who can open what `backup` encrypts: age X25519 recipients, and/or one
/// passphrase (age's scrypt recipient, which must then be the only one).
public struct SnapshotRecipients: Sendable {
    /// The age public keys (`age1…`) a snapshot is encrypted to.
    public var recipients: [AgeRecipient]
    /// A passphrase to encrypt with instead; age allows no other recipient with it.
    public var passphrase: String?

    /// Who can open what `backup` encrypts; empty means no encryption.
    public init(recipients: [AgeRecipient] = [], passphrase: String? = nil) {
        self.recipients = recipients
        self.passphrase = passphrase
    }

    /// True when nobody is named: the snapshot is not encrypted.
    public var isEmpty: Bool { recipients.isEmpty && passphrase == nil }
}

/// What can open encrypted snapshots: identities and passphrases.
public struct SnapshotIdentities: Sendable {
    /// Secret keys that may open an encrypted snapshot.
    public var identities: [AgeIdentity]
    /// Passphrases that may open an encrypted snapshot.
    public var passphrases: [String]

    /// What to try when opening encrypted snapshots.
    public init(identities: [AgeIdentity] = [], passphrases: [String] = []) {
        self.identities = identities
        self.passphrases = passphrases
    }

    /// True when there is nothing to open an encrypted snapshot with.
    public var isEmpty: Bool { identities.isEmpty && passphrases.isEmpty }
}

/// The age v1 file format (C2SP age), written from its specification: a text
/// header of recipient stanzas wrapping a random 16-byte file key, closed by
/// an HMAC, then a 16-byte nonce and the payload in STREAM chunks of 64 KiB,
/// each sealed with ChaCha20-Poly1305. All crypto is swift-crypto's.
enum AgeFile {
    static let intro = Array("age-encryption.org/v1".utf8)
    static let chunkSize = 64 * 1024
    static let sealedChunkSize = chunkSize + 16
    /// The scrypt work factor ledger writes: age's, 256 MiB (128 · r · 2^18 bytes, r = 8).
    static let scryptWorkFactor = 18
    /// The most a file's passphrase stanza may ask to open it: 1 GiB. A file
    /// in a location someone else can write may ask for any work factor, and
    /// each step doubles the memory (22 is 4 GiB); ledger writes 18.
    static let maxScryptWorkFactor = 20
    /// No header of a real file comes near this; a longer one is refused unread.
    static let maxHeaderBytes = 64 * 1024
    /// The reason of a header that needs more bytes than were given.
    static let cutShort = "the header is cut short"

    /// The sizes an age file of `plain` bytes can have: its payload (the
    /// nonce, then every chunk with its tag; an empty file has one empty
    /// chunk) after a header of at least its first and last lines, at most
    /// `maxHeaderBytes`.
    static func sealedSizes(ofPlain plain: Int64) -> ClosedRange<Int64> {
        let chunks = plain == 0 ? 1 : (plain + Int64(chunkSize) - 1) / Int64(chunkSize)
        let payload = 16 + plain + 16 * chunks
        // "age-encryption.org/v1\n" and "--- " with the 43 characters of the MAC and "\n".
        let shortestHeader = Int64(intro.count + 1 + 4 + 43 + 1)
        return (payload + shortestHeader)...(payload + Int64(maxHeaderBytes))
    }

    struct Stanza: Equatable {
        var type: String
        var arguments: [String]
        var body: [UInt8]
    }

    struct Header {
        var stanzas: [Stanza]
        /// The header's bytes up to and including `---`: what the HMAC covers.
        var macInput: [UInt8]
        var mac: [UInt8]
        /// The header's length in bytes, its last newline included.
        var length: Int
    }

    /// Why a file did not open, in the testkit's terms.
    enum Failure: Error, Equatable {
        case header(String)
        /// A well-formed scrypt stanza asking for more than `maxScryptWorkFactor`
        /// (a header failure, to the testkit).
        case workFactor(Int)
        case noMatch
        case hmac
        case payload(String)
    }

    // MARK: Header

    /// Parses the header at the start of `bytes`, which must hold all of it.
    static func parseHeader(_ bytes: [UInt8]) throws(Failure) -> Header {
        var position = 0
        func line() throws(Failure) -> ArraySlice<UInt8> {
            guard position < bytes.count, position < maxHeaderBytes,
                let end = bytes[position...].firstIndex(of: 10)
            else { throw .header(cutShort) }
            let text = bytes[position..<end]
            position = end + 1
            return text
        }
        guard try line().elementsEqual(intro) else { throw .header("it is not an age v1 file") }
        var stanzas: [Stanza] = []
        while true {
            let start = position
            let text = try line()
            if text.starts(with: Array("---".utf8)) {
                guard text.count == 4 + 43, text[text.startIndex + 3] == 32,
                    let mac = RawBase64.decode(text.dropFirst(4)), mac.count == 32
                else { throw .header("its MAC line is malformed") }
                return Header(stanzas: stanzas, macInput: Array(bytes[0..<start + 3]), mac: mac, length: position)
            }
            guard text.starts(with: Array("-> ".utf8)) else { throw .header("a line is neither a stanza nor the MAC") }
            let words = text.dropFirst(3).split(separator: 32, omittingEmptySubsequences: false)
            guard !words.isEmpty, words.allSatisfy({ !$0.isEmpty && $0.allSatisfy { (33...126).contains($0) } }) else {
                throw .header("a stanza's arguments are malformed")
            }
            var body: [UInt8] = []
            while true {
                let bodyLine = try line()
                guard bodyLine.count <= 64 else { throw .header("a stanza's body line is too long") }
                body += bodyLine
                if bodyLine.count < 64 { break }
            }
            guard let decoded = RawBase64.decode(body) else { throw .header("a stanza's body is not canonical base64") }
            let strings = words.map { String(decoding: $0, as: UTF8.self) }
            stanzas.append(Stanza(type: strings[0], arguments: Array(strings.dropFirst()), body: decoded))
        }
    }

    /// The header text for `stanzas` and the MAC made with `fileKey`.
    static func header(_ stanzas: [Stanza], fileKey: [UInt8]) -> [UInt8] {
        var text = intro + [10]
        for stanza in stanzas {
            text += Array(("-> " + ([stanza.type] + stanza.arguments).joined(separator: " ") + "\n").utf8)
            let body = Array(RawBase64.encode(stanza.body).utf8)
            var offset = 0
            repeat {
                let end = min(offset + 64, body.count)
                text += body[offset..<end] + [10]
                offset += 64
            } while offset <= body.count
        }
        text += Array("---".utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: text, using: headerKey(fileKey))
        return text + Array((" " + RawBase64.encode(Array(mac)) + "\n").utf8)
    }

    private static func headerKey(_ fileKey: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: fileKey), salt: [UInt8](), info: Array("header".utf8),
            outputByteCount: 32)
    }

    // MARK: Recipients

    static let x25519Label = Array("age-encryption.org/v1/X25519".utf8)
    static let scryptLabel = Array("age-encryption.org/v1/scrypt".utf8)
    private static let zeroNonce: ChaChaPoly.Nonce? = try? ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12))

    /// A new random file key wrapped for each recipient.
    static func stanzas(
        for recipients: SnapshotRecipients, fileKey: [UInt8],
        workFactor: Int = scryptWorkFactor
    ) throws -> [Stanza] {
        guard let nonce = zeroNonce else { throw Failure.header("no nonce") }
        var stanzas: [Stanza] = []
        for recipient in recipients.recipients {
            let ephemeral = Curve25519.KeyAgreement.PrivateKey()
            let share = Array(ephemeral.publicKey.rawRepresentation)
            let secret = try ephemeral.sharedSecretFromKeyAgreement(with: .init(rawRepresentation: recipient.publicKey))
            let key = secret.hkdfDerivedSymmetricKey(
                using: SHA256.self, salt: share + recipient.publicKey, sharedInfo: x25519Label,
                outputByteCount: 32)
            let sealed = try ChaChaPoly.seal(fileKey, using: key, nonce: nonce)
            stanzas.append(
                Stanza(
                    type: "X25519", arguments: [RawBase64.encode(share)], body: Array(sealed.ciphertext + sealed.tag)))
        }
        if let passphrase = recipients.passphrase {
            let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
            let key = try scryptKey(passphrase, salt: salt, workFactor: workFactor)
            let sealed = try ChaChaPoly.seal(fileKey, using: key, nonce: nonce)
            stanzas.append(
                Stanza(
                    type: "scrypt", arguments: [RawBase64.encode(salt), String(workFactor)],
                    body: Array(sealed.ciphertext + sealed.tag)))
        }
        return stanzas
    }

    /// Held for each scrypt derivation, so a process needs the memory of one
    /// (up to 1 GiB) at a time, not of every snapshot listed at once (8 at a
    /// time). swift-crypto ignores `maxMemory`, so this is the bound.
    private static let scryptLock = NSLock()

    private static func scryptKey(_ passphrase: String, salt: [UInt8], workFactor: Int) throws -> SymmetricKey {
        try scryptLock.withLock {
            try KDF.Scrypt.deriveKey(
                from: Array(passphrase.utf8), salt: scryptLabel + salt, outputByteCount: 32,
                rounds: 1 << workFactor, blockSize: 8, parallelism: 1,
                maxMemory: 128 * 8 * (1 << workFactor) + (1 << 20))
        }
    }

    /// The file key, unwrapped by one of `keys` and checked against the header's MAC.
    static func fileKey(of header: Header, with keys: SnapshotIdentities) throws(Failure) -> [UInt8] {
        let scrypt = header.stanzas.filter { $0.type == "scrypt" }
        if !scrypt.isEmpty && header.stanzas.count > 1 { throw .header("an scrypt stanza must be the only one") }
        var found: [UInt8]?
        for stanza in header.stanzas where found == nil {
            switch stanza.type {
            case "X25519": found = try unwrapX25519(stanza, keys.identities)
            case "scrypt": found = try unwrapScrypt(stanza, keys.passphrases)
            default: continue  // Another kind of recipient (a plugin's, or grease).
            }
        }
        guard let fileKey = found else { throw .noMatch }
        let mac = HMAC<SHA256>.authenticationCode(for: header.macInput, using: headerKey(fileKey))
        guard Array(mac) == header.mac else { throw .hmac }
        return fileKey
    }

    private static func unwrapX25519(_ stanza: Stanza, _ identities: [AgeIdentity]) throws(Failure) -> [UInt8]? {
        guard stanza.arguments.count == 1, let share = RawBase64.decode(Array(stanza.arguments[0].utf8)),
            share.count == 32
        else {
            throw .header("an X25519 stanza's share is malformed")
        }
        guard stanza.body.count == 32 else { throw .header("an X25519 stanza's body is not a wrapped 16-byte key") }
        guard let theirs = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: share) else {
            throw .header("bad share")
        }
        for identity in identities {
            // An all-zero shared secret (a low-order share) is refused, as age refuses it.
            guard let secret = try? identity.secret.sharedSecretFromKeyAgreement(with: theirs),
                !secret.withUnsafeBytes({ $0.allSatisfy { $0 == 0 } })
            else {
                throw .header("the X25519 share is a low-order point")
            }
            let ours = Array(identity.secret.publicKey.rawRepresentation)
            let key = secret.hkdfDerivedSymmetricKey(
                using: SHA256.self, salt: share + ours, sharedInfo: x25519Label, outputByteCount: 32)
            if let fileKey = open(stanza.body, with: key) { return fileKey }
        }
        return nil
    }

    private static func unwrapScrypt(_ stanza: Stanza, _ passphrases: [String]) throws(Failure) -> [UInt8]? {
        guard stanza.arguments.count == 2, let salt = RawBase64.decode(Array(stanza.arguments[0].utf8)),
            salt.count == 16
        else {
            throw .header("an scrypt stanza's salt is malformed")
        }
        let factor = stanza.arguments[1]
        guard factor.utf8.allSatisfy({ (48...57).contains($0) }), !factor.hasPrefix("0"), let workFactor = Int(factor),
            workFactor >= 1
        else {
            throw .header("an scrypt stanza's work factor is malformed")
        }
        // Refused before any derivation: 21 would take 2 GiB, 22 4 GiB.
        guard workFactor <= maxScryptWorkFactor else { throw .workFactor(workFactor) }
        guard stanza.body.count == 32 else { throw .header("an scrypt stanza's body is not a wrapped 16-byte key") }
        for passphrase in passphrases {
            guard let key = try? scryptKey(passphrase, salt: salt, workFactor: workFactor) else { continue }
            if let fileKey = open(stanza.body, with: key) { return fileKey }
        }
        return nil
    }

    private static func open(_ body: [UInt8], with key: SymmetricKey) -> [UInt8]? {
        guard let nonce = zeroNonce,
            let box = try? ChaChaPoly.SealedBox(nonce: nonce, ciphertext: body.prefix(16), tag: body.suffix(16)),
            let opened = try? ChaChaPoly.open(box, using: key)
        else { return nil }
        return Array(opened)
    }

    // MARK: Payload

    static func payloadKey(fileKey: [UInt8], nonce: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: fileKey), salt: nonce, info: Array("payload".utf8),
            outputByteCount: 32)
    }

    /// The nonce of chunk `counter`: an 11-byte big-endian counter and a last-chunk flag.
    static func chunkNonce(_ counter: UInt64, last: Bool) throws -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for index in 0..<8 { bytes[10 - index] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(index))) }
        bytes[11] = last ? 1 : 0
        return try ChaChaPoly.Nonce(data: bytes)
    }

    /// Opens one sealed chunk, as age does: a short chunk is the last one; a
    /// full one is tried as a middle chunk, then as the last.
    static func openChunk(_ sealed: ArraySlice<UInt8>, key: SymmetricKey, counter: UInt64) throws(Failure) -> (
        plain: [UInt8], last: Bool
    ) {
        let short = sealed.count < sealedChunkSize
        if let plain = open(sealed, key: key, counter: counter, last: short) { return (plain, short) }
        if !short, let plain = open(sealed, key: key, counter: counter, last: true) { return (plain, true) }
        throw .payload("chunk \(counter + 1) does not authenticate")
    }

    private static func open(_ sealed: ArraySlice<UInt8>, key: SymmetricKey, counter: UInt64, last: Bool) -> [UInt8]? {
        guard sealed.count >= 16, let nonce = try? chunkNonce(counter, last: last),
            let box = try? ChaChaPoly.SealedBox(nonce: nonce, ciphertext: sealed.dropLast(16), tag: sealed.suffix(16)),
            let plain = try? ChaChaPoly.open(box, using: key)
        else { return nil }
        return Array(plain)
    }
}
