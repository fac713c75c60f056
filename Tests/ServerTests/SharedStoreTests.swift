import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Monitoring
import PostgresStore
import Synchronization
import Testing
import TestSupport

@testable import Runtime
@testable import Server

private let s: Int64 = 1_000_000
/// 2026-11-27T15:00:30.5Z.
private let t0: Int64 = 1_795_791_600 * s + 30 * s + 500_000

/// Several instances on one PostgreSQL (SPEC §11), in process: two real runtimes and
/// applications of `serve` on one database of the tests' private cluster, each on its own
/// manual clock, with all their services running (deadlines, delivery, the listener of the
/// other's changes). What must hold whatever the interleaving: one UUID per check everywhere,
/// pings numbered without gaps, a flip decided once, its alert sent once.
@Suite("Several instances on one PostgreSQL", .timeLimit(.minutes(3)))
struct SharedStoreTests {
    static func config(_ receiver: String) -> String {
        """
        projects:
          default:
            channels:
              hook:
                kind: webhook
                url: \(receiver)/hook/$SLUG
                body: '{"name": "$NAME", "status": "$STATUS", "now": "$NOW"}'
        checks:
          backup: {name: Backup, timeout: 1m, grace: 1m}
          worker: {name: Worker, timeout: 1h, grace: 1h}
        """
    }

    /// A fresh database, or nil where PostgreSQL is not installed (the test then skips; under
    /// CI=true that is a failure, raised by the cluster's start).
    static func database() async throws -> StoreChoice? {
        do {
            return .postgres(try PostgresLocation(try await SharedPostgres.database("shared")))
        } catch is SharedPostgres.Unavailable {
            return nil
        }
    }

