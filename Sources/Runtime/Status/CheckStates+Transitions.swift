import Foundation
import Monitoring

/// Transitions that are not pings: the deadline passing, pause and resume. Each decides under
/// the state lock from the state as it is then (a ping may have come in since the deadline was
/// computed), and returns the state before, so a flip the store refuses can be undone.
extension CheckStates {
    struct Transition: Sendable {
        let flip: Flip
        let previous: CheckState
        let next: CheckState
    }

    enum DeadlineCheck: Sendable {
        /// The check went down: store the flip, alert.
        case wentDown(Transition)
        /// Not (or no longer) due: its deadline now, if any.
        case notDue(Int64?)
    }

    /// Flips the check to down, timestamped at its deadline, if the deadline computed from its
    /// current state under `rules` has passed at `now`.
    func goDownIfDue(_ uuid: UUID, rules: CheckRules, at now: Int64) -> DeadlineCheck {
        locked(uuid) { states in
            let state = states[uuid] ?? .new
            guard let deadline = state.deadlines(under: rules)?.down else { return .notDue(nil) }
            guard deadline <= now, let (next, flip) = state.goingDown(at: deadline) else { return .notDue(deadline) }
            states[uuid] = next
            return .wentDown(Transition(flip: flip, previous: state, next: next))
        }
    }

    /// Pause, as Healthchecks: the run is cleared; nil when already paused.
    func pause(_ uuid: UUID, at now: Int64) -> Transition? {
        locked(uuid) { states in
            let state = states[uuid] ?? .new
            guard let (next, flip) = state.pausing(at: now) else { return nil }
            states[uuid] = next
            return Transition(flip: flip, previous: state, next: next)
        }
    }

    /// Resume, as Healthchecks: back to `new`; nil when not paused.
    func resume(_ uuid: UUID, at now: Int64) -> Transition? {
        locked(uuid) { states in
            let state = states[uuid] ?? .new
            guard let (next, flip) = state.resuming(at: now) else { return nil }
            states[uuid] = next
            return Transition(flip: flip, previous: state, next: next)
        }
    }

    /// Undoes a transition whose flip was not stored, unless something changed the check since.
    func undo(_ transition: Transition, of uuid: UUID) {
        locked(uuid) { states in
            if states[uuid] == transition.next { states[uuid] = transition.previous }
        }
    }

    /// The deadline at which the check goes down, from its state now.
    /// `rules` is asked for only when the check can have one: it is up, or a run is open (a
    /// fleet's checks that were never pinged need no rules at its first start).
    func downDeadline(of uuid: UUID, rules: () -> CheckRules) -> Int64? {
        let state = locked(uuid) { $0[uuid] ?? .new }
        guard state.status == .up || state.run != nil else { return nil }
        return state.deadlines(under: rules())?.down
    }
}
