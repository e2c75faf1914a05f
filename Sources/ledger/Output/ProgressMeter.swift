import ArgumentParser
import Foundation
import LedgerKit

/// Phase and percent on stderr, only on a terminal and only once a run has taken a second.
final class ProgressMeter: @unchecked Sendable {
    // Touched from the verifying thread only, one call at a time.
    private let enabled: Bool
    private let started = Date()
    private var shown = false

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func show(_ phase: String, _ fraction: Double) {
        guard enabled, Date().timeIntervalSince(started) > 1 else { return }
        shown = true
        Output.progress("\(phase)… \(Int(fraction * 100))%")
    }

    func finish() {
        if shown { Output.endProgress() }
    }
}
