import Foundation

/// One declared maintenance window (SPEC §14): a recurring one, starting at each time of a
/// cron or OnCalendar schedule and lasting `duration`, or a fixed one between two instants.
/// While one is in progress, a check's flips are recorded (marked) and its alerts held.
public struct MaintenanceWindow: Sendable, Hashable {
    public enum Timing: Sendable, Hashable {
        /// Starts at each time of `schedule` evaluated in `zone`, lasts `duration` seconds.
        case recurring(schedule: Schedule, duration: Int, zone: String)
        /// From `from` (inclusive) until `until` (exclusive), microseconds since the epoch.
        case fixed(from: Int64, until: Int64)
    }

    public var timing: Timing
    /// Where it is declared, for people: `checks.d/ops.yaml:14:9`.
    public var origin: String
    /// `reason:`, free text for people (plan, dashboard); "" when not given.
    public var reason: String

    public init(_ timing: Timing, origin: String = "", reason: String = "") {
        self.timing = timing
        self.origin = origin
        self.reason = reason
    }

    /// Occurrences a query returns at most: an every-minute window over a year is 525,600, so
    /// callers ask for short spans (the plan's 7 days, a period's neighbourhood).
    public static let occurrenceLimit = 20_000

    /// The occurrences overlapping `[from, to)`, in start order (each `start..<end`, in
    /// microseconds).
    public func periods(from: Int64, to: Int64) -> [MaintenancePeriod] {
        guard from < to else { return [] }
        switch timing {
        case .fixed(let start, let end):
            return start < to && end > from && start < end ? [MaintenancePeriod(start: start, end: end)] : []
        case .recurring(let schedule, let duration, let zoneName):
            let length = Int64(duration) * 1_000_000
            guard length > 0, let zone = TimeZoneDatabase.zone(named: zoneName) ?? TimeZone(identifier: "UTC") else { return [] }
            // A start s overlaps [from, to) when from - length < s < to; the schedule's times are
            // strictly after the instant given, whole seconds.
            let after = Date(timeIntervalSince1970: TimeInterval(Double(from - length) / 1_000_000).rounded(.down))
            var result: [MaintenancePeriod] = []
            for time in schedule.times(after: after, in: zone) {
                let start = Int64(time.timeIntervalSince1970) * 1_000_000
                if start >= to || result.count >= Self.occurrenceLimit { break }
                if start + length > from { result.append(MaintenancePeriod(start: start, end: start + length)) }
            }
            return result
        }
    }
}

/// One span of maintenance, `start..<end` in microseconds since the epoch.
public struct MaintenancePeriod: Sendable, Hashable {
    public var start: Int64
    public var end: Int64

    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    public func contains(_ time: Int64) -> Bool { start <= time && time < end }
}

/// The maintenance windows that apply to one check (its project's and its own), as one
/// calendar: overlapping or touching periods of any of them count as one.
public struct MaintenanceCalendar: Sendable, Hashable {
    public var windows: [MaintenanceWindow]

    public init(_ windows: [MaintenanceWindow]) {
        self.windows = windows
    }

    public var isEmpty: Bool { windows.isEmpty }

    /// How far `period(at:)` follows periods chained by overlap, each way: a window longer than
    /// its schedule's interval is maintenance for good, and this bounds the search (each step is
    /// an occurrence: a year of an every-minute window took seconds). A period chained past it
    /// is reported as ending a day from the time asked about; asked again then, it goes on.
    static let chainLimit: Int64 = 86_400 * 1_000_000

    /// The periods overlapping `[from, to)`, merged where they overlap or touch, in order.
    public func periods(from: Int64, to: Int64) -> [MaintenancePeriod] {
        let all = windows.flatMap { $0.periods(from: from, to: to) }.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        var merged: [MaintenancePeriod] = []
        for period in all {
            if let last = merged.last, period.start <= last.end {
                merged[merged.count - 1].end = max(last.end, period.end)
            } else {
                merged.append(period)
            }
        }
        return merged
    }

    /// The maintenance in progress at `time` (merged with the periods it overlaps or touches,
    /// followed up to a day each way); nil when none is.
    public func period(at time: Int64) -> MaintenancePeriod? {
        guard !windows.isEmpty, var current = periods(from: time, to: time + 1).first(where: { $0.contains(time) }) else { return nil }
        while current.end < time + Self.chainLimit, let next = periods(from: current.end, to: current.end + 1).first, next.start <= current.end {
            current.end = max(current.end, next.end)
        }
        while current.start > time - Self.chainLimit, let previous = periods(from: current.start - 1, to: current.start).last,
            previous.end >= current.start
        {
            current.start = min(current.start, previous.start)
        }
        return current
    }

    /// Whether maintenance is in progress at `time`.
    public func contains(_ time: Int64) -> Bool {
        !windows.isEmpty && periods(from: time, to: time + 1).contains { $0.contains(time) }
    }

    /// The next maintenance that starts after `time`, within `horizon` microseconds (merged
    /// with what it overlaps); nil when none does. While one is in progress at `time`, the next
    /// is one after it, not a window starting inside it (which merges into the current one).
    public func next(after time: Int64, within horizon: Int64 = 366 * 86_400 * 1_000_000) -> MaintenancePeriod? {
        guard !windows.isEmpty else { return nil }
        // A start at the current period's end touches it, so it is part of it too.
        let after = period(at: time)?.end ?? time
        // Earliest start among the windows, each asked for its first occurrence after `after`.
        var earliest: Int64?
        for window in windows {
            var from = after + 1
            // Look in growing spans, so an hourly window is not iterated over a year.
            var span: Int64 = 86_400 * 1_000_000
            while from < time + horizon {
                let to = min(from + span, time + horizon)
                if let start = window.periods(from: from, to: to).first(where: { $0.start > after })?.start {
                    earliest = min(earliest ?? start, start)
                    break
                }
                from = to
                span *= 4
            }
        }
        guard let earliest else { return nil }
        return period(at: earliest)
    }
}
