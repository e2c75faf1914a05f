import Foundation

/// The moment `restore --at TIME` names (docs/snapshots.md): ISO 8601 with `Z` or an
/// offset; without a zone, the machine's local time; a date alone, the end of
/// that local day; `today` and `yesterday`, the end of that local day too.
/// And the other way: a moment as a person reads it, in local time with its offset.
public enum PointInTime {
    /// Nil when `text` is none of the accepted forms or names no real moment.
    /// - Parameters:
    ///   - timeZone: the machine's, for a time without a zone, a date alone, `today` and `yesterday`.
    ///   - now: the moment `today` and `yesterday` count from.
    public static func parse(_ text: String, timeZone: TimeZone = .current, now: Date = Date()) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        func endOfDay(_ year: Int?, _ month: Int?, _ day: Int?) -> Date? {
            calendar.date(from: DateComponents(year: year, month: month, day: day, hour: 23, minute: 59, second: 59))
        }
        if let day = CivilDate(text) {
            let (year, month, date) = day.components
            return endOfDay(year, month, date)
        }
        if let back = ["today": 0, "yesterday": -1][text.lowercased()] {
            // Counted in calendar days, not 86,400 seconds: a day of a DST change is 23 or 25 hours.
            guard let day = calendar.date(byAdding: .day, value: back, to: calendar.startOfDay(for: now)) else {
                return nil
            }
            let parts = calendar.dateComponents([.year, .month, .day], from: day)
            return endOfDay(parts.year, parts.month, parts.day)
        }
        let bytes = Array(text.utf8)
        guard bytes.count >= 16, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
            let day = CivilDate(String(decoding: bytes[0..<10], as: UTF8.self))
        else { return nil }
        var rest = String(decoding: bytes[11...], as: UTF8.self)
        var zone: TimeZone = timeZone
        if rest.hasSuffix("Z") {
            zone = TimeZone(identifier: "UTC") ?? timeZone
            rest.removeLast()
        } else if let sign = rest.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let offset = rest[rest.index(after: sign)...].split(separator: ":").compactMap { Int($0) }
            let compact = rest[rest.index(after: sign)...]
            let minutes: Int
            if offset.count == 2, offset[0] < 24, offset[1] < 60 {
                minutes = offset[0] * 60 + offset[1]
            } else if offset.count == 1, compact.count == 4, let value = Int(compact), value % 100 < 60 {
                minutes = value / 100 * 60 + value % 100
            } else {
                return nil
            }
            // Foundation takes offsets of at most 18 hours; beyond that names no real zone.
            guard let offsetZone = TimeZone(secondsFromGMT: (rest[sign] == "-" ? -1 : 1) * minutes * 60) else {
                return nil
            }
            zone = offsetZone
            rest = String(rest[..<sign])
            // "2026-11-20 18:00:00 -05:00", as `snapshots` shows a time.
            if rest.hasSuffix(" ") { rest.removeLast() }
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        // ASCII digits only: `isNumber` also accepts "½" and "٣", which Int() does not read.
        guard parts.count == 2 || parts.count == 3,
            parts.allSatisfy({
                $0.utf8.count == 2 && $0.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), hour < 24, minute < 60,
            let second = parts.count == 3 ? Int(parts[2]) : 0, second < 60
        else { return nil }
        calendar.timeZone = zone
        let (year, month, date) = day.components
        return calendar.date(
            from: DateComponents(year: year, month: month, day: date, hour: hour, minute: minute, second: second))
    }

    /// `2026-11-20 18:00:00 -05:00`: the moment in `timeZone`, with that zone's
    /// offset at that moment (so a summer time shows -04:00, a winter one -05:00).
    /// `parse` reads it back.
    public static func localText(_ moment: Date, timeZone: TimeZone = .current) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: moment)
        let offset = timeZone.secondsFromGMT(for: moment) / 60
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return String(format: "%04d", parts.year ?? 0) + "-\(two(parts.month))-\(two(parts.day)) "
            + "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) "
            + (offset < 0 ? "-" : "+") + "\(two(abs(offset) / 60)):\(two(abs(offset) % 60))"
    }
}
