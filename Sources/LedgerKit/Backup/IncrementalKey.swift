import Crypto
import Foundation

/// A location's page key (docs/incremental.md): it keys the hashes of pages
/// and the names of packs, so neither reveals anything about the books.
struct IncrementalKey: Sendable {
    static let plainName = ".ledger-pages-key"
    static let sealedName = ".ledger-pages-key.age"

    let key: SymmetricKey

    /// The location's key, made (only if absent) when it has none: stored
    /// encrypted to `sealing` when it names anyone, else plain.
    static func load(
        from store: SnapshotStore, sealing: SnapshotRecipients, keys: SnapshotIdentities,
        near: String
    ) throws -> IncrementalKey {
        let name = sealing.isEmpty ? plainName : sealedName
        if let found = try read(name, from: store, sealed: !sealing.isEmpty, keys: keys) { return found }
        let fresh = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let staged = try IncrementalObjects.stage(
            Array((fresh.hex + "\n").utf8), sealing: sealing, near: near,
            purpose: "key.partial")
        defer { unlink(staged) }
        do {
            try store.store.create(name, from: staged, attributes: [:])
        } catch ByteStoreError.exists {
            // Another backup made it first: its key is the location's.
            if let found = try read(name, from: store, sealed: !sealing.isEmpty, keys: keys) { return found }
        }
        return IncrementalKey(key: SymmetricKey(data: fresh))
    }

    /// The location's key when it has one, read with `keys` when `sealed`.
    static func existing(in store: SnapshotStore, sealed: Bool, keys: SnapshotIdentities) throws -> IncrementalKey? {
        try read(sealed ? sealedName : plainName, from: store, sealed: sealed, keys: keys)
    }

    private static func read(
        _ name: String, from store: SnapshotStore, sealed: Bool,
        keys: SnapshotIdentities
    ) throws -> IncrementalKey? {
        guard let stored = try store.store.contents(of: name, limit: 4096) else { return nil }
        let path = store.store.path(of: name)
        let text = String(
            decoding: try IncrementalObjects.open(stored, sealed: sealed, with: keys, path: path), as: UTF8.self)
        guard let bytes = ManifestKey.bytes(hex: text.trimmingCharacters(in: .whitespacesAndNewlines)),
            bytes.count == 32
        else {
            throw BackupError.damagedSnapshot("\(path) is not a page key")
        }
        return IncrementalKey(key: SymmetricKey(data: bytes))
    }

    /// The key's own mark, kept in each incremental's manifest: 16 bytes of
    /// a keyed hash of a fixed text, in hex, which tells the key without revealing it.
    var check: String { mark("ledger page key check") }

    /// Whom `sealing` encrypts to, as a keyed hash (in hex, 16 bytes): the
    /// recipients' public keys in order, or the passphrase, or none.
    func sealedTo(_ sealing: SnapshotRecipients) -> String {
        let recipients = sealing.recipients.map(\.text).sorted()
        return mark(
            (["ledger sealed to"] + recipients + (sealing.passphrase.map { ["passphrase", $0] } ?? []))
                .joined(separator: "\n"))
    }

    private func mark(_ text: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)).prefix(16).hex
    }

    /// The 16-byte keyed hash of a page.
    func pageHash(_ page: UnsafeRawBufferPointer) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: page, using: key)).prefix(IncrementalTable.hashBytes)
    }

    /// A pack's name (without `packs/`): the keyed hash of its stored bytes,
    /// then of its index's `references` when it holds delta blobs, in hex.
    func packName(of stored: [UInt8], references: [UInt8] = []) -> String {
        var code = HMAC<SHA256>(key: key)
        code.update(data: stored)
        code.update(data: references)
        return Data(code.finalize()).hex
    }
}
