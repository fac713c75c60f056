import Foundation

/// One line of a systemd OnCalendar schedule, parsed as the `oncalendar` 1.1 Python library does:
/// `[weekdays] [[year-]month-day] [hour:minute[:second]] [time zone]`, or a shorthand.
struct OnCalendarExpression: Hashable, Sendable {
    /// Weekdays: bit 0 = Monday … bit 6 = Sunday.
    let weekdays: UInt64
    let years: YearSet
    let months: UInt64
    /// Days of the month counted from the start (bit n: day n).
    let days: UInt64
    /// Days counted from the end with `~` (bit n: n-th last day; 1 is the last day).
    let daysFromEnd: UInt64
    let hours: UInt64
    let minutes: UInt64
    let seconds: UInt64
    /// The zone named at the end of the line, which overrides the check's `tz`.
    let zone: TimeZone?
    let zoneName: String?

    static let shorthands: [String: String] = [
        "minutely": "*-*-* *:*:00",
        "hourly": "*-*-* *:00:00",
        "daily": "*-*-* 00:00:00",
        "monthly": "*-*-01 00:00:00",
        "weekly": "Mon *-*-* 00:00:00",
        "yearly": "*-01-01 00:00:00",
        "annually": "*-01-01 00:00:00",
        "quarterly": "*-01,04,07,10-01 00:00:00",
        "semiannually": "*-01,07-01 00:00:00",
    ]

    init(parsing line: String) throws(ScheduleError) {
        var text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        var zone: TimeZone?
        var zoneName: String?
        // `TzIterator`: a last word that names a time zone is the zone, else part of the expression.
        if text.contains(" ") {
            let words = text.split(whereSeparator: \.isWhitespace)
            if let last = words.last, let first = last.first, !"0123456789*".contains(first),
               let found = TimeZoneDatabase.zone(named: String(last)) {
                zone = found
                zoneName = String(last)
                text = String(text[..<last.startIndex]).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        do {
            try self.init(fields: text, zone: zone, zoneName: zoneName)
        } catch {
            throw ScheduleError(OnCalendarExpression.explain(error, line: line, text: text))
        }
    }

    private enum Failure: Error {
        case field(OnCalendarField, Substring, OnCalendarField.Problem)
        case time(Substring)
        case date(Substring)
        case fieldCount
    }

    private init(fields input: String, zone: TimeZone?, zoneName: String?) throws(Failure) {
        var expression = input
        if let expanded = OnCalendarExpression.shorthands[input.lowercased()] { expression = expanded }
        var parts = expression.replacingOccurrences(of: "~", with: "-~").split(whereSeparator: \.isWhitespace)
        guard !parts.isEmpty else { throw .fieldCount }

        func parse(_ field: OnCalendarField, _ text: Substring) throws(Failure) -> Set<Int> {
            do { return try field.parse(text) } catch { throw .field(field, text, error) }
        }
        func mask(_ values: Set<Int>) -> UInt64 {
            values.reduce(0) { $1 >= 0 && $1 < 64 ? $0 | (1 << UInt64($1)) : $0 }
        }

        if let last = parts.last, last.contains(":") {
            parts.removeLast()
            var time = last.split(separator: ":", omittingEmptySubsequences: false)
            guard time.count == 2 || time.count == 3 else { throw .time(last) }
            if time.count == 2 { time.append("0") }
            hours = mask(try parse(.hour, time[0]))
            minutes = mask(try parse(.minute, time[1]))
            seconds = mask(try parse(.second, time[2]))
        } else {
            hours = 1
            minutes = 1
            seconds = 1
        }

        if let last = parts.last, last.contains("-"), let first = last.first, "0123456789*".contains(first) {
            parts.removeLast()
            var date = last.split(separator: "-", omittingEmptySubsequences: false)
            guard date.count == 2 || date.count == 3 else { throw .date(last) }
            if date.count == 2 { date.insert("*", at: 0) }
            years = YearSet(try parse(.year, date[0]))
            months = mask(try parse(.month, date[1]))
            let dayValues = try parse(.dayOfMonth, date[2])
            days = mask(dayValues)
            daysFromEnd = mask(Set(dayValues.filter { $0 < 0 }.map { -$0 }))
        } else {
            years = YearSet(OnCalendarField.year.range)
            months = mask(Set(OnCalendarField.month.range))
            days = mask(Set(OnCalendarField.dayOfMonth.range))
            daysFromEnd = 0
        }

        if !parts.isEmpty {
            weekdays = mask(try parse(.dayOfWeek, parts.removeFirst()))
        } else {
            weekdays = 0b111_1111
        }
        guard parts.isEmpty else { throw .fieldCount }
        self.zone = zone
        self.zoneName = zoneName
    }

    private static func explain(_ failure: Failure, line: String, text: String) -> String {
        // A last word that is not a date or time but looks like a zone (has a "/", or is close to
        // a zone's name) is always the cause: it cannot be a valid part of the expression.
        let words = line.split(whereSeparator: \.isWhitespace)
        if words.count > 1, let last = words.last, let first = last.first,
           !"0123456789*".contains(first), !last.contains(":") {
            let suggestion = TimeZoneDatabase.suggestion(for: String(last))
            if let suggestion {
                return "oncalendar \"\(line)\": unknown time zone \"\(last)\" (did you mean \"\(suggestion)\"?)"
            }
            if last.contains("/") {
                return "oncalendar \"\(line)\": unknown time zone \"\(last)\""
            }
        }
        // Undo the library's "~" -> "-~" rewrite in what we quote.
        func shown(_ value: Substring) -> String { value.replacingOccurrences(of: "-~", with: "~") }
        switch failure {
        case .field(let field, let value, let problem):
            if problem.subject.isEmpty || problem.subject == value {
                return "oncalendar \(field.name) \"\(shown(value))\" \(problem.predicate)"
            }
            return "oncalendar \(field.name) \"\(shown(value))\": \"\(shown(problem.subject))\" \(problem.predicate)"
        case .time(let value):
            return "oncalendar time \"\(value)\" is not hour:minute or hour:minute:second"
        case .date(let value):
            let hint = value.contains("~") ? " (days from the end are written month~day, e.g. \"*-02~01\")" : ""
            return "oncalendar date \"\(shown(value))\" is not month-day or year-month-day\(hint)"
        case .fieldCount:
            if text.isEmpty { return "oncalendar expression is empty" }
            return "oncalendar \"\(line)\" has parts in the wrong order or too many; expected [weekdays] [[year-]month-day] [hour:minute[:second]] [time zone]"
        }
    }

    func matchesDayOfMonth(_ date: CivilDate) -> Bool {
        if days & (1 << UInt64(date.day)) != 0 { return true }
        if daysFromEnd != 0 {
            let fromEnd = date.daysInMonth - date.day + 1
            if daysFromEnd & (1 << UInt64(fromEnd)) != 0 { return true }
        }
        return false
    }

    func matchesDayOfWeek(_ date: CivilDate) -> Bool {
        weekdays & (1 << UInt64(date.weekdayFromMonday)) != 0
    }
}
