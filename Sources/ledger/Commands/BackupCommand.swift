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
            verify found it clean. With --encrypt-to, --recipients-file or --passphrase, or recipients \
            set for DIR in this machine's recipients file (~/.config/ledger/recipients: one line \
            'LOCATION age1… [age1…]' per location), the snapshot is that gzip file encrypted with age \
            (<name>.db.gz.age; 'age -d -i KEY SNAPSHOT | gzip -dc' gives the company file back), and \
            nothing readable is written to DIR. Recipients come from this machine only: a \
            .ledger-recipients file in DIR is compared with them, and a difference is refused (exit \
            2); so is a plain snapshot into a DIR that holds encrypted ones. The snapshot appears only when complete. A file another \
            program holds locked is waited for (--wait), never copied half-written. Keep rules \
            (--keep-…) prune as 'ledger prune' does, and always keep the newest clean snapshot. Exit \
            status 0 on success; 1 when the snapshot is written but is not a good copy (its verify \
            is not clean: findings, a file that cannot be read, or --no-verify), saying which \
            snapshot is the last good copy and its age; 2 when it could not be taken (nothing is left \
            behind); 64 bad usage.
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

    @Flag(name: .customLong("no-verify"), help: "Skip the quick verify of the copy (the manifest then says skipped); faster, but the snapshot is then not known to be a good copy (exit 1).")
    var noVerify = false

    @OptionGroup var encryption: EncryptionOptions

    @OptionGroup var listing: ListingOptions

    @Flag(help: "Print the snapshot as one JSON object on stdout.")
    var json = false

    func validate() throws {
        guard ["manual", "scheduled"].contains(kind) else { throw ValidationError("--kind must be manual or scheduled.") }
        guard (1...9).contains(level) else { throw ValidationError("--level must be from 1 to 9.") }
    }

    func run() throws {
        var goodCopy = true
        listing.apply()
        try reportingFailures {
            let run = try BackupRun.perform(of: file, into: to, kind: kind == "scheduled" ? .scheduled : .manual, level: level,
                                            verify: !noVerify, recipients: try encryption.resolve(), policy: keep.policy,
                                            signing: ManifestKey.forThisMachine(), wait: wait.seconds)
            let snapshot = run.snapshot
            goodCopy = run.isGoodCopy
            if json { return try Output.json(BackupListing(run)) }
            for decision in run.decisions where !decision.keep { Output.line("Pruned \(decision.snapshot.path)") }
            for decision in run.decisions { keptBeyondRules(decision).map(Output.line) }
            Output.line("Snapshot \(snapshot.path)" + (snapshot.encrypted ? " (encrypted)" : ""))
            Output.line("  \(snapshot.manifest?.company ?? snapshot.source), \(sizes(snapshot)), verify: \(snapshot.manifest?.verify ?? "?")")
            if !run.isGoodCopy { Output.message("ledger: " + notAGoodCopy(run, of: file, in: to)) }
        }
        if !goodCopy { throw ExitCode(1) }
    }
}

/// "Kept X: the newest clean snapshot of acme.db (the rules alone would have pruned it)", for a
/// snapshot that stays only because it is the last good copy, may be, or was just taken.
func keptBeyondRules(_ decision: RetentionDecision) -> String? {
    let snapshot = decision.snapshot
    switch decision.safeguard {
    case .newestClean?:
        return "Kept \(snapshot.path): the newest clean snapshot of \(snapshot.source) (the rules alone would have pruned it)"
    case .mayBeNewestClean?:
        return "Kept \(snapshot.path): encrypted, it may be the newest clean snapshot of \(snapshot.source); "
            + "give --identity to tell (the rules alone would have pruned it)"
    case .justTaken?:
        return "Kept \(snapshot.path): just taken (the rules alone would have pruned it)"
    case nil:
        return nil
    }
}

