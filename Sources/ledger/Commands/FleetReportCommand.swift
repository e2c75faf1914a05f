import ArgumentParser
import Foundation
import LedgerKit

/// `ledger fleet report`: every client's status record in a location, ranked by risk.
struct FleetReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Rank every client of a fleet location by risk: text, --json, --csv FILE, --html FILE.",
        discussion: """
            Reads the status record (ledger-status.json) that fleet steps leave in each client's \
            folder of LOCATION, and ranks the clients worst first: damage found, a verify that \
            could not run, errors, a last good backup older than --every plus --grace, a failed \
            restore drill, warnings, never proven restorable within --drill-every, a file growing \
            fast or full of free pages. Nothing is good that was not checked. The HTML page is one \
            self-contained file (no script, nothing fetched from the network); click a client to \
            see its findings. Exit status: 0 when no client needs attention, 1 when one does, 2 \
            when the location could not be read.
            """)

    @Argument(help: "The fleet's backup location (a folder or s3://BUCKET/PREFIX), as given to fleet backup --to.")
    var location: String

    @Flag(help: "Print the report as one JSON object on stdout.")
    var json = false

    @Option(help: ArgumentHelp("Also write the report as CSV to this file.", valueName: "file"))
    var csv: String?

    @Option(help: ArgumentHelp("Also write the report as one HTML page to this file.", valueName: "file"))
    var html: String?

    @OptionGroup var policy: ReportPolicyOptions

    func run() throws {
        var attention = false
        try reportingFailures {
            let report = try policy.build(location: location)
            if let csv { try FleetReport.write(to: csv) { try report.csv($0) } }
            if let html { try FleetReport.write(to: html) { try report.html($0) } }
            if json {
                try report.json { FileHandle.standardOutput.write($0) }
            } else {
                printTable(report)
            }
            attention = report.rows.contains { $0.level == .attention }
        }
        if attention { throw ExitCode(1) }
    }

    private func printTable(_ report: FleetReport) {
        let counts = report.counts
        Output.line(
            "\(Output.count(report.rows.count, "client")): \(counts[.attention] ?? 0) need attention, "
                + "\(counts[.watch] ?? 0) to keep an eye on, \(counts[.good] ?? 0) good")
        for row in report.rows {
            let worst = row.concerns.first.map { ": " + $0.detail } ?? ""
            // The name and the detail are a record's words: a tab in them must not make a column. The
            // folder is the location's own, and tells which client a record's name claims to be.
            let name = row.client == row.slug ? row.client : "\(row.client) (\(row.slug))"
            Output.line("\(row.rank)\t\(Output.printable(name))\t\(row.level.words)\(Output.printable(worst))")
        }
    }
}

/// The times the report judges clients by, shared by `fleet report` and `fleet serve`.
struct ReportPolicyOptions: ParsableArguments {
    @Option(help: "How often the fleet verifies and backs up each client (90m, 24h, 7d).")
    var every = MaxAge(text: "24h", seconds: 86_400)

    @Option(help: "How late a step may be before the report counts it as missed.")
    var grace = MaxAge(text: "6h", seconds: 21_600)

    @Option(name: .customLong("drill-every"), help: "How often each client should be proven restorable.")
    var drillEvery = MaxAge(text: "7d", seconds: 604_800)

    @Flag(
        name: .customLong("trust-unsigned"),
        help:
            "Take every status record at its word. Without it, where this computer's ledger key signed any record there, one it did not sign needs attention: anyone who can write to the location could have written it."
    )
    var trustUnsigned = false

    /// The report of `location` as of now.
    func build(location: String) throws -> FleetReport {
        var settings = ReportPolicy()
        settings.every = every.seconds
        settings.grace = grace.seconds
        settings.drillEvery = drillEvery.seconds
        var report = FleetReport(
            generatedAt: Date(), policy: settings, signedBy: trustUnsigned ? nil : ManifestKey.existing())
        try StatusRecords.forEach(in: location, checkingSnapshots: true) { slug, data, refused, gone in
            report.add(
                slug: slug, data: data, refused: refused, gone: gone,
                writtenHere: StatusRecords.lastWritten(slug, in: location))
        }
        report.rank()
        return report
    }
}
