import Foundation

/// A calendar day in the proleptic Gregorian calendar, counted in days since
/// 1970-01-01, with the `YYYY-MM-DD` text form of the company file.
///
/// The conversions are Howard Hinnant's `days_from_civil` / `civil_from_days`:
/// exact integer arithmetic, no time zones, no Foundation calendar.
public struct CivilDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public var dayNumber: Int

    /// The day `dayNumber` days after 1970-01-01 (before it when negative).
    public init(dayNumber: Int) {
        self.dayNumber = dayNumber
    }

    /// Nil when the parts are not a real calendar day.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysIn(month: month, year: year) else { return nil }
        dayNumber = CivilDate.dayNumber(year: year, month: month, day: day)
    }

    /// The day number of parts already known to name a real calendar day.
    static func dayNumber(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Parses exactly `YYYY-MM-DD` naming a real day; nil otherwise.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = CivilDate.digits(bytes[0..<4]),
            let month = CivilDate.digits(bytes[5..<7]),
            let day = CivilDate.digits(bytes[8..<10])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The UTC day of a moment.
    public init(_ date: Date) {
        dayNumber = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    /// The year, month (1–12) and day of the month.
    public var components: (year: Int, month: Int, day: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        let (year, month, day) = components
        return CivilDate.pad(year, 4) + "-" + CivilDate.pad(month, 2) + "-" + CivilDate.pad(day, 2)
    }

    /// 0 for Monday … 6 for Sunday.
    public var weekday: Int { ((dayNumber % 7) + 7 + 3) % 7 }

    /// The last day of this day's month.
    public var endOfMonth: CivilDate {
        let (year, month, _) = components
        return CivilDate(
            dayNumber: CivilDate.dayNumber(
                year: year, month: month,
                day: CivilDate.daysIn(month: month, year: year)))
    }

    /// The day `days` days later (earlier when negative).
    public static func + (lhs: CivilDate, days: Int) -> CivilDate { CivilDate(dayNumber: lhs.dayNumber + days) }
    /// How many days `rhs` is before `lhs`.
    public static func - (lhs: CivilDate, rhs: CivilDate) -> Int { lhs.dayNumber - rhs.dayNumber }
    /// Whether `lhs` is the earlier day.
    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool { lhs.dayNumber < rhs.dayNumber }

    /// How many days `month` (1–12) has in `year`, leap years counted.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private static func digits(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

/// The `YYYY-MM-DDTHH:MM:SSZ` timestamps of the company file (UTC, whole seconds).
public enum Timestamp {
    /// Formats a moment as `YYYYMMDDTHHMMSSZ` (`20261121T020000Z`): the timestamp
    /// without its separators, as snapshot names and Signature V4 write it.
    static func compact(from date: Date) -> String {
        string(from: date).filter { $0 != "-" && $0 != ":" }
    }

    /// Formats a moment as `YYYY-MM-DDTHH:MM:SSZ`.
    public static func string(from date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        return string(
            day: CivilDate(dayNumber: Int((Double(seconds) / 86_400).rounded(.down))),
            secondOfDay: ((seconds % 86_400) + 86_400) % 86_400)
    }

    /// Formats a day and a second of that day (0..<86400) as `YYYY-MM-DDTHH:MM:SSZ`.
    public static func string(day: CivilDate, secondOfDay: Int) -> String {
        day.description + timeOfDay(secondOfDay)
    }

    /// `THH:MM:SSZ` for a second of the day (0..<86400): the part after the date.
    public static func timeOfDay(_ secondOfDay: Int) -> String {
        var bytes: [UInt8] = Array("T00:00:00Z".utf8)
        for (offset, value) in [(1, secondOfDay / 3600), (4, secondOfDay / 60 % 60), (7, secondOfDay % 60)] {
            bytes[offset] = UInt8(ascii: "0") + UInt8(value / 10)
            bytes[offset + 1] = UInt8(ascii: "0") + UInt8(value % 10)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses exactly `YYYY-MM-DDTHH:MM:SSZ` naming a real moment; nil otherwise.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"),
            bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "Z"),
            let day = CivilDate(String(decoding: bytes[0..<10], as: UTF8.self)),
            let hour = Int(String(decoding: bytes[11..<13], as: UTF8.self)),
            let minute = Int(String(decoding: bytes[14..<16], as: UTF8.self)),
            let second = Int(String(decoding: bytes[17..<19], as: UTF8.self)),
            bytes[11...18].allSatisfy({
                $0 == UInt8(ascii: ":") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            }),
            hour < 24, minute < 60, second < 60
        else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(day.dayNumber * 86_400 + hour * 3600 + minute * 60 + second))
    }
}
