import Foundation

/// A scheduled backup that exists (`ledger schedule --list`): a systemd user timer
/// ledger wrote, or a crontab line it printed that was installed.
public struct ScheduledBackup: Codable, Sendable, Equatable {
    /// How the backup is scheduled.
    public enum Kind: String, Codable, Sendable {
        /// `<unit>.timer` and `<unit>.service` in the unit folder.
        case systemd
        /// A line of the user's crontab, told by its `logger -t ledger-backup-…`.
        case cron
    }

    /// A systemd timer or a crontab line.
    public let kind: Kind
    /// The unit's name, or the crontab line's `logger` tag.
    public let unit: String
    /// The company file it backs up; nil when the job's command could not be read.
    public let file: String?
    /// The backup folder or `s3://` place; nil when it could not be read.
    public let folder: String?
    /// `HH:MM`, local time, of a nightly backup; nil when it could not be read or the backup repeats.
    public let time: String?
    /// How often a repeating backup runs (`15m`, `2h`); nil for a nightly one.
    public let every: String?
    /// Whether the job takes incremental snapshots (`--incremental`).
    public let incremental: Bool
    /// The timer file, for systemd.
    public let path: String?

    /// A scheduled backup as `ledger schedule --list` shows it; nil where the schedule does not say.
    public init(
        kind: Kind, unit: String, file: String?, folder: String?, time: String?, every: String? = nil,
        incremental: Bool = false, path: String?
    ) {
        self.kind = kind
        self.unit = unit
        self.file = file
        self.folder = folder
        self.time = time
        self.every = every
        self.incremental = incremental
        self.path = path
    }

    /// When it runs, as people read it: `at 02:00`, `every 15m`, or `at (unreadable)`.
    public var when: String {
        every.map { "every " + $0 } ?? "at " + (time ?? "(unreadable)")
    }
}

