/// A component of a systemd OnCalendar expression, and its parser. Grammar and order of checks
/// follow the `oncalendar` 1.1 Python library (`Field.parse`) exactly; the messages are ours.
enum OnCalendarField: Int, Sendable {
    case dayOfWeek, year, month, dayOfMonth, hour, minute, second

    var name: String {
        switch self {
        case .dayOfWeek: "day-of-week"
        case .year: "year"
        case .month: "month"
        case .dayOfMonth: "day-of-month"
        case .hour: "hour"
        case .minute: "minute"
        case .second: "second"
        }
    }

    /// Valid values (`oncalendar.RANGES`); years stop before 2200 as systemd does.
    var range: ClosedRange<Int> {
        switch self {
        case .dayOfWeek: 0...6
        case .year: 1970...2199
        case .month: 1...12
        case .dayOfMonth: 1...31
        case .hour: 0...23
        case .minute, .second: 0...59
        }
    }

    static let dayNames = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]

    /// What is wrong (`predicate`) with which text (`subject`; empty: a missing value).
    struct Problem: Error {
        let subject: Substring
        let predicate: String
    }

    /// Parses one component; `reverse` is set inside `~` (days counted from the month's end, as
    /// negative numbers: -1 is the last day).
    func parse(_ text: Substring, reverse: Bool = false) throws(Problem) -> Set<Int> {
        if self == .dayOfMonth, text.hasPrefix("~") {
            return try parse(text.dropFirst(), reverse: true)
        }
        if self != .dayOfWeek, text == "*" { return Set(range) }
        if self == .dayOfWeek, text == "*" {
            throw Problem(subject: text, predicate: "is not allowed; leave the weekday out to mean every day")
        }
        if text.contains("*") {
            throw Problem(subject: text, predicate: "uses \"*\" in a list, range or repetition, which OnCalendar does not allow (write e.g. \"0/15\")")
        }
        if self == .dayOfWeek, text.hasSuffix(",") {
            return try parse(text.dropLast())
        }
        if self == .dayOfWeek, text.contains("-") {
            return try parse(Substring(text.replacingOccurrences(of: "-", with: "..")))
        }
        if text.contains(",") {
            var result = Set<Int>()
            for term in text.split(separator: ",", omittingEmptySubsequences: false) {
                result.formUnion(try parse(term, reverse: reverse))
            }
            return result
        }
        if self != .dayOfWeek, let slash = text.firstIndex(of: "/") {
            let step = try digits(text[text.index(after: slash)...], in: text)
            guard step != 0 else { throw Problem(subject: text, predicate: "repeats every 0, it must be at least 1") }
            let items = try parse(text[..<slash], reverse: reverse)
            if items.count == 1, let start = items.first {
                let end = reverse ? 0 : range.upperBound
                guard start <= end else { return [] }
                return Set(stride(from: start, through: end, by: step))
            }
            let sorted = items.sorted()
            return Set(stride(from: 0, to: sorted.count, by: step).map { sorted[$0] })
        }
        if let dots = text.range(of: "..") {
            var start = try integer(text[..<dots.lowerBound])
            var end = try integer(text[dots.upperBound...])
            guard start <= end else { throw Problem(subject: text, predicate: "is a range that ends before it starts") }
            if reverse { (start, end) = (-end, -start) }
            return Set(start...end)
        }
        let value = try integer(text)
        if reverse {
            guard value <= 28 else {
                throw Problem(subject: text, predicate: "is too far from the end of the month (after ~ the day must be 1-28)")
            }
            return [-value]
        }
        return [value]
    }

    /// `oncalendar.Field.int`: weekday names (full or 3 letters, any case); two-digit years
    /// (0-69 → 2000-2069, 70-99 → 1970-1999); numbers within the range.
    private func integer(_ text: Substring) throws(Problem) -> Int {
        if text.isEmpty { throw Problem(subject: "", predicate: "has a missing value") }
        if self == .dayOfWeek {
            let upper = text.uppercased()
            if let index = OnCalendarField.dayNames.firstIndex(of: upper) { return index }
            if let index = OnCalendarField.dayNames.firstIndex(where: { $0.prefix(3) == upper }) { return index }
            throw Problem(subject: text, predicate: "is not a day name (Mon-Sun or Monday-Sunday)")
        }
        if text.isEmpty { throw Problem(subject: "", predicate: "has a missing value") }
        guard text.allSatisfy(\.isASCIIDigitForCron) else {
            throw Problem(subject: text, predicate: "is not a number")
        }
        guard var value = CronField.decimal(text) else {
            throw Problem(subject: text, predicate: "is out of range \(range.lowerBound)-\(range.upperBound)")
        }
        if self == .year, value < 70 { value += 2000 }
        if self == .year, value < 100 { value += 1900 }
        guard range.contains(value) else {
            throw Problem(subject: text, predicate: "is out of range \(range.lowerBound)-\(range.upperBound)")
        }
        return value
    }

    private func digits(_ text: Substring, in term: Substring) throws(Problem) -> Int {
        guard !text.isEmpty else { throw Problem(subject: term, predicate: "has a missing number after \"/\"") }
        guard text.allSatisfy(\.isASCIIDigitForCron) else {
            throw Problem(subject: text, predicate: "is not a number")
        }
        return CronField.decimal(text) ?? Int(Int32.max)
    }
}
