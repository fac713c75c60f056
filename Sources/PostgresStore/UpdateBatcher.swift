import Alerting
import Foundation
import Logging
import Monitoring
import PingStore
import PostgresNIO
import Synchronization

/// Group commit on PostgreSQL: updates wait in one queue; up to `maximumInFlight`
/// transactions run at once, each taking everything waiting (up to `maximumBatch`). Under a
/// light load a ping has a transaction of its own; under a heavy one, hundreds share one
/// commit. A transaction locks its checks' rows in UUID order (two transactions never wait for
/// each other in a cycle), decides each update from the stored state, writes states, pings,
/// flips and alerts in one statement, and notifies the other instances; completions run once
/// it committed, or with its error (then nothing of it is stored).
final class UpdateBatcher: Sendable {
    typealias Completion = @Sendable (Result<CheckUpdate.Outcome, any Error>) -> Void

    private struct Item: Sendable {
        let update: CheckUpdate
        let completion: Completion
    }

    private struct Queue {
        var pending: [Item] = []
        var running = 0
    }

    static let maximumBatch = 256
    static let maximumInFlight = 4
    /// A deadlock or serialization failure runs the transaction again, this many times at most.
    static let attempts = 5
    /// NOTIFY payloads stay under PostgreSQL's 8,000 bytes.
    static let notifyPayloadLimit = 7_000
    static let channel = "kiothc_checks"
    /// A transaction not committed by then fails (the pings in it are answered 503; one that
    /// committed after all is stored, never lost).
    static let timeout: Duration = .seconds(5)

    private let queue = Mutex(Queue())
    let client: PostgresClient
    let logger: Logger
    let keepPings: Int
    let instance: String

    init(client: PostgresClient, logger: Logger, keepPings: Int, instance: String) {
        self.client = client
        self.logger = logger
        self.keepPings = keepPings
        self.instance = instance
    }

    func submit(_ update: CheckUpdate, completion: @escaping Completion) {
        let start = queue.withLock { queue -> Bool in
            queue.pending.append(Item(update: update, completion: completion))
            guard queue.running < Self.maximumInFlight else { return false }
            queue.running += 1
            return true
        }
        if start { Task { await self.run() } }
    }

