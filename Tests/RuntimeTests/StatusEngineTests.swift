import Alerting
import CheckCatalog
import Foundation
import Logging
import Monitoring
import PingStore
import Synchronization
import Testing
import TestSupport

@testable import Runtime

private let s: Int64 = 1_000_000
private let t0: Int64 = 1_790_000_000 * 1_000_000

/// The status engine against a real store and outbox in a temporary directory, with a clock
/// the test sets and ticks the test calls (nothing sleeps).
final class EngineFixture: Sendable {
    static let yaml = """
        projects:
          default:
            channels:
              hook: {kind: webhook, url: "http://127.0.0.1:1/hook", on: [down, up]}
              only-up: {kind: webhook, url: "http://127.0.0.1:1/up", on: [up]}
        checks:
          backup: {name: Backup, timeout: 1m, grace: 1m, channels: [hook, only-up]}
          quiet: {name: Quiet, timeout: 1m, grace: 1m, paused: true}
          nightly: {name: Nightly, schedule: "0 3 * * *", tz: Europe/Riga, grace: 1h, channels: []}
        """

    let root: String
    let catalog: CurrentCatalog
    let uuids: [String: UUID]
    let clock = ManualClock(at: t0)
    let faults = FaultInjector()
    let store: PingStore
    let states: CheckStates
    let outbox: Outbox
    let engine: StatusEngine
    let recorder: PingRecorder

    init(root: String? = nil) throws {
        let root = root ?? FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-engine-\(UUID().uuidString)").path
        self.root = root
        let config = root + "/checks.d"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try Data(Self.yaml.utf8).write(to: URL(fileURLWithPath: config + "/checks.yaml"))
        let result = try ConfigLoader.load(directory: config)
        #expect(result.isValid, "\(result.diagnostics.map(\.message))")
        let data = DataDirectory(root + "/data")
        let files = try FileStore.open(data, options: PingStore.Options(durability: .write, maintenanceInterval: nil, faults: faults), now: t0)
        store = files.pingStore
        outbox = files.outbox
        var registry = try Registry.load(from: data)
        let assigned = try registry.assign(result.catalog.checks.map(\.id))
        var ids: [CheckDefinition.ID: UUID] = [:]
        var byKey: [String: UUID] = [:]
        for (identity, uuid) in assigned {
            ids[identity] = uuid
            byKey[identity.key] = uuid
        }
        uuids = byKey
        catalog = CurrentCatalog(ServingCatalog(catalog: result.catalog, uuids: ids, pingKeys: ["default": "k"]))
        states = CheckStates(try store.loadStates())
        let dispatcher = AlertDispatcher(
            queue: outbox, courier: Courier(environment: [:]), channel: { _, _ in nil }, logger: Logger(label: "test"))
        let clock = clock
        engine = StatusEngine(
            states: states, catalog: catalog, store: files, dispatcher: dispatcher, logger: Logger(label: "test"), clock: { clock.now })
        recorder = PingRecorder(
            states: states, store: files, catalog: catalog, deadlines: engine,
            clock: clock.clock)
    }

    func uuid(_ key: String) -> UUID { uuids[key]! }

    /// A ping through the same steps as the endpoint: state, then the engine stores it (and
    /// its flip's alerts); a refused ping is undone.
    func ping(_ key: String, _ signal: ReceivedPing.Signal = .success, at time: Int64) async throws {
        clock.set(time)
        let uuid = uuid(key)
        guard let entry = catalog.snapshot.check(uuid) else { throw CancellationError() }
        let (recording, error) = await recorder.record(ReceivedPing(signal: signal, method: "GET"), to: entry)
        _ = recorder.finish(recording, error: error, logger: Logger(label: "test"))
        if let error { throw error }
    }

