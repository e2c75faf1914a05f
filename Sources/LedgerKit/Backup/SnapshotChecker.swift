import Crypto
import Foundation

/// What checking one snapshot found.
public struct SnapshotCheck: Codable, Equatable, Sendable {
    /// Where the snapshot is: a file's path or `s3://BUCKET/KEY`.
    public var path: String
    /// Whether the snapshot passed every check.
    public var ok: Bool
    /// `clean`, `findings`, `skipped` (its manifest says no verify was run), or
    /// empty when the content could not be checked or was not read.
    public var verify: String
    /// What is wrong, for a snapshot that failed.
    public var problem: String?
    /// Whether every byte was read; false for a snapshot left out of a sample,
    /// of which only the head (its manifest) was read, and for an encrypted one
    /// no key given opens.
    public var read: Bool
    /// Whether it is encrypted.
    public var encrypted: Bool
    /// Why `restore` refuses it, whole or not; nil when it would take it.
    /// Such a snapshot is never a good copy.
    public var refused: Refusal? = nil

    /// Why `restore` refuses a snapshot (`Restorer`), as a check finds it.
    public enum Refusal: String, Codable, Sendable {
        /// Read whole, its books are another company's than its manifest
        /// names: the manifest was changed or the snapshot planted (`notAsClaimed`).
        case notAsClaimed = "not-as-claimed"
        /// This machine's key did not sign it, and signed others of its
        /// company there, or signed some that are gone (`notSignedHere`,
        /// `signedGone`): restore takes it only with `--trust-unsigned`.
        case notSignedHere = "not-signed-here"
    }
}

/// What checking a backup location found: each snapshot, and where each
/// company file's good copies stand.
public struct BackupCheck: Codable, Equatable, Sendable {
    /// Each snapshot read or listed, by path.
    public var snapshots: [SnapshotCheck]
    /// Each company file (by stem) the location holds snapshots of.
    public var companies: [CompanyStanding]
    /// Whether all is well: false when a person needs to look (a snapshot not
    /// whole, a company without a recent good copy), and for a location that
    /// holds no snapshot at all: nothing is green that was not checked.
    public var ok: Bool { !snapshots.isEmpty && snapshots.allSatisfy(\.ok) && companies.allSatisfy(\.ok) }
}

/// Reads every byte of every snapshot, like `restic check --read-data`, or
/// of a random sample of them (`--read-data-subset`).
public enum SnapshotChecker {
    /// Checks each snapshot as `check` does, and judges each company file's
    /// standing from what was found: a snapshot found not whole, whose
    /// content does not verify as its manifest says, or that restore refuses
    /// (`SnapshotCheck.refused`), is not a good copy.
    /// - Parameters:
    ///   - maxAge: the oldest a last good copy may be, in seconds.
    ///   - key: this machine's manifest key: a snapshot it did not sign,
    ///     where it signed others of its company there, is refused as restore
    ///     refuses it without `--trust-unsigned`. Nil: no snapshot is refused for that.
    public static func checkLocation(
        _ text: String, sample: Double = 1, with keys: SnapshotIdentities = SnapshotIdentities(),
        maxAge: TimeInterval?, signedBy key: ManifestKey? = nil, now: Date = Date()
    ) throws -> BackupCheck {
        let location = try SnapshotStore.open(text)
        let listing = try location.list(with: keys)
        let marked = Snapshot.marking(listing.snapshots, signedBy: key)
        var checks = try check(listing, in: location, sample: sample, with: keys)
        // Restore's rule for who signed a snapshot, asked of each, among the snapshots of its stem.
        let byStem = Dictionary(grouping: marked, by: \.stem)
        var unsigned: [String: String] = [:]
        for snapshot in marked {
            if let refusal = Restorer.unsignedRefusal(
                of: snapshot, among: byStem[snapshot.stem] ?? [], in: location.description, stem: snapshot.stem,
                signedBy: key), let reason = refusal.refusalReason
            {
                unsigned[snapshot.path] = reason
            }
        }
        for index in checks.indices where checks[index].refused == nil {
            guard let reason = unsigned[checks[index].path] else { continue }
            checks[index].refused = .notSignedHere
            checks[index].problem = checks[index].problem ?? "restore refuses it: " + reason
        }
        var verdicts: [String: String] = [:]
        for result in checks where result.read && !result.ok {
            verdicts[result.path] = result.verify.isEmpty || result.verify == "clean" ? "damaged" : result.verify
        }
        for result in checks { if let refused = result.refused { verdicts[result.path] = refused.rawValue } }
        return BackupCheck(
            snapshots: checks,
            companies: CompanyStanding.of(marked, verdicts: verdicts, maxAge: maxAge, now: now))
    }