    /// Waits until nothing is queued or in flight, at most `limit`.
    func drain(upTo limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while queue.withLock({ $0.running > 0 || !$0.pending.isEmpty }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private func run() async {
        while true {
            let items = queue.withLock { queue -> [Item] in
                guard !queue.pending.isEmpty else {
                    queue.running -= 1
                    return []
                }
                let count = min(queue.pending.count, Self.maximumBatch)
                let items = Array(queue.pending.prefix(count))
                queue.pending.removeFirst(count)
                return items
            }
            if items.isEmpty { return }
            await commit(items)
        }
    }

    private func commit(_ items: [Item]) async {
        var attempt = 0
        while true {
            attempt += 1
            do {
                // Bounded: while the database is away the pool waits for a connection; the pings
                // waiting here are answered 503 instead of hanging.
                let updates = items.map(\.update)
                let outcomes = try await PostgresStore.within(Self.timeout, "store updates") {
                    try await self.client.withConnection { connection in
                        try await connection.withTransaction(logger: self.logger) { try await self.transaction(updates, on: $0) }
                    }
                }
                for (item, outcome) in zip(items, outcomes) { item.completion(outcome) }
                return
            } catch {
                let failure = DatabaseError("store \(items.count) update\(items.count == 1 ? "" : "s")", error)
                if failure.isRetryable && attempt < Self.attempts { continue }
                for item in items { item.completion(.failure(failure)) }
                return
            }
        }
    }

    struct UnknownCheck: Error, CustomStringConvertible {
        let check: UUID
        var description: String { "check \(check.lowercasedText) is not in the database (was it created by this configuration?)" }
    }

    /// One transaction's work: lock, decide, write, notify. Returns each update's outcome.
    private func transaction(_ updates: [CheckUpdate], on connection: PostgresConnection) async throws -> [Result<CheckUpdate.Outcome, any Error>] {
        let checks = Array(Set(updates.map(\.check)))
        var rows: [UUID: StateRow] = [:]
        for try await row in try await connection.query(
            "SELECT \(unescaped: StateRow.columns) FROM kiothc_checks WHERE uuid = ANY(\(checks)) ORDER BY uuid FOR UPDATE", logger: logger)
        {
            let state = try StateRow(row: row)
            rows[state.check] = state
        }
        var lastPings: [UUID: Ping] = [:]
        for check in Set(updates.filter(\.wantsLastPing).map(\.check)) {
            for try await row in try await connection.query(
                "SELECT \(unescaped: PingRecords.pingColumns) FROM kiothc_pings WHERE check_uuid = \(check) ORDER BY n DESC LIMIT 1", logger: logger)
            {
                lastPings[check] = try PingRecords.ping(row)
            }
        }

        let before = rows.mapValues(\.state.nPings)
        var decisions: [Result<CheckUpdate.Decision?, any Error>] = []
        var pings: [[UInt8]] = []
        var flips: [[UInt8]] = []
        var alerts: [[UInt8]] = []
        var changed: Set<UUID> = []
        for update in updates {
            guard var row = rows[update.check] else {
                decisions.append(.failure(UnknownCheck(check: update.check)))
                continue
            }
            guard var decision = update.decide(row.state, lastPings[update.check]) else {
                decisions.append(.success(nil))
                continue
            }
            if let ping = decision.ping {
                precondition(ping.n == row.state.nPings + 1, "a ping is numbered after the stored state's last")
                pings.append(PingRecords.record(ping, of: update.check))
                lastPings[update.check] = ping
            }
            if let flip = decision.flip {
                row.flips += 1
                flips.append(PingRecords.record(flip, n: row.flips, of: update.check))
            }
            // A check some instance retired (its config dropped it) stores what still comes
            // from instances on the old config, and alerts no more.
            if row.retired { decision.alerts = [] }
            for alert in decision.alerts { alerts.append(try Self.record(alert)) }
            row.state = decision.state
            rows[update.check] = row
            changed.insert(update.check)
            decisions.append(.success(decision))
        }
        func outcomes() -> [Result<CheckUpdate.Outcome, any Error>] {
            decisions.enumerated().map { index, result in
                result.map { decision in
                    let row = rows[updates[index].check]!
                    return CheckUpdate.Outcome(decision: decision, state: row.state, version: row.version)
                }
            }
        }
        guard !changed.isEmpty else { return outcomes() }

        var states: [[UInt8]] = []
        var prunes: [[UInt8]] = []
        for check in changed {
            rows[check]!.version += 1
            let row = rows[check]!
            states.append(row.record())
            let low = max(0, before[check]! - keepPings)
            let high = row.state.nPings - keepPings
            if keepPings > 0, high > low {
                var object = JSONLineWriter(capacity: 96)
                object.field("check_uuid", check)
                object.field("lo", Int64(low))
                object.field("hi", Int64(high))
                prunes.append(object.object())
            }
        }
        let notifications = Self.payloads(instance: instance, changed.map { ($0, rows[$0]!.version) })
        let written = try await connection.query(
            """
            WITH s AS (
                UPDATE kiothc_checks c SET status = x.status, n_pings = x.n_pings, n_flips = x.n_flips, last_ping_us = x.last_ping_us,
                    last_received_us = x.last_received_us, last_received_kind = x.last_received_kind, run_start_us = x.run_start_us,
                    run_rid = x.run_rid, last_duration_us = x.last_duration_us, recent_starts = x.recent_starts, version = x.version
                FROM jsonb_to_recordset(\(PingRecords.array(states))::jsonb) AS x(\(unescaped: StateRow.recordColumns))
                WHERE c.uuid = x.uuid RETURNING 1),
            p AS (
                INSERT INTO kiothc_pings (check_uuid, n, time_us, kind, method, scheme, remote_addr, user_agent, body, body_size, exit_status, rid, duration_us)
                SELECT check_uuid, n, time_us, kind, method, scheme, remote_addr, user_agent, decode(body, 'base64'), body_size, exit_status, rid, duration_us
                FROM jsonb_to_recordset(\(PingRecords.array(pings))::jsonb) AS x(\(unescaped: PingRecords.pingRecordColumns)) RETURNING 1),
            d AS (
                DELETE FROM kiothc_pings o USING jsonb_to_recordset(\(PingRecords.array(prunes))::jsonb) AS x(check_uuid uuid, lo bigint, hi bigint)
                WHERE o.check_uuid = x.check_uuid AND o.n > x.lo AND o.n <= x.hi RETURNING 1),
            f AS (
                INSERT INTO kiothc_flips (check_uuid, n, time_us, old, new, reason)
                SELECT * FROM jsonb_to_recordset(\(PingRecords.array(flips))::jsonb) AS x(\(unescaped: PingRecords.flipRecordColumns)) RETURNING 1),
            a AS (
                INSERT INTO kiothc_alerts (id, check_uuid, project, channel, record, created_us, next_attempt_us)
                SELECT id, check_uuid, project, channel, record, created_us, created_us
                FROM jsonb_to_recordset(\(PingRecords.array(alerts))::jsonb)
                    AS x(id uuid, check_uuid uuid, project text, channel text, record text, created_us bigint) RETURNING 1)
            SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM p), (SELECT count(*) FROM f), (SELECT count(*) FROM a),
                (SELECT count(pg_notify(\(Self.channel), t)) FROM unnest(\(notifications)::text[]) AS t)
            """, logger: logger)
        for try await (stored, storedPings, storedFlips, storedAlerts, _) in written.decode((Int64, Int64, Int64, Int64, Int64).self) {
            guard stored == states.count, storedPings == pings.count, storedFlips == flips.count, storedAlerts == alerts.count else {
                throw DatabaseError(
                    operation: "store updates",
                    message: "the database wrote \(stored) states, \(storedPings) pings, \(storedFlips) flips and \(storedAlerts) alerts, not what was asked")
            }
        }
        return outcomes()
    }

    /// An alert as `kiothc_alerts` takes it: its queue record (the outbox's line) and the
    /// columns claims look at.
    static func record(_ alert: Alert) throws -> [UInt8] {
        var object = JSONLineWriter(capacity: 512)
        object.field("id", alert.id)
        object.field("check_uuid", alert.check)
        object.field("project", alert.project)
        object.field("channel", alert.channel)
        object.field("record", String(decoding: try alert.queueRecord(), as: UTF8.self))
        object.field("created_us", alert.created)
        return object.object()
    }

    /// `"<instance> <uuid>:<version> …"`, split to stay under the NOTIFY payload limit.
    static func payloads(instance: String, _ versions: [(UUID, Int64)]) -> [String] {
        var payloads: [String] = []
        var current = instance
        for (check, version) in versions {
            let item = " \(check.lowercasedText):\(version)"
            if current.utf8.count + item.utf8.count > notifyPayloadLimit {
                payloads.append(current)
                current = instance
            }
            current += item
        }
        payloads.append(current)
        return payloads
    }
}
