import Foundation

/// Another program holding a company file, as tests need one: a Python process
/// with its sqlite3 module, since a connection of the test's own process would
/// share its POSIX locks and so never look busy.
public final class FileHolder {
    public enum Hold: String {
        /// An open connection that has read the file (a WAL reader).
        case open
        /// `locking_mode=EXCLUSIVE` and an open write transaction.
        case exclusive
        /// An open write transaction (`BEGIN IMMEDIATE`) in the usual locking
        /// mode: others still read the file, but no one else may write it.
        case writing
    }

    private let process = Process()

    /// Starts holding `path` and returns once the hold is in place.
    public init(_ path: String, _ hold: Hold) throws {
        let statements =
            switch hold {
            case .open: "c.execute('SELECT COUNT(*) FROM accounts').fetchone()"
            case .exclusive:
                "c.execute('PRAGMA locking_mode=EXCLUSIVE'); c.execute('BEGIN IMMEDIATE'); c.execute('UPDATE company SET name = name')"
            case .writing: "c.execute('BEGIN IMMEDIATE'); c.execute('UPDATE company SET name = name')"
            }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            \(statements)
            print('held', flush=True); time.sleep(30)
            """, path,
        ]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        _ = out.fileHandleForReading.availableData
    }

    /// Ends the holding program.
    public func release() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { release() }
    }
}
