import Crypto
import Foundation

/// The job `ledger schedule` sets up: a systemd user service and timer (or a
/// crontab line) that run `ledger backup --kind scheduled` with the keep flags,
/// each night or every `--every` (then usually `--incremental`).
public struct BackupSchedule: Sendable, Equatable {
    /// The full path of the ledger program the job runs.
    public var ledger: String
    /// The company file to back up.
    public var file: String
    /// Where the snapshots go: a folder or `s3://BUCKET/PREFIX`.
    public var folder: String
    /// `HH:MM`, local time.
    public var time: String
    /// The keep rules each night's backup applies.
    public var policy: RetentionPolicy
    /// Variables the job runs with: where this machine's recipients file is
    /// (`XDG_CONFIG_HOME`, when set), and for object storage the AWS settings
    /// that are not secrets (keys belong in `~/.aws/credentials`, not in a unit file).
    public var environment: [String: String]
    /// Recipients (`age1…`) every snapshot is encrypted to (`--encrypt-to`).
    public var recipients: [AgeRecipient]
    /// Full paths of recipients files (`--recipients-file`), read at each run.
    public var recipientFiles: [String]
    /// How often the job runs (`--every`); nil for once a night at `time`.
    public var every: ScheduleInterval?
    /// The flags of an incremental backup (`--incremental`); nil for full snapshots.
    public var incremental: IncrementalJob?

    /// A nightly backup of `file` into `folder` at `time` (`HH:MM`, local).
    public init(
        ledger: String, file: String, folder: String, time: String, policy: RetentionPolicy,
        environment: [String: String] = [:], recipients: [AgeRecipient] = [], recipientFiles: [String] = []
    ) {
        self.ledger = ledger
        self.file = file
        self.folder = folder
        self.time = time
        self.policy = policy
        self.environment = environment
        self.recipients = recipients
        self.recipientFiles = recipientFiles
    }

    /// When the job runs, as people read it: `at 02:00`, `every 15m`.
    public var when: String {
        every.map { "every \($0.text)" } ?? "at \(time)"
    }

    /// The variables of `environment` a job writing to `folder` needs kept:
    /// `XDG_CONFIG_HOME` (the job reads the same recipients file as this
    /// shell); for `s3://`, also the profile, region, endpoint and
    /// addressing, never a key or token.
    public static func keptEnvironment(for folder: String, from environment: [String: String]) -> [String: String] {
        var kept = ["XDG_CONFIG_HOME"]
        if folder.lowercased().hasPrefix("s3://") {
            kept += [
                "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "LEDGER_S3_ADDRESSING",
            ]
        }
        // A value with a line break could start a new line of the unit or the crontab: left out. An
        // endpoint is kept without a user name or password (S3 never uses them): a unit is no place for one.
        let endpoints: Set = ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
        var chosen: [String: String] = [:]
        for (name, value) in environment where kept.contains(name) {
            guard let value = endpoints.contains(name) ? S3Configuration.withoutUserInfo(value) : value,
                !value.isEmpty, !holdsControlCharacters(value)
            else { continue }
            chosen[name] = value
        }
        return chosen
    }

    /// `keptEnvironment`, refusing an endpoint it would leave out (one whose
    /// user name and password cannot be taken out of it, or with a line
    /// break): without it, the job would write to another place than this shell does.
    /// - Throws: `ObjectStorageError.badConfiguration`.
    public static func jobEnvironment(for folder: String, from environment: [String: String]) throws
        -> [String: String]
    {
        let kept = keptEnvironment(for: folder, from: environment)
        guard folder.lowercased().hasPrefix("s3://") else { return kept }
        for name in ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
        where !(environment[name] ?? "").isEmpty && kept[name] == nil {
            throw ObjectStorageError.badConfiguration(
                "\(name) cannot be written into the job (a user name or password that cannot be taken out, or a line break); give it as https://HOST:PORT"
            )
        }
        return kept
    }

    /// Whether `word` has a line break or another control character, which a
    /// unit file or a crontab line cannot hold safely: a line break there starts
    /// a new setting or a new crontab entry. The C1 controls (U+0085 among
    /// them), the line and paragraph separators and the invisible direction
    /// marks count too: a terminal cannot show them as they are, so the
    /// crontab line `schedule --cron` prints would name another path.
    public static func holdsControlCharacters(_ word: String) -> Bool {
        word.unicodeScalars.contains {
            switch $0.value {
            case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
            default: false
            }
        }
    }

