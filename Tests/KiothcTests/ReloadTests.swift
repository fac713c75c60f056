import Foundation
import Glibc
import Synchronization
import Testing

/// Hot reload end to end (SPEC §1.3, §5): the real `kiothc serve`, config files rewritten
/// under it, pings over real sockets.
@Suite("kiothc serve reloads its configuration", .serialized, .stopsServers)
struct ReloadTests {
    static let projects = """
        projects:
          ops:
            ping_key: ops-ping-key-0001
        """

    static func checks(_ body: String) -> String { "project: ops\nchecks:\n" + body }

    /// The Unix time of the server's last successful reload, from /metrics.
    static func lastReload(_ server: RunningServer) async throws -> Double? {
        let token = try server.adminToken()
        let reply = try await Curl.request("\(server.baseURL)/metrics", extra: ["-H", "Authorization: Bearer \(token)"])
        let line = reply.body.split(separator: "\n").first { $0.hasPrefix("kiothc_config_last_reload_success_timestamp_seconds ") }
        return line.flatMap { Double($0.split(separator: " ")[1]) }
    }

    @Test("a rename: the old slug answers 404, the new one 200, the UUID URL keeps working and the history is intact")
    func rename() async throws {
        let server = try await RunningServer(files: ["projects.yaml": Self.projects, "checks.yaml": Self.checks("  backup: {name: Database Backup}\n")])
        defer { server.terminate() }
        let base = server.baseURL
        let uuid = try server.uuid("ops", "backup")
        #expect(try await Curl.request("\(base)/ping/\(uuid)").status == 200)
        #expect(try await Curl.request("\(base)/ping/ops-ping-key-0001/database-backup/start").status == 200)

        let written = Date()
        try server.write("checks.yaml", Self.checks("  backup: {name: Nightly DB Backup}\n"))
        let delay = try await server.waitUntil("the new slug answers") {
            try await Curl.request("\(base)/ping/ops-ping-key-0001/nightly-db-backup").status == 200
        }
        // The bound is on when the server applied it, by its own clock (the reload metric). When
        // this test saw it depends on the test runner too: a TSan run saw it after 8.4 s, the
        // server had applied it after 0.16 s. The wait's own timeout (10 s) bounds that.
        let applied = try #require(try await Self.lastReload(server)) - written.timeIntervalSince1970
        #expect(applied > 0 && applied < 5, "the server applied the rename \(applied) s after the write (the test saw it after \(delay) s)")
        #expect(try await Curl.request("\(base)/ping/ops-ping-key-0001/database-backup").status == 404)
        #expect(try await Curl.request("\(base)/ping/\(uuid)/fail").status == 200)
        #expect(try server.uuid("ops", "backup") == uuid)
        let pings = try server.pings(uuid)
        #expect(pings.map { $0["n"] as? Int } == [1, 2, 3, 4])
        #expect(pings.map { $0["kind"] as? String } == ["success", "start", "success", "fail"])
        // The run opened before the rename was closed after it: state was carried over.
        #expect(pings[2]["duration_us"] != nil)
        #expect(server.output.contains("check renamed: ops/backup 'Database Backup' -> 'Nightly DB Backup'; slug URL /ping/<ops-ping-key>/database-backup -> /ping/<ops-ping-key>/nightly-db-backup"))
        #expect(await server.stop() == 0)
    }

