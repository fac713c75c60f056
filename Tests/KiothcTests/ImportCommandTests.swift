import Foundation
import Testing

/// `kiothc import healthchecks` against a stand-in Healthchecks site on 127.0.0.1 answering
/// with API v3's documented JSON (hc/api/models.py `Check.to_dict`, `Channel.to_dict`).
@Suite("kiothc import healthchecks", .serialized, .stopsServers)
struct ImportCommandTests {
    static let readWrite = "rw-key-0123456789abcdef0123"
    static let readOnly = "ro-key-0123456789abcdef0123"

    static func uuid(_ n: Int) -> String { "0a0b0c0d-0000-4000-8000-00000000000\(n)" }
    static func channel(_ n: Int) -> String { "11111111-2222-4333-8444-55555555555\(n)" }

    /// Five checks in no useful order: a cron one with POST, tags and channels; a paused simple
    /// one with a custom slug and manual_resume, listed by an older Healthchecks (ping_url only,
    /// upper-case); an OnCalendar one with a non-ASCII name; a second check with the first one's
    /// slug; one whose slug and name are digits.
    static let checksJSON = """
        {"checks": [
          {"name": "123", "slug": "123", "tags": "a a b", "desc": "", "grace": 3600, "n_pings": 0, "status": "new",
           "started": false, "last_ping": null, "next_ping": null, "manual_resume": false, "methods": "",
           "uuid": "\(uuid(5))", "ping_url": "https://hc-ping.com/\(uuid(5))", "channels": "", "timeout": 86400},
          {"name": "Database Backup", "slug": "database-backup", "tags": "", "desc": "", "grace": 60, "n_pings": 3,
           "status": "down", "started": false, "last_ping": "2026-01-01T00:00:00+00:00", "next_ping": null,
           "manual_resume": false, "methods": "", "uuid": "\(uuid(4))", "ping_url": "https://hc-ping.com/\(uuid(4))",
           "channels": "", "timeout": 90061},
          {"name": "Café ☕ Nightly", "slug": "cafe-nightly", "tags": "", "desc": "", "grace": 1800, "n_pings": 0,
           "status": "new", "started": false, "last_ping": null, "next_ping": null, "manual_resume": false,
           "methods": "", "uuid": "\(uuid(3))", "ping_url": "https://hc-ping.com/\(uuid(3))", "channels": "",
           "schedule": "Mon..Fri 02:00\\nSat 04:00", "tz": "UTC"},
          {"name": "Queue: worker #1 \\"q\\"", "slug": "legacy-queue", "tags": "", "desc": "line one\\nline two",
           "grace": 60, "n_pings": 9, "status": "paused", "started": false, "last_ping": null, "next_ping": null,
           "manual_resume": true, "methods": "", "ping_url": "https://hc-ping.com/\(uuid(2).uppercased())",
           "update_url": "x", "channels": "\(channel(2))", "timeout": 300},
          {"name": "Database Backup", "slug": "database-backup", "tags": "prod  db prod", "desc": "Nightly pg_dump: full",
           "grace": 3600, "n_pings": 1, "status": "up", "started": false, "last_ping": null, "next_ping": null,
           "manual_resume": false, "methods": "POST", "uuid": "\(uuid(1))", "ping_url": "https://hc-ping.com/\(uuid(1))",
           "channels": "\(channel(1)),\(channel(2))", "schedule": "0 3 * * *", "tz": "Europe/Riga"}
        ]}
        """

    static let channelsJSON = """
        {"channels": [
          {"id": "\(channel(2))", "name": "Ops Slack", "kind": "slack"},
          {"id": "\(channel(1))", "name": "Ops mail", "kind": "email"},
          {"id": "\(channel(3))", "name": "Deploy hook", "kind": "webhook"},
          {"id": "\(channel(4))", "name": "Bad\\nname", "kind": "ntfy"}
        ]}
        """

    /// What a read-only key sees: `unique_key` instead of the UUID, and no channels.
    static let readOnlyChecksJSON = """
        {"checks": [{"name": "Database Backup", "slug": "database-backup", "tags": "", "desc": "", "grace": 60,
          "n_pings": 0, "status": "new", "started": false, "last_ping": null, "next_ping": null,
          "manual_resume": false, "methods": "", "unique_key": "a6c7b0a8a66bed0df66abfdab3c77736861703ee", "timeout": 3600}]}
        """