    /// The data directory as a `kill -9` now would leave it (the store's writes reach the OS
    /// at once; nothing is flushed), copied to a new root for a fixture to start from.
    func crashCopy() throws -> String {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-engine-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: root, toPath: copy)
        return copy
    }

    /// Removes what the outbox learned of the store's queued alerts (their `alert` lines and
    /// the `ingested` mark), as a crash after the store acknowledged a flip and before the
    /// outbox's unsynced lines reached the disk leaves the file.
    func loseAcceptance() throws {
        let path = root + "/data/alerts/outbox.jsonl"
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let kept = lines.filter { !$0.contains(#""type":"alert""#) && !$0.contains(#""type":"ingested""#) }
        try (kept.map { $0 + "\n" }.joined()).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try outboxLines("alert").isEmpty)
    }

    /// The store's queued alerts (`alerts/queued.jsonl`), in file order.
    func queuedAlertLines() throws -> [Substring] {
        let path = root + "/data/alerts/queued.jsonl"
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    }

    /// Outbox lines of a type, in file order.
    func outboxLines(_ type: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: root + "/data/alerts/outbox.jsonl", encoding: .utf8)
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["type"] as? String == type }
    }

    @discardableResult
    func tick(at time: Int64) async -> Int64? {
        clock.set(time)
        return await engine.tick(at: time)
    }

    func flips(_ key: String) throws -> [Flip] { try store.flips(of: uuid(key), limit: 100).map(\.flip).reversed() }

    func alerts() async -> [(String, Channel.Direction)] {
        await outbox.pendingEntries.map { ($0.alert.channel, $0.alert.direction) }
    }

    func close() throws {
        try store.close()
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

@Suite("Status engine: deadlines, down flips, alerts, pause and resume")
struct StatusEngineTests {
    @Test("a missed deadline flips the check to down once, timestamped at the deadline, with one down alert")
    func missedDeadline() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        try await fixture.ping("backup", at: t0)
        #expect(await fixture.alerts().isEmpty, "new→up notifies nobody")
        #expect(await fixture.tick(at: t0 + 1 * s) == t0 + 120 * s)
        #expect(await fixture.tick(at: t0 + 120 * s - 1) == t0 + 120 * s)
        #expect(fixture.states.state(of: fixture.uuid("backup")).status == .up)
        #expect(await fixture.tick(at: t0 + 120 * s + 300_000) == nil)
        #expect(fixture.states.state(of: fixture.uuid("backup")).status == .down)
        #expect(try fixture.flips("backup").last == Flip(time: t0 + 120 * s, old: .up, new: .down, reason: .timeout))
        #expect(await fixture.tick(at: t0 + 999 * s) == nil)
        #expect(try fixture.flips("backup").count == 2)
        let alerts = await fixture.alerts()
        #expect(alerts.map(\.0) == ["hook"])
        #expect(alerts.map(\.1) == [.down])
        let values = try #require(await fixture.outbox.pendingEntries.first?.alert.values)
        #expect(values.now == UTCTime.secondsZ(t0 + 120 * s))
        #expect(values.status == "down")
        #expect(values.name == "Backup")
    }

    @Test("a success after down flips up and alerts both channels that want up")
    func backUp() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        try await fixture.ping("backup", at: t0)
        await fixture.tick(at: t0 + 200 * s)
        try await fixture.ping("backup", at: t0 + 300 * s)
        #expect(await fixture.alerts().map(\.1) == [.down, .up, .up])
        #expect(Set(await fixture.alerts().filter { $0.1 == .up }.map(\.0)) == ["hook", "only-up"])
        #expect(await fixture.tick(at: t0 + 301 * s) == t0 + 420 * s)
    }

    @Test("a ping before the deadline moves it; the old deadline flips nothing")
    func reschedule() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        try await fixture.ping("backup", at: t0)
        await fixture.tick(at: t0 + 1)
        try await fixture.ping("backup", at: t0 + 90 * s)
        #expect(await fixture.tick(at: t0 + 120 * s) == t0 + 210 * s)
        #expect(fixture.states.state(of: fixture.uuid("backup")).status == .up)
        await fixture.tick(at: t0 + 210 * s)
        #expect(fixture.states.state(of: fixture.uuid("backup")).status == .down)
        #expect(try fixture.flips("backup").last?.time == t0 + 210 * s)
    }

    @Test("a fail flips down at once and alerts; the deadline then flips nothing more")
    func fail() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        try await fixture.ping("backup", at: t0)
        try await fixture.ping("backup", .fail, at: t0 + 10 * s)
        #expect(await fixture.alerts().map(\.1) == [.down])
        #expect(await fixture.tick(at: t0 + 999 * s) == nil)
        #expect(try fixture.flips("backup").map(\.reason) == [.ping, .fail])
    }

    @Test("a check paused in config never goes down and never alerts")
    func configPaused() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        try await fixture.ping("quiet", at: t0)
        try await fixture.ping("quiet", .fail, at: t0 + 1)
        #expect(await fixture.tick(at: t0 + 9_999 * s) == nil)
        #expect(await fixture.alerts().isEmpty)
        let rules = CheckRules(try #require(fixture.catalog.snapshot.check(fixture.uuid("quiet"))).definition)
        #expect(fixture.states.state(of: fixture.uuid("quiet")).liveStatus(under: rules, at: t0 + 2).status == .paused)
    }

    @Test("a check that went down while the server was stopped flips at start, timestamped at its deadline, and alerts")
    func downWhileStopped() async throws {
        let first = try EngineFixture()
        defer { first.remove() }
        try await first.ping("backup", at: t0)
        try first.close()
        let second = try EngineFixture(root: first.root)
        #expect(second.uuid("backup") == first.uuid("backup"))
        await second.tick(at: t0 + 3_600 * s)
        #expect(try second.flips("backup").last == Flip(time: t0 + 120 * s, old: .up, new: .down, reason: .timeout))
        #expect(await second.alerts().map(\.1) == [.down])
        try second.close()
        // And after that restart the check is down: nothing flips or alerts again.
        let third = try EngineFixture(root: first.root)
        #expect(await third.tick(at: t0 + 7_200 * s) == nil)
        #expect(try third.flips("backup").count == 2)
        #expect(await third.outbox.pendingEntries.count == 1, "the undelivered alert is still pending, not duplicated")
    }

    @Test("a cron check is late at its next scheduled time in its zone and down grace later")
    func cron() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        // 2026-10-24T00:00:05Z is 03:00:05 EEST. On 2026-10-25 03:00 happens twice (04:00 EEST
        // falls back to 03:00 EET); as cronsim, the first one counts: 03:00 EEST = 00:00Z. Grace 1 h.
        let ping = Int64(1_792_800_005) * s
        try await fixture.ping("nightly", at: ping)
        #expect(await fixture.tick(at: ping + 1) == Int64(1_792_886_400) * s + 3_600 * s)
    }

    @Test("pause clears the run and stops the deadline; resume makes the check new; both survive a restart")
    func pauseResume() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let uuid = fixture.uuid("backup")
        try await fixture.ping("backup", at: t0)
        try await fixture.ping("backup", .start, at: t0 + 1 * s)
        fixture.clock.set(t0 + 2 * s)
        #expect(try await fixture.engine.pause(uuid)?.reason == .pause)
        #expect(try await fixture.engine.pause(uuid) == nil, "pausing a paused check changes nothing")
        #expect(fixture.states.state(of: uuid).run == nil)
        #expect(await fixture.tick(at: t0 + 9_999 * s) == nil)
        #expect(await fixture.alerts().isEmpty, "up→paused alerts nobody")
        try fixture.close()

        let restarted = try EngineFixture(root: fixture.root)
        #expect(restarted.states.state(of: uuid).status == .paused)
        #expect(await restarted.tick(at: t0 + 10_000 * s) == nil)
        restarted.clock.set(t0 + 10_001 * s)
        #expect(try await restarted.engine.resume(uuid).new == .new)
        await #expect(throws: StatusEngine.PauseError.self) { try await restarted.engine.resume(uuid) }
        #expect(restarted.states.state(of: uuid).lastPing == nil)
        #expect(await restarted.tick(at: t0 + 10_002 * s) == nil, "a new check has no deadline")
        try await restarted.ping("backup", at: t0 + 10_003 * s)
        #expect(await restarted.alerts().isEmpty, "new→up after resume alerts nobody")
        #expect(await restarted.tick(at: t0 + 10_004 * s) == t0 + 10_123 * s)
        try restarted.close()
        let again = try EngineFixture(root: fixture.root)
        #expect(again.states.state(of: uuid).status == .up)
    }

    @Test("a ping to a paused check un-pauses it (paused→up) without an alert")
    func pingUnpauses() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let uuid = fixture.uuid("backup")
        try await fixture.ping("backup", at: t0)
        fixture.clock.set(t0 + 1 * s)
        try await fixture.engine.pause(uuid)
        try await fixture.ping("backup", at: t0 + 2 * s)
        #expect(try fixture.flips("backup").map { "\($0.old)→\($0.new)" } == ["new→up", "up→paused", "paused→up"])
        #expect(await fixture.alerts().isEmpty)
        #expect(await fixture.tick(at: t0 + 3 * s) == t0 + 122 * s, "the deadline counts from the ping again")
    }

    @Test("a start on a paused check keeps it paused and started, arms start + grace, and survives a restart")
    func startWhilePaused() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let uuid = fixture.uuid("backup")
        try await fixture.ping("backup", at: t0)
        fixture.clock.set(t0 + 1 * s)
        try await fixture.engine.pause(uuid)
        #expect(await fixture.tick(at: t0 + 2 * s) == nil, "a paused check without a run has no deadline")
        try await fixture.ping("backup", .start, at: t0 + 10 * s)
        let rules = CheckRules(try #require(fixture.catalog.snapshot.check(uuid)).definition)
        let live = fixture.states.state(of: uuid).liveStatus(under: rules, at: t0 + 11 * s)
        #expect(live == LiveStatus(.paused, started: true))
        #expect(await fixture.tick(at: t0 + 11 * s) == t0 + 70 * s, "the run's deadline: start + grace (1m)")
        try fixture.close()
        let restarted = try EngineFixture(root: fixture.root)
        #expect(restarted.states.state(of: uuid).status == .paused && restarted.states.state(of: uuid).started)
        #expect(await restarted.tick(at: t0 + 12 * s) == t0 + 70 * s, "armed again after a restart")
        await restarted.tick(at: t0 + 70 * s)
        #expect(try restarted.flips("backup").last == Flip(time: t0 + 70 * s, old: .paused, new: .down, reason: .timeout))
        #expect(await restarted.alerts().map(\.1) == [.down])
    }

    @Test("a start then a success on a paused check flips it up without an alert")
    func startSuccessWhilePaused() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let uuid = fixture.uuid("backup")
        fixture.clock.set(t0)
        try await fixture.engine.pause(uuid)
        try await fixture.ping("backup", .start, at: t0 + 10 * s)
        try await fixture.ping("backup", at: t0 + 20 * s)
        #expect(fixture.states.state(of: uuid).status == .up && !fixture.states.state(of: uuid).started)
        #expect(try fixture.flips("backup").map { "\($0.old)→\($0.new)" } == ["new→paused", "paused→up"])
        #expect(await fixture.alerts().isEmpty)
        #expect(await fixture.tick(at: t0 + 21 * s) == t0 + 140 * s, "the deadline counts from the success")
    }

    @Test("a run that outlives grace goes down at start + grace and alerts, though the timeout is not over")
    func runOutlivesGrace() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let uuid = fixture.uuid("backup")
        try await fixture.ping("backup", at: t0)
        try await fixture.ping("backup", .start, at: t0 + 30 * s)
        // Timeout 1m, grace 1m: the ping's deadline is t0 + 120 s, the run's t0 + 90 s.
        #expect(await fixture.tick(at: t0 + 31 * s) == t0 + 90 * s)
        await fixture.tick(at: t0 + 90 * s)
        #expect(fixture.states.state(of: uuid).status == .down)
        #expect(try fixture.flips("backup").last == Flip(time: t0 + 90 * s, old: .up, new: .down, reason: .timeout))
        #expect(await fixture.alerts().map(\.1) == [.down])
    }

    @Test("the first run of a new check that outlives grace goes down (new→down) and alerts")
    func newRunOutlivesGrace() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        try await fixture.ping("backup", .start, at: t0)
        #expect(await fixture.tick(at: t0 + 1) == t0 + 60 * s)
        await fixture.tick(at: t0 + 60 * s)
        #expect(try fixture.flips("backup") == [Flip(time: t0 + 60 * s, old: .new, new: .down, reason: .timeout)])
        #expect(await fixture.alerts().map(\.1) == [.down])
    }

    @Test("manual_resume: a paused check ignores pings until resumed")
    func manualResume() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let uuid = fixture.uuid("backup")
        try await fixture.ping("backup", at: t0)
        fixture.clock.set(t0 + 1)
        try await fixture.engine.pause(uuid)
        let (outcome, _) = fixture.states.apply(ReceivedPing(signal: .success, method: "GET"), to: uuid, at: t0 + 2, postOnly: false, manualResume: true)
        #expect(outcome.ping.kind == .ign)
        #expect(outcome.state.status == .paused)
    }

    @Test("a down flip the store refuses is undone and retried 5 s later")
    func storeFailure() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let uuid = fixture.uuid("backup")
        try await fixture.ping("backup", at: t0)
        await fixture.tick(at: t0 + 1)
        fixture.faults.fail(.journalWrite, with: ENOSPC)
        fixture.faults.fail(.fileWrite, with: ENOSPC)
        #expect(await fixture.tick(at: t0 + 121 * s) == t0 + 126 * s)
        #expect(fixture.states.state(of: uuid).status == .up)
        fixture.faults.heal()
        await fixture.tick(at: t0 + 126 * s)
        #expect(fixture.states.state(of: uuid).status == .down)
        #expect(try fixture.flips("backup").last?.time == t0 + 120 * s)
    }
}

