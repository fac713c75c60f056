import Foundation

extension Alert {
    /// The alert as the store queues it with its flip (`PingStore.append(_:to:flip:alerts:)`,
    /// `alerts/queued.jsonl`): one JSON object on one line, the outbox's `alert` line
    /// (docs/alerts.md) without its newline. The store does not read it; the outbox decodes it
    /// when it ingests the store's queued alerts at open.
    public func queueRecord() throws -> [UInt8] {
        var line = try OutboxLine(alert: self).encoded()
        line.removeLast()  // the newline
        return [UInt8](line)
    }

    /// `queueRecord()` of each alert, in order: what `PingStore.append(_:to:flip:alerts:)` takes.
    public static func queueRecords(_ alerts: [Alert]) throws -> [[UInt8]] {
        try alerts.map { try $0.queueRecord() }
    }

    /// The alert a `queueRecord()` holds; nil for anything else (a damaged line is skipped and
    /// counted, as the outbox's own unreadable lines are).
    public init?(queueRecord record: some Collection<UInt8>) {
        guard let line = try? JSONDecoder().decode(OutboxLine.self, from: Data(record)), line.held != true, let alert = line.alert else {
            return nil
        }
        self = alert
    }
}
