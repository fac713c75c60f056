import Foundation
import Testing

/// `kiothc plan` against a data directory a real server wrote (SPEC §8).
@Suite("kiothc plan", .serialized, .stopsServers)
struct PlanCommandTests {
    static let before = [
        "projects.yaml": "projects:\n  ops:\n    ping_key: ops-ping-key-0001\n",
        "checks.yaml": """
            project: ops
            checks:
              backup: {name: Database Backup, timeout: 1h}
              report: {name: Weekly Report, schedule: "0 8 * * 1", tz: Europe/Riga}
              cleanup: {name: Cleanup}
              twin-a: {name: Twin A}
              twin-b: {name: Twin B}
            """,
    ]

    static let after = """
        project: ops
        checks:
          backup: {name: Nightly Backup, timeout: 1h, grace: 30m}
          report: {name: Weekly Report, timeout: 7d}
          twin-a: {name: Twin}
          twin-b: {name: twin}
          fresh: {name: Fresh Job}
        """

    /// A data directory written by a real server on `before`, and a config directory to edit.
    final class Setup {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-plan-\(UUID().uuidString)")
        var config: URL { root.appendingPathComponent("checks.d") }
        var data: URL { root.appendingPathComponent("data") }
        let uuids: [String: String]

        init() async throws {
            let server = try await RunningServer(files: PlanCommandTests.before)
            var uuids: [String: String] = [:]
            for key in ["backup", "report", "cleanup", "twin-a", "twin-b"] { uuids[key] = try server.uuid("ops", key) }
            self.uuids = uuids
            #expect(await server.stop() == 0)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: server.config, to: config)
            try FileManager.default.copyItem(at: server.data, to: data)
        }

        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: config.appendingPathComponent(name))
        }

        func plan(_ extra: [String] = []) async throws -> CLI.Output {
            try await CLI.run(["plan", "--config", config.path, "--data", data.path] + extra)
        }

        deinit { try? FileManager.default.removeItem(at: root) }
    }

    @Test("an unchanged configuration plans nothing and exits 0")
    func unchanged() async throws {
        let setup = try await Setup()
        let output = try await setup.plan()
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout == "No changes: the configuration matches the data directory.\n")
        let json = try await setup.plan(["--format", "json"])
        #expect(json.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["changes"] as? Bool == false)
    }

    @Test("the table lists created, deleted with the URLs that break, renamed, changed settings and new conflicts; exit 2")
    func table() async throws {
        let setup = try await Setup()
        try setup.write("checks.yaml", Self.after)
        let output = try await setup.plan(["--base-url", "https://hc.example.com/"])
        #expect(output.status == 2, "\(output.stderr)")
        let cleanup = try #require(setup.uuids["cleanup"])
        let expected = """
            Checks to create:
              + ops/fresh  "Fresh Job"  https://hc.example.com/ping/<ops-ping-key>/fresh-job

            Checks to delete (their pings move to retired/; these URLs will answer 404):
              - ops/cleanup  \(cleanup)
                  https://hc.example.com/ping/\(cleanup)
                  https://hc.example.com/ping/<ops-ping-key>/cleanup

            Checks to rename (UUID URL keeps working; the old slug URL will answer 404):
              ~ ops/backup  "Database Backup" -> "Nightly Backup"
                  https://hc.example.com/ping/<ops-ping-key>/database-backup -> https://hc.example.com/ping/<ops-ping-key>/nightly-backup
              ~ ops/twin-a  "Twin A" -> "Twin"
                  https://hc.example.com/ping/<ops-ping-key>/twin-a -> https://hc.example.com/ping/<ops-ping-key>/twin
              ~ ops/twin-b  "Twin B" -> "twin"
                  https://hc.example.com/ping/<ops-ping-key>/twin-b -> https://hc.example.com/ping/<ops-ping-key>/twin

            Settings to change:
              ~ ops/backup  grace: "1h" -> "30m"
              ~ ops/report  timeout: (none) -> "7d"
              ~ ops/report  schedule: "0 8 * * 1" -> (none)
              ~ ops/report  tz: "Europe/Riga" -> (none)

            New slug conflicts (the slug URL will answer 409 ambiguous slug):
              ! ops: twin-a, twin-b share https://hc.example.com/ping/<ops-ping-key>/twin

            Plan: 1 to create, 1 to delete, 3 to rename, 2 with changed settings, 1 new slug conflicts.

            """
        #expect(output.stdout == expected)
        // A plan writes nothing: the registry still knows 'cleanup', and planning again gives the same.
        #expect(try await setup.plan(["--base-url", "https://hc.example.com/"]).stdout == expected)
    }

    @Test("the JSON plan has stable keys, the deleted check's broken URLs, and exit 2")
    func json() async throws {
        let setup = try await Setup()
        try setup.write("checks.yaml", Self.after)
        let output = try await setup.plan(["--format", "json"])
        #expect(output.status == 2)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        #expect(Set(document.keys) == [
            "changes", "summary", "created", "deleted", "renamed", "changed", "new_conflicts", "new_uuids", "maintenance", "maintenance_omitted",
        ])
        #expect((document["maintenance"] as? [Any])?.isEmpty == true)
        #expect(document["changes"] as? Bool == true)
        #expect(document["summary"] as? [String: Int] == ["created": 1, "deleted": 1, "renamed": 3, "changed": 2, "new_conflicts": 1, "new_uuids": 0])
        let created = try #require((document["created"] as? [[String: Any]])?.first)
        #expect(created["key"] as? String == "fresh" && created["uuid"] == nil && created["slug_url"] as? String == "/ping/<ops-ping-key>/fresh-job")
        let deleted = try #require((document["deleted"] as? [[String: Any]])?.first)
        let cleanup = try #require(setup.uuids["cleanup"])
        #expect(deleted["uuid"] as? String == cleanup)
        #expect(deleted["broken_urls"] as? [String] == ["/ping/\(cleanup)", "/ping/<ops-ping-key>/cleanup"])
        let renamed = (document["renamed"] as? [[String: Any]]) ?? []
        #expect(renamed.first?["uuid"] as? String == setup.uuids["backup"])
        #expect(renamed.first?["old_slug_url"] as? String == "/ping/<ops-ping-key>/database-backup")
        let changed = (document["changed"] as? [[String: Any]]) ?? []
        #expect(changed.first?["field"] as? String == "grace" && changed.first?["old"] as? String == "1h" && changed.first?["new"] as? String == "30m")
        let conflict = (document["new_conflicts"] as? [[String: Any]])?.first
        #expect(conflict?["keys"] as? [String] == ["twin-a", "twin-b"])
    }

    @Test("the maintenance windows of the next 7 days follow the plan, in text and JSON; adding them is a setting change of each check they apply to")
    func maintenance() async throws {
        let setup = try await Setup()
        let now = Date()
        func iso(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle()) }
        let start = iso(now.addingTimeInterval(86_400))
        let end = iso(now.addingTimeInterval(90_000))
        try setup.write("projects.yaml", """
            projects:
              ops:
                ping_key: ops-ping-key-0001
                maintenance:
                  - {from: "\(start)", until: "\(end)", reason: disk swap}
                  - {from: 2001-01-01T00:00:00Z, until: 2001-01-02T00:00:00Z}
            """)
        let output = try await setup.plan()
        #expect(output.status == 2, "changes: \(output.stderr)")
        let lines = output.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "Settings to change:")
        // Each check of the project gains both windows (the one of 2001 too: the plan lists
        // only future periods, but the setting is what the files say).
        let changes = lines.filter { $0.hasPrefix("  ~ ") }
        #expect(!changes.isEmpty)
        for line in changes {
            #expect(line.contains("maintenance: (none) -> \"\(start) until \(end) — disk swap; 2001-01-01T00:00:00Z until 2001-01-02T00:00:00Z\""), "\(line)")
        }
        let listing = try #require(lines.firstIndex { $0.hasPrefix("Maintenance windows in the next 7 days (") })
        #expect(lines.dropFirst(listing + 1).first?.hasSuffix("  ops (all checks)  \"disk swap\"  \(setup.config.path)/projects.yaml:5:9") == true)
        #expect(lines.dropFirst(listing + 2).first == "", "one period listed")

        let json = try await setup.plan(["--format", "json"])
        #expect(json.status == 2)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let entries = try #require(document["maintenance"] as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["project"] as? String == "ops")
        #expect(entries.first?["check"] is NSNull)
        #expect(entries.first?["start"] as? String == start)
        #expect(entries.first?["end"] as? String == end)
        #expect(entries.first?["reason"] as? String == "disk swap")
        #expect(document["maintenance_omitted"] as? Int == 0)
        #expect(document["changes"] as? Bool == true)
        let changed = try #require(document["changed"] as? [[String: Any]])
        #expect(changed.count == changes.count && changed.allSatisfy { $0["field"] as? String == "maintenance" && $0["old"] == nil })
    }

    @Test("a data directory that does not exist yet: every check is created, with a note on stderr")
    func freshData() async throws {
        let setup = try await Setup()
        let output = try await CLI.run(["plan", "--config", setup.config.path, "--data", setup.root.appendingPathComponent("nowhere").path])
        #expect(output.status == 2)
        #expect(output.stdout.contains("Plan: 5 to create, 0 to delete"))
        #expect(output.stderr.contains("no registry.json"))
        #expect(!FileManager.default.fileExists(atPath: setup.root.appendingPathComponent("nowhere").path))
    }

    @Test("an invalid configuration, an unreadable registry and a bad flag exit 1, 1 and 64")
    func failures() async throws {
        let setup = try await Setup()
        try setup.write("checks.yaml", "checks:\n  backup: {name: Backup, scheduel: daily}\n")
        let invalid = try await setup.plan()
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("[unknown-key]"))
        #expect(invalid.stdout.isEmpty)
        let invalidJSON = try await setup.plan(["--format", "json"])
        #expect(invalidJSON.status == 1)
        #expect(invalidJSON.stdout.contains(#""code" : "unknown-key""#))

        try setup.write("checks.yaml", Self.after)
        try Data("{not json".utf8).write(to: setup.data.appendingPathComponent("registry.json"))
        let corrupt = try await setup.plan()
        #expect(corrupt.status == 1)
        #expect(corrupt.stderr.contains("registry.json"))

        #expect(try await setup.plan(["--format", "xml"]).status == 64)
        #expect(try await CLI.run(["plan", "--config", setup.root.appendingPathComponent("missing").path]).status == 1)
    }
}
