import ArgumentParser

/// `ledger fleet`: the commands that look after many company files at once.
struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Look after many clients' company files at once: verify, back up, check backups, drill restores, "
            + "report.",
        discussion: """
            Clients are company files named by folders (searched for company files by what their \
            header says, not by their names), patterns like 'clients/*.db', or a list file \
            (--list: one path a line, optionally a tab or two spaces and the client's name). Each \
            client's snapshots and its status record (ledger-status.json) go under its own folder \
            or prefix of the backup location, named from the client's name. One client's trouble \
            never stops another's. Exit status: 0 every client is in order, 1 at least one needs \
            attention, 2 the run itself could not work, 64 bad usage. See docs/fleet.md.
            """,
        subcommands: [
            FleetVerifyCommand.self, FleetBackupCommand.self, FleetCheckBackupsCommand.self, FleetDrillCommand.self,
            FleetScheduleCommand.self, FleetReportCommand.self, FleetServeCommand.self, FleetForgetCommand.self,
        ])
}
