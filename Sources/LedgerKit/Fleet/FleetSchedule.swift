import Crypto
import Foundation

/// The one nightly job `fleet schedule` sets up for a whole fleet: a systemd
/// user service and timer that back up every client, then drill the seventh of
/// them whose night it is (every client proven weekly), then build the report.
/// Times, the program's path and the kept environment are a single schedule's
/// (`BackupSchedule`).
public struct FleetSchedule: Sendable, Equatable {
    /// The full path of the `ledger` program the job runs.
    public var ledger: String
    /// Full paths of folders and list files, and patterns, as `fleet` takes them.
    public var sources: [String]
    /// A list file (`--list`), full path.
    public var list: String?
    /// The backup location: a full folder path, or `s3://BUCKET/PREFIX`.
    public var location: String
    /// `HH:MM`, local time.
    public var time: String
    /// The keep rules of each client's backups.
    public var policy: RetentionPolicy
    /// How many clients at once; nil: the cores of the machine the job runs on.
    public var jobs: Int?
    /// Variables the job runs with (`BackupSchedule.keptEnvironment`): never a key.
    public var environment: [String: String]
    /// Recipients (`age1…`) every snapshot is encrypted to.
    public var recipients: [AgeRecipient]
    /// Full paths of recipients files, read at each run.
    public var recipientFiles: [String]

    /// A fleet's nightly job; paths given in full.
    public init(
        ledger: String, sources: [String], list: String?, location: String, time: String, policy: RetentionPolicy,
        jobs: Int? = nil, environment: [String: String] = [:], recipients: [AgeRecipient] = [],
        recipientFiles: [String] = []
    ) {
        self.ledger = ledger
        self.sources = sources
        self.list = list
        self.location = location
        self.time = time
        self.policy = policy
        self.jobs = jobs
        self.environment = environment
        self.recipients = recipients
        self.recipientFiles = recipientFiles
    }

    /// `ledger-fleet-<8 hex digits of the location>`: one fleet job per location; scheduling it again replaces it.
    public var unitName: String {
        "ledger-fleet-" + Array(SHA256.hash(data: Data(location.utf8))).prefix(4).hex
    }

    private var clientWords: [String] {
        sources + (list.map { ["--list", $0] } ?? []) + ["--to", location]
            + (jobs.map { ["--jobs", String($0)] } ?? [])
    }

    /// The three commands, in order.
    var commands: [[String]] {
        var backup = [ledger, "fleet", "backup"] + clientWords + ["--kind", "scheduled"]
        for (flag, value) in [
            ("--keep-last", policy.last), ("--keep-daily", policy.daily),
            ("--keep-weekly", policy.weekly), ("--keep-monthly", policy.monthly),
        ] where value > 0 {
            backup += [flag, String(value)]
        }
        for recipient in recipients { backup += ["--encrypt-to", recipient.text] }
        for path in recipientFiles { backup += ["--recipients-file", path] }
        return [
            backup, [ledger, "fleet", "drill"] + clientWords + ["--one-in-seven"],
            [ledger, "fleet", "report", location],
        ]
    }

    /// The service: one ExecStart a command; a `-` before the first two lets the next run
    /// when a client needs attention (exit 1), so the report always sees the night.
    public var service: String {
        let variables = environment.sorted { $0.key < $1.key }.map {
            "Environment=" + BackupSchedule.systemdQuoted("\($0.key)=\($0.value)") + "\n"
        }
        let lines = commands.enumerated().map { index, words in
            "ExecStart=" + (index < 2 ? "-" : "") + words.map(BackupSchedule.systemdCommandWord).joined(separator: " ")
                + "\n"
        }
        return """
            [Unit]
            Description=Nightly ledger fleet backup, drills and report into \(BackupSchedule.specifiersEscaped(location))

            [Service]
            Type=oneshot
            \(variables.joined())\(lines.joined())Nice=10
            IOSchedulingClass=idle

            """
    }

    /// The timer: every night at `time`, caught up after a night the machine was off.
    public var timer: String {
        BackupSchedule.timer(
            describing: "Nightly ledger fleet run into \(BackupSchedule.specifiersEscaped(location)) at \(time)",
            at: time)
    }

    /// Writes `<unit>.service` and `<unit>.timer` into `folder` (made when missing); returns their paths.
    public func writeUnits(into folder: String) throws -> [String] {
        try BackupSchedule.writeUnits(named: unitName, service: service, timer: timer, into: folder)
    }
}
