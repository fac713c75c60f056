/// One of the five fields of a cron expression, and its parser. The grammar and the order of the
/// checks follow `cronsim` 2.9 (`Field.parse`) exactly, so that the same strings are accepted;
/// only the error messages are ours.
enum CronField: Int, CaseIterable, Sendable {
    case minute, hour, dayOfMonth, month, dayOfWeek

    var name: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        }
    }

    var range: ClosedRange<Int> {
        switch self {
        case .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    private var rangeDescription: String {
        switch self {
        case .month: "1-12 or JAN-DEC"
        case .dayOfWeek: "0-7 or SUN-SAT"
        default: "\(range.lowerBound)-\(range.upperBound)"
        }
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// An element of a parsed field, as cronsim's sets hold them.
    enum Item: Hashable, Sendable {
        case value(Int)
        /// `L` in day-of-month: the last day of the month.
        case lastDay
        /// `LW` in day-of-month: the last weekday (Mon-Fri) of the month.
        case lastWeekday
        /// `5L` in day-of-week: the last Friday of the month.
        case lastOf(weekday: Int)
        /// `MON#2` in day-of-week: the second Monday of the month.
        case nth(weekday: Int, Int)
    }

    /// A problem in one piece of the field: `subject` (the offending text, quoted in the
    /// message; empty when a value is missing) and what is wrong with it.
    struct Problem: Error {
        let subject: Substring
        let predicate: String
    }

    /// Parses the text of this field; names and letters are case-insensitive (cronsim
    /// upper-cases the whole expression).
    func parse(_ text: Substring) throws(Problem) -> Set<Item> {
        if text == "*" { return Set(range.map(Item.value)) }

        if text.contains(",") {
            var result = Set<Item>()
            for term in text.split(separator: ",", omittingEmptySubsequences: false) {
                result.formUnion(try parse(term))
            }
            return result
        }

        if self == .dayOfWeek, text.contains(where: { $0 == "L" || $0 == "l" }) {
            let value = text.dropLast()
            guard !value.isEmpty, value.allSatisfy(\.isASCIIDigitForCron) else {
                throw Problem(subject: text, predicate: "is not a last-weekday term (use a number and L, e.g. \"5L\" for the last Friday)")
            }
            return [.lastOf(weekday: try integer(value))]
        }

        if self == .dayOfWeek, let hash = text.firstIndex(of: "#") {
            let term = text[..<hash]
            let nthText = text[text.index(after: hash)...]
            let nth = try digits(nthText, in: text)
            guard (1...5).contains(nth) else {
                throw Problem(subject: text, predicate: "has week number \(nthText), it must be 1-5")
            }
            return [.nth(weekday: try integer(term), nth)]
        }

        if let slash = text.firstIndex(of: "/") {
            let term = text[..<slash]
            let step = try digits(text[text.index(after: slash)...], in: text)
            guard step != 0 else { throw Problem(subject: text, predicate: "has a step of 0, it must be at least 1") }
            let items = try parse(term)
            if items == [.lastDay] || items == [.lastWeekday] { return items }
            let values = items.compactMap { item -> Int? in
                if case .value(let v) = item { return v }
                return nil
            }.sorted()
            if values.count == 1, let start = values.first, !term.contains("-") {
                // cronsim: a single start value steps up to the end of the field's range. A range
                // whose ends are equal (`50-50/3`) is that value only (cronsim 2.9; 2.8 stepped).
                return Set(stride(from: start, through: range.upperBound, by: step).map(Item.value))
            }
            return Set(stride(from: 0, to: values.count, by: step).map { Item.value(values[$0]) })
        }

        if let dash = text.firstIndex(of: "-") {
            let start = try integer(text[..<dash])
            let end = try integer(text[text.index(after: dash)...])
            guard start <= end else {
                throw Problem(subject: text, predicate: "is a range that ends before it starts")
            }
            return Set((start...end).map(Item.value))
        }

        if self == .dayOfMonth, text.uppercased() == "LW" { return [.lastWeekday] }
        if self == .dayOfMonth, text.uppercased() == "L" { return [.lastDay] }

        return [.value(try integer(text))]
    }

    /// cronsim's `Field.int`: a name (months, weekdays) or a number within the field's range.
    private func integer(_ text: Substring) throws(Problem) -> Int {
        if self == .month, let index = CronField.monthNames.firstIndex(of: text.uppercased()) { return index + 1 }
        if self == .dayOfWeek, let index = CronField.dayNames.firstIndex(of: text.uppercased()) { return index }
        if text == "?" {
            throw Problem(subject: text, predicate: "is not supported (cronsim and Healthchecks reject it); use \"*\"")
        }
        if text.isEmpty { throw Problem(subject: "", predicate: "has a missing value") }
        guard text.allSatisfy(\.isASCIIDigitForCron) else {
            let what = switch self {
            case .month: "a number or a month name (JAN-DEC)"
            case .dayOfWeek: "a number or a day name (SUN-SAT)"
            case .dayOfMonth: "a number, \"L\" or \"LW\""
            default: "a number"
            }
            throw Problem(subject: text, predicate: "is not \(what)")
        }
        guard let value = CronField.decimal(text), range.contains(value) else {
            throw Problem(subject: text, predicate: "is out of range \(rangeDescription)")
        }
        return value
    }

    /// cronsim's `Field._int`: decimal digits only (a step or a week number).
    private func digits(_ text: Substring, in term: Substring) throws(Problem) -> Int {
        guard !text.isEmpty else {
            let separator = term.contains("#") ? "#" : "/"
            throw Problem(subject: term, predicate: "has no number after \"\(separator)\"")
        }
        guard text.allSatisfy(\.isASCIIDigitForCron) else {
            throw Problem(subject: text, predicate: "is not a number")
        }
        // Python's int() has no upper bound; anything this large behaves the same as a huge step.
        return CronField.decimal(text) ?? Int(Int32.max)
    }

    /// Decimal value of ASCII digits, nil when it overflows (leading zeros allowed, as in Python).
    static func decimal(_ text: Substring) -> Int? {
        var value = 0
        for character in text {
            guard let digit = character.wholeNumberValue else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }
}

extension Character {
    var isASCIIDigitForCron: Bool { isASCII && isNumber }
}
