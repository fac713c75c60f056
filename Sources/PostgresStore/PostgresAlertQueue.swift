import Alerting
import Foundation
import Logging
import PingStore
import PostgresNIO
import Synchronization

/// The alert queue in PostgreSQL (`kiothc_alerts`), shared by every instance: alerts enter
/// it in their flip's transaction; any instance claims due ones with `FOR UPDATE SKIP LOCKED`
/// and a lease (`claimed_until_us`), so two instances never send the same alert at once, and
/// an instance killed while sending leaves it to another once the lease ends (at least once).
/// One alert per check and channel is out at a time, oldest first (an `up` never overtakes the
/// `down` before it).
public final class PostgresAlertQueue: AlertQueue {
    let client: PostgresClient
    let policy: RetryPolicy
    let logger: Logger
    /// How long a claim holds: the claimed alerts are tried 8 at a time, each within a webhook's
    /// or command's timeout (10 s), so 16 of them are done within 20 s; an instance killed
    /// while holding claims leaves them to the others a minute later at most.
    static let lease: Int64 = 60_000_000
    /// Alerts taken per claim (two rounds of the dispatcher's 8 at a time).
    static let claimLimit = 16
    /// Without a wakeup, delivery looks again this often: alerts queued by another instance
    /// that stopped before sending them, or whose claim (lease) ran out.
    public var pollInterval: Int64? { 5_000_000 }
    /// Failures are logged once per run of them.
    private let failing = Mutex(false)

    init(client: PostgresClient, policy: RetryPolicy, logger: Logger) {
        self.client = client
        self.policy = policy
        self.logger = logger
    }

    public func claimDue(at now: Int64) async -> [Alert] {
        do {
            let records = try await client.withConnection { connection in
                let rows = try await connection.query(
                    """
                    UPDATE kiothc_alerts SET claimed_until_us = \(now + Self.lease) WHERE id IN (
                        SELECT a.id FROM kiothc_alerts a
                        WHERE a.next_attempt_us <= \(now) AND (a.claimed_until_us IS NULL OR a.claimed_until_us < \(now))
                          AND NOT EXISTS (
                              SELECT 1 FROM kiothc_alerts b
                              WHERE b.check_uuid = a.check_uuid AND b.project = a.project AND b.channel = a.channel
                                AND b.next_attempt_us IS NOT NULL AND b.seq < a.seq)
                        ORDER BY a.seq LIMIT \(Int64(Self.claimLimit))
                        FOR UPDATE SKIP LOCKED)
                    RETURNING seq, record
                    """, logger: logger)
                var records: [(Int64, String)] = []
                for try await (seq, record) in rows.decode((Int64, String).self) { records.append((seq, record)) }
                return records
            }
            recovered()
            var alerts: [Alert] = []
            for (_, record) in records.sorted(by: { $0.0 < $1.0 }) {
                if let alert = Alert(queueRecord: Array(record.utf8)) {
                    alerts.append(alert)
                } else {
                    logger.error("skipped an alert in the database that cannot be read", metadata: ["record": "\(record.prefix(200))"])
                }
            }
            return alerts
        } catch {
            failed("claim due alerts", error)
            return []
        }
    }

    public func complete(_ id: UUID, with attempt: Attempt) async throws -> Outbox.Disposition {
        let policy = policy
        do {
            return try await client.withConnection { connection in
                try await connection.withTransaction(logger: self.logger) { connection in
                    var found: (Int, Int64)?
                    for try await (count, created) in try await connection.query(
                        "SELECT jsonb_array_length(attempts::jsonb), created_us FROM kiothc_alerts WHERE id = \(id) FOR UPDATE", logger: self.logger
                    ).decode((Int, Int64).self) {
                        found = (count, created)
                    }
                    guard let (count, created) = found else { return Outbox.Disposition.gaveUp }
                    let attempts = count + 1
                    let next = attempt.outcome == .delivered ? nil : policy.nextAttempt(after: attempts, lastAttempt: attempt.time, created: created)
                    let outcome: String? = next != nil ? nil : attempt.outcome == .delivered ? "delivered" : "gave_up"
                    try await connection.query(
                        """
                        UPDATE kiothc_alerts SET attempts = (attempts::jsonb || \(Self.json(attempt))::jsonb)::text,
                            next_attempt_us = \(next), claimed_until_us = NULL, outcome = \(outcome)
                        WHERE id = \(id)
                        """, logger: self.logger)
                    if let next { return .retry(at: next) }
                    return attempt.outcome == .delivered ? .delivered : .gaveUp
                }
            }
        } catch {
            throw DatabaseError("record an alert attempt", error)
        }
    }

    public func release(_ id: UUID) async {
        do {
            _ = try await client.withConnection { connection in
                try await connection.query("UPDATE kiothc_alerts SET claimed_until_us = NULL WHERE id = \(id)", logger: self.logger)
            }
        } catch {
            // The lease ends by itself; the alert is tried again then.
            failed("release a claimed alert", error)
        }
    }

    public func nextDue() async -> Int64? {
        do {
            return try await client.withConnection { connection -> Int64? in
                let rows = try await connection.query(
                    """
                    SELECT min(GREATEST(a.next_attempt_us, COALESCE(a.claimed_until_us, 0))) FROM kiothc_alerts a
                    WHERE a.next_attempt_us IS NOT NULL
                      AND NOT EXISTS (
                          SELECT 1 FROM kiothc_alerts b
                          WHERE b.check_uuid = a.check_uuid AND b.project = a.project AND b.channel = a.channel
                            AND b.next_attempt_us IS NOT NULL AND b.seq < a.seq)
                    """, logger: self.logger)
                for try await (value) in rows.decode(Int64?.self) { return value }
                return nil
            }
        } catch {
            failed("look for due alerts", error)
            return nil
        }
    }

    /// Alerts not finished (pending or being tried), for status and tests.
    public func pendingCount() async throws -> Int {
        try await client.withConnection { connection in
            for try await (count) in try await connection.query(
                "SELECT count(*) FROM kiothc_alerts WHERE next_attempt_us IS NOT NULL", logger: self.logger
            ).decode(Int64.self) {
                return Int(count)
            }
            return 0
        }
    }

    static func json(_ attempt: Attempt) -> String {
        var object = JSONLineWriter(capacity: 200)
        object.field("time_us", attempt.time)
        object.field("outcome", attempt.outcome.rawValue)
        object.field("status_code", attempt.statusCode.map(Int64.init))
        object.field("exit_status", attempt.exitStatus.map(Int64.init))
        object.field("error", attempt.error.map(PingRecords.text))
        object.field("duration_us", attempt.duration)
        return "[" + String(decoding: object.object(), as: UTF8.self) + "]"
    }

    private func failed(_ what: String, _ error: any Error) {
        let first = failing.withLock { failing in
            defer { failing = true }
            return !failing
        }
        if first { logger.error("alert delivery cannot \(what): \(DatabaseError(what, error)); retrying") }
    }

    private func recovered() {
        if failing.withLock({ failing in
            defer { failing = false }
            return failing
        }) {
            logger.notice("alert delivery reaches the database again")
        }
    }
}
