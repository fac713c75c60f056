import Foundation
import Testing
import TestSupport

/// A check's pinned UUID (`uuid:`) through a real `kiothc serve` and `kiothc plan` (SPEC §13).
@Suite("uuid: pins a check's ping URL", .serialized, .stopsServers)
struct PinnedUUIDTests {
    static let pinned = "5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b"

    @Test("a new check takes its pinned UUID and slug: both old URLs answer; restarts keep them; plan shows the pinned URL")
    func served() async throws {
        let server = try await RunningServer(files: [
            "ops.yaml": """
                projects:
                  ops: {ping_key: ops-ping-key-0001}
                checks:
                  backup: {project: ops, name: Nightly DB Backup, uuid: \(Self.pinned), slug: db-backup}
                  other: {project: ops}

                """
        ])
        #expect(try server.uuid("ops", "backup") == Self.pinned)
        #expect(try server.uuid("ops", "other") != Self.pinned)
        #expect(try await Curl.request("\(server.baseURL)/ping/\(Self.pinned)").status == 200)
        #expect(try await Curl.request("\(server.baseURL)/ping/ops-ping-key-0001/db-backup").status == 200)
        #expect(try await Curl.request("\(server.baseURL)/ping/ops-ping-key-0001/nightly-db-backup").status == 404)
        #expect(try server.pings(Self.pinned).count == 2)
        #expect(await server.stop() == 0)

        // A new pinned check in a plan: its URL is known before the server loads it.
        try server.write("new.yaml", "checks:\n  fresh: {project: ops, uuid: 0b7c4a5e-0000-4000-8000-00000000000a}\n")
        let plan = try await CLI.run(["plan", "--config", server.config.path, "--data", server.data.path])
        #expect(plan.status == 2, "\(plan.stderr)")
        #expect(plan.stdout.contains("/ping/0b7c4a5e-0000-4000-8000-00000000000a"), "\(plan.stdout)")
    }

    @Test("a known check pinning another UUID takes it: plan names the URL that stops answering; the old pings are kept")
    func repinned() async throws {
        let server = try await RunningServer(files: ["ops.yaml": "checks:\n  backup: {}\n"])
        let assigned = try server.uuid("default", "backup")
        #expect(try await Curl.request("\(server.baseURL)/ping/\(assigned)").status == 200)
        #expect(await server.stop() == 0)
        try server.write("ops.yaml", "checks:\n  backup: {uuid: \(Self.pinned)}\n")
        let plan = try await CLI.run(["plan", "--config", server.config.path, "--data", server.data.path])
        #expect(plan.status == 2, "\(plan.stderr)")
        #expect(plan.stdout.contains("  ~ default/backup  \(assigned) -> \(Self.pinned)\n      /ping/\(assigned) -> /ping/\(Self.pinned)"), "\(plan.stdout)")
        #expect(plan.stdout.contains("1 with a new UUID"), "\(plan.stdout)")
        let json = try await CLI.run(["plan", "--config", server.config.path, "--data", server.data.path, "--format", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let repinned = try #require((document["new_uuids"] as? [[String: Any]])?.first)
        #expect(repinned["old_uuid"] as? String == assigned)
        #expect(repinned["new_uuid"] as? String == Self.pinned)
        #expect(repinned["broken_urls"] as? [String] == ["/ping/\(assigned)"])

        let restarted = try await RunningServer(files: ["ops.yaml": "checks:\n  backup: {uuid: \(Self.pinned)}\n"], sharedData: server.data)
        #expect(try restarted.uuid("default", "backup") == Self.pinned)
        #expect(try await Curl.request("\(restarted.baseURL)/ping/\(Self.pinned)").status == 200)
        #expect(try await Curl.request("\(restarted.baseURL)/ping/\(assigned)").status == 404)
        let kept = server.data.appendingPathComponent("retired/\(assigned).jsonl")
        #expect(FileManager.default.fileExists(atPath: kept.path), "the old pings are kept in retired/")
        #expect(await restarted.stop() == 0)
    }

    @Test("a pin the store cannot honour is refused at its position, by serve and by plan, never ignored")
    func refused() async throws {
        let server = try await RunningServer(files: ["ops.yaml": "checks:\n  backup: {}\n  gone: {}\n"])
        let assigned = try server.uuid("default", "backup")
        let gone = try server.uuid("default", "gone")
        #expect(await server.stop() == 0)
        // `gone` removed by a server on the same data directory: its UUID is retired.
        let second = try await RunningServer(files: ["ops.yaml": "checks:\n  backup: {}\n"], sharedData: server.data)
        #expect(await second.stop() == 0)
        // Now a new check would take the UUID of `backup`, another the removed check's.
        try second.write("ops.yaml", "checks:\n  backup: {}\n  thief: {uuid: \(assigned)}\n  again: {uuid: \(gone)}\n")
        let plan = try await CLI.run(["plan", "--config", second.config.path, "--data", server.data.path])
        #expect(plan.status == 1, "\(plan.stdout)")
        #expect(plan.stderr.contains("ops.yaml:3:3: error: check 'default/thief' pins the UUID \(assigned), which check 'default/backup' has in this store"), "\(plan.stderr)")
        #expect(plan.stderr.contains("ops.yaml:4:3: error: check 'default/again' pins the UUID \(gone), which a removed check had in this store"), "\(plan.stderr)")
        let serve = try await CLI.run(["serve", "--config", second.config.path, "--data", server.data.path, "--listen", "127.0.0.1:0"])
        #expect(serve.status == 1)
        #expect(serve.stderr.contains("pins the UUID \(gone), which a removed check had in this store"), "\(serve.stderr)")
    }
}
