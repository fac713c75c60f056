import Foundation
import Glibc
import Testing

/// `serve --log-format text|json` (and KIOTHC_LOG_FORMAT) through the real server's stderr.
@Suite("kiothc serve --log-format", .serialized, .stopsServers)
struct LogFormatTests {
    static let files = ["checks.yaml": "projects:\n  ops: {ping_key: ops-ping-key-0001}\nchecks:\n  backup: {project: ops, name: Backup}\n"]

    /// Each line of `text` parsed as one JSON object; a line that is not one fails the test.
    static func objects(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8))
            return try #require(object as? [String: Any], "not a JSON object: \(line)")
        }
    }

    static var timestamp: Regex<AnyRegexOutput> { try! Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"#) }

    @Test("json: every line is one object with ts, level, msg, label and source; metadata are keys; quotes and non-ASCII round-trip")
    func json() async throws {
        let server = try await RunningServer(files: Self.files, arguments: ["--log-format", "json", "--no-watch-config", "--reload-poll", "0"])
        defer { server.terminate() }
        #expect(server.baseURL.hasPrefix("http://127.0.0.1:") && !server.baseURL.contains("\""), "\(server.baseURL)")
        _ = try await server.waitFor(prefix: "SIGHUP reloads the configuration")
        let name = "Nightly \"DB\" Backup \\ — Zürich ✓"
        try server.write("checks.yaml", "projects:\n  ops: {ping_key: ops-ping-key-0001}\nchecks:\n  backup: {project: ops, name: 'Nightly \"DB\" Backup \\ — Zürich ✓'}\n")
        server.signal(SIGHUP)
        try await server.waitUntil("the reload is logged") { server.output.contains("configuration reloaded") }
        #expect(await server.stop() == 0)

        let lines = try Self.objects(server.output)
        #expect(lines.count >= 8, "\(server.output)")
        for line in lines {
            #expect((line["ts"] as? String)?.wholeMatch(of: Self.timestamp) != nil, "\(line)")
            #expect(["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(line["level"] as? String ?? ""), "\(line)")
            #expect(line["msg"] is String && line["source"] is String, "\(line)")
            #expect(line["label"] as? String == "kiothc", "\(line)")
            #expect(line.values.allSatisfy { $0 is String || $0 is [String] }, "values are strings: \(line)")
        }
        let messages = lines.compactMap { $0["msg"] as? String }
        let first = try #require(messages.first)
        #expect(first.wholeMatch(of: try Regex(#"kiothc \d+\.\d+\.\d+ \(.+\) starting: config .+/checks\.d, store .+/data"#)) != nil, "\(first)")
        #expect(messages.contains { $0.hasPrefix("settings: ") && $0.hasSuffix(" --log-format json") }, "\(messages)")
        #expect(messages.contains("serving pings at \(server.baseURL)"))
        let renamed = try #require(messages.first { $0.hasPrefix("check renamed: ") }, "\(messages)")
        #expect(renamed.contains("'Backup' -> '\(name)'"), "\(renamed)")
        let reloaded = try #require(lines.first { ($0["msg"] as? String)?.hasPrefix("configuration reloaded: 1 checks") == true })
        #expect(reloaded["trigger"] as? String == "signal")
        #expect((reloaded["config.hash"] as? String)?.count == 16)
        #expect(reloaded["took_ms"] is String)
        #expect(lines.last?["msg"] as? String == "stopped: listeners closed, store flushed")
        #expect(lines.last?["pings_stored"] is String, "metadata keep their keys: \(lines.last ?? [:])")
    }

    @Test("json: a configuration invalid at start is one critical line holding the diagnostics, exit 1")
    func jsonStartFailure() async throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-json-invalid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: config) }
        try Data("checks:\n  x: {scheduel: daily}\n".utf8).write(to: config.appendingPathComponent("a.yaml"))
        let output = try await CLI.run(
            ["serve", "--config", config.path, "--data", config.appendingPathComponent("data").path, "--listen", "127.0.0.1:0"],
            environment: ["KIOTHC_LOG_FORMAT": "json"])
        #expect(output.status == 1)
        let lines = try Self.objects(output.stderr)
        let last = try #require(lines.last)
        #expect(last["level"] as? String == "critical")
        #expect(last["msg"] as? String == "the configuration is invalid; nothing was started")
        #expect((last["diagnostics"] as? String)?.contains("a.yaml:2:7: error: unknown key 'scheduel' in check 'x' [unknown-key]") == true, "\(last)")
    }

    @Test("text is the default and unchanged, with the version line first; a flag wins over KIOTHC_LOG_FORMAT")
    func text() async throws {
        let server = try await RunningServer(files: Self.files, arguments: ["--log-format", "text"], environment: ["KIOTHC_LOG_FORMAT": "json"])
        defer { server.terminate() }
        let settings = try await server.waitFor(prefix: "settings: ")
        #expect(settings.hasSuffix(" --log-format text"), "\(settings)")
        let first = try #require(server.output.split(separator: "\n").first)
        // swift-log's stream format: time, level, label, [source], message.
        #expect(first.contains(" notice kiothc: [kiothc] kiothc "), "\(first)")
        #expect(first.contains(") starting: config "), "\(first)")
        #expect(!server.output.contains("{\"ts\":"))
        #expect(await server.stop() == 0)
    }

    @Test("an invalid --log-format or KIOTHC_LOG_FORMAT is a usage error (exit 64) naming it")
    func invalid() async throws {
        let serve = ["serve", "--config", "/nonexistent/kiothc-checks.d", "--data", "/nonexistent/kiothc-data"]
        let variable = try await CLI.run(serve, environment: ["KIOTHC_LOG_FORMAT": "xml"])
        #expect(variable.status == 64)
        #expect(variable.stderr.contains("KIOTHC_LOG_FORMAT='xml' is not valid; expected one of: text, json"), "\(variable.stderr)")
        let flag = try await CLI.run(serve + ["--log-format", "yaml"])
        #expect(flag.status == 64)
        #expect(flag.stderr.contains("--log-format"), "\(flag.stderr)")
    }
}
