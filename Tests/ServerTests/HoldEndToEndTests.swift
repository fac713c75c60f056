import Alerting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Monitoring
import Testing

@testable import Runtime
@testable import Server

private let s: Int64 = 1_000_000
private let minute: Int64 = 60 * s
/// 2026-11-27T15:00:00Z, and the pings' time half a minute and a half second later.
private let quarterPast: Int64 = 1_795_791_600 * s
private let t0: Int64 = quarterPast + 30 * s + 500_000

/// Maintenance windows and dependencies (SPEC §14) end to end, in process: the real runtime of
/// `serve` on a manual clock (`RunningRuntime`), alerts to a real HTTP receiver on loopback,
/// on the file store and on PostgreSQL. What was sent is read from the receiver; what is held
/// from the alert queue itself, so "nothing was sent" is checked once the queue says the alert
/// was settled, not by waiting.
@Suite("Maintenance windows and dependencies end to end", .timeLimit(.minutes(3)))
struct HoldEndToEndTests {
    static let readOnly = "hold-read-only-key-0001"
    static let readWrite = "hold-read-write-key-0001"

    static func yaml(_ receiver: String, checks: String) -> String {
        """
        projects:
          default:
            api_keys: {read_only: \(readOnly), read_write: \(readWrite)}
            channels:
              hook:
                kind: webhook
                url: \(receiver)/hook/$SLUG
                body: '{"status": "$STATUS", "now": "$NOW"}'
        checks:
        \(checks)
        """
    }

    static func iso(_ microseconds: Int64) -> String { UTCTime.secondsZ(microseconds) }

    /// The alerts held back now (held ones and those queued behind them), as `slug:direction`.
    static func heldBack(_ server: RunningRuntime) async throws -> [String] {
        let snapshot = server.runtime.catalog.snapshot
        return try await server.runtime.store.alerts.heldBack().map { item in
            "\(snapshot.check(item.alert.check)?.definition.slug ?? "?"):\(item.alert.direction.rawValue)\(item.held ? "" : " (behind)")"
        }.sorted()
    }

    /// Waits until the alert queue holds nothing back any more.
    static func settled(_ server: RunningRuntime) async throws {
        try await eventually("no alert is held any more") { try await server.runtime.store.alerts.heldBack().isEmpty }
    }

    static func view(_ server: RunningRuntime, _ key: String) throws -> CheckView {
        let snapshot = server.runtime.catalog.snapshot
        let entry = try #require(snapshot.check(try server.uuid(key)))
        return snapshot.view(of: entry, states: server.runtime.states, now: server.clock.now)
    }