    static func root() -> String { FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-shared-\(UUID().uuidString)").path }

    /// Instances A and B on `store`, both at `t0`, running until `body` returns.
    static func twoInstances<T: Sendable>(
        _ store: StoreChoice, receiver: String, _ body: (RunningRuntime, RunningRuntime) async throws -> T
    ) async throws -> T {
        let (rootA, rootB) = (root(), root())
        defer {
            try? FileManager.default.removeItem(atPath: rootA)
            try? FileManager.default.removeItem(atPath: rootB)
        }
        return try await RunningRuntime.run(root: rootA, yaml: config(receiver), clock: ManualClock(at: t0), store: store) { a in
            try await RunningRuntime.run(root: rootB, yaml: config(receiver), clock: ManualClock(at: t0), store: store) { b in
                try await body(a, b)
            }
        }
    }

    @Test("both instances serve each check under one UUID; a ping through either is stored once, numbered in order, and the other sees it")
    func pingsThroughEither() async throws {
        guard let store = try await Self.database() else { return }
        try await AlertReceiver().run { receiver in
            try await Self.twoInstances(store, receiver: receiver) { a, b in
                let uuid = try a.uuid("backup")
                #expect(try b.uuid("backup") == uuid, "the second instance adopted the first one's UUID")
                #expect(try await a.ping("backup", "/start") == .ok)
                #expect(try await b.ping("backup") == .ok)
                #expect(try await a.ping("backup", "/log") == .ok)
                let pings = try await b.runtime.store.pings(of: uuid, limit: 10)
                #expect(pings.map(\.n) == [3, 2, 1])
                #expect(pings.map(\.kind) == [.log, .success, .start])
                #expect(pings[1].duration != nil, "the success through B closed the run A's start opened (one state, in the database)")
                // A's cache learns B's ping from the notification.
                try await eventually("A sees the 3 pings") { a.runtime.states.state(of: uuid).nPings == 3 }
                #expect(a.runtime.states.state(of: uuid).status == .up)
                #expect(b.runtime.states.state(of: uuid).status == .up)
                // /metrics counts the batches of each instance; the file store's journal series
                // are not there.
                let metrics = try await Self.metrics(a)
                #expect(metrics.contains("kiothc_store_records_total 2\n"), "A stored 2 of the 3 pings")
                #expect(metrics.contains("kiothc_store_failed_batches_total 0\n"))
                #expect(!metrics.contains("kiothc_store_journal_syncs_total"))
            }
        }
    }

    /// `GET /metrics` with the admin token, its text.
    static func metrics(_ instance: RunningRuntime) async throws -> String {
        let application = Application(responder: instance.app.application.responder(scheme: "http"))
        return try await application.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer admin-token-for-tests-0123456789"]) {
                String(buffer: $0.body)
            }
        }
    }

    @Test("a deadline flips once however many instances watch it, and its alert goes out once")
    func deadlineOnce() async throws {
        guard let store = try await Self.database() else { return }
        let alerts = AlertReceiver()
        try await alerts.run { receiver in
            try await Self.twoInstances(store, receiver: receiver) { a, b in
                let uuid = try a.uuid("backup")
                #expect(try await b.ping("backup") == .ok)
                try await eventually("A sees the ping") { a.runtime.states.state(of: uuid).status == .up }
                // Past timeout and grace on both clocks at once: both engines find it due.
                let late = t0 + 2 * 60 * s + s
                a.clock.set(late)
                b.clock.set(late)
                try await eventually("both instances see the check down") {
                    a.runtime.states.state(of: uuid).status == .down && b.runtime.states.state(of: uuid).status == .down
                }
                let flips = try await a.runtime.store.flips(of: uuid, limit: 10).map(\.flip)
                #expect(flips.map(\.new) == [.down, .up], "one down flip, not one per instance")
                try await eventually("the down alert was delivered") { alerts.delivered(to: "/hook/backup").count == 1 }
                // Both dispatchers have looked at the queue since (they poll it): still one.
                a.clock.set(late + 10 * s)
                b.clock.set(late + 10 * s)
                let shared = try #require(a.runtime.store as? PostgresStore)
                try await eventually("nothing is pending") { try await shared.alertQueue.pendingCount() == 0 }
                #expect(alerts.delivered(to: "/hook/backup").map { $0.hasPrefix("down@") } == [true])
            }
        }
    }

    @Test("fail and success pings of one check through two instances at once lose no flip")
    func concurrentFlips() async throws {
        guard let store = try await Self.database() else { return }
        try await AlertReceiver().run { receiver in
            try await Self.twoInstances(store, receiver: receiver) { a, b in
                let uuid = try a.uuid("backup")
                let count = 120
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for i in 0..<count {
                        let instance = i % 2 == 0 ? a : b
                        let suffix = i % 3 == 0 ? "/fail" : ""
                        group.addTask { try await instance.ping("backup", suffix) }
                    }
                    var statuses: [HTTPResponse.Status] = []
                    for try await status in group { statuses.append(status) }
                    return statuses
                }
                #expect(statuses.allSatisfy { $0 == .ok })
                let pings = try await a.runtime.store.pings(of: uuid, limit: 1_000).reversed()
                #expect(pings.map(\.n) == Array(1...count), "numbers are gapless and unique")
                // The flips the pings imply, in number order, are the flips stored.
                var status = CheckState.Status.new
                var implied: [String] = []
                for ping in pings {
                    let next: CheckState.Status = ping.kind == .fail ? .down : .up
                    if next != status { implied.append("\(status.rawValue)>\(next.rawValue)") }
                    status = next
                }
                let stored = try await a.runtime.store.flips(of: uuid, limit: 1_000).reversed().map { "\($0.flip.old.rawValue)>\($0.flip.new.rawValue)" }
                #expect(stored == implied)
                try await eventually("both caches end on the stored status") {
                    a.runtime.states.state(of: uuid).status == status && b.runtime.states.state(of: uuid).status == status
                }
            }
        }
    }

    @Test("a rolling config change: the instance still on the old config keeps storing a dropped check's pings (retired once, alerting no more) and answers 503 for an added one until it loads it")
    func rollingChange() async throws {
        guard let store = try await Self.database() else { return }
        let alerts = AlertReceiver()
        try await alerts.run { receiver in
            try await Self.twoInstances(store, receiver: receiver) { a, b in
                let worker = try a.uuid("worker")
                #expect(try await b.ping("worker") == .ok)
                // A is deployed first: its config drops `worker` and adds `extra`.
                let next = Self.config(receiver).replacingOccurrences(
                    of: "  worker: {name: Worker, timeout: 1h, grace: 1h}", with: "  extra: {name: Extra, timeout: 1h, grace: 1h}")
                try Data(next.utf8).write(to: URL(fileURLWithPath: a.root + "/checks.d/checks.yaml"))
                guard case .applied = await a.runtime.reloads.request() else {
                    Issue.record("A did not apply the config that drops worker")
                    return
                }
                // B does not serve `extra` yet: its pings get 503 there (try again: a balancer
                // retries them on A), not 404; an unknown UUID is still 404.
                let extra = try a.uuid("extra")
                #expect(try await a.ping(uuid: extra) == .ok)
                try await eventually("B learns that extra is live in the database") { b.runtime.liveChecks.contains(extra) }
                #expect(try await b.ping(uuid: extra) == .serviceUnavailable)
                #expect(try await b.ping(uuid: UUID()) == .notFound)
                #expect(a.runtime.catalog.snapshot.check(worker) == nil)
                #expect(try await a.ping(uuid: worker) == .notFound, "A no longer serves the dropped check")
                // B, still on the old config, takes its pings: none is lost in the rollout.
                #expect(try await b.ping("worker", "/fail") == .ok)
                #expect(try await b.ping("worker") == .ok)
                let pings = try await b.runtime.store.pings(of: worker, limit: 10)
                #expect(pings.map(\.n) == [3, 2, 1])
                // Its flips are stored, but a check dropped from the configuration alerts no more.
                #expect(try await b.runtime.store.flips(of: worker, limit: 10).map(\.flip.new) == [.up, .down, .up])
                let shared = try #require(a.runtime.store as? PostgresStore)
                #expect(try await shared.alertQueue.pendingCount() == 0, "no alert was queued for the retired check")
                #expect(try await shared.loadRegistry().isRetired(worker), "retired at the first apply of the config that drops it")
                #expect(alerts.requests(to: "/hook/worker").isEmpty)
                // B is deployed: it serves `extra` under the same UUID, and `worker` is gone.
                try Data(next.utf8).write(to: URL(fileURLWithPath: b.root + "/checks.d/checks.yaml"))
                guard case .applied = await b.runtime.reloads.request() else {
                    Issue.record("B did not apply the new config")
                    return
                }
                #expect(try b.uuid("extra") == extra)
                #expect(try await b.ping(uuid: extra) == .ok)
                #expect(try await b.ping(uuid: worker) == .notFound, "a check every instance dropped answers 404, not 503")
                #expect(try await b.runtime.store.pings(of: extra, limit: 10).map(\.n) == [2, 1])
            }
        }
    }

    @Test("PostgreSQL stopped and started under load: pings get 503 while it is away, never a 200 that was not stored, and service resumes by itself")
    func databaseRestart() async throws {
        // A cluster of its own: the restart would disturb the other tests' database.
        guard let cluster = try await onOwnThread({ try PostgresCluster.start() }) else { return }
        defer { try? cluster.stop() }
        let store = StoreChoice.postgres(try PostgresLocation(cluster.url))
        let root = Self.root()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await AlertReceiver().run { receiver in
            try await RunningRuntime.run(root: root, yaml: Self.config(receiver), clock: ManualClock(at: t0), store: store) { a in
                let uuid = try a.uuid("worker")
                let tally = PingTally()
                let pingers = (0..<4).map { _ in
                    Task {
                        while !Task.isCancelled { tally.count(try await a.ping("worker")) }
                    }
                }
                try await eventually("pings are stored before the database stops") { tally.counts.acknowledged >= 50 }
                // Away for longer than a batch waits for it (5 s): the waiting pings get 503.
                try await onOwnThread { try cluster.stopServer() }
                try await eventually("pings are refused while the database is away") { tally.counts.refused >= 4 }
                try await onOwnThread { try cluster.restart() }
                let before = tally.counts.acknowledged
                try await eventually("pings are stored again after the restart, without a restart of the server", timeout: .seconds(60)) {
                    tally.counts.acknowledged >= before + 50
                }
                for pinger in pingers { pinger.cancel() }
                for pinger in pingers { _ = await pinger.result }
                let (acknowledged, refused, other) = tally.counts
                let stored = try await a.runtime.store.pings(of: uuid, limit: 100_000).count
                #expect(other == 0, "only 200 and 503")
                #expect(refused > 0, "pings while the database was away were refused, not acknowledged")
                #expect(stored >= acknowledged, "every acknowledged ping is stored: \(stored) stored, \(acknowledged) acknowledged")
                #expect(stored <= acknowledged + refused, "nothing is stored that was not sent")
            }
        }
    }
}

/// Answers to pings, counted from several tasks.
final class PingTally: Sendable {
    private let state = Mutex((acknowledged: 0, refused: 0, other: 0))

    func count(_ status: HTTPResponse.Status) {
        state.withLock { tally in
            switch status {
            case .ok: tally.acknowledged += 1
            case .serviceUnavailable: tally.refused += 1
            default: tally.other += 1
            }
        }
    }

    var counts: (acknowledged: Int, refused: Int, other: Int) { state.withLock { $0 } }
}
