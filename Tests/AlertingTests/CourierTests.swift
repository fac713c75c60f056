import CheckCatalog
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import Alerting

let here = Diagnostic.Location(file: "test.yaml", line: 1, column: 1)

func literal(_ value: String) -> Secret { Secret(.literal(value), at: here) }

func webhook(
    _ url: String, method: String? = nil, headers: [(String, String)] = [], body: String? = nil, down: Channel.Request? = nil,
    up: Channel.Request? = nil, on: Set<Channel.Direction> = [.down, .up]
) -> Channel {
    let base = Channel.Request(url: literal(url), method: method, headers: headers.map { ($0.0, literal($0.1)) }, body: body)
    return Channel(name: "hook", kind: .webhook(base: base, down: down, up: up), on: on, location: here)
}

func sampleAlert(_ direction: Channel.Direction = .down, check: UUID = UUID(), created: Int64 = 0) -> Alert {
    var values = sampleValues
    values.status = direction.rawValue
    return Alert(check: check, project: "ops", channel: "hook", direction: direction, flipTime: 0, created: created, values: values)
}

/// A real HTTP server on 127.0.0.1 with an ephemeral port, recording what it receives.
/// `/fail` answers 500, `/slow` answers after 3 s, `/flaky` fails `failures` times then 200;
/// with `answer`, every request gets what it says instead (a service's API: status and JSON).
final class Receiver: Sendable {
    struct Received: Sendable {
        let method: String
        let uri: String
        let headers: [String: String]
        let body: String
    }

    let received = Mutex<[Received]>([])
    let failures: Mutex<Int>
    let answer: (@Sendable (Received) -> (status: Int, body: String))?

    init(failFirst: Int = 0, answer: (@Sendable (Received) -> (status: Int, body: String))? = nil) {
        failures = Mutex(failFirst)
        self.answer = answer
    }

    var requests: [Received] { received.withLock { $0 } }

    func run<T: Sendable>(_ body: @Sendable (_ base: String) async throws -> T) async throws -> T {
        let router = Router()
        for method in [HTTPRequest.Method.post, .get, .put] {
            router.on("/", method: method) { request, _ in try await self.record(request) }
            router.on("/**", method: method) { request, _ in try await self.record(request) }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            guard let port = client.port else { throw CancellationError() }
            return try await body("http://127.0.0.1:\(port)")
        }
    }

