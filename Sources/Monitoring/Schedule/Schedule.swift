import Foundation

/// A parsed check schedule: a cron expression (as `cronsim` evaluates it) or one or more systemd
/// OnCalendar lines (as `oncalendar` evaluates them; several lines, the earliest time wins).
public struct Schedule: Sendable, Hashable {
    public let expression: String
    public let kind: ScheduleKind
    let body: Body

    enum Body: Hashable, Sendable {
        case cron(CronExpression)
        case onCalendar([OnCalendarExpression])
    }

    /// Parses and validates as Healthchecks does: the expression must parse and must have a
    /// scheduled time after 2000-01-01T00:00:00Z.
    public init(parsing expression: String) throws(ScheduleError) {
        self.expression = expression
        kind = Schedule.kind(of: expression)
        switch kind {
        case .cron:
            body = .cron(try CronExpression(parsing: expression))
        case .onCalendar:
            let trimmed = expression.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { throw ScheduleError("schedule is empty") }
            var lines = [OnCalendarExpression]()
            let texts = trimmed.split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in zip(1..., texts) {
                // Several lines: say which one is wrong.
                let prefix = texts.count > 1 ? "line \(number): " : ""
                let words = line.split(whereSeparator: \.isWhitespace)
                if words.isEmpty { throw ScheduleError("\(prefix)oncalendar line is empty") }
                if words.count > 4 {
                    throw ScheduleError("\(prefix)oncalendar \"\(line.trimmingCharacters(in: .whitespacesAndNewlines))\" has \(words.count) parts, at most 4 are allowed ([weekdays] [date] [time] [time zone])")
                }
                do {
                    lines.append(try OnCalendarExpression(parsing: String(line)))
                } catch {
                    throw ScheduleError(prefix + error.message)
                }
            }
            body = .onCalendar(lines)
        }
        let year2000 = Date(timeIntervalSince1970: 946_684_800)
        guard next(after: year2000, in: TimeZone(identifier: "UTC") ?? .gmt) != nil else {
            throw ScheduleError("schedule \"\(expression)\" never matches a date after 2000-01-01")
        }
    }

    /// First scheduled instant strictly after `instant`, evaluated in `zone` (an OnCalendar
    /// time-zone suffix overrides it). nil: no future time.
    ///
    /// As in the reference libraries, `instant` is first truncated to whole seconds; and on the
    /// wall clock of a DST fold, a fixed-time job's result can be the first occurrence of a
    /// repeated hour even when `instant` lies in the second (see docs/schedules.md).
    public func next(after instant: Date, in zone: TimeZone) -> Date? {
        var times = times(after: instant, in: zone).makeIterator()
        return times.next()
    }

    /// The scheduled instants after `instant`, in order, as the reference iterators yield them.
    public func times(after instant: Date, in zone: TimeZone) -> ScheduleTimes {
        // Years 1…9999, as Python's datetime (and no trap on a non-finite Date).
        let seconds = instant.timeIntervalSince1970
        let bounded = seconds.isNaN ? 0 : min(max(seconds.rounded(.down), -62_135_596_800), 253_402_300_799)
        return ScheduleTimes(body: body, start: Int64(bounded), zone: zone)
    }

    /// Cron iff one line of exactly 5 whitespace-separated fields (SPEC §3).
    static func kind(of expression: String) -> ScheduleKind {
        let trimmed = expression.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.contains(where: \.isNewline) { return .onCalendar }
        return trimmed.split(whereSeparator: \.isWhitespace).count == 5 ? .cron : .onCalendar
    }
}

/// The lazy sequence of a schedule's next times.
public struct ScheduleTimes: Sequence, Sendable {
    let body: Schedule.Body
    let start: Int64
    let zone: TimeZone

    public func makeIterator() -> Iterator {
        switch body {
        case .cron(let expression):
            Iterator(state: .cron(CronIterator(expression: expression, zone: ZoneClock(zone: zone), startingAt: start)))
        case .onCalendar(let lines):
            Iterator(state: .onCalendar(OnCalendarSet(lines: lines, zone: zone, startingAt: start)))
        }
    }

    public struct Iterator: IteratorProtocol {
        enum State {
            case cron(CronIterator)
            case onCalendar(OnCalendarSet)
        }
        var state: State

        public mutating func next() -> Date? {
            let result: Int64?
            switch state {
            case .cron(var iterator):
                result = iterator.next()
                state = .cron(iterator)
            case .onCalendar(var set):
                result = set.next()
                state = .onCalendar(set)
            }
            return result.map { Date(timeIntervalSince1970: TimeInterval($0)) }
        }
    }
}