/// The one line a backup that is not a good copy ends with: what it is, where
/// the last good copy is, and what to do.
func notAGoodCopy(_ run: BackupRun, of file: String, in location: String) -> String {
    let verify = run.snapshot.verify ?? "?"
    let why = verify != "skipped" ? "verify: \(verify)"
        : run.verified ? "the company file cannot be read (verify: skipped)" : "it was not verified (--no-verify)"
    let stem = run.snapshot.stem
    var text = "\(run.snapshot.path) keeps the file as it is, but it is not a good copy: \(why). "
    if let standing = run.standing, let good = standing.lastGoodCopy {
        text += "The newest clean snapshot of \(stem) is \(good), taken \(standing.lastGoodCopyTakenAt ?? "?")"
            + (standing.lastGoodCopyAgeSeconds.map { " (\(Age.phrase($0)))" } ?? "") + "; keep rules always keep it."
    } else if let standing = run.standing, !standing.unknown.isEmpty {
        text += "No snapshot of \(stem) in \(location) is known to be clean; \(Output.count(standing.unknown.count, "encrypted snapshot")) "
            + "may be ('ledger snapshots \(location) --identity KEYFILE' tells); keep rules keep them."
    } else {
        text += "There is no clean snapshot of \(stem) in \(location)."
    }
    return text + " Check the file with 'ledger verify \(file)'."
}

/// How long ago, in the words a bookkeeper reads: "just now", "5 minutes ago", "3 days ago".
enum Age {
    static func phrase(_ seconds: Int) -> String {
        guard seconds >= 0 else { return "dated \(span(-seconds)) ahead of this machine's clock" }
        return seconds < 60 ? "just now" : span(seconds) + " ago"
    }

    private static func span(_ seconds: Int) -> String {
        switch seconds {
        case ..<3_600: return Output.count(max(1, seconds / 60), "minute")
        case ..<172_800: return Output.count(seconds / 3_600, "hour")
        default: return Output.count(seconds / 86_400, "day")
        }
    }
}

/// `backup --json`: the snapshot as `snapshots --json` lists it, whether it
/// is a good copy, the company file's standing (its last good copy) when the
/// location was listed, and what the keep rules removed or kept beyond themselves.
struct BackupListing: Encodable {
    let run: BackupRun

    init(_ run: BackupRun) {
        self.run = run
    }

    enum Keys: String, CodingKey { case goodCopy, standing, pruned, keptBeyondRules }

    struct Kept: Encodable {
        let path: String
        let safeguard: RetentionDecision.Safeguard
    }

