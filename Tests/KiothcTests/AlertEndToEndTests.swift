import Foundation
import Glibc
import Testing

/// A tiny HTTP receiver (Python's http.server) on 127.0.0.1: it records every request as a JSON
/// line and answers 500 to the first `failFirst` requests, 200 after.
final class AlertReceiver {
    static let script = """
        import http.server, json, sys
        fail_first, log_path, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
        seen = [0]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length).decode('utf-8', 'replace')
                seen[0] += 1
                status = 500 if seen[0] <= fail_first else 200
                with open(log_path, 'a') as f:
                    f.write(json.dumps({'path': self.path, 'body': body, 'status': status}) + '\\n')
                self.send_response(status)
                self.send_header('Content-Length', '0')
                self.end_headers()
            do_GET = do_POST
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler)
        with open(log_path + '.port.tmp', 'w') as f:
            f.write(str(server.server_address[1]))
        import os
        os.rename(log_path + '.port.tmp', log_path + '.port')
        server.serve_forever()
        """

    let process = Process()
    let log: URL
    let port: Int

    init(failFirst: Int = 0, port: Int = 0) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-receiver-\(UUID().uuidString).jsonl")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, String(failFirst), log.path, String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The receiver writes its port to a file once it listens.
        let portFile = log.path + ".port"
        let deadline = Date().addingTimeInterval(15)
        var text: String?
        while Date() < deadline {
            text = try? String(contentsOfFile: portFile, encoding: .utf8)
            if text != nil || !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        try? FileManager.default.removeItem(atPath: portFile)
        guard let text, let parsed = Int(text) else {
            kill(process.processIdentifier, SIGKILL)
            throw ServerFailed(log: "the receiver did not start")
        }
        self.port = parsed
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Every request received so far: (path, parsed JSON body, status answered).
    var requests: [(path: String, body: [String: Any], status: Int)] {
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let path = object["path"] as? String, let status = object["status"] as? Int, let body = object["body"] as? String
            else { return nil }
            let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
            return (path, json, status)
        }
    }

    /// Polls (every 50 ms, at most `timeout`) until `condition` holds; sleeps without blocking
    /// a thread of the shared pool.
    func wait(timeout: TimeInterval = 30, until condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    /// SIGKILL: the test process may ignore SIGTERM, and children inherit that.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: log)
    }
}

/// End to end with real processes and sockets: `kiothc serve`, a check that misses its ping,
/// and an HTTP receiver. `KIOTHC_TEST_TIME_SCALE=60` (test only) makes the check's 5m timeout
/// and 1m grace last 5 s and 1 s (long enough that the check cannot go down again while a
/// slow, loaded test run waits for the up alert), and alert retries start after 1/6 s instead of 10 s; the
/// deadline scheduler, outbox and delivery are the production code paths.
@Suite("Alerts end to end", .serialized)
struct AlertEndToEndTests {
    static func config(_ receiver: String) -> [String: String] {
        [
            "checks.yaml": """
                projects:
                  default:
                    channels:
                      hook:
                        kind: webhook
                        url: \(receiver)/hook/$SLUG
                        body: '{"name": "$NAME", "status": "$STATUS", "now": "$NOW", "code": "$CODE"}'
                checks:
                  beat: {name: Heart Beat, timeout: 5m, grace: 1m}
                """
        ]
    }

    static let scaled = ["KIOTHC_TEST_TIME_SCALE": "60"]

