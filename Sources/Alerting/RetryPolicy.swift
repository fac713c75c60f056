/// When to try a failed alert again: exponential backoff from `initialDelay`, doubling up to
/// `maximumDelay`, each delay spread by ±`jitter` (so alerts that failed together, e.g. when a
/// receiver was down, do not all come back at the same instant), giving up after
/// `maximumAttempts` tries or once the alert is older than `giveUpAfter`, whichever comes
/// first. Microseconds.
public struct RetryPolicy: Sendable, Hashable {
    public var initialDelay: Int64
    public var maximumDelay: Int64
    public var maximumAttempts: Int
    public var giveUpAfter: Int64
    /// The fraction a delay is spread by, both ways: 0.2 gives 8–12 s for 10 s.
    public var jitter: Double

    /// 10 s, 20 s, 40 s … capped at 1 h, each ±20 %; at most 30 tries within 24 h.
    public static let standard = RetryPolicy(
        initialDelay: 10_000_000, maximumDelay: 3_600_000_000, maximumAttempts: 30, giveUpAfter: 86_400_000_000, jitter: 0.2)

    public init(initialDelay: Int64, maximumDelay: Int64, maximumAttempts: Int, giveUpAfter: Int64, jitter: Double = 0) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.maximumAttempts = maximumAttempts
        self.giveUpAfter = giveUpAfter
        self.jitter = jitter
    }

    /// The next try after `attempts` failed ones, the last at `lastAttempt`; nil: give up.
    /// `spread` in [0, 1) picks where in the jitter band the delay falls (0.5: the middle).
    public func nextAttempt(after attempts: Int, lastAttempt: Int64, created: Int64, spread: Double = Double.random(in: 0..<1)) -> Int64? {
        guard attempts < maximumAttempts else { return nil }
        var delay = initialDelay
        for _ in 1..<max(1, attempts) where delay < maximumDelay { delay *= 2 }
        let base = Double(min(delay, maximumDelay))
        let next = lastAttempt + Int64(base * (1 + jitter * (2 * spread - 1)))
        return next - created > giveUpAfter ? nil : next
    }

    /// What follows an attempt at `alert`, its `attempts`-th: nil when it was delivered, when
    /// it was refused for good, when it was a test (tried once), or when retries are over.
    public func next(after attempt: Attempt, number attempts: Int, of alert: Alert) -> Int64? {
        guard attempt.outcome == .failed, !attempt.permanent, !alert.test else { return nil }
        return nextAttempt(after: attempts, lastAttempt: attempt.time, created: alert.created)
    }
}
