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
///
/// A held alert (SPEC §14, `Alert.hold`) is pending with `held` set and `next_attempt_us` the
/// largest bigint: never due, yet it blocks the alerts behind it like any pending one, until
/// `settle` releases (due at once) or withdraws it.
public final class PostgresAlertQueue: AlertQueue {
    /// `next_attempt_us` of a held alert: due never, but pending.
    static let heldUntil = Int64.max
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
                          AND (a.test OR NOT EXISTS (
                              SELECT 1 FROM kiothc_alerts b
                              WHERE b.check_uuid = a.check_uuid AND b.project = a.project AND b.channel = a.channel
                                AND b.next_attempt_us IS NOT NULL AND NOT b.test AND b.seq < a.seq))
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
                    var found: (Int, String)?
                    for try await (count, record) in try await connection.query(
                        "SELECT jsonb_array_length(attempts::jsonb), record FROM kiothc_alerts WHERE id = \(id) FOR UPDATE", logger: self.logger
                    ).decode((Int, String).self) {
                        found = (count, record)
                    }
                    guard let (count, record) = found, let alert = Alert(queueRecord: Array(record.utf8)) else { return Outbox.Disposition.gaveUp }
                    let next = policy.next(after: attempt, number: count + 1, of: alert)
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
                    WHERE a.next_attempt_us IS NOT NULL AND NOT a.held
                      AND (a.test OR NOT EXISTS (
                          SELECT 1 FROM kiothc_alerts b
                          WHERE b.check_uuid = a.check_uuid AND b.project = a.project AND b.channel = a.channel
                            AND b.next_attempt_us IS NOT NULL AND NOT b.test AND b.seq < a.seq))
                    """, logger: self.logger)
                for try await (value) in rows.decode(Int64?.self) { return value }
                return nil
            }
        } catch {
            failed("look for due alerts", error)
            return nil
        }
    }

    public func enqueue(_ alert: Alert) async throws {
        // A test is never held (nothing holds it back: it has no flip).
        let held = alert.hold != nil && !alert.test
        let record = String(decoding: try alert.queueRecord(), as: UTF8.self)
        do {
            _ = try await client.withConnection { connection in
                try await connection.query(
                    """
                    INSERT INTO kiothc_alerts (id, check_uuid, project, channel, record, created_us, next_attempt_us, test, held)
                    VALUES (\(alert.id), \(alert.check), \(alert.project), \(alert.channel), \(record), \(alert.created),
                        \(held ? Self.heldUntil : alert.created), \(alert.test), \(held))
                    """, logger: self.logger)
            }
        } catch {
            throw DatabaseError("queue a notification", error)
        }
    }

    public func record(of id: UUID) async throws -> AlertRecord? {
        try await records("read a notification", "WHERE id = \(id)").first
    }

    public func history(of check: UUID, limit: Int) async throws -> [AlertRecord] {
        try await records("read a check's notifications", "WHERE check_uuid = \(check) ORDER BY seq DESC LIMIT \(Int64(limit))")
    }

    private func records(_ what: String, _ selection: PostgresQuery) async throws -> [AlertRecord] {
        var query = PostgresQuery(unsafeSQL: "SELECT record, attempts, outcome, next_attempt_us, held, withdrawn_reason FROM kiothc_alerts ")
        query.sql += selection.sql
        query.binds = selection.binds
        do {
            return try await client.withConnection { connection in
                var records: [AlertRecord] = []
                for try await (record, attempts, outcome, next, held, reason) in try await connection.query(query, logger: self.logger).decode(
                    (String, String, String?, Int64?, Bool, String?).self)
                {
                    guard let alert = Alert(queueRecord: Array(record.utf8)) else { continue }
                    let state: AlertRecord.State =
                        switch outcome {
                        case "delivered"?: .delivered
                        case "withdrawn"?: .withdrawn
                        case nil: held ? .held : .pending
                        default: .gaveUp
                        }
                    records.append(
                        AlertRecord(
                            alert: alert, attempts: Self.attempts(attempts), state: state, nextAttempt: state == .pending ? next : nil,
                            reason: state == .withdrawn ? reason : nil))
                }
                return records
            }
        } catch {
            throw DatabaseError(what, error)
        }
    }

    /// The held alerts by their index (`kiothc_alerts_held`), then each one's check and channel
    /// from its oldest held alert on (by the check's index).
    static let heldBackSQL = """
        SELECT a.record, a.held FROM kiothc_alerts a
        JOIN (SELECT check_uuid, project, channel, min(seq) AS first FROM kiothc_alerts WHERE held GROUP BY check_uuid, project, channel) h
          ON a.check_uuid = h.check_uuid AND a.project = h.project AND a.channel = h.channel AND a.seq >= h.first
        WHERE a.next_attempt_us IS NOT NULL AND NOT a.test
        ORDER BY a.seq
        """

    public func heldBack() async throws -> [HeldBackAlert] {
        do {
            return try await client.withConnection { connection in
                let rows = try await connection.query(PostgresQuery(unsafeSQL: Self.heldBackSQL), logger: self.logger)
                var found: [HeldBackAlert] = []
                for try await (record, held) in rows.decode((String, Bool).self) {
                    guard let alert = Alert(queueRecord: Array(record.utf8)) else {
                        self.logger.error("skipped a held-back alert in the database that cannot be read", metadata: ["record": "\(record.prefix(200))"])
                        continue
                    }
                    found.append(HeldBackAlert(alert: alert, held: held))
                }
                return found
            }
        } catch {
            throw DatabaseError("read the held-back alerts", error)
        }
    }

    /// In one transaction: the withdrawals in one statement (so each sees the held alerts as
    /// they were before this call), then the releases. Each row is changed only while it still
    /// qualifies (pending, not claimed, held back: held, or behind a held one of its check and
    /// channel; held, for `.send`): of two instances settling the same alert, the second waits
    /// for the first's row lock, finds it no longer qualifies, and changes nothing.
    public func settle(_ decisions: [UUID: Settlement], at now: Int64) async throws -> Set<UUID> {
        let sent = decisions.compactMap { $0.value == .send ? $0.key : nil }
        var withdrawn: [UUID] = []
        var reasons: [String] = []
        for (id, decision) in decisions {
            guard case .withdraw(let reason) = decision else { continue }
            withdrawn.append(id)
            reasons.append(PingRecords.text(reason))
        }
        guard !decisions.isEmpty else { return [] }
        do {
            return try await client.withConnection { connection in
                try await connection.withTransaction(logger: self.logger) { connection in
                    var changed: Set<UUID> = []
                    if !withdrawn.isEmpty {
                        for try await (id) in try await connection.query(
                            """
                            UPDATE kiothc_alerts a SET held = false, next_attempt_us = NULL, claimed_until_us = NULL, outcome = 'withdrawn',
                                withdrawn_reason = d.reason
                            FROM unnest(\(withdrawn)::uuid[], \(reasons)::text[]) AS d(id, reason)
                            WHERE a.id = d.id AND a.next_attempt_us IS NOT NULL AND NOT a.test
                              AND (a.claimed_until_us IS NULL OR a.claimed_until_us < \(now))
                              AND (a.held OR EXISTS (
                                  SELECT 1 FROM kiothc_alerts h
                                  WHERE h.held AND h.check_uuid = a.check_uuid AND h.project = a.project AND h.channel = a.channel AND h.seq < a.seq))
                            RETURNING a.id
                            """, logger: self.logger
                        ).decode(UUID.self) {
                            changed.insert(id)
                        }
                    }
                    if !sent.isEmpty {
                        for try await (id) in try await connection.query(
                            """
                            UPDATE kiothc_alerts SET held = false, next_attempt_us = \(now)
                            WHERE id = ANY(\(sent)) AND held AND next_attempt_us IS NOT NULL RETURNING id
                            """, logger: self.logger
                        ).decode(UUID.self) {
                            changed.insert(id)
                        }
                    }
                    return changed
                }
            }
        } catch {
            throw DatabaseError("settle held-back alerts", error)
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
        if attempt.permanent { object.field("permanent", json: Array("true".utf8)) }
        if let reply = attempt.reply { object.field("reply", PingRecords.text(reply)) }
        return "[" + String(decoding: object.object(), as: UTF8.self) + "]"
    }

    /// The `attempts` column read back (what `json` appended, one object per attempt).
    static func attempts(_ text: String) -> [Attempt] {
        struct Stored: Decodable {
            var time_us: Int64
            var outcome: Attempt.Outcome
            var status_code: Int?
            var exit_status: Int32?
            var error: String?
            var duration_us: Int64?
            var permanent: Bool?
            var reply: String?
        }
        let stored = (try? JSONDecoder().decode([Stored].self, from: Data(text.utf8))) ?? []
        return stored.map {
            Attempt(
                time: $0.time_us, outcome: $0.outcome, statusCode: $0.status_code, exitStatus: $0.exit_status, error: $0.error,
                duration: $0.duration_us ?? 0, permanent: $0.permanent == true, reply: $0.reply)
        }
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
