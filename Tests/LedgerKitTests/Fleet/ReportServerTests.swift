import Foundation
import Testing

@testable import LedgerKit

/// `fleet serve`'s answers to requests, without a socket: the token, the Host check, the methods,
/// the headers, and hostile request heads.
@Suite struct ReportServerTests {
    static func server() throws -> ReportServer {
        try ReportServer(port: 0, token: "0123456789abcdef0123456789abcdef") { "<p>page</p>" }
    }

    /// Connects `socket` to 127.0.0.1:`port`; false when it cannot.
    static func connect(_ socket: Int32, toPort port: Int) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return connected == 0
    }

    static func answer(_ server: ReportServer, _ head: String) -> (status: String, text: String) {
        let text = String(decoding: server.respond(to: Array(head.utf8)).bytes, as: UTF8.self)
        return (text.components(separatedBy: "\r\n").first ?? "", text)
    }

    @Test func servesThePageOnlyWithTheTokenAndOurHost() throws {
        let server = try Self.server()
        let host = "127.0.0.1:\(server.port)"
        let good = Self.answer(server, "GET /\(server.token)/ HTTP/1.1\r\nHost: \(host)\r\n\r\n")
        #expect(good.status == "HTTP/1.1 200 OK")
        #expect(good.text.hasSuffix("<p>page</p>"))
        #expect(good.text.contains("Content-Security-Policy: default-src 'none'"))
        #expect(!good.text.lowercased().contains("access-control-"))
        #expect(
            Self.answer(server, "GET /\(server.token)/ HTTP/1.1\r\nHost: localhost:\(server.port)\r\n\r\n").status
                == "HTTP/1.1 200 OK")
        #expect(Self.answer(server, "GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n").status == "HTTP/1.1 404 Not found")
        #expect(
            Self.answer(server, "GET /0123456789abcdef0123456789abcdee/ HTTP/1.1\r\nHost: \(host)\r\n\r\n").status
                == "HTTP/1.1 404 Not found")
        #expect(
            Self.answer(server, "GET /\(server.token)/ HTTP/1.1\r\nHost: evil.example:\(server.port)\r\n\r\n").status
                == "HTTP/1.1 403 Forbidden")
        #expect(
            Self.answer(server, "GET /\(server.token)/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n").status
                == "HTTP/1.1 403 Forbidden")
        #expect(Self.answer(server, "GET /\(server.token)/ HTTP/1.1\r\n\r\n").status == "HTTP/1.1 403 Forbidden")
        #expect(
            Self.answer(server, "GET /\(server.token)/ HTTP/1.1\r\nHost: \(host)\r\nHost: evil\r\n\r\n").status
                == "HTTP/1.1 403 Forbidden")
        #expect(
            Self.answer(server, "POST /\(server.token)/ HTTP/1.1\r\nHost: \(host)\r\n\r\n").status
                == "HTTP/1.1 405 Method not allowed")
        let head = Self.answer(server, "HEAD /\(server.token)/ HTTP/1.1\r\nHost: \(host)\r\n\r\n")
        #expect(head.status == "HTTP/1.1 200 OK" && !head.text.contains("<p>"))
    }

    /// A peer that sends a byte now and then holds a connection no longer than
    /// its time in all (here 1 s), not that time between bytes.
    @Test func aSlowPeerHoldsAConnectionOnlyForItsTime() throws {
        let listener = try LoopbackListener(port: 0)
        let port = listener.port
        let peer = Thread {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { Glibc.close(socket) }
            guard Self.connect(socket, toPort: port) else { return }
            // One byte every 0.3 s for up to 9 s: each far within a per-read timeout of 1 s.
            // It stops once the server has closed the connection.
            for _ in 0..<30 {
                guard Glibc.send(socket, "G", 1, Int32(MSG_NOSIGNAL)) == 1 else { return }
                usleep(300_000)
            }
        }
        peer.start()
        let connection = try listener.accept(timeout: 1)
        let started = Date()
        let head = connection.read(until: Array("\r\n\r\n".utf8), limit: 16_384)
        let waited = Date().timeIntervalSince(started)
        #expect(waited < 4, "read for \(waited) s")
        #expect(!head.isEmpty && head.count < 30)
    }

    /// A page that takes longer to build than a request has to come is still sent whole:
    /// the answer's time starts once it is built.
    @Test func aPageSlowerThanTheRequestsTimeIsStillSent() throws {
        let server = try ReportServer(port: 0, token: "0123456789abcdef0123456789abcdef", requestSeconds: 1) {
            Thread.sleep(forTimeInterval: 2)
            return "<p>slow page</p>"
        }
        let port = server.port
        let received = Received()
        let peer = Thread {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer {
                Glibc.close(socket)
                received.done.signal()
            }
            guard Self.connect(socket, toPort: port) else { return }
            let request = Array(
                "GET /0123456789abcdef0123456789abcdef/ HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var buffer = [UInt8](repeating: 0, count: 4_096)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.recv(socket, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { break }
                received.append(buffer[0..<count])
            }
        }
        peer.start()
        var logged: [String] = []
        try server.serveOne { logged.append($0) }
        #expect(received.done.wait(timeout: .now() + 10) == .success)
        let text = String(decoding: received.bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text)")
        #expect(text.hasSuffix("\r\n\r\n<p>slow page</p>"), "\(text)")
        #expect(logged == ["200 OK"])
    }

    /// What a peer thread received, handed to the test.
    private final class Received: @unchecked Sendable {
        // `stored` is guarded by `lock`.
        private let lock = NSLock()
        private var stored: [UInt8] = []
        let done = DispatchSemaphore(value: 0)

        func append(_ chunk: ArraySlice<UInt8>) {
            lock.lock()
            defer { lock.unlock() }
            stored += chunk
        }

        var bytes: [UInt8] {
            lock.lock()
            defer { lock.unlock() }
            return stored
        }
    }

    /// Peers that connect and send nothing hold up no one else: the page
    /// comes at once, not after each silent peer's time in turn.
    @Test func silentPeersHoldUpNoOneElse() throws {
        let server = try ReportServer(port: 0, token: "0123456789abcdef0123456789abcdef", requestSeconds: 5) {
            "<p>page</p>"
        }
        let port = server.port
        let serving = Thread { try? server.serve() }
        serving.start()
        var silent: [Int32] = []
        defer { for socket in silent { Glibc.close(socket) } }
        for _ in 0..<10 {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #expect(Self.connect(socket, toPort: port))
            silent.append(socket)
        }
        usleep(200_000)
        let started = Date()
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(socket) }
        #expect(Self.connect(socket, toPort: port))
        let request = Array("GET /\(server.token)/ HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        let waited = Date().timeIntervalSince(started)
        #expect(String(decoding: received, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(waited < 4, "answered after \(waited) s")
    }

    /// Visits within two seconds share one page: a burst reads the records once.
    @Test func aBurstOfVisitsSharesOnePage() throws {
        let builds = Counter()
        let server = try ReportServer(port: 0, token: "0123456789abcdef0123456789abcdef") {
            builds.add()
            return "<p>page</p>"
        }
        let head = "GET /\(server.token)/ HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n\r\n"
        for _ in 0..<5 { #expect(Self.answer(server, head).status == "HTTP/1.1 200 OK") }
        #expect(builds.value == 1)
    }

    /// A count shared with a page closure.
    private final class Counter: @unchecked Sendable {
        // `count` is guarded by `lock`.
        private let lock = NSLock()
        private var count = 0

        func add() {
            lock.lock()
            defer { lock.unlock() }
            count += 1
        }

        var value: Int {
            lock.lock()
            defer { lock.unlock() }
            return count
        }
    }

    @Test func newTokensAreLongAndDiffer() {
        let tokens = (0..<20).map { _ in ReportServer.newToken() }
        #expect(Set(tokens).count == 20)
        #expect(tokens.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }

    @Test(arguments: 0..<4) func hostileHeadsAreRefused(seed: Int) throws {
        let server = try Self.server()
        var random = SplitMix64(seed: UInt64(seed) &+ 99)
        for _ in 0..<300 {
            let bytes = (0..<Int(random.next() % 400)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let status = Self.answer(server, String(decoding: bytes, as: UTF8.self) + "\r\n\r\n").status
            #expect(status != "HTTP/1.1 200 OK")
        }
        #expect(Self.answer(server, "garbage").status == "HTTP/1.1 400 Bad request")
    }
}
