import ArgumentParser
import Foundation
import LedgerKit

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take a compressed snapshot of a company file, safely, while others keep working in it.",
        discussion: """
            Writes one file <name>-<YYYYMMDD>T<HHMMSS>Z.db.gz into DIR (created if missing), or \
            one object of that name under s3://BUCKET/PREFIX in S3-compatible object storage \
            (configured as the AWS CLI is: AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_ENDPOINT_URL…): an \
            ordinary gzip file ('gzip -dc' gives the company file back) whose header carries a \
            manifest with the time, the company, the SHA-256 of the content and whether a quick \
            verify found it clean. With --encrypt-to, --recipients-file or --passphrase, or a \
            .ledger-recipients file in DIR, the snapshot is that gzip file encrypted with age \
            (<name>.db.gz.age; 'age -d -i KEY SNAPSHOT | gzip -dc' gives the company file back), and \
            nothing readable is written to DIR. The snapshot appears only when complete. A file another \
            program holds locked is waited for (--wait), never copied half-written. Exit status 0 on \
            success, 2 when it could not be taken (nothing is left behind), 64 bad usage.
            """)

    @Argument(help: "The company file to back up.")
    var file: String

    @Option(help: "The backup folder, or s3://BUCKET/PREFIX in object storage.")
    var to: String

    @Option(help: "manual or scheduled.")
    var kind: String = "manual"

    @Option(help: "Compression level, 1 (fastest) to 9 (smallest).")
    var level = 6

    @OptionGroup var keep: KeepOptions

    @OptionGroup var wait: WaitOption

    @Flag(name: .customLong("no-verify"), help: "Skip the quick verify of the copy (the manifest then says skipped); faster.")
    var noVerify = false

    @OptionGroup var encryption: EncryptionOptions

    @Flag(help: "Print the snapshot as one JSON object on stdout.")
    var json = false

    func validate() throws {
        guard ["manual", "scheduled"].contains(kind) else { throw ValidationError("--kind must be manual or scheduled.") }
        guard (1...9).contains(level) else { throw ValidationError("--level must be from 1 to 9.") }
    }

    func run() throws {
        try reportingFailures {
            let snapshot = try SnapshotWriter.take(of: file, into: to, kind: kind == "scheduled" ? .scheduled : .manual,
                                                   level: level, verify: !noVerify, recipients: try encryption.resolve(),
                                                   wait: wait.seconds)
            let removed = keep.policy.isEmpty ? [] : try Retention.prune(to, policy: keep.policy, dryRun: false).filter { !$0.keep }
            if json { return try Output.json(SnapshotListing(snapshot)) }
            for decision in removed { Output.line("Pruned \(decision.snapshot.path)") }
            Output.line("Snapshot \(snapshot.path)" + (snapshot.encrypted ? " (encrypted)" : ""))
            Output.line("  \(snapshot.manifest?.company ?? snapshot.source), \(sizes(snapshot)), verify: \(snapshot.manifest?.verify ?? "?")")
        }
    }
}

struct SnapshotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "List the snapshots in a backup folder or object storage, oldest first.",
        discussion: """
            Reads only their headers (in object storage, a ranged read of each object's first \
            bytes). Files whose header cannot be read are flagged; exit status 1 if there are any.
            """)

    @Argument(help: "The backup folder, or s3://BUCKET/PREFIX.")
    var folder: String

    @OptionGroup var identities: IdentityOptions

    @Flag(help: "Print a JSON array: path, bytes and every manifest field of each snapshot.")
    var json = false

    func run() throws {
        var unreadableCount = 0
        try reportingFailures {
            let (snapshots, unreadable) = try SnapshotCatalog.list(folder, with: try identities.resolve())
            unreadableCount = unreadable.count
            if json { return try Output.json(snapshots.map(SnapshotListing.init)) }
            for snapshot in snapshots {
                let kind = (snapshot.kind?.rawValue ?? "?").padding(toLength: 11, withPad: " ", startingAt: 0)
                guard let manifest = snapshot.manifest else {
                    Output.line("\(snapshot.createdAt)  \(kind) \(snapshot.source)  \(Output.bytes(snapshot.bytes))  encrypted  \(snapshot.path)")
                    continue
                }
                Output.line("\(snapshot.createdAt)  \(kind) \(manifest.company ?? manifest.source)  \(sizes(snapshot))  verify: \(manifest.verify)"
                    + (snapshot.encrypted ? "  encrypted" : "") + "  \(snapshot.path)")
            }
            for file in unreadable { Output.message("ledger: unreadable snapshot \(file.path): \(file.reason)") }
            if snapshots.isEmpty && unreadable.isEmpty { Output.line("No snapshots in \(folder).") }
        }
        if unreadableCount > 0 { throw ExitCode(1) }
    }
}

