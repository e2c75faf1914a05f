import ArgumentParser
import LedgerKit

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new, empty company file with a small service business's chart of accounts.",
        discussion: "Never overwrites: if FILE exists, nothing is written and the exit status is 2.")

    @Argument(help: "The company file to create, for example acme.db.")
    var file: String

    @Option(help: "The company's name, as it appears on reports.")
    var name: String

    @Option(help: "The currency of the books, as an ISO 4217 code.")
    var currency = "USD"

    func validate() throws {
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError("The company name is empty. Give one with --name \"Acme Plumbing\".")
        }
    }

    func run() throws {
        try reportingFailures {
            let file = try CompanyFile.create(at: file, profile: CompanyProfile(name: name, currency: currency))
            let accounts = try file.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM accounts") } ?? 0
            Output.line("Created \(self.file) for \(name) (\(currency)) with \(accounts) accounts.")
        }
    }
}
