import Foundation
import Testing

/// `kiothc status` and `kiothc pings` against a data directory a real server wrote: their JSON,
/// their errors, and that reading never writes or repairs anything.
@Suite("kiothc status and pings", .serialized, .stopsServers)
struct StatusCommandTests {
    static let files = [
        "checks.yaml": """
            projects:
              ops: {ping_key: ops-ping-key-0001}
            checks:
              backup: {project: ops, name: Backup, timeout: 1h, tags: [prod, db]}
              report: {project: ops, name: Report, schedule: "0 6 * * *", tags: [prod]}
              other: {name: Other}
            """
    ]

    /// Every file under `root` with its size and modification time.
    static func listing(_ root: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey])
        while let url = enumerator?.nextObject() as? URL {
            let values = try url.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey])
            result[url.path] = "\(values.fileSize ?? -1) \(values.contentModificationDate?.timeIntervalSince1970 ?? 0)"
        }
        return result
    }

    @Test("status JSON has SPEC §8's fields in order, filters by project and tag, and reads a torn line without repairing it")
    func statusJSON() async throws {
        let server = try await RunningServer(files: Self.files)
        let backup = try server.uuid("ops", "backup")
        #expect(try await Curl.request(server.baseURL + "/ping/\(backup)", method: "POST", body: "done").status == 200)
        #expect(try await Curl.request(server.baseURL + "/ping/\(backup)/start").status == 200)
        #expect(await server.stop() == 0)
        // An append in progress (or torn by a crash): a line without its newline.
        let file = server.data.appendingPathComponent("pings/\(backup).jsonl")
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"v":1,"n":3,"time_us":17"#.utf8))
        try handle.close()
        // A check added to config after the server stopped: no UUID yet.
        try server.write("more.yaml", "checks:\n  later: {name: Later}\n")
        let before = try Self.listing(server.data)

        let output = try await CLI.run(["status", "--config", server.config.path, "--data", server.data.path, "--format", "json", "--base-url", "https://hc.example.com"])
        #expect(output.status == 0, "\(output.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
        let checks = try #require(document["checks"] as? [[String: Any]])
        #expect(checks.count == 4)
        let keyOrder = output.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("      \"") }.prefix(13).map { $0.split(separator: "\"")[1] }
        #expect(keyOrder == ["project", "key", "name", "slug", "uuid", "status", "started", "last_ping", "next_ping", "n_pings", "tags", "ping_url", "slug_url"])
        let first = try #require(checks.first { $0["key"] as? String == "backup" })
        #expect(first["status"] as? String == "up")
        #expect(first["started"] as? Bool == true)
        #expect(first["n_pings"] as? Int == 2)
        #expect(first["tags"] as? [String] == ["prod", "db"])
        #expect(first["ping_url"] as? String == "https://hc.example.com/ping/\(backup)")
        #expect(first["slug_url"] as? String == "https://hc.example.com/ping/<ops-ping-key>/backup")
        let later = try #require(checks.first { $0["key"] as? String == "later" })
        #expect(later["uuid"] is NSNull)
        #expect(later["status"] as? String == "new")

        let filtered = try await CLI.run(["status", "--config", server.config.path, "--data", server.data.path, "--project", "ops", "--tag", "db", "--format", "json"])
        let only = try #require(try JSONSerialization.jsonObject(with: Data(filtered.stdout.utf8)) as? [String: Any])
        #expect((only["checks"] as? [[String: Any]])?.map { $0["key"] as? String } == ["backup"])

        let table = try await CLI.run(["status", "--config", server.config.path, "--data", server.data.path])
        #expect(table.status == 0)
        #expect(table.stdout.hasPrefix("PROJECT  KEY"))
        #expect(table.stdout.contains("up (started)"))

        let pings = try await CLI.run(["pings", "ops/backup", "--data", server.data.path, "--format", "json"])
        #expect(pings.status == 0, "\(pings.stderr)")
        let pingDocument = try #require(try JSONSerialization.jsonObject(with: Data(pings.stdout.utf8)) as? [String: Any])
        let list = try #require(pingDocument["pings"] as? [[String: Any]])
        #expect(list.map { $0["n"] as? Int } == [2, 1])
        #expect(list.last?["body"] as? String == "done")
        #expect(try await CLI.run(["pings", backup, "--data", server.data.path]).stdout.contains("done"))

        #expect(try Self.listing(server.data) == before, "reading changed the data directory")
    }

    @Test("pings shows a removed check's pings from retired/, marked retired, by UUID and by project/key")
    func retiredPings() async throws {
        let server = try await RunningServer(files: Self.files)
        defer { server.terminate() }
        let gone = try server.uuid("ops", "report")
        for body in ["first", "second", "third"] {
            #expect(try await Curl.request(server.baseURL + "/ping/\(gone)", method: "POST", body: body).status == 200)
        }
        try server.write("checks.yaml", Self.files["checks.yaml"]!.replacingOccurrences(of: "  report: {project: ops, name: Report, schedule: \"0 6 * * *\", tags: [prod]}\n", with: ""))
        try await server.waitUntil("the removed check's pings are in retired/") {
            FileManager.default.fileExists(atPath: server.data.appendingPathComponent("retired/\(gone).jsonl").path)
                && server.output.contains("check removed: ops/report")
        }
        let data = server.data.path

        for check in ["ops/report", gone, gone.uppercased()] {
            let table = try await CLI.run(["pings", check, "--data", data])
            #expect(table.status == 0, "\(table.stderr)")
            let lines = table.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("retired check ops/report (\(gone)), removed from the configuration ") == true, "\(table.stdout)")
            #expect(lines.first?.hasSuffix("; its pings are kept in retired/") == true)
            try #require(lines.count == 5, "the retired line, the header and three pings: \(table.stdout)")
            #expect(lines[2].contains("third") && lines[4].contains("first"))
            #expect(table.stderr.isEmpty)
        }
        let json = try await CLI.run(["pings", "ops/report", "--data", data, "--format", "json", "--limit", "2"])
        #expect(json.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["uuid"] as? String == gone)
        #expect(document["project"] as? String == "ops" && document["key"] as? String == "report")
        #expect(document["retired"] as? Bool == true)
        #expect((document["retired_at"] as? String)?.hasSuffix("+00:00") == true, "ISO 8601 UTC, as last_ping")
        #expect((document["pings"] as? [[String: Any]])?.map { $0["body"] as? String } == ["third", "second"])

        // Back in the configuration: a new UUID, shown by project/key; the old one stays reachable.
        try server.write("checks.yaml", Self.files["checks.yaml"]!)
        try await server.waitUntil("the check is back with a new UUID") { (try? server.uuid("ops", "report")).map { $0 != gone } ?? false }
        let fresh = try server.uuid("ops", "report")
        let live = try await CLI.run(["pings", "ops/report", "--data", data, "--format", "json"])
        #expect(live.status == 0)
        let liveDocument = try #require(try JSONSerialization.jsonObject(with: Data(live.stdout.utf8)) as? [String: Any])
        #expect(liveDocument["uuid"] as? String == fresh)
        #expect(liveDocument["retired"] as? Bool == false)
        #expect(liveDocument["retired_at"] is NSNull)
        #expect((liveDocument["pings"] as? [Any])?.isEmpty == true)
        #expect(live.stderr.contains("kiothc: note: ops/report also had UUID \(gone), removed "))
        #expect(live.stderr.contains(": kiothc pings \(gone)\n"))
        #expect(try await CLI.run(["pings", gone, "--data", data]).stdout.hasPrefix("retired check ops/report (\(gone))"))

        // A UUID the registry does not know is an error, not an empty table.
        let unknown = UUID().uuidString.lowercased()
        let missing = try await CLI.run(["pings", unknown, "--data", data])
        #expect(missing.status == 1)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr.contains("no check with UUID \(unknown) in '\(data)/registry.json', neither configured nor removed"))
        #expect(await server.stop() == 0)
    }

    @Test("while the files are invalid, status shows what the server still serves with a warning; plan exits 1 saying why")
    func invalidConfigBesideServer() async throws {
        let server = try await RunningServer(files: Self.files)
        defer { server.terminate() }
        let backup = try server.uuid("ops", "backup")
        #expect(try await Curl.request(server.baseURL + "/ping/\(backup)").status == 200)
        #expect(try await Curl.request(server.baseURL + "/ping/\(try server.uuid("ops", "report"))").status == 200)
        try server.write("checks.yaml", Self.files["checks.yaml"]! + "\n  broken: {scheduel: daily}\n")
        try await server.waitUntil("the server rejected the change") { server.output.contains("configuration rejected") }
        #expect(try await Curl.request(server.baseURL + "/ping/\(backup)").status == 200, "the last good configuration serves")
        let directories = ["--config", server.config.path, "--data", server.data.path]
        let warning = "kiothc: warning: \(server.config.path)/checks.yaml:7:12: unknown key 'scheduel' in check 'broken' — showing the configuration last applied by the server ("

        let table = try await CLI.run(["status"] + directories)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stderr.hasPrefix(warning), "\(table.stderr)")
        #expect(table.stderr.split(separator: "\n").count == 1)
        #expect(table.stdout.hasPrefix("PROJECT  KEY"))
        #expect(table.stdout.contains("/ping/\(backup)"))
        #expect(!table.stdout.contains("broken"))

        let json = try await CLI.run(["status", "--format", "json", "--project", "ops"] + directories)
        #expect(json.status == 0)
        #expect(json.stderr.hasPrefix(warning))
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let checks = try #require(document["checks"] as? [[String: Any]])
        #expect(checks.map { $0["key"] as? String } == ["backup", "report"])
        let first = try #require(checks.first)
        #expect(first["uuid"] as? String == backup)
        #expect(first["status"] as? String == "up")
        #expect(first["n_pings"] as? Int == 2)
        #expect(first["tags"] as? [String] == ["prod", "db"])
        #expect(first["slug_url"] as? String == "/ping/<ops-ping-key>/backup")
        #expect(checks.last?["next_ping"] is String, "the schedule was rebuilt from catalog.json")

        let plan = try await CLI.run(["plan"] + directories)
        #expect(plan.status == 1)
        #expect(plan.stderr.contains("checks.yaml:7:12: error: unknown key 'scheduel' in check 'broken' [unknown-key]"))
        #expect(plan.stderr.contains(
            "kiothc: error: the configuration is invalid, so it cannot be applied: nothing to plan. A running server rejects it and keeps serving the configuration it last applied ('kiothc status' shows that one)."))

        // Without a configuration applied to fall back on, invalid is an error, as before.
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-empty-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let bare = try await CLI.run(["status", "--config", server.config.path, "--data", empty.path])
        #expect(bare.status == 1)
        #expect(bare.stderr.contains("checks.yaml:7:12: error: unknown key 'scheduel' in check 'broken' [unknown-key]"))
        #expect(bare.stderr.contains("kiothc: error: the configuration is invalid"))
        #expect(await server.stop() == 0)
    }

    @Test("status and pings fail clearly: unknown project, missing data directory, unknown check, bad limit")
    func errors() async throws {
        let server = try await RunningServer(files: Self.files)
        await server.stop()
        let config = server.config.path
        let data = server.data.path
        let unknownProject = try await CLI.run(["status", "--config", config, "--data", data, "--project", "nope"])
        #expect(unknownProject.status == 1)
        #expect(unknownProject.stderr.contains("no project 'nope'"))
        let missing = try await CLI.run(["status", "--config", config, "--data", data + "-missing"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no data directory"))
        #expect(!FileManager.default.fileExists(atPath: data + "-missing"))
        #expect(try await CLI.run(["pings", "ops/nope", "--data", data]).status == 1)
        #expect(try await CLI.run(["pings", UUID().uuidString, "--data", data]).status == 1)
        #expect(try await CLI.run(["pings", "not-a-check", "--data", data]).status == 1)
        #expect(try await CLI.run(["pings", "ops/backup", "--data", data, "--limit", "0"]).status == 64)
        #expect(try await CLI.run(["pings", "ops/backup", "--data", data, "--limit", "100001"]).status == 64)
        #expect(try await CLI.run(["status", "--config", config, "--data", data, "--format", "yaml"]).status == 64)
        #expect(try await CLI.run(["pause", "ops/backup"], environment: ["KIOTHC_API_KEY": ""]).status == 64)
        let unreachable = try await CLI.run(["pause", "ops/backup", "--server", "http://127.0.0.1:9", "--api-key", "k"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("cannot reach the server"))
    }
}