/// "1.9 MiB → 631.7 KiB (33%)": the company file's size, the snapshot's, and their ratio.
func sizes(_ snapshot: Snapshot) -> String {
    let original = snapshot.manifest?.databaseBytes ?? 0
    let ratio = original > 0 ? Double(snapshot.bytes) * 100 / Double(original) : 0
    return "\(Output.bytes(original)) → \(Output.bytes(snapshot.bytes)) (\(String(format: "%.0f", ratio))%)"
}

/// A snapshot as SPEC §4 lists it: path, bytes and every manifest field,
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

/// How long backup, rebuild and restore wait for another program to let go of
/// the company file (a write transaction, `locking_mode=EXCLUSIVE`) before they
/// refuse with exit 2, writing nothing (SPEC §4).
struct WaitOption: ParsableArguments {
    @Option(name: .customLong("wait"), help: ArgumentHelp(
        "Seconds to wait for another program that holds the company file locked, then give up (exit 2, nothing written).",
        valueName: "seconds"))
    var seconds: Double = CompanyFile.lockWait

    func validate() throws {
        guard seconds >= 0, seconds.isFinite else { throw ValidationError("--wait must be 0 or more seconds.") }
    }
}

/// The keep rules shared by backup, prune and schedule.
struct KeepOptions: ParsableArguments {
    @Option(name: .customLong("keep-last"), help: "Keep the newest N snapshots.")
    var last = 0

    @Option(name: .customLong("keep-daily"), help: "Keep the newest snapshot of each of the last N days that have one.")
    var daily = 0

    @Option(name: .customLong("keep-weekly"), help: "Keep the newest snapshot of each of the last N ISO weeks that have one.")
    var weekly = 0

    @Option(name: .customLong("keep-monthly"), help: "Keep the newest snapshot of each of the last N months that have one.")
    var monthly = 0

    var policy: RetentionPolicy { RetentionPolicy(last: last, daily: daily, weekly: weekly, monthly: monthly) }

    func validate() throws {
        guard [last, daily, weekly, monthly].allSatisfy({ $0 >= 0 }) else {
            throw ValidationError("--keep-… counts must be 0 or more.")
        }
    }
}

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the snapshots no keep rule keeps (restic's forget rules).",
        discussion: """
            A snapshot is kept if any rule keeps it; days, ISO weeks and months are those of its \
            UTC time; the newest snapshot of each company file always stays. Snapshots of each \
            company file are judged separately. --dry-run says what would go and why each kept \
            one stays, and removes nothing. In object storage, a lease object (.ledger-lease) \
            keeps two prunes, or a prune and a backup, from running at once.
            """)

    @Argument(help: "The backup folder, or s3://BUCKET/PREFIX.")
    var folder: String

    @OptionGroup var keep: KeepOptions

    @Flag(name: .customLong("dry-run"), help: "Only say what would be removed.")
    var dryRun = false

    @Flag(help: "Print the decisions as a JSON array.")
    var json = false

    func validate() throws {
        guard !keep.policy.isEmpty else {
            throw ValidationError("Give at least one rule: --keep-last, --keep-daily, --keep-weekly or --keep-monthly.")
        }
    }

    func run() throws {
        try reportingFailures {
            let decisions = try Retention.prune(folder, policy: keep.policy, dryRun: dryRun)
            if json { return try Output.json(decisions) }
            for decision in decisions {
                let verb = decision.keep ? "keep  " : (dryRun ? "would remove" : "removed")
                Output.line("\(verb) \(decision.snapshot.path)" + (decision.keep ? " (\(decision.reasons.joined(separator: ", ")))" : ""))
            }
            let gone = decisions.filter { !$0.keep }.count
            Output.line("\(decisions.count - gone) kept, \(gone) \(dryRun ? "would be removed" : "removed").")
        }
    }
}

