import Foundation

/// The nightly job `ledger schedule` sets up: a systemd user service and timer
/// (or a crontab line) that run `ledger backup --kind scheduled` with the keep flags.
public struct BackupSchedule: Sendable, Equatable {
    public var ledger: String
    public var file: String
    public var folder: String
    /// `HH:MM`, local time.
    public var time: String
    public var policy: RetentionPolicy
    /// Variables the job runs with: for object storage, the AWS settings that
    /// are not secrets (keys belong in `~/.aws/credentials`, not in a unit file).
    public var environment: [String: String]

    public init(ledger: String, file: String, folder: String, time: String, policy: RetentionPolicy,
                environment: [String: String] = [:]) {
        self.ledger = ledger
        self.file = file
        self.folder = folder
        self.time = time
        self.policy = policy
        self.environment = environment
    }

    /// The variables of `environment` a job writing to `folder` needs kept:
    /// none for a folder; for `s3://`, the profile, region, endpoint and
    /// addressing, never a key or token.
    public static func keptEnvironment(for folder: String, from environment: [String: String]) -> [String: String] {
        guard folder.lowercased().hasPrefix("s3://") else { return [:] }
        let kept = ["AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "LEDGER_S3_ADDRESSING"]
        return environment.filter { kept.contains($0.key) }
    }

    /// Nil unless `time` is `HH:MM` of a real time of day.
    public static func validTime(_ time: String) -> (hour: Int, minute: Int)? {
        let parts = time.split(separator: ":")
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isNumber) }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), hour < 24, minute < 60 else { return nil }
        return (hour, minute)
    }

    /// The unit names, from the company file's name: `ledger-backup-acme`.
    public var unitName: String {
        let stem = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let safe = String(stem.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "-" })
        return "ledger-backup-" + safe
    }

    var arguments: [String] {
        var words = [ledger, "backup", file, "--to", folder, "--kind", "scheduled"]
        for (flag, value) in [("--keep-last", policy.last), ("--keep-daily", policy.daily),
                              ("--keep-weekly", policy.weekly), ("--keep-monthly", policy.monthly)] where value > 0 {
            words += [flag, String(value)]
        }
        return words
    }

    /// systemd quoting: a word in double quotes, with \, " and % escaped.
    private static func systemdQuoted(_ word: String) -> String {
        "\"" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "%", with: "%%") + "\""
    }

    private var execLine: String {
        arguments.map(Self.systemdQuoted).joined(separator: " ")
    }

    private var environmentLines: String {
        environment.sorted { $0.key < $1.key }.map { "Environment=" + Self.systemdQuoted("\($0.key)=\($0.value)") + "\n" }.joined()
    }

    public var service: String {
        """
        [Unit]
        Description=Nightly ledger backup of \(file)

        [Service]
        Type=oneshot
        \(environmentLines)ExecStart=\(execLine)
        Nice=10
        IOSchedulingClass=idle

        """
    }

    public var timer: String {
        """
        [Unit]
        Description=Nightly ledger backup of \(file) at \(time)

        [Timer]
        OnCalendar=*-*-* \(time):00
        Persistent=true
        RandomizedDelaySec=60

        [Install]
        WantedBy=timers.target

        """
    }

    /// One crontab line; the job's output goes to syslog through `logger`.
    public var cronLine: String {
        let (hour, minute) = Self.validTime(time) ?? (2, 0)
        let quoted = { (word: String) in "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let variables = environment.sorted { $0.key < $1.key }.map { $0.key + "=" + quoted($0.value) + " " }.joined()
        let command = (variables + arguments.map(quoted).joined(separator: " ")).replacingOccurrences(of: "%", with: "\\%")
        return "\(minute) \(hour) * * * \(command) 2>&1 | logger -t \(unitName)"
    }

    /// Writes `<unit>.service` and `<unit>.timer` into `folder` (created if
    /// missing) and returns their paths.
    public func writeUnits(into folder: String) throws -> [String] {
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
