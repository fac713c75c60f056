import Synchronization

/// At most one log line per `interval` for a repeating failure, saying how many were left out.
/// While the disk is full every refused ping fails the same way, and one line per ping would
/// flood a log that may live on that same disk.
public final class ThrottledLog: Sendable {
    public let interval: Duration
    private let state = Mutex<(last: ContinuousClock.Instant?, skipped: Int)>((nil, 0))

    public init(interval: Duration) {
        self.interval = interval
    }

    /// nil: skip this occurrence. Else log it, adding the number skipped since the last line.
    public func admit(at now: ContinuousClock.Instant = .now) -> Int? {
        state.withLock { state in
            if let last = state.last, now - last < interval {
                state.skipped += 1
                return nil
            }
            defer { state = (now, 0) }
            return state.skipped
        }
    }
}
