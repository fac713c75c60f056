import Alerting
import CheckCatalog
import Foundation
import Logging
import Monitoring
import PingStore
import PostgresStore
import Synchronization

/// Status changes that do not come from pings, and what every flip sets off (SPEC §3, §6):
/// keeps each check's down deadline in a `DeadlineQueue`, flips checks whose deadline passed
/// (timestamped at the deadline), stores flips, queues their alerts, and pauses and resumes
/// checks at runtime.
///
/// `tick(at:)` does one round and is what tests call; `run()` loops it, sleeping until the next
/// deadline or until a ping moves one.
final class StatusEngine: Sendable {
    let states: CheckStates
    let catalog: CurrentCatalog
    let store: any CheckStore
    /// With a shared store, flips are claimed in its transactions (`claimDown`).
    let shared: (any SharedCheckStore)?
    let dispatcher: AlertDispatcher?
    let logger: Logger
    /// Microseconds since the epoch (wall time).
    let clock: @Sendable () -> Int64
    let queue = DeadlineQueue()
    /// Every check's deadline is still to be computed (by the first tick: a million checks'
    /// UUIDs put in the touched set were a quarter of a second before the server could answer).
    private let untouched = Atomic(true)
    let wakeup = Wakeup()
    /// Signalled by every stored flip and every reload: what held alerts wait for may have
    /// changed (`HeldAlertRelease` waits on it).
    let holdsChanged = Wakeup()
    /// A failed flip write is retried after this long.
    static let retryAfterStoreFailure: Int64 = 5_000_000
    /// Flips stored at once: group commit gives each batch one journal flush, so a round of
    /// many flips should reach the store as one batch (with 512, 100,000 checks going down in
    /// 30 s needed ~200 flushes and fell seconds behind on a busy disk). Bounds the memory of
    /// the appends in flight (about 1 KB each).
    static let concurrentFlips = 16_384

    private struct RulesCache {
        var catalog: ObjectIdentifier?
        var rules: [UUID: CheckRules] = [:]
    }
    private let rulesCache = Mutex(RulesCache())

    init(
        states: CheckStates, catalog: CurrentCatalog, store: any CheckStore, dispatcher: AlertDispatcher?, logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.states = states
        self.catalog = catalog
        self.store = store
        shared = store as? any SharedCheckStore
        self.dispatcher = dispatcher
        self.logger = logger
        self.clock = clock
    }

    /// The catalog was swapped (reload): the deadlines of the checks the change touches are
    /// recomputed on the next tick, and only their rules are derived again. A reload that
    /// edits one file of a 100,000-check fleet re-applies that file's checks, not the fleet.
    func catalogChanged(_ update: CatalogUpdate) {
        let affected = update.change.affectedUUIDs
        rulesCache.withLock { cache in
            cache.catalog = ObjectIdentifier(update.serving)
            for uuid in affected { cache.rules[uuid] = nil }
        }
        if !affected.isEmpty, queue.touch(all: affected) { wakeup.signal() }
        holdsChanged.signal()
    }

    func rules(_ entry: ServingCatalog.Entry, in snapshot: ServingCatalog) -> CheckRules {
        let id = ObjectIdentifier(snapshot)
        if let cached = rulesCache.withLock({ $0.catalog == id ? $0.rules[entry.uuid] : nil }) { return cached }
        let rules = CheckRules(entry.definition)
        rulesCache.withLock { cache in
            if cache.catalog != id { cache = RulesCache(catalog: id) }
            cache.rules[entry.uuid] = rules
        }
        return rules
    }

    // MARK: pings

    /// A ping moved the check's deadline: recomputed on the next tick.
    func moved(_ uuid: UUID) {
        if queue.touch(uuid) { wakeup.signal() }
    }


    // MARK: deadlines

