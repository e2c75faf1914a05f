import Foundation

/// A repair that could not do what it must; the rebuild stops and the file is untouched.
enum RepairFailure: LocalizedError {
    case noRowMade(String)

    var errorDescription: String? {
        switch self {
        case .noRowMade(let what):
            return
                "Rebuild could not add \(what) to the repaired copy; the file is untouched. Please report it with the output of 'ledger verify FILE --json'."
        }
    }
}
