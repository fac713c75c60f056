import Foundation
import Testing

/// `kiothc run` against the real server: a command that succeeds, one that fails, one that is
/// killed, one that does not exist, one killed through kiothc run, and the server stopped.
@Suite("kiothc run", .serialized, .stopsServers)
struct RunCommandTests {
    static let config = ["checks.yaml": "projects:\n  ops: {ping_key: ops-ping-key-0001}\nchecks:\n  nightly: {project: ops, name: Nightly Job}\n"]

    @Test("success, failure, a killed command and a missing one are reported with their exit status and output tail")
    func outcomes() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "nightly")
        let ok = try await CLI.run(["run", "--server", server.baseURL, "--uuid", uuid, "--", "sh", "-c", "echo backed up; echo warning >&2"])
        #expect(ok.status == 0)
        #expect(ok.stdout == "backed up\n", "stdout passes through")
        #expect(ok.stderr == "warning\n", "stderr passes through")
        let failed = try await CLI.run(["run", "--server", server.baseURL, "--ping-key", "ops-ping-key-0001", "--slug", "nightly-job", "--", "sh", "-c", "echo disk full; exit 3"])
        #expect(failed.status == 3)
        let killed = try await CLI.run(["run", "--server", server.baseURL, "--uuid", uuid, "--", "sh", "-c", "echo going; kill -9 $$"])
        #expect(killed.status == 137)
        let missing = try await CLI.run(["run", "--server", server.baseURL, "--uuid", uuid, "--", "/nonexistent/job"])
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

    @Test("stdin passes through, and a long output is cut to its tail within the server's Ping-Body-Limit")
    func inputAndTail() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "nightly")
        // 3,000 numbered lines of 10 bytes, then "é€" (5 bytes, which a careless cut splits): 30,005 bytes.
        let script = "cat; i=1000; while [ $i -lt 4000 ]; do echo \"line $i\"; i=$((i+1)); done; printf 'é€'"
        let output = try await CLI.run(["run", "--server", server.baseURL, "--uuid", uuid, "--", "sh", "-c", script], input: Data("from stdin\n".utf8))
        #expect(output.status == 0)
        #expect(output.stdout.hasPrefix("from stdin\nline 1000\n"), "stdin reaches the command, stdout passes through whole")
        #expect(output.stdout.utf8.count == 11 + 30_000 + 5)
        let end = try #require(try server.pings(uuid).last)
        let body = try #require(end["body"] as? String)
        #expect(body.utf8.count <= 10_000, "Ping-Body-Limit: 10000")
        #expect(body.utf8.count >= 9_990)
        #expect(output.stdout.hasSuffix(body), "the body is the tail of the output")
        #expect(body.hasSuffix("line 3999\né€"))
    }

    @Test("output passes through as the command writes it, not when it ends")
    func liveOutput() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "nightly")
        let marks = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: marks) }
        let out = marks.appendingPathComponent("out").path
        let go = marks.appendingPathComponent("go").path
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        let job = "echo first; while [ ! -e '\(go)' ]; do sleep 0.05; done; echo second"
        shell.arguments = ["-c", "exec \"$0\" run --server \"$1\" --uuid \"$2\" -- sh -c \"$3\" > '\(out)'", CLI.binary.path, server.baseURL, uuid, job]
        try shell.run()
        let exit = Child.exit(of: shell)
        let deadline = Date().addingTimeInterval(30)
        while (try? String(contentsOfFile: out, encoding: .utf8)) != "first\n" && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "first\n", "the first line arrives while the command still runs")
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        #expect(await exit.value == 0)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "first\nsecond\n")
    }

    @Test("with the server stopped the job runs, warnings go to stderr, and its status is kept; a server back before the job ends gets its exit status")
    func serverStopped() async throws {
        let first = try await RunningServer(files: Self.config)
        let uuid = try first.uuid("ops", "nightly")
        let base = first.baseURL
        #expect(await first.stop() == 0)

        let down = try await CLI.run(["run", "--server", base, "--uuid", uuid, "--attempts", "2", "--timeout", "1", "--", "sh", "-c", "echo ran; exit 5"])
        #expect(down.status == 5, "the command's status, not a monitoring failure")
        #expect(down.stdout == "ran\n")
        #expect(down.stderr.contains("kiothc run: warning: the start ping was not delivered: the server could not be reached ("))
        #expect(down.stderr.contains("the job runs regardless"))
        #expect(down.stderr.contains("kiothc run: warning: the exit status 5 ping was not delivered"))

        // The server comes back on the same port while the job runs: the start ping was lost
        // (the job runs only after its attempts failed), the exit-status ping is delivered.
        let marks = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: marks) }
        let running = marks.appendingPathComponent("running").path
        let go = marks.appendingPathComponent("go").path
        let job = try CLI.start([
            "run", "--server", base, "--uuid", uuid, "--attempts", "3", "--timeout", "2", "--",
            "sh", "-c", "touch '\(running)'; while [ ! -e '\(go)' ]; do sleep 0.05; done; echo finished; exit 2",
        ])
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: running) && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let port = String(base.split(separator: ":").last ?? "")
        let second = try await RunningServer(files: Self.config, listen: "127.0.0.1:\(port)", data: first.data)
        defer { second.terminate() }
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        let back = await job.output()
        #expect(back.status == 2)
        #expect(back.stderr.contains("the start ping was not delivered"))
        #expect(!back.stderr.contains("exit status 2 ping was not delivered"), "\(back.stderr)")
        let pings = try second.pings(uuid)
        #expect(pings.map { $0["kind"] as? String } == ["fail"])
        #expect(pings.first?["exit_status"] as? Int == 2)
        #expect(pings.first?["body"] as? String == "finished\n")
    }

    @Test("SIGTERM to kiothc run reaches the command and what it started; the run is reported as killed")
    func forwardsSignals() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "nightly")
        // A shell waiting on a child: the signal must reach the whole group, not only the shell.
        let sleeper = "sleep 29.\(Int.random(in: 100...999))"
        let job = try CLI.start(["run", "--server", server.baseURL, "--uuid", uuid, "--", "sh", "-c", "echo working; \(sleeper); echo not reached"])
        try await server.waitUntil("the job's sleep runs") { try server.pings(uuid).count == 1 && !Self.processes(running: sleeper).isEmpty }
        kill(job.process.processIdentifier, SIGTERM)
        let output = await job.output()
        #expect(output.status == 128 + SIGTERM)
        #expect(output.stdout == "working\n")
        #expect(Self.processes(running: sleeper).isEmpty, "the shell's child got the signal too")
        let pings = try server.pings(uuid)
        #expect(pings.map { $0["kind"] as? String } == ["start", "fail"])
        #expect(pings.last?["exit_status"] as? Int == 143)
    }

    @Test("a background process holding the output open does not keep the run from ending")
    func backgroundChild() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "nightly")
        let started = Date()
        let output = try await CLI.run(["run", "--server", server.baseURL, "--uuid", uuid, "--", "sh", "-c", "sleep 20 & echo spawned"])
        #expect(output.status == 0)
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(try server.pings(uuid).map { $0["kind"] as? String } == ["start", "success"])
        #expect(try server.pings(uuid).last?["body"] as? String == "spawned\n")
    }

    @Test("the check and the retry policy come from environment variables; flags win over them")
    func environment() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "nightly")
        let keyFile = server.root.appendingPathComponent("ops.key")
        try Data("ops-ping-key-0001\n".utf8).write(to: keyFile)

        let byVariables = try await CLI.run(["run", "--", "true"], environment: ["KIOTHC_SERVER": server.baseURL, "KIOTHC_UUID": uuid])
        #expect(byVariables.status == 0)
        #expect(byVariables.stderr == "")
        let keyFromFile = try await CLI.run(
            ["run", "--slug", "nightly-job", "--", "sh", "-c", "exit 4"], environment: ["KIOTHC_SERVER": server.baseURL, "KIOTHC_PING_KEY_FILE": keyFile.path])
        #expect(keyFromFile.status == 4)
        #expect(keyFromFile.stderr == "")
        let keyFlag = try await CLI.run(["run", "--server", server.baseURL, "--ping-key-file", keyFile.path, "--slug", "nightly-job", "--", "true"])
        #expect(keyFlag.stderr == "")
        // A unit-wide KIOTHC_PING_URL to an unknown check does not override --uuid.
        let flagWins = try await CLI.run(
            ["run", "--server", server.baseURL, "--uuid", uuid, "--", "true"],
            environment: ["KIOTHC_PING_URL": "\(server.baseURL)/ping/00000000-0000-4000-8000-000000000000"])
        #expect(flagWins.stderr == "")
        let pings = try server.pings(uuid)
        #expect(pings.map { $0["kind"] as? String } == ["start", "success", "start", "fail", "start", "success", "start", "success"])

        let badTimeout = try await CLI.run(["run", "--uuid", uuid, "--", "true"], environment: ["KIOTHC_TIMEOUT": "soon"])
        #expect(badTimeout.status == 64)
        #expect(badTimeout.stderr.contains("KIOTHC_TIMEOUT='soon' is not a number"))
        let noCheck = try await CLI.run(["run", "--", "true"], environment: ["KIOTHC_SLUG": "nightly-job"])
        #expect(noCheck.status == 64)
        #expect(noCheck.stderr.contains("say which check"))
    }

    @Test("an unknown check is a warning (404), not a failure of the job")
    func unknownCheck() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let output = try await CLI.run(["run", "--server", server.baseURL, "--uuid", "00000000-0000-4000-8000-000000000000", "--", "true"])
        #expect(output.status == 0)
        #expect(output.stderr.contains("the server answered 404 not found"))
    }

    @Test("usage errors exit 64")
    func usage() async throws {
        #expect(try await CLI.run(["run", "--uuid", "6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01"]).status == 64)
        #expect(try await CLI.run(["run", "--", "true"]).status == 64)
        #expect(try await CLI.run(["run", "--uuid", "not-a-uuid", "--", "true"]).status == 64)
        let unreadable = try await CLI.run(["run", "--ping-key-file", "/nonexistent", "--slug", "x", "--", "true"])
        #expect(unreadable.status == 64)
        #expect(unreadable.stderr.contains("cannot read the ping key file '/nonexistent'"))
        #expect(try await CLI.run(["run", "--ping-key", "k", "--ping-key-file", "/etc/hostname", "--slug", "x", "--", "true"]).status == 64)
        #expect(try await CLI.run(["run", "--uuid", "6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01", "--attempts", "0", "--", "true"]).status == 64)
    }

    /// A new empty directory for the files a test and its job signal each other with.
    static func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The processes whose command line is `command`, from /proc.
    static func processes(running command: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { entry in
            guard entry.allSatisfy(\.isNumber), let line = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return false }
            return String(decoding: line, as: UTF8.self).split(separator: "\0").joined(separator: " ") == command
        }
    }
}
