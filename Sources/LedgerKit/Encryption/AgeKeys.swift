import Crypto
import Foundation

/// Why encrypting or decrypting could not be done. Each says what to do, and
/// none ever holds a key.
public enum EncryptionError: LocalizedError, Equatable, Sendable {
    case badRecipient(String)
    /// A secret key given where a recipient (a public key) belongs; `publicKey`
    /// is its recipient when it reads as a key. The key itself is not kept.
    case secretKeyAsRecipient(publicKey: String?)
    case badIdentityFile(path: String, reason: String)
    /// A file given as recipients (public keys) that is not a list of them.
    case badRecipientsFile(path: String, reason: String)
    /// A secret key given where recipients (public keys) belong; `publicKeys`
    /// are the recipients of the identities it holds that could be read.
    case secretKeyAsRecipients(path: String, publicKeys: [String])
    case identityFileOpen(path: String, mode: String)
    case keyFileExists(path: String)
    /// The header names no recipient any of the keys given can open.
    case noMatchingKey(path: String)
    /// The snapshot is encrypted and no key was given.
    case needsIdentity(path: String)
    /// The file is not a well-formed age file, or was changed.
    case damaged(path: String, reason: String)

    /// The one line a person reads; a key given is never shown past its start.
    public var errorDescription: String? {
        switch self {
        case .badRecipient(let text):
            let shown = text.count > 12 ? String(text.prefix(12)) + "…" : text
            return "'\(shown)' is not an age recipient: write it as age1… (from 'ledger key new' or age-keygen)."
        case .secretKeyAsRecipient(let publicKey):
            return "A secret key (AGE-SECRET-KEY-1…) was given as a recipient: never give a secret key to backup; "
                + (publicKey.map { "give its public key instead: --encrypt-to \($0)." }
                    ?? "give its public key instead (what 'age-keygen -y KEYFILE' prints).")
        case .badIdentityFile(let path, let reason):
            return
                "\(path) holds no usable age identity: \(reason). It should hold an AGE-SECRET-KEY-1… line, as 'ledger key new' or age-keygen write."
        case .badRecipientsFile(let path, let reason):
            return "\(path) is not a recipients file: \(reason). A recipients file holds age1… public keys, one a line "
                + "(as 'ledger key new' prints them; # comments)."
        case .secretKeyAsRecipients(let path, let publicKeys):
            let what =
                "\(path) is a secret key (AGE-SECRET-KEY-1…), not a recipients file: a recipients file holds age1… public keys. "
                + "Never give a secret key to backup; give its public key instead"
            guard !publicKeys.isEmpty else {
                return what + " (the '# public key: age1…' line above it, or what 'age-keygen -y \(path)' prints)."
            }
            let one = publicKeys.count == 1
            return what + ": --encrypt-to " + publicKeys.joined(separator: " --encrypt-to ")
                + ", or a recipients file holding \(one ? "that line" : "those lines") ('age-keygen -y \(path)' prints \(one ? "it" : "them") too)."
        case .identityFileOpen(let path, let mode):
            return
                "\(path) can be read by other users (mode \(mode)): keep identity files private with 'chmod 600 \(path)', then try again."
        case .keyFileExists(let path):
            return
                "\(path) already exists: nothing was overwritten. Choose another --out, or remove the old key only if no snapshot needs it."
        case .noMatchingKey(let path):
            return
                "None of the keys given opens \(path): it was encrypted to other recipients or another passphrase. Give the identity file it was made for (--identity)."
        case .needsIdentity(let path):
            return
                "\(path) is encrypted: give the identity file that opens it with --identity (or LEDGER_IDENTITY_FILE)."
        case .damaged(let path, let reason):
            return "\(path) cannot be decrypted: \(reason). It was changed or cut short; use another snapshot."
        }
    }
}

/// An age X25519 recipient: the public key a snapshot is encrypted to (`age1…`).
public struct AgeRecipient: Sendable, Equatable {
    let publicKey: [UInt8]

    /// - Throws: `EncryptionError.secretKeyAsRecipient` for text holding a
    ///   secret key (never kept in the error), `.badRecipient` for anything
    ///   else that is not `age1…` of a 32-byte key.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if AgeKeyFiles.holdsSecretKey(trimmed) {
            throw EncryptionError.secretKeyAsRecipient(publicKey: AgeIdentity(text: trimmed)?.recipient.text)
        }
        guard trimmed == trimmed.lowercased(), let (hrp, data) = Bech32.decode(trimmed), hrp == "age", data.count == 32
        else {
            throw EncryptionError.badRecipient(text)
        }
        publicKey = data
    }

    init(publicKey: [UInt8]) {
        self.publicKey = publicKey
    }

    /// `age1…`.
    public var text: String { Bech32.encode(hrp: "age", data: publicKey) }
}

/// An age X25519 identity: the secret key that opens snapshots encrypted to
/// its recipient. Never printed, logged or put in JSON: `CustomStringConvertible`
/// shows only the recipient.
public struct AgeIdentity: Sendable, CustomStringConvertible {
    let secret: Curve25519.KeyAgreement.PrivateKey

    /// A new random identity, as `ledger key new` makes.
    public static func generate() -> AgeIdentity {
        AgeIdentity(secret: Curve25519.KeyAgreement.PrivateKey())
    }

