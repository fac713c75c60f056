import Foundation
import Monitoring
import Synchronization

/// A ping's place among its check's store appends. Pings of one check are numbered (`n`) in
/// the order their state changes were applied, and the store must receive them in that order:
/// recovery replays journal records newer than a file's last `n`, and startup rebuilds state
/// from a file's last lines. Two concurrent pings of one check could otherwise reach the store
/// swapped (the kill -9 test saw `n` 14 written before 13). So each append waits until the
/// one applied before it is queued in the store (not stored: the wait is short).
public struct AppendTurn: Sendable {
    public let before: QueuedSignal?
    public let own: QueuedSignal

    /// Returns once the check's previous append is queued in the store (or abandoned).
    public func wait() async {
        await before?.wait()
    }

    /// The check's previous append is queued already: this one may go without waiting.
    public var isClear: Bool { before?.hasFired ?? true }

    /// This append is queued in the store, or will never be: later ones may go.
    public func done() {
        own.fire()
    }
}

/// Fired once; waiters resume when it fires (at once if it already has).
public final class QueuedSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    public var hasFired: Bool { state.withLock { $0.fired } }

    public func wait() async {
        // Usually fired already: a continuation resumed at once would still reschedule the
        // task (a thread hop per ping in the profile).
        if hasFired { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let fired = state.withLock { state -> Bool in
                if !state.fired { state.waiters.append(continuation) }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}

extension CheckStates {
    /// `apply`, plus the ping's turn among its check's appends: pass `turn.done` to the store
    /// as the append's `queued` callback after `await turn.wait()`, and call `turn.done()` on
    /// every path that does not append.
    public func applyInTurn(
        _ received: ReceivedPing, to uuid: UUID, at now: Int64, postOnly: Bool, manualResume: Bool
    ) -> (outcome: CheckState.PingOutcome, previous: CheckState, turn: AppendTurn) {
        let own = QueuedSignal()
        return states.withLock { states in
            // One hash lookup each (the ping path's profile showed UUID lookups at ~1 %).
            let (outcome, previous) = CheckStates.applying(received, to: &states[uuid, default: .new], at: now, postOnly: postOnly, manualResume: manualResume)
            let before = lastAppends.withLock { $0.updateValue(own, forKey: uuid) }
            return (outcome, previous, AppendTurn(before: before, own: own))
        }
    }
}
