import ArgumentParser
import Foundation
import LedgerKit

/// ANSI colors, only when writing to a terminal.
struct Paint {
    let enabled: Bool
    /// Every code it writes: `Output.line` lets these through and escapes any other.
    static let codes = ["\u{1B}[31m", "\u{1B}[33m", "\u{1B}[1m", "\u{1B}[0m"]
    func red(_ text: String) -> String { enabled ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
    func yellow(_ text: String) -> String { enabled ? "\u{1B}[33m\(text)\u{1B}[0m" : text }
    func bold(_ text: String) -> String { enabled ? "\u{1B}[1m\(text)\u{1B}[0m" : text }
}
