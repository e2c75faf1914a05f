import Foundation

/// A TCP listening socket bound to 127.0.0.1 only, and the raw calls a small
/// HTTP server needs on its connections. Every call retries EINTR; failures throw
/// `SystemCallError`. The listener owns its descriptor and closes it in `deinit`.
final class LoopbackListener {
    /// The port the system gave (or the one asked for).
    let port: Int
    private let descriptor: Int32

    /// Binds 127.0.0.1:`port` (0: any free port) and listens.
    init(port: Int) throws {
        let socketDescriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketDescriptor >= 0 else { throw SystemCallError(call: "socket", path: "127.0.0.1", code: errno) }
        var reuse: Int32 = 1
        _ = setsockopt(socketDescriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(socketDescriptor, 16) == 0 else {
            let code = errno
            Glibc.close(socketDescriptor)
            throw SystemCallError(call: "bind", path: "127.0.0.1:\(port)", code: code)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketDescriptor, $0, &length) }
        }
        guard named == 0 else {
            let code = errno
            Glibc.close(socketDescriptor)
            throw SystemCallError(call: "getsockname", path: "127.0.0.1", code: code)
        }
        self.descriptor = socketDescriptor
        self.port = Int(UInt16(bigEndian: actual.sin_port))
    }

    deinit { Glibc.close(descriptor) }

    /// Lets SIGINT, SIGTERM and SIGHUP end the process again: a server runs until it is stopped,
    /// and a parent that blocked those signals before starting it (some test runners and
    /// supervisors do, and the mask is inherited) must still be able to stop it.
    static func allowTerminationSignals() {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, signal) }
        _ = pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    /// Waits for the next connection; its reads give up once `timeout` seconds have
    /// passed since it was accepted, in all: a peer sending a byte now and then holds
    /// the server no longer than that. Writing has a time of its own (`write(_:within:)`).
    func accept(timeout: Int) throws -> LoopbackConnection {
        while true {
            let connection = Glibc.accept(descriptor, nil, nil)
            if connection >= 0 {
                _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
                var limit = timeval(tv_sec: timeout, tv_usec: 0)
                let size = socklen_t(MemoryLayout<timeval>.size)
                _ = setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &limit, size)
                _ = setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &limit, size)
                return LoopbackConnection(
                    descriptor: connection,
                    deadline: DispatchTime.now().uptimeNanoseconds + UInt64(max(timeout, 0)) * 1_000_000_000)
            }
            if errno == EINTR || errno == ECONNABORTED { continue }
            throw SystemCallError(call: "accept", path: "127.0.0.1:\(port)", code: errno)
        }
    }
}

/// One accepted connection; closed in `deinit`.
final class LoopbackConnection {
    private let descriptor: Int32
    /// When the connection's time is up, on the monotonic clock, in nanoseconds.
    private var deadline: UInt64

    init(descriptor: Int32, deadline: UInt64) {
        self.descriptor = descriptor
        self.deadline = deadline
    }

    /// Waits until the connection is ready for `events` (`POLLIN`, `POLLOUT`) or its time is up.
    /// - Returns: false when its time is up (or the wait failed).
    private func ready(for events: Int32) -> Bool {
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return false }
            var entry = pollfd(fd: descriptor, events: Int16(events), revents: 0)
            let milliseconds = Int32(min((deadline - now) / 1_000_000 + 1, UInt64(Int32.max)))
            let result = poll(&entry, 1, milliseconds)
            if result > 0 { return true }
            if result < 0 && errno != EINTR { return false }
        }
    }

    deinit { Glibc.close(descriptor) }

    /// Reads until the bytes hold `terminator`, the peer stops, the connection's time is up, or
    /// `limit` bytes came; returns what came.
    func read(until terminator: [UInt8], limit: Int) -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while received.count < limit, ready(for: Int32(POLLIN)) {
            let count = chunk.withUnsafeMutableBytes { buffer in
                Glibc.recv(descriptor, buffer.baseAddress, min(buffer.count, limit - received.count), 0)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            let searchFrom = max(0, received.count - count - terminator.count)
            received.append(contentsOf: chunk[0..<count])
            if Self.contains(received, terminator, from: searchFrom) { break }
        }
        return received
    }

    private static func contains(_ bytes: [UInt8], _ needle: [UInt8], from start: Int) -> Bool {
        guard !needle.isEmpty, bytes.count >= needle.count else { return false }
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }

    /// Gives the connection `seconds` from now for what follows: an answer's time starts once
    /// it is ready, not when the request came, however long building it took.
    func allow(seconds: Int) {
        deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(seconds, 0)) * 1_000_000_000
    }

    /// Writes all of `bytes`, or as much as the peer takes before it goes away or the connection's time is up.
    func write(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count, ready(for: Int32(POLLOUT)) {
            let count = Glibc.send(
                descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            offset += count
        }
    }
}
