import Foundation

/// How often a repeating backup runs (`ledger schedule --every`): a number of
/// minutes that divides an hour, or of hours that divides a day, so that the
/// runs fall at the same clock times every hour or every day and systemd's
/// `OnCalendar=` and a crontab line say exactly the same thing.
public struct ScheduleInterval: Sendable, Equatable {
    /// Minutes between two runs.
    public let minutes: Int

    /// The intervals a schedule takes, in minutes: 5 minutes to a day.
    public static let allowed = [5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1_440]

    /// `15m`, `30min`, `2h`; nil for any other text or an interval not in `allowed`.
    public init?(_ text: String) {
        let lowered = text.lowercased()
        let digits = lowered.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 4, let count = Int(digits) else { return nil }
        let minutes: Int
        switch lowered.dropFirst(digits.count) {
        case "m", "min": minutes = count
        case "h": minutes = count * 60
        default: return nil
        }
        guard Self.allowed.contains(minutes) else { return nil }
        self.minutes = minutes
    }

    /// `15m`, or `2h` for whole hours.
    public var text: String {
        minutes % 60 == 0 ? "\(minutes / 60)h" : "\(minutes)m"
    }

    /// Seconds a timer may start late at random, so that many machines (a
    /// fleet, an office) do not all reach one location at the same second: a
    /// fifteenth of the interval, at most a minute (20 s at 5m, 60 s at 15m).
    var randomDelay: Int {
        min(60, minutes * 4)
    }

    /// The timer's calendar: `*-*-* *:00/15:00` (every quarter hour), `*-*-* 00/2:00:00` (every two hours).
    var onCalendar: String {
        switch minutes {
        case ..<60: "*-*-* *:00/\(minutes):00"
        case 60: "*-*-* *:00:00"
        case 1_440: "*-*-* 00:00:00"
        default: "*-*-* 00/\(minutes / 60):00:00"
        }
    }

    /// The crontab line's five time fields: `*/15 * * * *`, `0 */2 * * *`.
    var cronFields: String {
        switch minutes {
        case ..<60: "*/\(minutes) * * * *"
        case 60: "0 * * * *"
        case 1_440: "0 0 * * *"
        default: "0 */\(minutes / 60) * * *"
        }
    }

    /// The interval a timer's `OnCalendar=` value or a crontab line's first two fields say, or nil.
    static func parse(onCalendar value: String) -> ScheduleInterval? {
        let time = value.split(separator: " ").last.map(String.init) ?? ""
        if time == "*:00:00" { return ScheduleInterval("1h") }
        if time.hasPrefix("*:00/"), time.hasSuffix(":00") {
            return ScheduleInterval(String(time.dropFirst(5).dropLast(3)) + "m")
        }
        if time.hasPrefix("00/"), time.hasSuffix(":00:00") {
            return ScheduleInterval(String(time.dropFirst(3).dropLast(6)) + "h")
        }
        return nil
    }

    /// The interval of a crontab line's minute and hour fields, or nil.
    static func parse(cronMinute minute: String, hour: String) -> ScheduleInterval? {
        if minute.hasPrefix("*/"), hour == "*" { return ScheduleInterval(String(minute.dropFirst(2)) + "m") }
        if minute == "0", hour == "*" { return ScheduleInterval("1h") }
        if minute == "0", hour.hasPrefix("*/") { return ScheduleInterval(String(hour.dropFirst(2)) + "h") }
        return nil
    }
}

/// What makes a scheduled backup incremental (`ledger schedule --incremental`):
/// the `backup --incremental` flags the job runs with (docs/incremental.md).
public struct IncrementalJob: Sendable, Equatable {
    /// `--full-every`, as the user wrote it (`7d`).
    public var fullEvery: String
    /// Full paths of the age identity files (`--identity`) that open an encrypted location's page key.
    public var identityFiles: [String]

    /// The flags of an incremental job.
    public init(fullEvery: String, identityFiles: [String] = []) {
        self.fullEvery = fullEvery
        self.identityFiles = identityFiles
    }

    var arguments: [String] {
        ["--incremental", "--full-every", fullEvery] + identityFiles.flatMap { ["--identity", $0] }
    }
}
