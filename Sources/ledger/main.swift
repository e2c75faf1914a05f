import ArgumentParser
import LedgerKit

struct Ledger: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ledger", abstract: "x")
}
Ledger.main()
