import Foundation
import Glibc
import Testing
import TestSupport

/// A tiny HTTP receiver (Python's http.server) on 127.0.0.1: it records every request as a JSON
/// line and answers 500 to the first `failFirst` requests of each path, 200 after.
final class AlertReceiver {
    static let script = """
        import http.server, json, os, sys
        fail_first, log_path, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
        seen = {}
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length).decode('utf-8', 'replace')
                seen[self.path] = seen.get(self.path, 0) + 1
                status = 500 if seen[self.path] <= fail_first else 200
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
        os.rename(log_path + '.port.tmp', log_path + '.port')
        server.serve_forever()
        """

    let process = Process()
    let log: URL
    let port: Int
    private let exit: Background<ProcessExit>

    init(failFirst: Int = 0, port: Int = 0) async throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-receiver-\(UUID().uuidString).jsonl")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, String(failFirst), log.path, String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        exit = Child.exit(of: process)
        // The receiver writes its port to a file once it listens.
        let portFile = log.path + ".port"
        let deadline = Date().addingTimeInterval(30)
        var text: String?
        while true {
            let late = Date() >= deadline
            text = try? String(contentsOfFile: portFile, encoding: .utf8)
            if text != nil || exit.isDone || late { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try? FileManager.default.removeItem(atPath: portFile)
        guard let text, let parsed = Int(text) else {
            Glibc.kill(process.processIdentifier, SIGKILL)
            throw ServerFailed(log: "the receiver did not start")
        }
        self.port = parsed
    }

    var url: String { "http://127.0.0.1:\(port)" }

    struct Request {
        let path: String
        /// `$STATUS` and `$NOW` of the alert, from the JSON body.
        let status: String
        let now: String
        let body: [String: Any]
        /// What the receiver answered.
        let answered: Int
    }

    /// Every request received so far, oldest first.
    var requests: [Request] {
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let path = object["path"] as? String, let answered = object["status"] as? Int, let body = object["body"] as? String
            else { return nil }
            let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
            return Request(path: path, status: json["status"] as? String ?? "", now: json["now"] as? String ?? "", body: json, answered: answered)
        }
    }

    func requests(to path: String) -> [Request] { requests.filter { $0.path == path } }

    /// Alerts accepted (answered 200) on `path`, as `status@now`.
    func delivered(to path: String) -> [String] {
        requests(to: path).filter { $0.answered == 200 }.map { "\($0.status)@\($0.now)" }
    }

    /// Polls (every 50 ms, at most `timeout`) until `condition` holds; sleeps without blocking
    /// a thread of the shared pool.
    func wait(timeout: TimeInterval = 60, until condition: () throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try condition()
    }

    /// SIGKILL (the test process may ignore SIGTERM, and children inherit that), and wait until
    /// it has exited: its port is closed then.
    func stop() async {
        kill()
        _ = await exit.value
    }

