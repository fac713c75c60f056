import Alerting
import Foundation
import Logging
import Monitoring
import PingStore
import PostgresNIO
import Synchronization

/// Group commit on PostgreSQL with compare-and-set: updates wait in one queue; up to
/// `maximumInFlight` batches run at once, each taking what is waiting (up to `maximumBatch`),
/// never a check another batch of this instance has in flight. A batch decides each update
/// from the check's row as this instance last saw it (its own commits, reads, and the other
/// instances' notifications keep that copy current), then writes everything in ONE statement,
/// one round trip and one commit: each check's row changes only if its version is still the
/// one decided from (rows locked in UUID order, so two instances never deadlock), and its
/// pings, flips, alerts and the NOTIFY go in only for the rows that changed. A check whose
/// version moved (another instance wrote it meanwhile) is read again and decided again.
/// Completions run once their rows committed, or with the error (then nothing of them is
/// stored).
final class UpdateBatcher: Sendable {
    typealias Completion = @Sendable (Result<CheckUpdate.Outcome, any Error>) -> Void

    private struct Item: Sendable {
        let update: CheckUpdate
        let completion: Completion
    }

    private struct Queue {
        var pending: [Item] = []
        var running = 0
        /// Checks in a batch now: their later updates wait for the next batch, so this
        /// instance's own batches never race each other on a row.
        var inFlight: Set<UUID> = []
    }

    static let maximumBatch = 256
    static let maximumInFlight = 2
    /// A check whose version keeps moving is decided again at most this many times.
    static let attempts = 8
    static let channel = BatchWrite.channel
    /// A batch not committed by then fails (the pings in it are answered 503; one that
    /// committed after all is stored, never lost).
    static let timeout: Duration = .seconds(5)

    private let queue = Mutex(Queue())
    private let counters = Mutex(PostgresStore.Statistics())

    var statistics: PostgresStore.Statistics { counters.withLock { $0 } }
    /// Each check's row as this instance last saw it committed.
    private let rows = Mutex<[UUID: StateRow]>([:])
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