    @Test("a check removed and added back gets a new UUID; the old UUID answers 404 and its pings are in retired/")
    func removeAndReAdd() async throws {
        let server = try await RunningServer(files: [
            "projects.yaml": Self.projects, "checks.yaml": Self.checks("  keep: {name: Keep}\n  gone: {name: Gone}\n"),
        ])
        defer { server.terminate() }
        let base = server.baseURL
        let old = try server.uuid("ops", "gone")
        #expect(try await Curl.request("\(base)/ping/\(old)").status == 200)

        try server.write("checks.yaml", Self.checks("  keep: {name: Keep}\n"))
        try await server.waitUntil("the removed check's UUID answers 404") { try await Curl.request("\(base)/ping/\(old)").status == 404 }
        #expect(try await Curl.request("\(base)/ping/ops-ping-key-0001/gone").status == 404)
        try await server.waitUntil("its pings are moved aside") {
            FileManager.default.fileExists(atPath: server.data.appendingPathComponent("retired/\(old).jsonl").path)
        }
        #expect(!FileManager.default.fileExists(atPath: server.data.appendingPathComponent("pings/\(old).jsonl").path))
        // The line is logged after the files moved: wait for it rather than race it.
        try await server.waitUntil("the removal is logged") {
            server.output.contains("check removed: ops/gone; /ping/\(old) and /ping/<ops-ping-key>/gone now answer 404")
        }

        try server.write("checks.yaml", Self.checks("  keep: {name: Keep}\n  gone: {name: Gone}\n"))
        try await server.waitUntil("the re-added check answers") { try await Curl.request("\(base)/ping/ops-ping-key-0001/gone").status == 200 }
        let new = try server.uuid("ops", "gone")
        #expect(new != old)
        #expect(try await Curl.request("\(base)/ping/\(old)").status == 404)
        #expect(try await Curl.request("\(base)/ping/\(new)").status == 200)
        #expect(try server.pings(new).count == 2)
        #expect(await server.stop() == 0)
    }

    @Test("removing more checks than the log lists (50) retires every one of them, in one reload")
    func removeMany() async throws {
        let keys = (1...60).map { "job-\($0)" }
        let server = try await RunningServer(files: [
            "projects.yaml": Self.projects, "checks.yaml": Self.checks(keys.map { "  \($0): {}\n" }.joined()),
        ])
        defer { server.terminate() }
        let uuids = try keys.map { try server.uuid("ops", $0) }
        for uuid in uuids { #expect(try await Curl.request("\(server.baseURL)/ping/\(uuid)").status == 200) }

        try server.write("checks.yaml", Self.checks("  job-1: {}\n"))
        try await server.waitUntil("the reload is logged") { server.output.contains("configuration reloaded: 1 checks; 0 added, 59 removed") }
        for uuid in uuids.dropFirst() {
            #expect(try await Curl.request("\(server.baseURL)/ping/\(uuid)").status == 404)
        }
        let registry = try JSONSerialization.jsonObject(with: Data(contentsOf: server.data.appendingPathComponent("registry.json"))) as? [String: Any]
        #expect((registry?["checks"] as? [Any])?.count == 1)
        #expect(Set((registry?["retired"] as? [[String: Any]])?.compactMap { $0["uuid"] as? String } ?? []) == Set(uuids.dropFirst()))
        let retired = try FileManager.default.contentsOfDirectory(atPath: server.data.appendingPathComponent("retired").path)
        #expect(retired.filter { $0.hasSuffix(".jsonl") && !$0.hasSuffix(".flips.jsonl") }.count == 59, "every removed check's pings moved aside")
        #expect(server.occurrences(of: "check removed: ") == 50)
        #expect(server.output.contains("9 more changes are not logged"))

        // A later reload has nothing left to remove (it found 9 still registered before).
        try server.write("checks.yaml", Self.checks("  job-1: {}\n  job-61: {}\n"))
        try await server.waitUntil("the next reload is logged") { server.output.contains("configuration reloaded: 2 checks; 1 added, 0 removed") }
        #expect(await server.stop() == 0)
    }

    @Test("removing one of two checks sharing a slug: the log and the plan say the slug URL now answers the other, as it does")
    func removeOneOfTwins() async throws {
        let server = try await RunningServer(files: [
            "projects.yaml": Self.projects, "checks.yaml": Self.checks("  twin-a: {name: Twin}\n  twin-b: {name: twin}\n"),
        ])
        defer { server.terminate() }
        let base = server.baseURL
        let a = try server.uuid("ops", "twin-a")
        let b = try server.uuid("ops", "twin-b")
        #expect(try await Curl.request("\(base)/ping/ops-ping-key-0001/twin").status == 409)

        // kiothc plan, before the change, says the same as the log after it.
        let planConfig = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-twins-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: planConfig, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: planConfig) }
        try Data(Self.projects.utf8).write(to: planConfig.appendingPathComponent("projects.yaml"))
        try Data(Self.checks("  twin-b: {name: twin}\n").utf8).write(to: planConfig.appendingPathComponent("checks.yaml"))
        let plan = try await CLI.run(["plan", "--config", planConfig.path, "--data", server.data.path])
        #expect(plan.status == 2, "\(plan.stderr)")
        #expect(plan.stdout == """
            Checks to delete (their pings move to retired/; these URLs will answer 404):
              - ops/twin-a  \(a)
                  /ping/\(a)
                  not /ping/<ops-ping-key>/twin: it will answer ops/twin-b (no longer ambiguous)

