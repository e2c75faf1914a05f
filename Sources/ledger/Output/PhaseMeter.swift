import ArgumentParser
import Foundation
import LedgerKit

/// The current phase on stderr, only on a terminal.
final class PhaseMeter: @unchecked Sendable {
    // Called from the rebuilding thread only, one call at a time.
    private let enabled: Bool
    private var shown = false

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func show(_ phase: String) {
        guard enabled else { return }
        shown = true
        Output.progress("\(phase)…")
    }

    func finish() {
        if shown { Output.endProgress() }
    }
}
