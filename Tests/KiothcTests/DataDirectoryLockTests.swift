import Foundation
import Testing
import TestSupport

/// SPEC §10: one server per data directory. Two servers on one directory both started and
/// interleaved one check's ping numbers (21, 21, 20, 20, ...); the second must stop at once.
@Suite("kiothc serve holds its data directory alone", .serialized, .stopsServers)
struct DataDirectoryLockTests {
    static let config = [
        "checks.yaml": """
            projects:
              ops:
            checks:
              backup: {project: ops, name: Database Backup, timeout: 1h}
            """,
    ]

    /// A data directory of the test's own, shared by the servers it starts, removed at the end.
    static func sharedData() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-shared-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `kiothc serve` on `data` and waits at most 20 s for it to exit; one still running
    /// then (it started) is killed and reported.
    static func secondServe(config: URL, data: URL) async throws -> CLI.Output {
        let child = try CLI.start(["serve", "--config", config.path, "--data", data.path, "--listen", "127.0.0.1:0"])
        let deadline = Date().addingTimeInterval(20)
        while !child.exit.isDone && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if !child.exit.isDone {
            kill(child.process.processIdentifier, SIGKILL)
            Issue.record("a second kiothc serve on the same data directory was still running after 20 s")
        }
        return await child.output()
    }

    @Test("a second serve on the same data directory exits 1 at once naming the first's pid; the first keeps serving")
    func secondServerRefused() async throws {
        let data = try Self.sharedData()
        defer { try? FileManager.default.removeItem(at: data) }
        let first = try await RunningServer(files: Self.config, sharedData: data)
        defer { first.terminate() }
        let pid = first.process.processIdentifier
        let uuid = try first.uuid("ops", "backup")
        #expect(try await Curl.request("\(first.baseURL)/ping/\(uuid)").status == 200)

        let second = try await Self.secondServe(config: first.config, data: data)
        #expect(second.status == 1)
        #expect(!second.signalled)
        #expect(second.stderr.contains(
            "the data directory '\(data.path)' is in use by another kiothc serve (pid \(pid)), which holds the lock on '\(data.path)/serve.lock'"))
        #expect(second.stderr.contains("Stop that server first, or give this one another --data"))
        #expect(!second.stderr.contains("serving pings at"))
        let lockFile = try String(contentsOf: data.appendingPathComponent("serve.lock"), encoding: .utf8)
        #expect(lockFile == "\(pid)\n", "the refused server did not overwrite the pid")

        // The first server's pings are numbered as if it were alone.
        for _ in 0..<5 {
            #expect(try await Curl.request("\(first.baseURL)/ping/\(uuid)").status == 200)
        }
        let numbers = try first.pings(uuid).map { $0["n"] as? Int ?? 0 }
        #expect(numbers == [1, 2, 3, 4, 5, 6])
        #expect(await first.stop() == 0)
        let restarted = try await RunningServer(files: Self.config, sharedData: data)
        defer { restarted.terminate() }
        #expect(try await Curl.request("\(restarted.baseURL)/ping/\(uuid)").status == 200)
        #expect(try restarted.pings(uuid).map { $0["n"] as? Int ?? 0 } == [1, 2, 3, 4, 5, 6, 7])
    }

    @Test("a server killed with SIGKILL leaves serve.lock behind, and it does not block the restart")
    func killedServerDoesNotBlock() async throws {
        let data = try Self.sharedData()
        defer { try? FileManager.default.removeItem(at: data) }
        let first = try await RunningServer(files: Self.config, sharedData: data)
        defer { first.terminate() }
        let uuid = try first.uuid("ops", "backup")
        #expect(try await Curl.request("\(first.baseURL)/ping/\(uuid)").status == 200)
        first.signal(SIGKILL)
        #expect(await first.stop() == SIGKILL)
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("serve.lock").path))

        let second = try await RunningServer(files: Self.config, sharedData: data)
        defer { second.terminate() }
        #expect(try await Curl.request("\(second.baseURL)/ping/\(uuid)").status == 200)
        #expect(try second.pings(uuid).map { $0["n"] as? Int ?? 0 } == [1, 2])
        let lockFile = try String(contentsOf: data.appendingPathComponent("serve.lock"), encoding: .utf8)
        #expect(lockFile == "\(second.process.processIdentifier)\n")
        // And the restarted server holds the lock in turn.
        let third = try await Self.secondServe(config: second.config, data: data)
        #expect(third.status == 1)
        #expect(third.stderr.contains("(pid \(second.process.processIdentifier))"))
    }

    @Test("status, pings and plan work beside a running server and leave its lock alone")
    func readersBesideServer() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "backup")
        for _ in 0..<3 {
            #expect(try await Curl.request("\(server.baseURL)/ping/\(uuid)").status == 200)
        }
        let directories = ["--config", server.config.path, "--data", server.data.path]

        let status = try await CLI.run(["status", "--format", "json"] + directories)
        #expect(status.status == 0, "\(status.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let check = (document?["checks"] as? [[String: Any]])?.first
        #expect(check?["uuid"] as? String == uuid)
        #expect(check?["status"] as? String == "up")
        #expect(check?["n_pings"] as? Int == 3)

        let pings = try await CLI.run(["pings", "ops/backup", "--data", server.data.path, "--format", "json"])
        #expect(pings.status == 0, "\(pings.stderr)")
        let list = try JSONSerialization.jsonObject(with: Data(pings.stdout.utf8)) as? [String: Any]
        #expect((list?["pings"] as? [[String: Any]])?.map { $0["n"] as? Int ?? 0 } == [3, 2, 1])

        let plan = try await CLI.run(["plan"] + directories)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout == "No changes: the configuration matches the data directory.\n")

        // The readers took no lock: the server still holds it, and still serves.
        let lockFile = try String(contentsOf: server.data.appendingPathComponent("serve.lock"), encoding: .utf8)
        #expect(lockFile == "\(server.process.processIdentifier)\n")
        let second = try await Self.secondServe(config: server.config, data: server.data)
        #expect(second.status == 1)
        #expect(try await Curl.request("\(server.baseURL)/ping/\(uuid)").status == 200)
        #expect(try server.pings(uuid).count == 4)
    }
}
