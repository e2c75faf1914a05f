import Foundation
import LedgerKit

/// Asking a person at the terminal, never through arguments or the environment.
enum Terminal {
    /// The command has no terminal to ask at (run from a script or a timer).
    struct NoTerminal: LocalizedError {
        var errorDescription: String? {
            "A passphrase can only be typed at a terminal, and this command has none. Use an identity file instead (ledger key new)."
        }
    }

    /// Reads a passphrase from /dev/tty with echo off; asks twice when `confirm`.
    static func passphrase(confirm: Bool) throws -> String {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { throw NoTerminal() }
        defer { close(tty) }
        func ask(_ prompt: String) throws -> String {
            // Echo goes off before the prompt shows, and nothing typed is flushed.
            var saved = termios()
            let isTerminal = tcgetattr(tty, &saved) == 0
            if isTerminal {
                var quiet = saved
                quiet.c_lflag &= ~tcflag_t(ECHO)
                tcsetattr(tty, TCSANOW, &quiet)
            }
            defer {
                if isTerminal { tcsetattr(tty, TCSANOW, &saved) }
                write(tty, "\n", 1)
            }
            write(tty, prompt, prompt.utf8.count)
            var bytes: [UInt8] = []
            var byte: UInt8 = 0
            while read(tty, &byte, 1) == 1, byte != 10, byte != 13 { bytes.append(byte) }
            return String(decoding: bytes, as: UTF8.self)
        }
        let first = try ask("Passphrase: ")
        guard !first.isEmpty else { throw ValidationFailure("the passphrase is empty; nothing was encrypted") }
        if confirm, try ask("Passphrase again: ") != first {
            throw ValidationFailure("the two passphrases differ; nothing was written")
        }
        return first
    }

    /// A passphrase typed that cannot be used: empty, or not the same twice.
    struct ValidationFailure: LocalizedError {
        let reason: String
        init(_ reason: String) { self.reason = reason }
        var errorDescription: String? { "The passphrase was not taken: \(reason). Try again." }
    }
}