struct CheckBackupsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-backups",
        abstract: "Read every snapshot in a backup folder completely: checksum, SHA-256 and a verify of its content.",
        discussion: """
            --read-data-subset 10% reads a random tenth of the snapshots (at least one) and only \
            the headers of the rest, as restic does: a nightly sample that covers everything in \
            time, without downloading every snapshot every night. Exit status 0 when every \
            snapshot read is whole, 1 when any is not, 2 when the location cannot be read.
            """)

    @Argument(help: "The backup folder, or s3://BUCKET/PREFIX.")
    var folder: String

    @OptionGroup var identities: IdentityOptions

    @Option(name: .customLong("read-data-subset"), help: ArgumentHelp(
        "Read this share of the snapshots completely, chosen at random; the rest by their headers.", valueName: "N%"))
    var subset: String?

    @Flag(help: "Print the results as a JSON array.")
    var json = false

    /// The share `--read-data-subset` names, from 0 (exclusive) to 1.
    private var share: Double? {
        guard let subset else { return 1 }
        let number = subset.hasSuffix("%") ? subset.dropLast() : subset[...]
        guard let percent = Double(number), percent > 0, percent <= 100 else { return nil }
        return percent / 100
    }

    func validate() throws {
        guard share != nil else {
            throw ValidationError("--read-data-subset '\(subset ?? "")' is not a share; write it like 10% (more than 0, at most 100).")
        }
    }

    func run() throws {
        var failed = 0
        try reportingFailures {
            let results = try SnapshotChecker.check(folder, sample: share ?? 1, with: try identities.resolve())
            failed = results.filter { !$0.ok }.count
            if json { return try Output.json(results) }
            for result in results {
                let sealed = result.encrypted && !result.read && result.ok
                let status = !result.ok ? "DAMAGED " : result.read ? "ok      " : sealed ? "sealed  " : "listed  "
                Output.line(status + result.path
                    + (!result.ok ? ": \(result.problem ?? "")" : result.read ? " (verify: \(result.verify))"
                        : sealed ? " (encrypted; not read: give --identity to read it)" : " (header only)"))
            }
            let read = results.filter(\.read).count
            Output.line(read == results.count ? "\(read - failed) of \(read) snapshots are whole."
                : "\(read - failed) of \(read) snapshots read are whole; \(results.count - read) more only listed.")
        }
        if failed > 0 { throw ExitCode(1) }
    }
}

struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Set up a nightly backup: a systemd user timer, or a crontab line with --cron.",
        discussion: """
            Writes <unit>.service and <unit>.timer into ~/.config/systemd/user (or --unit-dir); \
            the timer is Persistent, so a night the machine was off is caught up at the next \
            boot. Then run: systemctl --user daemon-reload && systemctl --user enable --now \
            <unit>.timer. The job runs 'ledger backup --kind scheduled' with the keep flags and \
            logs to the journal. For s3:// it keeps the AWS_ variables set now that are not \
            secrets (profile, region, endpoint); keys belong in ~/.aws/credentials.
            """)

    @Argument(help: "The company file to back up.")
    var file: String

    @Option(help: "The backup folder, or s3://BUCKET/PREFIX.")
    var to: String

    @Option(help: "The time of day, HH:MM local time.")
    var at = "02:00"

    @OptionGroup var keep: KeepOptions

    @Flag(help: "Print a crontab line instead of writing systemd units.")
    var cron = false

    @Option(name: .customLong("unit-dir"), help: "Where to write the units (default ~/.config/systemd/user).")
    var unitDir: String?

    func validate() throws {
        guard BackupSchedule.validTime(at) != nil else { throw ValidationError("--at '\(at)' is not a time of day; write it as HH:MM, like 02:00.") }
    }

    func run() throws {
        try reportingFailures {
            let absolute = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.path }
            let executable = absolute(CommandLine.arguments[0].contains("/") ? CommandLine.arguments[0] : "/usr/local/bin/ledger")
            let destination = to.lowercased().hasPrefix("s3://") ? to : absolute(to)
            let schedule = BackupSchedule(ledger: executable, file: absolute(file), folder: destination, time: at, policy: keep.policy,
                                          environment: BackupSchedule.keptEnvironment(for: destination, from: ProcessInfo.processInfo.environment))
            if cron { return Output.line(schedule.cronLine) }
            let folder = unitDir ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.config/systemd/user")
            for path in try schedule.writeUnits(into: folder) { Output.line("Wrote \(path)") }
            Output.line("Now run: systemctl --user daemon-reload && systemctl --user enable --now \(schedule.unitName).timer")
        }
    }
}