    static func healthchecks() throws -> FakeHealthchecks {
        try FakeHealthchecks { path, key in
            let wrongKey = FakeHealthchecks.Reply(status: 401, body: #"{"error": "wrong api key"}"#)
            switch (path, key) {
            case ("/api/v3/checks/", readWrite): return .init(status: 200, body: checksJSON)
            case ("/api/v3/channels/", readWrite): return .init(status: 200, body: channelsJSON)
            case ("/api/v3/checks/", readOnly): return .init(status: 200, body: readOnlyChecksJSON)
            case ("/api/v3/checks/", _), ("/api/v3/channels/", _): return wrongKey
            case ("/html/api/v3/checks/", _): return .init(status: 200, body: "<!DOCTYPE html>\n<html>login</html>", contentType: "text/html")
            default: return .init(status: 404, body: "<h1>Not Found</h1>", contentType: "text/html")
            }
        }
    }

    static func expected(port: Int) -> String {
        """
        # Imported from the Healthchecks project at http://127.0.0.1:\(port) by `kiothc import healthchecks`
        # (API v3): 5 checks, 4 channels. Importing again writes the same file.
        # Each check pins its Healthchecks UUID and slug, so existing ping URLs keep working.
        projects:
          ops:
            # ping_key: the Healthchecks project's ping key keeps its slug URLs (/ping/<ping key>/<slug>)
            # working; set it without writing the secret here, e.g. ping_key: {env: OPS_PING_KEY}
            # Healthchecks' API lists only each channel's id, name and kind, not its settings, so no
            # channel is imported; declare the ones you need under channels: (docs/alerts.md).
            # channel "Bad\\nname" (ntfy, id \(channel(4))) not imported: its settings are not in Healthchecks' API; no check uses it
            # channel "Deploy hook" (webhook, id \(channel(3))) not imported: its settings are not in Healthchecks' API; no check uses it
            # channel "Ops Slack" (slack, id \(channel(2))) not imported: its settings are not in Healthchecks' API; used by database-backup, legacy-queue
            # channel "Ops mail" (email, id \(channel(1))) not imported: its settings are not in Healthchecks' API; used by database-backup
        project: ops
        checks:
          "123":
            uuid: \(uuid(5))
            slug: "123"
            name: "123"
            timeout: 1d
            grace: 1h
            tags: [a, b]
          cafe-nightly:
            uuid: \(uuid(3))
            slug: cafe-nightly
            name: "Café ☕ Nightly"
            schedule: "Mon..Fri 02:00\\nSat 04:00"
            tz: UTC
            grace: 30m
          database-backup:
            uuid: \(uuid(1))
            slug: database-backup
            name: Database Backup
            desc: "Nightly pg_dump: full"
            schedule: "0 3 * * *"
            tz: Europe/Riga
            grace: 1h
            tags: [prod, db]
            methods: POST
          database-backup-2:
            uuid: \(uuid(4))
            slug: database-backup
            name: Database Backup
            timeout: 1d1h1m1s
            grace: 1m
          legacy-queue:
            uuid: \(uuid(2))
            slug: legacy-queue
            name: "Queue: worker #1 \\"q\\""
            desc: "line one\\nline two"
            timeout: 5m
            grace: 1m
            manual_resume: true
            paused: true

        """
    }

    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func importing(_ site: String, key: String = ImportCommandTests.readWrite, _ extra: [String] = []) async throws -> CLI.Output {
        try await CLI.run(["import", "healthchecks", "--url", site, "--api-key", key] + extra)
    }

    @Test("every check keeps its UUID and slug, with name, desc, tags, timeout or schedule and tz, grace, methods, manual_resume and paused; channels are comments")
    func fieldByField() async throws {
        let site = try Self.healthchecks()
        defer { site.stop() }
        let output = try await importing(site.baseURL + "/", ["--project", "ops"])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout == Self.expected(port: site.port))
        #expect(output.stderr.contains("kiothc: note: imported 5 checks and 4 channels (as comments) from http://127.0.0.1:\(site.port)"), "\(output.stderr)")
        #expect(output.stderr.contains("kiothc: warning: no --ping-key"), "\(output.stderr)")
        #expect(site.requests == [.init(path: "/api/v3/checks/", apiKey: Self.readWrite), .init(path: "/api/v3/channels/", apiKey: Self.readWrite)])
    }