    private func kill() {
        if !exit.isDone { Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    /// SIGKILL without waiting; the log goes once it has exited.
    deinit {
        kill()
        let log = log
        exit.then { _ in try? FileManager.default.removeItem(at: log) }
    }
}

/// End to end with real processes and sockets: `kiothc serve`, checks that miss their pings, and
/// an HTTP receiver. `KIOTHC_TEST_TIME_SCALE=60` (test only) runs the server's check clock 60
/// times faster: a `5m` timeout lasts 5 s, a `1m` grace 1 s, a `* * * * *` schedule is due every
/// second and `*:0/10` (OnCalendar) every 10 s; alert retries start after 1/6 s. The deadline
/// scheduler, the outbox and delivery are the production code paths.
///
/// Exactly once is checked from the files after the server stopped, not from timings: every
/// notifiable flip has one alert in the outbox, every alert the receiver accepted is one of
/// them and was accepted once, and an alert not accepted yet is still pending.
@Suite("Alerts end to end", .serialized, .stopsServers)
struct AlertEndToEndTests {
    struct Check {
        let key: String
        let slug: String
    }

    static func config(_ receiver: String, checks: String) -> [String: String] {
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
                \(checks)
                """
        ]
    }

    static let scaled = ["KIOTHC_TEST_TIME_SCALE": "60"]
    static let second = 1_000_000

    static func flips(_ data: URL, _ uuid: String) -> [[String: Any]] {
        let url = data.appendingPathComponent("flips/\(uuid).jsonl")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func outbox(_ data: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: data.appendingPathComponent("alerts/outbox.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// `$NOW` of a flip: ISO 8601 UTC, whole seconds.
    static func iso(_ microseconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(microseconds / 1_000_000)))
    }

    /// The first scaled-schedule time strictly after `time` (µs) for a schedule due every
    /// `period` real seconds at a scale of 60: scaled time starts at a UTC midnight, so scaled
    /// minutes start on whole real seconds (and every period used here divides a day).
    static func nextScheduled(after time: Int, period: Int) -> Int {
        let seconds = time / second
        return (seconds / period + 1) * period * second
    }

    /// Exactly once, for one check, from the data directory of a stopped server and the
    /// receiver's log: one outbox alert per notifiable flip (`new→up` and `paused→up` are not),
    /// each resolved (no alert left held, none withdrawn), each accepted by the receiver at most
    /// once; those not accepted are the newest ones, still pending.
    static func expectEachFlipAlertedOnce(data: URL, uuid: String, path: String, receiver: AlertReceiver) throws {
        let flips = Self.flips(data, uuid)
        let notifiable = flips.compactMap { flip -> String? in
            guard let old = flip["old"] as? String, let new = flip["new"] as? String, let time = flip["time_us"] as? Int else { return nil }
            guard new == "down" || (new == "up" && old != "new" && old != "paused") else { return nil }
            return "\(new)@\(iso(time))"
        }
        let lines = try outbox(data)
        let alerts = lines.filter { $0["type"] as? String == "alert" && $0["check"] as? String == uuid }
        let queued = alerts.compactMap { alert -> String? in
            guard let direction = alert["direction"] as? String, let time = alert["flip_time_us"] as? Int else { return nil }
            return "\(direction)@\(iso(time))"
        }
        #expect(queued == notifiable, "one alert per notifiable flip, in order; flips: \(flips)")
        let ids = Set(alerts.compactMap { $0["id"] as? String })
        let resolved = Set(lines.filter { $0["type"] as? String == "confirmed" }.compactMap { $0["id"] as? String })
        let held = alerts.filter { $0["held"] as? Bool == true }.compactMap { $0["id"] as? String }
        #expect(Set(held).isSubset(of: resolved), "every held alert was confirmed")
        #expect(!lines.contains { $0["type"] as? String == "withdrawn" && ids.contains($0["id"] as? String ?? "") })

        let delivered = receiver.delivered(to: path)
        #expect(Set(delivered).count == delivered.count, "an alert accepted twice: \(delivered)")
        #expect(Array(notifiable.prefix(delivered.count)) == delivered, "accepted in flip order, none missing before the last: \(delivered) vs \(notifiable)")
        // The outbox records each accepted alert as delivered, except one the receiver accepted
        // while the server was stopping: that one is still pending (sent again at the next
        // start, as at-least-once allows).
        var idByKey: [String: String] = [:]
        for (key, alert) in zip(queued, alerts) { idByKey[key] = alert["id"] as? String }
        let recorded = Set(lines.filter { $0["type"] as? String == "attempt" && $0["outcome"] as? String == "delivered" }.compactMap { $0["id"] as? String })
        let finished = recorded.union(lines.filter { $0["type"] as? String == "gave_up" }.compactMap { $0["id"] as? String })
        for key in delivered {
            let id = idByKey[key] ?? ""
            #expect(recorded.contains(id) || !finished.contains(id), "\(key) accepted, then given up")
        }
        for id in recorded.intersection(ids) {
            #expect(delivered.contains { idByKey[$0] == id }, "alert \(id) recorded as delivered but never accepted")
        }
    }

    @Test("checks that miss their pings (timeout, cron, OnCalendar) go down; the receiver, failing twice, gets one down alert each; a success gets one up alert")
    func downThenUp() async throws {
        let receiver = try await AlertReceiver(failFirst: 2)
        let checks = [Check(key: "beat", slug: "heart-beat"), Check(key: "minutely", slug: "every-minute"), Check(key: "calendar", slug: "on-calendar")]
        let server = try await RunningServer(
            files: Self.config(
                receiver.url,
                checks: """
                      beat: {name: Heart Beat, timeout: 5m, grace: 1m}
                      minutely: {name: Every Minute, schedule: "* * * * *", grace: 1m}
                      calendar: {name: On Calendar, schedule: "*:0/10", grace: 1m}
                    """),
            environment: Self.scaled)
        defer { server.terminate() }
        var uuids: [String: String] = [:]
        var pingTimes: [String: Int] = [:]
        for check in checks {
            let uuid = try server.uuid("default", check.key)
            uuids[check.key] = uuid
            #expect(try await Curl.request("\(server.baseURL)/ping/\(uuid)").status == 200)
            pingTimes[check.key] = try #require(try server.pings(uuid).last?["time_us"] as? Int)
        }

        for check in checks {
            let path = "/hook/\(check.slug)"
            #expect(await receiver.wait { !receiver.delivered(to: path).isEmpty }, "no down alert delivered for \(check.key):\n\(server.output)")
            let requests = receiver.requests(to: path)
            #expect(requests.prefix(3).map(\.answered) == [500, 500, 200], "\(check.key): failed twice, then delivered")
            #expect(Set(requests.prefix(3).map { "\($0.status)@\($0.now)" }).count == 1, "\(check.key): the same alert three times")
            #expect(requests.first?.status == "down")
            #expect(requests.first?.body["name"] as? String != nil && requests.first?.body["code"] as? String == uuids[check.key])
            let uuid = try #require(uuids[check.key])
            let pinged = try #require(pingTimes[check.key])
            let down = try #require(Self.flips(server.data, uuid).first { $0["new"] as? String == "down" })
            #expect(down["reason"] as? String == "timeout")
            // Each flip is timestamped at its deadline: the next expected ping plus grace (1 s).
            let late = check.key == "beat" ? pinged + 5 * Self.second : Self.nextScheduled(after: pinged, period: check.key == "minutely" ? 1 : 10)
            #expect(down["time_us"] as? Int == late + Self.second, "\(check.key) down at its deadline")
        }

        // Up again: one up alert each (the schedule checks may go down again soon after; that
        // is a new flip with its own alert, counted by the exactly-once check below).
        for check in checks {
            #expect(try await Curl.request("\(server.baseURL)/ping/\(uuids[check.key]!)").status == 200)
        }
        for check in checks {
            let path = "/hook/\(check.slug)"
            #expect(await receiver.wait { receiver.delivered(to: path).contains { $0.hasPrefix("up@") } }, "no up alert for \(check.key):\n\(server.output)")
            #expect(receiver.delivered(to: path).prefix(2).map { String($0.prefix(3)) } == ["dow", "up@"])
        }
        #expect(await server.stop() == 0)
        for check in checks {
            try Self.expectEachFlipAlertedOnce(data: server.data, uuid: uuids[check.key]!, path: "/hook/\(check.slug)", receiver: receiver)
        }
    }

    @Test("across restarts: checks that went down while the server was stopped flip at start (at their deadline) and alert; an alert pending at a stop is delivered once after the next start")
    func acrossRestarts() async throws {
        // Learn a free port, then leave it closed: the first delivery attempts are refused.
        let probe = try await AlertReceiver()
        let port = probe.port
        await probe.stop()
        let files = Self.config(
            "http://127.0.0.1:\(port)",
            checks: """
                  beat: {name: Heart Beat, timeout: 9m, grace: 1m}
                  ten: {name: Every Ten, schedule: "*/10 * * * *", grace: 1m}
                  calendar: {name: On Calendar, schedule: "*:0/10", grace: 1m}
                """)
        let checks = [Check(key: "beat", slug: "heart-beat"), Check(key: "ten", slug: "every-ten"), Check(key: "calendar", slug: "on-calendar")]

        let first = try await RunningServer(files: files, environment: Self.scaled)
        var uuids: [String: String] = [:]
        for check in checks { uuids[check.key] = try first.uuid("default", check.key) }
        // Ping just after a 10 s boundary, so every deadline is about 10 s away (the heartbeat's
        // 9m + 1m, the schedules' next 10 s boundary + 1m): long enough to stop the server
        // before any of them, even on a loaded machine or under the address sanitizer (whose
        // leak check at exit adds a second or more).
        let now = Int(Date().timeIntervalSince1970 * 1_000_000)
        let boundary = Self.nextScheduled(after: now, period: 10)
        try await Task.sleep(for: .microseconds(boundary - now + 100_000))
        var deadlines: [String: Int] = [:]
        for check in checks {
            #expect(try await Curl.request("\(first.baseURL)/ping/\(uuids[check.key]!)").status == 200)
            let pinged = try #require(try first.pings(uuids[check.key]!).last?["time_us"] as? Int)
            let late = check.key == "beat" ? pinged + 9 * Self.second : Self.nextScheduled(after: pinged, period: 10)
            deadlines[check.key] = late + Self.second
        }
        #expect(await first.stop() == 0)
        let stopped = Int(Date().timeIntervalSince1970 * 1_000_000)
        try #require(stopped < deadlines.values.min()!, "the first server took too long to stop: the checks must go down while it is stopped")
        for check in checks { #expect(Self.flips(first.data, uuids[check.key]!).count == 1, "\(check.key) still up at the stop") }
        // Stopped past every deadline.
        try await Task.sleep(for: .microseconds(deadlines.values.max()! - stopped + 500_000))

        let second = try await RunningServer(files: files, data: first.data, environment: Self.scaled)
        try await second.waitUntil("every check flipped down and its alert was tried", timeout: 60) {
            checks.allSatisfy { Self.flips(second.data, uuids[$0.key]!).count == 2 } && second.occurrences(of: "alert not delivered, will retry") >= checks.count
        }
        for check in checks {
            let down = try #require(Self.flips(second.data, uuids[check.key]!).last)
            #expect(down["new"] as? String == "down")
            #expect(down["time_us"] as? Int == deadlines[check.key], "\(check.key) flipped at start, timestamped at its deadline")
        }
        #expect(await second.stop() == 0)

        // The receiver now answers, failing twice per check first; a third server delivers.
        let receiver = try await AlertReceiver(failFirst: 2, port: port)
        let third = try await RunningServer(files: files, data: second.data, environment: Self.scaled)
        defer { third.terminate() }
        for check in checks {
            let path = "/hook/\(check.slug)"
            #expect(await receiver.wait { !receiver.delivered(to: path).isEmpty }, "the pending alert of \(check.key) was not delivered:\n\(third.output)")
            #expect(receiver.requests(to: path).map(\.answered) == [500, 500, 200])
            #expect(receiver.delivered(to: path) == ["down@\(Self.iso(deadlines[check.key]!))"])
            #expect(Self.flips(third.data, uuids[check.key]!).count == 2, "no second down flip after the restart")
        }

        for check in checks {
            #expect(try await Curl.request("\(third.baseURL)/ping/\(uuids[check.key]!)").status == 200)
        }
        for check in checks {
            let path = "/hook/\(check.slug)"
            #expect(await receiver.wait { receiver.delivered(to: path).count >= 2 }, "no up alert for \(check.key):\n\(third.output)")
            #expect(receiver.delivered(to: path).prefix(2).map { String($0.prefix(3)) } == ["dow", "up@"])
        }
        #expect(await third.stop() == 0)
        for check in checks {
            try Self.expectEachFlipAlertedOnce(data: third.data, uuid: uuids[check.key]!, path: "/hook/\(check.slug)", receiver: receiver)
        }
    }
}
