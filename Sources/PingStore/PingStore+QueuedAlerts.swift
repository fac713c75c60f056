#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The lines of `alerts/queued.jsonl`, read whole (a trim keeps it small).
public struct QueuedAlerts: Sendable, Equatable {
    /// Oldest first, numbers ascending.
    public var alerts: [QueuedAlert]
    /// Lines that are not a queued alert the store wrote (damaged by hand, or an unterminated
    /// last line of an append in progress): not returned, counted for the log.
    public var skipped: Int
}

extension StoreReader {
    /// The queued alerts numbered above `n`; the file's last line is always returned too, so a
    /// caller learns the numbering's end even when it has seen everything.
    public func queuedAlerts(after n: Int = 0) throws -> QueuedAlerts {
        guard let bytes = try FileSystem.readAll(data.queuedAlerts) else { return QueuedAlerts(alerts: [], skipped: 0) }
        var result = QueuedAlerts(alerts: [], skipped: 0)
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        // The part after the last newline: empty, or an append in progress.
        if let tail = lines.popLast(), !tail.isEmpty { result.skipped += 1 }
        for (index, line) in lines.enumerated() {
            guard let alert = QueuedAlertLine.decode(line) else {
                result.skipped += 1
                continue
            }
            if alert.n > n || index == lines.count - 1 { result.alerts.append(alert) }
        }
        return result
    }
}

extension PingStore {
    /// See `StoreReader.queuedAlerts(after:)`. The outbox ingests these at open.
    public func queuedAlerts(after n: Int = 0) throws -> QueuedAlerts {
        try reader.queuedAlerts(after: n)
    }

    /// Drop the lines of `alerts/queued.jsonl` numbered `n` or less, which the outbox has
    /// durably ingested (`Outbox.ingestedThrough()`), keeping always the last line (it carries
    /// the numbering on, across restarts). Unreadable lines before the last line dropped go too
    /// (the outbox skipped and reported them when it read past them). The rewrite runs on this
    /// thread while appends go on; the writer copies what arrived meanwhile and renames, as for
    /// a compaction, so no line above `n` is lost. Returns the lines dropped. Blocking: run it
    /// off the request path.
    @discardableResult
    public func trimQueuedAlerts(through n: Int) throws -> Int {
        let claimed = shared.withLock { state -> Bool in
            defer { state.trimmingQueuedAlerts = true }
            return !state.trimmingQueuedAlerts
        }
        guard claimed else { return 0 }
        defer { shared.withLock { $0.trimmingQueuedAlerts = false } }

        return try rewrite(data.queuedAlerts, through: "\(data.alerts)/.queued.jsonl.compact") { lines in
            var dropped = 0
            for (index, line) in lines.dropLast().enumerated() {
                if let number = QueuedAlertLine.number(line), number <= n { dropped = index + 1 }
            }
            return dropped
        }
    }
}
