import Alerting
import Foundation
import Logging
import Monitoring

/// Records pings: applies each to its check's state, stores it with the flip it caused and
/// that flip's alerts (one write), and moves the check's deadline. One core, `record(_:completion:)`,
/// for the event loop (it never suspends); `record(_:)` is the same for async callers.
public final class PingRecorder: Sendable {
    let states: CheckStates
    let store: any CheckStore
    let catalog: CurrentCatalog
    let dispatcher: AlertDispatcher?
    let deadlines: StatusEngine
    let clock: RuntimeClock
    /// Pings stored and append latency, for `/metrics`.
    public let meter = PingMeter()
    /// "ping not stored" lines: the first of a run of failures, then one per 10 s.
    let storeFailures = ThrottledLog(interval: .seconds(10))

    init(
        states: CheckStates, store: any CheckStore, catalog: CurrentCatalog, dispatcher: AlertDispatcher?, deadlines: StatusEngine,
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
        let outcome: CheckState.PingOutcome
        let previous: CheckState
        let turn: AppendTurn
        let started: ContinuousClock.Instant
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
        store.record(recording.outcome.ping, of: uuid, flip: nil, alerts: []) { [deadlines] error in
            if error == nil { deadlines.moved(uuid) }
            completion(error)
        }
        // Queued in the store (the call fixes the record's place): later pings may go.
        recording.turn.done()
    }

    /// Stores the ping with its flip and that flip's alerts, in one write, then moves the
    /// check's deadline. Throws when the store refuses: nothing of the ping is acknowledged
    /// then. The turn keeps the check's pings in the store in the order they were numbered.
    public func record(_ recording: Recording) async throws {
        let outcome = recording.outcome
        let entry = recording.entry
        var alerts: [Alert] = []
        if let flip = outcome.flip, dispatcher != nil {
            alerts = deadlines.alerts(for: flip, of: entry, lastPing: outcome.ping, snapshot: catalog.snapshot)
        }
        await recording.turn.wait()
        defer { recording.turn.done() }
        try await store.record(outcome.ping, of: entry.uuid, flip: outcome.flip, alerts: alerts)
        if !alerts.isEmpty { dispatcher?.wakeup.signal() }
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
