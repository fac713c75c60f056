import CheckCatalog
import Foundation
import Testing

@testable import Alerting

private let s: Int64 = 1_000_000

private func heldAlert(_ direction: Channel.Direction = .down, check: UUID = UUID(), created: Int64, hold: AlertHold) -> Alert {
    var alert = sampleAlert(direction, check: check, created: created)
    alert.hold = hold
    return alert
}

private func objects(_ path: String) throws -> [[String: Any]] {
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
        try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
}

/// The file store's outbox with held alerts (SPEC §14): the lines it writes and reads, the
/// dispatcher's view, compaction.
@Suite("Outbox: held alerts")
struct HeldAlertTests {
    @Test("an alert's hold is in its line (omitted when nil) and read back; lines without it read as before")
    func lineFormat() throws {
        let hold = AlertHold(maintenance: true, dependencies: ["ops/db"])
        let alert = heldAlert(created: 5 * s, hold: hold)
        let text = String(decoding: try alert.queueRecord(), as: UTF8.self)
        #expect(text.contains(#""hold":{"dependencies":["ops/db"],"maintenance":true}"#))
        #expect(Alert(queueRecord: Array(text.utf8)) == alert)
        let plain = sampleAlert(created: 5 * s)
        let plainText = String(decoding: try plain.queueRecord(), as: UTF8.self)
        #expect(!plainText.contains("hold"))
        #expect(Alert(queueRecord: Array(plainText.utf8))?.hold == nil)
        #expect(Alert(queueRecord: Array(plainText.utf8)) == plain)
        // A hold that is not an object makes the line unreadable, not an alert without a hold.
        let damaged = plainText.replacingOccurrences(of: #""id":"#, with: #""hold":"maintenance","id":"#)
        #expect(Alert(queueRecord: Array(damaged.utf8)) == nil)
    }

    @Test("a held alert is never due, blocks its channel and not a test; the dispatcher does not wait for it")
    func dispatcherView() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = try Outbox(directory: directory, policy: .withoutJitter, now: 0)
        let check = UUID()
        let down = heldAlert(check: check, created: 10 * s, hold: AlertHold(maintenance: true))
        let up = sampleAlert(.up, check: check, created: 20 * s)
        var test = sampleAlert(check: check, created: 21 * s)
        test.test = true
        try await outbox.enqueue([down, up, test])
        let delivery = ScriptedDelivery([])
        let alerts = dispatcher(outbox, delivery)
        #expect(await alerts.tick(at: 30 * s) == nil, "nothing due, and nothing will be until settled")
        #expect(delivery.sent.withLock { $0.map(\.0) } == [test.id])
        #expect(await outbox.heldBack() == [HeldBackAlert(alert: down, held: true), HeldBackAlert(alert: up, held: false)])
        #expect(try await outbox.settle([down.id: .send], at: 40 * s) == [down.id])
        #expect(await outbox.nextDue() == 40 * s)
        #expect(await alerts.tick(at: 40 * s) == 20 * s, "the up it blocked is due now that the down went")
        #expect(await alerts.tick(at: 40 * s) == nil)
        #expect(delivery.sent.withLock { $0.map(\.0) } == [test.id, down.id, up.id], "the down first, then the up")
        let lines = try objects(directory + "/outbox.jsonl")
        let released = lines.filter { $0["type"] as? String == "released" }
        #expect(released.count == 1)
        #expect(released.first?["id"] as? String == down.id.uuidString.lowercased())
        #expect((released.first?["time_us"] as? NSNumber)?.int64Value == 40 * s)
    }

    @Test("withdrawn lines carry the reason; one of a server before issue 23 has none and reads as withdrawn without a reason")
    func withdrawnLines() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let check = UUID()
        let down = heldAlert(check: check, created: 10 * s, hold: AlertHold(dependencies: ["ops/db", "ops/net"]))
        do {
            let outbox = try Outbox(directory: directory, policy: .withoutJitter, now: 0)
            try await outbox.enqueue([down])
            #expect(try await outbox.settle([down.id: .withdraw(reason: "recovered while ops/db was down")], at: 50 * s) == [down.id])
            #expect(try await outbox.settle([down.id: .withdraw(reason: "again")], at: 51 * s).isEmpty)
            try await outbox.close()
        }
        let withdrawn = try objects(directory + "/outbox.jsonl").filter { $0["type"] as? String == "withdrawn" }
        #expect(withdrawn.count == 1)
        #expect(withdrawn.first?["reason"] as? String == "recovered while ops/db was down")
        // An old server's alert withdrawn without a reason, and a released line that names no time (skipped).
        let old = sampleAlert(check: check, created: 5 * s)
        var more = try OutboxLine(alert: old).encoded()
        more.append(try OutboxLine(.withdrawn, old.id, at: 6 * s).encoded())
        more.append(Data(#"{"id":"\#(down.id.uuidString.lowercased())","type":"released","v":1}"#.utf8) + [0x0A])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/outbox.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: more)
        try handle.close()
        let reopened = try Outbox(directory: directory, policy: .withoutJitter, now: 60 * s)
        #expect(reopened.linesSkipped == 1)
        #expect(await reopened.pendingEntries.isEmpty)
        let history = await reopened.history(of: check, limit: 10)
        #expect(history.map(\.alert.id) == [down.id, old.id])
        #expect(history.map(\.state) == [.withdrawn, .withdrawn])
        #expect(history.map(\.reason) == ["recovered while ops/db was down", nil])
        #expect(history.first?.alert.hold == AlertHold(dependencies: ["ops/db", "ops/net"]))
    }

    @Test("compaction keeps held alerts (pending) and moves withdrawn ones to history with their reason")
    func compaction() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let created = 1_790_000_000 * s  // 2026-09-21
        let check = UUID()
        let kept = heldAlert(check: check, created: created, hold: AlertHold(maintenance: true))
        let dropped = heldAlert(check: check, created: created + 1, hold: AlertHold(maintenance: true))
        let outbox = try Outbox(directory: directory, now: created)
        try await outbox.enqueue([kept, dropped])
        #expect(try await outbox.settle([dropped.id: .withdraw(reason: "the window ended with the check up")], at: created + 2) == [dropped.id])
        for n in 0..<250 {
            var alert = sampleAlert(created: created + Int64(n + 10) * s)
            alert.values.body = String(repeating: "x", count: 10_000)
            try await outbox.enqueue([alert])
            try await outbox.record(Attempt(time: alert.created, outcome: .delivered, statusCode: 200), for: alert.id)
        }
        let outboxIDs = Set(try objects(directory + "/outbox.jsonl").compactMap { $0["type"] as? String == "alert" ? $0["id"] as? String : nil })
        let history = try objects(directory + "/history/2026-09.jsonl")
        #expect(!history.isEmpty, "a compaction ran")
        #expect(outboxIDs.contains(kept.id.uuidString.lowercased()))
        #expect(!history.contains { $0["id"] as? String == kept.id.uuidString.lowercased() })
        #expect(!outboxIDs.contains(dropped.id.uuidString.lowercased()))
        #expect(history.contains { $0["type"] as? String == "withdrawn" && $0["reason"] as? String == "the window ended with the check up" })
        try await outbox.close()
        let reopened = try Outbox(directory: directory, now: created + 1_000 * s)
        #expect(await reopened.heldBack() == [HeldBackAlert(alert: kept, held: true)])
        let records = await reopened.history(of: check, limit: 10)
        #expect(records.map(\.state) == [.withdrawn, .held])
        #expect(records.first?.reason == "the window ended with the check up")
    }
}
