import ArgumentParser
import Foundation
import LedgerKit

/// `--format hledger` or `--format csv`, parsed by name.
extension ExportFormat: ExpressibleByArgument {}