    func flips(_ server: RunningServer, _ uuid: String) throws -> [[String: Any]] {
        let url = server.data.appendingPathComponent("flips/\(uuid).jsonl")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test("a missed ping goes down and the receiver, failing twice, gets exactly one down alert; a success gets one up alert")
    func downThenUp() async throws {
        let receiver = try AlertReceiver(failFirst: 2)
        let server = try RunningServer(files: Self.config(receiver.url), environment: Self.scaled)
        defer { server.stop() }
        let uuid = try server.uuid("default", "beat")
        #expect(try Curl.request("\(server.baseURL)/ping/\(uuid)").status == 200)
        let pingTime = try #require(try server.pings(uuid).last?["time_us"] as? Int)

        #expect(await receiver.wait { receiver.requests.contains { $0.status == 200 } }, "no down alert delivered:\n\(server.output)")
        let downRequests = receiver.requests
        #expect(downRequests.map(\.status) == [500, 500, 200])
        #expect(Set(downRequests.map { $0.body["status"] as? String }) == ["down"])
        #expect(downRequests.allSatisfy { $0.path == "/hook/heart-beat" && $0.body["name"] as? String == "Heart Beat" && $0.body["code"] as? String == uuid })
        let down = try #require(try flips(server, uuid).last)
        #expect(down["reason"] as? String == "timeout")
        #expect(down["time_us"] as? Int == pingTime + 6_000_000, "the flip is timestamped at the deadline")

        #expect(try Curl.request("\(server.baseURL)/ping/\(uuid)").status == 200)
        #expect(await receiver.wait { receiver.requests.count >= 4 }, "no up alert:\n\(server.output)")
        try await Task.sleep(for: .milliseconds(500))
        let all = receiver.requests
        #expect(all.count == 4)
        #expect(all.last?.body["status"] as? String == "up")
        #expect(all.last?.status == 200)
        #expect(all.filter { $0.status == 200 }.map { $0.body["status"] as? String } == ["down", "up"])
        server.stop()

        let outbox = try String(contentsOf: server.data.appendingPathComponent("alerts/outbox.jsonl"), encoding: .utf8)
        let lines = outbox.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.filter { $0["type"] as? String == "alert" }.count == 2)
        #expect(lines.filter { $0["type"] as? String == "attempt" }.compactMap { $0["status_code"] as? Int } == [500, 500, 200, 200])
    }

    @Test("across restarts: down while stopped flips at start (at its deadline); an alert pending at a stop is delivered once after the next start")
    func acrossRestarts() async throws {
        // Learn a free port, then leave it closed: the first delivery attempts are refused.
        let probe = try AlertReceiver()
        let port = probe.port
        probe.stop()
        let receiverURL = "http://127.0.0.1:\(port)"

        let first = try RunningServer(files: Self.config(receiverURL), environment: Self.scaled)
        let uuid = try first.uuid("default", "beat")
        #expect(try Curl.request("\(first.baseURL)/ping/\(uuid)").status == 200)
        let pingTime = try #require(try first.pings(uuid).last?["time_us"] as? Int)
        #expect(first.stop() == 0)
        // Stopped past the deadline (ping + 5 s + 1 s).
        try await Task.sleep(for: .milliseconds(6_500))

        let second = try RunningServer(files: Self.config(receiverURL), data: first.data, environment: Self.scaled)
        _ = try second.waitFor(prefix: "alert not delivered, will retry")
        let flipped = try flips(second, uuid)
        #expect(flipped.count == 2)
        #expect(flipped.last?["time_us"] as? Int == pingTime + 6_000_000, "flipped at start, timestamped at the deadline")
        #expect(second.stop() == 0)

        let receiver = try AlertReceiver(port: port)
        let third = try RunningServer(files: Self.config(receiverURL), data: second.data, environment: Self.scaled)
        defer { third.stop() }
        #expect(await receiver.wait { !receiver.requests.isEmpty }, "the pending alert was not delivered:\n\(third.output)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(receiver.requests.map(\.status) == [200])
        #expect(receiver.requests.first?.body["status"] as? String == "down")
        #expect(try flips(third, uuid).count == 2, "no second down flip after the restart")

        #expect(try Curl.request("\(third.baseURL)/ping/\(uuid)").status == 200)
        #expect(await receiver.wait { receiver.requests.count >= 2 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(receiver.requests.map { $0.body["status"] as? String } == ["down", "up"])
    }
}
