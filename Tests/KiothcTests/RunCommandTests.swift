import Foundation
import Testing

/// `kiothc run` against the real server: a command that succeeds, one that fails, one that is
/// killed, one that does not exist, and the server stopped.
@Suite("kiothc run", .serialized)
struct RunCommandTests {
    static let config = ["checks.yaml": "projects:\n  ops: {ping_key: ops-ping-key-0001}\nchecks:\n  nightly: {project: ops, name: Nightly Job}\n"]

    @Test("success, failure, a killed command and a missing one are reported with their exit status and output tail")
    func outcomes() throws {
        let server = try RunningServer(files: Self.config)
        defer { server.stop() }
        let uuid = try server.uuid("ops", "nightly")
        let ok = try CLI.run(["run", "--server", server.baseURL, "--uuid", uuid, "--", "sh", "-c", "echo backed up; echo warning >&2"])
        #expect(ok.status == 0)
        #expect(ok.stdout == "backed up\n", "stdout passes through")
        #expect(ok.stderr == "warning\n", "stderr passes through")
        let failed = try CLI.run(["run", "--server", server.baseURL, "--ping-key", "ops-ping-key-0001", "--slug", "nightly-job", "--", "sh", "-c", "echo disk full; exit 3"])
        #expect(failed.status == 3)
        let killed = try CLI.run(["run", "--server", server.baseURL, "--uuid", uuid, "--", "sh", "-c", "echo going; kill -9 $$"])
        #expect(killed.status == 137)
        let missing = try CLI.run(["run", "--server", server.baseURL, "--uuid", uuid, "--", "/nonexistent/job"])
        #expect(missing.status == 127)

        let pings = try server.pings(uuid)
        try #require(pings.count == 8, "four runs, a start and an end each: \(pings)")
        #expect(pings.map { $0["kind"] as? String } == ["start", "success", "start", "fail", "start", "fail", "start", "fail"])
        #expect(pings.map { $0["exit_status"] as? Int } == [nil, 0, nil, 3, nil, 137, nil, 127])
        // stdout and stderr are read by two threads: each line arrives whole, their order may vary.
        let lines = (pings[1]["body"] as? String ?? "").split(separator: "\n").map(String.init)
        #expect(lines.sorted() == ["backed up", "warning"])
        #expect(pings[3]["body"] as? String == "disk full\n")
        #expect(pings[1]["ua"] as? String == "kiothc-run/1")
        // Each run's start and end share a fresh rid, so the duration is recorded.
        for index in stride(from: 0, to: pings.count, by: 2) {
            #expect(pings[index]["rid"] as? String != nil)
            #expect(pings[index]["rid"] as? String == pings[index + 1]["rid"] as? String)
            #expect(pings[index + 1]["duration_us"] as? Int != nil)
        }
        #expect(Set(stride(from: 0, to: pings.count, by: 2).compactMap { pings[$0]["rid"] as? String }).count == 4)
    }

    @Test("with the server down the job still runs, a warning is printed, and its status is kept")
    func serverDown() throws {
        let started = Date()
        let output = try CLI.run([
            "run", "--server", "http://127.0.0.1:9", "--uuid", "6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01",
            "--attempts", "2", "--timeout", "1", "--", "sh", "-c", "echo ran; exit 5",
        ])
        #expect(output.status == 5)
        #expect(output.stdout == "ran\n")
        #expect(output.stderr.contains("kiothc run: warning: the start ping was not delivered"))
        #expect(output.stderr.contains("the job runs regardless"))
        #expect(Date().timeIntervalSince(started) < 15)
    }

    @Test("an unknown check is a warning (404), not a failure of the job")
    func unknownCheck() throws {
        let server = try RunningServer(files: Self.config)
        defer { server.stop() }
        let output = try CLI.run(["run", "--server", server.baseURL, "--uuid", "00000000-0000-4000-8000-000000000000", "--", "true"])
        #expect(output.status == 0)
        #expect(output.stderr.contains("the server answered 404 not found"))
    }

    @Test("usage errors exit 64")
    func usage() throws {
        #expect(try CLI.run(["run", "--uuid", "6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01"]).status == 64)
        #expect(try CLI.run(["run", "--", "true"]).status == 64)
        #expect(try CLI.run(["run", "--uuid", "not-a-uuid", "--", "true"]).status == 64)
        #expect(try CLI.run(["run", "--ping-key-file", "/nonexistent", "--slug", "x", "--", "true"]).status == 64)
    }
}
