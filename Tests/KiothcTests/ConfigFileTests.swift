import Foundation
import Glibc
import Testing

/// `--config FILE`: one YAML file as the whole configuration, for `check`, `plan`, `status` and
/// `serve` (with its reloads), beside the directory form.
@Suite("--config takes a single YAML file", .serialized, .stopsServers)
struct ConfigFileTests {
    static func config(_ checks: String) -> String {
        "projects:\n  ops:\n    ping_key: ops-ping-key-0001\nchecks:\n" + checks
    }

    /// A fresh folder with `kiothc.yaml` in it (and whatever else the test writes).
    final class Folder {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-file-\(UUID().uuidString)")
        var file: URL { url.appendingPathComponent("kiothc.yaml") }

        init(_ text: String) throws {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file)
        }

        deinit { try? FileManager.default.removeItem(at: url) }
    }

    /// Rewrites a file in place (same inode), as `>` or an editor saving in place does.
    static func writeInPlace(_ url: URL, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    @Test("check: a valid file passes; an invalid one is reported with file:line:column; json names the file")
    func check() async throws {
        let folder = try Folder(Self.config("  backup: {project: ops, name: Backup, timeout: 1h}\n"))
        // A file beside it is not part of the configuration: only the one named is read.
        try Data("checks: [broken\n".utf8).write(to: folder.url.appendingPathComponent("other.yaml"))
        let valid = try await CLI.run(["check", "--config", folder.file.path])
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
        #expect(try await CLI.run(["check"], environment: ["KIOTHC_CONFIG": folder.file.path]).status == 0)

        try Data(Self.config("  backup: {project: ops, name: Backup, scheduel: daily}\n").utf8).write(to: folder.file)
        let invalid = try await CLI.run(["check", "--config", folder.file.path])
        #expect(invalid.status == 1)
        #expect(invalid.stdout.contains("\(folder.file.path):5:40: error: unknown key 'scheduel' in check 'backup'"), "\(invalid.stdout)")
        let json = try await CLI.run(["check", "--config", folder.file.path, "--format", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let diagnostics = try #require(document["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.map { $0["file"] as? String } == [folder.file.path])
        #expect(diagnostics.first?["line"] as? Int == 5)
    }

    @Test("a path that is neither a file nor a directory is a clear error, for check and serve; a missing one too")
    func neither() async throws {
        let folder = try Folder(Self.config(""))
        let fifo = folder.url.appendingPathComponent("config.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        for path in [fifo, "/dev/null"] {
            let check = try await CLI.run(["check", "--config", path])
            #expect(check.status == 1)
            #expect(check.stderr.contains("'\(path)' is neither a directory nor a regular file; --config takes a directory of YAML files or one YAML file"), "\(check.stderr)")
            let serve = try await CLI.run(
                ["serve", "--config", path, "--data", folder.url.appendingPathComponent("data").path, "--listen", "127.0.0.1:0"])
            #expect(serve.status == 1)
            #expect(serve.stderr.contains("is neither a directory nor a regular file"), "\(serve.stderr)")
        }
        let missing = try await CLI.run(["check", "--config", folder.url.appendingPathComponent("missing.yaml").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("does not exist; pass --config DIR (a directory of YAML files) or --config FILE (one YAML file)"))
        #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("data").path), "serve wrote nothing")
    }

    @Test("serve on one file: an invalid file is fatal with its diagnostics; a valid one serves, status and plan read it, SIGHUP and POST /-/reload reload it")
    func serveStatusPlan() async throws {
        let folder = try Folder(Self.config("  backup: {project: ops, name: Backup, scheduel: daily}\n"))
        let invalid = try await CLI.run(
            ["serve", "--config", folder.file.path, "--data", folder.url.appendingPathComponent("data").path, "--listen", "127.0.0.1:0"])
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("\(folder.file.path):5:40: error: unknown key 'scheduel'"), "\(invalid.stderr)")

        let server = try await RunningServer(
            files: ["kiothc.yaml": Self.config("  backup: {project: ops, name: Backup, timeout: 1h}\n")], arguments: ["--no-watch-config", "--reload-poll", "0"],
            configFile: "kiothc.yaml")
        defer { server.terminate() }
        let file = server.config.appendingPathComponent("kiothc.yaml")
        let uuid = try server.uuid("ops", "backup")
        #expect(try await Curl.request("\(server.baseURL)/ping/\(uuid)").status == 200)
        #expect(server.output.contains("starting: config \(file.path), store "), "the version line names the file")
        #expect(server.output.contains("loaded 1 checks from \(file.path)"))

        let status = try await CLI.run(["status", "--config", file.path, "--data", server.data.path, "--format", "json"])
        #expect(status.status == 0, "\(status.stderr)")
        let checks = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["checks"] as? [[String: Any]])
        #expect(checks.map { $0["key"] as? String } == ["backup"])
        #expect(checks.first?["status"] as? String == "up")

        try Self.writeInPlace(file, Self.config("  backup: {project: ops, name: Backup, timeout: 1h}\n  fresh: {project: ops, name: Fresh}\n"))
        let plan = try await CLI.run(["plan", "--config", file.path, "--data", server.data.path])
        #expect(plan.status == 2, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("ops/fresh"), "\(plan.stdout)")

        _ = try await server.waitFor(prefix: "SIGHUP reloads the configuration")
        server.signal(SIGHUP)
        try await server.waitUntil("SIGHUP made 'fresh' live") { try await Curl.request("\(server.baseURL)/ping/ops-ping-key-0001/fresh").status == 200 }

        try Self.writeInPlace(file, Self.config("  backup: {project: ops, name: Backup, timeout: 1h}\n  fresh: {project: ops, name: Fresh}\n  third: {project: ops}\n"))
        let reply = try await Curl.request("\(server.baseURL)/-/reload", method: "POST", extra: ["-H", "Authorization: Bearer \(try server.adminToken())"])
        #expect(reply.status == 200, "\(reply.body)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
        #expect(summary["status"] as? String == "applied")
        #expect(summary["checks"] as? Int == 3)
        #expect(await server.stop() == 0)
    }

    @Test("inotify reloads one file edited in place, replaced by rename, and saved as vim does (old file renamed aside first)")
    func inotify() async throws {
        let server = try await RunningServer(
            files: ["kiothc.yaml": Self.config("  one: {project: ops}\n")], arguments: ["--reload-poll", "0"], configFile: "kiothc.yaml")
        defer { server.terminate() }
        let base = server.baseURL
        let file = server.config.appendingPathComponent("kiothc.yaml")
        _ = try await server.waitFor(prefix: "for changes (inotify)")
        // A broken file beside it changes nothing: it is not the configuration.
        try Data("checks: [broken\n".utf8).write(to: server.config.appendingPathComponent("other.yaml"))

        try Self.writeInPlace(file, Self.config("  one: {project: ops}\n  two: {project: ops}\n"))
        try await server.waitUntil("the in-place edit is live", timeout: 5) { try await Curl.request("\(base)/ping/ops-ping-key-0001/two").status == 200 }

        try server.write("kiothc.yaml", Self.config("  one: {project: ops}\n  two: {project: ops}\n  three: {project: ops}\n"))
        try await server.waitUntil("the renamed-over file is live", timeout: 5) { try await Curl.request("\(base)/ping/ops-ping-key-0001/three").status == 200 }

        // vim's default save: the old file renamed to a backup, a new file written, the backup removed.
        let backup = server.config.appendingPathComponent("kiothc.yaml~")
        #expect(Glibc.rename(file.path, backup.path) == 0)
        try Data(Self.config("  one: {project: ops}\n  four: {project: ops}\n").utf8).write(to: file)
        try FileManager.default.removeItem(at: backup)
        try await server.waitUntil("vim's save is live", timeout: 5) { try await Curl.request("\(base)/ping/ops-ping-key-0001/four").status == 200 }
        #expect(try await Curl.request("\(base)/ping/ops-ping-key-0001/three").status == 404)

        // Once more in place: the watch survived the renames.
        try Self.writeInPlace(file, Self.config("  one: {project: ops}\n  five: {project: ops}\n"))
        try await server.waitUntil("the last edit is live", timeout: 5) { try await Curl.request("\(base)/ping/ops-ping-key-0001/five").status == 200 }
        #expect(!server.output.contains("configuration rejected"), "other.yaml was never read: \(server.output)")
        #expect(await server.stop() == 0)
    }

    @Test("one file that is a ConfigMap key (checks.yaml -> ..data/checks.yaml): the ..data swap is noticed by inotify alone")
    func configMapKey() async throws {
        let server = try await RunningServer(files: [:], arguments: ["--reload-poll", "0"], configFile: "checks.yaml") { config in
            let files = FileManager.default
            try files.createDirectory(at: config.appendingPathComponent("..2026_01_01_a"), withIntermediateDirectories: true)
            try Data(Self.config("  alpha: {project: ops}\n").utf8).write(to: config.appendingPathComponent("..2026_01_01_a/checks.yaml"))
            try files.createSymbolicLink(atPath: config.appendingPathComponent("..data").path, withDestinationPath: "..2026_01_01_a")
            try files.createSymbolicLink(atPath: config.appendingPathComponent("checks.yaml").path, withDestinationPath: "..data/checks.yaml")
        }
        defer { server.terminate() }
        #expect(try await Curl.request("\(server.baseURL)/ping/ops-ping-key-0001/alpha").status == 200)
        _ = try await server.waitFor(prefix: "for changes (inotify)")
        let config = server.config
        try FileManager.default.createDirectory(at: config.appendingPathComponent("..2026_01_02_b"), withIntermediateDirectories: true)
        try Data(Self.config("  beta: {project: ops}\n").utf8).write(to: config.appendingPathComponent("..2026_01_02_b/checks.yaml"))
        try FileManager.default.createSymbolicLink(atPath: config.appendingPathComponent("..data_tmp").path, withDestinationPath: "..2026_01_02_b")
        #expect(Glibc.rename(config.appendingPathComponent("..data_tmp").path, config.appendingPathComponent("..data").path) == 0)
        try FileManager.default.removeItem(at: config.appendingPathComponent("..2026_01_01_a"))
        try await server.waitUntil("beta is live", timeout: 5) { try await Curl.request("\(server.baseURL)/ping/ops-ping-key-0001/beta").status == 200 }
        #expect(try await Curl.request("\(server.baseURL)/ping/ops-ping-key-0001/alpha").status == 404)
        #expect(await server.stop() == 0)
    }

    @Test("with inotify off, the poll notices a change to the one file")
    func poll() async throws {
        let server = try await RunningServer(
            files: ["kiothc.yaml": Self.config("  one: {project: ops}\n")], arguments: ["--no-watch-config", "--reload-poll", "0.2"], configFile: "kiothc.yaml")
        defer { server.terminate() }
        try server.write("kiothc.yaml", Self.config("  one: {project: ops}\n  two: {project: ops}\n"))
        try await server.waitUntil("the poll made 'two' live", timeout: 5) { try await Curl.request("\(server.baseURL)/ping/ops-ping-key-0001/two").status == 200 }
        try await server.waitUntil("the poll's reload is logged") { server.output.contains("trigger=poll") }
        #expect(await server.stop() == 0)
    }
}
