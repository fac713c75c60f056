import Foundation

/// Several OnCalendar lines evaluated together, as `oncalendar.OnCalendar` does (and Healthchecks
/// with it): each line keeps its own iterator in its own zone; each step advances the lines whose
/// pending time is not later than the last result and yields the earliest pending time.
/// "Earlier" compares wall-clock times in the check's zone, as Python compares two datetimes with
/// the same tzinfo; on a tie the first line wins.
struct OnCalendarSet {
    private var lines: [(iterator: OnCalendarIterator, pending: Int64?)]
    private var local: ZoneClock
    /// The last result (nil before the first step: every line advances then).
    private var last: Int64?

    init(lines expressions: [OnCalendarExpression], zone: TimeZone, startingAt instant: Int64) {
        local = ZoneClock(zone: zone)
        lines = expressions.map { expression in
            let clock = ZoneClock(zone: expression.zone ?? zone)
            return (OnCalendarIterator(expression: expression, zone: clock, startingAt: instant), nil)
        }
    }

    mutating func next() -> Int64? {
        let lastWall = last.map { local.wall(fromUTC: $0).wall }
        for index in lines.indices {
            if let pending = lines[index].pending, let lastWall, local.wall(fromUTC: pending).wall > lastWall {
                continue
            }
            if last == nil || lines[index].pending != nil {
                lines[index].pending = lines[index].iterator.next()
            }
        }
        var best: (utc: Int64, wall: Int64)?
        for line in lines {
            guard let pending = line.pending else { continue }
            let wall = local.wall(fromUTC: pending).wall
            if best == nil || wall < (best?.wall ?? .max) { best = (pending, wall) }
        }
        guard let best else { return nil }
        last = best.utc
        return best.utc
    }
}
