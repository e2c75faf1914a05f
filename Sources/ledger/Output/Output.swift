import ArgumentParser
import Foundation
import LedgerKit

/// Printing for the commands: results on stdout, messages and progress on stderr.
enum Output {
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Prints one line on stdout; control characters in it are escaped
    /// (`printable`), but for tabs (columns) and `Paint`'s own colours.
    static func line(_ text: String) {
        print(
            text.split(separator: "\t", omittingEmptySubsequences: false)
                .map { printable(String($0), keepingColours: true) }.joined(separator: "\t"))
    }

    /// Prints one line on stderr, control characters escaped (`printable`).
    static func message(_ text: String) {
        FileHandle.standardError.write(Data((printable(text) + "\n").utf8))
    }

    /// Text from a file or a server (a manifest's company, an object's name,
    /// a server's error, a company file's names) as a terminal can show it
    /// without obeying it: every control character (C0, DEL, C1: escape
    /// sequences, newlines, carriage returns, bells), bidirectional override
    /// and line or paragraph separator is written as its code point in Swift's
    /// form, `\u{1B}` for ESC, `\u{0A}` for a newline, so one line stays one
    /// line, nothing clears the screen or retitles the terminal, and what was
    /// there can still be read. Everything else is left as it is.
    /// - Parameter keepingColours: leave the four colour codes `Paint` writes
    ///   (bold, red, yellow, reset); colour is all they can do.
    static func printable(_ text: String, keepingColours: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
        var result = ""
        var scalars = text.unicodeScalars[...]
        while let scalar = scalars.first {
            if keepingColours, scalar == "\u{1B}",
                let colour = Paint.codes.first(where: { scalars.starts(with: $0.unicodeScalars) })
            {
                result += colour
                scalars = scalars.dropFirst(colour.unicodeScalars.count)
                continue
            }
            result +=
                isUnsafe(scalar)
                ? "\\u{" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 2) + "}" : String(scalar)
            scalars = scalars.dropFirst()
        }
        return result
    }

    /// Control characters, bidirectional controls, and the line and paragraph separators.
    private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// Rewrites the current stderr line; only call when stderr is a terminal.
    static func progress(_ text: String) {
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + printable(text)).utf8))
    }

    static func endProgress() {
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    /// Pretty, key-sorted, snake_case JSON of `value` on stdout.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var text = ""
        for (offset, character) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { text.append(",") }
            text.append(character)
        }
        return value < 0 ? "-" + text : text
    }

    /// The first `limit` of `items`, a line each as `shown` words it, then
    /// "… and N more" (with `where`, what lists every one) for the rest.
    static func lines<Item>(
        _ items: [Item], limit: Int, indent: String = "  ", where everyOne: String = "", _ shown: (Item) -> String
    ) {
        for item in items.prefix(limit) { line(indent + shown(item)) }
        if items.count > limit { line(indent + "… and \(items.count - limit) more" + everyOne) }
    }

    /// "1 error", "3 errors".
    static func count(_ value: Int, _ noun: String) -> String {
        "\(grouped(value)) \(noun)" + (value == 1 ? "" : "s")
    }

    /// `text` and spaces to `width` characters; longer text is kept whole.
    static func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Spaces and `text` to `width` characters, for amounts; longer text is kept whole.
    static func rightAligned(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    static func bytes(_ count: Int64) -> String {
        if count < 1024 { return "\(count) bytes" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(count) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: "%.1f %@", value, units[unit])
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

/// Runs a command's work; an error from LedgerKit becomes a one-line message on
/// stderr and exit status 2 (the command could not do its work).
func reportingFailures(_ work: () throws -> Void) throws {
    let meter = TransferMeter()
    if Output.stderrIsTerminal { TransferProgress.report(to: meter.show) }
    defer { meter.end() }
    do {
        try work()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        Output.message("ledger: " + ((error as? LocalizedError)?.errorDescription ?? "\(error)"))
        throw ExitCode(2)
    }
}
