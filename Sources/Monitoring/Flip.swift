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
    /// It happened during a maintenance window of the check (SPEC §14): its alerts were held.
    public var maintenance: Bool
    /// The checks (`project/key`) it depends on that were down when it happened: its alerts
    /// were held for them (SPEC §14). Empty for most flips.
    public var suppressedBy: [String]

    public init(time: Int64, old: CheckState.Status, new: CheckState.Status, reason: Reason, maintenance: Bool = false, suppressedBy: [String] = []) {
        self.time = time
        self.old = old
        self.new = new
        self.reason = reason
        self.maintenance = maintenance
        self.suppressedBy = suppressedBy
    }

    /// Healthchecks sends no alert for `new→up` and `paused→up`.
    public var notifies: Bool {
        !(new == .up && (old == .new || old == .paused))
    }
}