    /// One round: recompute the deadlines of touched checks, flip every check whose deadline
    /// is at or before `now`. Returns the next deadline.
    @discardableResult
    func tick(at now: Int64) async -> Int64? {
        let snapshot = catalog.snapshot
        if untouched.exchange(false, ordering: .relaxed) { queue.touch(all: snapshot.uuids) }
        let touched = queue.takeTouched()
        if !touched.isEmpty {
            var deadlines: [(UUID, Int64?)] = []
            deadlines.reserveCapacity(touched.count)
            for uuid in touched {
                guard let entry = snapshot.check(uuid) else {
                    deadlines.append((uuid, nil))
                    continue
                }
                deadlines.append((uuid, states.downDeadline(of: uuid) { rules(entry, in: snapshot) }))
            }
            queue.set(deadlines)
        }

        if let shared {
            var due: [ServingCatalog.Entry] = []
            for (uuid, _) in queue.popDue(at: now) {
                guard let entry = snapshot.check(uuid) else { continue }
                let deadline = states.downDeadline(of: uuid) { rules(entry, in: snapshot) }
                if let deadline, deadline <= now { due.append(entry) } else { queue.set(uuid, deadline: deadline) }
            }
            if !due.isEmpty { await claimDown(due, at: now, in: shared, snapshot: snapshot) }
            return queue.nextDeadline
        }

        var flips: [(entry: ServingCatalog.Entry, transition: CheckStates.Transition)] = []
        for (uuid, _) in queue.popDue(at: now) {
            guard let entry = snapshot.check(uuid) else { continue }
            switch states.goDownIfDue(uuid, rules: rules(entry, in: snapshot), at: now) {
            case .notDue(let deadline): queue.set(uuid, deadline: deadline)
            case .wentDown(let transition): flips.append((entry, transition))
            }
        }
        if !flips.isEmpty { await wentDown(flips, snapshot: snapshot) }
        return queue.nextDeadline
    }

    private func wentDown(_ flips: [(entry: ServingCatalog.Entry, transition: CheckStates.Transition)], snapshot: ServingCatalog) async {
        // Each flip is stored with its alerts in one write, concurrently so group commit shares
        // flushes; the indexes of refused flips come back.
        var stored: [(flip: Flip, alerts: [Alert])] = []
        for (entry, transition) in flips {
            let lastPing = wantsAlerts(entry, snapshot) ? (try? await store.pings(of: entry.uuid, limit: 1))?.first : nil
            stored.append(
                consequences(
                    of: transition.flip, of: entry, lastPing: lastPing, snapshot: snapshot,
                    downDependencies: snapshot.downDependencies(of: entry.uuid, in: states)))
        }
        var failed: [(index: Int, error: String)] = []
        await withTaskGroup(of: (Int, String)?.self) { group in
            var running = 0
            for (index, (entry, _)) in flips.enumerated() {
                if running >= Self.concurrentFlips, let result = await group.next() {
                    running -= 1
                    if let result { failed.append(result) }
                }
                running += 1
                let (flip, alerts) = stored[index]
                group.addTask {
                    do {
                        try await self.store.record(flip, of: entry.uuid, alerts: alerts)
                        return nil
                    } catch {
                        return (index, "\(error)")
                    }
                }
            }
            for await result in group {
                if let result { failed.append(result) }
            }
        }
        let storedAt = clock()
        // Timeouts take checks down: nothing held is freed by them.
        if failed.count < flips.count, stored.contains(where: { !$0.alerts.isEmpty }) { dispatcher?.wakeup.signal() }
        for (index, error) in failed {
            let (entry, transition) = flips[index]
            states.undo(transition, of: entry.uuid)
            notStored(entry, error, at: storedAt)
        }
        let failedIndexes = Set(failed.map(\.index))
        logWentDown(
            flips.enumerated().filter { !failedIndexes.contains($0.offset) }.map { ($0.element.entry, stored[$0.offset].flip) }, failures: failed.count,
            at: storedAt)
    }

