import Foundation
import Glibc
import HTTPProxy
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import PingClient
import Synchronization
import Testing

/// A real HTTP server on 127.0.0.1 that answers each request with the next reply of a script
/// (the last one repeats) and counts the requests.
final class ScriptedServer: Sendable {
    enum Reply: Sendable {
        case status(HTTPResponse.Status, bodyLimit: String? = nil)
        /// Answers 200 only after `seconds`: longer than the client's timeout.
        case silence(seconds: Double)
        /// A status with a body of its own.
        case body(HTTPResponse.Status, String)
    }

    /// What a request brought: its method, User-Agent, Content-Type and body.
    struct Received: Sendable, Equatable {
        var method: String
        var userAgent: String?
        var contentType: String?
        var body: String
    }

    private let script: Mutex<[Reply]>
    private let count = Mutex(0)
    private let log = Mutex<[Received]>([])

    init(_ script: [Reply]) {
        self.script = Mutex(script)
    }

    var requests: Int { count.withLock { $0 } }
    var received: [Received] { log.withLock { $0 } }

    func run<T: Sendable>(_ body: @Sendable (_ base: String) async throws -> T) async throws -> T {
        let router = Router()
        router.on("/**", method: .post) { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let received = Received(
                method: request.method.rawValue, userAgent: request.headers[.userAgent], contentType: request.headers[.contentType], body: String(buffer: body))
            self.log.withLock { $0.append(received) }
            return try await self.answer()
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            guard let port = client.port else { throw CancellationError() }
            return try await body("http://127.0.0.1:\(port)")
        }
    }

    private func answer() async throws -> Response {
        count.withLock { $0 += 1 }
        let reply = script.withLock { script in script.count > 1 ? script.removeFirst() : script[0] }
        switch reply {
        case .status(let status, let limit):
            var headers = HTTPFields()
            if let limit { headers[HTTPField.Name("Ping-Body-Limit")!] = limit }
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "\(status.code)")))
        case .silence(let seconds):
            try await Task.sleep(for: .seconds(seconds))
            return Response(status: .ok)
        case .body(let status, let text):
            return Response(status: status, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }
}

@Suite("Pinger: retries with backoff")
struct PingerTests {
    /// The default timeout is long: only the tests about timeouts set a short one. With 5 s, a
    /// TSan run's test runner, busy for 8 s at its start, timed out a 404 and retried it.
    /// Without a proxy unless `environment` names one.
    static func ping(
        _ url: String, attempts: Int, timeout: TimeInterval = 30, backoff: TimeInterval = 0.1, body: String? = nil, environment: [String: String] = [:]
    ) async throws -> Pinger.Outcome {
        try await Pinger.with(policy: Pinger.Policy(attempts: attempts, timeout: timeout, firstBackoff: backoff), server: URL(string: url)!, environment: environment) { pinger in
            await pinger.ping(URL(string: url)!, body: body, userAgent: "test")
        }
    }

    @Test("5xx answers are retried, waiting longer each time, until a 2xx")
    func retriesServerErrors() async throws {
        let server = ScriptedServer([.status(.serviceUnavailable), .status(.badGateway), .status(.ok, bodyLimit: "1234")])
        let started = ContinuousClock.now
        let outcome = try await server.run { base in
            try await Self.ping("\(base)/ping/x", attempts: 4)
        }
        #expect(outcome == .delivered(bodyLimit: 1234))
        #expect(server.requests == 3)
        #expect(ContinuousClock.now - started >= .milliseconds(300), "backoff 0.1 s, then 0.2 s")
    }

    @Test("after the last attempt a 5xx is reported as unreachable, with the reason")
    func givesUp() async throws {
        let server = ScriptedServer([.status(.internalServerError)])
        let outcome = try await server.run { base in
            try await Self.ping("\(base)/ping/x", attempts: 3, backoff: 0.01)
        }
        #expect(outcome == .unreachable(reason: "the server answered 500"))
        #expect(server.requests == 3)
    }

