import ArgumentParser
import Foundation
import LedgerKit

/// `ledger schedule FILE --to DIR`: a nightly (or `--every`) backup as a systemd user timer or a crontab line.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract:
            "Set up a nightly backup, or one every 15m with --every 15m --incremental: a systemd user timer, or a "
            + "crontab line with --cron; --list shows them.",
        discussion: """
            Writes <unit>.service and <unit>.timer into ~/.config/systemd/user (or --unit-dir); \
            the timer is Persistent, so a night the machine was off is caught up at the next \
            boot. Then run: systemctl --user daemon-reload && systemctl --user enable --now \
            <unit>.timer. A user timer runs only while you are logged in unless you run \
            'loginctl enable-linger USER' once. The unit is named after the file and its folder \
            (ledger-backup-acme-1f3a9c2e), so two files of one name in two folders get two \
            schedules; scheduling a file again replaces its own. The job runs this very ledger \
            program, by its full path, as 'ledger backup --kind scheduled' with the keep flags \
            and recipients, and logs to the journal. With --every (5m to 24h: minutes that divide \
            an hour, or hours that divide a day) it runs at those clock times instead of nightly; \
            add --incremental so each run stores only the pages that changed \
            (docs/incremental.md), with a full snapshot every --full-every, and --identity for a \
            location with recipients. The crontab line (--cron) sends what the \
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

    @Option(help: "The time of day, HH:MM local time (default 02:00).")
    var at: String?

    @Option(
        help: ArgumentHelp(
            "Back up every this long instead of nightly: 5m, 6m, 10m, 12m, 15m, 20m, 30m, 1h, 2h, 3h, 4h, 6h, 8h, "
                + "12h or 24h.",
            valueName: "interval"))
    var every: String?

    @OptionGroup var pages: IncrementalFlags

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
            guard file == nil, to == nil, !cron else {
                throw ValidationError("--list takes no FILE, --to or --cron: ledger schedule --list [--unit-dir DIR].")
            }
            return
        }
        guard file != nil, to != nil else {
            throw ValidationError(
                "Name the company file and where to back it up: ledger schedule FILE --to DIR (or --list).")
        }
        guard !json else { throw ValidationError("--json goes with --list.") }
        if let at, BackupSchedule.validTime(at) == nil {
            throw ValidationError("--at '\(at)' is not a time of day; write it as HH:MM, like 02:00.")
        }
        if let every {
            guard at == nil else {
                throw ValidationError(
                    "--at and --every do not go together: a nightly backup at a time, or one every so often.")
            }
            guard ScheduleInterval(every) != nil else {
                throw ValidationError(
                    "--every '\(every)' is not an interval a schedule takes; use 5m, 6m, 10m, 12m, 15m, 20m, 30m, 1h, 2h, "
                        + "3h, 4h, 6h, 8h, 12h or 24h (minutes that divide an hour, hours that divide a day).")
            }
        }
        guard pages.incremental || pages.identityFiles.isEmpty else {
            throw ValidationError("--identity goes with --incremental.")
        }
        try JobWords.check(
            [file, to, unitDir].compactMap { $0 } + named.recipientFiles + named.recipients + pages.identityFiles)
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
            let identities = pages.identityFiles.map(absolute)
            for path in identities where !FileManager.default.isReadableFile(atPath: path) {
                throw BackupError.cannotRead(path: path, reason: "no such identity file")
            }
            var schedule = BackupSchedule(
                ledger: try BackupSchedule.runningProgram(), file: absolute(file), folder: destination,
                time: at ?? "02:00", policy: keep.policy,
                environment: try BackupSchedule.jobEnvironment(
                    for: destination, from: ProcessInfo.processInfo.environment),
                recipients: try named.recipients.map(AgeRecipient.init), recipientFiles: files)
            schedule.every = every.flatMap(ScheduleInterval.init)
            if pages.incremental {
                schedule.incremental = IncrementalJob(fullEvery: pages.fullEvery.text, identityFiles: identities)
            }
            let offsite = destination.lowercased().hasPrefix("s3://")
            if cron {
                // stdout is the line alone, for the crontab; what to know goes to stderr.
                Output.line(schedule.cronLine)
                if offsite {
                    Output.message(
                        "AWS keys set in this shell are not written into the line: the job reads them from ~/.aws/credentials (chmod 600)."
                    )
                }
                return
            }
            for path in try schedule.writeUnits(into: folder) { Output.line("Wrote \(path)") }
            Output.line(
                "Now run: systemctl --user daemon-reload && systemctl --user enable --now \(schedule.unitName).timer")
            Output.line(
                "The timer runs only while you are logged in unless you run once: loginctl enable-linger \(NSUserName())"
            )
            if offsite {
                Output.line(
                    "AWS keys set in this shell are not written into the unit: put them in ~/.aws/credentials, or in a file only you can read (chmod 600) named by EnvironmentFile= in the .service."
                )
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
            let pages = schedule.incremental ? ", incremental" : ""
            Output.line(
                "\(schedule.unit): \(schedule.file ?? "(unreadable)") to \(schedule.folder ?? "(unreadable)") \(schedule.when)\(pages) (\(place))"
            )
        }
        Output.line(Output.count(schedules.count, "schedule"))
    }
}
