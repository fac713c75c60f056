/// A parsed 5-field cron expression, as `cronsim` 2.9 reads it: fields in the order minute, hour,
/// day-of-month, month, day-of-week; case-insensitive names; `L`, `LW`, `5L`, `MON#2`.
struct CronExpression: Hashable, Sendable {
    /// Bit n set: value n allowed.
    let minutes: UInt64
    let hours: UInt64
    let days: UInt64
    let months: UInt64
    /// Weekdays 0…7 (0 and 7 are Sunday).
    let weekdays: UInt64
    let lastDay: Bool
    let lastWeekday: Bool
    /// `5L`: bit n set for weekday n (0…7).
    let lastOfWeekday: UInt64
    /// `MON#2`: bit (weekday * 8 + nth) set.
    let nthWeekday: UInt64
    /// Debian cron (and cronsim): if either day field starts with `*`, both must match; else either.
    let dayAnd: Bool
    /// cronsim evaluates on the wall clock (then repairs DST gaps) when neither minute nor hour
    /// starts with `*` — jobs at fixed times, like Debian cron; otherwise on the UTC timeline.
    let wallClockMode: Bool

    init(parsing expression: String) throws(ScheduleError) {
        var parts = expression.split(whereSeparator: \.isWhitespace)
        // `?` ("no specific value", as Quartz, AWS and many crontab generators write it) in a
        // day field means `*`. cronsim rejects it; we accept it as this one alias, so every
        // expression cronsim accepts still means exactly what it means there.
        for day in [CronField.dayOfMonth.rawValue, CronField.dayOfWeek.rawValue] where parts.count == 5 && parts[day] == "?" {
            parts[day] = "*"
        }
        guard parts.count == 5 else {
            throw ScheduleError("cron expression \"\(expression)\" has \(parts.count) fields, expected 5 (minute hour day-of-month month day-of-week)")
        }
        func parse(_ field: CronField) throws(ScheduleError) -> Set<CronField.Item> {
            let text = parts[field.rawValue]
            do {
                return try field.parse(text)
            } catch {
                if error.subject.isEmpty || error.subject == text {
                    throw ScheduleError("cron \(field.name) \"\(text)\" \(error.predicate)")
                }
                throw ScheduleError("cron \(field.name) \"\(text)\": \"\(error.subject)\" \(error.predicate)")
            }
        }
        func bits(_ items: Set<CronField.Item>) -> UInt64 {
            items.reduce(0) { mask, item in
                if case .value(let v) = item { return mask | (1 << UInt64(v)) }
                return mask
            }
        }
        let minuteItems = try parse(.minute)
        let hourItems = try parse(.hour)
        let dayItems = try parse(.dayOfMonth)
        let monthItems = try parse(.month)
        let weekdayItems = try parse(.dayOfWeek)

        minutes = bits(minuteItems)
        hours = bits(hourItems)
        days = bits(dayItems)
        months = bits(monthItems)
        weekdays = bits(weekdayItems)
        lastDay = dayItems.contains(.lastDay)
        lastWeekday = dayItems.contains(.lastWeekday)
        var lastOf: UInt64 = 0
        var nth: UInt64 = 0
        for item in weekdayItems {
            switch item {
            case .lastOf(let weekday): lastOf |= 1 << UInt64(weekday)
            case .nth(let weekday, let n): nth |= 1 << UInt64(weekday * 8 + n)
            default: break
            }
        }
        lastOfWeekday = lastOf
        nthWeekday = nth
        dayAnd = parts[2].hasPrefix("*") || parts[4].hasPrefix("*")
        wallClockMode = !parts[0].hasPrefix("*") && !parts[1].hasPrefix("*")

        // cronsim: with the AND rule, a day-of-month that no selected month has is an error.
        let dayValues = dayItems.compactMap { item -> Int? in
            if case .value(let v) = item { return v }
            return nil
        }
        if dayAnd, !lastDay, !lastWeekday, let smallest = dayValues.min(), smallest > 29 {
            let longest = monthItems.compactMap { item -> Int? in
                if case .value(let m) = item { return CivilDate.daysIn(month: m, year: 2000) }
                return nil
            }.max() ?? 31
            if smallest > longest {
                throw ScheduleError("cron day-of-month \"\(parts[2])\": day \(smallest) never occurs in month \"\(parts[3])\"")
            }
        }
    }

    func matchesMonth(_ month: Int) -> Bool { months & (1 << UInt64(month)) != 0 }
    func matchesHour(_ hour: Int) -> Bool { hours & (1 << UInt64(hour)) != 0 }
    func matchesMinute(_ minute: Int) -> Bool { minutes & (1 << UInt64(minute)) != 0 }

    func matchesDayOfMonth(_ date: CivilDate) -> Bool {
        if days & (1 << UInt64(date.day)) != 0 { return true }
        if lastWeekday, date.day >= 26, date.day == CronExpression.lastWeekday(of: date) { return true }
        if lastDay, date.day == date.daysInMonth { return true }
        return false
    }

    func matchesDayOfWeek(_ date: CivilDate) -> Bool {
        let dow = date.weekdayFromMonday + 1  // 1 = Monday … 7 = Sunday, as cronsim
        let candidates = [dow, dow % 7]
        for weekday in candidates where weekdays & (1 << UInt64(weekday)) != 0 { return true }
        if date.day + 7 > date.daysInMonth {
            for weekday in candidates where lastOfWeekday & (1 << UInt64(weekday)) != 0 { return true }
        }
        let index = (date.day + 6) / 7
        for weekday in candidates where nthWeekday & (1 << UInt64(weekday * 8 + index)) != 0 { return true }
        return false
    }

    func matchesDay(_ date: CivilDate) -> Bool {
        dayAnd
            ? matchesDayOfMonth(date) && matchesDayOfWeek(date)
            : matchesDayOfMonth(date) || matchesDayOfWeek(date)
    }

    /// The last Monday-to-Friday day of the date's month.
    static func lastWeekday(of date: CivilDate) -> Int {
        let last = CivilDate(year: date.year, month: date.month, day: date.daysInMonth)
        switch last.weekdayFromMonday {
        case 6: return last.day - 2
        case 5: return last.day - 1
        default: return last.day
        }
    }
}
