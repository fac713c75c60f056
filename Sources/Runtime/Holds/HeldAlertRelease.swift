import Alerting
import Foundation
import Logging
import Monitoring
import Synchronization

/// Settles held alerts (SPEC §14): once a check is out of its maintenance windows and none of
/// the checks it depends on is down, its held alerts are sent or withdrawn
/// (`HeldAlertSettlement`). The alerts wait in the alert queue, so a restart or a reload loses
/// none: this only decides, whenever what they wait for may have changed — a window ends (its
/// end is the next tick), a flip is stored, a reload is applied — and at least every
/// `pollInterval` (with a shared store, other instances' flips arrive as state refreshes).
///
/// `tick(at:)` does one round and is what tests call; `run()` loops it.
final class HeldAlertRelease: Sendable {
    let queue: any AlertQueue
    /// With a shared store, statuses are read from it before deciding (`HoldStatuses`).
    let shared: (any SharedCheckStore)?
    let catalog: CurrentCatalog
    let states: CheckStates
    let dispatcher: AlertDispatcher
    let logger: Logger
    let clock: @Sendable () -> Int64
    /// Signalled by flips and reloads (`StatusEngine.holdsChanged`).
    let changed: Wakeup
    /// Alerts held after the last round, for `/metrics`.
    let heldCount = Atomic<Int>(0)
    /// A failed read or settlement of the queue is tried again after this long.
    static let retryAfterFailure: Int64 = 5_000_000

    init(
        queue: any AlertQueue, shared: (any SharedCheckStore)?, catalog: CurrentCatalog, states: CheckStates, dispatcher: AlertDispatcher, changed: Wakeup, logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.queue = queue
        self.shared = shared
        self.catalog = catalog
        self.states = states
        self.dispatcher = dispatcher
        self.changed = changed
        self.logger = logger
        self.clock = clock
    }

    /// How often a round runs without being woken.
    var pollInterval: Int64 { min(queue.pollInterval ?? 60_000_000, 60_000_000) }

    /// One round: settles the held alerts of every check nothing holds any more. Returns when
    /// the next maintenance window of a check with held alerts ends (nil: no such window).
    @discardableResult
    func tick(at now: Int64) async -> Int64? {
        let alerts: [HeldBackAlert]
        do {
            alerts = try await queue.heldBack()
        } catch {
            logger.error("cannot read the held alerts; trying again in 5 s: \(error)")
            return now + Self.retryAfterFailure
        }
        heldCount.store(alerts.count { $0.held }, ordering: .relaxed)
        let snapshot = catalog.snapshot
        guard !alerts.isEmpty, snapshot !== ServingCatalog.empty else { return nil }

        var byCheck: [UUID: [HeldBackAlert]] = [:]
        for item in alerts { byCheck[item.alert.check, default: []].append(item) }
        // With a shared store, the statuses as the database has them now: another instance's
        // flip (the check's own, or a dependency's) may not be in this one's states yet.
        let involved = byCheck.keys.flatMap { [$0] + snapshot.dependencies(of: $0).map(\.uuid) }
        let statuses = await HoldStatuses.current(of: Array(Set(involved)), in: shared, cache: states)
        var decisions: [UUID: Settlement] = [:]
        var windowEnd: Int64?
        for (check, items) in byCheck {
            guard let entry = snapshot.check(check) else {
                for item in items { decisions[item.alert.id] = .withdraw(reason: "the check was removed from the configuration") }
                continue
            }
            if let period = entry.definition.maintenance.period(at: now) {
                windowEnd = min(windowEnd ?? period.end, period.end)
                continue
            }
            if !snapshot.downDependencies(of: check, in: statuses).isEmpty { continue }
            decisions.merge(HeldAlertSettlement.decide(items, status: statuses.status(of: check), paused: entry.definition.paused)) { $1 }
        }
        guard !decisions.isEmpty else { return windowEnd }

        let settled: Set<UUID>
        do {
            settled = try await queue.settle(decisions, at: now)
        } catch {
            logger.error("cannot settle held alerts; trying again in 5 s: \(error)")
            return now + Self.retryAfterFailure
        }
        var released = false
        for item in alerts where settled.contains(item.alert.id) {
            let alert = item.alert
            let metadata: Logger.Metadata = [
                "check.uuid": "\(alert.check.uuidString.lowercased())", "channel": "\(alert.project)/\(alert.channel)",
                "direction": "\(alert.direction.rawValue)", "alert.id": "\(alert.id.uuidString.lowercased())",
                "held_for": "\(alert.hold?.description ?? "an earlier held alert")",
            ]
            switch decisions[alert.id] {
            case .send:
                released = true
                logger.notice("held alert released: nothing holds the check any more", metadata: metadata)
            case .withdraw(let reason):
                logger.info("held alert withdrawn, not sent: \(reason)", metadata: metadata)
            case nil:
                break
            }
        }
        if released { dispatcher.wakeup.signal() }
        heldCount.store(alerts.count { $0.held && !settled.contains($0.alert.id) }, ordering: .relaxed)
        return windowEnd
    }

    /// Until cancelled: a round, then sleep until the next window end, a flip, a reload, or
    /// `pollInterval`. Rounds started by flips are at least `flipInterval` apart: a storm of
    /// flips (thousands of checks down at once) costs a round a second, not one per flip.
    func run() async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let now = clock()
            let next = await tick(at: now)
            let wait = min(next.map { max(1_000, $0 - now) } ?? pollInterval, pollInterval)
            await changed.wait(upTo: .microseconds(wait))
            let earliest = started + Self.flipInterval
            if ContinuousClock.now < earliest, !Task.isCancelled {
                try? await Task.sleep(until: min(earliest, started + .microseconds(wait)), clock: .continuous)
            }
        }
    }

    /// The shortest time between two rounds started by flips (see `run`).
    static let flipInterval: Duration = .milliseconds(250)
}
