import CheckCatalog
import Foundation
import Logging
import Monitoring
import Testing

@testable import Alerting

private let s: Int64 = 1_000_000

@Suite("Outbox: jitter, permanent refusals, tests, and a check's alerts read back")
struct OutboxNotificationsTests {
    func alert(check: UUID, _ direction: Channel.Direction = .down, created: Int64, test: Bool = false) -> Alert {
        var alert = sampleAlert(direction, check: check, created: created)
        alert.test = test
        return alert
    }

    @Test("a retry's time, drawn with jitter, is written in the attempt line and is the time a restart keeps")
    func jitterSurvivesRestart() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = try Outbox(directory: directory, now: 0)
        let first = alert(check: UUID(), created: 100 * s)
        try await outbox.enqueue([first])
        _ = await outbox.takeDue(at: 100 * s)
        guard case .retry(let next) = try await outbox.record(Attempt(time: 100 * s, outcome: .failed), for: first.id) else {
            Issue.record("a failed attempt is retried")
            return
        }
        #expect((108 * s)...(112 * s) ~= next)
        try await outbox.close()
        let reopened = try Outbox(directory: directory, now: 101 * s)
        #expect(await reopened.pendingEntries.map(\.nextAttempt) == [next])
        #expect(await reopened.nextDue() == next)
    }

    @Test("a permanent refusal ends the alert at once: gave_up, no retry, state gave_up when read back")
    func permanent() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = try Outbox(directory: directory, now: 0)
        let check = UUID()
        let refused = alert(check: check, created: 1 * s)
        try await outbox.enqueue([refused])
        _ = await outbox.takeDue(at: 1 * s)
        let attempt = Attempt(time: 2 * s, outcome: .failed, error: "RCPT TO <a@b>: 550 no such user", permanent: true)
        #expect(try await outbox.record(attempt, for: refused.id) == .gaveUp)
        #expect(await outbox.nextDue() == nil)
        let lines = try String(contentsOfFile: directory + "/outbox.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.contains { $0.contains(#""permanent":true"#) && $0.contains(#""type":"attempt""#) })
        #expect(lines.last?.contains(#""type":"gave_up""#) == true)
        let history = await outbox.history(of: check, limit: 10)
        #expect(history.map(\.state) == [.gaveUp])
        #expect(history.first?.attempts == [attempt])
        #expect(history.first?.nextAttempt == nil)
    }

    @Test("a test neither waits behind a pending alert of its channel nor blocks the next one, and is tried once")
    func testsOutsideTheOrder() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outbox = try Outbox(directory: directory, now: 0)
        let check = UUID()
        let down = alert(check: check, created: 1 * s)
        try await outbox.enqueue([down])
        #expect(await outbox.takeDue(at: 1 * s).map(\.id) == [down.id])
        // The down alert is being tried (or waits for its retry): the test goes out anyway.
        let test = alert(check: check, created: 2 * s, test: true)
        let up = alert(check: check, .up, created: 2 * s)
        try await outbox.enqueue([test, up])
        #expect(await outbox.takeDue(at: 2 * s).map(\.id) == [test.id])
        #expect(try await outbox.record(Attempt(time: 3 * s, outcome: .failed, statusCode: 500), for: test.id) == .gaveUp)
        #expect(await outbox.record(of: test.id)?.state == .gaveUp)
        #expect(await outbox.record(of: test.id)?.attempts.count == 1)
        #expect(await outbox.record(of: down.id)?.state == .pending)
        #expect(await outbox.record(of: UUID()) == nil)
        // The up alert still waits for the down before it.
        #expect(await outbox.takeDue(at: 3 * s).isEmpty)
    }

    @Test("a check's alerts come back newest first from the outbox and history months, others' alerts left out, limit kept")
    func historyAcrossFiles() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let check = UUID()
        let other = UUID()
        // Two months ago and last month in history (as a compaction writes them), the rest in the outbox.
        let month = 31 * 86_400 * s
        let now = 1_790_000_000 * s
        let old = alert(check: check, created: now - 2 * month)
        let older = alert(check: check, .up, created: now - 2 * month + s)
        let recent = alert(check: check, created: now - month)
        let foreign = alert(check: other, created: now - month)
        try FileManager.default.createDirectory(atPath: directory + "/history", withIntermediateDirectories: true)
        func lines(_ alert: Alert, delivered at: Int64) throws -> Data {
            try OutboxLine(alert: alert).encoded() + OutboxLine(attempt: Attempt(time: at, outcome: .delivered, statusCode: 200), n: 1, of: alert.id, nextAttempt: nil).encoded()
        }
        try (try lines(old, delivered: old.created) + lines(older, delivered: older.created)).write(to: URL(fileURLWithPath: directory + "/history/\(UTCTime.month(old.created)).jsonl"))
        try (try lines(recent, delivered: recent.created) + lines(foreign, delivered: foreign.created)).write(to: URL(fileURLWithPath: directory + "/history/\(UTCTime.month(recent.created)).jsonl"))
        let outbox = try Outbox(directory: directory, now: now)
        let pending = alert(check: check, .up, created: now)
        try await outbox.enqueue([pending, alert(check: other, created: now)])
        let all = await outbox.history(of: check, limit: 10)
        #expect(all.map(\.alert.id) == [pending.id, recent.id, older.id, old.id])
        #expect(all.map(\.state) == [.pending, .delivered, .delivered, .delivered])
        #expect(all[1].attempts.map(\.statusCode) == [200])
        #expect(all[0].nextAttempt == now)
        let two = await outbox.history(of: check, limit: 2)
        #expect(two.map(\.alert.id) == [pending.id, recent.id])
        #expect(await outbox.history(of: UUID(), limit: 10).isEmpty)
    }

    @Test("alerts queued in the same microsecond come back in the reverse of their order in the file")
    func sameMicrosecond() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let check = UUID()
        let outbox = try Outbox(directory: directory, now: 0)
        let alerts = (0..<5).map { _ in alert(check: check, created: 7 * s) }
        for alert in alerts { try await outbox.enqueue([alert]) }
        #expect(await outbox.history(of: check, limit: 10).map(\.alert.id) == alerts.reversed().map(\.id))
    }

    @Test("an alert both in history and still in the outbox (a compaction cut short) is listed once")
    func repeatedAcrossFiles() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let check = UUID()
        let now = 1_790_000_000 * s
        let delivered = alert(check: check, created: now)
        let data = try OutboxLine(alert: delivered).encoded()
            + OutboxLine(attempt: Attempt(time: now, outcome: .delivered, statusCode: 204), n: 1, of: delivered.id, nextAttempt: nil).encoded()
        try FileManager.default.createDirectory(atPath: directory + "/history", withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: directory + "/history/\(UTCTime.month(now)).jsonl"))
        try data.write(to: URL(fileURLWithPath: directory + "/outbox.jsonl"))
        let outbox = try Outbox(directory: directory, now: now)
        let records = await outbox.history(of: check, limit: 10)
        #expect(records.map(\.alert.id) == [delivered.id])
        #expect(records.first?.state == .delivered)
    }
}
