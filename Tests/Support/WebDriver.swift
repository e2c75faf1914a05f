import Foundation

/// A headless Chromium driven through chromedriver's W3C WebDriver protocol, for tests
/// of the pages ledger writes. The browser logs its console and its network events
/// (`log("browser")`, `log("performance")`) so a test can show a page fetched nothing.
public final class WebDriver {
    private let driver = Process()
    private let port: Int
    private var session = ""

    /// Starts chromedriver on a free loopback port and opens a headless browser session.
    public init(chromedriver: String, chromium: String = "/usr/bin/chromium") throws {
        let port = try Self.freePort()
        self.port = port
        driver.executableURL = URL(fileURLWithPath: chromedriver)
        driver.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        let deadline = Date().addingTimeInterval(20)
        while true {
            do {
                _ = try call("GET", "/status")
                break
            } catch {
                guard Date() < deadline else {
                    kill(driver.processIdentifier, SIGKILL)
                    throw Failure(what: "chromedriver did not start on port \(port): \(error)")
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        let options: [String: Any] = [
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1300,700", "--no-first-run", "--disable-extensions",
            ],
        ]
        let capabilities: [String: Any] = [
            "alwaysMatch": [
                "browserName": "chrome", "goog:chromeOptions": options,
                "goog:loggingPrefs": ["browser": "ALL", "performance": "ALL"],
            ]
        ]
        let answer = try call("POST", "/session", ["capabilities": capabilities])
        guard let value = answer as? [String: Any], let id = value["sessionId"] as? String else {
            kill(driver.processIdentifier, SIGKILL)
            throw Failure(what: "no session: \(String(describing: answer))")
        }
        session = id
    }

    /// Ends the session and chromedriver.
    public func quit() {
        _ = try? call("DELETE", "/session/\(session)")
        // SIGKILL: a test runner may have blocked SIGTERM in the threads that start processes.
        kill(driver.processIdentifier, SIGKILL)
        driver.waitUntilExit()
    }

    public func open(_ url: String) throws {
        _ = try call("POST", "/session/\(session)/url", ["url": url])
    }

    /// The elements matching a CSS selector, in document order.
    public func elements(_ selector: String) throws -> [String] {
        let value = try call("POST", "/session/\(session)/elements", ["using": "css selector", "value": selector])
        return (value as? [[String: Any]] ?? []).compactMap { $0.values.first as? String }
    }

    /// An attribute of every element matching `selector`.
    public func attributes(of selector: String, _ name: String) throws -> [String?] {
        try elements(selector).map { try call("GET", "/session/\(session)/element/\($0)/attribute/\(name)") as? String }
    }

    public func isDisplayed(_ selector: String) throws -> Bool {
        guard let element = try elements(selector).first else { throw Failure(what: "no element \(selector)") }
        return try call("GET", "/session/\(session)/element/\(element)/displayed") as? Bool ?? false
    }

    public func click(_ selector: String) throws {
        guard let element = try elements(selector).first else { throw Failure(what: "no element \(selector)") }
        _ = try call("POST", "/session/\(session)/element/\(element)/click", [:])
    }

    public func text(of selector: String) throws -> String {
        guard let element = try elements(selector).first else { throw Failure(what: "no element \(selector)") }
        return try call("GET", "/session/\(session)/element/\(element)/text") as? String ?? ""
    }

    /// The page as a PNG.
    public func screenshot() throws -> Data {
        guard let text = try call("GET", "/session/\(session)/screenshot") as? String,
            let data = Data(base64Encoded: text)
        else { throw Failure(what: "no screenshot") }
        return data
    }

    /// The entries of one of the browser's logs (`browser`, `performance`) since the last call.
    public func log(_ type: String) throws -> [[String: Any]] {
        try call("POST", "/session/\(session)/se/log", ["type": type]) as? [[String: Any]] ?? []
    }

    /// One WebDriver command; its `value`, or a thrown error with the driver's message.
    /// (Plain HTTP/1.1 over a socket: the toolchain's URLSession fails on chromedriver's
    /// answers with "Failed writing header".)
    private func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> Any? {
        let content = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if body != nil { head += "Content-Type: application/json\r\n" }
        head += "Content-Length: \(content.count)\r\n\r\n"
        let answer = try Self.exchange(port: port, Data(head.utf8) + content)
        guard let split = answer.range(of: Data("\r\n\r\n".utf8)),
            let object = try JSONSerialization.jsonObject(with: answer[split.upperBound...]) as? [String: Any]
        else {
            throw Failure(what: "\(method) \(path): no JSON answer")
        }
        let value = object["value"]
        if let problem = value as? [String: Any], let error = problem["error"] as? String {
            throw Failure(what: "\(method) \(path): \(error): \(problem["message"] as? String ?? "")")
        }
        return value
    }

    /// Sends `request` to 127.0.0.1:`port` and reads the answer until the peer closes.
    private static func exchange(port: Int, _ request: Data) throws -> Data {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(what: "socket") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(what: "cannot connect to port \(port)") }
        var limit = timeval(tv_sec: 60, tv_usec: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let bytes = [UInt8](request)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes {
                send(descriptor, $0.baseAddress.map { $0 + sent }, $0.count - sent, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { throw Failure(what: "send to port \(port)") }
            sent += count
        }
        var answer = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !complete(answer) {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            answer.append(contentsOf: buffer[0..<count])
        }
        return answer
    }

    /// Whether an answer holds its whole head and as many body bytes as its Content-Length says
    /// (chromedriver may keep the connection open after answering).
    private static func complete(_ answer: Data) -> Bool {
        guard let split = answer.range(of: Data("\r\n\r\n".utf8)) else { return false }
        let head = String(decoding: answer[..<split.lowerBound], as: UTF8.self).lowercased()
        guard let line = head.components(separatedBy: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return answer.count - split.upperBound >= length
    }

    /// A port the system has free now.
    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw Failure(what: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Why the browser could not do what a test asked.
    public struct Failure: Error, CustomStringConvertible {
        public let what: String
        public var description: String { what }
    }
}