/// Polls `condition` (every 10 ms, at most 30 s): for work a test started in a task and waits
/// to reach a point it cannot be told about.
func eventually(_ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// At least once, and no more (SPEC §6): a flip and its alerts are one write of the store, so
/// a crash leaves both or neither; a crash after the write and before the outbox took the
/// alerts in memory loses nothing (the outbox takes them from the store's queue at the next
/// start, once). The crash is a copy of the data directory taken in the window (what `kill -9`
/// leaves: every write has reached the OS), started from by a second fixture.
@Suite("Status engine: alerts across a crash")
struct AlertCrashWindowTests {
    @Test("crash while a ping's flip and its alerts wait for the writer: neither is stored; the retried ping alerts once")
    func pingFlipNotStored() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let uuid = fixture.uuid("backup")
        try await fixture.ping("backup", at: t0)
        try await fixture.ping("backup", .fail, at: t0 + 10 * s)
        fixture.faults.holdWriter()
        let pinging = Task { try await fixture.ping("backup", at: t0 + 20 * s) }
        // The state changes under the lock the store's queue is entered in.
        #expect(await eventually { fixture.states.state(of: uuid).status == .up })
        let crashed = try fixture.crashCopy()
        fixture.faults.releaseWriter()
        try await pinging.value
        #expect(await fixture.alerts().map(\.1) == [.down, .up, .up], "without a crash: stored with its alerts, due")
        try fixture.close()

        let restarted = try EngineFixture(root: crashed)
        defer { restarted.remove() }
        #expect(restarted.states.state(of: uuid).status == .down, "the success was not stored (nor acknowledged)")
        #expect(await restarted.alerts().map(\.1) == [.down], "no alert for the flip that was not stored")
        #expect(try restarted.queuedAlertLines().count == 1)
        try await restarted.ping("backup", at: t0 + 30 * s)  // the client retries
        #expect(await restarted.alerts().map(\.1) == [.down, .up, .up])
    }

    @Test("crash after a ping's flip was stored, before the outbox took its alerts: sent after the start, once")
    func pingFlipStored() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let uuid = fixture.uuid("backup")
        try await fixture.ping("backup", at: t0)
        try await fixture.ping("backup", .fail, at: t0 + 10 * s)
        try fixture.close()
        #expect(try fixture.queuedAlertLines().count == 1)
        try fixture.loseAcceptance()

        let restarted = try EngineFixture(root: fixture.root)
        #expect(restarted.states.state(of: uuid).status == .down)
        let pending = await restarted.outbox.pendingEntries
        #expect(pending.map(\.alert.direction) == [.down])
        #expect(pending.map(\.alert.flipTime) == [t0 + 10 * s])
        // The client, never acknowledged, retries: the check is already down, nothing more.
        try await restarted.ping("backup", .fail, at: t0 + 20 * s)
        #expect(await restarted.alerts().map(\.1) == [.down])
        try restarted.close()

        let again = try EngineFixture(root: fixture.root)
        #expect(await again.alerts().map(\.1) == [.down], "taken once: not again at the next start")
        try again.close()
    }

    @Test("crash while a down flip and its alerts wait for the writer: neither is stored; the check flips and alerts once at start")
    func deadlineFlipNotStored() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let uuid = fixture.uuid("backup")
        try await fixture.ping("backup", at: t0)
        await fixture.tick(at: t0 + 1)
        fixture.faults.holdWriter()
        let ticking = Task { await fixture.tick(at: t0 + 121 * s) }
        #expect(await eventually { fixture.states.state(of: uuid).status == .down })
        let crashed = try fixture.crashCopy()
        fixture.faults.releaseWriter()
        _ = await ticking.value
        try fixture.close()

        let restarted = try EngineFixture(root: crashed)
        defer { restarted.remove() }
        #expect(await restarted.alerts().isEmpty)
        #expect(try restarted.queuedAlertLines().isEmpty)
        await restarted.tick(at: t0 + 3_600 * s)
        #expect(try restarted.flips("backup").last == Flip(time: t0 + 120 * s, old: .up, new: .down, reason: .timeout))
        let pending = await restarted.outbox.pendingEntries
        #expect(pending.map(\.alert.direction) == [.down])
        #expect(pending.map(\.alert.flipTime) == [t0 + 120 * s])
        #expect(restarted.states.state(of: uuid).status == .down)
        try restarted.close()
    }

    @Test("crash after a down flip was stored, before the outbox took its alerts: sent after the start, and the check does not flip again")
    func deadlineFlipStored() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        try await fixture.ping("backup", at: t0)
        await fixture.tick(at: t0 + 121 * s)
        try fixture.close()
        try fixture.loseAcceptance()

        let restarted = try EngineFixture(root: fixture.root)
        #expect(await restarted.tick(at: t0 + 3_600 * s) == nil)
        #expect(try restarted.flips("backup").count == 2)
        let pending = await restarted.outbox.pendingEntries
        #expect(pending.map(\.alert.flipTime) == [t0 + 120 * s])
        try restarted.close()
    }

    @Test("a ping whose flip the store refuses stores none of its alerts and answers an error; nothing is sent for it")
    func storeRefusesPing() async throws {
        let fixture = try EngineFixture()
        defer { fixture.remove() }
        let uuid = fixture.uuid("backup")
        try await fixture.ping("backup", at: t0)
        fixture.faults.fail(.fileWrite, with: ENOSPC)
        fixture.faults.fail(.journalWrite, with: ENOSPC)
        await #expect(throws: (any Error).self) { try await fixture.ping("backup", .fail, at: t0 + 10 * s) }
        #expect(fixture.states.state(of: uuid).status == .up)
        #expect(await fixture.alerts().isEmpty)
        #expect(try fixture.queuedAlertLines().isEmpty)
        fixture.faults.heal()
        try await fixture.ping("backup", .fail, at: t0 + 11 * s)
        #expect(await fixture.alerts().map(\.1) == [.down])
        #expect(try fixture.queuedAlertLines().count == 1)
    }
}

