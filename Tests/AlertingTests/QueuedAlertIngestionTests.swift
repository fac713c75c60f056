import Foundation
import Testing

@testable import Alerting

private let s: Int64 = 1_000_000

/// The store's queued alerts as `PingStore.queuedAlerts()` hands them over, numbered from
/// `first`.
private func log(_ alerts: [Alert], from first: Int = 1) throws -> [(n: Int, record: [UInt8])] {
    try alerts.enumerated().map { (first + $0.offset, try $0.element.queueRecord()) }
}

private func lineTypes(_ directory: String) throws -> [String] {
    try String(contentsOfFile: directory + "/outbox.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
        (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["type"] as? String
    }
}

/// The `n` of the file's last `ingested` line.
private func mark(_ directory: String) throws -> Int? {
    try String(contentsOfFile: directory + "/outbox.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
        let line = try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        return line?["type"] as? String == "ingested" ? line?["n"] as? Int : nil
    }.last
}

@Suite("Outbox: alerts queued by the store with their flips, each taken once")
struct QueuedAlertIngestionTests {
    @Test("an alert's queue record is the outbox's alert line, one JSON object on one line, and decodes back; anything else does not")
    func record() throws {
        var alert = sampleAlert(created: 7)
        alert.values.body = "line one\nline two"
        let record = try alert.queueRecord()
        #expect(!record.contains(0x0A))
        #expect(record.first == UInt8(ascii: "{") && record.last == UInt8(ascii: "}"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(record)) as? [String: Any])
        #expect(object["type"] as? String == "alert" && object["held"] == nil)
        #expect(Alert(queueRecord: record) == alert)
        #expect(try Alert.queueRecords([alert, alert]) == [record, record])
        #expect(Alert(queueRecord: Array("not json".utf8)) == nil)
        #expect(Alert(queueRecord: Array(#"{"id":"x","type":"attempt","v":1}"#.utf8)) == nil)
        #expect(Alert(queueRecord: try OutboxLine(alert: alert, held: true).encoded().dropLast()) == nil, "a held alert is not a queued one")
    }

    @Test("at open, queued alerts the outbox does not know become pending, due at once, and are sent once; reopening with the same log takes nothing again")
    func ingestAtOpen() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let check = UUID()
        let down = sampleAlert(.down, check: check, created: 10 * s)
        let up = sampleAlert(.up, check: check, created: 20 * s)
        let other = sampleAlert(.down, created: 15 * s)
        let queued = try log([down, other, up])
        do {
            let outbox = try Outbox(directory: directory, now: 30 * s, queued: queued)
            #expect(outbox.ingestion == Outbox.Ingestion(alerts: 3, skipped: 0, logRestarted: false))
            #expect(await outbox.pendingEntries.map(\.alert.id) == [down.id, other.id, up.id])
            #expect(try await outbox.ingestedThrough() == 3)
            let delivery = ScriptedDelivery([])
            let alerts = dispatcher(outbox, delivery)
            await alerts.tick(at: 30 * s)
            await alerts.tick(at: 30 * s)
            // down and other at once (two checks), the up after its down.
            let sent = delivery.sent.withLock { $0.map(\.0) }
            #expect(sent.count == 3 && Set(sent.prefix(2)) == [down.id, other.id] && sent.last == up.id)
            try await outbox.close()
        }
        #expect(try lineTypes(directory) == ["alert", "alert", "alert", "ingested", "attempt", "attempt", "attempt"])
        let reopened = try Outbox(directory: directory, now: 40 * s, queued: queued)
        #expect(reopened.ingestion == Outbox.Ingestion())
        #expect(await reopened.pendingEntries.isEmpty)
        #expect(try await reopened.ingestedThrough() == 3)
        #expect(try lineTypes(directory).count == 7, "nothing written")
        #expect(try Outbox.entries(directory: directory).count == 3)
    }

    @Test("without a log (nil) the outbox ingests nothing and keeps its mark")
    func noLog() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try Outbox(directory: directory, now: 0, queued: try log([sampleAlert()]))
        let reopened = try Outbox(directory: directory, now: 0)
        #expect(reopened.ingestion == Outbox.Ingestion())
        #expect(try await reopened.ingestedThrough() == 1)
    }

    @Test("accepted alerts are pending at once, without the log; a crash before accept or before the mark is synced loses none and repeats none")
    func acceptAndCrash() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = sampleAlert(created: 1 * s)
        let second = sampleAlert(created: 2 * s)
        let third = sampleAlert(created: 3 * s)
        do {
            let outbox = try Outbox(directory: directory, now: 0, queued: try log([first]))
            let delivery = ScriptedDelivery([])
            let alerts = dispatcher(outbox, delivery)
            // The store acknowledged `second` as number 2: accepted and sent.
            try await outbox.accept([second], through: 2)
            #expect(await outbox.pendingEntries.map(\.alert.id) == [first.id, second.id])
            #expect(await outbox.pendingEntries.map(\.queued) == [nil, 2])
            await alerts.tick(at: 5 * s)
            #expect(delivery.sent.withLock { Set($0.map(\.0)) } == [first.id, second.id])
            // Then it acknowledged `third` as number 3, and the process died before `accept`.
        }
        let reopened = try Outbox(directory: directory, now: 10 * s, queued: try log([first, second, third]))
        #expect(reopened.ingestion.alerts == 1)
        #expect(await reopened.pendingEntries.map(\.alert.id) == [third.id])
        #expect(try await reopened.ingestedThrough() == 3)

        // A crash after `accept` wrote its alert line but before its `ingested` mark reached the
        // disk: the next open finds the alert by its id, and takes it once.
        let fourth = sampleAlert(created: 4 * s)
        try await reopened.accept([fourth], through: 4)
        try await reopened.close()
        let path = directory + "/outbox.jsonl"
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.last?.contains(#""type":"ingested""#) == true)
        lines.removeLast()
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        let again = try Outbox(directory: directory, now: 20 * s, queued: try log([first, second, third, fourth]))
        #expect(again.ingestion.alerts == 0)
        #expect(await again.pendingEntries.map(\.alert.id) == [third.id, fourth.id])
        #expect(try await again.ingestedThrough() == 4)
    }

    @Test("alerts accepted out of order take their place by number; the mark moves only over contiguous numbers")
    func acceptOutOfOrder() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let check = UUID()
        let down = sampleAlert(.down, check: check, created: 1 * s)
        let up = sampleAlert(.up, check: check, created: 2 * s)
        let outbox = try Outbox(directory: directory, now: 0, queued: [])
        try await outbox.accept([up], through: 2)
        #expect(try await outbox.ingestedThrough() == 0, "number 1 is not in yet")
        try await outbox.accept([down], through: 1)
        #expect(try await outbox.ingestedThrough() == 2)
        #expect(await outbox.pendingEntries.map(\.alert.id) == [down.id, up.id])
        // A repeat of an accepted number is ignored.
        try await outbox.accept([up], through: 2)
        #expect(await outbox.pendingEntries.count == 2)
        let delivery = ScriptedDelivery([])
        let alerts = dispatcher(outbox, delivery)
        await alerts.tick(at: 3 * s)
        await alerts.tick(at: 3 * s)
        #expect(delivery.sent.withLock { $0.map(\.0) } == [down.id, up.id], "the up waited for the down")
    }

    @Test("ingestedThrough syncs the mark; after the store trims its log through it, reopening takes only what came after, once")
    func trimmedLog() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let alerts = (1...5).map { sampleAlert(created: Int64($0) * s) }
        do {
            let outbox = try Outbox(directory: directory, now: 0, queued: try log(Array(alerts[0..<2])))
            try await outbox.accept([alerts[2]], through: 3)
            #expect(try mark(directory) == 3)
            #expect(try await outbox.ingestedThrough() == 3)
            try await outbox.close()
        }
        // The store kept its last line (3) and appended 4 and 5 meanwhile.
        let reopened = try Outbox(directory: directory, now: 10 * s, queued: try log(Array(alerts[2...]), from: 3))
        #expect(reopened.ingestion.alerts == 2)
        #expect(await reopened.pendingEntries.map(\.alert.id) == alerts.map(\.id))
        #expect(try mark(directory) == 5)
        // Trimmed again to its last line: nothing new.
        try await reopened.close()
        let again = try Outbox(directory: directory, now: 20 * s, queued: try log([alerts[4]], from: 5))
        #expect(again.ingestion.alerts == 0)
        #expect(await again.pendingEntries.count == 5)
    }

    @Test("damaged queued records are skipped and counted; the others are taken")
    func damagedRecords() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = sampleAlert(created: 1)
        var queued = try log([good], from: 2)
        queued.insert((1, Array(#"{"type":"alert"}"#.utf8)), at: 0)
        queued.append((3, Array("{not json}".utf8)))
        let outbox = try Outbox(directory: directory, now: 0, queued: queued)
        #expect(outbox.ingestion == Outbox.Ingestion(alerts: 1, skipped: 2, logRestarted: false))
        #expect(await outbox.pendingEntries.map(\.alert.id) == [good.id])
        #expect(try await outbox.ingestedThrough() == 3, "damaged records are not asked for again")
    }

    @Test("a log whose numbers end below the mark was started again: every alert in it the outbox does not know is taken")
    func restartedLog() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = (1...3).map { sampleAlert(created: Int64($0)) }
        _ = try Outbox(directory: directory, now: 0, queued: try log(old))
        // The store's file was deleted: its numbering began again at 1.
        let fresh = sampleAlert(created: 10)
        let outbox = try Outbox(directory: directory, now: 0, queued: try log([old[2], fresh]))
        #expect(outbox.ingestion == Outbox.Ingestion(alerts: 1, skipped: 0, logRestarted: true))
        #expect(await outbox.pendingEntries.map(\.alert.id) == old.map(\.id) + [fresh.id])
        #expect(try await outbox.ingestedThrough() == 2)
        try await outbox.accept([sampleAlert(created: 11)], through: 3)
        #expect(try await outbox.ingestedThrough() == 3)
    }

    @Test("an outbox with alerts held by an older server still resolves them at open, beside queued alerts")
    func heldAndQueued() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var stored = sampleAlert(.down, created: 1)
        stored.flipTime = 1_000
        var lost = sampleAlert(.up, created: 1)
        lost.flipTime = 2_000
        var data = Data()
        data.append(try OutboxLine(alert: stored, held: true).encoded())
        data.append(try OutboxLine(alert: lost, held: true).encoded())
        try data.write(to: URL(fileURLWithPath: directory + "/outbox.jsonl"))
        let queued = sampleAlert(created: 5)
        let outbox = try Outbox(directory: directory, now: 10, queued: try log([queued])) { $0.flipTime == 1_000 }
        #expect(await outbox.pendingEntries.map(\.alert.id) == [stored.id, queued.id])
        #expect(try lineTypes(directory) == ["alert", "alert", "confirmed", "withdrawn", "alert", "ingested"])
    }

    @Test("compaction keeps only the last ingested mark, and the mark survives it")
    func compactionKeepsMark() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let alerts = (1...3).map { sampleAlert(created: Int64($0) * s) }
        let outbox = try Outbox(directory: directory, now: 0, queued: [])
        for (index, alert) in alerts.enumerated() { try await outbox.accept([alert], through: index + 1) }
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/outbox.jsonl"))
        let pending = Set(alerts.dropFirst().map { $0.id.uuidString.lowercased() })
        try OutboxCompaction(directory: directory, now: 10 * s, retention: Outbox.retention).run(data: data, pending: pending)
        #expect(try lineTypes(directory) == ["alert", "alert", "ingested"])
        #expect(try mark(directory) == 3)
        let reopened = try Outbox(directory: directory, now: 10 * s, queued: try log([alerts[2]], from: 3))
        #expect(reopened.ingestion.alerts == 0)
        #expect(await reopened.pendingEntries.map(\.alert.id) == Array(alerts.dropFirst()).map(\.id))
    }
}
