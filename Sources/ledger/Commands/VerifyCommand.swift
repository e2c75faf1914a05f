import ArgumentParser
import Foundation
import LedgerKit

/// `ledger verify`: checks a company file and prints what it finds.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a company file for damage and for books that do not add up (Verify Data).",
        discussion: """
            Opens the file read-only and never changes it. Reports every problem of the \
            finding catalog, grouped by kind; 'ledger rebuild FILE' repairs those marked \
            repairable. Exit status: 0 no findings, 1 findings, 2 the file could not be \
            verified (missing, not a company file, newer format, locked), 64 bad usage.
            """)

    @Argument(help: "The company file to check.")
    var file: String

    @Flag(help: "Print one JSON object on stdout (docs/findings.md) instead of text.")
    var json = false

    @Flag(help: "Run SQLite's quick_check instead of the full integrity_check; every bookkeeping check still runs.")
    var quick = false

    @Option(help: "Show at most this many findings of each kind.")
    var limit = 20

    @Flag(help: "Show every finding.")
    var all = false

    @Option(help: "Append a timestamped plain-text record of this run to this file.")
    var log: String?

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more.") }
    }

    func run() throws {
        var report: VerifyReport?
        try reportingFailures {
            let meter = ProgressMeter(enabled: Output.stderrIsTerminal && !json)
            let made = try Verifier.verify(path: file, quick: quick) { meter.show($0.phase, $0.fraction) }
            report = made
            meter.finish()
            if let log { try VerifyLog.append(made, quick: quick, to: log) }
        }
        guard let report else { return }
        if json {
            try Output.json(report)
        } else {
            printText(report)
        }
        if !report.ok { throw ExitCode(1) }
    }

    private func printText(_ report: VerifyReport) {
        let paint = Paint(enabled: Output.stdoutIsTerminal)
        let shown = all ? Int.max : limit
        for code in FindingCode.allCases {
            let group = report.findings.filter { $0.code == code }
            guard let first = group.first else { continue }
            let kind = first.severity == .error ? paint.red("error") : paint.yellow("warning")
            let repair = first.repairable ? "rebuild repairs" : "needs a person"
            Output.line(paint.bold("\(code.rawValue)") + " — \(code.title): \(group.count) (\(kind), \(repair))")
            for finding in group.prefix(shown) { Output.line("  " + finding.message) }
            if group.count > shown {
                Output.line("  … and \(group.count - shown) more (--all shows every one)")
            }
        }
        let seconds = String(format: "%.1f", Double(report.elapsedMS) / 1000)
        let tail =
            report.repairableCount > 0
            ? "ledger rebuild \(report.file) repairs \(report.repairableCount)"
            : (report.ok ? "the file is in order" : "nothing for rebuild to repair")
        if !report.findings.isEmpty { Output.line("") }
        Output.line(
            "\(Output.count(report.errorCount, "error")), \(Output.count(report.warningCount, "warning")) in \(seconds) s — \(tail)"
        )
    }
}
