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
    }

    private let script: Mutex<[Reply]>
    private let count = Mutex(0)

    init(_ script: [Reply]) {
        self.script = Mutex(script)
    }

    var requests: Int { count.withLock { $0 } }

    func run<T: Sendable>(_ body: @Sendable (_ base: String) async throws -> T) async throws -> T {
        let router = Router()
        router.on("/**", method: .post) { _, _ in try await self.answer() }
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
        }
    }
}

@Suite("Pinger: retries with backoff")
struct PingerTests {
    /// The default timeout is long: only the tests about timeouts set a short one. With 5 s, a
    /// TSan run's test runner, busy for 8 s at its start, timed out a 404 and retried it.
    static func pinger(attempts: Int, timeout: TimeInterval = 30, backoff: TimeInterval = 0.1) -> Pinger {
        Pinger(policy: Pinger.Policy(attempts: attempts, timeout: timeout, firstBackoff: backoff))
    }

    @Test("5xx answers are retried, waiting longer each time, until a 2xx")
    func retriesServerErrors() async throws {
        let server = ScriptedServer([.status(.serviceUnavailable), .status(.badGateway), .status(.ok, bodyLimit: "1234")])
        let started = ContinuousClock.now
        let outcome = try await server.run { base in
            await Self.pinger(attempts: 4).ping(URL(string: "\(base)/ping/x")!, userAgent: "test")
        }
        #expect(outcome == .delivered(bodyLimit: 1234))
        #expect(server.requests == 3)
        #expect(ContinuousClock.now - started >= .milliseconds(300), "backoff 0.1 s, then 0.2 s")
    }

    @Test("after the last attempt a 5xx is reported as unreachable, with the reason")
    func givesUp() async throws {
        let server = ScriptedServer([.status(.internalServerError)])
        let outcome = try await server.run { base in
            await Self.pinger(attempts: 3, backoff: 0.01).ping(URL(string: "\(base)/ping/x")!, userAgent: "test")
        }
        #expect(outcome == .unreachable(reason: "the server answered 500"))
        #expect(server.requests == 3)
    }

    @Test("a timeout is retried")
    func retriesTimeouts() async throws {
        // Attempts to spare: on a loaded machine an answer may take longer than the timeout too.
        let server = ScriptedServer([.silence(seconds: 6), .status(.ok)])
        let outcome = try await server.run { base in
            await Self.pinger(attempts: 4, timeout: 2, backoff: 0.01).ping(URL(string: "\(base)/ping/x")!, userAgent: "test")
        }
        #expect(outcome == .delivered(bodyLimit: nil))
        #expect(server.requests >= 2, "the first request timed out")
    }

    @Test("a 4xx is final: no retry")
    func refusalIsFinal() async throws {
        let server = ScriptedServer([.status(.notFound), .status(.ok)])
        let outcome = try await server.run { base in
            await Self.pinger(attempts: 4, backoff: 0.01).ping(URL(string: "\(base)/ping/x")!, userAgent: "test")
        }
        #expect(outcome == .refused(status: 404, message: "404"))
        #expect(server.requests == 1)
    }

    @Test("a refused connection is retried, then reported")
    func connectionRefused() async throws {
        // Port 9 (discard) has no listener on a test machine: connecting is refused at once.
        let outcome = await Self.pinger(attempts: 2, timeout: 2, backoff: 0.01).ping(URL(string: "http://127.0.0.1:9/ping/x")!, userAgent: "test")
        guard case .unreachable(let reason) = outcome else {
            Issue.record("expected unreachable, got \(outcome)")
            return
        }
        #expect(!reason.isEmpty)
    }
}