    /// Rows read elsewhere (a start, a notification): kept when newer than the copy here.
    func saw(_ seen: [StateRow]) {
        rows.withLock { rows in
            for row in seen where (rows[row.check]?.version ?? -1) < row.version { rows[row.check] = row }
        }
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
                var taken: [Item] = []
                var left: [Item] = []
                var checks: Set<UUID> = []
                for item in queue.pending {
                    let check = item.update.check
                    if taken.count < Self.maximumBatch, !queue.inFlight.contains(check) || checks.contains(check) {
                        taken.append(item)
                        checks.insert(check)
                        queue.inFlight.insert(check)
                    } else {
                        left.append(item)
                    }
                }
                queue.pending = left
                if taken.isEmpty { queue.running -= 1 }
                return taken
            }
            if items.isEmpty { return }
            await commit(items)
            queue.withLock { queue in
                for item in items { queue.inFlight.remove(item.update.check) }
            }
        }
    }

    private func commit(_ items: [Item]) async {
        var remaining = items
        var attempt = 0
        while !remaining.isEmpty {
            attempt += 1
            do {
                let batch = remaining
                let (done, lost) = try await PostgresStore.within(Self.timeout, "store updates") {
                    try await self.client.withConnection { try await self.attempt(batch, on: $0) }
                }
                for (item, outcome) in done { item.completion(outcome) }
                counters.withLock { counters in
                    counters.statements += 1
                    counters.updates += done.count
                    counters.conflicts += lost.count
                }
                remaining = lost
                if !lost.isEmpty && attempt >= Self.attempts {
                    let failure = DatabaseError(operation: "store updates", message: "another instance kept changing the check; try again")
                    for item in lost { item.completion(.failure(failure)) }
                    return
                }
            } catch {
                // The rows' state is unknown now: read again next time.
                rows.withLock { rows in for item in remaining { rows[item.update.check] = nil } }
                counters.withLock { $0.failedStatements += 1 }
                let failure = DatabaseError("store \(remaining.count) update\(remaining.count == 1 ? "" : "s")", error)
                for item in remaining { item.completion(.failure(failure)) }
                return
            }
        }
    }

    struct UnknownCheck: Error, CustomStringConvertible {
        let check: UUID
        var description: String { "check \(check.lowercasedText) is not in the database (was it created by this configuration?)" }
    }

    /// One round: decide every item from the rows as last seen (reading those not seen yet),
    /// write in one statement. Returns the outcomes of the items whose rows changed (or that
    /// changed nothing), and the items of checks whose version moved, to decide again.
    private func attempt(_ items: [Item], on connection: PostgresConnection) async throws
        -> (done: [(Item, Result<CheckUpdate.Outcome, any Error>)], lost: [Item])
    {
        let checks = Set(items.map(\.update.check))
        var known = rows.withLock { rows in checks.compactMap { rows[$0] } }
        let missing = checks.subtracting(known.map(\.check))
        if !missing.isEmpty {
            var read: [StateRow] = []
            for try await row in try await connection.query(
                "SELECT \(unescaped: StateRow.columns) FROM kiothc_checks WHERE uuid = ANY(\(Array(missing)))", logger: logger)
            {
                read.append(try StateRow(row: row))
            }
            saw(read)
            known += read
        }
        var current = Dictionary(known.map { ($0.check, $0) }, uniquingKeysWith: { $1 })
        var lastPings: [UUID: Ping] = [:]
        for check in Set(items.filter(\.update.wantsLastPing).map(\.update.check)) {
            for try await row in try await connection.query(
                "SELECT \(unescaped: PingRecords.pingColumns) FROM kiothc_pings WHERE check_uuid = \(check) ORDER BY n DESC LIMIT 1", logger: logger)
            {
                lastPings[check] = try PingRecords.ping(row)
            }
        }

        let before = current
        var decisions: [(Item, Result<CheckUpdate.Decision?, any Error>)] = []
        var pings: [[UInt8]] = []
        var flips: [[UInt8]] = []
        var alerts: [[UInt8]] = []
        var counts: [UUID: (pings: Int, flips: Int, alerts: Int)] = [:]
        for item in items {
            let check = item.update.check
            guard var row = current[check] else {
                decisions.append((item, .failure(UnknownCheck(check: check))))
                continue
            }
            guard var decision = item.update.decide(row.state, lastPings[check]) else {
                decisions.append((item, .success(nil)))
                continue
            }
            var count = counts[check] ?? (0, 0, 0)
            if let ping = decision.ping {
                precondition(ping.n == row.state.nPings + 1, "a ping is numbered after the stored state's last")
                pings.append(PingRecords.record(ping, of: check))
                lastPings[check] = ping
                count.pings += 1
            }
            if let flip = decision.flip {
                row.flips += 1
                flips.append(PingRecords.record(flip, n: row.flips, of: check))
                count.flips += 1
            }
            // A check some instance retired (its config dropped it) stores what still comes
            // from instances on the old config, and alerts no more.
            if row.retired { decision.alerts = [] }
            for alert in decision.alerts { alerts.append(try Self.record(alert)) }
            count.alerts += decision.alerts.count
            counts[check] = count
            row.state = decision.state
            current[check] = row
            decisions.append((item, .success(decision)))
        }

        var changed: [UUID] = []
        var states: [[UInt8]] = []
        var prunes: [[UInt8]] = []
        for (check, _) in counts {
            guard var row = current[check], let old = before[check] else { continue }
            row.version = old.version + 1
            current[check] = row
            changed.append(check)
            states.append(row.record(expected: old.version))
            let low = max(0, old.state.nPings - keepPings)
            let high = row.state.nPings - keepPings
            if keepPings > 0, high > low {
                var object = JSONLineWriter(capacity: 96)
                object.field("check_uuid", check)
                object.field("lo", Int64(low))
                object.field("hi", Int64(high))
                prunes.append(object.object())
            }
        }
        var won: Set<UUID> = []
        if !changed.isEmpty {
            let written = try await write(states: states, pings: pings, prunes: prunes, flips: flips, alerts: alerts, on: connection)
            won = written.checks
            let expected = won.reduce(into: (pings: 0, flips: 0, alerts: 0)) { total, check in
                total.pings += counts[check]?.pings ?? 0
                total.flips += counts[check]?.flips ?? 0
                total.alerts += counts[check]?.alerts ?? 0
            }
            if !won.isEmpty, written.pings != expected.pings || written.flips != expected.flips || written.alerts != expected.alerts {
                // Committed already: said loudly, as it would be a bug of this store.
                logger.critical(
                    "the database stored other rows than a batch decided",
                    metadata: [
                        "pings": "\(written.pings)/\(expected.pings)", "flips": "\(written.flips)/\(expected.flips)",
                        "alerts": "\(written.alerts)/\(expected.alerts)",
                    ])
            }
        }
        rows.withLock { rows in
            for check in changed {
                if won.contains(check) { rows[check] = current[check] } else { rows[check] = nil }
            }
        }
        var done: [(Item, Result<CheckUpdate.Outcome, any Error>)] = []
        var lost: [Item] = []
        for (item, decision) in decisions {
            let check = item.update.check
            if counts[check] != nil, !won.contains(check) {
                lost.append(item)
                continue
            }
            done.append(
                (
                    item,
                    decision.map { decision in
                        let row = won.contains(check) ? current[check]! : before[check]!
                        return CheckUpdate.Outcome(decision: decision, state: row.state, version: row.version)
                    }
                ))
        }
        return (done, lost)
    }

    /// The one statement of a batch (`BatchWrite`), prepared once per connection. Returns the
    /// checks whose rows changed and what was inserted for them.
    private func write(
        states: [[UInt8]], pings: [[UInt8]], prunes: [[UInt8]], flips: [[UInt8]], alerts: [[UInt8]], on connection: PostgresConnection
    ) async throws -> (checks: Set<UUID>, pings: Int, flips: Int, alerts: Int) {
        let statement = BatchWrite(
            states: PingRecords.array(states), pings: PingRecords.array(pings), prunes: PingRecords.array(prunes),
            flips: PingRecords.array(flips), alerts: PingRecords.array(alerts), instance: instance)
        var written: (checks: Set<UUID>, pings: Int, flips: Int, alerts: Int) = ([], 0, 0, 0)
        for try await (check, pings, flips, alerts, _) in try await connection.execute(statement, logger: logger) {
            written.checks.insert(check)
            (written.pings, written.flips, written.alerts) = (Int(pings), Int(flips), Int(alerts))
        }
        return written
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
        if alert.hold != nil && !alert.test { object.field("held", json: Array("true".utf8)) }
        return object.object()
    }
}
