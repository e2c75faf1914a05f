import Foundation

/// `ledger fleet serve`: the fleet report's page over HTTP on 127.0.0.1 only
/// (docs/fleet-report.md). It answers GET and HEAD of `/TOKEN/` and nothing else:
/// a request without the random token, or whose Host header is not this loopback
/// address and port (a DNS-rebinding page), is refused; it sends no CORS header,
/// so no other site's script may read the page, and it runs nothing: each request
/// reads the status records and builds the page anew (see `pageSeconds`).
///
/// Each connection is answered on a thread of its own (at most `connectionLimit`
/// at once), so a peer that sends its request slowly, or never, holds up no
/// other; pages are built one at a time, and one built in the last
/// `pageSeconds` serves the visits meanwhile, so a burst shares one page.
/// Its state is set once and never changed, and `page` and the log are called
/// under `building`: it may be shared with those threads.
public final class ReportServer: @unchecked Sendable {
    /// The random token, 32 hex digits, that the URL must carry.
    public let token: String
    /// The port the server listens on.
    public var port: Int { listener.port }
    /// The address to open: `http://127.0.0.1:PORT/TOKEN/`.
    public var url: String { "http://127.0.0.1:\(port)/\(token)/" }

    private let listener: LoopbackListener
    private let page: () throws -> String
    private let requestSeconds: Int

    /// Request heads larger than this are refused.
    static let headLimit = 16 * 1024
    /// Seconds a connection has to take its answer, counted from when the answer is ready.
    static let answerSeconds = 30
    /// Connections answered at once; one more is closed unanswered.
    static let connectionLimit = 64
    /// Seconds a page built serves the visits that come meanwhile: a burst of
    /// them shares one page (one reading of the records, one copy in memory).
    static let pageSeconds: TimeInterval = 2
    /// The page built last and when; guarded by `building`.
    private var lastPage: (at: Date, html: String)?

    /// Held while a page is built and while the log hears a line.
    private let building = NSLock()
    /// Connections being answered; guarded by `counting`.
    private var open = 0
    private let counting = NSLock()

    /// Listens on 127.0.0.1:`port` (0: any free port); `page` builds the HTML for each request.
    /// Each connection has `requestSeconds` to send its request head; building the page does
    /// not count against it.
    public init(
        port: Int, token: String = ReportServer.newToken(), requestSeconds: Int = 5,
        page: @escaping () throws -> String
    ) throws {
        do {
            listener = try LoopbackListener(port: port)
        } catch let error as SystemCallError {
            throw ReportError.cannotListen(port, error.reason)
        }
        self.token = token
        self.requestSeconds = requestSeconds
        self.page = page
    }