@Suite("Deadline queue")
struct DeadlineQueueTests {
    @Test("due checks come out earliest first; moved deadlines leave no live duplicate")
    func order() {
        let queue = DeadlineQueue()
        let a = UUID(), b = UUID(), c = UUID()
        queue.set([(a, 30), (b, 10), (c, 20)])
        queue.set(b, deadline: 40)
        queue.set(c, deadline: nil)
        #expect(queue.nextDeadline == 30)
        #expect(queue.popDue(at: 35).map(\.uuid) == [a])
        #expect(queue.popDue(at: 100).map(\.uuid) == [b])
        #expect(queue.nextDeadline == nil)
    }

    @Test("100,000 checks rescheduled ten times each keep the heap bounded")
    func bounded() async throws {
        // Seconds of work (minutes under a sanitizer): on a thread of its own, not one of the
        // pool the other tests run on.
        let (counts, due) = try await computeOnOwnThread {
            let queue = DeadlineQueue()
            let checks = (0..<100_000).map { _ in UUID() }
            for round in 0..<10 {
                queue.set(checks.enumerated().map { ($0.element, Int64(1_000 + round * 100_000 + $0.offset)) })
            }
            return (queue.counts, queue.popDue(at: 1_000 + 9 * 100_000 + 99).count)
        }
        #expect(counts.live == 100_000)
        #expect(counts.heap <= 2 * 100_000 + 1_024 + 100_000)
        #expect(due == 100)
    }
}
