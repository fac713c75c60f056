import Alerting
import Foundation
import Synchronization

/// Wall time for the runtime, in microseconds since the epoch: `system` in production. Tests
/// build the real runtime on a `ManualClock` they move themselves, so a 60 s timeout expires
/// when the test says so, not after a minute.
public struct RuntimeClock: Sendable {
    /// Microseconds since the epoch.
    public let now: @Sendable () -> Int64
    /// Set for a manual clock: the loops that sleep until a deadline register their wakeup.
    let manual: ManualClock?

    public static let system = RuntimeClock(now: { Int64(Date().timeIntervalSince1970 * 1_000_000) })

    /// A clock read from `now` (a test's own, e.g. one that moves at every reading).
    public init(now: @escaping @Sendable () -> Int64) {
        self.init(now: now, manual: nil)
    }

    init(now: @escaping @Sendable () -> Int64, manual: ManualClock?) {
        self.now = now
        self.manual = manual
    }

    /// Wakes `wakeup` whenever a manual clock moves (nothing on the system clock, whose time
    /// passes by itself).
    func wake(_ wakeup: Wakeup) {
        manual?.observers.withLock { $0.append(wakeup) }
    }
}

/// A clock for tests: stands still until `advance(by:)` or `set(_:)` moves it; every move
/// wakes the runtime's deadline and delivery loops.
final class ManualClock: Sendable {
    private let time: Mutex<Int64>
    let observers = Mutex<[Wakeup]>([])

    init(at start: Int64) {
        time = Mutex(start)
    }

    var now: Int64 { time.withLock { $0 } }

    /// Moves the clock forward by `microseconds`.
    func advance(by microseconds: Int64) {
        set(now + microseconds)
    }

    func set(_ microseconds: Int64) {
        time.withLock { $0 = microseconds }
        for wakeup in observers.withLock({ $0 }) { wakeup.signal() }
    }

    /// The runtime's view of this clock.
    var clock: RuntimeClock { RuntimeClock(now: { [self] in now }, manual: self) }
}
