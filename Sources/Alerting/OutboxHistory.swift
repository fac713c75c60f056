import Foundation

/// A check's alerts as the file store keeps them, for the API and the dashboard: the lines of
/// `alerts/outbox.jsonl` and then of `alerts/history/*.jsonl`, newest month first, until
/// enough alerts are found. Only the lines of the check's alerts are decoded: the others are
/// told apart by a byte search for the check's UUID and its alerts' ids.
///
/// The outbox is read before history: a compaction running meanwhile moves lines from the
/// first to the second, so an alert is then read twice (kept once) rather than missed.
enum OutboxHistory {
    static func records(directory: String, check: UUID, limit: Int, policy: RetryPolicy) -> [AlertRecord] {
        // Each record with its place in the files' order, for alerts queued in the same
        // microsecond: the outbox after every history month, a month after the one before it,
        // a line after the lines above it.
        var found: [UUID: (record: AlertRecord, place: Int)] = [:]
        var files = [directory + "/outbox.jsonl"]
        let history = directory + "/history"
        let months = ((try? FileManager.default.contentsOfDirectory(atPath: history)) ?? []).filter { $0.hasSuffix(".jsonl") }.sorted(by: >)
        files += months.map { history + "/" + $0 }
        for (rank, path) in files.enumerated() {
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)) else { continue }
            for (line, record) in records(in: data, check: check, policy: policy).enumerated() {
                if let known = found[record.alert.id], known.record.attempts.count >= record.attempts.count { continue }
                found[record.alert.id] = (record, (files.count - rank) << 32 | line)
            }
            // Months hold alerts by creation: an older month has only older alerts.
            if found.count >= limit { break }
        }
        let newestFirst = found.values.sorted { ($0.record.alert.created, $0.place) > ($1.record.alert.created, $1.place) }
        return newestFirst.prefix(limit).map(\.record)
    }

    /// The check's alerts in one file's bytes.
    static func records(in data: Data, check: UUID, policy: RetryPolicy) -> [AlertRecord] {
        let checkField = Data("\"check\":\"\(check.uuidString.lowercased())\"".utf8)
        var ids: Set<Data> = []
        var kept = Data()
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let id = id(of: line) else { continue }
            // An alert line names its check; its other lines (attempts, gave_up) follow it.
            if line.range(of: checkField) != nil {
                ids.insert(id)
            } else if !ids.contains(id) {
                continue
            }
            kept.append(contentsOf: line)
            kept.append(UInt8(ascii: "\n"))
        }
        return Outbox.replay(kept, policy: policy).entries.map(\.record)
    }

    /// The 36 bytes of a line's `"id":"…"`, nil for a line without one (`ingested`).
    private static func id(of line: Data.SubSequence) -> Data? {
        let field = Data("\"id\":\"".utf8)
        guard let range = line.range(of: field), line.distance(from: range.upperBound, to: line.endIndex) >= 36 else { return nil }
        return Data(line[range.upperBound..<line.index(range.upperBound, offsetBy: 36)])
    }
}

extension Outbox.Entry {
    var record: AlertRecord {
        let state: AlertRecord.State =
            delivered ? .delivered : withdrawn ? .withdrawn : gaveUp || nextAttempt == nil ? .gaveUp : waitsForSettlement ? .held : .pending
        return AlertRecord(
            alert: alert, attempts: attempts, state: state, nextAttempt: state == .pending ? nextAttempt : nil,
            reason: state == .withdrawn ? withdrawnReason : nil)
    }
}
