/// A status change of a check (SPEC §3), stored per check and used for alerts and downtime.
public struct Flip: Sendable, Hashable {
    /// Why the status changed. Healthchecks records no reason for a success; we say `ping`.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        case timeout, fail, ping, pause, resume
    }

    /// Microseconds since the Unix epoch; a timeout flip carries the deadline, not the moment
    /// it was noticed.
    public var time: Int64
    public var old: CheckState.Status
    public var new: CheckState.Status
    public var reason: Reason

    public init(time: Int64, old: CheckState.Status, new: CheckState.Status, reason: Reason) {
        self.time = time
        self.old = old
        self.new = new
        self.reason = reason
    }

    /// Healthchecks sends no alert for `new→up` and `paused→up`.
    public var notifies: Bool {
        !(new == .up && (old == .new || old == .paused))
    }
}
