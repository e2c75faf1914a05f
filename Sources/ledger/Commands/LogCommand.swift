import ArgumentParser
import Foundation
import LedgerKit

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Show what past rebuilds changed in a company file, newest first.",
        discussion: """
            Every rebuild records itself in the file (maintenance_runs) with one entry per \
            row it changed, holding the row before and after (repair_actions). This lists \
            them, newest run first. Read-only. Exit status: 0 shown, 2 the file could not \
            be read, 64 bad usage.
            """)

    @Argument(help: "The company file.")
    var file: String

    @Flag(help: "Print a JSON array of runs, each with every change, instead of text.")
    var json = false

    @Option(name: .customLong("run"), help: "Show only the run with this id.")
    var runID: Int64?

    @Option(help: "Show at most this many changes of each run.")
    var limit = 20

    @Flag(help: "Show every change of each run.")
    var all = false

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more.") }
    }

    private struct Entry: Encodable {
        let run: MaintenanceRun
        let actionCount: Int
        let actions: [RepairAction]

        enum CodingKeys: String, CodingKey {
            case id, command
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case outcome, summary
            case actionCount = "action_count"
            case actions
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(run.id, forKey: .id)
            try container.encode(run.command, forKey: .command)
            try container.encode(run.startedAt, forKey: .startedAt)
            try container.encode(run.finishedAt, forKey: .finishedAt)
            try container.encode(run.outcome, forKey: .outcome)
            try container.encode(run.summary, forKey: .summary)
            try container.encode(actionCount, forKey: .actionCount)
            try container.encode(actions, forKey: .actions)
        }
    }

    func run() throws {
        try reportingFailures {
            let runs = try MaintenanceLog.runs(path: file).filter { runID == nil || $0.id == runID }
            if let runID, runs.isEmpty {
                throw ValidationError("There is no run \(runID) in \(file); 'ledger log \(file)' lists them.")
            }
            let shown = json || all ? nil : limit
            if json {
                // One run's changes in memory at a time.
                print("[", terminator: "")
                for (index, entry) in runs.enumerated() {
                    var actions: [RepairAction] = []
                    let total = try MaintenanceLog.actions(path: file, runID: entry.id) { actions.append($0) }
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    let text = String(
                        decoding: try encoder.encode(Entry(run: entry, actionCount: total, actions: actions)),
                        as: UTF8.self)
                    print((index == 0 ? "\n  " : ",\n  ") + text, terminator: "")
                }
                print(runs.isEmpty ? "]" : "\n]")
                return
            }
            if runs.isEmpty {
                Output.line("No rebuild has changed \(file) yet.")
                return
            }
            for entry in runs {
                let finished = entry.finishedAt.map { " → \($0)" } ?? ""
                Output.line(
                    "Run \(entry.id): \(entry.command), \(entry.startedAt)\(finished), \(entry.outcome ?? "unfinished")"
                )
                let total = try MaintenanceLog.actions(path: file, runID: entry.id, limit: shown) { action in
                    Output.line("  \(action.code.rawValue): " + RepairText.describe(action))
                }
                if total == 0 { Output.line("  no rows changed") }
                if let shown, total > shown {
                    Output.line("  … and \(total - shown) more (--all shows every one)")
                }
            }
        }
    }
}
