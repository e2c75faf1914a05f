import ArgumentParser
import Foundation
import LedgerKit

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take a compressed snapshot of a company file, safely, while others keep working in it.",
        discussion: """
            Writes one file <name>-<YYYYMMDD>T<HHMMSS>Z.db.gz into DIR (created if missing): an \
            ordinary gzip file ('gzip -dc' gives the company file back) whose header carries a \
            manifest with the time, the company, the SHA-256 of the content and whether a quick \
            verify found it clean. The snapshot appears only when complete. Exit status 0 on \
            success, 2 when it could not be taken (nothing is left behind), 64 bad usage.
            """)

    @Argument(help: "The company file to back up.")
    var file: String

    @Option(help: "The backup folder.")
    var to: String

    @Option(help: "manual or scheduled.")
    var kind: String = "manual"

    @Option(help: "Compression level, 1 (fastest) to 9 (smallest).")
    var level = 6

    @Flag(help: "Print the snapshot as one JSON object on stdout.")
    var json = false

    func validate() throws {
        guard ["manual", "scheduled"].contains(kind) else { throw ValidationError("--kind must be manual or scheduled.") }
        guard (1...9).contains(level) else { throw ValidationError("--level must be from 1 to 9.") }
    }

    func run() throws {
        try reportingFailures {
            let snapshot = try SnapshotWriter.take(of: file, into: to, kind: SnapshotKind(rawValue: kind)!, level: level)
            if json { return try Output.json(SnapshotListing(snapshot)) }
            let manifest = snapshot.manifest
            let ratio = manifest.databaseBytes > 0 ? Double(snapshot.bytes) / Double(manifest.databaseBytes) : 0
            Output.line("Snapshot \(snapshot.path)")
            Output.line("  \(manifest.company ?? manifest.source), \(Output.bytes(manifest.databaseBytes)) → "
                + "\(Output.bytes(snapshot.bytes)) (\(String(format: "%.0f", ratio * 100))%), verify: \(manifest.verify)")
        }
    }
}

struct SnapshotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "List the snapshots in a backup folder, oldest first.",
        discussion: "Reads only their headers. Files whose header cannot be read are flagged; exit status 1 if there are any.")

    @Argument(help: "The backup folder.")
    var folder: String

    @Flag(help: "Print a JSON array: path, bytes and every manifest field of each snapshot.")
    var json = false

    func run() throws {
        var unreadableCount = 0
        try reportingFailures {
            let (snapshots, unreadable) = try SnapshotCatalog.list(folder)
            unreadableCount = unreadable.count
            if json { return try Output.json(snapshots.map(SnapshotListing.init)) }
            for snapshot in snapshots {
                let manifest = snapshot.manifest
                let ratio = manifest.databaseBytes > 0 ? Double(snapshot.bytes) * 100 / Double(manifest.databaseBytes) : 0
                Output.line("\(manifest.createdAt)  \(manifest.kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) "
                    + "\(manifest.company ?? manifest.source)  \(Output.bytes(manifest.databaseBytes)) → \(Output.bytes(snapshot.bytes)) "
                    + "(\(String(format: "%.0f", ratio))%)  verify: \(manifest.verify)  \(snapshot.path)")
            }
            for file in unreadable { Output.message("ledger: unreadable snapshot \(file.path): \(file.reason)") }
            if snapshots.isEmpty && unreadable.isEmpty { Output.line("No snapshots in \(folder).") }
        }
        if unreadableCount > 0 { throw ExitCode(1) }
    }
}

/// A snapshot as SPEC §4 lists it: path, bytes and every manifest field, flat.
struct SnapshotListing: Encodable {
    let snapshot: Snapshot

    init(_ snapshot: Snapshot) {
        self.snapshot = snapshot
    }

    enum Keys: String, CodingKey { case path, bytes }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(snapshot.path, forKey: .path)
        try container.encode(snapshot.bytes, forKey: .bytes)
        try snapshot.manifest.encode(to: encoder)
    }
}
