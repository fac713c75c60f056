import Synchronization

/// What asked for a reload. File events and polls are debounced and skipped when the
/// configuration's content did not change; a signal or a request always reloads.
public enum ReloadTrigger: String, Sendable, Hashable, Comparable {
    case file, poll, signal, request

    var isExplicit: Bool { self == .signal || self == .request }

    public static func < (a: ReloadTrigger, b: ReloadTrigger) -> Bool { a.rawValue < b.rawValue }
}

/// The result of one reload attempt.
public enum ReloadResult: Sendable {
    case applied(CatalogChange, hash: UInt64, checks: Int)
    /// A file event or poll whose content hash equals the last attempt's: nothing was done.
    case unchanged(hash: UInt64)
    case rejected(diagnosticsJSON: String, hash: UInt64)
    /// Not the configuration's fault (I/O), or the directory is gone; the old config serves.
    case failed(String)
}

/// Collects reload requests from every trigger; the reloader takes them all at once, so a
/// burst of events becomes one reload and every waiting `POST /-/reload` gets its result.
public final class ReloadQueue: Sendable {
    struct Pending: Sendable {
        var triggers: Set<ReloadTrigger> = []
        var waiters: [CheckedContinuation<ReloadResult, Never>] = []
    }

    private let pending = Mutex(Pending())
    private let closed = Mutex(false)
    let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    public init() {
        // One buffered wakeup is enough: the reloader takes everything pending at once.
        (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// A trigger that does not wait for the result (inotify, poll, SIGHUP).
    public func notice(_ trigger: ReloadTrigger) {
        pending.withLock { _ = $0.triggers.insert(trigger) }
        wake.yield()
    }

    /// Reload now and wait for the result (`POST /-/reload`).
    public func request() async -> ReloadResult {
        await withCheckedContinuation { continuation in
            let accepted = closed.withLock { closed in
                guard !closed else { return false }
                pending.withLock {
                    $0.triggers.insert(.request)
                    $0.waiters.append(continuation)
                }
                return true
            }
            if accepted {
                wake.yield()
            } else {
                continuation.resume(returning: .failed("the server is shutting down"))
            }
        }
    }

    func take() -> Pending {
        pending.withLock { pending in
            defer { pending = Pending() }
            return pending
        }
    }

    /// No more requests: waiters get a failure instead of hanging.
    public func close() {
        closed.withLock { $0 = true }
        wake.finish()
        for waiter in take().waiters { waiter.resume(returning: .failed("the server is shutting down")) }
    }
}