    init(secret: Curve25519.KeyAgreement.PrivateKey) {
        self.secret = secret
    }

    /// Reads `AGE-SECRET-KEY-1…`; nil for anything else.
    init?(text: String) {
        guard let (hrp, data) = Bech32.decode(text), hrp == "age-secret-key-", data.count == 32,
            let secret = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: data)
        else { return nil }
        self.secret = secret
    }

    /// `AGE-SECRET-KEY-1…`: for the key file only.
    var secretText: String { Bech32.encode(hrp: "age-secret-key-", data: Array(secret.rawRepresentation)).uppercased() }

    /// The public half: whom to encrypt to so this identity can open it.
    public var recipient: AgeRecipient { AgeRecipient(publicKey: Array(secret.publicKey.rawRepresentation)) }

    /// Shows only the recipient, never the secret key.
    public var description: String { "identity of \(recipient.text)" }
}

/// Key files in age's formats.
public enum AgeKeyFiles {
    /// Where `ledger key new` keeps the owner's identity, and where commands
    /// that read snapshots look when no `--identity` is given:
    /// `$XDG_CONFIG_HOME/ledger/identity.txt`, else `~/.config/ledger/identity.txt`.
    public static var defaultIdentityPath: String {
        let environment = ProcessInfo.processInfo.environment
        let config =
            environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? NSHomeDirectory() + "/.config"
        return config + "/ledger/identity.txt"
    }

    /// Writes a new identity to `path` (mode 0600, never over an existing
    /// file), as age-keygen does, and returns it.
    public static func writeNewIdentity(to path: String, now: Date = Date()) throws -> AgeIdentity {
        let identity = AgeIdentity.generate()
        let text =
            "# created: \(Timestamp.string(from: now))\n# public key: \(identity.recipient.text)\n\(identity.secretText)\n"
        let descriptor: Int32
        do {
            descriptor = try SystemCalls.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        } catch let error as SystemCallError where error.code == EEXIST {
            throw EncryptionError.keyFileExists(path: path)
        } catch let error as SystemCallError {
            throw FileError.cannotWrite(path: path, reason: error.reason)
        }
        defer { SystemCalls.close(descriptor) }
        do {
            try Array(text.utf8).withUnsafeBytes { try SystemCalls.pwrite(descriptor, $0, at: 0, path: path) }
            try SystemCalls.fsync(descriptor, path: path)
        } catch let error as SystemCallError {
            unlink(path)
            throw FileError.cannotWrite(path: path, reason: error.reason)
        }
        return identity
    }

    /// The identities in the file at `path`: `AGE-SECRET-KEY-1…` lines, `#`
    /// comments and blank lines. A file that others can read is refused, as ssh
    /// refuses a private key others can read.
    public static func identities(at path: String) throws -> [AgeIdentity] {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw EncryptionError.badIdentityFile(path: path, reason: String(cString: strerror(errno)))
        }
        guard status.st_mode & 0o077 == 0 else {
            throw EncryptionError.identityFileOpen(path: path, mode: String(status.st_mode & 0o777, radix: 8))
        }
        guard status.st_size <= 1 << 20, let data = FileManager.default.contents(atPath: path) else {
            throw EncryptionError.badIdentityFile(path: path, reason: "it cannot be read, or is too big for a key file")
        }
        var identities: [AgeIdentity] = []
        for (number, line) in lines(of: data).enumerated() {
            guard let identity = AgeIdentity(text: line) else {
                let what =
                    (try? AgeRecipient(line)) != nil
                    ? "line \(number + 1) is a recipient (age1…, a public key): it encrypts, but opens nothing"
                    : "line \(number + 1) is not an AGE-SECRET-KEY-1… key"
                throw EncryptionError.badIdentityFile(path: path, reason: what)
            }
            identities.append(identity)
        }
        guard !identities.isEmpty else { throw EncryptionError.badIdentityFile(path: path, reason: "it holds no key") }
        return identities
    }

    /// The recipients in a recipients file (age's `-R` format): `age1…` lines,
    /// `#` comments and blank lines.
    /// - Throws: `EncryptionError.secretKeyAsRecipients` for a file that holds
    ///   a secret key (an identity file), naming its public keys, never the
    ///   secret; `EncryptionError.badRecipientsFile` for any other line.
    public static func recipients(in data: Data, from path: String) throws -> [AgeRecipient] {
        let all = lines(of: data)
        if all.contains(where: { $0.uppercased().hasPrefix("AGE-SECRET-KEY-") }) {
            throw EncryptionError.secretKeyAsRecipients(
                path: path, publicKeys: all.compactMap { AgeIdentity(text: $0)?.recipient.text })
        }
        return try all.enumerated().map { number, line in
            do {
                return try AgeRecipient(line)
            } catch {
                throw EncryptionError.badRecipientsFile(
                    path: path, reason: "line \(number + 1) is not an age1… recipient")
            }
        }
    }

    /// Whether `text` holds an age secret key (`AGE-SECRET-KEY-…`, in any
    /// case): such text is never quoted in a message, not even its start.
    public static func holdsSecretKey<Text: StringProtocol>(_ text: Text) -> Bool {
        text.uppercased().contains("AGE-SECRET-KEY-")
    }

    /// The lines of a key file that are neither blank nor comments, trimmed.
    private static func lines(of data: Data) -> [String] {
        String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}
