import CheckCatalog
import Foundation
import Logging
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Monitoring
import PingStore
import Testing
@testable import Runtime
@testable import Server

/// The management API, `/metrics` and the probes through Hummingbird's router test client,
/// against a real store in a temporary directory and a clock the test sets.
@Suite("Management API")
struct ManagementAPITests {
    static let yaml = """
        projects:
          ops:
            ping_key: ops-ping-key
            api_keys: {read_only: ops-read-only-key-0001, read_write: ops-read-write-key-0001}
            channels:
              oncall: {kind: webhook, url: "http://127.0.0.1:9/x"}
          web:
            ping_key: web-ping-key
            api_keys: {read_write: web-read-write-key-0001}
        checks:
          db-backup:
            project: ops
            name: Database Backup
            schedule: "0 3 * * *"
            tz: Europe/Riga
            tags: [prod, db]
          queue:
            project: ops
            name: Queue "Worker" <b>
            timeout: 5m
            grace: 1m
            tags: [prod]
          site:
            project: web
            name: Site
        """

    final class Fixture: Sendable {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-api-\(UUID().uuidString)")
        let clock = ManualClock(at: 1_700_000_000_000_000)
        let token = AdminToken("admin-token-for-tests-0123456789")
        let app: TestApplication

        init(yaml: String = ManagementAPITests.yaml) async throws {
            app = try await TestApplication(root: root.path, yaml: yaml, clock: clock.clock, adminToken: token, baseURL: "http://hc.test")
        }

        var store: PingStore { app.runtime.files!.pingStore }
        var states: CheckStates { app.runtime.states }
        var status: CurrentReloadStatus { app.runtime.reloadStatus }
        var application: some ApplicationProtocol { Application(responder: app.application.responder(scheme: "http")) }

        /// The UUID of the check `key` (in whichever project declares it).
        func uuid(_ key: String) -> String {
            let snapshot = app.runtime.catalog.snapshot
            let found = snapshot.catalog.checks.first { $0.id.key == key }.flatMap { snapshot.uuid(of: $0.id) }
            return (found ?? UUID()).uuidString.lowercased()
        }

        deinit {
            app.close()
            try? FileManager.default.removeItem(at: root)
        }
    }

