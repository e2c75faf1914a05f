import ArgumentParser
import LedgerKit

@main
struct Ledger: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Keep a small business's company file healthy: verify, rebuild, back up, restore.",
        discussion: """
            A company file is one SQLite database holding a business's books. Exit status: \
            0 success, 1 findings (where a command reports them), 2 the command could not \
            do its work (the file is untouched), 64 bad usage.
            """,
        version: "ledger \(version) (company file format \(Schema.formatVersion))",
        subcommands: [
            InitCommand.self, SampleCommand.self, InfoCommand.self, VerifyCommand.self, RebuildCommand.self,
            LogCommand.self, ImportCommand.self, FeedCommand.self, AccountsCommand.self, ExportCommand.self,
            ReportCommand.self, BackupCommand.self, SnapshotsCommand.self, RestoreCommand.self,
            CheckBackupsCommand.self, PruneCommand.self, ScheduleCommand.self, KeyCommand.self, FleetCommand.self,
        ])

    /// This release of the tool (`ledger --version`).
    static let version = "0.9.0"

    static func main() {
        ProcessMemory.returnLargeBuffersPromptly()
        SQLiteSettings.apply()
        main(nil)
    }
}