extension BackupSchedule {
    /// The schedules ledger wrote: every `ledger-backup-*.timer` in
    /// `unitFolder` (with what its `.service` runs) and every line of `crontab`
    /// that logs as `ledger-backup-…`, by unit name. A unit or line that cannot
    /// be read is listed with what could be read; a missing folder or crontab
    /// is no schedules.
    public static func existing(unitFolder: String, crontab: String?) -> [ScheduledBackup] {
        var found: [ScheduledBackup] = []
        let names = (try? FileManager.default.contentsOfDirectory(atPath: unitFolder)) ?? []
        for name in names.sorted() where name.hasPrefix(unitPrefix) && name.hasSuffix(".timer") {
            let unit = String(name.dropLast(".timer".count))
            let timer = smallText(unitFolder + "/" + name) ?? ""
            let service = smallText(unitFolder + "/" + unit + ".service") ?? ""
            let onCalendar = value(of: "OnCalendar", in: timer)
            let calendar = onCalendar?.split(separator: " ").last.map(String.init)
            let every = onCalendar.flatMap(ScheduleInterval.parse(onCalendar:))
            let time = calendar.map { String($0.prefix(5)) }.flatMap { validTime($0) == nil ? nil : $0 }
            let words = value(of: "ExecStart", in: service).map(systemdWords) ?? []
            let job = backupJob(in: words)
            found.append(
                ScheduledBackup(
                    kind: .systemd, unit: unit, file: job?.file, folder: job?.folder,
                    time: every == nil ? time : nil, every: every?.text, incremental: words.contains("--incremental"),
                    path: unitFolder + "/" + name))
        }
        for line in lines(of: crontab ?? "") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let tag = loggerTag(in: trimmed) else { continue }
            let fields = trimmed.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            var time: String?
            if fields.count == 3, let minute = Int(fields[0]), let hour = Int(fields[1]), (0..<24).contains(hour),
                (0..<60).contains(minute)
            {
                time = String(format: "%02d:%02d", hour, minute)
            }
            let every =
                fields.count == 3 ? ScheduleInterval.parse(cronMinute: String(fields[0]), hour: String(fields[1])) : nil
            let words = shellWords(cronCommand(trimmed))
            let job = backupJob(in: words)
            found.append(
                ScheduledBackup(
                    kind: .cron, unit: tag, file: job?.file, folder: job?.folder, time: every == nil ? time : nil,
                    every: every?.text, incremental: words.contains("--incremental"), path: nil))
        }
        return found
    }

    /// The user's crontab (`crontab -l`), or nil when there is none or no cron
    /// on this machine.
    public static func currentCrontab() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["crontab", "-l"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The text of a unit file, when it is a small regular file (a unit is a
    /// few hundred bytes; anything else is not one ledger wrote).
    private static func smallText(_ path: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            attributes[.type] as? FileAttributeType == .typeRegular,
            let size = attributes[.size] as? NSNumber, size.intValue <= 65_536,
            let data = FileManager.default.contents(atPath: path)
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The value of the first `key=` line of a unit file.
    private static func value(of key: String, in text: String) -> String? {
        lines(of: text).first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    /// The lines of a unit file or a crontab, split at `\n` alone, as systemd
    /// and cron split them: Swift's `isNewline` would also split at U+2028 or
    /// U+0085, which a path may hold.
    static func lines(of text: String) -> [String] {
        text.unicodeScalars.split(separator: "\n").map { String(String.UnicodeScalarView($0)) }
    }

    /// `ledger-backup-…` after `logger -t ` in a crontab line.
    private static func loggerTag(in line: String) -> String? {
        guard let range = line.range(of: "logger -t " + unitPrefix) else { return nil }
        let tag = line[range.upperBound...].prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        return unitPrefix + tag
    }

    /// The company file and destination of `… backup FILE --to FOLDER …`.
    private static func backupJob(in words: [String]) -> (file: String, folder: String)? {
        guard words.count >= 4 else { return nil }
        for index in 0..<(words.count - 3) where words[index] == "backup" && words[index + 2] == "--to" {
            return (words[index + 1], words[index + 3])
        }
        return nil
    }

    /// The words of an `ExecStart=` line as systemd reads the ones `execLine`
    /// writes: `%%` is `%` across the line (specifiers), then each word is in
    /// double quotes with `\` escapes, then in each word `$$` is `$` (variables).
    static func systemdWords(_ line: String) -> [String] {
        var words: [String] = []
        var word = String.UnicodeScalarView()
        var inWord = false
        var escaped = false
        for scalar in pairsUndone(line, "%").unicodeScalars {
            if !inWord {
                inWord = scalar == "\""
            } else if escaped {
                word.append(scalar)
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "\"" {
                words.append(pairsUndone(String(word), "$"))
                word = String.UnicodeScalarView()
                inWord = false
            } else {
                word.append(scalar)
            }
        }
        return words
    }

    /// `text` with each doubled `mark` made one, from the left: `$$$` is `$$`.
    private static func pairsUndone(_ text: String, _ mark: Unicode.Scalar) -> String {
        var single = String.UnicodeScalarView()
        var afterMark = false
        for scalar in text.unicodeScalars {
            if scalar == mark && afterMark {
                afterMark = false
                continue
            }
            afterMark = scalar == mark
            single.append(scalar)
        }
        return String(single)
    }

    /// The command of a crontab line as cron hands it to `/bin/sh`: `\%` is
    /// `%`, a backslash before anything else stays, and a bare `%` ends the
    /// command (what follows is its input).
    static func cronCommand(_ line: String) -> String {
        var command = String.UnicodeScalarView()
        var escaped = false
        for scalar in line.unicodeScalars {
            if escaped {
                escaped = false
                if scalar == "%" {
                    command.removeLast()
                    command.append(scalar)
                    continue
                }
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "%" {
                break
            }
            command.append(scalar)
        }
        return String(command)
    }

    /// The words of a `/bin/sh` line as `cronLine` writes them: single-quoted
    /// pieces (`'\''` for a quote inside) and bare text, split at blanks. None
    /// when a quote is never closed: the shell would run nothing.
    static func shellWords(_ line: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        var started = false
        var quoted = false
        var escaped = false
        for scalar in line.unicodeScalars {
            if quoted {
                if scalar == "'" { quoted = false } else { current.append(scalar) }
            } else if escaped {
                current.append(scalar)
                escaped = false
            } else if scalar == "'" {
                quoted = true
                started = true
            } else if scalar == "\\" {
                escaped = true
                started = true
            } else if scalar == " " || scalar == "\t" {
                if started { words.append(String(current)) }
                current = String.UnicodeScalarView()
                started = false
            } else {
                current.append(scalar)
                started = true
            }
        }
        if quoted { return [] }
        if started { words.append(String(current)) }
        return words
    }
}
