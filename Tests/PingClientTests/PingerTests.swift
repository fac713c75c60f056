import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PingClient
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
    static func ping(_ url: String, attempts: Int, timeout: TimeInterval = 30, backoff: TimeInterval = 0.1, body: String? = nil) async throws -> Pinger.Outcome {
        try await Pinger.with(policy: Pinger.Policy(attempts: attempts, timeout: timeout, firstBackoff: backoff)) { pinger in
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
}
