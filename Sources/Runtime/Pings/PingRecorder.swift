import Alerting
import Foundation
import Logging
import Monitoring
import PostgresStore
import Synchronization

/// Records pings: applies each to its check's state, stores it with the flip it caused and
/// that flip's alerts (one write), and moves the check's deadline. One core,
/// `record(_:to:completion:)`, which never suspends (the event loop's ping path); the async
/// `record(_:to:)` wraps it for the responder's.
///
/// With the file store the states here are the authority: the ping is applied under their
/// lock and handed to the store. With a shared store (PostgreSQL) the store's are: the ping is
/// applied in its transaction to the state it holds, and the outcome refreshes the cache here.
public final class PingRecorder: Sendable {
    let states: CheckStates
    let store: any CheckStore
    let shared: (any SharedCheckStore)?
    let catalog: CurrentCatalog
    let deadlines: StatusEngine
    let clock: RuntimeClock
    /// Pings stored and append latency, for `/metrics`.
    public let meter = PingMeter()
    /// "ping not stored" lines: the first of a run of failures, then one per 10 s.
    let storeFailures = ThrottledLog(interval: .seconds(10))

    init(
        states: CheckStates, store: any CheckStore, catalog: CurrentCatalog, deadlines: StatusEngine,
        clock: RuntimeClock
    ) {
        self.states = states
        self.store = store
        shared = store as? any SharedCheckStore
        self.catalog = catalog
        self.deadlines = deadlines
        self.clock = clock
    }

    /// A ping applied to its check's state and handed to the store.
    public struct Recording: Sendable {
        public let entry: ServingCatalog.Entry
        /// The kind it was stored as; nil when a shared store did not store it.
        let kind: Ping.Kind?
        /// The change to the states here, undone when the file store refuses the ping.
        let applied: (outcome: CheckState.PingOutcome, previous: CheckState)?
        let started: ContinuousClock.Instant
    }

    /// Applies the ping to its check's state and gives it to the store with its flip and the
    /// flip's alerts, under the state's lock so a check's records reach the store in the order
    /// they were numbered. `completion` gets the recording and nil once stored, or the error:
    /// on the store's thread, or on this one after the lock is released. Pass both to
    /// `finish`, always.
    public func record(_ received: ReceivedPing, to entry: ServingCatalog.Entry, completion: @escaping @Sendable (Recording, (any Error)?) -> Void) {
        if let shared { return record(received, to: entry, in: shared, completion: completion) }
        let definition = entry.definition
        let uuid = entry.uuid
        let started = ContinuousClock.now
        // A store that refuses at once (closed) calls back on this thread, inside the lock:
        // that answer waits until the lock is released (`finish` takes the lock to undo).
        let afterLock = AfterLock()
        let snapshot = catalog.snapshot
        // Only a fail takes a check down; its dependencies' states are read before the lock (a
        // shard's lock is never held while taking another's).
        let downDependencies = received.requestedKind == .fail ? snapshot.downDependencies(of: uuid, in: states) : []
        states.apply(received, to: uuid, at: clock.now(), postOnly: definition.methods == .post, manualResume: definition.manualResume) {
            outcome, previous in
            let recording = Recording(entry: entry, kind: outcome.ping.kind, applied: (outcome, previous), started: started)
            let (flip, alerts) =
                outcome.flip.map { deadlines.consequences(of: $0, of: entry, lastPing: outcome.ping, snapshot: snapshot, downDependencies: downDependencies) }
                ?? (nil, [])
            store.record(outcome.ping, of: uuid, flip: flip, alerts: alerts) { [deadlines] error in
                if error == nil {
                    deadlines.moved(uuid)
                    if let flip { deadlines.stored(flip, alerts: alerts) }
                }
                afterLock.run { completion(recording, error) }
            }
        }
        afterLock.release()
    }