    private func record(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        let path = request.uri.path
        let received = Received(method: request.method.rawValue, uri: request.uri.description, headers: headers, body: String(buffer: body))
        self.received.withLock { $0.append(received) }
        if let answer {
            let (status, text) = answer(received)
            return Response(
                status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        if path.hasPrefix("/fail") { return Response(status: .internalServerError) }
        if path.hasPrefix("/slow") {
            try await Task.sleep(for: .seconds(3))
            return Response(status: .ok)
        }
        if path.hasPrefix("/flaky") {
            let fail = failures.withLock { count -> Bool in
                defer { count = max(0, count - 1) }
                return count > 0
            }
            if fail { return Response(status: .badGateway) }
        }
        return Response(status: .ok)
    }
}

@Suite("Courier: webhooks and commands, for real")
struct CourierTests {
    /// Generous: the whole test suite runs in parallel on small machines.
    let courier = Courier(timeout: .seconds(8), environment: ["HOOK_TOKEN": "s3cret-token"])
    let impatient = Courier(timeout: .seconds(1), environment: [:])

    @Test("a webhook POSTs the JSON body with escaped values and percent-encoded URL values")
    func webhookJSON() async throws {
        let receiver = Receiver()
        let attempt = try await receiver.run { base in
            await courier.deliver(
                sampleAlert(), via: webhook("\(base)/hook/$SLUG?name=$NAME", headers: [("X-Check", "$CODE")], body: #"{"text": "$NAME is $STATUS: $BODY"}"#),
                at: 42)
        }
        #expect(attempt.outcome == .delivered)
        #expect(attempt.statusCode == 200)
        #expect(attempt.time == 42)
        let request = try #require(receiver.requests.first)
        #expect(receiver.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.uri == "/hook/db-backup-co?name=DB%20%22Backup%22%20%26%20co")
        #expect(request.headers["x-check"] == "0b7c4a5e-0000-4000-8000-00000000000a")
        #expect(request.headers["content-type"] == "application/json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: String])
        #expect(json["text"] == "DB \"Backup\" & co is down: line1\nit's $NAME; rm -rf /")
    }

    @Test("per-direction blocks override the base request; text bodies are sent as they are")
    func directions() async throws {
        let receiver = Receiver()
        try await receiver.run { base in
            let channel = webhook(
                "\(base)/base", body: "$NAME went $STATUS", up: Channel.Request(url: literal("\(base)/up"), method: "PUT"))
            #expect(await courier.deliver(sampleAlert(.down), via: channel, at: 0).outcome == .delivered)
            #expect(await courier.deliver(sampleAlert(.up), via: channel, at: 0).outcome == .delivered)
        }
        let requests = receiver.requests
        #expect(requests.map(\.method) == ["POST", "PUT"])
        #expect(requests.map(\.uri) == ["/base", "/up"])
        #expect(requests[0].body == "DB \"Backup\" & co went down")
        #expect(requests[0].headers["content-type"] == "text/plain; charset=utf-8")
    }

    @Test("a receiver answering 500 is a failed attempt with its status code")
    func serverError() async throws {
        let receiver = Receiver()
        let attempt = try await receiver.run { base in await courier.deliver(sampleAlert(), via: webhook("\(base)/fail"), at: 0) }
        #expect(attempt.outcome == .failed)
        #expect(attempt.statusCode == 500)
        #expect(attempt.error == "the receiver answered HTTP 500")
    }

    @Test("a receiver that does not answer within the timeout is a failed attempt")
    func timeout() async throws {
        let receiver = Receiver()
        let (attempt, took) = try await receiver.run { base in
            let started = ContinuousClock.now
            let attempt = await impatient.deliver(sampleAlert(), via: webhook("\(base)/slow"), at: 0)
            return (attempt, ContinuousClock.now - started)
        }
        #expect(attempt.outcome == .failed)
        #expect(attempt.statusCode == nil)
        #expect(attempt.error == "no answer within 1 s")
        // The receiver would answer 200 after 3 s: "failed" proves the cut. (No bound on `took`:
        // a loaded machine stretches it.)
        _ = took
    }

    @Test("a URL that is not http(s) after substitution fails without sending, and the error names no secret")
    func badURL() async throws {
        let secretURL = Channel(
            name: "hook", kind: .webhook(base: Channel.Request(url: Secret(.env("HOOK_TOKEN"), at: here)), down: nil, up: nil), on: [.down],
            location: here)
        let attempt = await courier.deliver(sampleAlert(), via: secretURL, at: 0)
        #expect(attempt.outcome == .failed)
        let error = try #require(attempt.error)
        #expect(error.contains("not an http(s) URL"))
        #expect(!error.contains("s3cret"))
        let missing = Channel(
            name: "hook", kind: .webhook(base: Channel.Request(url: Secret(.env("NOT_SET_ANYWHERE"), at: here)), down: nil, up: nil),
            on: [.down], location: here)
        #expect(await courier.deliver(sampleAlert(), via: missing, at: 0).error?.contains("cannot be resolved") == true)
    }

    @Test("a refused connection is a failed attempt at once, saying so, host and port but not the path")
    func refused() async {
        // Retried until the courier's 8 s timeout, it would end as "no answer within 8 s".
        let attempt = await courier.deliver(sampleAlert(), via: webhook("http://127.0.0.1:1/hook/s3cret"), at: 0)
        #expect(attempt.outcome == .failed)
        #expect(attempt.error == "could not connect to 127.0.0.1 port 1: connection refused")
    }

    @Test("a secret header is resolved at send time")
    func secretHeader() async throws {
        let receiver = Receiver()
        let channel = Channel(
            name: "hook",
            kind: .webhook(
                base: Channel.Request(url: literal("PLACEHOLDER"), headers: [("Authorization", Secret(.env("HOOK_TOKEN"), at: here))]), down: nil, up: nil),
            on: [.down], location: here)
        try await receiver.run { base in
            var withURL = channel
            if case .webhook(var request, _, _) = channel.kind {
                request.url = literal("\(base)/auth")
                withURL.kind = .webhook(base: request, down: nil, up: nil)
            }
            #expect(await courier.deliver(sampleAlert(), via: withURL, at: 0).outcome == .delivered)
        }
        #expect(receiver.requests.first?.headers["authorization"] == "s3cret-token")
    }

    @Test("a command gets shell-quoted values and environment variables; exit 0 is delivered")
    func command() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-cmd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let channel = Channel(
            name: "cmd", kind: .command("printf '%s|%s|%s' $NAME $STATUS $BODY > \(directory)/out; printf '%s' \"${NAME}\" > \(directory)/env"),
            on: [.down], location: here)
        let attempt = await courier.deliver(sampleAlert(), via: channel, at: 0)
        #expect(attempt.outcome == .delivered)
        #expect(attempt.exitStatus == 0)
        let out = try String(contentsOfFile: "\(directory)/out", encoding: .utf8)
        #expect(out == "DB \"Backup\" & co|down|line1\nit's $NAME; rm -rf /")
        // ${NAME} is not a placeholder: the shell reads the environment variable.
        let env = try String(contentsOfFile: "\(directory)/env", encoding: .utf8)
        #expect(env == "DB \"Backup\" & co")
    }

    @Test("a command exiting non-zero is a failed attempt with its exit status")
    func commandFails() async {
        let attempt = await courier.deliver(sampleAlert(), via: Channel(name: "c", kind: .command("exit 7"), on: [.down], location: here), at: 0)
        #expect(attempt.outcome == .failed)
        #expect(attempt.exitStatus == 7)
        #expect(attempt.error == "the command exited with status 7")
    }

    @Test("a command running past the timeout is killed and failed")
    func commandTimeout() async {
        let started = ContinuousClock.now
        let attempt = await impatient.deliver(sampleAlert(), via: Channel(name: "c", kind: .command("sleep 30; sleep 30"), on: [.down], location: here), at: 0)
        #expect(attempt.outcome == .failed)
        #expect(attempt.error == "the command did not finish within 1 s and was killed")
        // The command alone takes 60 s; its whole process group was killed long before.
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("a command killed by a signal is a failed attempt naming the signal")
    func commandSignal() async {
        let attempt = await courier.deliver(sampleAlert(), via: Channel(name: "c", kind: .command("kill -TERM $$"), on: [.down], location: here), at: 0)
        #expect(attempt.outcome == .failed)
        #expect(attempt.error == "the command was killed by signal 15")
    }
}
