import Foundation

/// How systemd reads a unit's settings, written for the tests from
/// systemd.unit(5), systemd.service(5) and systemd's parser, byte by byte (a
/// combining mark after a quote is two bytes to systemd, not one character):
/// specifiers first (`%%` is `%`), then words (double or single quotes, `\`
/// escapes), then, when the command runs, variables (`$$` is `$`, `${NAME}`
/// its value anywhere in a word, a word `$NAME` its value split at blanks).
enum SystemdRules {
    /// `text` with specifiers expanded: `%%` is `%`; any other `%x` is
    /// `<%x>`, which no path of a test holds.
    static func specifiers(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var iterator = text.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            guard scalar == "%" else {
                out.append(scalar)
                continue
            }
            let next = iterator.next()
            if next == "%" {
                out.append("%")
            } else {
                out.append(contentsOf: "<%".unicodeScalars)
                if let next { out.append(next) }
                out.append(">")
            }
        }
        return String(out)
    }

    /// The arguments a process started by the `ExecStart=` value `value` gets,
    /// with `environment` as its variables; nil when systemd would refuse the
    /// line (an escape these tests do not expect, a quote never closed).
    static func commandWords(_ value: String, environment: [String: String]) -> [String]? {
        var words: [String.UnicodeScalarView] = []
        var word = String.UnicodeScalarView()
        var inWord = false
        var quote: Unicode.Scalar?
        var iterator = specifiers(value).unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            if scalar == "\\" {
                guard let next = iterator.next(), ["\\", "\"", "'"].contains(next) else { return nil }
                word.append(next)
                inWord = true
            } else if let open = quote {
                if scalar == open { quote = nil } else { word.append(scalar) }
            } else if scalar == "\"" || scalar == "'" {
                quote = scalar
                inWord = true
            } else if scalar == " " || scalar == "\t" {
                if inWord { words.append(word) }
                word = String.UnicodeScalarView()
                inWord = false
            } else {
                word.append(scalar)
                inWord = true
            }
        }
        guard quote == nil else { return nil }
        if inWord { words.append(word) }
        return words.flatMap { expanded(Array($0), environment) }
    }

    /// One word with its variables replaced, as systemd does when the command runs.
    private static func expanded(_ word: [Unicode.Scalar], _ environment: [String: String]) -> [String] {
        if word.count > 1, word[0] == "$", word[1] != "{", word[1] != "$" {
            let name = String(String.UnicodeScalarView(word.dropFirst()))
            return (environment[name] ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
        }
        var out = String.UnicodeScalarView()
        var index = 0
        while index < word.count {
            let scalar = word[index]
            if scalar == "$", index + 1 < word.count, word[index + 1] == "$" {
                out.append("$")
                index += 2
            } else if scalar == "$", index + 1 < word.count, word[index + 1] == "{",
                let close = word[(index + 2)...].firstIndex(of: "}")
            {
                let name = String(String.UnicodeScalarView(word[(index + 2)..<close]))
                out.append(contentsOf: (environment[name] ?? "").unicodeScalars)
                index = close + 1
            } else {
                out.append(scalar)
                index += 1
            }
        }
        return [String(out)]
    }

    /// The lines of `unit`, split at `\n` alone, as systemd splits them.
    static func lines(of unit: String) -> [String] {
        unit.unicodeScalars.split(separator: "\n").map { String(String.UnicodeScalarView($0)) }
    }

    /// The value of the one `key=` line of `unit`; nil when there is none or more than one.
    static func value(of key: String, in unit: String) -> String? {
        let found = lines(of: unit).filter { $0.hasPrefix(key + "=") }
        return found.count == 1 ? String(found[0].dropFirst(key.count + 1)) : nil
    }
}

/// How cron (cronie, Debian's and Vixie cron alike) hands a crontab line's
/// command to `/bin/sh`, written for the tests from crontab(5) and cronie's
/// do_command.c: after the five time fields, `\%` is `%`, a backslash
/// before anything else stays, and a bare `%` ends the command.
enum CronRules {
    /// The command of `line` and, after a bare `%`, the input cron would give it.
    static func command(of line: String) -> (command: String, input: String?) {
        var rest = Substring(line)
        for _ in 0..<5 {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            rest = rest.drop { $0 != " " && $0 != "\t" }
        }
        rest = rest.drop { $0 == " " || $0 == "\t" }
        var command = String.UnicodeScalarView()
        var escaped = false
        var scalars = rest.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            if escaped {
                escaped = false
                if scalar == "%" {
                    command.removeLast()
                    command.append("%")
                    continue
                }
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "%" {
                var input = String.UnicodeScalarView()
                while let more = scalars.next() { input.append(more) }
                return (String(command), String(input))
            }
            command.append(scalar)
        }
        return (String(command), nil)
    }
}
