/// When to try a failed alert again: exponential backoff from `initialDelay`, doubling up to
/// `maximumDelay`, giving up after `maximumAttempts` tries or once the alert is older than
/// `giveUpAfter`, whichever comes first. Microseconds.
public struct RetryPolicy: Sendable, Hashable {
    public var initialDelay: Int64
    public var maximumDelay: Int64
    public var maximumAttempts: Int
    public var giveUpAfter: Int64

    /// 10 s, 20 s, 40 s … capped at 1 h; at most 30 tries within 24 h.
    public static let standard = RetryPolicy(
        initialDelay: 10_000_000, maximumDelay: 3_600_000_000, maximumAttempts: 30, giveUpAfter: 86_400_000_000)

    public init(initialDelay: Int64, maximumDelay: Int64, maximumAttempts: Int, giveUpAfter: Int64) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.maximumAttempts = maximumAttempts
        self.giveUpAfter = giveUpAfter
    }

    /// The next try after `attempts` failed ones, the last at `lastAttempt`; nil: give up.
    public func nextAttempt(after attempts: Int, lastAttempt: Int64, created: Int64) -> Int64? {
        guard attempts < maximumAttempts else { return nil }
        var delay = initialDelay
        for _ in 1..<max(1, attempts) where delay < maximumDelay { delay *= 2 }
        let next = lastAttempt + min(delay, maximumDelay)
        return next - created > giveUpAfter ? nil : next
    }
}
