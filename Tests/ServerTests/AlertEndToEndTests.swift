import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Monitoring
import ServiceLifecycle
import Synchronization
import Testing

@testable import Runtime
@testable import Server

/// A real HTTP receiver for alerts on 127.0.0.1: it records every request and answers 500 to the
/// first `failFirst` requests of each path it accepts, 200 after; 503 to every request of a path
/// in `refusing` (the receiver is "down" for it, which counts no request). `beforeAnswer` runs
/// inside a request, before its answer leaves (a test's crash point).
final class AlertReceiver: Sendable {
    struct Received: Sendable {
        let path: String
        /// The alert's JSON body, its string values.
        let body: [String: String]
        /// What the receiver answered.
        let answered: Int

        var status: String { body["status"] ?? "" }
        var now: String { body["now"] ?? "" }
    }

    let failFirst: Int
    let refusing = Mutex<Set<String>>([])
    let beforeAnswer = Mutex<(@Sendable (_ path: String) -> Void)?>(nil)
    private let log = Mutex<[Received]>([])

    init(failFirst: Int = 0) {
        self.failFirst = failFirst
    }

    /// Runs `body` with the receiver listening at `base`; it stops when `body` returns.
    func run<T: Sendable>(_ body: @Sendable (_ base: String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/**") { request, _ in try await self.record(request) }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            guard let port = client.port else { throw CancellationError() }
            return try await body("http://127.0.0.1:\(port)")
        }
    }

    private func record(_ request: Request) async throws -> Response {
        let bytes = try await request.body.collect(upTo: 1 << 20)
        let path = request.uri.path
        let object = (try? JSONSerialization.jsonObject(with: Data(String(buffer: bytes).utf8))) as? [String: Any] ?? [:]
        let body = object.compactMapValues { $0 as? String }
        beforeAnswer.withLock { $0 }?(path)
        let refused = refusing.withLock { $0.contains(path) }
        let status = log.withLock { log -> HTTPResponse.Status in
            let accepted = log.filter { $0.path == path && $0.answered != 503 }.count
            let status: HTTPResponse.Status = refused ? .serviceUnavailable : accepted < failFirst ? .internalServerError : .ok
            log.append(Received(path: path, body: body, answered: status.code))
            return status
        }
        return Response(status: status)
    }

    /// Every request to `path` so far, oldest first.
    func requests(to path: String) -> [Received] { log.withLock { $0 }.filter { $0.path == path } }

    /// Alerts accepted (answered 200) on `path`, as `status@now`.
    func delivered(to path: String) -> [String] {
        requests(to: path).filter { $0.answered == 200 }.map { "\($0.status)@\($0.now)" }
    }
}

/// `kiothc serve` without its listeners: the real runtime and application (`TestApplication`,
/// so `Runtime.open` and `buildApplication`) on a manual clock, with every service of the
/// runtime running in a service group as `serve` runs them (the store, alert delivery,
/// deadlines, reloads). Pings go through the application's routes; moving the clock is all it
/// takes for deadlines to pass and retries to come due.
final class RunningRuntime: Sendable {
    let root: String
    let clock: ManualClock
    let app: TestApplication

    private init(root: String, yaml: String, clock: ManualClock, store: StoreChoice) async throws {
        self.root = root
        self.clock = clock
        app = try await TestApplication(root: root, yaml: yaml, clock: clock.clock, store: store)
    }

    /// The runtime on `root`, waiting (up to 5 s) while the data directory's lock is still held
    /// by this process. The previous runtime released it, but a child process another test
    /// spawned at that moment (Foundation's Process: fork, close descriptors, exec) holds a
    /// copy of the descriptor, and so the lock, until its exec closes it: seen once in a full
    /// run, where the PostgreSQL tests spawn psql and scripts/pg-cluster.
    private static func opening(root: String, yaml: String, clock: ManualClock, store: StoreChoice) async throws -> RunningRuntime {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            do {
                return try await RunningRuntime(root: root, yaml: yaml, clock: clock, store: store)
            } catch let error as StartFailure where error.message.contains("pid \(getpid())") && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Opens the runtime on `root` (its config written from `yaml`), runs its services during
    /// `body`, then stops gracefully, as SIGTERM does, also when `body` throws: the services stop
    /// (pending alerts stay in the outbox), the store is flushed and closed, the data
    /// directory's lock released for the next runtime.
    static func run<T: Sendable>(
        root: String, yaml: String, clock: ManualClock, store: StoreChoice = .files, _ body: (RunningRuntime) async throws -> T
    ) async throws -> T {
        let server = try await opening(root: root, yaml: yaml, clock: clock, store: store)
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let services = server.runtime.services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(server))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            server.runtime.lock?.release()
            return try result.get()
        }
    }

    var runtime: Runtime { app.runtime }
    var data: URL { URL(fileURLWithPath: root + "/data") }

    func uuid(_ key: String) throws -> UUID { try #require(app.uuid("default/\(key)")) }

    /// A GET of `/ping/<uuid><suffix>` through the application's routes; its status.
    func ping(_ key: String, _ suffix: String = "") async throws -> HTTPResponse.Status {
        try await ping(uuid: try uuid(key), suffix)
    }

    /// A GET of `/ping/<uuid><suffix>`, for a UUID this runtime may not serve.
    func ping(uuid: UUID, _ suffix: String = "") async throws -> HTTPResponse.Status {
        let path = "/ping/\(uuid.uuidString.lowercased())\(suffix)"
        let application = Application(responder: app.application.responder(scheme: "http"))
        return try await application.test(.router) { client in
            try await client.execute(uri: path, method: .get) { $0.status }
        }
    }

    func status(_ key: String) throws -> CheckState.Status { runtime.states.state(of: try uuid(key)).status }

    func flips(_ key: String) async throws -> [Flip] { try await runtime.store.flips(of: uuid(key), limit: 100).map(\.flip).reversed() }

    /// The data directory as a kill -9 now would leave it (every write has reached the OS;
    /// nothing was closed or flushed), copied under `root` for another runtime to start from.
    func crashCopy(to root: String) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: self.root + "/data", toPath: root + "/data")
    }

    /// The outbox's lines, in file order.
    func outbox() throws -> [[String: Any]] {
        let text = try String(contentsOf: data.appendingPathComponent("alerts/outbox.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Moves the clock to the earliest retry of an alert whose last attempt failed, when that is
    /// ahead of it: the outbox's backoff (10 s, 20 s, ...) passes at once.
    func advanceToNextRetry() throws {
        var last: [String: [String: Any]] = [:]
        var finished: Set<String> = []
        for line in try outbox() {
            guard let id = line["id"] as? String else { continue }
            switch line["type"] as? String {
            case "attempt": last[id] = line
            case "gave_up", "withdrawn": finished.insert(id)
            default: break
            }
        }
        let retries = last.filter { !finished.contains($0.key) && $0.value["outcome"] as? String == "failed" }
        if let next = retries.compactMap({ ($0.value["next_attempt_us"] as? Int).map(Int64.init) }).min(), next > clock.now {
            clock.set(next)
        }
    }

    /// Polls until `condition` holds, moving the clock to each alert retry as it comes due;
    /// fails the test after `timeout` of real time.
    func deliver(_ what: String, timeout: Duration = .seconds(30), until condition: () throws -> Bool) async throws {
        try await eventually(what, timeout: timeout) {
            if try condition() { return true }
            try advanceToNextRetry()
            return false
        }
    }
}

/// Runs a crash (a copy of a data directory) once, from wherever the test's crash point is.
final class CrashPoint: Sendable {
    private let result = Mutex<Result<Void, any Error>?>(nil)

    func once(_ crash: () throws -> Void) {
        result.withLock { result in
            guard result == nil else { return }
            result = Result { try crash() }
        }
    }

    /// Nil until it ran.
    var outcome: Result<Void, any Error>? { result.withLock { $0 } }
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting until \(what)" }
}

/// Polls `condition` every 20 ms until it holds; throws after `timeout` of real time.
func eventually(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    if try await condition() { return }
    throw TimedOut(what: what)
}

private let s: Int64 = 1_000_000
private let minute: Int64 = 60 * s
/// 2026-11-27T15:00:30.5Z: half a minute and a half second after a whole ten minutes.
private let t0: Int64 = 1_795_791_600 * s + 30 * s + 500_000

/// End to end, in process: the real runtime and application of `serve` on a manual clock,
/// checks that miss their pings (timeout, cron, OnCalendar), and alerts to a real HTTP receiver
/// on loopback. The deadline service, the outbox and delivery are the production code paths;
/// the clock is moved to each deadline and each retry, so nothing waits for real time to pass.
/// Restarts stop a runtime and open another on the same data directory; a crash copies the
/// data directory of a runtime still running and opens the copy.
///
/// Exactly once is checked from the files after a runtime stopped, not from timings: every
/// notifiable flip has one alert in the outbox, every alert the receiver accepted is one of
/// them and was accepted once, and an alert not accepted yet is still pending.
@Suite("Alerts end to end", .timeLimit(.minutes(2)))
struct AlertEndToEndTests {
    static func config(_ receiver: String, checks: String) -> String {
        """
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
    }

    static func data(_ root: String) -> URL { URL(fileURLWithPath: root + "/data") }

    static func temporaryRoot() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-alerts-\(UUID().uuidString)").path
    }

    static func flips(_ data: URL, _ uuid: UUID) -> [[String: Any]] {
        let url = data.appendingPathComponent("flips/\(uuid.uuidString.lowercased()).jsonl")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func outbox(_ data: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: data.appendingPathComponent("alerts/outbox.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// `$NOW` of a flip: ISO 8601 UTC, whole seconds.
    static func iso(_ microseconds: Int64) -> String { UTCTime.secondsZ(microseconds) }

    /// Exactly once, for one check, from the data directory of a stopped runtime and the
    /// receiver's log: one outbox alert per notifiable flip (`new→up` and `paused→up` are not),
    /// each resolved (no alert left held, none withdrawn), each accepted by the receiver at most
    /// once; those not accepted are the newest ones, still pending.
    static func expectEachFlipAlertedOnce(data: URL, uuid: UUID, path: String, receiver: AlertReceiver) throws {
        let check = uuid.uuidString.lowercased()
        let flips = Self.flips(data, uuid)
        let notifiable = flips.compactMap { flip -> String? in
            guard let old = flip["old"] as? String, let new = flip["new"] as? String, let time = flip["time_us"] as? Int else { return nil }
            guard new == "down" || (new == "up" && old != "new" && old != "paused") else { return nil }
            return "\(new)@\(iso(Int64(time)))"
        }
        let lines = try outbox(data)
        let alerts = lines.filter { $0["type"] as? String == "alert" && $0["check"] as? String == check }
        let queued = alerts.compactMap { alert -> String? in
            guard let direction = alert["direction"] as? String, let time = alert["flip_time_us"] as? Int else { return nil }
            return "\(direction)@\(iso(Int64(time)))"
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

    @Test(
        "checks that miss their pings (timeout, cron, OnCalendar) go down at their deadline; the receiver, failing twice, gets one down alert each; a success gets one up alert"
    )
    func downThenUp() async throws {
        let receiver = AlertReceiver(failFirst: 2)
        let root = Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Pinged at 15:00:30.5; down at the next expected ping plus the 1m grace, in this order.
        let checks: [(key: String, slug: String, name: String, down: Int64)] = [
            ("minutely", "every-minute", "Every Minute", t0 - 30 * s - 500_000 + 2 * minute),
            ("beat", "heart-beat", "Heart Beat", t0 + 6 * minute),
            ("calendar", "on-calendar", "On Calendar", t0 - 30 * s - 500_000 + 11 * minute),
        ]
        try await receiver.run { base in
            let yaml = Self.config(
                base,
                checks: """
                      beat: {name: Heart Beat, timeout: 5m, grace: 1m}
                      minutely: {name: Every Minute, schedule: "* * * * *", grace: 1m}
                      calendar: {name: On Calendar, schedule: "*:0/10", grace: 1m}
                    """)
            let uuids = try await RunningRuntime.run(root: root, yaml: yaml, clock: ManualClock(at: t0)) { server in
                for check in checks {
                    #expect(try await server.ping(check.key) == .ok)
                    #expect(try server.status(check.key) == .up)
                }
                for (index, check) in checks.enumerated() {
                    server.clock.set(check.down)
                    // The state goes down first, then the flip is stored: wait for the store.
                    try await eventually("the down flip of \(check.key) was stored") { try await server.flips(check.key).count == 2 }
                    #expect(try server.status(check.key) == .down)
                    let down = try #require(try await server.flips(check.key).last)
                    #expect(down == Flip(time: check.down, old: .up, new: .down, reason: .timeout), "\(check.key) down at its deadline")
                    for later in checks[(index + 1)...] {
                        #expect(try server.status(later.key) == .up, "\(later.key) is not due yet")
                    }
                    let path = "/hook/\(check.slug)"
                    try await server.deliver("the down alert of \(check.key) was delivered") { !receiver.delivered(to: path).isEmpty }
                    let requests = receiver.requests(to: path)
                    #expect(requests.map(\.answered) == [500, 500, 200], "\(check.key): failed twice, then delivered")
                    #expect(requests.allSatisfy { $0.body == requests[0].body }, "\(check.key): the same alert three times")
                    #expect(requests.first?.status == "down")
                    #expect(requests.first?.now == Self.iso(check.down))
                    #expect(requests.first?.body["name"] == check.name)
                    #expect(requests.first?.body["code"] == (try server.uuid(check.key)).uuidString.lowercased())
                }

                // Up again: one up alert each.
                for check in checks {
                    #expect(try await server.ping(check.key) == .ok)
                }
                let upAt = Self.iso(server.clock.now)
                for check in checks {
                    let path = "/hook/\(check.slug)"
                    try await server.deliver("the up alert of \(check.key) was delivered") { receiver.delivered(to: path).count == 2 }
                    #expect(receiver.delivered(to: path) == ["down@\(Self.iso(check.down))", "up@\(upAt)"])
                }
                return try checks.map { try server.uuid($0.key) }
            }
            for (check, uuid) in zip(checks, uuids) {
                try Self.expectEachFlipAlertedOnce(data: Self.data(root), uuid: uuid, path: "/hook/\(check.slug)", receiver: receiver)
            }
        }
    }

    @Test(
        "across restarts: checks that went down while stopped flip at the start, timestamped at their deadline, and alert; an alert pending at a stop is delivered once after the next start"
    )
    func acrossRestarts() async throws {
        let receiver = AlertReceiver(failFirst: 2)
        let root = Self.temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let checks: [(key: String, slug: String, down: Int64)] = [
            ("beat", "heart-beat", t0 + 10 * minute),
            ("ten", "every-ten", t0 - 30 * s - 500_000 + 11 * minute),
            ("calendar", "on-calendar", t0 - 30 * s - 500_000 + 11 * minute),
        ]
        let paths = Set(checks.map { "/hook/\($0.slug)" })
        try await receiver.run { base in
            let yaml = Self.config(
                base,
                checks: """
                      beat: {name: Heart Beat, timeout: 9m, grace: 1m}
                      ten: {name: Every Ten, schedule: "*/10 * * * *", grace: 1m}
                      calendar: {name: On Calendar, schedule: "*:0/10", grace: 1m}
                    """)
            let data = Self.data(root)

            let uuids = try await RunningRuntime.run(root: root, yaml: yaml, clock: ManualClock(at: t0)) { first in
                for check in checks {
                    #expect(try await first.ping(check.key) == .ok)
                }
                first.clock.set(t0 + 5 * minute)
                return try checks.map { try first.uuid($0.key) }
            }
            for uuid in uuids {
                #expect(Self.flips(data, uuid).count == 1, "still up at the stop")
            }

            // Started again an hour later, past every deadline, while the receiver is down.
            receiver.refusing.withLock { $0 = paths }
            try await RunningRuntime.run(root: root, yaml: yaml, clock: ManualClock(at: t0 + 60 * minute)) { second in
                try await eventually("every check flipped down and its alert was tried") {
                    try uuids.allSatisfy { Self.flips(data, $0).count == 2 }
                        && paths.allSatisfy { !receiver.requests(to: $0).isEmpty }
                        && second.outbox().filter { $0["type"] as? String == "attempt" }.count == checks.count
                }
                for check in checks {
                    let down = try #require(try await second.flips(check.key).last)
                    #expect(
                        down == Flip(time: check.down, old: .up, new: .down, reason: .timeout),
                        "\(check.key) flipped at the start, timestamped at its deadline")
                }
            }

            // The receiver answers again, failing twice per check first; a third runtime delivers.
            receiver.refusing.withLock { $0 = [] }
            try await RunningRuntime.run(root: root, yaml: yaml, clock: ManualClock(at: t0 + 61 * minute)) { third in
                for check in checks {
                    let path = "/hook/\(check.slug)"
                    try await third.deliver("the pending alert of \(check.key) was delivered") { !receiver.delivered(to: path).isEmpty }
                    #expect(receiver.requests(to: path).map(\.answered) == [503, 500, 500, 200])
                    #expect(receiver.delivered(to: path) == ["down@\(Self.iso(check.down))"])
                    #expect(try await third.flips(check.key).count == 2, "no second down flip after the restart")
                }
                for check in checks {
                    #expect(try await third.ping(check.key) == .ok)
                }
                let upAt = Self.iso(third.clock.now)
                for check in checks {
                    let path = "/hook/\(check.slug)"
                    try await third.deliver("the up alert of \(check.key) was delivered") { receiver.delivered(to: path).count == 2 }
                    #expect(receiver.delivered(to: path) == ["down@\(Self.iso(check.down))", "up@\(upAt)"])
                }
            }
            for (check, uuid) in zip(checks, uuids) {
                try Self.expectEachFlipAlertedOnce(data: data, uuid: uuid, path: "/hook/\(check.slug)", receiver: receiver)
            }
        }
    }

    @Test(
        "kill -9 around deadline flips: an alert accepted but not yet recorded is sent again (once), a failed one once, a check that went down while dead flips at the start and alerts"
    )
    func acrossACrash() async throws {
        let receiver = AlertReceiver()
        let root = Self.temporaryRoot()
        let crashed = Self.temporaryRoot()
        defer {
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: crashed)
        }
        let down: [String: Int64] = ["pending": t0 + 2 * minute, "sent": t0 + 3 * minute, "late": t0 + 6 * minute]
        let keys = ["pending", "sent", "late"]
        try await receiver.run { base in
            let yaml = Self.config(
                base,
                checks: """
                      pending: {name: Pending, timeout: 1m, grace: 1m}
                      sent: {name: Sent, timeout: 2m, grace: 1m}
                      late: {name: Late, timeout: 5m, grace: 1m}
                    """)

            let crash = CrashPoint()
            try await RunningRuntime.run(root: root, yaml: yaml, clock: ManualClock(at: t0)) { first in
                for key in keys {
                    #expect(try await first.ping(key) == .ok)
                }
                // `pending` goes down; the receiver is down for it.
                receiver.refusing.withLock { $0 = ["/hook/pending"] }
                first.clock.set(t0 + 2 * minute)
                try await eventually("the down alert of pending failed once, in the outbox") {
                    try first.outbox().contains { $0["type"] as? String == "attempt" && $0["outcome"] as? String == "failed" }
                }
                // `sent` goes down; the process dies while the receiver takes its alert, before
                // the answer reaches the outbox.
                receiver.beforeAnswer.withLock {
                    $0 = { path in
                        if path == "/hook/sent" { crash.once { try first.crashCopy(to: crashed) } }
                    }
                }
                first.clock.set(t0 + 3 * minute)
                try await eventually("the down alert of sent was accepted") { receiver.delivered(to: "/hook/sent").count == 1 }
                receiver.beforeAnswer.withLock { $0 = nil }
            }
            try #require(crash.outcome).get()

            // Half an hour later, on the crashed copy, with the receiver up for every check.
            receiver.refusing.withLock { $0 = [] }
            let uuids = try await RunningRuntime.run(root: crashed, yaml: yaml, clock: ManualClock(at: t0 + 30 * minute)) { second in
                for key in keys {
                    #expect(try await second.runtime.store.pings(of: second.uuid(key), limit: 10).count == 1, "the acknowledged ping of \(key) survived")
                }
                try await second.deliver("every down alert was delivered") {
                    keys.allSatisfy { !receiver.delivered(to: "/hook/\($0)").isEmpty } && receiver.delivered(to: "/hook/sent").count == 2
                }
                for key in keys {
                    let flips = try await second.flips(key)
                    #expect(flips.count == 2, "\(key): one down flip, none again after the restart")
                    #expect(flips.last == Flip(time: down[key]!, old: .up, new: .down, reason: .timeout), "\(key) down at its deadline")
                }
                #expect(receiver.delivered(to: "/hook/pending") == ["down@\(Self.iso(down["pending"]!))"], "failed before the crash, delivered once after")
                #expect(
                    receiver.delivered(to: "/hook/sent") == Array(repeating: "down@\(Self.iso(down["sent"]!))", count: 2),
                    "in flight at the crash: sent again, once")
                #expect(receiver.delivered(to: "/hook/late") == ["down@\(Self.iso(down["late"]!))"], "down while dead: flipped at the start, alerted once")

                for key in keys {
                    #expect(try await second.ping(key) == .ok)
                }
                let upAt = Self.iso(second.clock.now)
                try await second.deliver("every up alert was delivered") {
                    keys.allSatisfy { receiver.delivered(to: "/hook/\($0)").last == "up@\(upAt)" }
                }
                return try keys.map { try second.uuid($0) }
            }
            let data = Self.data(crashed)
            for (key, uuid) in zip(keys, uuids) where key != "sent" {
                try Self.expectEachFlipAlertedOnce(data: data, uuid: uuid, path: "/hook/\(key)", receiver: receiver)
            }
            let sent = uuids[1].uuidString.lowercased()
            let sentAlerts = try Self.outbox(data).filter { $0["type"] as? String == "alert" && $0["check"] as? String == sent }
            #expect(sentAlerts.compactMap { $0["direction"] as? String } == ["down", "up"], "one alert per flip in the outbox")
        }
    }
}
