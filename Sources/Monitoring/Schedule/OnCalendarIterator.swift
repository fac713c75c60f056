/// Forward evaluation of one OnCalendar line, step for step as `oncalendar` 1.1 `BaseIterator`
/// does it. Always on the wall clock of its zone: results in a DST gap are skipped (not moved),
/// and a wall time repeated by a fold is a result once, at its first occurrence. Iteration stops
/// at the year 2200, as systemd's does.
struct OnCalendarIterator {
    static let endYear = 2200
    private let expression: OnCalendarExpression
    private var clock: ZoneClock
    private var dt: LocalDateTime

    init(expression: OnCalendarExpression, zone: ZoneClock, startingAt instant: Int64) {
        self.expression = expression
        self.clock = zone
        self.dt = LocalDateTime(wallSeconds: clock.wall(fromUTC: instant).wall)
    }

    /// The next result as a UTC instant; nil when there is none before 2200.
    mutating func next() -> Int64? {
        dt = dt.adding(seconds: 1)
        while true {
            advanceYear()
            if dt.date.year >= OnCalendarIterator.endYear { return nil }
            if advanceMonth() { continue }
            if advanceDay() { continue }
            if advanceHour() { continue }
            if advanceMinute() { continue }
            if advanceSecond() { continue }
            let wall = dt.wallSeconds
            if clock.isImaginary(wall: wall) {
                dt = dt.adding(seconds: 1)
                continue
            }
            return clock.utc(fromWall: wall, fold: 0)
        }
    }

    private mutating func advanceYear() {
        if expression.years.contains(dt.date.year) { return }
        var year = dt.date.year
        while !expression.years.contains(year), year < OnCalendarIterator.endYear { year += 1 }
        dt = LocalDateTime(date: CivilDate(year: year, month: 1, day: 1))
    }

    private mutating func advanceMonth() -> Bool {
        if expression.months & (1 << UInt64(dt.date.month)) != 0 { return false }
        var needle = dt.date
        while expression.months & (1 << UInt64(needle.month)) == 0 { needle = needle.firstOfNextMonth }
        dt = LocalDateTime(date: needle)
        return true
    }

    private func matchesDay(_ date: CivilDate) -> Bool {
        expression.matchesDayOfWeek(date) && expression.matchesDayOfMonth(date)
    }

    private mutating func advanceDay() -> Bool {
        var needle = dt.date
        if matchesDay(needle) { return false }
        while !matchesDay(needle) {
            needle = needle.nextDay
            if needle.day == 1 { break }
        }
        dt = LocalDateTime(date: needle)
        return true
    }

    private mutating func advanceHour() -> Bool {
        if expression.hours & (1 << UInt64(dt.hour)) != 0 { return false }
        dt.minute = 0
        dt.second = 0
        while expression.hours & (1 << UInt64(dt.hour)) == 0 {
            dt = dt.adding(seconds: 3600)
            if dt.hour == 0 { break }
        }
        return true
    }

    private mutating func advanceMinute() -> Bool {
        if expression.minutes & (1 << UInt64(dt.minute)) != 0 { return false }
        dt.second = 0
        while expression.minutes & (1 << UInt64(dt.minute)) == 0 {
            dt = dt.adding(seconds: 60)
            if dt.minute == 0 { break }
        }
        return true
    }

    private mutating func advanceSecond() -> Bool {
        if expression.seconds & (1 << UInt64(dt.second)) != 0 { return false }
        if expression.seconds.nonzeroBitCount == 1 {
            let target = expression.seconds.trailingZeroBitCount
            dt = dt.adding(seconds: Int64(((target - dt.second) % 60 + 60) % 60))
        }
        while expression.seconds & (1 << UInt64(dt.second)) == 0 {
            dt = dt.adding(seconds: 1)
            if dt.second == 0 { break }
        }
        return true
    }
}
