import Foundation

/// An alert with what became of it: what the API's notifications, the dashboard and
/// `kiothc notify` show (SPEC §12).
public struct AlertRecord: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// Not delivered yet: being tried, or waiting for its next try (`nextAttempt`).
        case pending
        case delivered
        /// Retries ended (or the failure was permanent, or it was a test) without a delivery.
        case gaveUp = "gave_up"
        /// Held back by maintenance or dependencies (SPEC §14): waits, due never, until the
        /// runtime releases it (then pending) or withdraws it.
        case held
        /// Never sent: held back and then withdrawn (`reason`), or its flip was never stored
        /// (servers before issue 19).
        case withdrawn
    }

    public var alert: Alert
    public var attempts: [Attempt]
    public var state: State
    /// When the next try is due, while pending.
    public var nextAttempt: Int64?
    /// Why it was withdrawn, when it was held back and then withdrawn. (What held it back stays
    /// in `alert.hold`, after its release too.)
    public var reason: String?

    public init(alert: Alert, attempts: [Attempt], state: State, nextAttempt: Int64?, reason: String? = nil) {
        self.alert = alert
        self.attempts = attempts
        self.state = state
        self.nextAttempt = nextAttempt
        self.reason = reason
    }
}
