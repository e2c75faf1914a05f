import Foundation

/// The S3 API server the object-storage tests talk to: moto's server on
/// loopback. `Scripts/test.sh` starts one and names it in
/// LEDGER_S3_TEST_ENDPOINT; without that, the first test that needs it starts
/// its own (`moto_server`, installed with `pip install "moto[server]"`), which
/// is ended when the tests end. A test that needs it fails when it cannot start.
public enum S3TestServer {
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The endpoint (`http://127.0.0.1:PORT`), started once per test run.
    public static let endpoint: Result<String, Unavailable> = {
        if let given = ProcessInfo.processInfo.environment["LEDGER_S3_TEST_ENDPOINT"], !given.isEmpty {
            return .success(given)
        }
        let folders =
            ["/usr/local/bin", "/usr/bin", NSHomeDirectory() + "/.local/bin"]
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        guard let server = folders.map({ $0 + "/moto_server" }).first(where: FileManager.default.isExecutableFile)
        else {
            return .failure(
                Unavailable(
                    description: "moto_server is not installed: run Scripts/test.sh, or pip install \"moto[server]\""))
        }
        let port = 20_000 + Int(getpid() % 20_000)
        // A watchdog shell ends the server when this test process is gone, however it
        // ends (with SIGKILL: children of the test runner inherit a mask blocking SIGTERM).
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c",
            """
            "$0" -H 127.0.0.1 -p \(port) >/dev/null 2>&1 &
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            pkill -KILL -f "moto_server -H 127.0.0.1 -p \(port)"
            """, server,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .failure(Unavailable(description: "moto_server could not start: \(error)"))
        }
        // Ready when it accepts a connection.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if accepts(port: port) { return .success("http://127.0.0.1:\(port)") }
            usleep(200_000)
        }
        return .failure(Unavailable(description: "moto_server did not answer on port \(port) within 30 s"))
    }()

    private static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// The port of `endpoint`.
    public static func port() throws -> Int {
        guard let port = URL(string: try endpoint.get())?.port else {
            throw Unavailable(description: "the test endpoint has no port")
        }
        return port
    }

    /// The environment a program talking to the test server runs with (moto
    /// takes any key): this process's, with the AWS variables pointing there.
    public static func environment(endpoint: String? = nil) throws -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["AWS_ACCESS_KEY_ID"] = "testing"
        environment["AWS_SECRET_ACCESS_KEY"] = "testing"
        environment["AWS_REGION"] = "us-east-1"
        environment["AWS_DEFAULT_REGION"] = "us-east-1"
        environment["AWS_ENDPOINT_URL"] = try endpoint ?? self.endpoint.get()
        environment["AWS_PROFILE"] = nil
        return environment
    }

    /// A bucket of its own for one test.
    public static func bucketName() -> String {
        "test-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }
}