    static let rw: HTTPFields = [.xAPIKey: "ops-read-write-key-0001"]
    static let ro: HTTPFields = [.xAPIKey: "ops-read-only-key-0001"]

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
    }

    @Test("listing checks with a read-write key gives Healthchecks' fields, UUID URLs, project and key; other projects are not listed")
    func listReadWrite() async throws {
        let fixture = try await Fixture()
        fixture.clock.set(1_700_000_000_000_000)
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/ping/\(fixture.uuid("queue"))", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v3/checks/", method: .get, headers: Self.rw) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.headers[.accessControlAllowOrigin] == "*")
                let checks = try #require(try Self.json(response.body)["checks"] as? [[String: Any]])
                #expect(checks.count == 2)
                let queue = try #require(checks.first { $0["key"] as? String == "queue" })
                #expect(queue["name"] as? String == "Queue \"Worker\" <b>")
                #expect(queue["slug"] as? String == "queue-worker-b")
                #expect(queue["status"] as? String == "up")
                #expect(queue["n_pings"] as? Int == 1)
                #expect(queue["timeout"] as? Int == 300)
                #expect(queue["grace"] as? Int == 60)
                #expect(queue["tags"] as? String == "prod")
                #expect(queue["last_ping"] as? String == "2023-11-14T22:13:20+00:00")
                #expect(queue["next_ping"] as? String == "2023-11-14T22:18:20+00:00")
                #expect(queue["started"] as? Bool == false)
                #expect(queue["project"] as? String == "ops")
                #expect(queue["ping_url"] as? String == "http://hc.test/ping/\(fixture.uuid("queue"))")
                #expect(queue["update_url"] as? String == "http://hc.test/api/v3/checks/\(fixture.uuid("queue"))")
                #expect(queue["unique_key"] == nil)
                let backup = try #require(checks.first { $0["key"] as? String == "db-backup" })
                #expect(backup["schedule"] as? String == "0 3 * * *")
                #expect(backup["tz"] as? String == "Europe/Riga")
                #expect(backup["status"] as? String == "new")
                #expect(backup["last_ping"] is NSNull)
                #expect(backup["timeout"] == nil)
            }
        }
    }

    @Test("a read-only key sees unique_key instead of UUIDs and URLs, and the unique key finds the check")
    func listReadOnly() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            var uniqueKey = ""
            try await client.execute(uri: "/api/v3/checks/?slug=queue-worker-b", method: .get, headers: Self.ro) { response in
                let checks = try #require(try Self.json(response.body)["checks"] as? [[String: Any]])
                #expect(checks.count == 1)
                #expect(checks.first?["ping_url"] == nil)
                #expect(checks.first?["update_url"] == nil)
                #expect(checks.first?["channels"] == nil)
                uniqueKey = checks.first?["unique_key"] as? String ?? ""
                #expect(uniqueKey.count == 40)
                #expect(!String(buffer: response.body).contains(fixture.uuid("queue")))
            }
            try await client.execute(uri: "/api/v3/checks/\(uniqueKey)", method: .get, headers: Self.ro) { response in
                #expect(response.status == .ok)
                let keyValue = try Self.json(response.body)["key"] as? String
                #expect(keyValue == "queue")
            }
        }
    }

    @Test("unique_key is SHA-1 of the first 16 hex digits of the UUID, as Healthchecks")
    func uniqueKey() throws {
        let uuid = try #require(UUID(uuidString: "0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c"))
        // python3 -c 'import hashlib; print(hashlib.sha1(b"0b0e4a5e3f2c4c8e").hexdigest())'
        #expect(CheckView.uniqueKey(uuid) == "b17a0bd76b39e8295c2446028ce30a61dd3c5005")
        // python3 -c 'import hashlib; print(hashlib.sha1(b"0000000000000000").hexdigest())'
        #expect(CheckView.uniqueKey(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))) == "b02132081808b493c61e86626ee6c2e29326a662")
    }

    @Test("a channel's API id is the SHA-1 name-based UUID (version 5 layout) of project and name, stable across versions")
    func channelID() {
        // python3: b = bytearray(hashlib.sha1(b"kiothc-channel:ops/pager").digest()[:16]);
        //   b[6] = b[6] & 0x0f | 0x50; b[8] = b[8] & 0x3f | 0x80; print(uuid.UUID(bytes=bytes(b)))
        #expect(APIDocuments.channelID(project: "ops", channel: "pager") == "0744f9ad-4d95-52f2-bac0-6d89902f2b2b")
    }

    @Test("tag filters must all match; slug filters exactly")
    func filters() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            for (query, expected) in [("tag=prod", 2), ("tag=prod&tag=db", 1), ("tag=db&tag=nope", 0), ("slug=database-backup", 1), ("slug=Database-Backup", 0)] {
                try await client.execute(uri: "/api/v3/checks/?\(query)", method: .get, headers: Self.rw) { response in
                    let checks = try #require(try Self.json(response.body)["checks"] as? [[String: Any]])
                    #expect(checks.count == expected, "\(query)")
                }
            }
        }
    }

    @Test("missing, wrong and read-only keys are refused with 401 JSON errors; another project's check is 403; unknown UUID 404")
    func authorization() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/api/v3/checks/", method: .get) { response in
                #expect(response.status == .unauthorized)
                let error = try Self.json(response.body)["error"] as? String
                #expect(error == "missing api key")
            }
            try await client.execute(uri: "/api/v3/checks/", method: .get, headers: [.xAPIKey: "ops-read-write-key-0002"]) { response in
                #expect(response.status == .unauthorized)
                let error = try Self.json(response.body)["error"] as? String
                #expect(error == "wrong api key")
            }
            try await client.execute(uri: "/api/v3/checks/", method: .get, headers: [.xAPIKey: "ops-read-write-key-000"]) { #expect($0.status == .unauthorized) }
            let queue = fixture.uuid("queue")
            for path in ["/api/v3/checks/\(queue)/pings/", "/api/v3/checks/\(queue)/pings/1/body", "/api/v3/channels/"] {
                try await client.execute(uri: path, method: .get, headers: Self.ro) { response in
                    #expect(response.status == .unauthorized, "\(path)")
                    #expect(String(buffer: response.body).contains("read_write"))
                }
            }
            try await client.execute(uri: "/api/v3/checks/\(queue)/pause", method: .post, headers: Self.ro) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v3/checks/\(fixture.uuid("site"))", method: .get, headers: Self.rw) { response in
                #expect(response.status == .forbidden)
                let error = try Self.json(response.body)["error"] as? String
                #expect(error != nil)
            }
            try await client.execute(uri: "/api/v3/checks/\(fixture.uuid("queue"))", method: .get, headers: [.xAPIKey: "web-read-write-key-0001"]) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/api/v3/checks/\(UUID().uuidString.lowercased())", method: .get, headers: Self.rw) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/v3/checks/\(queue.uppercased())", method: .get, headers: Self.rw) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/v3/checks/not-a-uuid", method: .get, headers: Self.rw) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/v3/nothing/", method: .get, headers: Self.rw) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/v4/checks/", method: .get, headers: Self.rw) { #expect($0.status == .notFound) }
        }
    }

    @Test("creating, updating and deleting checks answer 405 saying checks live in configuration files")
    func writesRefused() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            for (path, method) in [("/api/v3/checks/", HTTPRequest.Method.post), ("/api/v3/checks/\(fixture.uuid("queue"))", .post), ("/api/v3/checks/\(fixture.uuid("queue"))", .delete)] {
                try await client.execute(uri: path, method: method, headers: Self.rw, body: ByteBuffer(string: #"{"name": "x"}"#)) { response in
                    #expect(response.status == .methodNotAllowed)
                    let error = try Self.json(response.body)["error"] as? String
                    #expect(error?.contains("configuration files") == true)
                    #expect(response.headers[.allow] == "GET, OPTIONS")
                }
            }
            try await client.execute(uri: "/api/v3/checks/", method: .options) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowHeaders] == "X-Api-Key")
                #expect(response.headers[.accessControlAllowOrigin] == "*")
            }
        }
    }

    @Test("pings are listed newest first with bodies by URL; a body is served as text; bad or unknown n is 404")
    func pingsAndBodies() async throws {
        let fixture = try await Fixture()
        let queue = fixture.uuid("queue")
        fixture.clock.set(1_700_000_000_000_000)
        try await fixture.application.test(.router) { client in
            let rid = "0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c"
            try await client.execute(uri: "/ping/\(queue)/start?rid=\(rid)", method: .get) { #expect($0.status == .ok) }
            fixture.clock.set(1_700_000_002_500_000)
            try await client.execute(uri: "/ping/\(queue)/0?rid=\(rid)", method: .post, body: ByteBuffer(string: "<script>alert(1)</script>\nall good")) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/api/v3/checks/\(queue)/pings/", method: .get, headers: Self.rw) { response in
                #expect(response.status == .ok)
                let pings = try #require(try Self.json(response.body)["pings"] as? [[String: Any]])
                #expect(pings.map { $0["n"] as? Int } == [2, 1])
                #expect(pings.map { $0["type"] as? String } == ["success", "start"])
                #expect(pings[0]["date"] as? String == "2023-11-14T22:13:22.500000+00:00")
                #expect(pings[1]["date"] as? String == "2023-11-14T22:13:20+00:00")
                #expect(pings[0]["duration"] as? Double == 2.5)
                #expect(pings[0]["rid"] as? String == rid)
                #expect(pings[0]["body_url"] as? String == "http://hc.test/api/v3/checks/\(queue)/pings/2/body")
                #expect(pings[1]["body_url"] is NSNull)
            }
            try await client.execute(uri: "/api/v3/checks/\(queue)/pings/2/body", method: .get, headers: Self.rw) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
                #expect(String(buffer: response.body) == "<script>alert(1)</script>\nall good")
            }
            for n in ["1", "3", "0", "-1", "x", "99999999999999999999", "02"] {
                try await client.execute(uri: "/api/v3/checks/\(queue)/pings/\(n)/body", method: .get, headers: Self.rw) { response in
                    #expect(response.status == .notFound, "n = \(n)")
                }
            }
        }
    }

    @Test("pause and resume change the status, store flips, and answer as Healthchecks (resume of a running check: 409)")
    func pauseResume() async throws {
        let fixture = try await Fixture()
        let queue = fixture.uuid("queue")
        fixture.clock.set(1_700_000_000_000_000)
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/ping/\(queue)", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v3/checks/\(queue)/resume", method: .post, headers: Self.rw) { response in
                #expect(response.status == .conflict)
                #expect(String(buffer: response.body) == "check is not paused")
            }
            fixture.clock.set(1_700_000_060_000_000)
            try await client.execute(uri: "/api/v3/checks/\(queue)/pause", method: .post, headers: Self.rw) { response in
                #expect(response.status == .ok)
                let statusValue = try Self.json(response.body)["status"] as? String
                #expect(statusValue == "paused")
            }
            try await client.execute(uri: "/api/v3/checks/\(queue)/pause", method: .get, headers: Self.rw) { #expect($0.status == .methodNotAllowed) }
            fixture.clock.set(1_700_000_120_000_000)
            try await client.execute(uri: "/api/v3/checks/\(queue)/resume", method: .post, headers: Self.rw) { response in
                #expect(response.status == .ok)
                let check = try Self.json(response.body)
                #expect(check["status"] as? String == "new")
                #expect(check["last_ping"] is NSNull)
            }
            try await client.execute(uri: "/api/v3/checks/\(queue)/flips/", method: .get, headers: Self.ro) { response in
                let flips = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]])
                #expect(flips.count == 3)
                #expect(flips.map { $0["up"] as? Int } == [0, 0, 1])
                #expect(flips.first?["timestamp"] as? String == "2023-11-14T22:15:20+00:00")
            }
            try await client.execute(uri: "/api/v3/checks/\(queue)/flips/?start=1700000100", method: .get, headers: Self.ro) { response in
                let flips = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]]
                #expect(flips?.count == 1)
            }
            for bad in ["start=yesterday", "end=-1", "seconds=31536001", "start=10000000001", "seconds=1e3"] {
                try await client.execute(uri: "/api/v3/checks/\(queue)/flips/?\(bad)", method: .get, headers: Self.ro) { #expect($0.status == .badRequest, "\(bad)") }
            }
        }
        let flips = try fixture.store.flips(of: try #require(UUID(uuidString: queue)), limit: 10)
        #expect(flips.map(\.flip.reason) == [.resume, .pause, .ping])
    }

    @Test("a start on a paused check: still paused, started true, next_ping the start, as Healthchecks; down once grace is over")
    func startWhilePaused() async throws {
        let fixture = try await Fixture()
        let queue = fixture.uuid("queue")  // timeout 5m, grace 1m
        fixture.clock.set(1_700_000_000_000_000)
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/api/v3/checks/\(queue)/pause", method: .post, headers: Self.rw) { #expect($0.status == .ok) }
            fixture.clock.set(1_700_000_010_000_000)
            try await client.execute(uri: "/ping/\(queue)/start", method: .get) { #expect($0.status == .ok) }
            fixture.clock.set(1_700_000_020_000_000)
            try await client.execute(uri: "/api/v3/checks/\(queue)", method: .get, headers: Self.ro) { response in
                let check = try Self.json(response.body)
                #expect(check["status"] as? String == "paused")
                #expect(check["started"] as? Bool == true)
                #expect(check["next_ping"] as? String == "2023-11-14T22:13:30+00:00", "the run's start begins its grace")
            }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer admin-token-for-tests-0123456789"]) { response in
                let line = String(buffer: response.body).split(separator: "\n").first { $0.hasPrefix(#"hc_check_started{name="Queue \"Worker\" <b>""#) }
                #expect(line?.hasSuffix(" 1") == true, "\(line ?? "no hc_check_started line")")
            }
            fixture.clock.set(1_700_000_070_000_000)  // start + grace
            try await client.execute(uri: "/api/v3/checks/\(queue)", method: .get, headers: Self.ro) { response in
                let check = try Self.json(response.body)
                #expect(check["status"] as? String == "down")
                #expect(check["started"] as? Bool == true)
            }
        }
    }

    @Test("a late check is grace then down in the API and in /metrics, from the domain's status at the request's time")
    func graceAndDown() async throws {
        let fixture = try await Fixture()
        let queue = fixture.uuid("queue")  // timeout 5m, grace 1m
        fixture.clock.set(1_700_000_000_000_000)
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/ping/\(queue)", method: .get) { #expect($0.status == .ok) }
            for (offset, expected, graceMetric) in [(299, "up", 0), (300, "grace", 1), (359, "grace", 1), (360, "down", 0)] {
                fixture.clock.set(1_700_000_000_000_000 + Int64(offset) * 1_000_000)
                try await client.execute(uri: "/api/v3/checks/\(queue)", method: .get, headers: Self.rw) { response in
                    let status = try Self.json(response.body)["status"] as? String
                    #expect(status == expected, "at +\(offset) s")
                }
                try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer ops-read-only-key-0001"]) { response in
                    let line = String(buffer: response.body).split(separator: "\n").first { $0.hasPrefix(#"hc_check_grace{name="Queue"#) }
                    #expect(line?.hasSuffix(#"project="ops"} \#(graceMetric)"#) == true, "at +\(offset) s: \(line ?? "no line")")
                }
            }
        }
    }

    @Test("channels list id, name and kind; status/ answers OK without a key")
    func channelsAndStatus() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/api/v3/channels/", method: .get, headers: Self.rw) { response in
                let channels = try #require(try Self.json(response.body)["channels"] as? [[String: Any]])
                #expect(channels.count == 1)
                #expect(channels.first?["name"] as? String == "oncall")
                #expect(channels.first?["kind"] as? String == "webhook")
                #expect(UUID(uuidString: channels.first?["id"] as? String ?? "") != nil)
            }
            try await client.execute(uri: "/api/v3/status/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "OK")
            }
        }
    }

    @Test("/metrics: the admin sees every check and the server series; a project key only its checks; label values are escaped")
    func metrics() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/ping/\(fixture.uuid("queue"))/fail", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer admin-token-for-tests-0123456789"]) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains("hc_checks_total 3\n"))
                #expect(text.contains("hc_checks_down_total 1\n"))
                #expect(text.contains(#"hc_check_up{name="Queue \"Worker\" <b>",tags="prod",unique_key=""#))
                #expect(text.contains(#"kiothc_pings_total{kind="fail"} 1"#))
                #expect(text.contains("kiothc_store_append_duration_seconds_count 1\n"))
                // `write` durability: no fdatasync, so no time in one.
                #expect(text.contains("# TYPE kiothc_store_journal_sync_seconds_total counter\nkiothc_store_journal_sync_seconds_total 0\n"))
                #expect(text.contains("# TYPE kiothc_store_journal_sync_max_seconds gauge\nkiothc_store_journal_sync_max_seconds 0\n"))
                #expect(text.contains("kiothc_config_last_reload_successful 1\n"))
                // The build's facts as an info metric, for the admin (a server series).
                #expect(text.contains("# TYPE kiothc_build_info gauge\n"))
                #expect(text.contains("kiothc_build_info{version=\"\(BuildInfo.version)\",commit=\"\(BuildInfo.commit ?? "unknown")\"} 1\n"))
            }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer web-read-write-key-0001"]) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains("hc_checks_total 1\n"))
                #expect(text.contains(#"project="web""#))
                #expect(!text.contains(#"project="ops""#))
                #expect(!text.contains("kiothc_pings_total"))
                #expect(!text.contains("kiothc_build_info"))
            }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer nope"]) { #expect($0.status == .unauthorized) }
        }
    }

    @Test("/-/healthy is 200; /-/ready is 200 while the store is open and 503 after it closed")
    func probes() async throws {
        let fixture = try await Fixture()
        try await fixture.application.test(.router) { client in
            try await client.execute(uri: "/-/healthy", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/-/ready", method: .get) { #expect($0.status == .ok) }
            try fixture.store.close()
            try await client.execute(uri: "/-/ready", method: .get) { #expect($0.status == .serviceUnavailable) }
            try await client.execute(uri: "/-/healthy", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test("JSON strings escape quotes, backslashes and control characters; null is written; numbers without exponent")
    func jsonEscaping() {
        let value = JSONValue.object([("a", .string("\"\\\n\u{01}<&>\u{2028}")), ("b", .null), ("c", .double(2.5)), ("d", .double(3)), ("e", .double(.nan))])
        #expect(value.rendered() == #"{"a": "\"\\\n\u0001<&>\u2028", "b": null, "c": 2.5, "d": 3, "e": null}"#)
    }
}
