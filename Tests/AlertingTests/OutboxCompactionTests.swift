import Foundation
import Monitoring
import Testing

@testable import Alerting

private let s: Int64 = 1_000_000
private let day: Int64 = 86_400 * s

/// An alert with a 10 KB body, as a failing job's output makes it.
private func bulkyAlert(created: Int64) -> Alert {
    var alert = sampleAlert(created: created)
    alert.values.body = String(repeating: "x", count: 10_000)
    return alert
}

private func lines(_ path: String) throws -> [[String: Any]] {
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
        try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
}

private func fileSize(_ path: String) throws -> Int {
    try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
}

@Suite("Outbox compaction: finished alerts move to history, a start reads only what is pending")
struct OutboxCompactionTests {
    @Test("delivering 400 bulky alerts keeps the outbox bounded; every one is in history; pending ones stay")
    func runtime() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let created = 1_790_000_000 * s  // 2026-09-21
        let outbox = try Outbox(directory: directory, now: created)
        let stuck = bulkyAlert(created: created)  // its receiver keeps failing: stays pending
        try await outbox.enqueue([stuck])
        #expect(await outbox.takeDue(at: created).map(\.id) == [stuck.id])
        try await outbox.record(Attempt(time: created, outcome: .failed, error: "HTTP 500"), for: stuck.id)
        var delivered: [Alert.ID] = []
        var largest = 0
        for n in 0..<400 {
            let alert = bulkyAlert(created: created + Int64(n) * s)
            try await outbox.enqueue([alert])
            try await outbox.record(Attempt(time: alert.created, outcome: .delivered, statusCode: 200), for: alert.id)
            delivered.append(alert.id)
            largest = max(largest, try fileSize(directory + "/outbox.jsonl"))
        }
        // 400 alerts are ~4 MB of lines; the outbox never held more than about twice the threshold.
        #expect(largest < 2 * OutboxCompaction.threshold + 40_000)
        let history = try lines(directory + "/history/2026-09.jsonl")
        let historyIDs = Set(history.compactMap { $0["type"] as? String == "alert" ? $0["id"] as? String : nil })
        let outboxLines = try lines(directory + "/outbox.jsonl")
        let outboxIDs = Set(outboxLines.compactMap { $0["type"] as? String == "alert" ? $0["id"] as? String : nil })
        // Every delivered alert is in history or (since the last compaction) still in the outbox,
        // with its delivered attempt next to it; the stuck one never left the outbox.
        for id in delivered.map({ $0.uuidString.lowercased() }) {
            #expect(historyIDs.contains(id) != outboxIDs.contains(id))
        }
        #expect(historyIDs.count > 300)
        #expect(history.filter { $0["outcome"] as? String == "delivered" }.count == historyIDs.count)
        #expect(outboxIDs.contains(stuck.id.uuidString.lowercased()))
        #expect(!historyIDs.contains(stuck.id.uuidString.lowercased()))
        // Appends after the compactions go to the new file: a restart finds the stuck alert with its attempt.
        try await outbox.close()
        let reopened = try Outbox(directory: directory, now: created + 2_000 * s)
        let pending = await reopened.pendingEntries
        #expect(pending.map(\.alert.id) == [stuck.id])
        #expect(pending.first?.attempts.map(\.outcome) == [.failed])
    }

    @Test("a large outbox left by an older version is compacted at open, pending and held alerts kept")
    func atOpen() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let created = 1_790_000_000 * s
        // Written as a version without runtime compaction would have: lines only, no compaction.
        var data = Data()
        var finished: [Alert] = []
        for n in 0..<150 {
            let alert = bulkyAlert(created: created + Int64(n) * s)
            data.append(try OutboxLine(alert: alert, held: false).encoded())
            data.append(try OutboxLine(attempt: Attempt(time: alert.created, outcome: .delivered, statusCode: 200), n: 1, of: alert.id, nextAttempt: nil).encoded())
            finished.append(alert)
        }
        let waiting = bulkyAlert(created: created + 500 * s)
        let held = bulkyAlert(created: created + 501 * s)
        data.append(try OutboxLine(alert: waiting, held: false).encoded())
        data.append(try OutboxLine(alert: held, held: true).encoded())
        #expect(data.count > OutboxCompaction.threshold)
        try data.write(to: URL(fileURLWithPath: directory + "/outbox.jsonl"))

        let outbox = try Outbox(directory: directory, now: created + 600 * s, flipStored: { $0.id == held.id })
        #expect(Set(await outbox.pendingEntries.map(\.alert.id)) == [waiting.id, held.id])
        #expect(try fileSize(directory + "/outbox.jsonl") < 40_000)
        let history = try lines(directory + "/history/2026-09.jsonl")
        #expect(history.count == 300)
        #expect(Set(history.compactMap { $0["id"] as? String }) == Set(finished.map { $0.id.uuidString.lowercased() }))
    }

    @Test("history months older than the retention are deleted; the month files are named in UTC")
    func retention() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/history", withIntermediateDirectories: true)
        for name in ["2026-05.jsonl", "2026-06.jsonl", "2026-07.jsonl", "2026-09.jsonl", "notes.txt"] {
            try Data("{}\n".utf8).write(to: URL(fileURLWithPath: directory + "/history/" + name))
        }
        // 2026-09-21: 93 days earlier is 2026-06-20, so June is kept, May goes.
        let now = 1_790_000_000 * s
        OutboxCompaction(directory: directory, now: now, retention: Outbox.retention).pruneHistory()
        let left = try FileManager.default.contentsOfDirectory(atPath: directory + "/history").sorted()
        #expect(left == ["2026-06.jsonl", "2026-07.jsonl", "2026-09.jsonl", "notes.txt"])

        #expect(UTCTime.month(0) == "1970-01")
        #expect(UTCTime.month(1_798_761_599 * s) == "2026-12")  // 2026-12-31T23:59:59Z
        #expect(UTCTime.month(1_798_761_600 * s) == "2027-01")
        #expect(UTCTime.month(now - 93 * day) == "2026-06")
    }
}

