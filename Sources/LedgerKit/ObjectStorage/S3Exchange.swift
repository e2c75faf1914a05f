import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Where the body of a successful (2xx) answer goes, chosen once its head is
/// in: a server's answer is read as it arrives and never past a bound, so a
/// server that sends more than it should costs its bound, not the memory or
/// the disk of this machine.
enum AnswerBody {
    /// All of it in memory, failing (`S3Failure.tooLarge`) past `limit` bytes.
    case memory(limit: Int)
    /// Its first `count` bytes in memory; the transfer ends there, the rest unread.
    case first(Int)
    /// Written into a file as it arrives.
    case file(FileSink)

    /// What a body is chosen by: the answer's head. Throwing ends the transfer with that error.
    typealias Plan = @Sendable (HTTPURLResponse) throws -> AnswerBody

    /// How much of an answer that is not a success (an error document) is kept: S3's are under 1 KiB.
    static let errorBytes = 64 << 10
}

/// The bytes of one answer going into a file at their place, never past `end`.
/// Used on the session's delegate queue while the transfer runs, then read by
/// the caller once it is over.
final class FileSink: @unchecked Sendable {
    let descriptor: Int32
    let path: String
    /// Where the next byte goes.
    private(set) var position: Int64
    /// One past the last byte this answer may write.
    let end: Int64
    /// Bytes written so far.
    private(set) var written: Int64 = 0

    init(descriptor: Int32, path: String, from start: Int64, end: Int64) {
        self.descriptor = descriptor
        self.path = path
        position = start
        self.end = end
    }

    func write(_ data: Data) throws {
        guard Int64(data.count) <= end - position else { throw S3Failure.tooLarge(bytes: end) }
        try data.withUnsafeBytes { try SystemCalls.pwrite(descriptor, $0, at: position, path: path) }
        position += Int64(data.count)
        written += Int64(data.count)
    }
}

/// The requests of one session, each with its body's plan, fed by URLSession's
/// delegate queue (one queue: an answer's pieces arrive in order) and handed
/// to the caller waiting in `run`. Redirects are never followed: a signed
/// request goes only to the endpoint configured.
final class S3Exchanges: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // Guarded by `lock`.
    private var running: [Int: Exchange] = [:]
    private let lock = NSLock()

    /// Starts `task` and waits for its answer, at most `seconds` in all; the body is read as `plan` says.
    /// - Throws: `S3Failure.tooSlow` naming `request` when the time ran out (the task is cancelled).
    func run(_ task: URLSessionTask, plan: @escaping AnswerBody.Plan, within seconds: TimeInterval, request: String)
        throws -> (HTTPURLResponse, Data)
    {
        let exchange = Exchange(plan: plan)
        lock.lock()
        running[task.taskIdentifier] = exchange
        lock.unlock()
        task.resume()
        return try exchange.wait(within: seconds) {
            task.cancel()
            return S3Failure.tooSlow(request: request, seconds: Int(seconds.rounded(.up)))
        }
    }

    private func exchange(_ task: URLSessionTask) -> Exchange? {
        lock.lock()
        defer { lock.unlock() }
        return running[task.taskIdentifier]
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @Sendable @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        // FoundationNetworking ignores the disposition: a transfer is stopped by cancelling it.
        if let exchange = exchange(dataTask), !exchange.begin(response) { dataTask.cancel() }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        if let exchange = exchange(dataTask), !exchange.take(data) { dataTask.cancel() }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @Sendable @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.lock()
        let exchange = running.removeValue(forKey: task.taskIdentifier)
        lock.unlock()
        exchange?.finish(error, response: task.response)
    }

    /// One request's state, from its head to its end.
    private final class Exchange: @unchecked Sendable {
        private let plan: AnswerBody.Plan
        // Touched only on the delegate queue until `done` is signalled, then only by the waiting caller.
        private var response: HTTPURLResponse?
        private var body: AnswerBody = .memory(limit: AnswerBody.errorBytes)
        private var data = Data()
        private var failure: (any Error)?
        /// The body holds all the caller asked for; the transfer was ended on purpose.
        private var enough = false
        private let done = DispatchSemaphore(value: 0)

        init(plan: @escaping AnswerBody.Plan) {
            self.plan = plan
        }

        /// Chooses the body's place; false when the transfer must stop.
        func begin(_ head: URLResponse) -> Bool {
            guard let http = head as? HTTPURLResponse else {
                failure = S3Failure.notHTTP
                return false
            }
            response = http
            guard (200..<300).contains(http.statusCode) else {
                body = .first(AnswerBody.errorBytes)
                return true
            }
            do {
                body = try plan(http)
                if case .first(let count) = body, count == 0 {
                    enough = true
                    return false
                }
                return true
            } catch {
                failure = error
                return false
            }
        }

        /// Takes the next piece; false when the transfer must stop (enough, or too much).
        func take(_ piece: Data) -> Bool {
            guard failure == nil, !enough else { return false }
            switch body {
            case .memory(let limit):
                guard piece.count <= limit - data.count else {
                    failure = S3Failure.tooLarge(bytes: Int64(limit))
                    return false
                }
                data.append(piece)
            case .first(let count):
                data.append(piece.prefix(count - data.count))
                if data.count >= count { enough = true }
            case .file(let sink):
                do {
                    try sink.write(piece)
                } catch {
                    failure = error
                }
            }
            return failure == nil && !enough
        }

        func finish(_ error: (any Error)?, response last: URLResponse?) {
            if response == nil, let http = last as? HTTPURLResponse { response = http }
            if failure == nil, !enough, let error { failure = error }
            done.signal()
        }

        /// Waits for the end, at most `seconds`; then `late` stops the transfer and
        /// says why, and the end it brings (cancelled) is waited for, so that no
        /// piece is written after the caller goes on.
        func wait(within seconds: TimeInterval, late: () -> any Error) throws -> (HTTPURLResponse, Data) {
            if done.wait(timeout: .now() + min(seconds, 1e7)) == .timedOut {
                let error = late()
                done.wait()
                throw error
            }
            if let failure { throw failure }
            guard let response else { throw S3Failure.notHTTP }
            return (response, data)
        }
    }
}