            Plan: 0 to create, 1 to delete, 0 to rename, 0 with changed settings, 0 new slug conflicts.

            """)
        let json = try await CLI.run(["plan", "--config", planConfig.path, "--data", server.data.path, "--format", "json"])
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let deleted = try #require((document?["deleted"] as? [[String: Any]])?.first)
        #expect(deleted["broken_urls"] as? [String] == ["/ping/\(a)"])
        let kept = (deleted["kept_urls"] as? [[String: Any]])?.first
        #expect(kept?["url"] as? String == "/ping/<ops-ping-key>/twin")
        #expect(kept?["answered_by"] as? [String] == ["ops/twin-b"])

        try server.write("checks.yaml", Self.checks("  twin-b: {name: twin}\n"))
        try await server.waitUntil("the slug is no longer ambiguous") { try await Curl.request("\(base)/ping/ops-ping-key-0001/twin").status == 200 }
        #expect(try await Curl.request("\(base)/ping/\(a)").status == 404)
        try await server.waitUntil("the removal is logged") { server.output.contains("check removed: ops/twin-a") }
        #expect(server.output.contains(
            "check removed: ops/twin-a; /ping/\(a) now answers 404; slug URL /ping/<ops-ping-key>/twin now answers ops/twin-b (no longer ambiguous); its pings are in retired/"))
        #expect(!server.output.contains("/ping/<ops-ping-key>/twin now answer 404"))
        #expect(try server.pings(b).count == 1, "the slug ping went to twin-b")
        #expect(await server.stop() == 0)
    }

    @Test("a syntax error and a semantic error written while pings flow: no ping fails, the old config serves, the metric says 0 until fixed")
    func rejectedWhilePinging() async throws {
        let good = Self.checks("  backup: {name: Backup, timeout: 1h}\n")
        let server = try await RunningServer(files: ["projects.yaml": Self.projects, "checks.yaml": good])
        defer { server.terminate() }
        let base = server.baseURL
        let uuid = try server.uuid("ops", "backup")
        let token = try server.adminToken()
        func metric() async throws -> String? {
            let reply = try await Curl.request("\(base)/metrics", extra: ["-H", "Authorization: Bearer \(token)"])
            return reply.body.split(separator: "\n").first { $0.hasPrefix("kiothc_config_last_reload_successful ") }.map { String($0.split(separator: " ")[1]) }
        }
        #expect(try await metric() == "1")

        let pinger = PingLoop(urls: ["\(base)/ping/\(uuid)", "\(base)/ping/ops-ping-key-0001/backup"])
        defer { pinger.terminate() }
        try await server.waitUntil("pings flow") { pinger.counts.ok >= 5 }

        try server.write("checks.yaml", "project: ops\nchecks:\n  backup: {name: Backup, timeout: 1h\n")
        try await server.waitUntil("the metric says 0") { try await metric() == "0" }
        try await server.waitUntil("the syntax error is logged") { server.output.contains("[yaml-syntax]") }
        let afterSyntax = pinger.counts.ok
        try await server.waitUntil("pings still flow") { pinger.counts.ok >= afterSyntax + 5 }

        try server.write("checks.yaml", Self.checks("  backup: {name: Backup, timeout: 1h, scheduel: daily}\n"))
        try await server.waitUntil("the semantic error is logged") { server.output.contains("[unknown-key]") }
        #expect(try await metric() == "0")
        // A rejected config is logged once per content, however often it is looked at.
        let rejections = server.occurrences(of: "configuration rejected")
        #expect(rejections == 2)
        let reload = try await Curl.request("\(base)/-/reload", method: "POST", extra: ["-H", "Authorization: Bearer \(token)"])
        #expect(reload.status == 400)
        #expect(reload.headers["content-type"] == "application/json")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(reload.body.utf8)) as? [String: Any])
        #expect(report["valid"] as? Bool == false)
        let codes = (report["diagnostics"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(codes == ["unknown-key"])
        #expect(server.occurrences(of: "configuration rejected") == rejections)
        let afterSemantic = pinger.counts.ok
        try await server.waitUntil("pings still flow") { pinger.counts.ok >= afterSemantic + 5 }

        try server.write("checks.yaml", good)
        try await server.waitUntil("the metric says 1 again") { try await metric() == "1" }
        let final = pinger.counts.ok
        try await server.waitUntil("pings still flow") { pinger.counts.ok >= final + 5 }
        await pinger.stop()
        let counts = pinger.counts
        #expect(counts.failed == [], "every ping must be answered 200 while the config is rejected")
        #expect(counts.ok >= 20)
        #expect(try server.pings(uuid).count == counts.ok)
        #expect(await server.stop() == 0)
    }

    @Test("SIGHUP reloads; POST /-/reload needs the admin token and answers with what changed")
    func signalAndRequest() async throws {
        let server = try await RunningServer(
            files: ["projects.yaml": Self.projects, "checks.yaml": Self.checks("  one: {name: One}\n")],
            arguments: ["--no-watch-config", "--reload-poll", "0"])
        defer { server.terminate() }
        let base = server.baseURL
        _ = try await server.waitFor(prefix: "SIGHUP reloads the configuration")
        try server.write("checks.yaml", Self.checks("  one: {name: One}\n  two: {name: Two}\n"))
        #expect(try await Curl.request("\(base)/ping/ops-ping-key-0001/two").status == 404)
        server.signal(SIGHUP)
        try await server.waitUntil("SIGHUP made 'two' live") { try await Curl.request("\(base)/ping/ops-ping-key-0001/two").status == 200 }
        #expect(server.output.contains("SIGHUP received"))

        try server.write("checks.yaml", Self.checks("  one: {name: Uno, grace: 2h}\n  two: {name: Two}\n  three: {name: Three}\n"))
        let token = try server.adminToken()
        #expect(token.count >= 32)
        #expect(try await Curl.request("\(base)/-/reload", method: "POST").status == 401)
        #expect(try await Curl.request("\(base)/-/reload", method: "POST", extra: ["-H", "Authorization: Bearer \(token)x"]).status == 401)
        #expect(try await Curl.request("\(base)/-/reload", method: "POST", extra: ["-H", "Authorization: Bearer \(token.dropLast())"]).status == 401)
        #expect(try await Curl.request("\(base)/metrics").status == 401)
        #expect(try await Curl.request("\(base)/-/reload").status == 405)
        #expect(try await Curl.request("\(base)/ping/ops-ping-key-0001/three").status == 404)

        let reply = try await Curl.request("\(base)/-/reload", method: "POST", extra: ["-H", "Authorization: Bearer \(token)"])
        #expect(reply.status == 200)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
        #expect(summary["status"] as? String == "applied")
        #expect(summary["checks"] as? Int == 3)
        let changes = try #require(summary["changes"] as? [String: Any])
        #expect((changes["created"] as? [[String: Any]])?.map { $0["key"] as? String } == ["three"])
        #expect((changes["renamed"] as? [[String: Any]])?.first?["new_slug_url"] as? String == "/ping/<ops-ping-key>/uno")
        let changed = (changes["changed"] as? [[String: Any]]) ?? []
        #expect(changed.count == 1 && changed.first?["field"] as? String == "grace" && changed.first?["old"] as? String == "1h" && changed.first?["new"] as? String == "2h")
        #expect(try await Curl.request("\(base)/ping/ops-ping-key-0001/three").status == 200)

        // Nothing changed since: still 200, nothing to report.
        let again = try await Curl.request("\(base)/-/reload", method: "POST", extra: ["-H", "Authorization: Bearer \(token)"])
        let second = try #require(try JSONSerialization.jsonObject(with: Data(again.body.utf8)) as? [String: Any])
        #expect((second["changes"] as? [String: Any])?["changes"] as? Bool == false)
        // The token is logged once, at generation, never again.
        #expect(server.occurrences(of: token) == 1)
        #expect(server.output.contains("/login?token=\(token)"))
        #expect(await server.stop() == 0)
    }

    @Test("a Kubernetes ConfigMap update (a new ..data symlink renamed over the old) is noticed by inotify alone")
    func configMapSwap() async throws {
        let first = Self.projects + "\n" + Self.checks("  alpha: {name: Alpha}\n")
        let server = try await RunningServer(files: [:], arguments: ["--reload-poll", "0"]) { config in
            let files = FileManager.default
            try files.createDirectory(at: config.appendingPathComponent("..2026_01_01_a"), withIntermediateDirectories: true)
            try Data(first.utf8).write(to: config.appendingPathComponent("..2026_01_01_a/checks.yaml"))
            try files.createSymbolicLink(atPath: config.appendingPathComponent("..data").path, withDestinationPath: "..2026_01_01_a")
            try files.createSymbolicLink(atPath: config.appendingPathComponent("checks.yaml").path, withDestinationPath: "..data/checks.yaml")
        }
        defer { server.terminate() }
        let base = server.baseURL
        #expect(try await Curl.request("\(base)/ping/ops-ping-key-0001/alpha").status == 200)
        _ = try await server.waitFor(prefix: "for changes (inotify)")

        // What the kubelet does: write a new timestamped folder, point ..data_tmp at it,
        // rename ..data_tmp over ..data, delete the old folder.
        let config = server.config
        try FileManager.default.createDirectory(at: config.appendingPathComponent("..2026_01_02_b"), withIntermediateDirectories: true)
        try Data((Self.projects + "\n" + Self.checks("  alpha: {name: Alpha}\n  beta: {name: Beta}\n")).utf8)
            .write(to: config.appendingPathComponent("..2026_01_02_b/checks.yaml"))
        try FileManager.default.createSymbolicLink(atPath: config.appendingPathComponent("..data_tmp").path, withDestinationPath: "..2026_01_02_b")
        #expect(Glibc.rename(config.appendingPathComponent("..data_tmp").path, config.appendingPathComponent("..data").path) == 0)
        try FileManager.default.removeItem(at: config.appendingPathComponent("..2026_01_01_a"))
        try await server.waitUntil("beta is live", timeout: 5) { try await Curl.request("\(base)/ping/ops-ping-key-0001/beta").status == 200 }

        // And the next swap too: the new folder is watched after the first one.
        try FileManager.default.createDirectory(at: config.appendingPathComponent("..2026_01_03_c"), withIntermediateDirectories: true)
        try Data((Self.projects + "\n" + Self.checks("  gamma: {name: Gamma}\n")).utf8).write(to: config.appendingPathComponent("..2026_01_03_c/checks.yaml"))
        try FileManager.default.createSymbolicLink(atPath: config.appendingPathComponent("..data_tmp").path, withDestinationPath: "..2026_01_03_c")
        #expect(Glibc.rename(config.appendingPathComponent("..data_tmp").path, config.appendingPathComponent("..data").path) == 0)
        try await server.waitUntil("gamma is live", timeout: 5) { try await Curl.request("\(base)/ping/ops-ping-key-0001/gamma").status == 200 }
        #expect(try await Curl.request("\(base)/ping/ops-ping-key-0001/beta").status == 404)
        #expect(await server.stop() == 0)
    }

    @Test("an edit of a file behind a symlink (outside the config directory) is noticed by inotify")
    func symlinkedFile() async throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        try Data(Self.checks("  alpha: {name: Alpha}\n").utf8).write(to: outside.appendingPathComponent("shared.yaml"))
        let server = try await RunningServer(files: ["projects.yaml": Self.projects], arguments: ["--reload-poll", "0"]) { config in
            try FileManager.default.createSymbolicLink(
                atPath: config.appendingPathComponent("shared.yaml").path, withDestinationPath: outside.appendingPathComponent("shared.yaml").path)
        }
        defer { server.terminate() }
        _ = try await server.waitFor(prefix: "for changes (inotify)")
        // Edited in place, as `>>` or a naive editor would.
        let handle = try FileHandle(forWritingTo: outside.appendingPathComponent("shared.yaml"))
        handle.seekToEndOfFile()
        handle.write(Data("  beta: {name: Beta}\n".utf8))
        try handle.close()
        try await server.waitUntil("beta is live", timeout: 5) { try await Curl.request("\(server.baseURL)/ping/ops-ping-key-0001/beta").status == 200 }
        #expect(await server.stop() == 0)
    }

    @Test("with inotify off, the fingerprint poll notices a change")
    func pollFallback() async throws {
        let server = try await RunningServer(
            files: ["projects.yaml": Self.projects, "checks.yaml": Self.checks("  one: {name: One}\n")],
            arguments: ["--no-watch-config", "--reload-poll", "0.2"])
        defer { server.terminate() }
        try server.write("checks.yaml", Self.checks("  one: {name: One}\n  two: {name: Two}\n"))
        try await server.waitUntil("the poll made 'two' live", timeout: 5) { try await Curl.request("\(server.baseURL)/ping/ops-ping-key-0001/two").status == 200 }
        // The reload is logged after the new catalog serves: wait for the line rather than race it.
        try await server.waitUntil("the poll's reload is logged") { server.output.contains("trigger=poll") }
        #expect(await server.stop() == 0)
    }

    @Test("the delay from a file write to the new config answering pings is under a second (median of 5)")
    func reloadDelay() async throws {
        let server = try await RunningServer(files: ["projects.yaml": Self.projects, "checks.yaml": Self.checks("  job: {name: Job 0}\n")], arguments: ["--reload-poll", "0"])
        defer { server.terminate() }
        var delays: [TimeInterval] = []
        for round in 1...5 {
            try server.write("checks.yaml", Self.checks("  job: {name: Job \(round)}\n"))
            delays.append(try await server.waitUntil("round \(round) is live") {
                try await Curl.request("\(server.baseURL)/ping/ops-ping-key-0001/job-\(round)").status == 200
            })
        }
        let median = delays.sorted()[2]
        print("reload delay (write -> new slug answers 200), 5 rounds: \(delays.map { String(format: "%.0f ms", $0 * 1000) }.joined(separator: ", "))")
        #expect(median < 1.0)
        #expect(await server.stop() == 0)
    }
}

/// Pings in a loop (a task that awaits each curl) and counts the answers, until stopped.
final class PingLoop: Sendable {
    struct Counts: Sendable {
        var ok = 0
        var failed: [String] = []
    }

    private let state = Mutex((counts: Counts(), stopped: false))
    private let loop = Mutex<Task<Void, Never>?>(nil)

    init(urls: [String]) {
        let task = Task { [self] in
            var index = 0
            while !state.withLock({ $0.stopped }) {
                let url = urls[index % urls.count]
                index += 1
                let status = (try? await Curl.request(url).status) ?? 0
                state.withLock {
                    if status == 200 { $0.counts.ok += 1 } else { $0.counts.failed.append("\(status) \(url)") }
                }
            }
        }
        loop.withLock { $0 = task }
    }

    var counts: Counts { state.withLock { $0.counts } }

    /// Stops after the request in flight, which is counted.
    func stop() async {
        terminate()
        await loop.withLock { $0 }?.value
    }

    /// Asks the loop to stop, without waiting: for `defer`, which cannot await.
    func terminate() {
        state.withLock { $0.stopped = true }
    }
}
