import Foundation
import Synchronization

/// Blocking or long work (waiting for a process, reading a pipe to its end, a blocking socket
/// call, seconds of computation) run on a thread of its own, whose result a test awaits.
///
/// Swift Testing runs the tests of every suite in parallel on Swift's cooperative pool, which
/// has one thread per core (two on a small CI machine), and on Linux Dispatch's global queues
/// share those threads. A test that holds a pool thread (blocked on a child process, or
/// computing for seconds, minutes under a sanitizer) starves the other suites: their timers,
/// retries and deadlines fire late and their timing checks fail. So such work happens here,
/// and the awaiting test is suspended, not parked on a pool thread.
public final class Background<Value: Sendable>: Sendable {
    private enum State {
        case running([@Sendable (Value) -> Void])
        case done(Value)
    }

    private let state = Mutex(State.running([]))

    /// Starts `work` now, on a new thread.
    public init(_ work: @escaping @Sendable () -> Value) {
        Thread.detachNewThread { [self] in
            let value = work()
            let waiting = state.withLock { state -> [@Sendable (Value) -> Void] in
                guard case .running(let waiting) = state else { return [] }
                state = .done(value)
                return waiting
            }
            for action in waiting { action(value) }
        }
    }

    /// Runs `action` with the result once the work is done: at once if it is, otherwise on the
    /// work's thread when it finishes.
    public func then(_ action: @escaping @Sendable (Value) -> Void) {
        let done = state.withLock { state -> Value? in
            switch state {
            case .running(let waiting):
                state = .running(waiting + [action])
                return nil
            case .done(let value):
                return value
            }
        }
        if let done { action(done) }
    }

    /// The result; suspends the caller (not its thread) until the work is done.
    public var value: Value {
        get async { await withCheckedContinuation { continuation in then { continuation.resume(returning: $0) } } }
    }

    /// Whether the work has finished.
    public var isDone: Bool {
        state.withLock { if case .done = $0 { true } else { false } }
    }
}

/// Runs `work` on a thread of its own (see `Background`) and returns its result. Record
/// expectations after it returns, in the test: the thread is outside the test's task.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await Background { Result { try work() } }.value.get()
}

/// `onOwnThread` for long computation (seconds, minutes under a sanitizer): the thread runs at
/// nice 10, so it takes the cores only from what is idle and leaves them to the tests that
/// measure time and to the servers the e2e tests start (Linux: the nice value is per thread).
public func computeOnOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await onOwnThread {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        return try work()
    }
}