    @Test("--out writes DIR/<project>.yaml with --ping-key as ping_key; importing again writes the same bytes")
    func idempotent() async throws {
        let site = try Self.healthchecks()
        defer { site.stop() }
        let directory = try Self.scratch().appendingPathComponent("checks.d")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let file = directory.appendingPathComponent("imported.yaml")
        let first = try await importing(site.baseURL, ["--out", directory.path, "--ping-key", "Hc_Ping-Key_0123456789"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.isEmpty)
        #expect(first.stderr.contains("into \(file.path)"), "\(first.stderr)")
        #expect(!first.stderr.contains("warning"), "\(first.stderr)")
        let written = try Data(contentsOf: file)
        let text = String(decoding: written, as: UTF8.self)
        #expect(text.contains("projects:\n  imported:\n    ping_key: Hc_Ping-Key_0123456789  # consider {env: NAME} or {file: PATH} instead of the literal key\n"), "\(text)")
        #expect(text.contains("project: imported\nchecks:\n"))
        #expect(!text.contains("# ping_key:"))

        let second = try await importing(site.baseURL, ["--out", directory.path, "--ping-key", "Hc_Ping-Key_0123456789"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try Data(contentsOf: file) == written)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["imported.yaml"])
    }

    @Test("a wrong API key: Healthchecks' 401 is said with its error, the key never; exit 1, nothing written")
    func wrongKey() async throws {
        let site = try Self.healthchecks()
        defer { site.stop() }
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try await importing(site.baseURL, key: "not-the-key-42", ["--out", directory.path])
        #expect(output.status == 1)
        #expect(output.stderr == "kiothc: error: http://127.0.0.1:\(site.port) refused the API key (wrong api key) for GET /api/v3/checks/: give the project's read-write API key (Healthchecks: Settings → API Access)\n")
        #expect(output.stdout.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("a read-only key is refused: without UUIDs the ping URLs could not be kept")
    func readOnlyKey() async throws {
        let site = try Self.healthchecks()
        defer { site.stop() }
        let output = try await importing(site.baseURL, key: Self.readOnly)
        #expect(output.status == 1)
        #expect(output.stderr.contains("kiothc: error: the API key is read-only: Healthchecks lists checks to it without their UUIDs"), "\(output.stderr)")
        #expect(output.stderr.contains("give the project's read-write API key"), "\(output.stderr)")
        #expect(!output.stderr.contains(Self.readOnly))
        #expect(output.stdout.isEmpty)
    }

    @Test("an unreachable site, an answer that is not JSON and a site without API v3 are each said; exit 1")
    func badSites() async throws {
        let site = try Self.healthchecks()
        defer { site.stop() }
        let html = try await importing(site.baseURL + "/html")
        #expect(html.status == 1)
        #expect(html.stderr.contains("the answer to GET /api/v3/checks/ is not Healthchecks' JSON (it starts with '<!DOCTYPE html> <html>login</html>'); is --url the address of the Healthchecks site?"), "\(html.stderr)")

        let missing = try await importing(site.baseURL + "/elsewhere")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("http://127.0.0.1:\(site.port)/elsewhere has no GET /api/v3/checks/ (HTTP 404)"), "\(missing.stderr)")

        let closed = try FakeHealthchecks { _, _ in .init(status: 500, body: "") }
        let port = closed.port
        closed.stop()
        let unreachable = try await importing("http://user:secret@127.0.0.1:\(port)")
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.hasPrefix("kiothc: error: cannot reach http://127.0.0.1:\(port): "), "\(unreachable.stderr)")
        #expect(!unreachable.stderr.contains("secret"))
    }

    @Test("usage errors: a bad URL, project id or ping key is exit 64")
    func usage() async throws {
        let notURL = try await CLI.run(["import", "healthchecks", "--url", "hc.example.com", "--api-key", "k"])
        #expect(notURL.status == 64)
        #expect(notURL.stderr.contains("--url must be the http(s) address of the Healthchecks site"), "\(notURL.stderr)")
        let project = try await CLI.run(["import", "healthchecks", "--url", "http://127.0.0.1:1", "--api-key", "k", "--project", "Ops"])
        #expect(project.status == 64)
        #expect(project.stderr.contains("--project 'Ops' is not a project id"), "\(project.stderr)")
        let pingKey = try await CLI.run(["import", "healthchecks", "--url", "http://127.0.0.1:1", "--api-key", "k", "--ping-key", "short"])
        #expect(pingKey.status == 64)
        #expect(pingKey.stderr.contains("--ping-key is not a ping key"), "\(pingKey.stderr)")
        #expect(!pingKey.stderr.contains("short"))
    }

