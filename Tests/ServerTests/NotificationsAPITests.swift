import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Monitoring
import Testing

@testable import Runtime
@testable import Server

private let s: Int64 = 1_000_000
/// 2026-11-27T15:00:30.5Z
private let t0: Int64 = 1_795_791_600 * s + 30 * s + 500_000

/// `GET checks/<uuid>/notifications/` and `POST channels/<id>/test` (SPEC §12) against the real
/// runtime of `serve` with its services running (`RunningRuntime`) and webhook channels
/// pointing at a real receiver on loopback: `hook` answers 200, `broken` 503.
@Suite("Notifications API", .timeLimit(.minutes(2)))
struct NotificationsAPITests {
    static let rw: HTTPFields = [.xAPIKey: "ops-read-write-key-0001"]
    static let ro: HTTPFields = [.xAPIKey: "ops-read-only-key-0001"]
    static let web: HTTPFields = [.xAPIKey: "web-read-write-key-0001"]

    static func yaml(_ receiver: String) -> String {
        """
        projects:
          ops:
            api_keys: {read_only: ops-read-only-key-0001, read_write: ops-read-write-key-0001}
            channels:
              hook: {kind: webhook, url: "\(receiver)/hook", body: '{"status": "$STATUS", "code": "$CODE"}'}
              broken: {kind: webhook, url: "\(receiver)/broken"}
          web:
            api_keys: {read_write: web-read-write-key-0001}
            channels:
              site-hook: {kind: webhook, url: "\(receiver)/web"}
        checks:
          queue: {project: ops, timeout: 1m, grace: 1m, channels: [hook]}
          site: {project: web, timeout: 1m}
        """
    }