    /// Decompresses each snapshot in the location `text` names into a private
    /// temporary file of this machine (`ScratchFolder`: never in the location,
    /// which is someone else's disk), checks its gzip CRC, size and SHA-256,
    /// and verifies the content (quick).
    /// - Parameter sample: the share of snapshots to read, from 0 (exclusive)
    ///   to 1; at least one is read. The others' heads were read by the listing.
    ///   Encrypted snapshots are read with `keys`; without one that opens them,
    ///   only their names are known and they are not read.
    public static func check(_ text: String, sample: Double = 1, with keys: SnapshotIdentities = SnapshotIdentities())
        throws -> [SnapshotCheck]
    {
        let location = try SnapshotStore.open(text)
        return try check(try location.list(with: keys), in: location, sample: sample, with: keys)
    }

    private static func check(
        _ listing: (snapshots: [Snapshot], unreadable: [SnapshotCatalog.Unreadable]),
        in location: SnapshotStore,
        sample: Double, with keys: SnapshotIdentities
    ) throws -> [SnapshotCheck] {
        let (snapshots, unreadable) = listing
        removeOldPlaintext(in: location)
        var results = unreadable.map {
            SnapshotCheck(
                path: $0.path, ok: false, verify: "", problem: $0.reason, read: false,
                encrypted: SnapshotName.isEncrypted(URL(fileURLWithPath: $0.path).lastPathComponent))
        }
        let sampled = max(1, Int((Double(snapshots.count) * sample).rounded(.up)))
        var chosen = Set(snapshots.indices.shuffled().prefix(sampled))
        // The newest incremental of each file is always read whole (docs/incremental.md).
        for stem in Set(snapshots.map(\.stem)) {
            snapshots.lastIndex { $0.stem == stem && $0.manifest?.incremental != nil }.map { _ = chosen.insert($0) }
        }
        for (index, snapshot) in snapshots.enumerated() {
            guard chosen.contains(index), let manifest = snapshot.manifest else {
                results.append(
                    SnapshotCheck(
                        path: snapshot.path, ok: true, verify: "", problem: nil, read: false,
                        encrypted: snapshot.encrypted))
                continue
            }
            let temporary = try ScratchFolder.temporaryPath(for: snapshot.path, purpose: "checking")
            defer { AtomicFile.removeDatabaseFiles(at: temporary) }
            do {
                try Restorer.decompress(snapshot, to: temporary, with: keys)
                // Books of another company than the manifest names are what restore refuses first.
                do {
                    try Restorer.refuseUnlessAsClaimed(at: temporary, manifest: manifest, snapshot: snapshot.path)
                } catch let refusal as RestoreError {
                    results.append(
                        SnapshotCheck(
                            path: snapshot.path, ok: false, verify: "",
                            problem: refusal.refusalReason.map { "restore refuses it: " + $0 }, read: true,
                            encrypted: snapshot.encrypted, refused: .notAsClaimed))
                    continue
                }
                if manifest.verify == "skipped" {
                    results.append(
                        SnapshotCheck(
                            path: snapshot.path, ok: true, verify: "skipped", problem: nil, read: true,
                            encrypted: snapshot.encrypted))
                    continue
                }
                let report = try Verifier.verify(path: temporary, quick: true)
                let verify = report.ok ? "clean" : "findings"
                let consistent = verify == manifest.verify
                results.append(
                    SnapshotCheck(
                        path: snapshot.path, ok: consistent, verify: verify,
                        problem: consistent
                            ? nil : "its manifest says \(manifest.verify), but its content verifies \(verify)",
                        read: true, encrypted: snapshot.encrypted))
            } catch let error as ObjectStorageError {
                // The location itself failed (network, credentials): not a verdict on the snapshot.
                throw error
            } catch {
                results.append(
                    SnapshotCheck(
                        path: snapshot.path, ok: false, verify: "",
                        problem: (error as? LocalizedError)?.errorDescription ?? "\(error)", read: true,
                        encrypted: snapshot.encrypted))
            }
        }
        return results.sorted { $0.path < $1.path }
    }

    /// Removes what checks by earlier versions, killed before they could clean
    /// up, left in a backup folder: decompressed and decrypted snapshots
    /// (`.NAME.checking-PID-RANDOM`, `..NAME.checking-….decrypting-PID-RANDOM`,
    /// with their `-wal`, `-shm`, `-journal`) of processes that no longer exist.
    static func removeOldPlaintext(in location: SnapshotStore) {
        guard let folder = location.store as? FolderStore else { return }
        ScratchFolder.removeLeftovers(in: folder.folder, purposes: ["checking", "decrypting"])
    }
}
