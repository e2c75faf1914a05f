import Foundation

/// A small HTTP proxy on loopback that stands in front of the S3 test server
/// and misbehaves on purpose: it answers chosen requests with an error status,
/// drops the connection in the middle of a request's body or of an answer, or
/// waits before answering. Everything else it passes through untouched, one
/// request per connection (it answers `Connection: close`).
public final class FaultProxy: @unchecked Sendable {
    /// What to do to one request.
    public enum Fault: Sendable, Equatable {
        /// Answer this status with an S3 error document of `code`, never passing the request on.
        case status(Int, code: String)
        /// Read this many bytes of the request's body, then close the connection.
        case dropRequest(afterBytes: Int)
        /// Pass the request on, relay this many bytes of the answer, then close.
        case dropResponse(afterBytes: Int)
        /// Wait this long, then pass the request on.
        case delay(TimeInterval)
        /// Answer this status with these bytes as the body, never passing the request on.
        case answer(Int, body: [UInt8])
        /// Answer this status with these headers and body, never passing the request on.
        case respond(Int, headers: [String: String], body: [UInt8])
        /// Pass the request on without this header (a server that ignores `Range`, or `If-Match`).
        case dropHeader(String)
        /// Answer this status with these bytes as the body, one byte every `every` seconds, never passing the request on.
        case trickle(Int, body: [UInt8], every: TimeInterval)
    }

    /// One request as the proxy saw it.
    public struct Request: Sendable, Equatable {
        /// The 1-based count of requests through this proxy.
        public let number: Int
        public let method: String
        /// The path and query, as sent.
        public let target: String
        /// Its headers, names in lower case.
        public let headers: [String: String]
        public let fault: Fault?
    }

    /// Chooses the fault for a request, or nil to pass it through.
    public typealias Rule = @Sendable (Request) -> Fault?

    public let port: Int
    public var endpoint: String { "http://127.0.0.1:\(port)" }
    private let upstream: Int
    private let rule: Rule
    private let listener: Int32
    // Guarded by `lock`.
    private var seen: [Request] = []
    private var served = 0
    private let lock = NSLock()

    /// Starts listening on a free loopback port, passing requests to `upstream`.
    public init(upstream: Int, rule: @escaping Rule) throws {
        self.upstream = upstream
        self.rule = rule
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Every request so far, in order.
    public var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return seen
    }

    /// Every byte of every answer sent back to clients so far, heads included.
    public var bytesServed: Int {
        lock.lock()
        defer { lock.unlock() }
        return served
    }

    /// Stops accepting connections.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return
            }
            let thread = Thread { [self] in
                serve(client)
                close(client)
            }
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        var buffered: [UInt8] = []
        guard let headEnd = readHead(client, into: &buffered) else { return }
        let head = String(decoding: buffered[..<headEnd], as: UTF8.self)
        var body = Array(buffered[(headEnd + 4)...])
        let lines = head.components(separatedBy: "\r\n")
        let words = lines.first?.split(separator: " ").map(String.init) ?? []
        guard words.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        let length = headers["content-length"].flatMap { Int($0) } ?? 0

        lock.lock()
        let number = seen.count + 1
        let probe = Request(number: number, method: words[0], target: words[1], headers: headers, fault: nil)
        let fault = rule(probe)
        seen.append(Request(number: number, method: words[0], target: words[1], headers: headers, fault: fault))
        lock.unlock()

        if case .dropRequest(let bytes) = fault {
            _ = readBody(client, have: &body, upTo: min(bytes, length))
            return
        }
        guard readBody(client, have: &body, upTo: length) else { return }
        switch fault {
        case .status(let status, let code):
            let document =
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>injected</Message></Error>"
            let answer =
                "HTTP/1.1 \(status) Injected\r\nContent-Type: application/xml\r\nContent-Length: \(document.utf8.count)\r\nConnection: close\r\n\r\n"
                + (words[0] == "HEAD" ? "" : document)
            self.answer(client, Array(answer.utf8))
            return
        case .answer(let status, let bytes):
            let head = "HTTP/1.1 \(status) Injected\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
            answer(client, Array(head.utf8) + (words[0] == "HEAD" ? [] : bytes))
            return
        case .respond(let status, let extra, let bytes):
            let lines = extra.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)\r\n" }.joined()
            let head =
                "HTTP/1.1 \(status) Injected\r\n\(lines)Content-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
            answer(client, Array(head.utf8) + (words[0] == "HEAD" ? [] : bytes))
            return
        case .trickle(let status, let bytes, let interval):
            let head = "HTTP/1.1 \(status) Injected\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n"
            answer(client, Array(head.utf8))
            for byte in words[0] == "HEAD" ? [] : bytes {
                Thread.sleep(forTimeInterval: interval)
                // The client gave up: stop.
                guard answer(client, [byte]) else { return }
            }
            return
        case .delay(let seconds):
            Thread.sleep(forTimeInterval: seconds)
        default:
            break
        }
        // Pass it on with "Connection: close", and relay the answer until the server closes.
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(server) }
        var address = Self.loopback(port: upstream)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return }
        var dropped = ["connection:"]
        if case .dropHeader(let name) = fault { dropped.append(name.lowercased() + ":") }
        let kept = lines.filter { line in !line.isEmpty && !dropped.contains { line.lowercased().hasPrefix($0) } }
        send(server, Array((kept.joined(separator: "\r\n") + "\r\nConnection: close\r\n\r\n").utf8) + body)
        var limit = Int.max
        if case .dropResponse(let bytes) = fault { limit = bytes }
        var relayed = 0
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while relayed < limit {
            let got = chunk.withUnsafeMutableBytes { recv(server, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { break }
            let count = min(got, limit - relayed)
            answer(client, Array(chunk[..<count]))
            relayed += count
        }
    }

    /// Reads until the blank line ending a request's head; returns its offset.
    private func readHead(_ client: Int32, into buffered: inout [UInt8]) -> Int? {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            if let end = Self.find([13, 10, 13, 10], in: buffered) { return end }
            guard buffered.count < 1 << 20 else { return nil }
            let got = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { return nil }
            buffered += chunk[..<got]
        }
    }

    /// Reads the body until it holds `count` bytes; false if the client left.
    private func readBody(_ client: Int32, have body: inout [UInt8], upTo count: Int) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while body.count < count {
            let got = chunk.withUnsafeMutableBytes {
                recv(client, $0.baseAddress, min($0.count, count - body.count), 0)
            }
            guard got > 0 else { return false }
            body += chunk[..<got]
        }
        return true
    }

    /// Sends bytes of an answer to a client, counted in `bytesServed`; false when the client is gone.
    @discardableResult
    private func answer(_ client: Int32, _ bytes: [UInt8]) -> Bool {
        lock.lock()
        served += bytes.count
        lock.unlock()
        return send(client, bytes)
    }

    @discardableResult
    private func send(_ socket: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<start + needle.count]) == needle { return start }
        }
        return nil
    }
}

/// Counts, per key, how often a fault rule has met something: "the first two
/// GETs of a range", "part 2's first try".
public final class Tally: @unchecked Sendable {
    // Guarded by `lock`.
    private var counts: [String: Int] = [:]
    private let lock = NSLock()

    public init() {}

    /// The 1-based count of `key`, this time included.
    public func next(_ key: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        counts[key, default: 0] += 1
        return counts[key] ?? 0
    }
}