    /// The shared store's deadlines: each due check's flip is decided again in the store's
    /// transaction, from the state it holds there. Another instance may have flipped it
    /// already, or a ping it took may have moved the deadline: then nothing is stored, and
    /// the refreshed state gives the deadline from here on. So a flip happens once, however
    /// many instances watch it.
    private func claimDown(_ due: [ServingCatalog.Entry], at now: Int64, in shared: any SharedCheckStore, snapshot: ServingCatalog) async {
        // Dependencies' states from the database (another instance may have flipped one a
        // moment ago): what holds the alerts of the checks going down.
        let dependencies = Set(due.flatMap { snapshot.dependencies(of: $0.uuid).map(\.uuid) })
        let statuses = await HoldStatuses.current(of: Array(dependencies), in: shared, cache: states)
        let results = await withTaskGroup(of: (ServingCatalog.Entry, Result<CheckUpdate.Outcome, any Error>).self) { group in
            for entry in due {
                let rules = rules(entry, in: snapshot)
                let update = CheckUpdate(check: entry.uuid, wantsLastPing: wantsAlerts(entry, snapshot)) { [self] state, lastPing in
                    guard let deadline = state.deadlines(under: rules)?.down, deadline <= now, let (next, flip) = state.goingDown(at: deadline) else {
                        return nil
                    }
                    let (marked, alerts) = consequences(
                        of: flip, of: entry, lastPing: lastPing, snapshot: snapshot, downDependencies: snapshot.downDependencies(of: entry.uuid, in: statuses))
                    return CheckUpdate.Decision(state: next, flip: marked, alerts: alerts)
                }
                group.addTask {
                    do {
                        return (entry, .success(try await shared.update(update)))
                    } catch {
                        return (entry, .failure(error))
                    }
                }
            }
            var results: [(ServingCatalog.Entry, Result<CheckUpdate.Outcome, any Error>)] = []
            for await result in group { results.append(result) }
            return results
        }
        let stored = clock()
        var flips: [(ServingCatalog.Entry, Flip)] = []
        var failures = 0
        for (entry, result) in results {
            switch result {
            case .success(let outcome):
                states.refresh(entry.uuid, to: outcome.state, version: outcome.version)
                moved(entry.uuid)
                if let flip = outcome.decision?.flip { flips.append((entry, flip)) }
            case .failure(let error):
                failures += 1
                notStored(entry, error, at: stored)
            }
        }
        if !flips.isEmpty { dispatcher?.wakeup.signal() }
        if !flips.isEmpty || failures > 0 { logWentDown(flips, failures: failures, at: stored) }
    }

    private func notStored(_ entry: ServingCatalog.Entry, _ error: Any, at now: Int64) {
        queue.set(entry.uuid, deadline: now + Self.retryAfterStoreFailure)
        logger.error(
            "cannot store a down flip; retrying in 5 s: \(error)",
            metadata: ["check.uuid": "\(entry.uuid.uuidString.lowercased())", "check": "\(entry.definition.id)"])
    }

    private func logWentDown(_ flips: [(ServingCatalog.Entry, Flip)], failures: Int, at stored: Int64) {
        var maxLag: Int64 = 0
        for (entry, flip) in flips {
            maxLag = max(maxLag, stored - flip.time)
            logger.info(
                "check went down: no ping in time",
                metadata: [
                    "check.uuid": "\(entry.uuid.uuidString.lowercased())", "check": "\(entry.definition.id)",
                    "deadline": "\(UTCTime.secondsZ(flip.time))", "old": "\(flip.old.rawValue)",
                ])
        }
        logger.notice(
            "checks went down at their deadline",
            metadata: ["count": "\(flips.count)", "max_lag_ms": "\(maxLag / 1_000)", "store_failures": "\(failures)"])
    }

    private func wantsAlerts(_ entry: ServingCatalog.Entry, _ snapshot: ServingCatalog) -> Bool {
        guard dispatcher != nil, !entry.definition.paused, let project = snapshot.catalog.project(entry.definition.id.project) else { return false }
        switch entry.definition.channels {
        case .all: return !project.channels.isEmpty
        case .named(let names): return !names.isEmpty
        }
    }

    /// A flip as it is stored, marked with what holds its alerts back (SPEC §14), and its
    /// alerts (held when something holds them). `downDependencies`: the check's dependencies
    /// that are down now.
    func consequences(
        of flip: Flip, of entry: ServingCatalog.Entry, lastPing: Ping?, snapshot: ServingCatalog, downDependencies: [String]
    ) -> (flip: Flip, alerts: [Alert]) {
        let marked = flip.marked(by: entry.definition, downDependencies: downDependencies)
        guard dispatcher != nil else { return (marked, []) }
        let project = snapshot.catalog.project(entry.definition.id.project)
        return (marked, Alert.alerts(for: marked, of: entry.uuid, definition: entry.definition, project: project, lastPing: lastPing, now: clock()))
    }

    /// A flip was stored with its alerts: they are due; and when a check came out of `down`,
    /// alerts held for it may be free to go.
    func stored(_ flip: Flip, alerts: [Alert]) {
        if !alerts.isEmpty { dispatcher?.wakeup.signal() }
        if flip.old == .down { holdsChanged.signal() }
    }

