import Foundation
import LedgerKit

/// A snapshot as docs/snapshots.md lists it: path, bytes and every manifest field,
/// flat, and `encrypted: true` for an encrypted one; read without a key, an
/// encrypted one shows only its path, bytes, time (from its name) and kind
/// (where the location's metadata keeps it).
struct SnapshotListing: Encodable {
    let snapshot: Snapshot

    init(_ snapshot: Snapshot) {
        self.snapshot = snapshot
    }

    enum Keys: String, CodingKey { case path, bytes, encrypted, createdAt, kind }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(snapshot.path, forKey: .path)
        try container.encode(snapshot.bytes, forKey: .bytes)
        if snapshot.encrypted { try container.encode(true, forKey: .encrypted) }
        if let manifest = snapshot.manifest {
            try manifest.encode(to: encoder)
        } else {
            try container.encode(snapshot.createdAt, forKey: .createdAt)
            try container.encodeIfPresent(snapshot.kind, forKey: .kind)
        }
    }
}
