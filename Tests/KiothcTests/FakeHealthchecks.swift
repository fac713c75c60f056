import Foundation
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A stand-in for a Healthchecks site on 127.0.0.1: one thread accepts connections, reads each
/// request's head and answers it with `answer(path, X-Api-Key)` and `Connection: close`. It
/// records every request's path and key. `stop()` closes the listening socket, which ends the
/// thread.
final class FakeHealthchecks: Sendable {
    struct Reply: Sendable {
        var status: Int
        var body: String
        var contentType = "application/json"
    }

    struct Request: Sendable, Equatable {
        var path: String
        var apiKey: String?
    }

    let port: Int
    private let descriptor: Int32
    private let log = RequestLog()
    private let stopped = Mutex(false)

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { log.requests.withLock { $0 } }

    init(answer: @escaping @Sendable (_ path: String, _ apiKey: String?) -> Reply) throws {
        let (socket, port) = try listenOnLoopback()
        descriptor = socket
        self.port = port
        let log = self.log
        Thread.detachNewThread {
            while true {
                let connection = accept(socket, nil, nil)
                if connection < 0 {
                    if errno == EINTR { continue }
                    return
                }
                Self.serve(connection, log: log, answer: answer)
                close(connection)
            }
        }
    }

    /// Reads the request head (at most 64 KiB, each read bounded by 5 s) and answers it.
    private static func serve(_ connection: Int32, log: RequestLog, answer: @Sendable (String, String?) -> Reply) {
        var limit = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var head = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while head.count < 65_536 {
            let count = read(connection, &buffer, buffer.count)
            if count <= 0 { return }
            head += buffer[0..<count]
            if head.count >= 4, head.suffix(4) == [13, 10, 13, 10] { break }
        }
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let target = lines.first?.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
        var apiKey: String?
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "x-api-key" { apiKey = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        log.requests.withLock { $0.append(Request(path: path, apiKey: apiKey)) }
        let reply = answer(path, apiKey)
        let body = Array(reply.body.utf8)
        let text = "HTTP/1.1 \(reply.status) X\r\nContent-Type: \(reply.contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(text.utf8) + body
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
            if count <= 0 { return }
            sent += count
        }
    }

    final class RequestLog: Sendable {
        let requests = Mutex<[Request]>([])
    }

    func stop() {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }

    deinit { stop() }
}