@Suite("Outbox line summary: what compaction reads of a line, without decoding it")
struct OutboxLineSummaryTests {
    static func summary(_ line: Data) -> OutboxLineSummary? {
        line.withUnsafeBytes { OutboxLineSummary($0) }
    }

    /// What JSONDecoder makes of the same line: the reference the summary must agree with.
    static func decoded(_ line: Data) -> OutboxLineSummary? {
        guard let record = try? JSONDecoder().decode(OutboxLine.self, from: line) else { return nil }
        return OutboxLineSummary(type: record.type, id: record.id, created: record.created)
    }

    @Test("every kind of line the outbox writes reads as JSONDecoder reads it")
    func agreesWithTheDecoder() throws {
        var alert = sampleAlert(created: 1_790_000_000 * s)
        alert.values.body = "a body with \"quotes\", braces } { ] [, a \\ backslash, a / slash and\nnewlines"
        alert.values.name = "Nightly \"backup\" {prod}"
        let id = alert.id
        var lines: [Data] = [
            try OutboxLine(alert: alert).encoded(),
            try OutboxLine(alert: alert, held: true).encoded(),
            try OutboxLine(attempt: Attempt(time: 5 * s, outcome: .failed, statusCode: 500, error: "HTTP 500: \"no\""), n: 1, of: id, nextAttempt: 65 * s).encoded(),
            try OutboxLine(attempt: Attempt(time: 6 * s, outcome: .delivered, statusCode: 204), n: 2, of: id, nextAttempt: nil).encoded(),
            try OutboxLine(.gaveUp, id, at: 7 * s).encoded(),
            try OutboxLine(.withdrawn, id, at: 8 * s, reason: "maintenance {ended}").encoded(),
            try OutboxLine(.released, id, at: 9 * s).encoded(),
            try OutboxLine(.confirmed, id, at: 9 * s).encoded(),
            try OutboxLine(ingestedThrough: 42).encoded(),
        ]
        lines = lines.map { $0.last == 0x0A ? $0.dropLast() : $0 }
        for line in lines {
            let summary = Self.summary(line)
            #expect(summary != nil, "\(String(decoding: line, as: UTF8.self))")
            #expect(summary == Self.decoded(line), "\(String(decoding: line, as: UTF8.self))")
        }
        #expect(Self.summary(lines[0])?.created == 1_790_000_000 * s)
        #expect(Self.summary(lines[0])?.id == id.uuidString.lowercased())
        #expect(Self.summary(lines[8]) == OutboxLineSummary(type: .ingested, id: nil, created: nil))
    }

    @Test("lines the open skips are not summarized either: torn, not an object, an unknown type, wrong types")
    func unreadable() throws {
        let full = try OutboxLine(alert: sampleAlert(created: 10 * s)).encoded().dropLast()
        let bad: [String] = [
            String(decoding: full.prefix(full.count / 2), as: UTF8.self),  // torn by a crash
            "", "   ", "[]", "null", "\"alert\"", "{", "}", "{}x",
            #"{"type":"alert","id":"x""#,
            #"{"type":"sent","id":"5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b","v":1}"#,
            #"{"type":"alert","id":7,"v":1}"#,
            #"{"type":"alert","id":"x","created_us":"soon","v":1}"#,
            #"{"type":"alert","id":"x","values":{"body":"unclosed}","v":1}"#,
            #"{"type":"alert","id":"x","values":{"body":"x"]}"#,
            #"{"type":"alert","id":"x","v":nope}"#,
            "{\"type\":\"alert\",\"id\":\"x\u{01}\"}",
            #"{"type":"alert","id":"x"}"#,  // no version
            #"{"type":"alert","id":"x","v":"1"}"#,
        ]
        for text in bad {
            let line = Data(text.utf8)
            #expect(Self.summary(line) == nil, "\(text)")
            #expect(Self.decoded(line) == nil, "\(text)")
        }
    }
}
