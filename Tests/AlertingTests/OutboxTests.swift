import CheckCatalog
import Foundation
import Logging
import Synchronization
import Testing

@testable import Alerting

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-outbox-\(UUID().uuidString.lowercased())").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Scripted outcomes, one per call, then "delivered"; records what it was asked to send.
final class ScriptedDelivery: Sendable {
    let script: Mutex<[Attempt.Outcome]>
    let sent = Mutex<[(Alert.ID, Int64)]>([])

    init(_ script: [Attempt.Outcome]) {
        self.script = Mutex(script)
    }

    func deliver(_ alert: Alert, _ channel: Channel, _ now: Int64) async -> Attempt {
        sent.withLock { $0.append((alert.id, now)) }
        let outcome = script.withLock { $0.isEmpty ? .delivered : $0.removeFirst() }
        return Attempt(time: now, outcome: outcome, statusCode: outcome == .delivered ? 200 : 500, error: outcome == .delivered ? nil : "the receiver answered HTTP 500")
    }
}

func dispatcher(_ outbox: Outbox, _ delivery: ScriptedDelivery, channel: Channel? = webhook("http://127.0.0.1:1/")) -> AlertDispatcher {
    AlertDispatcher(
        queue: outbox, courier: Courier(environment: [:]), channel: { _, _ in channel }, logger: Logger(label: "test"),
        deliver: { await delivery.deliver($0, $1, $2) })
}

private let s: Int64 = 1_000_000

