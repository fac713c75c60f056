import Foundation

/// What a check's configuration says about its status: when pings are expected, how much grace,
/// in which time zone, and whether it is paused by config. The server builds it from the check's
/// definition; the domain needs no more (and does not import the catalog).
///
/// Durations are microseconds, like every time in the domain.
public struct CheckRules: Sendable, Hashable {
    public enum Expectation: Sendable, Hashable {
        /// A simple check: a ping every `microseconds`.
        case timeout(microseconds: Int64)
        /// A cron or OnCalendar check, evaluated in `CheckRules.timeZone`.
        case schedule(Schedule)
    }

    public var expectation: Expectation
    public var grace: Int64
    public var timeZone: TimeZone
    /// `manual_resume`: a paused check ignores pings until resumed through the API.
    public var manualResume: Bool
    /// `paused: true` in config: wins over the stored status while it is set.
    public var paused: Bool
    public init(expectation: Expectation, grace: Int64, timeZone: TimeZone, manualResume: Bool = false, paused: Bool = false) {
        self.expectation = expectation
        self.grace = grace
        self.timeZone = timeZone
        self.manualResume = manualResume
        self.paused = paused
    }
}