    /// The shared store's path: the ping is applied to the state the store holds, in its
    /// transaction; once committed, the outcome replaces the cached state (unless a newer one
    /// came meanwhile).
    private func record(
        _ received: ReceivedPing, to entry: ServingCatalog.Entry, in shared: any SharedCheckStore,
        completion: @escaping @Sendable (Recording, (any Error)?) -> Void
    ) {
        let uuid = entry.uuid
        let started = ContinuousClock.now
        let now = clock.now()
        let snapshot = catalog.snapshot
        // A fail to a check with dependencies reads their states from the database first: one
        // another instance took down a moment ago may still be up in this one's states.
        let dependencies = received.requestedKind == .fail ? snapshot.dependencies(of: uuid).map(\.uuid) : []
        guard dependencies.isEmpty else {
            Task { [states] in
                let statuses = await HoldStatuses.current(of: dependencies, in: shared, cache: states)
                self.update(received, to: entry, in: shared, at: now, statuses: statuses, snapshot: snapshot, started: started, completion: completion)
            }
            return
        }
        update(received, to: entry, in: shared, at: now, statuses: HoldStatuses(states), snapshot: snapshot, started: started, completion: completion)
    }

    /// The shared store's update for a ping, with the statuses its check's dependencies have.
    private func update(
        _ received: ReceivedPing, to entry: ServingCatalog.Entry, in shared: any SharedCheckStore, at now: Int64, statuses: HoldStatuses,
        snapshot: ServingCatalog, started: ContinuousClock.Instant, completion: @escaping @Sendable (Recording, (any Error)?) -> Void
    ) {
        let uuid = entry.uuid
        let postOnly = entry.definition.methods == .post
        let manualResume = entry.definition.manualResume
        let update = CheckUpdate(check: uuid) { [deadlines] state, _ in
            let outcome = state.applying(received, at: now, postOnly: postOnly, manualResume: manualResume)
            let (flip, alerts) =
                outcome.flip.map {
                    deadlines.consequences(
                        of: $0, of: entry, lastPing: outcome.ping, snapshot: snapshot,
                        downDependencies: $0.new == .down ? snapshot.downDependencies(of: uuid, in: statuses) : [])
                } ?? (nil, [])
            return CheckUpdate.Decision(state: outcome.state, ping: outcome.ping, flip: flip, alerts: alerts)
        }
        shared.update(update) { [states, deadlines] result in
            switch result {
            case .success(let outcome):
                states.refresh(uuid, to: outcome.state, version: outcome.version)
                deadlines.moved(uuid)
                if let decision = outcome.decision, let flip = decision.flip { deadlines.stored(flip, alerts: decision.alerts) }
                completion(Recording(entry: entry, kind: outcome.decision?.ping?.kind, applied: nil, started: started), nil)
            case .failure(let error):
                completion(Recording(entry: entry, kind: nil, applied: nil, started: started), error)
            }
        }
    }

    /// `record(_:to:completion:)` for a caller that may suspend.
    public func record(_ received: ReceivedPing, to entry: ServingCatalog.Entry) async -> (Recording, (any Error)?) {
        await withCheckedContinuation { continuation in
            record(received, to: entry) { recording, error in continuation.resume(returning: (recording, error)) }
        }
    }

    /// Once the store has spoken: true when the ping is stored; when not, the check's state is
    /// put back and the failure is logged (throttled): the client should be told to retry.
    public func finish(_ recording: Recording, error: (any Error)?, logger: Logger) -> Bool {
        guard let error else {
            meter.stored(recording.kind ?? .success, after: ContinuousClock.now - recording.started)
            return true
        }
        meter.failed()
        if let (outcome, previous) = recording.applied { states.undo(outcome, previous: previous, of: recording.entry.uuid) }
        if let skipped = storeFailures.admit() {
            logger.error(
                "ping not stored: \(error)",
                metadata: ["check.uuid": "\(recording.entry.uuid.uuidString.lowercased())", "not_stored_since_last_line": "\(skipped)"])
        }
        return false
    }
}

/// Work that must not run while a lock is held: run at once after `release`, or, when it
/// comes before, at `release`.
final class AfterLock: Sendable {
    private let state = Mutex<(released: Bool, waiting: (@Sendable () -> Void)?)>((false, nil))

    func run(_ work: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if !state.released { state.waiting = work }
            return state.released
        }
        if now { work() }
    }

    func release() {
        let waiting = state.withLock { state -> (@Sendable () -> Void)? in
            state.released = true
            defer { state.waiting = nil }
            return state.waiting
        }
        waiting?()
    }
}