    @Test("a timeout is retried")
    func retriesTimeouts() async throws {
        // Attempts to spare: on a loaded machine an answer may take longer than the timeout too.
        let server = ScriptedServer([.silence(seconds: 6), .status(.ok)])
        let outcome = try await server.run { base in
            try await Self.ping("\(base)/ping/x", attempts: 4, timeout: 2, backoff: 0.01)
        }
        #expect(outcome == .delivered(bodyLimit: nil))
        #expect(server.requests >= 2, "the first request timed out")
    }

    @Test("a 4xx is final: no retry")
    func refusalIsFinal() async throws {
        let server = ScriptedServer([.status(.notFound), .status(.ok)])
        let outcome = try await server.run { base in
            try await Self.ping("\(base)/ping/x", attempts: 4, backoff: 0.01)
        }
        #expect(outcome == .refused(status: 404, message: "404"))
        #expect(server.requests == 1)
    }

    @Test("a refused connection is retried, then reported")
    func connectionRefused() async throws {
        // Port 9 (discard) has no listener on a test machine: connecting is refused at once.
        let outcome = try await Self.ping("http://127.0.0.1:9/ping/x", attempts: 2, timeout: 2, backoff: 0.01)
        guard case .unreachable(let reason) = outcome else {
            Issue.record("expected unreachable, got \(outcome)")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test("a ping is a POST with the user agent, text/plain and the body; the start ping's body is empty")
    func request() async throws {
        let server = ScriptedServer([.status(.ok)])
        let outcomes = try await server.run { base in
            [try await Self.ping("\(base)/ping/x/start?rid=1", attempts: 1), try await Self.ping("\(base)/ping/x/0", attempts: 1, body: "line 1\nline 2\n")]
        }
        #expect(outcomes == [.delivered(bodyLimit: nil), .delivered(bodyLimit: nil)])
        #expect(
            server.received == [
                .init(method: "POST", userAgent: "test", contentType: "text/plain; charset=utf-8", body: ""),
                .init(method: "POST", userAgent: "test", contentType: "text/plain; charset=utf-8", body: "line 1\nline 2\n"),
            ])
    }

    @Test("a refusal's message is the first 200 bytes of its body")
    func refusalMessageIsBounded() async throws {
        let server = ScriptedServer([.body(.notFound, String(repeating: "n", count: 100_000))])
        let outcome = try await server.run { base in try await Self.ping("\(base)/ping/x", attempts: 3, backoff: 0.01) }
        #expect(outcome == .refused(status: 404, message: String(repeating: "n", count: 200)))
        #expect(server.requests == 1)
    }

    @Test("a refused connection fails at once, not after the timeout, and the reason says what happened")
    func refusedAtOnce() async throws {
        let started = ContinuousClock.now
        let outcome = try await Self.ping("http://127.0.0.1:9/ping/x", attempts: 2, timeout: 60, backoff: 0.01)
        #expect(ContinuousClock.now - started < .seconds(30), "two attempts, each refused at once")
        #expect(outcome == .unreachable(reason: "could not connect to 127.0.0.1 port 9: connection refused"))
    }

    @Test("a timeout's reason says how long the pinger waited")
    func timeoutReason() async throws {
        let server = ScriptedServer([.silence(seconds: 3)])
        let outcome = try await server.run { base in try await Self.ping("\(base)/ping/x", attempts: 1, timeout: 1) }
        #expect(outcome == .unreachable(reason: "no answer within 1 s"))
    }

    @Test("a timeout too long to matter is accepted: no timeout then")
    func hugeTimeout() async throws {
        let server = ScriptedServer([.status(.ok)])
        let outcome = try await server.run { base in try await Self.ping("\(base)/ping/x", attempts: 1, timeout: 1e30) }
        #expect(outcome == .delivered(bodyLimit: nil))
    }

    @Test("the proxy of http_proxy carries the ping through a tunnel, with its credentials; the server's name is not resolved here")
    func httpProxy() async throws {
        let proxy = try FakeTunnelProxy()
        let outcome = try await Self.ping(
            "http://kiothc-test.invalid/ping/x", attempts: 1, body: "through", environment: ["http_proxy": "http://us%65r:p%40ss@127.0.0.1:\(proxy.port)"])
        #expect(outcome == .delivered(bodyLimit: 77))
        let (connect, request) = proxy.received()
        #expect(connect.hasPrefix("CONNECT kiothc-test.invalid:80 HTTP/1.1\r\n"), "\(connect)")
        // user:p@ss
        #expect(connect.lowercased().contains("proxy-authorization: basic dxnlcjpwqhnz"), "\(connect)")
        #expect(request.hasPrefix("POST /ping/x HTTP/1.1\r\n"), "\(request)")
        #expect(request.hasSuffix("\r\n\r\nthrough"), "\(request)")
        // An https_proxy is not for http:// servers.
        let refused = try await Self.ping("http://127.0.0.1:9/ping/x", attempts: 1, environment: ["https_proxy": "http://127.0.0.1:1"])
        #expect(refused == .unreachable(reason: "could not connect to 127.0.0.1 port 9: connection refused"))
    }

    @Test("a SOCKS5 proxy (socks5://) carries the ping too, resolving the server's name itself")
    func socksProxy() async throws {
        let proxy = try FakeTunnelProxy(socks: true)
        let outcome = try await Self.ping(
            "http://kiothc-test.invalid:8000/ping/x", attempts: 1, body: "socks", environment: ["all_proxy": "socks5h://127.0.0.1:\(proxy.port)"])
        #expect(outcome == .delivered(bodyLimit: 77))
        let (connect, request) = proxy.received()
        #expect(connect == "CONNECT kiothc-test.invalid:8000")
        #expect(request.hasPrefix("POST /ping/x HTTP/1.1\r\n"), "\(request)")
        #expect(request.hasSuffix("\r\n\r\nsocks"), "\(request)")
    }

    @Test("a proxy that cannot be reached or used is named in the reason, never its password")
    func proxyFailures() async throws {
        let direct = "http://127.0.0.1:9/ping/x"
        #expect(
            try await Self.ping(direct, attempts: 1, environment: ["http_proxy": "http://user:secret@127.0.0.1:9"])
                == .unreachable(reason: "could not connect to the proxy 127.0.0.1 port 9 (http_proxy): connection refused"))
        #expect(
            try await Self.ping(direct, attempts: 1, environment: ["ALL_PROXY": "127.0.0.1:9"])
                == .unreachable(reason: "could not connect to the proxy 127.0.0.1 port 9 (ALL_PROXY): connection refused"))
        #expect(
            try await Self.ping(direct, attempts: 1, environment: ["http_proxy": "ftp://127.0.0.1:9"])
                == .unreachable(reason: "the proxy in http_proxy is a ftp:// proxy; kiothc supports http:// and socks5:// proxies"))
        #expect(
            try await Self.ping("http://127.0.0.1:9/ping/x", attempts: 1, environment: ["http_proxy": "http://127.0.0.1:1", "no_proxy": "example.com, 127.0.0.1"])
                == .unreachable(reason: "could not connect to 127.0.0.1 port 9: connection refused"))
    }

    @Test("no_proxy: names match themselves and their subdomains, a leading dot is ignored, * matches all")
    func noProxy() {
        #expect(ProxySetting.bypasses("hc.example.com", "example.com"))
        #expect(ProxySetting.bypasses("hc.example.com", "localhost, .example.com"))
        #expect(ProxySetting.bypasses("example.com", ".example.com"))
        #expect(ProxySetting.bypasses("anything", "*"))
        #expect(ProxySetting.bypasses("[::1]", "::1"))
        #expect(!ProxySetting.bypasses("badexample.com", "example.com"))
        #expect(!ProxySetting.bypasses("hc.example.com", ""))
        #expect(!ProxySetting.bypasses("hc.example.com", "hc.example"))
    }
}