@Suite("Outbox: persisted, at-least-once, every attempt recorded")
struct OutboxTests {
    @Test("a receiver failing twice then succeeding gets the alert once delivered, after backoff; every attempt is in the file")
    func failTwice() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = try Outbox(directory: directory, policy: .withoutJitter, now: 0)
        let delivery = ScriptedDelivery([.failed, .failed])
        let alerts = dispatcher(outbox, delivery)
        let alert = sampleAlert(created: 100 * s)
        try await outbox.enqueue([alert])
        #expect(await alerts.tick(at: 100 * s) == 110 * s)
        #expect(await alerts.tick(at: 110 * s - 1) == 110 * s)  // not due yet: nothing sent
        #expect(await alerts.tick(at: 110 * s) == 130 * s)
        #expect(await alerts.tick(at: 130 * s) == nil)
        #expect(await alerts.tick(at: 999 * s) == nil)
        #expect(delivery.sent.withLock { $0.map(\.1) } == [100 * s, 110 * s, 130 * s])
        let entries = try Outbox.entries(directory: directory)
        #expect(entries.count == 1)
        #expect(entries[0].attempts.map(\.outcome) == [.failed, .failed, .delivered])
        #expect(entries[0].attempts.map(\.statusCode) == [500, 500, 200])
        #expect(entries[0].delivered)
        #expect(entries[0].nextAttempt == nil)
    }

    @Test("pending alerts survive a restart and are sent once after it")
    func restart() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let alert = sampleAlert(created: 100 * s)
        do {
            let outbox = try Outbox(directory: directory, policy: .withoutJitter, now: 0)
            let delivery = ScriptedDelivery([.failed])
            let alerts = dispatcher(outbox, delivery)
            try await outbox.enqueue([alert, sampleAlert(.down, created: 100 * s)])
            await alerts.tick(at: 100 * s)
            try await outbox.close()
        }
        // The second alert was delivered; the first failed once and is pending.
        let reopened = try Outbox(directory: directory, policy: .withoutJitter, now: 105 * s)
        let pending = await reopened.pendingEntries
        #expect(pending.map(\.alert.id) == [alert.id])
        #expect(pending.first?.attempts.count == 1)
        #expect(pending.first?.nextAttempt == 110 * s)
        let delivery = ScriptedDelivery([])
        let alerts = dispatcher(reopened, delivery)
        await alerts.tick(at: 105 * s)
        #expect(delivery.sent.withLock { $0.isEmpty })
        await alerts.tick(at: 110 * s)
        #expect(delivery.sent.withLock { $0.map(\.0) } == [alert.id])
        #expect(await reopened.pendingEntries.isEmpty)
    }

    @Test("a torn last line is cut at open and the next alert is readable")
    func tornLine() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let outbox = try Outbox(directory: directory, policy: .withoutJitter, now: 0)
            try await outbox.enqueue([sampleAlert()])
            try await outbox.close()
        }
        let handle = try #require(FileHandle(forWritingAtPath: directory + "/outbox.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"v":1,"type":"attempt","id":"#.utf8))
        try handle.close()
        let outbox = try Outbox(directory: directory, policy: .withoutJitter, now: 0)
        try await outbox.enqueue([sampleAlert()])
        #expect(await outbox.pendingEntries.count == 2)
        #expect(try Outbox.entries(directory: directory).count == 2)
    }

    @Test("an up alert waits for the down alert of the same check and channel before it")
    func ordering() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = try Outbox(directory: directory, policy: .withoutJitter, now: 0)
        let delivery = ScriptedDelivery([.failed])
        let alerts = dispatcher(outbox, delivery)
        let check = UUID()
        let down = sampleAlert(.down, check: check, created: 0)
        let up = sampleAlert(.up, check: check, created: 1)
        try await outbox.enqueue([down, up])
        await alerts.tick(at: 1)
        #expect(delivery.sent.withLock { $0.map(\.0) } == [down.id])
        await alerts.tick(at: 10 * s + 1)
        #expect(delivery.sent.withLock { $0.map(\.0) } == [down.id, down.id])
        await alerts.tick(at: 10 * s + 2)
        #expect(delivery.sent.withLock { $0.map(\.0) } == [down.id, down.id, up.id])
    }

    @Test("an alert whose channel was removed fails its attempts and is given up after the last retry")
    func removedChannel() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let policy = RetryPolicy(initialDelay: 1, maximumDelay: 1, maximumAttempts: 3, giveUpAfter: 1_000)
        let outbox = try Outbox(directory: directory, policy: policy, now: 0)
        let alerts = dispatcher(outbox, ScriptedDelivery([]), channel: nil)
        try await outbox.enqueue([sampleAlert()])
        for time in 0..<10 { await alerts.tick(at: Int64(time)) }
        let entries = try Outbox.entries(directory: directory, policy: policy)
        #expect(entries[0].attempts.count == 3)
        #expect(entries[0].gaveUp)
        #expect(entries[0].attempts[0].error == "channel 'hook' of project 'ops' is no longer configured")
        #expect(await outbox.pendingEntries.isEmpty)
    }

    @Test("the outbox file is JSON lines a person can read with jq")
    func fileFormat() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = try Outbox(directory: directory, policy: .withoutJitter, now: 0)
        let alert = sampleAlert()
        try await outbox.enqueue([alert])
        _ = await outbox.takeDue(at: 0)
        try await outbox.record(Attempt(time: 5, outcome: .failed, statusCode: 503, error: "the receiver answered HTTP 503", duration: 12), for: alert.id)
        let lines = try String(contentsOfFile: directory + "/outbox.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["type"] as? String == "alert")
        #expect(first["v"] as? Int == 1)
        #expect(first["direction"] as? String == "down")
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["type"] as? String == "attempt")
        #expect(second["status_code"] as? Int == 503)
        #expect(second["n"] as? Int == 1)
        #expect(second["next_attempt_us"] as? Int == 10_000_005)
    }

    @Test("at open, a held alert (written by a server before issue 19) whose flip was stored is confirmed and sent; one whose flip was not is withdrawn")
    func heldAcrossCrash() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var stored = sampleAlert(.down, created: 1)
        stored.flipTime = 1_000
        var lost = sampleAlert(.up, created: 1)
        lost.flipTime = 2_000
        // A crash of an older server after it wrote the alerts held, before it confirmed or
        // withdrew them.
        var held = Data()
        for alert in [stored, lost] { held.append(try OutboxLine(alert: alert, held: true).encoded()) }
        try held.write(to: URL(fileURLWithPath: directory + "/outbox.jsonl"))
        let asked = Mutex<[UUID]>([])
        let reopened = try Outbox(directory: directory, policy: .withoutJitter, now: 10) { alert in
            asked.withLock { $0.append(alert.id) }
            return alert.flipTime == 1_000
        }
        #expect(asked.withLock { $0 } == [stored.id, lost.id])
        let pending = await reopened.pendingEntries
        #expect(pending.map(\.alert.id) == [stored.id])
        #expect(pending.first?.held == false)
        let delivery = ScriptedDelivery([])
        await dispatcher(reopened, delivery).tick(at: 10)
        #expect(delivery.sent.withLock { $0.map(\.0) } == [stored.id])
        try await reopened.close()

        // The resolution is in the file: the next open asks nothing and sends nothing again.
        let again = try Outbox(directory: directory, policy: .withoutJitter, now: 20) { _ in
            Issue.record("asked again about a resolved alert")
            return true
        }
        #expect(await again.pendingEntries.isEmpty)
        let lines = try String(contentsOfFile: directory + "/outbox.jsonl", encoding: .utf8).split(separator: "\n")
        let types = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["type"] as? String }
        #expect(types == ["alert", "alert", "confirmed", "withdrawn", "attempt"])
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["held"] as? Bool == true)
    }
}

extension RetryPolicy {
    /// The standard delays exactly (10 s, 20 s, …): tests that check when a retry is due.
    static let withoutJitter: RetryPolicy = {
        var policy = RetryPolicy.standard
        policy.jitter = 0
        return policy
    }()
}
