import ArgumentParser
import Foundation
import LedgerKit

/// `ledger snapshots DIR|s3://…`: the snapshots a store holds, oldest first.
struct SnapshotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "List the snapshots in a backup folder or object storage, oldest first.",
        discussion: """
            Reads only their headers (in object storage, a ranged read of each object's first \
            bytes). Times are shown in this machine's time zone with their offset \
            (2026-11-20 21:00:00 -05:00); --json gives them in UTC as the manifests hold them. \
            Encrypted snapshots no key opens are listed by their name's time, their size and the \
            kind the location keeps (in object storage), with one line counting them; that alone \
            is not a failure (check-backups judges them). Files whose header cannot be read are \
            flagged; exit status 1 if there are any.
            """)

    @Argument(help: "The backup folder, or s3://BUCKET/PREFIX.")
    var folder: String

    @OptionGroup var identities: IdentityOptions

    @OptionGroup var listing: ListingOptions

    @Flag(help: "Print a JSON array: path, bytes and every manifest field of each snapshot.")
    var json = false

    func run() throws {
        var unreadableCount = 0
        listing.apply()
        try reportingFailures {
            let keys = try identities.resolve()
            let (snapshots, unreadable) = try SnapshotCatalog.list(folder, with: keys)
            unreadableCount = unreadable.count
            if json { return try Output.json(snapshots.map(SnapshotListing.init)) }
            for snapshot in snapshots {
                // Local time with its offset, for a person; a time that is not one is shown as written.
                let time = Timestamp.parse(snapshot.createdAt).map { PointInTime.localText($0) } ?? snapshot.createdAt
                guard let manifest = snapshot.manifest else {
                    let kind =
                        snapshot.kind.map { "encrypted, \($0.rawValue)" }
                        ?? "encrypted, kind unknown without --identity"
                    Output.line(
                        "\(time)  \(snapshot.source)  \(Output.bytes(snapshot.bytes))  \(kind)  \(snapshot.path)")
                    continue
                }
                let kind = manifest.kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                Output.line(
                    "\(time)  \(kind) \(manifest.company ?? manifest.source)  \(BackupText.sizes(snapshot))  verify: \(manifest.verify)"
                        + (snapshot.encrypted ? "  encrypted" : "") + "  \(snapshot.path)")
            }
            let sealed = snapshots.filter { $0.manifest == nil }.count
            if sealed > 0 {
                Output.line(
                    "\(Output.count(sealed, "encrypted snapshot")) could not be read "
                        + (keys.isEmpty
                            ? "without a key: give --identity KEYFILE"
                            : "with the keys given: give the identity file that opens them (--identity)")
                        + " to see \(sealed == 1 ? "its" : "their") company, kind and verify.")
            }
            for file in unreadable { Output.message("ledger: unreadable snapshot \(file.path): \(file.reason)") }
            if snapshots.isEmpty && unreadable.isEmpty { Output.line("No snapshots in \(folder).") }
        }
        if unreadableCount > 0 { throw ExitCode(1) }
    }
}