/// A proxy on 127.0.0.1 for one connection: it accepts the CONNECT (or, with `socks`, the SOCKS5
/// greeting and request, kept as `CONNECT host:port`), then, instead of tunnelling, answers the
/// request sent through the tunnel itself (200 with a Ping-Body-Limit of 77), and keeps both.
/// Every read is bounded (10 s).
final class FakeTunnelProxy: Sendable {
    let port: Int
    private let log = Mutex<(connect: String, request: String)>(("", ""))
    private let done = DispatchSemaphore(value: 0)

    init(socks: Bool = false) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        guard bound else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            defer { close(listener); done.signal() }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8]()
            if socks {
                // Greeting: version 5, n methods, methods; we choose "no authentication".
                guard Self.fill(connection, &buffer, 2), Self.fill(connection, &buffer, 2 + Int(buffer[1])) else { return }
                buffer.removeFirst(2 + Int(buffer[1]))
                Self.write(connection, [5, 0])
                // Request: 5, CONNECT (1), 0, address type 3 (a name), its length, the name, the port.
                guard Self.fill(connection, &buffer, 5), buffer[3] == 3, Self.fill(connection, &buffer, 7 + Int(buffer[4])) else { return }
                let nameLength = Int(buffer[4])
                let name = String(decoding: buffer[5..<5 + nameLength], as: UTF8.self)
                let port = Int(buffer[5 + nameLength]) << 8 | Int(buffer[6 + nameLength])
                buffer.removeFirst(7 + nameLength)
                log.withLock { $0.connect = "CONNECT \(name):\(port)" }
                Self.write(connection, [5, 0, 0, 1, 127, 0, 0, 1, 0, 80])
            } else {
                guard let connect = Self.readHead(connection, &buffer) else { return }
                log.withLock { $0.connect = connect }
                Self.write(connection, Array("HTTP/1.1 200 Connection established\r\n\r\n".utf8))
            }
            guard var request = Self.readHead(connection, &buffer) else { return }
            let length = request.lowercased().split(separator: "\r\n").first { $0.hasPrefix("content-length:") }.flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
            while buffer.count < length, Self.read(connection, &buffer) {}
            request += String(decoding: buffer.prefix(length), as: UTF8.self)
            log.withLock { $0.request = request }
            Self.write(connection, Array("HTTP/1.1 200 OK\r\nPing-Body-Limit: 77\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK".utf8))
        }
    }

    /// Both heads (the request with its body), once the connection is over.
    func received() -> (connect: String, request: String) {
        _ = done.wait(timeout: .now() + 20)
        return log.withLock { $0 }
    }

    private static func read(_ connection: Int32, _ buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = Glibc.read(connection, &chunk, chunk.count)
        guard count > 0 else { return false }
        buffer += chunk.prefix(count)
        return true
    }

    /// A head through its blank line, removed from `buffer`.
    private static func readHead(_ connection: Int32, _ buffer: inout [UInt8]) -> String? {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let range = buffer.firstRange(of: end) {
                let head = String(decoding: buffer[..<range.upperBound], as: UTF8.self)
                buffer.removeSubrange(..<range.upperBound)
                return head
            }
            guard read(connection, &buffer) else { return nil }
        }
    }

    /// At least `count` bytes in `buffer`.
    private static func fill(_ connection: Int32, _ buffer: inout [UInt8], _ count: Int) -> Bool {
        while buffer.count < count {
            guard read(connection, &buffer) else { return false }
        }
        return true
    }

    private static func write(_ connection: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.write(connection, $0.baseAddress, $0.count) }
    }
}
