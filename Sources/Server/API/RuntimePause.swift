import Foundation
import Monitoring
import PingStore

/// Pause and resume at runtime (SPEC §3), for the API, the dashboard and `kiothc pause|resume`:
/// the state changes under the states' lock, the flip is stored (a restart reads it back), and a
/// flip the store refuses is undone.
///
/// INTERIM until issue 5 lands: its status engine owns pause and resume (and reschedules
/// deadlines and alerts). When it is on main, these two methods forward to it.
struct RuntimePause: Sendable {
    enum Failure: Error, Sendable {
        /// Resume of a check that is not paused (Healthchecks answers 409).
        case notPaused
        case notStored(String)
    }

    let states: CheckStates
    let store: PingStore
    let clock: @Sendable () -> Int64

    /// Pauses; nil when the check already was paused (nothing stored).
    func pause(_ uuid: UUID) async throws(Failure) -> Flip? {
        try await transition(uuid) { $0.pausing(at: $1) }
    }

    func resume(_ uuid: UUID) async throws(Failure) -> Flip {
        guard let flip = try await transition(uuid, { $0.resuming(at: $1) }) else { throw .notPaused }
        return flip
    }

    private func transition(_ uuid: UUID, _ change: (CheckState, Int64) -> (state: CheckState, flip: Flip)?) async throws(Failure) -> Flip? {
        let now = clock()
        var flip: Flip?
        guard let (previous, next) = states.update(uuid, { state in
            guard let result = change(state, now) else { return nil }
            flip = result.flip
            return result.state
        }), let flip else { return nil }
        do {
            try await store.append(flip, to: uuid)
        } catch {
            states.restore(previous, ifStill: next, of: uuid)
            throw .notStored("\(error)")
        }
        return flip
    }
}
