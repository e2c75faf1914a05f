import Foundation

/// A program a test runs that is not part of this package (hledger, …).
///
/// `Scripts/test.sh` installs every one of them; a developer running
/// `swift test` alone gets one line naming what is missing and how to get it.
public struct ExternalTool: Sendable {
    public let name: String
    public let path: String

    public struct Missing: Error, CustomStringConvertible {
        public let name: String
        public let install: String
        public var description: String { "\(name) is not installed: run Scripts/test.sh, or \(install)" }
    }

    /// Finds `name` in the usual places, or throws `Missing`, which fails the
    /// test with one line.
    public static func require(_ name: String, install: String) throws -> ExternalTool {
        let folders =
            ["/usr/bin", "/usr/local/bin", "/bin"]
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        guard let path = folders.map({ $0 + "/" + name }).first(where: FileManager.default.isExecutableFile) else {
            throw Missing(name: name, install: install)
        }
        return ExternalTool(name: name, path: path)
    }

    /// Runs the tool and returns its exit status and what it printed (stdout and stderr).
    public func run(_ arguments: [String], environment: [String: String]? = nil) throws -> (
        status: Int32, output: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