    /// 128 random bits as 32 hex digits.
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let value = generator.next() as UInt64
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }

    /// Answers connections, each on a thread of its own, until the process is
    /// stopped; `log` hears one line a request, one line at a time.
    public func serve(log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        LoopbackListener.allowTerminationSignals()
        while true {
            let connection = Handed(try listener.accept(timeout: requestSeconds))
            guard take() else { continue }  // Too many at once: this one is closed unanswered.
            Thread.detachNewThread { [self] in
                defer { give() }
                answer(connection.value, log: log)
            }
        }
    }

    /// Waits for one connection and answers it on this thread.
    func serveOne(log: (String) -> Void) throws {
        answer(try listener.accept(timeout: requestSeconds), log: log)
    }

    /// A connection handed to the thread that answers it, and used by that thread alone.
    private struct Handed: @unchecked Sendable {
        let value: LoopbackConnection
        init(_ value: LoopbackConnection) { self.value = value }
    }

    /// Counts one more connection being answered, unless `connectionLimit` are.
    private func take() -> Bool {
        counting.lock()
        defer { counting.unlock() }
        guard open < Self.connectionLimit else { return false }
        open += 1
        return true
    }

    private func give() {
        counting.lock()
        defer { counting.unlock() }
        open -= 1
    }

    /// Reads the request on `connection` (within its time) and answers it.
    private func answer(_ connection: LoopbackConnection, log: (String) -> Void) {
        let head = connection.read(until: Array("\r\n\r\n".utf8), limit: Self.headLimit)
        building.lock()
        var answer = respond(to: head)
        building.unlock()
        // The page may take longer to build than the request had to come: the answer's time starts now.
        connection.allow(seconds: Self.answerSeconds)
        answer.head.withUnsafeBytes { connection.write($0) }
        // Sent from the page's own bytes: a large page is not copied again.
        answer.body.withUTF8 { connection.write(UnsafeRawBufferPointer($0)) }
        building.lock()
        log(answer.summary)
        building.unlock()
    }

    /// An HTTP answer and the line the log shows for it.
    struct Answer {
        /// The status line and the headers, through the blank line.
        let head: [UInt8]
        /// The body (empty for HEAD).
        var body: String
        let summary: String

        /// The whole answer, as sent.
        var bytes: [UInt8] { head + Array(body.utf8) }
    }

    /// The answer to one request head (the bytes up to the blank line).
    func respond(to head: [UInt8]) -> Answer {
        guard let request = Request(head) else { return answer(400, "Bad request", "the request could not be read") }
        guard request.method == "GET" || request.method == "HEAD" else {
            return answer(405, "Method not allowed", "\(request.method): only GET is served", allow: true)
        }
        let allowed = ["127.0.0.1:\(port)", "localhost:\(port)"]
        guard let host = request.host, allowed.contains(host.lowercased()) else {
            return answer(403, "Forbidden", "wrong Host header: open the URL that ledger fleet serve printed")
        }
        guard Self.sameBytes(request.target, "/\(token)/") || Self.sameBytes(request.target, "/\(token)") else {
            return answer(404, "Not found", "this page needs the token that ledger fleet serve printed")
        }
        do {
            let html: String
            if let last = lastPage, abs(last.at.timeIntervalSinceNow) < Self.pageSeconds {
                html = last.html
            } else {
                html = try page()
                lastPage = (Date(), html)
            }
            return answer(200, "OK", html, type: "text/html; charset=utf-8", bodyless: request.method == "HEAD")
        } catch {
            let why = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            return answer(500, "Internal server error", "the report could not be built: " + why)
        }
    }

    private func answer(
        _ status: Int, _ reason: String, _ body: String, type: String = "text/plain; charset=utf-8",
        bodyless: Bool = false, allow: Bool = false
    ) -> Answer {
        var head = "HTTP/1.1 \(status) \(reason)\r\n"
        head += "Content-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\n"
        head += "Content-Security-Policy: \(FleetReport.contentSecurityPolicy); frame-ancestors 'none'\r\n"
        head += "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n"
        head += "Cache-Control: no-store\r\nCross-Origin-Resource-Policy: same-origin\r\n"
        if allow { head += "Allow: GET, HEAD\r\n" }
        head += "Connection: close\r\n\r\n"
        return Answer(head: Array(head.utf8), body: bodyless ? "" : body, summary: "\(status) \(reason)")
    }

    /// Compares two texts in time that depends on their lengths only, not on where they differ.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The parts of a request head the server looks at.
    struct Request {
        let method: String
        let target: String
        /// The Host header, when there is exactly one.
        let host: String?

        init?(_ head: [UInt8]) {
            guard let end = Self.range(of: Array("\r\n\r\n".utf8), in: head) else { return nil }
            let text = String(decoding: head[0..<end], as: UTF8.self)
            let lines = text.components(separatedBy: "\r\n")
            let parts = lines.first?.split(separator: " ", omittingEmptySubsequences: false) ?? []
            guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return nil }
            method = String(parts[0])
            target = String(parts[1])
            let hosts = lines.dropFirst().compactMap { line -> String? in
                guard let colon = line.firstIndex(of: ":"),
                    line[..<colon].lowercased() == "host"
                else { return nil }
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            host = hosts.count == 1 ? hosts[0] : nil
        }

        private static func range(of needle: [UInt8], in bytes: [UInt8]) -> Int? {
            guard bytes.count >= needle.count else { return nil }
            for start in 0...(bytes.count - needle.count)
            where bytes[start..<start + needle.count].elementsEqual(needle) {
                return start
            }
            return nil
        }
    }
}
