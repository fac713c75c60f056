import Foundation

/// A check's status as shown and exported (SPEC §3): the stored status plus `grace`, computed
/// from the last ping, the rules and `now`; and the separate `started` flag.
public struct LiveStatus: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case new, up, grace, down, paused
    }

    public var status: Status
    /// A run is open (a `start` not yet closed by a success or fail).
    public var started: Bool

    public init(_ status: Status, started: Bool = false) {
        self.status = status
        self.started = started
    }
}

/// When a check becomes late and when it goes down, as Healthchecks' `get_grace_start` and
/// `going_down_after`.
public struct Deadlines: Sendable, Hashable {
    /// Grace starts: the next ping was expected by now (Healthchecks' `next_ping`).
    public var late: Int64
    /// Late beyond grace: the check goes down at this instant (inclusive).
    public var down: Int64
}

extension CheckState {
    /// The status at `now`, as Healthchecks' `Check.get_status`:
    /// - paused in config is paused (a run it has is still reported as started);
    /// - an open run older than `grace` is down, whatever the schedule says, even on a check
    ///   paused at runtime: as in Healthchecks, a start arms the run's deadline there too;
    /// - paused at runtime is paused;
    /// - new and down stay what they are; an up check is `grace` from the moment the next ping
    ///   was expected and `down` from `grace` after it (both boundaries inclusive);
    /// - a schedule with no future time never goes late.
    public func liveStatus(under rules: CheckRules, at now: Int64) -> LiveStatus {
        let started = run != nil
        if rules.paused { return LiveStatus(.paused, started: started) }
        if let run, now >= run.start + rules.grace { return LiveStatus(.down, started: started) }
        switch status {
        case .new: return LiveStatus(.new, started: started)
        case .down: return LiveStatus(.down, started: started)
        case .paused: return LiveStatus(.paused, started: started)
        case .up: break
        }
        guard let late = expectedBy(under: rules) else { return LiveStatus(.up, started: started) }
        if now >= late + rules.grace { return LiveStatus(.down, started: started) }
        if now >= late { return LiveStatus(.grace, started: started) }
        return LiveStatus(.up, started: started)
    }

    /// When this check goes late and down unless a ping comes first; nil when it cannot go down
    /// by time: new or paused and not running, paused in config, already down, or a schedule
    /// with no future time.
    ///
    /// The earliest of the next expected ping (up checks) and the open run's start (up, new or
    /// paused checks) starts the grace period, as Healthchecks' `get_grace_start(with_started=True)`.
    public func deadlines(under rules: CheckRules) -> Deadlines? {
        if rules.paused { return nil }
        var late: Int64?
        switch status {
        case .down:
            return nil
        case .up:
            late = expectedBy(under: rules)
        case .new, .paused:
            break
        }
        if let run { late = min(late ?? run.start, run.start) }
        guard let late else { return nil }
        let (down, overflow) = late.addingReportingOverflow(rules.grace)
        return Deadlines(late: late, down: overflow ? Int64.max : down)
    }

    /// The next ping is expected by: `last_ping + timeout`, or the first scheduled time strictly
    /// after the last ping (nil when the schedule has none).
    func expectedBy(under rules: CheckRules) -> Int64? {
        guard let lastPing else { return nil }
        switch rules.expectation {
        case .timeout(let timeout):
            let (late, overflow) = lastPing.addingReportingOverflow(timeout)
            return overflow ? nil : late
        case .schedule(let schedule):
            let instant = Date(timeIntervalSince1970: Double(lastPing) / 1_000_000)
            guard let next = schedule.next(after: instant, in: rules.timeZone) else { return nil }
            return Int64(next.timeIntervalSince1970.rounded()) * 1_000_000
        }
    }
}
