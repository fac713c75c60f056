import Alerting
import Foundation
import Logging
import Monitoring
import PingStore

/// Records pings: applies each to its check's state, stores it with the flip it caused and
/// that flip's alerts, and moves the check's deadline. One core, `record(_:completion:)`,
/// for the event loop (it never suspends); `record(_:)` is the same for async callers.
public final class PingRecorder: Sendable {
    public let states: CheckStates
    public let store: PingStore
    public let catalog: CurrentCatalog
    public let dispatcher: AlertDispatcher?
    public let deadlines: StatusEngine
    public let clock: RuntimeClock
    /// Pings stored and append latency, for `/metrics`.
    public let meter = PingMeter()
    /// "ping not stored" lines: the first of a run of failures, then one per 10 s.
    public let storeFailures = ThrottledLog(interval: .seconds(10))

    public init(
        states: CheckStates, store: PingStore, catalog: CurrentCatalog, dispatcher: AlertDispatcher?, deadlines: StatusEngine,
        clock: RuntimeClock
    ) {
        self.states = states
        self.store = store
        self.catalog = catalog
        self.dispatcher = dispatcher
        self.deadlines = deadlines
        self.clock = clock
    }

    /// A ping applied to its check's state, on its way to the store.
    public struct Recording: Sendable {
        public let entry: ServingCatalog.Entry
        public let outcome: CheckState.PingOutcome
        public let previous: CheckState
        public let turn: AppendTurn
        public let started: ContinuousClock.Instant
    }

    /// Applies the ping to its check's state, in its turn among the check's appends. Pass the
    /// result to `record` and then to `finish`, always.
    public func apply(_ received: ReceivedPing, to entry: ServingCatalog.Entry) -> Recording {
        let definition = entry.definition
        let (outcome, previous, turn) = states.applyInTurn(
            received, to: entry.uuid, at: clock.now(), postOnly: definition.methods == .post, manualResume: definition.manualResume)
        return Recording(entry: entry, outcome: outcome, previous: previous, turn: turn, started: ContinuousClock.now)
    }

    /// Stores the ping without suspending: `completion` gets nil once stored, or the error, on
    /// this thread, the store's writer thread or a task's. The common case, a ping that flips
    /// nothing and whose check has no earlier append still to queue, goes straight to the
    /// store; anything else runs `record(_:)` in a task.
    public func record(_ recording: Recording, completion: @escaping @Sendable ((any Error)?) -> Void) {
        guard recording.outcome.flip == nil, recording.turn.isClear else {
            Task {
                do {
                    try await record(recording)
                    completion(nil)
                } catch {
                    completion(error)
                }
            }
            return
        }
        let uuid = recording.entry.uuid
        store.append(recording.outcome.ping, to: uuid, queued: recording.turn.done) { [deadlines] error in
            if error == nil { deadlines.moved(uuid) }
            completion(error)
        }
    }

    /// Stores the ping (and its flip): the flip's alerts are written to the outbox, held,
    /// before the ping is stored, and confirmed after; so an acknowledged flip always has its
    /// alerts, even across a crash (the outbox resolves held alerts at open). Then the check's
    /// deadline moves. Throws when the outbox or the store refuses: nothing of the ping is
    /// acknowledged then. The turn keeps the check's pings in the store in the order they were
    /// numbered: the alerts are held first, then the ping waits for the one before it.
    public func record(_ recording: Recording) async throws {
        let outcome = recording.outcome
        let entry = recording.entry
        var held: [Alert.ID] = []
        if let flip = outcome.flip, let dispatcher {
            let alerts = deadlines.alerts(for: flip, of: entry, lastPing: outcome.ping, snapshot: catalog.snapshot)
            do {
                try await dispatcher.hold(alerts)
            } catch {
                throw StatusEngine.AlertsNotQueued(reason: "\(error)")
            }
            held = alerts.map(\.id)
        }
        await recording.turn.wait()
        do {
            try await store.append(outcome.ping, to: entry.uuid, flip: outcome.flip, queued: { recording.turn.done() })
        } catch {
            await dispatcher?.withdraw(held, at: clock.now())
            throw error
        }
        await dispatcher?.confirm(held, at: clock.now())
        deadlines.moved(entry.uuid)
    }

    /// Once the store has spoken: true when the ping is stored; when not, the check's state is
    /// put back and the failure is logged (throttled): the client should be told to retry.
    public func finish(_ recording: Recording, error: (any Error)?, logger: Logger) -> Bool {
        recording.turn.done()
        guard let error else {
            meter.stored(recording.outcome.ping.kind, after: ContinuousClock.now - recording.started)
            return true
        }
        meter.failed()
        states.undo(recording.outcome, previous: recording.previous, of: recording.entry.uuid)
        if let skipped = storeFailures.admit() {
            logger.error(
                "ping not stored: \(error)",
                metadata: ["check.uuid": "\(recording.entry.uuid.uuidString.lowercased())", "not_stored_since_last_line": "\(skipped)"])
        }
        return false
    }
}
