import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection to a loopback port that sends exactly the bytes a test gives (pipelined
/// requests, a garbage line, a body cut short) and reads HTTP/1.1 responses back one at a time.
///
/// Every call blocks, each bounded by its own timeout: run them on a thread of their own
/// (`onOwnThread`), not on Swift's cooperative pool.
public final class RawConnection: Sendable {
    /// An HTTP/1.x response as it came over the wire.
    public struct Response: Sendable, CustomStringConvertible {
        /// "HTTP/1.1 200 OK"
        public var statusLine: String
        public var status: Int
        /// Names lower-cased; a repeated field keeps its last value.
        public var headers: [String: String]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
        public var description: String { "\(statusLine) \(text.debugDescription)" }
    }

    /// How waiting for the server to close the connection ended.
    public struct Ending: Sendable, CustomStringConvertible {
        /// The server closed it (end of stream, or a reset).
        public var closed: Bool
        /// Seconds from the call until it closed, or until the wait gave up.
        public var seconds: TimeInterval
        /// Whatever arrived meanwhile (nothing, for a server that had answered everything).
        public var bytes: [UInt8]
        public var description: String {
            "\(closed ? "closed" : "still open") after \(seconds) s, received \(String(decoding: bytes, as: UTF8.self).debugDescription)"
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private let descriptor: Int32
    /// Received bytes not yet returned as part of a response.
    private let unread = Mutex<[UInt8]>([])

    /// Connects to 127.0.0.1:`port`.
    public init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw Failure(description: "connect to 127.0.0.1:\(port): \(reason)")
        }
    }

    deinit {
        Glibc.close(descriptor)
    }

    /// Writes all of `bytes` (one `send` unless the kernel takes less).
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "send: \(String(cString: strerror(errno)))")
            }
            offset += sent
        }
    }

    public func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    /// Tells the server this client will send nothing more (a FIN, as `close` sends), while
    /// its answer can still be read.
    public func finishSending() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// The next response: framed by Content-Length or chunked encoding, by the end of the
    /// stream otherwise; no body for a response to HEAD (`toHead`). Throws if it has not fully
    /// arrived within `timeout` seconds or the connection ends first.
    public func response(toHead: Bool = false, timeout: TimeInterval = 5) throws -> Response {
        let deadline = Date().addingTimeInterval(timeout)
        let headEnd = try readUntil(Array("\r\n\r\n".utf8), deadline: deadline)
        let head = String(decoding: take(headEnd), as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n").dropLast(2)
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw Failure(description: "not an HTTP/1.x status line: \(statusLine.debugDescription)")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw Failure(description: "malformed header line \(line.debugDescription)") }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body: [UInt8] = []
        if toHead || status / 100 == 1 || status == 204 || status == 304 {
            // No body, whatever Content-Length says (RFC 9112 §6.3).
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                let sizeEnd = try readUntil(Array("\r\n".utf8), deadline: deadline)
                let sizeLine = String(decoding: take(sizeEnd), as: UTF8.self).dropLast(2)
                guard let size = Int(sizeLine.prefix { $0 != ";" }, radix: 16) else {
                    throw Failure(description: "malformed chunk size \(String(sizeLine).debugDescription)")
                }
                if size == 0 {
                    _ = take(try readUntil(Array("\r\n".utf8), deadline: deadline))
                    break
                }
                try fill(size + 2, deadline: deadline)
                body += take(size + 2).dropLast(2)
            }
        } else if let lengthText = headers["content-length"] {
            guard let length = Int(lengthText) else { throw Failure(description: "malformed Content-Length \(lengthText.debugDescription)") }
            try fill(length, deadline: deadline)
            body = take(length)
        } else {
            let ending = untilClosed(timeout: deadline.timeIntervalSinceNow)
            guard ending.closed else { throw Failure(description: "a response without length did not end within \(timeout) s") }
            body = ending.bytes
        }
        return Response(statusLine: statusLine, status: status, headers: headers, body: body)
    }

    /// Reads until the server closes the connection or `timeout` seconds pass.
    public func untilClosed(timeout: TimeInterval) -> Ending {
        let started = Date()
        let deadline = started.addingTimeInterval(timeout)
        var bytes = take(unread.withLock { $0.count })
        while true {
            switch receive(deadline: deadline) {
            case .bytes(let more): bytes += more
            case .closed: return Ending(closed: true, seconds: Date().timeIntervalSince(started), bytes: bytes)
            case .timedOut: return Ending(closed: false, seconds: Date().timeIntervalSince(started), bytes: bytes)
            }
        }
    }

    // MARK: Receiving

    private enum Received {
        case bytes([UInt8])
        case closed
        case timedOut
    }

    private func receive(deadline: Date) -> Received {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return .timedOut }
            var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let polled = poll(&ready, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
            if polled < 0 && errno == EINTR { continue }
            guard polled > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 { return .bytes(Array(chunk[..<count])) }
            if count == 0 || errno == ECONNRESET { return .closed }
            if errno != EINTR && errno != EAGAIN { return .closed }
        }
    }

    /// Reads until the unread bytes hold `count` bytes.
    private func fill(_ count: Int, deadline: Date) throws {
        while unread.withLock({ $0.count }) < count {
            try receiveMore(deadline: deadline, wanted: "\(count) bytes")
        }
    }

    /// Reads until the unread bytes contain `marker`; the length up to and including it.
    private func readUntil(_ marker: [UInt8], deadline: Date) throws -> Int {
        while true {
            let found: Int? = unread.withLock { bytes in
                guard bytes.count >= marker.count else { return nil }
                for start in 0...(bytes.count - marker.count) where bytes[start..<start + marker.count].elementsEqual(marker) {
                    return start + marker.count
                }
                return nil
            }
            if let found { return found }
            try receiveMore(deadline: deadline, wanted: String(decoding: marker, as: UTF8.self).debugDescription)
        }
    }

    private func receiveMore(deadline: Date, wanted: String) throws {
        switch receive(deadline: deadline) {
        case .bytes(let more): unread.withLock { $0 += more }
        case .closed: throw Failure(description: "the connection closed while waiting for \(wanted); unread: \(pending)")
        case .timedOut: throw Failure(description: "timed out waiting for \(wanted); unread: \(pending)")
        }
    }

    private var pending: String {
        String(decoding: unread.withLock { $0 }, as: UTF8.self).debugDescription
    }

    private func take(_ count: Int) -> [UInt8] {
        unread.withLock { bytes in
            defer { bytes.removeFirst(count) }
            return Array(bytes[..<count])
        }
    }
}
