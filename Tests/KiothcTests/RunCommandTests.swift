import Foundation
import Glibc
import Testing
import TestSupport

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
        try launch(shell)
        let exit = Child.exit(of: shell)
        let deadline = Date().addingTimeInterval(30)
        while (try? String(contentsOfFile: out, encoding: .utf8)) != "first\n" && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "first\n", "the first line arrives while the command still runs")
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        #expect(await exit.value == ProcessExit(status: 0, signalled: false))
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
        #expect(down.stderr.contains("kiothc run: warning: the fail (exit 5) ping was not delivered"), "in the shared ping wording")

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
        #expect(!back.stderr.contains("fail (exit 2) ping was not delivered"), "\(back.stderr)")
        let pings = try second.pings(uuid)
        #expect(pings.map { $0["kind"] as? String } == ["fail"])
        #expect(pings.first?["exit_status"] as? Int == 2)
        #expect(pings.first?["body"] as? String == "finished\n")
    }

    @Test("over HTTPS the server's certificate is verified: kiothc run and pause refuse a self-signed one and say so plainly; the job still runs")
    func httpsVerifiesCertificate() async throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (cert, key) = try await SelfSignedCertificate.make(in: directory)
        let server = try await RunningServer(files: Self.config, arguments: ["--tls-cert", cert, "--tls-key", key])
        defer { server.terminate() }
        try #require(server.baseURL.hasPrefix("https://127.0.0.1:"))
        let uuid = try server.uuid("ops", "nightly")
        let untrusted = "the TLS handshake with 127.0.0.1 port \(server.port) failed: the server's certificate is not trusted (CERTIFICATE_VERIFY_FAILED)"
        let run = try await CLI.run(["run", "--server", server.baseURL, "--uuid", uuid, "--attempts", "1", "--", "sh", "-c", "echo ran; exit 3"])
        #expect(run.status == 3)
        #expect(run.stdout == "ran\n")
        #expect(run.stderr.contains("the start ping was not delivered: the server could not be reached (\(untrusted))"), "\(run.stderr)")
        let pause = try await CLI.run(["pause", uuid, "--server", server.baseURL, "--api-key", "some-key"])
        #expect(pause.status == 1)
        #expect(pause.stderr.contains("cannot reach the server at \(server.baseURL): \(untrusted)"), "\(pause.stderr)")
        #expect(try server.pings(uuid).isEmpty)
    }

    @Test("kiothc run and pause go through the proxy of http_proxy (as curl reads it), never showing its password, except to hosts in no_proxy")
    func proxyFromEnvironment() async throws {
        let server = try await RunningServer(files: Self.config)
        defer { server.terminate() }
        let uuid = try server.uuid("ops", "nightly")
        let proxied = ["http_proxy": "http://someone:SECRET-proxy-password@127.0.0.1:9", "no_proxy": "", "NO_PROXY": ""]
        let run = try await CLI.run(["run", "--server", server.baseURL, "--uuid", uuid, "--attempts", "1", "--", "true"], environment: proxied)
        #expect(run.status == 0)
        #expect(run.stderr.contains("the start ping was not delivered: the server could not be reached (could not connect to the proxy 127.0.0.1 port 9 (http_proxy): connection refused)"), "\(run.stderr)")
        let pause = try await CLI.run(["pause", uuid, "--server", server.baseURL, "--api-key", "some-key"], environment: proxied)
        #expect(pause.status == 1)
        #expect(pause.stderr.contains("cannot reach the server at \(server.baseURL): could not connect to the proxy 127.0.0.1 port 9 (http_proxy): connection refused"), "\(pause.stderr)")
        #expect(!(run.stderr + pause.stderr).contains("SECRET"))
        #expect(try server.pings(uuid).isEmpty)

        var bypassed = proxied
        bypassed["no_proxy"] = "localhost,127.0.0.1"
        let direct = try await CLI.run(["run", "--server", server.baseURL, "--uuid", uuid, "--attempts", "1", "--", "true"], environment: bypassed)
        #expect(direct.status == 0)
        #expect(direct.stderr.isEmpty, "\(direct.stderr)")
        #expect(try server.pings(uuid).map { $0["kind"] as? String } == ["start", "success"])
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

    @Test("the command starts with no signal blocked and none ignored, though kiothc run is started by a thread that blocks them")
    func cleanSignalState() async throws {
        // This test's thread is one of the cooperative pool's, which block nearly every signal,
        // and Foundation's Process passes the mask on to kiothc run: the command must not
        // inherit it (nor kiothc run's own ignored SIGPIPE).
        let output = try await CLI.run(["run", "--server", "http://127.0.0.1:9", "--attempts", "1", "--uuid", Self.anyUUID, "--", "grep", "^Sig", "/proc/self/status"])
        #expect(output.status == 0)
        let fields = Dictionary(uniqueKeysWithValues: output.stdout.split(separator: "\n").compactMap { line -> (String, UInt64)? in
            let parts = line.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let value = UInt64(parts[1], radix: 16) else { return nil }
            return (parts[0], value)
        })
        #expect(fields["SigBlk"] == 0, "blocked: \(output.stdout)")
        let ignored = try #require(fields["SigIgn"], "\(output.stdout)")
        for number in [SIGHUP, SIGINT, SIGPIPE, SIGTERM] {
            #expect(ignored & (1 << UInt64(number - 1)) == 0, "signal \(number) ignored: \(output.stdout)")
        }
    }

    @Test("SIGTERM to kiothc run, at 50 moments of its start, never leaves the command running: kiothc run exits 143, or dies of it before it started the command")
    func signalDuringStart() async throws {
        // How long kiothc run takes here to start its command (a sanitized build: much longer).
        let scratch = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let marker = scratch.appendingPathComponent("started").path
        let calibration = try CLI.start(["run", "--server", "http://127.0.0.1:9", "--attempts", "1", "--uuid", Self.anyUUID, "--", "sh", "-c", "touch \(marker); exec sleep 40"])
        let launched = Date()
        while !FileManager.default.fileExists(atPath: marker) && Date().timeIntervalSince(launched) < 30 { try await Task.sleep(for: .milliseconds(2)) }
        let toCommand = Date().timeIntervalSince(launched)
        kill(calibration.process.processIdentifier, SIGTERM)
        #expect(await calibration.output().status == 128 + SIGTERM)

        // 50 runs one after the other, each signalled after a delay from at once to 2.5 times
        // the time the command takes to start: before kiothc run catches signals, during the
        // start ping, around the launch, and after it.
        var outcomes: [SignalledRun] = []
        for attempt in 0..<50 {
            outcomes.append(try await Self.signalled(attempt, after: toCommand * 2.5 * Double(attempt) / 50))
        }
        for outcome in outcomes {
            #expect(outcome.problems.isEmpty, "attempt \(outcome.attempt): \(outcome.problems.joined(separator: "; "))")
        }
        // Many signals come after kiothc run started catching them (early in its start).
        let reported = outcomes.count(where: \.reported)
        #expect(reported >= 10, "only \(reported) of 50 runs reported the killed command (the command starts after \(toCommand) s)")
    }

    @Test("SIGTERM during the start ping (a server that does not answer) is kept, and delivered to the command as soon as it starts")
    func signalDuringStartPing() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let sleeper = "sleep 30.\(Int.random(in: 100...999))"
        let job = try CLI.start(["run", "--server", "http://127.0.0.1:\(silent.port)", "--attempts", "1", "--timeout", "3", "--uuid", Self.anyUUID, "--", "sh", "-c", sleeper])
        let started = Date()
        // kiothc run is connected and waiting for an answer once the listener has a connection.
        while !silent.hasConnection && Date().timeIntervalSince(started) < 20 { try await Task.sleep(for: .milliseconds(10)) }
        try #require(silent.hasConnection)
        kill(job.process.processIdentifier, SIGTERM)
        let output = await job.output()
        #expect(!output.signalled, "kiothc run was killed by the signal instead of keeping it: \(output.stderr)")
        #expect(output.status == 128 + SIGTERM)
        #expect(output.stderr.contains("the start ping was not delivered"), "\(output.stderr)")
        #expect(Date().timeIntervalSince(started) < 20, "the command ran on: the kept signal did not reach it")
        #expect(Self.processes(running: "sh -c \(sleeper)").isEmpty && Self.processes(running: sleeper).isEmpty)
    }

    struct SignalledRun: Sendable {
        var attempt: Int
        /// kiothc run caught the signal and exited with the command's 143.
        var reported: Bool
        var problems: [String]
    }

    /// Starts `kiothc run -- sh -c 'sleep …'`, sends it SIGTERM after `delay` seconds, and says
    /// what went wrong: the signal not forwarded, a wrong status, the command left running.
    static func signalled(_ attempt: Int, after delay: TimeInterval) async throws -> SignalledRun {
        let sleeper = "sleep 40.\(attempt)\(Int.random(in: 100...999))"
        let job = try CLI.start(["run", "--server", "http://127.0.0.1:9", "--attempts", "1", "--uuid", anyUUID, "--", "sh", "-c", sleeper])
        try await Task.sleep(for: .seconds(delay))
        kill(job.process.processIdentifier, SIGTERM)
        let signalled = Date()
        let output = await job.output()
        var outcome = SignalledRun(attempt: attempt, reported: false, problems: [])
        if Date().timeIntervalSince(signalled) > 20 { outcome.problems.append("the signal was not forwarded: the command ran on") }
        if output.signalled {
            // Killed before it caught signals, so before the start ping and the command.
            if output.status != SIGTERM { outcome.problems.append("killed by signal \(output.status)") }
            if output.stderr.contains("the start ping was not delivered") { outcome.problems.append("killed after the start ping: \(output.stderr)") }
        } else {
            outcome.reported = true
            if output.status != 128 + SIGTERM { outcome.problems.append("exit status \(output.status): \(output.stderr)") }
        }
        if !processes(running: "sh -c \(sleeper)").isEmpty || !processes(running: sleeper).isEmpty {
            outcome.problems.append("the command was left running")
        }
        return outcome
    }

    @Test("SIGTERM reaches a command run without a shell: `sleep` is killed, not left to finish")
    func signalToPlainCommand() async throws {
        let sleeper = ["sleep", "30.\(Int.random(in: 100...999))"]
        let job = try CLI.start(["run", "--server", "http://127.0.0.1:9", "--attempts", "1", "--uuid", Self.anyUUID, "--"] + sleeper)
        let deadline = Date().addingTimeInterval(20)
        while Self.processes(running: sleeper.joined(separator: " ")).isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        kill(job.process.processIdentifier, SIGTERM)
        let started = Date()
        let output = await job.output()
        #expect(output.status == 128 + SIGTERM)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(Self.processes(running: sleeper.joined(separator: " ")).isEmpty)
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
        #expect(badTimeout.stderr.contains("KIOTHC_TIMEOUT='soon' is not valid; expected a number of seconds greater than 0"))
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

    /// A check no server knows: the tests that only look at the process ping nothing (port 9).
    static let anyUUID = "6ae2b7a5-39d6-4b1f-9a62-2d8c1b2a6e01"

    /// A loopback TCP port that accepts connections (the kernel's backlog does) and never
    /// answers: a ping to it waits for its whole timeout.
    final class SilentListener: Sendable {
        let descriptor: Int32
        let port: Int

        init() throws {
            let (socket, port) = try listenOnLoopback()
            descriptor = socket
            self.port = port
        }

        /// A client connected (and waits): the listening socket is readable.
        var hasConnection: Bool {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            return poll(&poller, 1, 0) == 1
        }

        func close() { Glibc.close(descriptor) }
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
