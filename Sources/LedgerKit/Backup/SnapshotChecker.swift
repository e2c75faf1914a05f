import Crypto
import Foundation

/// What checking one snapshot found.
public struct SnapshotCheck: Codable, Equatable, Sendable {
    public var path: String
    public var ok: Bool
    /// `clean`, `findings`, or empty when the content could not be checked.
    public var verify: String
    /// What is wrong, for a snapshot that failed.
    public var problem: String?
}

/// Reads every byte of every snapshot, like `restic check --read-data`.
public enum SnapshotChecker {
    /// Decompresses each snapshot in `folder` into a private temporary file,
    /// checks its gzip CRC, size and SHA-256, and verifies the content (quick).
    public static func check(_ folder: String) throws -> [SnapshotCheck] {
        let (snapshots, unreadable) = try SnapshotCatalog.list(folder)
        var results = unreadable.map { SnapshotCheck(path: $0.path, ok: false, verify: "", problem: $0.reason) }
        for snapshot in snapshots {
            let temporary = AtomicFile.temporaryPath(beside: snapshot.path, purpose: "checking")
            defer { AtomicFile.removeDatabaseFiles(at: temporary) }
            do {
                try Restorer.decompress(snapshot, to: temporary)
                if snapshot.manifest.verify == "skipped" {
                    results.append(SnapshotCheck(path: snapshot.path, ok: true, verify: "skipped", problem: nil))
                    continue
                }
                let report = try Verifier.verify(path: temporary, quick: true)
                let verify = report.ok ? "clean" : "findings"
                let consistent = verify == snapshot.manifest.verify
                results.append(SnapshotCheck(path: snapshot.path, ok: consistent, verify: verify,
                                             problem: consistent ? nil : "its manifest says \(snapshot.manifest.verify), but its content verifies \(verify)"))
            } catch {
                results.append(SnapshotCheck(path: snapshot.path, ok: false, verify: "",
                                             problem: (error as? LocalizedError)?.errorDescription ?? "\(error)"))
            }
        }
        return results.sorted { $0.path < $1.path }
    }
}
