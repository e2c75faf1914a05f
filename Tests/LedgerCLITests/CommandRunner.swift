import Foundation
import Testing

/// What one run of the built `ledger` binary did.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs the `ledger` executable that SwiftPM built beside this test bundle, as
/// argument-parser's `AssertExecuteCommand` does.
enum Ledger {
    static let binary: URL = {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return testBinary.deletingLastPathComponent().appendingPathComponent("ledger")
    }()

    static func run(_ arguments: String..., in folder: String? = nil) throws -> CommandResult {
        try run(arguments, in: folder)
    }

    /// A config folder of the tests' own, so that no run reads or writes the
    /// keys of whoever runs the tests (~/.config/ledger).
    static let configFolder: String = {
        let folder = FileManager.default.temporaryDirectory.path + "/ledger-test-config-\(getpid())"
        try? FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return folder
    }()

    /// Runs the binary with `environment` instead of this process's, when
    /// given; either way with the tests' own config folder unless it names one.
    static func run(_ arguments: [String], environment: [String: String]? = nil, in folder: String? = nil) throws
        -> CommandResult
    {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var environment = environment ?? ProcessInfo.processInfo.environment
        if environment["XDG_CONFIG_HOME"] == nil
            || environment["XDG_CONFIG_HOME"] == ProcessInfo.processInfo.environment["XDG_CONFIG_HOME"]
        {
            environment["XDG_CONFIG_HOME"] = configFolder
        }
        process.environment = environment
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes before waiting so a chatty command cannot fill one and block.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// A fresh folder for one test, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.path + "/ledger-cli-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` as this machine's recipients file under `config/` in this
    /// folder (mode 0600), and returns its path and this process's environment
    /// pointing the tool there (`XDG_CONFIG_HOME`).
    @discardableResult
    func recipientsConfig(_ text: String) throws -> (path: String, environment: [String: String]) {
        try FileManager.default.createDirectory(atPath: file("config/ledger"), withIntermediateDirectories: true)
        let config = file("config/ledger/recipients")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o600)
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CONFIG_HOME"] = file("config")
        return (config, environment)
    }

    /// A new, empty company file (`ledger init`) in this folder.
    func books(_ name: String = "books.db") throws -> String {
        let made = try Ledger.run("init", file(name), "--name", "Acme Plumbing")
        #expect(made.status == 0, "\(made.stderr)")
        return file(name)
    }

    /// Writes `text` as the file `name` in this folder; its path.
    func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: file(name), atomically: true, encoding: .utf8)
        return file(name)
    }

    /// A sample company of `transactions` made in this folder by the built binary.
    func sample(_ name: String = "books.db", transactions: Int = 400) throws -> String {
        let made = try Ledger.run("sample", file(name), "--transactions", String(transactions))
        #expect(made.status == 0, "\(made.stderr)")
        return file(name)
    }
}

/// Runs SQL on a file with Python's sqlite3 module, as another program would,
/// with CHECK constraints off, as damage happens.
func editWithPython(_ path: String, _ sql: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", "-c",
        """
        import sqlite3, sys
        c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA ignore_check_constraints = ON')
        c.executescript(sys.argv[2]); c.commit(); c.close()
        """, path, sql,
    ]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
}

/// Writes an executable script at `path`, and runs it once (stdin empty) so
/// that no test hands on a script the kernel still refuses to run. Another
/// test's process started while the script was being written holds the file
/// open for writing until it execs, and running the script then fails with
/// "Text file busy": `ledger` would read that as no crontab at all.
func writeScript(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    for attempt in 1... {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: path)
        probe.standardInput = FileHandle.nullDevice
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        do {
            try probe.run()
            probe.waitUntilExit()
            return
        } catch {
            guard attempt < 200 else { throw error }
            Thread.sleep(forTimeInterval: 0.025)
        }
    }
}
