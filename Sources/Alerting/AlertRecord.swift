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
        /// Its flip was never stored (servers before issue 19): never sent.
        case withdrawn
    }

    public var alert: Alert
    public var attempts: [Attempt]
    public var state: State
    /// When the next try is due, while pending.
    public var nextAttempt: Int64?

    public init(alert: Alert, attempts: [Attempt], state: State, nextAttempt: Int64?) {
        self.alert = alert
        self.attempts = attempts
        self.state = state
        self.nextAttempt = nextAttempt
    }
}