    /// The full path of the running `ledger` program, as the kernel knows it
    /// (`/proc/self/exe`): a job at night has no PATH of the shell it was set
    /// up from, and a bare name or a relative path there names nothing.
    /// - Throws: `BackupError.cannotRead` when the system does not say, or the
    ///   program was removed since it started.
    public static func runningProgram(link: String = "/proc/self/exe") throws -> String {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: link), path.hasPrefix("/") else {
            throw BackupError.cannotRead(
                path: link,
                reason:
                    "this system does not say where the running ledger program is, and a schedule needs its full path")
        }
        guard !path.hasSuffix(" (deleted)") else {
            throw BackupError.cannotRead(
                path: link,
                reason:
                    "the running ledger program was removed or replaced since it started; run the schedule command again"
            )
        }
        return path
    }

    /// Nil unless `time` is `HH:MM` of a real time of day.
    public static func validTime(_ time: String) -> (hour: Int, minute: Int)? {
        let parts = time.split(separator: ":")
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isNumber) }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), hour < 24, minute < 60
        else { return nil }
        return (hour, minute)
    }

    /// The unit names (and a crontab line's `logger` tag), from the company
    /// file's name and its full path: `ledger-backup-acme-1f3a9c2e`. The name
    /// alone is not enough: `clientA/books.db` and `clientB/books.db` would
    /// share units, and scheduling the second would silently replace the
    /// first. The 8 hex digits (SHA-256 of `file`) tell them apart and stay the
    /// same for the same file, so scheduling it again replaces its own units.
    public var unitName: String {
        let stem = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let safe = String(
            stem.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "-" })
        return Self.unitPrefix + safe + "-" + Array(SHA256.hash(data: Data(file.utf8))).prefix(4).hex
    }

    /// What every unit and `logger` tag ledger writes begins with.
    public static let unitPrefix = "ledger-backup-"

    /// Refuses, before anything is written, a `file` that is not there or not
    /// a company file (`CompanyFileError`), so a schedule never backs up nothing
    /// night after night. Reads only the file's header.
    public static func checkCompanyFile(_ file: String) throws {
        let header = try FileHeader.read(path: file)
        guard header.isCompanyFile else {
            throw CompanyFileError.notCompanyFile(path: file)
        }
    }

    var arguments: [String] {
        var words = [ledger, "backup", file, "--to", folder, "--kind", "scheduled"]
        for (flag, value) in [
            ("--keep-last", policy.last), ("--keep-daily", policy.daily),
            ("--keep-weekly", policy.weekly), ("--keep-monthly", policy.monthly),
        ] where value > 0 {
            words += [flag, String(value)]
        }
        for recipient in recipients { words += ["--encrypt-to", recipient.text] }
        for path in recipientFiles { words += ["--recipients-file", path] }
        if let incremental { words += incremental.arguments }
        return words
    }

    /// `text` with systemd's `%` specifiers escaped (`%%`), for a setting that is not quoted.
    static func specifiersEscaped(_ text: String) -> String {
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "%" { escaped.append(scalar) }
            escaped.append(scalar)
        }
        return String(escaped)
    }

    /// systemd quoting: a word in double quotes, with `\`, `"` and `%` escaped,
    /// as an `Environment=` assignment takes it (no variables are expanded there).
    static func systemdQuoted(_ word: String) -> String {
        systemdQuoted(word, dollars: false)
    }

    /// A word of an `ExecStart=` line: quoted as `systemdQuoted`, and `$`
    /// written `$$`, since systemd replaces `${NAME}` (and a word `$NAME`) with
    /// a variable when it runs the command; an unescaped `co${HOME}` in a path
    /// would make the job back up somewhere else.
    static func systemdCommandWord(_ word: String) -> String {
        systemdQuoted(word, dollars: true)
    }

    /// Scalar by scalar, so a combining mark after `"` or `%` (one Swift
    /// character, two of systemd's bytes) cannot slip past the escaping.
    private static func systemdQuoted(_ word: String, dollars: Bool) -> String {
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in word.unicodeScalars {
            switch scalar {
            case "\\", "\"": quoted.append("\\")
            case "%": quoted.append("%")
            case "$" where dollars: quoted.append("$")
            default: break
            }
            quoted.append(scalar)
        }
        quoted.append("\"")
        return String(quoted)
    }

    private var execLine: String {
        arguments.map(Self.systemdCommandWord).joined(separator: " ")
    }

    private var environmentLines: String {
        environment.sorted { $0.key < $1.key }.map {
            "Environment=" + Self.systemdQuoted("\($0.key)=\($0.value)") + "\n"
        }.joined()
    }

    /// The text of the systemd `.service` unit that runs the backup.
    public var service: String {
        """
        [Unit]
        Description=\(every == nil ? "Nightly ledger" : "Repeating ledger") backup of \(Self.specifiersEscaped(file))

        [Service]
        Type=oneshot
        \(environmentLines)ExecStart=\(execLine)
        Nice=10
        IOSchedulingClass=idle

        """
    }

    /// The text of the systemd `.timer` unit that starts the service each night, or every `every`.
    public var timer: String {
        guard let every else {
            return Self.timer(
                describing: "Nightly ledger backup of \(Self.specifiersEscaped(file)) at \(time)", at: time)
        }
        return """
            [Unit]
            Description=Ledger backup of \(Self.specifiersEscaped(file)) every \(every.text)

            [Timer]
            OnCalendar=\(every.onCalendar)
            Persistent=true
            AccuracySec=1s
            RandomizedDelaySec=\(every.randomDelay)

            [Install]
            WantedBy=timers.target

            """
    }

    /// A nightly, persistent timer at `time` (`HH:MM`, local).
    static func timer(describing description: String, at time: String) -> String {
        """
        [Unit]
        Description=\(description)

        [Timer]
        OnCalendar=*-*-* \(time):00
        Persistent=true
        RandomizedDelaySec=60

        [Install]
        WantedBy=timers.target

        """
    }

    /// One crontab line, for the `/bin/sh` cron runs it with: what the job
    /// prints on stdout goes to syslog through `logger`; its stderr (the one
    /// line saying why a backup failed or is not a good copy) stays cron's,
    /// which mails it; and the line exits with the job's own status (a plain
    /// `| logger` would give logger's), which the shell carries out of the
    /// pipe on descriptor 3.
    public var cronLine: String {
        let (hour, minute) = Self.validTime(time) ?? (2, 0)
        let fields = every?.cronFields ?? "\(minute) \(hour) * * *"
        let quoted = Self.cronQuoted
        let variables = environment.sorted { $0.key < $1.key }.map { $0.key + "=" + quoted($0.value) + " " }.joined()
        let command = variables + arguments.map(quoted).joined(separator: " ")
        return
            "\(fields) status=$( { { \(command); echo $? >&3; } | logger -t \(unitName); } 3>&1 ); exit \"${status:-1}\""
    }

    /// `word` in single quotes for `/bin/sh` (`'\''` for a quote inside), each
    /// `%` put outside the quotes and escaped for cron (`'\%'`). Cron ends the
    /// command at a bare `%` and turns `\%` into `%`, but a backslash just
    /// before keeps that `\` and leaves the `%` bare: `a\%b` written as
    /// `'a\\%b'` would run `'a\\`, a quote never closed, and no backup. Closing
    /// the quote first puts a `'` before every `%`.
    static func cronQuoted(_ word: String) -> String {
        var quoted = String.UnicodeScalarView()
        quoted.append("'")
        for scalar in word.unicodeScalars {
            switch scalar {
            case "'": quoted.append(contentsOf: "'\\''".unicodeScalars)
            case "%": quoted.append(contentsOf: "'\\%'".unicodeScalars)
            default: quoted.append(scalar)
            }
        }
        quoted.append("'")
        return String(quoted)
    }

    /// Writes `<unit>.service` and `<unit>.timer` into `folder` (created if
    /// missing) and returns their paths.
    public func writeUnits(into folder: String) throws -> [String] {
        try Self.writeUnits(named: unitName, service: service, timer: timer, into: folder)
    }

    /// Writes `<name>.service` and `<name>.timer` into `folder` (created if missing); returns their paths.
    static func writeUnits(
        named unitName: String, service: String, timer: String,
        into folder: String
    ) throws -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var paths: [String] = []
            for (suffix, text) in [(".service", service), (".timer", timer)] {
                let path = folder + "/" + unitName + suffix
                try AtomicFile.create(at: path, replacing: true) { temporary in
                    try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
                }
                paths.append(path)
            }
            return paths
        } catch let error as CompanyFileError {
            throw BackupError.cannotWrite(path: folder, reason: error.errorDescription ?? "\(error)")
        } catch {
            throw BackupError.cannotWrite(path: folder, reason: error.localizedDescription)
        }
    }
}