    /// A dashboard page's HTML, logged in with the project's read-write key (flips need it).
    static func page(_ server: RunningRuntime, _ path: String) async throws -> String {
        let application = Application(responder: server.app.application.responder(scheme: "http"))
        return try await application.test(.router) { client in
            let cookie = try await DashboardTests.login(client, key: readWrite)
            return try await client.execute(uri: path, method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
        }
    }

    @Test(
        "maintenance: a check down inside a window is alerted once when it ends; one that recovered inside sends nothing; one down before it sends no new alert; one that recovered inside it sends its up at the end",
        arguments: [false, true])
    func windows(shared: Bool) async throws {
        guard let store = try await NotificationsAPITests.store(shared: shared) else { return }
        let receiver = AlertReceiver()
        let root = AlertEndToEndTests.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // 15:05 to 16:00 UTC, fixed; and the same as a daily window at 17:05 in Riga (UTC+2 in
        // November) lasting 55 minutes.
        let fixed = #"[{from: "2026-11-27T15:05:00Z", until: "2026-11-27T16:00:00Z", reason: nightly upgrade}]"#
        let daily = #"[{schedule: "5 17 * * *", tz: Europe/Riga, duration: 55m}]"#
        try await receiver.run { base in
            let yaml = Self.yaml(
                base,
                checks: """
                      stays: {name: Stays, timeout: 5m, grace: 1m, maintenance: \(fixed)}
                      recovers: {name: Recovers, timeout: 1h, maintenance: \(daily)}
                      before: {name: Before, timeout: 1h, maintenance: \(fixed)}
                      already: {name: Already, timeout: 1h, maintenance: \(daily)}
                      plain: {name: Plain, timeout: 5m, grace: 1m}
                    """)
            try await RunningRuntime.run(root: root, yaml: yaml, clock: ManualClock(at: t0), store: store) { server in
                for key in ["stays", "recovers", "before", "already", "plain"] {
                    #expect(try await server.ping(key) == .ok)
                }
                #expect(try !Self.view(server, "stays").inMaintenance)

                // 15:00:30.5: `before` and `already` fail before the window and alert.
                #expect(try await server.ping("before", "/fail") == .ok)
                #expect(try await server.ping("already", "/fail") == .ok)
                try await eventually("the down alerts before the window") {
                    receiver.delivered(to: "/hook/before").count == 1 && receiver.delivered(to: "/hook/already").count == 1
                }

                // 15:06:30.5, inside the window: `stays` misses its deadline and `recovers`
                // fails, both held; `plain` (no window) alerts.
                server.clock.set(t0 + 6 * minute)
                #expect(try await server.ping("recovers", "/fail") == .ok)
                try await eventually("plain's down alert") { receiver.delivered(to: "/hook/plain").count == 1 }
                for key in ["stays", "recovers"] {
                    try await eventually("the down flip of \(key) was stored") { try await server.flips(key).count == 2 }
                    let flip = try #require(try await server.flips(key).last)
                    #expect(flip.new == .down && flip.maintenance, "\(key): down, marked as during maintenance")
                    #expect(try Self.view(server, key).inMaintenance)
                    #expect(try Self.view(server, key).maintenance?.end == quarterPast + 60 * minute)
                }
                #expect(try await Self.heldBack(server) == ["recovers:down", "stays:down"])
                // The dashboard: the window in progress, the next one, the flip's mark.
                let staysPage = try await Self.page(server, "/checks/\(try server.uuid("stays").uuidString.lowercased())")
                #expect(staysPage.contains("in progress since"))
                #expect(staysPage.contains("<time datetime=\"2026-11-27T16:00:00+00:00\" title=\"2026-11-27 16:00:00 UTC\">in 53 min</time>"), "until the window's end")
                #expect(staysPage.contains("no window within a year"), "a fixed window comes once")
                #expect(staysPage.contains("alerts held during maintenance"), "the down flip's mark")
                #expect(staysPage.contains("<span class=\"hold\">maintenance</span>"), "the status badge")
                let recoversPage = try await Self.page(server, "/checks/\(try server.uuid("recovers").uuidString.lowercased())")
                #expect(recoversPage.contains("next: <time datetime=\"2026-11-28T15:05:00+00:00\" title=\"2026-11-28 15:05:00 UTC\">in 23 h</time>"), "the daily window's next start, tomorrow")
                #expect(try await server.flips("plain").last?.maintenance == false)
                // /metrics and `kiothc status` say so too.
                let application = Application(responder: server.app.application.responder(scheme: "http"))
                try await application.test(.router) { client in
                    try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(Self.readOnly)"]) { response in
                        let text = String(buffer: response.body)
                        #expect(text.contains(#"kiothc_check_in_maintenance{name="Stays",tags="","#) && text.contains(#"project="default"} 1"#))
                        let plain = text.split(separator: "\n").first { $0.hasPrefix(#"kiothc_check_in_maintenance{name="Plain""#) }
                        #expect(plain?.hasSuffix(" 0") == true, "\(plain ?? "no series for plain")")
                    }
                }
                if !shared {
                    let report = try StatusReport.load(
                        config: root + "/checks.d", data: root + "/data", project: nil, tags: [], baseURL: nil, now: server.clock.now)
                    let row = try #require(report.table(now: server.clock.now).split(separator: "\n").first { $0.contains(" Stays ") })
                    #expect(row.contains("down (maintenance until 2026-11-27 16:00:00Z, in 53 min)"), "\(row)")
                    let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
                    let stays = try #require((json["checks"] as? [[String: Any]])?.first { $0["key"] as? String == "stays" })
                    #expect(stays["in_maintenance"] as? Bool == true)
                    #expect(stays["maintenance_until"] as? String == "2026-11-27T16:00:00+00:00")
                }

                // 15:10: `recovers` and `before` come back up inside the window: held too.
                server.clock.set(quarterPast + 10 * minute)
                #expect(try await server.ping("recovers") == .ok)
                #expect(try await server.ping("before") == .ok)
                try await eventually("the up alerts are queued") { try await Self.heldBack(server).count == 4 }
                #expect(try await Self.heldBack(server) == ["before:up", "recovers:down", "recovers:up", "stays:down"])
                #expect(try await server.flips("before").last?.maintenance == true)

                // 16:00: the window ends.
                server.clock.set(quarterPast + 60 * minute)
                try await Self.settled(server)
                #expect(try !Self.view(server, "stays").inMaintenance)
                try await eventually("the alerts released at the window's end") {
                    receiver.delivered(to: "/hook/stays").count == 1 && receiver.delivered(to: "/hook/before").count == 2
                }
                // The queue settled every alert; whatever it did not release is withdrawn
                // and can no longer be sent.
                let recovers = try await server.runtime.store.alerts.history(of: try server.uuid("recovers"), limit: 10)
                #expect(recovers.map(\.state) == [.withdrawn, .withdrawn])
                #expect(recovers.allSatisfy { $0.alert.hold?.maintenance == true })
                // Delivered: recorded just after the receiver answered.
                let stays = try server.uuid("stays")
                try await eventually("stays' alert is recorded as delivered") {
                    try await server.runtime.store.alerts.history(of: stays, limit: 10).map(\.state) == [.delivered]
                }
            }
            #expect(receiver.delivered(to: "/hook/stays") == ["down@\(Self.iso(t0 + 6 * minute))"], "exactly once, when the window ended")
            #expect(receiver.delivered(to: "/hook/recovers").isEmpty, "went down and recovered inside the window: nothing")
            #expect(receiver.delivered(to: "/hook/already") == ["down@\(Self.iso(t0))"], "down before the window: no new alert")
            #expect(
                receiver.delivered(to: "/hook/before") == ["down@\(Self.iso(t0))", "up@\(Self.iso(quarterPast + 10 * minute))"],
                "recovered inside the window: its up, at the end")
            #expect(receiver.delivered(to: "/hook/plain") == ["down@\(Self.iso(t0 + 6 * minute))"])
        }
    }

    @Test(
        "dependencies: a check that goes down while one it depends on is down is held; sent if still down once the parent recovers, not if it recovered first; chains release link by link",
        arguments: [false, true])
    func dependencies(shared: Bool) async throws {
        guard let store = try await NotificationsAPITests.store(shared: shared) else { return }
        let receiver = AlertReceiver()
        let root = AlertEndToEndTests.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await receiver.run { base in
            let yaml = Self.yaml(
                base,
                checks: """
                      db: {name: DB, timeout: 1h}
                      app: {name: App, timeout: 1h, depends_on: [db]}
                      web: {name: Web, timeout: 1h, depends_on: [db]}
                      c: {name: C, timeout: 1h}
                      b: {name: B, timeout: 1h, depends_on: [c]}
                      a: {name: A, timeout: 1h, depends_on: [default/b]}
                    """)
            try await RunningRuntime.run(root: root, yaml: yaml, clock: ManualClock(at: t0), store: store) { server in
                for key in ["db", "app", "web", "c", "b", "a"] {
                    #expect(try await server.ping(key) == .ok)
                }
                server.clock.advance(by: minute)
                #expect(try await server.ping("db", "/fail") == .ok)
                #expect(try await server.ping("c", "/fail") == .ok)
                try await eventually("the parents' down alerts") {
                    receiver.delivered(to: "/hook/db").count == 1 && receiver.delivered(to: "/hook/c").count == 1
                }
                let downAt = server.clock.now + minute
                server.clock.set(downAt)
                for key in ["app", "web", "b", "a"] {
                    #expect(try await server.ping(key, "/fail") == .ok)
                }
                #expect(try await server.flips("app").last?.suppressedBy == ["default/db"])
                #expect(try await server.flips("a").last?.suppressedBy == ["default/b", "default/c"], "transitively")
                #expect(try Self.view(server, "app").suppressedBy == ["default/db"])
                #expect(try Self.view(server, "db").suppressedBy == [])
                #expect(try await Self.heldBack(server) == ["a:down", "app:down", "b:down", "web:down"])
                let overview = try await Self.page(server, "/")
                #expect(overview.contains("alerts held: default/db down"))
                let app = try await Self.page(server, "/checks/\(try server.uuid("app").uuidString.lowercased())")
                #expect(app.contains("alerts held while default/db was down"), "the flip's mark")
                #expect(app.contains("<dt>Depends on</dt><dd>default/db</dd>"))

                // The API and /metrics say so too.
                let application = Application(responder: server.app.application.responder(scheme: "http"))
                try await application.test(.router) { client in
                    try await client.execute(uri: "/api/v3/checks/", method: .get, headers: [.xAPIKey: Self.readOnly]) { response in
                        #expect(response.status == .ok)
                        let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                        let checks = try #require(object["checks"] as? [[String: Any]])
                        let app = try #require(checks.first { $0["key"] as? String == "app" })
                        #expect(app["suppressed_by"] as? [String] == ["default/db"])
                        #expect(app["depends_on"] as? [String] == ["default/db"])
                        #expect(app["in_maintenance"] as? Bool == false)
                        #expect(app["maintenance_until"] is NSNull)
                        let db = try #require(checks.first { $0["key"] as? String == "db" })
                        #expect(db["suppressed_by"] as? [String] == [])
                    }
                }

                // `web` recovers while db is still down: its up waits behind its held down.
                server.clock.advance(by: minute)
                #expect(try await server.ping("web") == .ok)
                try await eventually("web's up is queued") { try await Self.heldBack(server).contains("web:up (behind)") }

                // db recovers: app (still down) is alerted, web (up again) is not.
                server.clock.advance(by: minute)
                #expect(try await server.ping("db") == .ok)
                try await eventually("app's held down alert") { receiver.delivered(to: "/hook/app").count == 1 }
                #expect(receiver.delivered(to: "/hook/app") == ["down@\(Self.iso(downAt))"])
                try await eventually("web's alerts are settled") { try await !Self.heldBack(server).contains { $0.hasPrefix("web:") } }
                #expect(try await server.runtime.store.alerts.history(of: try server.uuid("web"), limit: 10).map(\.state) == [.withdrawn, .withdrawn])

                // The chain: c recovers, b (still down) is alerted, a still waits for b.
                #expect(try await server.ping("c") == .ok)
                try await eventually("b's held down alert") { receiver.delivered(to: "/hook/b").count == 1 }
                #expect(try await Self.heldBack(server) == ["a:down"])
                #expect(try Self.view(server, "a").suppressedBy == ["default/b"])
                // b recovers: a, still down, is alerted.
                server.clock.advance(by: minute)
                #expect(try await server.ping("b") == .ok)
                try await eventually("a's held down alert") { receiver.delivered(to: "/hook/a").count == 1 }
                try await Self.settled(server)
                try await eventually("every up alert") {
                    receiver.delivered(to: "/hook/db").count == 2 && receiver.delivered(to: "/hook/c").count == 2
                        && receiver.delivered(to: "/hook/b").count == 2
                }
            }
            #expect(receiver.delivered(to: "/hook/web").isEmpty, "recovered before its parent: nothing")
            #expect(receiver.delivered(to: "/hook/a").map { $0.hasPrefix("down@") } == [true])
            #expect(receiver.delivered(to: "/hook/b").map { String($0.prefix(while: { $0 != "@" })) } == ["down", "up"])
        }
    }

    @Test("a reload that removes the dependency releases the held alert at once; a restart keeps a held alert held", arguments: [false, true])
    func reloadAndRestart(shared: Bool) async throws {
        guard let store = try await NotificationsAPITests.store(shared: shared) else { return }
        let receiver = AlertReceiver()
        let root = AlertEndToEndTests.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await receiver.run { base in
            let checks = """
                  db: {name: DB, timeout: 1h}
                  app: {name: App, timeout: 1h, depends_on: [db]}
                  job: {name: Job, timeout: 1h, depends_on: [db]}
                """
            let yaml = Self.yaml(base, checks: checks)
            let downAt = t0 + minute
            try await RunningRuntime.run(root: root, yaml: yaml, clock: ManualClock(at: t0), store: store) { (server: RunningRuntime) async throws -> Void in
                for key in ["db", "app", "job"] {
                    #expect(try await server.ping(key) == .ok)
                }
                #expect(try await server.ping("db", "/fail") == .ok)
                server.clock.set(downAt)
                #expect(try await server.ping("app", "/fail") == .ok)
                #expect(try await server.ping("job", "/fail") == .ok)
                #expect(try await Self.heldBack(server) == ["app:down", "job:down"])
            }
            // Restarted: still held, still suppressed.
            try await RunningRuntime.run(root: root, yaml: yaml, clock: ManualClock(at: downAt + minute), store: store) { (server: RunningRuntime) async throws -> Void in
                #expect(try await Self.heldBack(server) == ["app:down", "job:down"])
                #expect(try Self.view(server, "app").suppressedBy == ["default/db"])
                // The reload drops app's dependency: its alert goes, job's stays held.
                let next = Self.yaml(base, checks: checks.replacingOccurrences(of: "app: {name: App, timeout: 1h, depends_on: [db]}", with: "app: {name: App, timeout: 1h}"))
                try Data(next.utf8).write(to: URL(fileURLWithPath: root + "/checks.d/checks.yaml"))
                guard case .applied = await server.runtime.reloads.request() else {
                    Issue.record("the reload was not applied")
                    return
                }
                try await eventually("app's alert, released by the reload") { receiver.delivered(to: "/hook/app").count == 1 }
                #expect(try await Self.heldBack(server) == ["job:down"])
                #expect(try Self.view(server, "app").suppressedBy == [])
            }
            #expect(receiver.delivered(to: "/hook/app") == ["down@\(Self.iso(downAt))"])
            #expect(receiver.delivered(to: "/hook/job").isEmpty)
        }
    }
}
