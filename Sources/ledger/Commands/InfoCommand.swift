import ArgumentParser
import LedgerKit

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show what a company file holds: company, format, sizes, row counts, last maintenance.",
        discussion: "Opens the file read-only; never changes it.")

    @Argument(help: "The company file.")
    var file: String

    @Flag(help: "Print one JSON object on stdout instead of text.")
    var json = false

    func run() throws {
        try reportingFailures {
            let info = try CompanyInfo.read(path: file)
            if json { return try Output.json(info) }
            Output.line("Company:        \(info.company ?? "(missing company row)")")
            Output.line("Currency:       \(info.currency ?? "?")")
            Output.line("File:           \(info.file)")
            Output.line("Format version: \(info.formatVersion)")
            Output.line(
                "Size:           \(Output.bytes(info.fileBytes))"
                    + (info.walBytes > 0 ? " (+ \(Output.bytes(info.walBytes)) in the write-ahead log)" : ""))
            Output.line("Pages:          \(Output.grouped(info.pageCount)) of \(info.pageSize) bytes")
            Output.line("Journal mode:   \(info.journalMode)")
            Output.line("Rows:")
            for table in Schema.tableNames {
                let count = info.rowCounts[table].map(Output.grouped) ?? "missing table"
                Output.line("  " + table.padding(toLength: 18, withPad: " ", startingAt: 0) + count)
            }
            if info.lastRuns.isEmpty {
                Output.line("Maintenance:    none recorded")
            } else {
                Output.line("Maintenance (newest first):")
                for run in info.lastRuns {
                    Output.line("  #\(run.id) \(run.command) \(run.startedAt) \(run.outcome ?? "unfinished")")
                }
            }
        }
    }
}
