import ArgumentParser
import Foundation
import LedgerKit

/// `ledger fleet schedule`: one nightly timer for the whole fleet.
struct FleetScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Set up one nightly systemd user timer for a fleet: back up, drill a seventh, report.",
        discussion: """
            Writes <unit>.service and <unit>.timer into ~/.config/systemd/user (or --unit-dir), \
            named after the location (ledger-fleet-1f3a9c2e), so scheduling the same location \
            again replaces its own. Each night the job runs 'ledger fleet backup' of every client, \
            then 'ledger fleet drill --one-in-seven' (every client proven weekly), then 'ledger \
            fleet report LOCATION'. The timer is Persistent: a night the machine was off is caught \
            up at the next boot. AWS keys are never written into the unit; see 'ledger schedule'. \
            Then run: systemctl --user daemon-reload && systemctl --user enable --now <unit>.timer. \
            Exit status: 0 done, 2 could not, 64 bad usage.
            """)

    @Argument(
        help: ArgumentHelp(
            "Folders holding company files, company files, or patterns like 'clients/*.db'.",
            valueName: "folder|file|pattern"))
    var sources: [String] = []

    @Option(help: ArgumentHelp("A file naming the clients (see 'ledger fleet verify --help').", valueName: "file"))
    var list: String?

    @Option(help: ArgumentHelp("The backup folder, or s3://BUCKET/PREFIX.", valueName: "location"))
    var to: String

    @Option(help: "The time of day, HH:MM local time.")
    var at = "02:00"

    @Option(help: "How many clients at once.")
    var jobs: Int?

    @OptionGroup var keep: KeepOptions

    @Option(name: .customLong("unit-dir"), help: "Where to write the units (default ~/.config/systemd/user).")
    var unitDir: String?

    @OptionGroup var named: RecipientOptions

    func validate() throws {
        guard !sources.isEmpty || list != nil else {
            throw ValidationError("Name the clients: folders, company files or patterns, or --list FILE.")
        }
        guard BackupSchedule.validTime(at) != nil else {
            throw ValidationError("--at '\(at)' is not a time of day; write it as HH:MM.")
        }
        guard (jobs ?? 1) >= 1 else { throw ValidationError("--jobs must be 1 or more.") }
        try JobWords.check(sources + [list, to, unitDir].compactMap { $0 } + named.recipientFiles + named.recipients)
    }

    func run() throws {
        try reportingFailures {
            _ = try FleetDiscovery.clients(from: sources, list: list)
            // Patterns stay patterns (the job matches them each night); paths become full paths.
            let absolute = { (path: String) in
                path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            }
            let location = to.lowercased().hasPrefix("s3://") ? to : URL(fileURLWithPath: to).standardizedFileURL.path
            let schedule = FleetSchedule(
                ledger: try BackupSchedule.runningProgram(), sources: sources.map(absolute),
                list: list.map(absolute), location: location, time: at, policy: keep.policy, jobs: jobs,
                environment: try BackupSchedule.jobEnvironment(
                    for: location, from: ProcessInfo.processInfo.environment),
                recipients: try named.recipients.map(AgeRecipient.init),
                recipientFiles: named.recipientFiles.map(absolute))
            let folder = unitDir ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.config/systemd/user")
            for path in try schedule.writeUnits(into: folder) { Output.line("Wrote \(path)") }
            Output.line(
                "Now run: systemctl --user daemon-reload && systemctl --user enable --now \(schedule.unitName).timer")
        }
    }
}
