import Monitoring
import Synchronization

/// Counters of the ping path for `/metrics`: pings stored by kind, and the time the store took
/// to acknowledge each append (a Prometheus histogram). One short lock per ping, no I/O in it.
public final class PingMeter: Sendable {
    /// Upper bounds in seconds: group commit makes fsync appends cost a disk flush (~0.1–10 ms).
    public static let bounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

    public struct Snapshot: Sendable {
        public var pings: [Ping.Kind: Int] = [:]
        /// Non-cumulative counts per bucket; the last one is +Inf.
        public var buckets = [Int](repeating: 0, count: PingMeter.bounds.count + 1)
        public var count = 0
        public var sumMicroseconds: Int64 = 0
        public var failedAppends = 0
    }

    private let state = Mutex(Snapshot())

    public func stored(_ kind: Ping.Kind, after elapsed: Duration) {
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        let seconds = Double(micros) / 1_000_000
        let bucket = Self.bounds.firstIndex { seconds <= $0 } ?? Self.bounds.count
        state.withLock { state in
            state.pings[kind, default: 0] += 1
            state.buckets[bucket] += 1
            state.count += 1
            state.sumMicroseconds += micros
        }
    }

    public func failed() {
        state.withLock { $0.failedAppends += 1 }
    }

    public var snapshot: Snapshot { state.withLock { $0 } }
}
