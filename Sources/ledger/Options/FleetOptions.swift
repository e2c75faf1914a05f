import ArgumentParser
import Foundation
import LedgerKit

/// What every fleet command takes: which clients, how many at once, which share, and resuming.
struct FleetOptions: ParsableArguments {
    @Argument(
        help: ArgumentHelp(
            "Folders holding company files, company files, or patterns like 'clients/*.db'.",
            valueName: "folder|file|pattern"))
    var sources: [String] = []

    @Option(
        help: ArgumentHelp(
            "A file naming the clients: one company file a line, optionally a tab (or two spaces) "
                + "and the client's name.", valueName: "file"))
    var list: String?

    @Option(help: "How many clients at once (backups: never more than 2).")
    var jobs = ProcessInfo.processInfo.activeProcessorCount

    @Option(
        help: ArgumentHelp(
            "Take only share I of N of the clients (by a stable hash of their names), so N machines "
                + "share a fleet.", valueName: "I/N"))
    var shard = "1/1"

    @Flag(help: "Continue a run that was stopped, with the clients it had not done.")
    var resume = false

    @Option(
        help: ArgumentHelp(
            "Keep the run's journal (for --resume) in this file instead of the backup location.",
            valueName: "file"))
    var state: String?

    @Flag(help: "Print the results as one JSON object.")
    var json = false

    var share: FleetShard { FleetShard(shard) ?? .all }

    func validate() throws {
        guard !sources.isEmpty || list != nil else {
            throw ValidationError("Name the clients: folders, company files or patterns, or --list FILE.")
        }
        guard jobs >= 1 else { throw ValidationError("--jobs must be 1 or more.") }
        guard FleetShard(shard) != nil else {
            throw ValidationError("--shard '\(shard)' is not a share; write it I/N, like 1/3.")
        }
    }

    /// Runs `step` over this share's clients and prints the results; exit 1 when any needs attention.
    /// - Parameter root: the backup location, where the run's journal is kept (unless `--state`).
    func run(_ command: String, root: String?, step: @escaping @Sendable (FleetClient) -> ClientResult) throws {
        var attention = false
        try reportingFailures {
            let clients = try FleetDiscovery.clients(from: sources, list: list, location: root)
                .filter { share.contains($0.slug) }
            let keeper = try journal(command, root: root, clients: clients)
            let skipped = keeper?.done.count ?? 0
            // What the stopped run found still counts: a resumed run ends as the whole run would have.
            let earlier = keeper?.outcomes ?? [:]
            let earlierAttention = clients.compactMap { client in
                earlier[client.slug].flatMap {
                    $0 == .clean ? nil : FleetSummary.Earlier(slug: client.slug, outcome: $0)
                }
            }
            let meter = FleetMeter(enabled: Output.stderrIsTerminal)
            let results = FleetRunner.run(
                clients, jobs: jobs, journal: keeper, progress: { meter.show($0) }, step: step)
            meter.finish()
            let summary = FleetSummary(
                command: command, shard: share.description, results: results, resumedPast: skipped,
                resumedAttention: earlierAttention, journalProblem: keeper?.problem)
            attention = !summary.ok
            if json { return try Output.json(summary) }
            summary.printText()
        }
        if attention { throw ExitCode(1) }
    }

    /// The run's journal: the unfinished one with `--resume`, else a new one; nil when there is nowhere to keep it.
    private func journal(_ command: String, root: String?, clients: [FleetClient]) throws -> RunJournalKeeper? {
        guard let place = RunJournalKeeper.at(state: state, root: root, command: command, shard: share) else {
            if resume { throw FleetError.noRunToResume(place: "this run (give --state FILE or --to LOCATION)") }
            return nil
        }
        var journal = RunJournal(command: command, shard: share, startedAt: Date())
        if resume {
            do {
                journal = try RunJournalKeeper.resumable(
                    folder: place.folder, name: place.name, command: command, shard: share)
            } catch let error as FleetError {
                guard case .journalStale = error else { throw error }
                Output.message("ledger: " + FleetError.describe(error))
            }
        }
        let keeper = RunJournalKeeper(journal, folder: place.folder, name: place.name)
        let redone = keeper.confirm(clients, root: root)
        if redone > 0 {
            Output.message(
                "ledger: \(Output.count(redone, "client")) the journal names as done "
                    + "\(redone == 1 ? "is" : "are") done again: not this run's, or not shown done by "
                    + (redone == 1 ? "its status record." : "their status records."))
        }
        try keeper.start()
        return keeper
    }
}