    /// The runtime with its services, the receiver (`/broken` refusing), and the router's test
    /// client; `body` gets the runtime, the receiver and the client.
    static func running<T: Sendable>(
        store: StoreChoice = .files, _ body: @Sendable (RunningRuntime, AlertReceiver, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let receiver = AlertReceiver()
        receiver.refusing.withLock { _ = $0.insert("/broken") }
        let root = AlertEndToEndTests.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try await receiver.run { base in
            try await RunningRuntime.run(root: root, yaml: yaml(base), clock: ManualClock(at: t0), store: store) { server in
                let application = Application(responder: server.app.application.responder(scheme: "http"))
                return try await application.test(.router) { client in try await body(server, receiver, client) }
            }
        }
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
    }

    static func uuid(_ server: RunningRuntime, _ identity: String) throws -> String {
        try #require(server.app.uuid(identity)).uuidString.lowercased()
    }

    static func channelID(_ project: String, _ channel: String) -> String { APIDocuments.channelID(project: project, channel: channel) }

    static func notifications(_ client: some TestClientProtocol, _ check: String, query: String = "") async throws -> [[String: Any]] {
        try await client.execute(uri: "/api/v3/checks/\(check)/notifications/\(query)", method: .get, headers: rw) { response in
            #expect(response.status == .ok)
            return try #require(try json(response.body)["notifications"] as? [[String: Any]])
        }
    }

    static func sendTest(_ client: some TestClientProtocol, _ channel: String, body: String? = nil, headers: HTTPFields = rw) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(
            uri: "/api/v3/channels/\(channel)/test", method: .post, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    /// The store of a test run: the data directory's files, or a fresh PostgreSQL database (nil
    /// where PostgreSQL is not installed: the test skips; under CI=true the cluster's start
    /// fails it instead).
    static func store(shared: Bool) async throws -> StoreChoice? {
        shared ? try await SharedStoreTests.database() : .files
    }

    @Test(
        "a test through a channel is tried once and answered with its attempt: delivered (HTTP 200) or gave_up (HTTP 503, its error), field by field",
        arguments: [false, true])
    func sendTestShapes(shared: Bool) async throws {
        guard let store = try await Self.store(shared: shared) else { return }
        try await Self.running(store: store) { server, receiver, client in
            let queue = try Self.uuid(server, "ops/queue")
            let (status, delivered) = try await Self.sendTest(client, Self.channelID("ops", "hook"), body: #"{"check": "\#(queue)"}"#)
            #expect(status == .ok)
            #expect(UUID(uuidString: delivered["id"] as? String ?? "") != nil)
            #expect(delivered["channel"] as? String == "hook")
            #expect(delivered["channel_id"] as? String == Self.channelID("ops", "hook"))
            #expect(delivered["kind"] as? String == "webhook")
            #expect(delivered["direction"] as? String == "down", "a test is sent as a down alert")
            #expect(delivered["test"] as? Bool == true)
            #expect(delivered["created"] as? String == UTCTime.seconds(t0))
            #expect(delivered["flip_time"] as? String == UTCTime.seconds(t0), "no flip: the time it was sent")
            #expect(delivered["status"] as? String == "delivered")
            #expect(delivered["next_attempt"] is NSNull)
            let attempts = try #require(delivered["attempts"] as? [[String: Any]])
            #expect(attempts.count == 1)
            let attempt = try #require(attempts.first)
            #expect(attempt["n"] as? Int == 1)
            #expect(attempt["time"] as? String == UTCTime.seconds(t0))
            #expect(attempt["outcome"] as? String == "delivered")
            #expect(attempt["status_code"] as? Int == 200)
            #expect(attempt["exit_status"] is NSNull)
            #expect(attempt["error"] is NSNull)
            #expect((attempt["duration"] as? NSNumber).map { $0.doubleValue >= 0 && $0.doubleValue < 20 } == true)
            #expect(attempt["permanent"] as? Bool == false)
            #expect(attempt["reply"] is NSNull, "a webhook has no SMTP reply")
            let received = receiver.requests(to: "/hook")
            #expect(received.count == 1, "sent once")
            #expect(received.first?.body["code"] == queue, "about the check named")

            let (refusedStatus, refused) = try await Self.sendTest(client, Self.channelID("ops", "broken"))
            #expect(refusedStatus == .ok, "answered once attempted, also when the attempt failed")
            #expect(refused["channel"] as? String == "broken")
            #expect(refused["test"] as? Bool == true)
            #expect(refused["status"] as? String == "gave_up", "a test is tried once, never retried")
            #expect(refused["next_attempt"] is NSNull)
            let failed = try #require((refused["attempts"] as? [[String: Any]])?.first)
            #expect(failed["outcome"] as? String == "failed")
            #expect(failed["status_code"] as? Int == 503)
            #expect((failed["error"] as? String)?.isEmpty == false)
            #expect(receiver.requests(to: "/broken").count == 1)

            // The test about the check is in its notifications, newest first.
            let listed = try await Self.notifications(client, queue)
            #expect(listed.first?["id"] as? String == delivered["id"] as? String)
            #expect(listed.first.map { APIDocumentsTests.rendered($0) } == APIDocumentsTests.rendered(delivered), "the same document in both routes")
            #expect(!listed.contains { $0["id"] as? String == refused["id"] as? String }, "a test about no check is no check's notification")
        }
    }

    @Test("a check's notifications: its down alert, delivered, then tests, newest first; ?limit= bounds the list", arguments: [false, true])
    func history(shared: Bool) async throws {
        guard let store = try await Self.store(shared: shared) else { return }
        try await Self.running(store: store) { server, receiver, client in
            let queue = try Self.uuid(server, "ops/queue")
            #expect(try await server.ping(uuid: try #require(UUID(uuidString: queue))) == .ok)
            // Down at the deadline: the last ping plus timeout and grace.
            server.clock.set(t0 + 120 * s)
            try await eventually("the down alert was delivered") { !receiver.delivered(to: "/hook").isEmpty }
            var listed: [[String: Any]] = []
            try await eventually("the down alert is listed as delivered") {
                listed = try await Self.notifications(client, queue)
                return listed.first?["status"] as? String == "delivered"
            }
            #expect(listed.count == 1)
            let down = try #require(listed.first)
            #expect(down["channel"] as? String == "hook")
            #expect(down["channel_id"] as? String == Self.channelID("ops", "hook"))
            #expect(down["kind"] as? String == "webhook")
            #expect(down["direction"] as? String == "down")
            #expect(down["test"] as? Bool == false)
            #expect(down["flip_time"] as? String == UTCTime.seconds(t0 + 120 * s))
            #expect(down["next_attempt"] is NSNull)
            let attempts = try #require(down["attempts"] as? [[String: Any]])
            #expect(attempts.count == 1)
            #expect(attempts.first?["outcome"] as? String == "delivered")
            #expect(attempts.first?["status_code"] as? Int == 200)

            let body = #"{"check": "\#(queue)"}"#
            server.clock.advance(by: s)
            let (_, first) = try await Self.sendTest(client, Self.channelID("ops", "hook"), body: body)
            server.clock.advance(by: s)
            let (_, second) = try await Self.sendTest(client, Self.channelID("ops", "broken"), body: body)
            #expect(first["created"] as? String == UTCTime.seconds(t0 + 121 * s))
            let all = try await Self.notifications(client, queue)
            #expect(all.map { $0["id"] as? String } == [second["id"] as? String, first["id"] as? String, down["id"] as? String], "newest first")
            #expect(all.map { $0["status"] as? String } == ["gave_up", "delivered", "delivered"])
            let limited = try await Self.notifications(client, queue, query: "?limit=2")
            #expect(limited.map { $0["id"] as? String } == all.prefix(2).map { $0["id"] as? String })
            let fromReadOnly = try await client.execute(uri: "/api/v3/checks/\(queue)/notifications/", method: .get, headers: Self.ro) { response in
                #expect(response.status == .ok, "a read-only key may read them, as flips")
                return try #require(try Self.json(response.body)["notifications"] as? [[String: Any]])
            }
            #expect(fromReadOnly.count == 3)
        }
    }

    @Test("refusals: missing, wrong and read-only keys (401), another project's check (403), unknown check or channel (404), bad limit, bad JSON and foreign checks (400); nothing is sent")
    func refusals() async throws {
        try await Self.running { server, receiver, client in
            let queue = try Self.uuid(server, "ops/queue")
            let site = try Self.uuid(server, "web/site")
            let hook = Self.channelID("ops", "hook")
            let notificationsURI = "/api/v3/checks/\(queue)/notifications/"
            func status(_ uri: String, _ method: HTTPRequest.Method = .get, headers: HTTPFields, body: String? = nil) async throws -> (HTTPResponse.Status, String) {
                try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
                    (response.status, (try? Self.json(response.body))?["error"] as? String ?? "")
                }
            }
            #expect(try await status(notificationsURI, headers: [:]) == (.unauthorized, "missing api key"))
            #expect(try await status(notificationsURI, headers: [.xAPIKey: "nope"]) == (.unauthorized, "wrong api key"))
            #expect(try await status("/api/v3/checks/\(site)/notifications/", headers: Self.rw).0 == .forbidden)
            #expect(try await status("/api/v3/checks/\(UUID().uuidString.lowercased())/notifications/", headers: Self.rw).0 == .notFound)
            for bad in ["0", "101", "abc", "5x", "+5", "05", ""] {
                let (code, error) = try await status(notificationsURI + "?limit=\(bad)", headers: Self.rw)
                #expect(code == .badRequest, "limit=\(bad)")
                #expect(error.contains("limit"), "limit=\(bad): \(error)")
            }
            #expect(try await status(notificationsURI + "?limit=100", headers: Self.rw).0 == .ok)

            let test = "/api/v3/channels/\(hook)/test"
            #expect(try await status(test, .post, headers: [:]) == (.unauthorized, "missing api key"))
            #expect(try await status(test, .post, headers: [.xAPIKey: "nope"]) == (.unauthorized, "wrong api key"))
            let (readOnly, readOnlyError) = try await status(test, .post, headers: Self.ro)
            #expect(readOnly == .unauthorized)
            #expect(readOnlyError.contains("read_write"))
            let (unknown, unknownError) = try await status("/api/v3/channels/\(UUID().uuidString.lowercased())/test", .post, headers: Self.rw)
            #expect(unknown == .notFound)
            #expect(unknownError.contains("channel not found"), "\(unknownError)")
            #expect(try await status(test, .post, headers: Self.web).0 == .notFound, "another project's channel is not the key's")
            #expect(try await status("/api/v3/channels/\(Self.channelID("web", "site-hook"))/test", .post, headers: Self.rw).0 == .notFound)
            let bodies: [(String, String)] = [
                ("{", "not a JSON object"),
                ("[1]", "not a JSON object"),
                ("\"\(queue)\"", "not a JSON object"),
                (#"{"check": 5}"#, "must be a check's UUID"),
                (#"{"check": "ops/queue"}"#, "must be a check's UUID"),
                (#"{"check": "\#(UUID().uuidString.lowercased())"}"#, "no check"),
                (#"{"check": "\#(site)"}"#, "no check \(site) in project 'ops'"),
                (#"{"chek": "\#(queue)"}"#, "unknown field 'chek'"),
            ]
            for (body, expected) in bodies {
                let (code, error) = try await status(test, .post, headers: Self.rw, body: body)
                #expect(code == .badRequest, "\(body)")
                #expect(error.contains(expected), "\(body): \(error)")
            }
            #expect(try await status(test, .post, headers: Self.rw, body: String(repeating: " ", count: 17 * 1024)).0 == .contentTooLarge)
            #expect(try await status(test, .get, headers: Self.rw).0 == .methodNotAllowed)
            #expect(receiver.requests(to: "/hook").isEmpty, "no refused request sent anything")
            #expect(receiver.requests(to: "/web").isEmpty)
            #expect(try await Self.notifications(client, queue).isEmpty)
        }
    }

    @Test("channels/ names each channel's project (additive); the listed id is the one the test route takes")
    func channelsNameTheirProject() async throws {
        try await Self.running { _, _, client in
            let channels = try await client.execute(uri: "/api/v3/channels/", method: .get, headers: Self.rw) { response in
                try #require(try Self.json(response.body)["channels"] as? [[String: Any]])
            }
            #expect(channels.map { "\($0["project"] as? String ?? "?")/\($0["name"] as? String ?? "?")" } == ["ops/hook", "ops/broken"])
            #expect(channels.first?["id"] as? String == Self.channelID("ops", "hook"))
            #expect(channels.first.map { Array($0.keys).sorted() } == ["id", "kind", "name", "project"])
        }
    }
}

/// Documents compared as rendered JSON, keys sorted.
enum APIDocumentsTests {
    static func rendered(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
