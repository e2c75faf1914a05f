import ArgumentParser

/// `ledger fleet`: the commands that look after many company files at once.
struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Look after many company files at once: report, serve.",
        subcommands: [FleetReportCommand.self, FleetServeCommand.self])
}