    func encode(to encoder: any Encoder) throws {
        try SnapshotListing(run.snapshot).encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(run.isGoodCopy, forKey: .goodCopy)
        try container.encodeIfPresent(run.standing, forKey: .standing)
        try container.encode(run.decisions.filter { !$0.keep }.map(\.snapshot.path), forKey: .pruned)
        try container.encode(run.decisions.compactMap { decision in decision.safeguard.map { Kept(path: decision.snapshot.path, safeguard: $0) } },
                             forKey: .keptBeyondRules)
    }
}

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
                    let kind = snapshot.kind.map { "encrypted, \($0.rawValue)" } ?? "encrypted, kind unknown without --identity"
                    Output.line("\(time)  \(snapshot.source)  \(Output.bytes(snapshot.bytes))  \(kind)  \(snapshot.path)")
                    continue
                }
                let kind = manifest.kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                Output.line("\(time)  \(kind) \(manifest.company ?? manifest.source)  \(sizes(snapshot))  verify: \(manifest.verify)"
                    + (snapshot.encrypted ? "  encrypted" : "") + "  \(snapshot.path)")
            }
            let sealed = snapshots.filter { $0.manifest == nil }.count
            if sealed > 0 {
                Output.line("\(Output.count(sealed, "encrypted snapshot")) could not be read "
                    + (keys.isEmpty ? "without a key: give --identity KEYFILE" : "with the keys given: give the identity file that opens them (--identity)")
                    + " to see \(sealed == 1 ? "its" : "their") company, kind and verify.")
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

    @Option(name: .customLong("keep-daily"), help: "Keep the newest snapshot of each of the last N days (this machine's local days) that have one.")
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
            A snapshot is kept if any rule keeps it; days, ISO weeks and months are those of this \
            machine's time zone at the time it was taken (never later than the location lists it \
            written): a snapshot at 21:00 in New York counts for that evening's day. Snapshots of \
            each company file are judged separately; the newest snapshot of each, and its newest \
            clean one (its last good copy), always stay. Encrypted snapshots are judged with \
            --identity; without it, every encrypted one newer than the newest known clean one may \
            be the last good copy, and stays. --dry-run says what would go and why each kept one \
            stays, and removes nothing. In object storage, a lease object (.ledger-lease) \
            keeps two prunes, or a prune and a backup, from running at once.
            """)

    @Argument(help: "The backup folder, or s3://BUCKET/PREFIX.")
    var folder: String

    @OptionGroup var keep: KeepOptions

    @Flag(name: .customLong("dry-run"), help: "Only say what would be removed.")
    var dryRun = false

    @OptionGroup var identities: IdentityOptions

    @OptionGroup var listing: ListingOptions

    @Flag(help: "Print the decisions as a JSON array.")
    var json = false

    func validate() throws {
        guard !keep.policy.isEmpty else {
            throw ValidationError("Give at least one rule: --keep-last, --keep-daily, --keep-weekly or --keep-monthly.")
        }
    }

    func run() throws {
        listing.apply()
        try reportingFailures {
            let decisions = try Retention.prune(folder, policy: keep.policy, dryRun: dryRun, with: try identities.resolve())
            if json { return try Output.json(decisions) }
            for decision in decisions {
                if let kept = keptBeyondRules(decision) {
                    Output.line(kept)
                    continue
                }
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
        abstract: "Read every snapshot in a backup folder completely, and say when each company file's last good copy was taken.",
        discussion: """
            Each snapshot: checksum, SHA-256 and a verify of its content. Each company file \
            (by the stem its snapshots are named with): the time of its last good copy (its newest \
            clean snapshot) and its age. --read-data-subset 10% reads a random tenth of the \
            snapshots (at least one) and only the headers of the rest, as restic does: a nightly \
            sample that covers everything in time, without downloading every snapshot every night. \
            Exit status 0 when every snapshot read is whole and every company's newest snapshot is \
            clean and its last good copy younger than --max-age; 1 when not (or when encrypted \
            snapshots no --identity opens leave it unknown); 2 when the location cannot be read.
            """)

    @Argument(help: "The backup folder, or s3://BUCKET/PREFIX.")
    var folder: String

    @OptionGroup var identities: IdentityOptions

    @Option(name: .customLong("read-data-subset"), help: ArgumentHelp(
        "Read this share of the snapshots completely, chosen at random; the rest by their headers.", valueName: "N%"))
    var subset: String?

    @Option(name: .customLong("max-age"), help: ArgumentHelp(
        "How old a company's last good copy may be: 90m, 48h, 7d.", valueName: "age"))
    var maxAge = MaxAge(text: "48h", seconds: 48 * 3_600)

    @OptionGroup var listing: ListingOptions

    @Flag(help: "Print the results as one JSON object: snapshots, and companies with their last good copy.")
    var json = false

    @Flag(help: ArgumentHelp("Also restore each company file's newest snapshot into a private scratch folder, verify "
        + "it in full and compare it with its manifest (a drill): 'last proven restorable: TIME' or what failed."))
    var drill = false

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
        var ok = true
        listing.apply()
        try reportingFailures {
            let keys = try identities.resolve()
            let found = try SnapshotChecker.checkLocation(folder, sample: share ?? 1, with: keys, maxAge: maxAge.seconds)
            let drills = drill ? try FleetLocationDrill(location: folder, keys: keys) : nil
            ok = found.ok && drills?.ok != false
            if json {
                return try drills.map { try Output.json(CheckWithDrills(check: found, drills: $0)) } ?? Output.json(found)
            }
            let results = found.snapshots
            for result in results {
                let sealed = result.encrypted && !result.read && result.ok
                let status = !result.ok ? "DAMAGED " : result.read ? "ok      " : sealed ? "sealed  " : "listed  "
                Output.line(status + result.path
                    + (!result.ok ? ": \(result.problem ?? "")" : result.read ? " (verify: \(result.verify))"
                        : sealed ? " (encrypted; not read: give --identity to read it)" : " (header only)"))
            }
            for company in found.companies { standingLines(company).forEach(Output.line) }
            let read = results.filter(\.read).count, failed = results.filter { !$0.ok }.count
            let sealed = results.filter { $0.encrypted && !$0.read && $0.ok }.count
            var summary = read == results.count ? "\(read - failed) of \(read) snapshots are whole"
                : "\(read - failed) of \(read) snapshots read are whole"
            if results.count - read - sealed > 0 { summary += "; \(results.count - read - sealed) more only listed" }
            if sealed > 0 {
                summary += "; \(Output.count(sealed, "encrypted snapshot")) could not be read "
                    + (keys.isEmpty ? "without a key: give --identity KEYFILE" : "with the keys given: give the identity file that opens them (--identity)")
            }
            Output.line(summary + ".")
            drills?.lines().forEach(Output.line)
        }
        if !ok { throw ExitCode(1) }
    }

    /// "acme: last good copy 2026-12-01T02:00:00Z (3 days ago), DIR/acme-….db.gz", then a line per problem.
    private func standingLines(_ company: CompanyStanding) -> [String] {
        var lines: [String] = []
        if let good = company.lastGoodCopy {
            lines.append("\(company.stem): last good copy \(company.lastGoodCopyTakenAt ?? "?")"
                + (company.lastGoodCopyAgeSeconds.map { " (\(Age.phrase($0)))" } ?? "") + ", \(good)")
        }
        for problem in company.problems {
            switch problem {
            case .newestNotClean:
                lines.append("\(company.stem): NOT SAFE: its newest snapshot is not a good copy (verify: \(company.newestVerify ?? "?")): \(company.newest)")
            case .newestUnknown:
                lines.append("\(company.stem): NOT KNOWN: its newest snapshot is encrypted; give --identity to tell whether it is clean: \(company.newest)")
            case .noGoodCopy:
                lines.append("\(company.stem): NOT SAFE: none of its \(Output.count(company.snapshots, "snapshot")) is a good copy")
            case .goodCopyUnknown:
                lines.append("\(company.stem): NOT KNOWN: no snapshot is known to be clean; \(Output.count(company.unknown.count, "encrypted snapshot")) may be: give --identity")
            case .goodCopyTooOld:
                lines.append("\(company.stem): NOT SAFE: its last good copy is older than --max-age \(maxAge.text)")
            }
        }
        return lines
    }
}

/// A span of time like 90m, 48h or 7d (minutes, hours, days, weeks), more than zero.
struct MaxAge: ExpressibleByArgument {
    let text: String
    let seconds: TimeInterval

    init(text: String, seconds: TimeInterval) {
        self.text = text
        self.seconds = seconds
    }

    init?(argument: String) {
        let units: [Character: TimeInterval] = ["m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        guard let unit = argument.last.flatMap({ units[$0] }), let count = Int(argument.dropLast()), count > 0,
              count <= Int(Double(Int32.max) * 60 / unit) else { return nil }
        self.init(text: argument, seconds: Double(count) * unit)
    }

    var defaultValueDescription: String { text }
}

struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Set up a nightly backup: a systemd user timer, or a crontab line with --cron; --list shows them.",
        discussion: """
            Writes <unit>.service and <unit>.timer into ~/.config/systemd/user (or --unit-dir); \
            the timer is Persistent, so a night the machine was off is caught up at the next \
            boot. Then run: systemctl --user daemon-reload && systemctl --user enable --now \
            <unit>.timer. A user timer runs only while you are logged in unless you run \
            'loginctl enable-linger USER' once. The unit is named after the file and its folder \
            (ledger-backup-acme-1f3a9c2e), so two files of one name in two folders get two \
            schedules; scheduling a file again replaces its own. The job runs this very ledger \
            program, by its full path, as 'ledger backup --kind scheduled' with the keep flags \
            and recipients, and logs to the journal. The crontab line (--cron) sends what the \
            job prints to syslog (logger), leaves its error line to cron, which mails it, and \
            exits with the job's status. For s3:// it keeps the AWS_ variables set now that are \
            not secrets (profile, region, endpoint); AWS keys set in this shell are never written \
            into the unit or the line: they belong in ~/.aws/credentials, or in a file only you \
            can read (chmod 600) named by EnvironmentFile= in the service. --list shows the \
            schedules in the unit folder and the crontab. Exit status: 0 done, 2 could not (FILE \
            missing or not a company file), 64 bad usage.
            """)

    @Argument(help: "The company file to back up.")
    var file: String?

    @Option(help: "The backup folder, or s3://BUCKET/PREFIX.")
    var to: String?

    @Option(help: "The time of day, HH:MM local time.")
    var at = "02:00"

    @OptionGroup var keep: KeepOptions

    @Flag(help: "Print a crontab line instead of writing systemd units.")
    var cron = false

    @Option(name: .customLong("unit-dir"), help: "Where to write the units (default ~/.config/systemd/user).")
    var unitDir: String?

    @Flag(help: "List the nightly backups set up: the timers in the unit folder and ledger's lines in your crontab.")
    var list = false

    @Flag(help: "With --list: print a JSON array instead of text.")
    var json = false

    @OptionGroup var named: RecipientOptions

    func validate() throws {
        if list {
            guard file == nil, to == nil, !cron else { throw ValidationError("--list takes no FILE, --to or --cron: ledger schedule --list [--unit-dir DIR].") }
            return
        }
        guard file != nil, to != nil else { throw ValidationError("Name the company file and where to back it up: ledger schedule FILE --to DIR (or --list).") }
        guard !json else { throw ValidationError("--json goes with --list.") }
        guard BackupSchedule.validTime(at) != nil else { throw ValidationError("--at '\(at)' is not a time of day; write it as HH:MM, like 02:00.") }
    }

    private var folder: String {
        unitDir ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.config/systemd/user")
    }

    func run() throws {
        if list { return try listSchedules() }
        guard let file, let to else { throw ExitCode(64) }
        try reportingFailures {
            try BackupSchedule.checkCompanyFile(file)
            let absolute = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.path }
            let destination = to.lowercased().hasPrefix("s3://") ? to : absolute(to)
            let files = named.recipientFiles.map(absolute)
            for path in files where !FileManager.default.isReadableFile(atPath: path) {
                throw BackupError.cannotRead(path: path, reason: "no such recipients file")
            }
            let schedule = BackupSchedule(ledger: try BackupSchedule.runningProgram(), file: absolute(file), folder: destination,
                                          time: at, policy: keep.policy,
                                          environment: BackupSchedule.keptEnvironment(for: destination, from: ProcessInfo.processInfo.environment),
                                          recipients: try named.recipients.map(AgeRecipient.init), recipientFiles: files)
            let offsite = destination.lowercased().hasPrefix("s3://")
            if cron {
                // stdout is the line alone, for the crontab; what to know goes to stderr.
                Output.line(schedule.cronLine)
                if offsite {
                    Output.message("AWS keys set in this shell are not written into the line: the job reads them from ~/.aws/credentials (chmod 600).")
                }
                return
            }
            for path in try schedule.writeUnits(into: folder) { Output.line("Wrote \(path)") }
            Output.line("Now run: systemctl --user daemon-reload && systemctl --user enable --now \(schedule.unitName).timer")
            Output.line("The timer runs only while you are logged in unless you run once: loginctl enable-linger \(NSUserName())")
            if offsite {
                Output.line("AWS keys set in this shell are not written into the unit: put them in ~/.aws/credentials, or in a file only you can read (chmod 600) named by EnvironmentFile= in the .service.")
            }
        }
    }

    private func listSchedules() throws {
        let schedules = BackupSchedule.existing(unitFolder: folder, crontab: BackupSchedule.currentCrontab())
        if json { return try Output.json(schedules) }
        if schedules.isEmpty {
            return Output.line("No nightly backups: no ledger timer in \(folder) and no ledger line in your crontab.")
        }
        for schedule in schedules {
            let place = schedule.kind == .systemd ? "systemd timer \(schedule.path ?? schedule.unit)" : "crontab line"
            Output.line("\(schedule.unit): \(schedule.file ?? "(unreadable)") to \(schedule.folder ?? "(unreadable)") at \(schedule.time ?? "(unreadable)") (\(place))")
        }
        Output.line(Output.count(schedules.count, "schedule"))
    }
}
