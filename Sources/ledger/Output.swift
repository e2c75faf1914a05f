import ArgumentParser
import Foundation
import LedgerKit

/// Printing for the commands: results on stdout, messages and progress on stderr.
enum Output {
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    static func line(_ text: String) {
        print(text)
    }

    static func message(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Rewrites the current stderr line; only call when stderr is a terminal.
    static func progress(_ text: String) {
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text).utf8))
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

/// Uploads and downloads on a terminal: "Uploading acme-….db.gz  45.2 MiB of 98.1 MiB  38.0 MiB/s",
/// rewritten at most four times a second.
final class TransferMeter: @unchecked Sendable {
    // Guarded by `lock`: reports come from the threads moving the parts.
    private var last = Date.distantPast
    private var shown = false
    private let lock = NSLock()

    func show(_ progress: TransferProgress) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard progress.bytes == progress.total || now.timeIntervalSince(last) >= 0.25 else { return }
        last = now
        shown = true
        Output.progress("\(progress.label)  \(Output.bytes(progress.bytes)) of \(Output.bytes(progress.total))  \(Output.bytes(Int64(progress.rate)))/s")
    }

    func end() {
        TransferProgress.report(to: nil)
        lock.lock()
        defer { lock.unlock() }
        if shown { Output.endProgress() }
    }
}
