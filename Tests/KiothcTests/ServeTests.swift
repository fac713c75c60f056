import Foundation
import Testing
import TestSupport

/// End to end: the real `kiothc serve` on loopback, driven by curl over real sockets.
@Suite("kiothc serve answers the Pinging API", .serialized, .stopsServers)
struct ServeTests {
    static let config = [
        "projects.yaml": """
            projects:
              ops:
                ping_key: ops-ping-key-0001
              other:
            """,
        "checks.yaml": """
            project: ops
            checks:
              backup: {name: Database Backup, timeout: 1h}
              post-only: {name: Post Only, methods: POST}
              twin-a: {name: Twin}
              twin-b: {name: twin}
              elsewhere: {project: other, name: Database Backup}
            """,
    ]

    @Test("every signal in both identification forms and all three methods is stored, field by field")
    func everyRow() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let forms = ["\(server.baseURL)/ping/\(uuid)", "\(server.baseURL)/ping/ops-ping-key-0001/database-backup"]
        let suffixes: [(String, String, Int?)] = [("", "success", nil), ("/start", "start", nil), ("/fail", "fail", nil), ("/log", "log", nil), ("/0", "success", 0), ("/7", "fail", 7)]
        var expected: [(kind: String, method: String, exit: Int?, body: String?)] = []
        for form in forms {
            for (suffix, kind, exit) in suffixes {
                for method in ["HEAD", "GET", "POST"] {
                    let body = method == "POST" ? "payload \(kind) ✓" : nil
                    let reply = try await Curl.request(form + suffix, method: method, body: body, extra: ["-A", "test-agent/1.0"])
                    #expect(reply.status == 200, "\(method) \(form)\(suffix)")
                    #expect(reply.body == (method == "HEAD" ? "" : "OK"))
                    #expect(reply.headers["content-type"] == "text/plain; charset=utf-8")
                    #expect(reply.headers["access-control-allow-origin"] == "*")
                    #expect(reply.headers["ping-body-limit"] == "10000")
                    #expect(reply.headers["cache-control"] == "max-age=0, no-cache, no-store, must-revalidate, private")
                    expected.append((kind, method, exit, body))
                }
            }
        }
        let stored = try server.pings(uuid)
        #expect(stored.count == expected.count)
        for (index, (line, want)) in zip(stored, expected).enumerated() {
            #expect(line["v"] as? Int == 1)
            #expect(line["n"] as? Int == index + 1)
            #expect(line["kind"] as? String == want.kind, "line \(index + 1)")
            #expect(line["method"] as? String == want.method)
            #expect(line["scheme"] as? String == "http")
            #expect(line["remote_addr"] as? String == "127.0.0.1")
            #expect(line["ua"] as? String == "test-agent/1.0")
            #expect(line["exit_status"] as? Int == want.exit)
            #expect(line["body"] as? String == want.body)
            #expect(line["body_size"] as? Int == (want.body?.utf8.count ?? 0))
            #expect((line["time_us"] as? Int ?? 0) > 1_700_000_000_000_000)
        }
        #expect(await server.stop() == 0)
    }

    @Test("errors: 404, 400, 409, 405, 413 and preflight, with nothing recorded")
    func errorResponses() async throws {
        let server = try await RunningServer(files: Self.config, arguments: ["--max-request-body", "1000"])
        defer { server.terminate() }
        let base = server.baseURL
        let uuid = try server.uuid("ops", "backup")
        let cases: [(String, String, Int, String)] = [
            ("GET", "/ping/00000000-0000-4000-8000-000000000000", 404, "not found"),
            ("GET", "/ping/\(uuid.uppercased())", 404, "not found"),
            ("GET", "/ping/\(uuid)/start/", 404, "not found"),
            ("GET", "/ping/\(uuid)/extra/segments", 404, "not found"),
            ("GET", "/ping/wrong-key-0000/database-backup", 404, "not found"),
            ("GET", "/ping/ops-ping-key-0001/no-such-slug", 404, "not found"),
            ("GET", "/ping/ops-ping-key-0001/Database-Backup", 400, "invalid url format"),
            ("GET", "/ping/\(uuid)/256", 400, "invalid url format"),
            ("GET", "/ping/ops-ping-key-0001/database-backup/300", 400, "invalid url format"),
            ("GET", "/ping/\(uuid)?rid=not-a-uuid", 400, "invalid uuid format"),
            ("GET", "/ping/ops-ping-key-0001/twin", 409, "ambiguous slug"),
            ("GET", "/ping/ops-ping-key-0001/twin/300", 409, "ambiguous slug"),
            ("GET", "/ping/wrong-key/Upper/300", 400, "invalid url format"),
        ]
        for (method, path, status, body) in cases {
            let reply = try await Curl.request(base + path, method: method)
            #expect(reply.status == status, "\(path)")
            #expect(reply.body == body, "\(path)")
            #expect(reply.headers["access-control-allow-origin"] == nil, "\(path): error responses carry no CORS header")
            #expect(reply.headers["ping-body-limit"] == nil)
        }
        let put = try await Curl.request(base + "/ping/\(uuid)", method: "PUT")
        #expect(put.status == 405)
        #expect(put.headers["allow"] == "HEAD, GET, POST, OPTIONS")
        let preflight = try await Curl.request(base + "/ping/\(uuid)", method: "OPTIONS")
        #expect(preflight.status == 204)
        #expect(preflight.headers["access-control-allow-origin"] == "*")
        let large = try await Curl.request(base + "/ping/\(uuid)", method: "POST", body: String(repeating: "x", count: 5_000))
        #expect(large.status == 413)
        #expect(large.body == "payload too large")
        #expect(try server.pings(uuid).isEmpty, "nothing recorded for any error")
        // ?create=1 creates nothing; a valid rid is stored.
        #expect(try await Curl.request(base + "/ping/ops-ping-key-0001/new-check?create=1").status == 404)
        let rid = "0b0e4a5e-3f2c-4c8e-9a21-5d1f6e7a8b9c"
        #expect(try await Curl.request(base + "/ping/\(uuid)/start?rid=\(rid.uppercased())").status == 200)
        #expect(try server.pings(uuid).first?["rid"] as? String == rid)
    }

    @Test("methods: POST records other methods as ign; a trailing slash works on the UUID form only")
    func postOnly() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "post-only")
        #expect(try await Curl.request("\(server.baseURL)/ping/\(uuid)/", method: "GET").status == 200)
        #expect(try await Curl.request("\(server.baseURL)/ping/\(uuid)", method: "POST", body: "x").status == 200)
        let kinds = try server.pings(uuid).map { $0["kind"] as? String }
        #expect(kinds == ["ign", "success"])
    }

    @Test("slug URLs of a project with a generated ping key, which survives a restart")
    func generatedPingKey() async throws {
        let first = try await RunningServer(files: Self.config)
        let key = try first.generatedPingKey("other")
        #expect(key.count == 22)
        #expect(try await Curl.request("\(first.baseURL)/ping/\(key)/database-backup").status == 200)
        #expect(await first.stop() == 0)
        #expect(!first.output.contains(key), "a ping key is a secret: never logged")
        #expect(!first.output.contains("ops-ping-key-0001"))
        #expect(first.output.contains("/ping/<other-ping-key>/database-backup"))
        let second = try await RunningServer(files: Self.config, data: first.data)
        defer { second.terminate() }
        #expect(try second.generatedPingKey("other") == key)
        #expect(try await Curl.request("\(second.baseURL)/ping/\(key)/database-backup").status == 200)
        #expect(try second.pings(second.uuid("other", "elsewhere")).count == 2)
    }

    @Test("HTTP/1.0 requests are answered (as HTTP/1.1, which RFC 9110 allows) and stored")
    func http10() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        let reply = try await Curl.request("\(server.baseURL)/ping/\(uuid)", method: "POST", body: "one-zero", extra: ["--http1.0"])
        #expect(reply.status == 200)
        #expect(reply.body == "OK")
        #expect(try server.pings(uuid).first?["body"] as? String == "one-zero")
        #expect(await server.stop() == 0)
        let stopped = server.output.split(separator: "\n").first { $0.contains("stopped: listeners closed, store flushed") } ?? ""
        #expect(stopped.contains("pings_stored=2"), "the ping and the flip it made (new → up): \(stopped)")
        // `fsync` durability (the default): what the disk's flushes cost the pings; both
        // records went in one batch.
        #expect(stopped.contains("journal_syncs=1"), "\(stopped)")
        #expect(stopped.wholeMatch(of: /.*slowest_journal_sync_ms=[0-9]+(\.[0-9]+)?\b.*/) != nil, "\(stopped)")
    }

    @Test("IPv6 loopback [::1]")
    func ipv6() async throws {
        let server = try await RunningServer(files: Self.config, listen: "[::1]:0")
        defer { server.terminate() }
        #expect(server.baseURL.hasPrefix("http://[::1]:"))
        let uuid = try server.uuid("ops", "backup")
        #expect(try await Curl.request("\(server.baseURL)/ping/\(uuid)").status == 200)
        #expect(try server.pings(uuid).first?["remote_addr"] as? String == "::1")
    }

    @Test("HTTPS with HTTP/2 (ALPN) and a self-signed certificate made here")
    func http2() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (cert, key) = try await SelfSignedCertificate.make(in: directory)
        let server = try await RunningServer(files: Self.config, arguments: ["--tls-cert", cert, "--tls-key", key])
        defer { server.terminate() }
        #expect(server.baseURL.hasPrefix("https://127.0.0.1:"))
        let uuid = try server.uuid("ops", "backup")
        let h2 = try await Curl.request("\(server.baseURL)/ping/\(uuid)", method: "POST", body: "over h2", extra: ["--http2", "--cacert", cert])
        #expect(h2.status == 200)
        #expect(h2.httpVersion == "2")
        #expect(h2.body == "OK")
        let h1 = try await Curl.request("\(server.baseURL)/ping/\(uuid)", extra: ["--http1.1", "--cacert", cert])
        #expect(h1.status == 200)
        #expect(h1.httpVersion == "1.1")
        let stored = try server.pings(uuid)
        #expect(stored.map { $0["scheme"] as? String } == ["https", "https"])
        #expect(stored.first?["body"] as? String == "over h2")
    }

    @Test("a connection that sends nothing is closed after --idle-timeout")
    func idleTimeout() async throws {
        let server = try await RunningServer(files: Self.config, arguments: ["--idle-timeout", "1"])
        defer { server.terminate() }
        let connection = try RawConnection(port: server.port)
        let ending = try await onOwnThread {
            // Send half a request line, then nothing: a slow or stuck client.
            try connection.send("GET /ping/")
            return connection.untilClosed(timeout: 10)
        }
        #expect(ending.closed, "the server closed the connection")
        #expect(ending.bytes.isEmpty)
        #expect(ending.seconds < 5)
    }

    @Test("an invalid config is fatal at start: exit 1 with its diagnostics")
    func invalidConfig() async throws {
        await #expect(throws: ServerFailed.self) { try await RunningServer(files: ["a.yaml": "checks:\n  x: {scheduel: daily}\n"]) }
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-invalid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: config) }
        try Data("checks:\n  x: {scheduel: daily}\n".utf8).write(to: config.appendingPathComponent("a.yaml"))
        let invalid = try await CLI.run(["serve", "--config", config.path, "--data", config.appendingPathComponent("data").path, "--listen", "127.0.0.1:0"])
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("a.yaml:2:7: error: unknown key 'scheduel' in check 'x' [unknown-key]"))
        #expect(invalid.stderr.contains("the configuration is invalid; nothing was started"))
        #expect(!FileManager.default.fileExists(atPath: config.appendingPathComponent("data").path), "nothing was written")
        let output = try await CLI.run(["serve", "--config", "/nonexistent/checks.d", "--data", "/tmp/kiothc-unused-data"])
        #expect(output.status == 1)
        #expect(output.stderr.contains("config directory '/nonexistent/checks.d' does not exist"))
        let bad = try await CLI.run(["serve", "--listen", "localhost"])
        #expect(bad.status == 64)
    }
}
