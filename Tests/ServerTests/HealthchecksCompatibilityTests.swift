import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Runtime
@testable import Server

/// Healthchecks' surfaces clients use beyond the API's routes (SPEC §13): `hc_tag_up`, the
/// per-project metrics URLs, the API key in a POST's JSON body and API v1's `started` status.
@Suite("Healthchecks compatibility")
struct HealthchecksCompatibilityTests {
    typealias Fixture = ManagementAPITests.Fixture
    static let admin: HTTPFields = [.authorization: "Bearer admin-token-for-tests-0123456789"]
    static let opsRO = "ops-read-only-key-0001"
    static let opsRW = "ops-read-write-key-0001"

    static func json(_ buffer: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any]) ?? [:]
    }

    static func lines(_ buffer: ByteBuffer, _ prefix: String) -> [String] {
        String(buffer: buffer).split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
    }

    // MARK: hc_tag_up

    @Test("hc_tag_up: per tag of a project, 0 while a check with the tag is down, 1 otherwise; after hc_check_paused, as Healthchecks")
    func tagUp() async throws {
        let fixture = try await Fixture()  // ops: db-backup [prod, db] (new), queue [prod]; web: site (no tags)
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/ping/\(fixture.uuid("queue"))/fail", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get, headers: Self.admin) { response in
                #expect(Self.lines(response.body, "hc_tag_up") == [#"hc_tag_up{tag="db",project="ops"} 1"#, #"hc_tag_up{tag="prod",project="ops"} 0"#])
                let text = String(buffer: response.body)
                let paused = try #require(text.range(of: "# TYPE hc_check_paused gauge"))
                let tags = try #require(text.range(of: "# TYPE hc_tag_up gauge"))
                let total = try #require(text.range(of: "# TYPE hc_checks_total gauge"))
                #expect(paused.upperBound < tags.lowerBound && tags.upperBound < total.lowerBound)
            }
            try await client.execute(uri: "/ping/\(fixture.uuid("queue"))", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(Self.opsRO)"]) { response in
                #expect(Self.lines(response.body, "hc_tag_up") == [#"hc_tag_up{tag="db",project="ops"} 1"#, #"hc_tag_up{tag="prod",project="ops"} 1"#])
            }
            // A project without tags has the family and no series; other projects' tags are not shown.
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer web-read-write-key-0001"]) { response in
                #expect(String(buffer: response.body).contains("# TYPE hc_tag_up gauge\n"))
                #expect(Self.lines(response.body, "hc_tag_up").isEmpty)
            }
        }
    }

    // MARK: /projects/<uuid>/metrics/<key>

    @Test("a project's UUID is the name-based UUID (SHA-1, version 5 layout) of kiothc-project:<id>")
    func projectID() {
        // python3: b = bytearray(hashlib.sha1(b"kiothc-project:ops").digest()[:16]);
        //   b[6] = b[6] & 0x0f | 0x50; b[8] = b[8] & 0x3f | 0x80; print(uuid.UUID(bytes=bytes(b)))
        #expect(APIDocuments.projectID("ops") == "6e25164e-2318-5b5e-bf4c-ac14680e7ef9")
        #expect(APIDocuments.projectID("web") == "52037619-da48-5901-88f3-ac84060bdff1")
    }

    @Test("/projects/<uuid>/metrics/<read-only key> and its variants answer the project's check series, nothing else")
    func projectMetrics() async throws {
        let fixture = try await Fixture()
        let ops = APIDocuments.projectID("ops")
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/ping/\(fixture.uuid("queue"))/fail", method: .get) { #expect($0.status == .ok) }
            let variants: [(String, HTTPFields)] = [
                ("/projects/\(ops)/metrics/\(Self.opsRO)", [:]), ("/projects/\(ops)/checks/metrics/\(Self.opsRO)", [:]),
                ("/projects/\(ops)/metrics/", [.authorization: "Bearer \(Self.opsRO)"]),
            ]
            for (uri, headers) in variants {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.status == .ok, "\(uri)")
                    #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                    let text = String(buffer: response.body)
                    #expect(text.contains("hc_checks_total 2\n"), "\(uri)")
                    #expect(text.contains("hc_checks_down_total 1\n"), "\(uri)")
                    #expect(text.contains(#"hc_tag_up{tag="prod",project="ops"} 0"#), "\(uri)")
                    #expect(!text.contains(#"project="web""#), "\(uri)")
                    // The checks' own series (kiothc_check_in_maintenance) only, no server series.
                    let series = Set(text.split(separator: "\n").filter { $0.hasPrefix("kiothc_") }.map { $0.prefix { $0 != "{" && $0 != " " } })
                    #expect(series == ["kiothc_check_in_maintenance"], "no server series: \(uri)")
                }
            }
            try await client.execute(uri: "/projects/\(ops)/metrics/\(Self.opsRO)", method: .head) { #expect($0.status == .ok) }
        }
    }

    @Test("per-project metrics refusals: unknown project 404, no bearer token 401, a wrong, another project's or read-write key 403")
    func projectMetricsRefusals() async throws {
        let fixture = try await Fixture()
        let ops = APIDocuments.projectID("ops")
        let web = APIDocuments.projectID("web")
        try await fixture.application.test(.router) { client in
            let refused: [(String, HTTPFields, HTTPResponse.Status)] = [
                ("/projects/\(UUID().uuidString.lowercased())/metrics/\(Self.opsRO)", [:], .notFound),
                ("/projects/\(ops.uppercased())/metrics/\(Self.opsRO)", [:], .notFound),
                ("/projects/ops/metrics/\(Self.opsRO)", [:], .notFound),
                ("/projects/\(ops)/metrics/ops-read-only-key-0002", [:], .forbidden),
                ("/projects/\(ops)/metrics/\(Self.opsRW)", [:], .forbidden),
                ("/projects/\(web)/metrics/\(Self.opsRO)", [:], .forbidden),
                ("/projects/\(web)/metrics/web-read-write-key-0001", [:], .forbidden),
                ("/projects/\(ops)/metrics/", [:], .unauthorized),
                ("/projects/\(ops)/metrics/", [.authorization: "Basic \(Self.opsRO)"], .unauthorized),
                ("/projects/\(ops)/metrics/", [.authorization: "Bearer \(Self.opsRW)"], .forbidden),
                ("/projects/\(ops)/metrics/", [.authorization: "Bearer admin-token-for-tests-0123456789"], .forbidden),
                ("/projects/\(ops)/metrics", [.authorization: "Bearer \(Self.opsRO)"], .notFound),
            ]
            for (uri, headers, expected) in refused {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.status == expected, "\(uri) \(headers)")
                    #expect(!String(buffer: response.body).contains("hc_check"), "\(uri)")
                    #expect(!String(buffer: response.body).contains(Self.opsRO), "no key in the answer: \(uri)")
                }
            }
            try await client.execute(uri: "/projects/\(ops)/metrics/\(Self.opsRO)", method: .post) { #expect($0.status == .methodNotAllowed) }
        }
    }

    // MARK: api_key in a POST's JSON body

    @Test("pause and resume take the key as api_key in a JSON body; the header wins; GET routes read the header only")
    func bodyKeyPauseResume() async throws {
        let fixture = try await Fixture()
        let queue = fixture.uuid("queue")
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/api/v3/checks/\(queue)/pause", method: .post, body: ByteBuffer(string: #"{"api_key": "\#(Self.opsRW)"}"#)) { response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)["status"] as? String == "paused")
            }
            try await client.execute(
                uri: "/api/v3/checks/\(queue)/resume", method: .post, headers: [.xAPIKey: Self.opsRW], body: ByteBuffer(string: #"{"api_key": "nope"}"#)
            ) { response in
                #expect(response.status == .ok, "the header's key is used")
                #expect(Self.json(response.body)["status"] as? String == "new")
            }
            try await client.execute(
                uri: "/api/v3/checks/\(queue)/pause", method: .post, headers: [.xAPIKey: "nope"], body: ByteBuffer(string: #"{"api_key": "\#(Self.opsRW)"}"#)
            ) { response in
                #expect(response.status == .unauthorized, "the header wins over the body")
                #expect(Self.json(response.body)["error"] as? String == "wrong api key")
            }
            try await client.execute(uri: "/api/v3/checks/", method: .get, body: ByteBuffer(string: #"{"api_key": "\#(Self.opsRW)"}"#)) { response in
                #expect(response.status == .unauthorized)
                #expect(Self.json(response.body)["error"] as? String == "missing api key")
            }
        }
    }

    @Test("a POST body key: wrong, read-only or not a string 401; no api_key 401; malformed JSON or not an object 400; nothing paused")
    func bodyKeyRefusals() async throws {
        let fixture = try await Fixture()
        let queue = fixture.uuid("queue")
        try await fixture.application.test(.router) { client in
            let bodies: [(String, HTTPResponse.Status, String)] = [
                (#"{"api_key": "ops-read-write-key-0002"}"#, .unauthorized, "wrong api key"),
                (#"{"api_key": "\#(Self.opsRO)"}"#, .unauthorized, "read_write"),
                (#"{"api_key": 5}"#, .unauthorized, "must be a string"),
                (#"{"api_key": ""}"#, .unauthorized, "missing api key"),
                (#"{}"#, .unauthorized, "missing api key"),
                ("", .unauthorized, "missing api key"),
                ("{", .badRequest, "could not parse request body"),
                ("api_key=\(Self.opsRW)", .badRequest, "could not parse request body"),
                (#"["\#(Self.opsRW)"]"#, .badRequest, "not a JSON object"),
                (#""\#(Self.opsRW)""#, .badRequest, "not a JSON object"),
            ]
            for (body, status, message) in bodies {
                try await client.execute(uri: "/api/v3/checks/\(queue)/pause", method: .post, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == status, "\(body)")
                    let error = Self.json(response.body)["error"] as? String ?? ""
                    #expect(error.contains(message), "\(body): \(error)")
                    #expect(!error.contains(Self.opsRW) && !error.contains(Self.opsRO), "no key in the error: \(error)")
                }
            }
            try await client.execute(uri: "/api/v3/checks/\(queue)/pause", method: .post, body: ByteBuffer(string: String(repeating: " ", count: 17 * 1024))) {
                #expect($0.status == .contentTooLarge)
            }
            try await client.execute(uri: "/api/v3/checks/\(queue)", method: .get, headers: [.xAPIKey: Self.opsRW]) { response in
                #expect(Self.json(response.body)["status"] as? String == "new", "no refused request paused it")
            }
        }
    }

    @Test("channels/<id>/test reads api_key and check from one JSON body; a wrong body key sends nothing")
    func bodyKeyTestNotification() async throws {
        try await NotificationsAPITests.running { server, receiver, client in
            let queue = try NotificationsAPITests.uuid(server, "ops/queue")
            let test = "/api/v3/channels/\(NotificationsAPITests.channelID("ops", "hook"))/test"
            try await client.execute(uri: test, method: .post, body: ByteBuffer(string: #"{"api_key": "nope", "check": "\#(queue)"}"#)) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(receiver.requests(to: "/hook").isEmpty)
            try await client.execute(uri: test, method: .post, body: ByteBuffer(string: #"{"api_key": "\#(Self.opsRW)", "check": "\#(queue)"}"#)) { response in
                #expect(response.status == .ok)
                #expect(Self.json(response.body)["status"] as? String == "delivered")
            }
            let received = receiver.requests(to: "/hook")
            #expect(received.count == 1)
            #expect(received.first?.body["code"] == queue, "the body's check, read after its key")
        }
    }

    // MARK: API v1's started status

    static let runs = """
        projects:
          ops:
            api_keys: {read_only: ops-read-only-key-0001, read_write: ops-read-write-key-0001}
        checks:
          job: {project: ops, timeout: 5m, grace: 1m}
          held: {project: ops, timeout: 5m, grace: 1m, paused: true}
        """

    @Test("API v1 says started while a run is open and younger than grace, over new, up, down and runtime pauses; v2 and v3 do not")
    func startedInV1() async throws {
        let fixture = try await Fixture(yaml: Self.runs)
        let job = fixture.uuid("job")
        let held = fixture.uuid("held")
        let t0: Int64 = 1_700_000_000_000_000
        fixture.clock.set(t0)
        try await fixture.application.test(.router) { client in
            func statuses(_ uuid: String) async throws -> [String] {
                var found: [String] = []
                for version in 1...3 {
                    let status = try await client.execute(uri: "/api/v\(version)/checks/\(uuid)", method: .get, headers: [.xAPIKey: Self.opsRO]) { response in
                        Self.json(response.body)["status"] as? String ?? "?"
                    }
                    found.append(status)
                }
                return found
            }
            #expect(try await statuses(job) == ["new", "new", "new"])
            try await client.execute(uri: "/ping/\(job)/start", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/ping/\(held)/start", method: .get) { _ in }
            fixture.clock.set(t0 + 59_999_999)
            #expect(try await statuses(job) == ["started", "new", "new"], "a new check's run")
            #expect(try await statuses(held) == ["paused", "paused", "paused"], "paused in its file: paused in v1 too")
            try await client.execute(uri: "/api/v1/checks/", method: .get, headers: [.xAPIKey: Self.opsRW]) { response in
                let checks = Self.json(response.body)["checks"] as? [[String: Any]] ?? []
                #expect(checks.first { $0["key"] as? String == "job" }?["status"] as? String == "started", "the list too")
                #expect(checks.first { $0["key"] as? String == "job" }?["started"] as? Bool == true)
            }
            fixture.clock.set(t0 + 60_000_000)
            #expect(try await statuses(job) == ["down", "down", "down"], "a run older than grace is down in every version")

            // A down check's new run: v1 started, v3 still down (the stored status).
            try await client.execute(uri: "/ping/\(job)/fail", method: .get) { #expect($0.status == .ok) }
            #expect(try await statuses(job) == ["down", "down", "down"])
            try await client.execute(uri: "/ping/\(job)/start", method: .get) { #expect($0.status == .ok) }
            #expect(try await statuses(job) == ["started", "down", "down"])
            try await client.execute(uri: "/ping/\(job)", method: .get) { #expect($0.status == .ok) }
            #expect(try await statuses(job) == ["up", "up", "up"], "the run closed")
            // Paused at runtime, then a run: v1 started, v3 paused.
            try await client.execute(uri: "/api/v3/checks/\(job)/pause", method: .post, headers: [.xAPIKey: Self.opsRW]) { #expect($0.status == .ok) }
            try await client.execute(uri: "/ping/\(job)/start", method: .get) { #expect($0.status == .ok) }
            #expect(try await statuses(job) == ["started", "paused", "paused"])
        }
    }
}
