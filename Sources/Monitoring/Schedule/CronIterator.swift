/// Forward evaluation of a cron expression, step for step as `cronsim` 2.9 `CronSim.__next__`
/// does it, so that results agree to the second — including its DST behaviour:
///
/// - Fixed-time jobs (neither minute nor hour starts with `*`) are evaluated on the wall clock; a
///   result in a DST gap moves forward minute by minute until it exists (02:30 → 03:00 on a
///   spring-forward night at 02:00), and a result in a fold takes its first occurrence.
/// - Other jobs are evaluated on the UTC timeline: every real instant whose wall time matches is
///   a result, so `*/15 * * * *` fires in both occurrences of a repeated hour.
struct CronIterator {
    private let expression: CronExpression
    private var clock: ZoneClock
    /// True: `dt` is a naive wall time (cronsim's `fixup_tz` mode). False: zone-aware, with `fold`.
    private let onWallClock: Bool
    private var dt: LocalDateTime
    private var fold = 0
    /// Ticks left for this step. Correct zone conversions always move forward, so this never
    /// runs out; it turns a would-be endless loop (a broken zone) into "no next time".
    private var budget = 0
    private var exhausted: Bool { budget <= 0 }

    /// Starts at `instant` (whole seconds since 1970, UTC); the first result is strictly later
    /// (except for the wall-clock fold quirk described in docs/schedules.md).
    init(expression: CronExpression, zone: ZoneClock, startingAt instant: Int64) {
        self.expression = expression
        self.clock = zone
        let (wall, fold) = clock.wall(fromUTC: instant)
        self.dt = LocalDateTime(wallSeconds: wall)
        self.onWallClock = expression.wallClockMode
        self.fold = onWallClock ? 0 : fold
    }

    /// The next result as a UTC instant, nil after 50 years without a match (as cronsim).
    mutating func next() -> Int64? {
        budget = 100_000
        tick(1)
        guard advance() else { return nil }
        if onWallClock {
            var wall = dt.wallSeconds
            while clock.isImaginary(wall: wall) { wall += 60 }
            dt = LocalDateTime(wallSeconds: wall)
            return clock.utc(fromWall: wall, fold: 0)
        }
        return clock.utc(fromWall: dt.wallSeconds, fold: fold)
    }

    private mutating func tick(_ seconds: Int64) {
        budget -= 1
        if onWallClock {
            dt = dt.adding(seconds: seconds)
        } else {
            let utc = clock.utc(fromWall: dt.wallSeconds, fold: fold) + seconds
            let (wall, newFold) = clock.wall(fromUTC: utc)
            dt = LocalDateTime(wallSeconds: wall)
            fold = newFold
        }
    }

    /// Sets the wall time, keeping `fold` (Python's `datetime.replace`).
    private mutating func replace(hour: Int? = nil, minute: Int, second: Int) {
        if let hour { dt.hour = hour }
        dt.minute = minute
        dt.second = second
    }

    /// `datetime.combine(date, time(), tzinfo)`: midnight, fold 0.
    private mutating func startOfDay(_ date: CivilDate) {
        dt = LocalDateTime(date: date)
        fold = 0
    }

    private mutating func advance() -> Bool {
        let startYear = dt.date.year
        while !exhausted {
            advanceMonth()
            if dt.date.year > startYear + 50 { return false }
            if advanceDay() { continue }
            if advanceHour() { continue }
            if advanceMinute() { continue }
            if advanceSecond() { continue }
            return true
        }
        return false
    }

    private mutating func advanceMonth() {
        if expression.matchesMonth(dt.date.month) { return }
        var needle = dt.date
        while !expression.matchesMonth(needle.month) {
            needle = needle.firstOfNextMonth
        }
        startOfDay(needle)
    }

    private mutating func advanceDay() -> Bool {
        var needle = dt.date
        if expression.matchesDay(needle) { return false }
        while !expression.matchesDay(needle) {
            needle = needle.nextDay
            if needle.day == 1 { break }
        }
        startOfDay(needle)
        return true
    }

    private mutating func advanceHour() -> Bool {
        if expression.matchesHour(dt.hour) { return false }
        replace(minute: 0, second: 0)
        while !expression.matchesHour(dt.hour), !exhausted {
            tick(3600)
            if dt.hour == 0 { break }
        }
        return true
    }

    private mutating func advanceMinute() -> Bool {
        if expression.matchesMinute(dt.minute) { return false }
        replace(minute: dt.minute, second: 0)
        if expression.minutes.nonzeroBitCount == 1 {
            let target = expression.minutes.trailingZeroBitCount
            let delta = ((target - dt.minute) % 60 + 60) % 60
            tick(Int64(delta * 60))
        }
        while !expression.matchesMinute(dt.minute), !exhausted {
            tick(60)
            if dt.minute == 0 { break }
        }
        return true
    }

    /// Five-field expressions have seconds = {0}.
    private mutating func advanceSecond() -> Bool {
        if dt.second == 0 { return false }
        tick(Int64((60 - dt.second) % 60))
        while dt.second != 0, !exhausted {
            tick(1)
            if dt.second == 0 { break }
        }
        return true
    }
}