    @Test("kiothc check passes on the imported file, which reads back every name and slug as Healthchecks had it")
    func checkPasses() async throws {
        let site = try Self.healthchecks()
        defer { site.stop() }
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let imported = try await importing(site.baseURL, ["--project", "ops", "--out", directory.appendingPathComponent("checks.d").path])
        #expect(imported.status == 0, "\(imported.stderr)")
        let config = directory.appendingPathComponent("checks.d").path
        let check = try await CLI.run(["check", "--config", config, "--format", "json"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
        #expect(report["valid"] as? Bool == true)
        #expect(report["errors"] as? Int == 0)
        #expect(report["checks"] as? Int == 5)
        // The two checks Healthchecks also had under one slug: a warning, as its 409 there.
        let codes = (report["diagnostics"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(codes == ["slug-conflict"], "\(check.stdout)")

        // An empty data directory, as before the first `serve` (which is where UUIDs show).
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let status = try await CLI.run(["status", "--config", config, "--data", data.path, "--format", "json"])
        #expect(status.status == 0, "\(status.stderr)")
        let listed = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["checks"] as? [[String: Any]])
        let seen = Dictionary(uniqueKeysWithValues: listed.compactMap { row in (row["key"] as? String).map { ($0, row) } })
        let expected: [(Int, String, String, String)] = [
            (1, "database-backup", "Database Backup", "database-backup"), (2, "legacy-queue", "Queue: worker #1 \"q\"", "legacy-queue"),
            (3, "cafe-nightly", "Café ☕ Nightly", "cafe-nightly"), (4, "database-backup-2", "Database Backup", "database-backup"),
            (5, "123", "123", "123"),
        ]
        #expect(listed.count == 5)
        for (_, key, name, slug) in expected {
            let row = try #require(seen[key], "\(status.stdout)")
            #expect(row["name"] as? String == name)
            #expect(row["slug"] as? String == slug)
        }
        #expect(seen["legacy-queue"]?["status"] as? String == "paused")
    }

    @Test("import, serve, then every old UUID URL and every old slug URL answers as in Healthchecks (200; 409 for the shared slug)")
    func roundTrip() async throws {
        let site = try Self.healthchecks()
        defer { site.stop() }
        let pingKey = "Hc_Ping-Key_0123456789"
        let imported = try await importing(site.baseURL, ["--project", "ops", "--ping-key", pingKey])
        #expect(imported.status == 0, "\(imported.stderr)")
        let server = try await RunningServer(files: ["ops.yaml": imported.stdout])
        for n in 1...5 {
            let reply = try await Curl.request("\(server.baseURL)/ping/\(Self.uuid(n))")
            #expect(reply.status == 200, "UUID \(n): \(reply.body)")
        }
        for slug in ["123", "cafe-nightly", "legacy-queue"] {
            let reply = try await Curl.request("\(server.baseURL)/ping/\(pingKey)/\(slug)")
            #expect(reply.status == 200, "slug \(slug): \(reply.body)")
        }
        let shared = try await Curl.request("\(server.baseURL)/ping/\(pingKey)/database-backup")
        #expect(shared.status == 409, "\(shared.body)")
        #expect(try server.pings(Self.uuid(3)).count == 2, "one ping by UUID, one by slug")
        #expect(await server.stop() == 0)
    }

    @Test("an empty project imports as a valid file with no checks and no channel comments")
    func emptyProject() async throws {
        let site = try FakeHealthchecks { path, _ in
            .init(status: 200, body: path == "/api/v3/checks/" ? #"{"checks": []}"# : #"{"channels": []}"#)
        }
        defer { site.stop() }
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let imported = try await importing(site.baseURL, ["--project", "default", "--out", directory.path])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(!imported.stderr.contains("warning"), "\(imported.stderr)")
        let text = try String(contentsOf: directory.appendingPathComponent("default.yaml"), encoding: .utf8)
        #expect(text.hasSuffix("projects:\n  default:\n    # ping_key: the Healthchecks project's ping key keeps its slug URLs (/ping/<ping key>/<slug>)\n    # working; set it without writing the secret here, e.g. ping_key: {env: DEFAULT_PING_KEY}\nproject: default\nchecks: {}\n"), "\(text)")
        #expect(text.contains("# (API v3): 0 checks, 0 channels."))
        let check = try await CLI.run(["check", "--config", directory.path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }
}