    /// Until cancelled: tick, then sleep until the next deadline (at most a minute, so a clock
    /// step is noticed) or until a ping or reload moves a deadline. Pings that move deadlines
    /// are handled at most every `touchedInterval`: under load a wakeup per ping cost a
    /// task switch, a timer and a tick each (profile of the ping benchmark); a deadline a ping
    /// moved is then seen at most that much later.
    func run() async {
        var first = true
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let now = clock()
            let next = await tick(at: now)
            if first {
                // The first tick computed every check's deadline: the last of the start's
                // temporaries. Trimming after it saved ~0.5 KB per idle check (SPEC §9).
                first = false
                HeapTrim.afterLoad(checks: catalog.snapshot.count)
            }
            let wait = min(next.map { max(0, $0 - now) } ?? 60_000_000, 60_000_000)
            if wait == 0 { continue }
            await wakeup.wait(upTo: .microseconds(wait))
            let earliest = started + Self.touchedInterval
            if ContinuousClock.now < earliest, !Task.isCancelled {
                try? await Task.sleep(until: min(earliest, started + .microseconds(wait)), clock: .continuous)
            }
        }
    }

    /// The shortest time between two ticks started by touched checks (see `run`).
    static let touchedInterval: Duration = .milliseconds(100)

    // MARK: pause and resume

    enum PauseError: Error, Sendable, CustomStringConvertible {
        case unknownCheck
        case notPaused
        case notStored(String)

        var description: String {
            switch self {
            case .unknownCheck: "no such check"
            case .notPaused: "the check is not paused"
            case .notStored(let reason): "the change could not be stored: \(reason)"
            }
        }
    }

    /// Pauses a check at runtime (stored as a `pause` flip in its flips file, which is what
    /// a restart reads back). Returns nil when it was already paused.
    @discardableResult
    func pause(_ uuid: UUID) async throws(PauseError) -> Flip? {
        guard catalog.snapshot.check(uuid) != nil else { throw .unknownCheck }
        if let shared {
            let now = clock()
            return try await transition(uuid, in: shared) { $0.pausing(at: now) }
        }
        guard let transition = states.pause(uuid, at: clock()) else { return nil }
        return try await store(transition, of: uuid)
    }

    /// Resumes a paused check: it becomes `new` (no deadline until its next ping).
    @discardableResult
    func resume(_ uuid: UUID) async throws(PauseError) -> Flip {
        guard catalog.snapshot.check(uuid) != nil else { throw .unknownCheck }
        if let shared {
            let now = clock()
            guard let flip = try await transition(uuid, in: shared, { $0.resuming(at: now) }) else { throw .notPaused }
            return flip
        }
        guard let transition = states.resume(uuid, at: clock()) else { throw .notPaused }
        return try await store(transition, of: uuid)
    }

    /// Pause or resume decided in the shared store's transaction; nil when it changed nothing.
    private func transition(
        _ uuid: UUID, in shared: any SharedCheckStore, _ decide: @escaping @Sendable (CheckState) -> (state: CheckState, flip: Flip)?
    ) async throws(PauseError) -> Flip? {
        let outcome: CheckUpdate.Outcome
        do {
            outcome = try await shared.update(
                CheckUpdate(check: uuid) { state, _ in decide(state).map { CheckUpdate.Decision(state: $0.state, flip: $0.flip) } })
        } catch {
            throw .notStored("\(error)")
        }
        states.refresh(uuid, to: outcome.state, version: outcome.version)
        guard let flip = outcome.decision?.flip else { return nil }
        if queue.touch(uuid) { wakeup.signal() }
        // A paused check's held alerts are withdrawn; a paused dependency holds nothing.
        holdsChanged.signal()
        logger.notice("check \(flip.reason == .pause ? "paused" : "resumed")", metadata: ["check.uuid": "\(uuid.uuidString.lowercased())"])
        return flip
    }

    private func store(_ transition: CheckStates.Transition, of uuid: UUID) async throws(PauseError) -> Flip {
        do {
            try await store.record(transition.flip, of: uuid, alerts: [])
        } catch {
            states.undo(transition, of: uuid)
            throw .notStored("\(error)")
        }
        if queue.touch(uuid) { wakeup.signal() }
        // A paused check's held alerts are withdrawn; a paused dependency holds nothing.
        holdsChanged.signal()
        logger.notice(
            "check \(transition.flip.reason == .pause ? "paused" : "resumed")",
            metadata: ["check.uuid": "\(uuid.uuidString.lowercased())"])
        return transition.flip
    }
}
