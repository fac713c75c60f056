import Alerting
import Foundation
import Monitoring

/// One state transition of one check, decided inside the store's transaction with the check's
/// row locked, from the state the database holds (another instance may have changed it since
/// this one last saw it). `decide` is pure: it may run again when a transaction is retried.
public struct CheckUpdate: Sendable {
    /// What a transition writes: the next state, the ping it stores (numbered
    /// `state.nPings`, as `CheckState.applying` numbers it), the flip and that flip's alerts.
    public struct Decision: Sendable {
        public var state: CheckState
        public var ping: Ping?
        public var flip: Flip?
        public var alerts: [Alert]

        public init(state: CheckState, ping: Ping? = nil, flip: Flip? = nil, alerts: [Alert] = []) {
            self.state = state
            self.ping = ping
            self.flip = flip
            self.alerts = alerts
        }
    }

    /// What became of an update: its decision (nil: nothing to do, e.g. a deadline that a
    /// ping on another instance moved) and the check's state and version after the
    /// transaction, for the instance's cache.
    public struct Outcome: Sendable {
        public let decision: Decision?
        public let state: CheckState
        public let version: Int64
    }

    public let check: UUID
    /// Whether `decide` needs the check's newest stored ping (a timeout's alert shows it).
    public let wantsLastPing: Bool
    public let decide: @Sendable (_ state: CheckState, _ lastPing: Ping?) -> Decision?

    public init(check: UUID, wantsLastPing: Bool = false, decide: @escaping @Sendable (CheckState, Ping?) -> Decision?) {
        self.check = check
        self.wantsLastPing = wantsLastPing
        self.decide = decide
    }
}

/// A check's state as the database holds it, with its version (one more per transaction that
/// changed it): a cache keeps the newest version it saw.
public struct VersionedState: Sendable, Equatable {
    public let check: UUID
    public let state: CheckState
    public let version: Int64
    /// A configuration some instance applied dropped the check.
    public let retired: Bool

    public init(check: UUID, state: CheckState, version: Int64, retired: Bool = false) {
        self.check = check
        self.state = state
        self.version = version
        self.retired = retired
    }
}
