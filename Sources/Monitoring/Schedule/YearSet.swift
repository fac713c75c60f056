/// The years an OnCalendar line allows, one bit per year of `OnCalendarField.year.range`
/// (1970…2199). A `Set<Int>` of every year cost about 4 KB per expression, most of an idle
/// check's memory with 10,000 OnCalendar checks.
struct YearSet: Hashable, Sendable {
    private static let years = OnCalendarField.year.range
    private var low: UInt64 = 0, middle: UInt64 = 0, high: UInt64 = 0, top: UInt64 = 0

    /// Years outside the field's range are left out (the parser never produces them).
    init<S: Sequence<Int>>(_ years: S) {
        for year in years { insert(year) }
    }

    func contains(_ year: Int) -> Bool {
        guard Self.years.contains(year) else { return false }
        let bit = year - Self.years.lowerBound
        return Self.word(bit / 64, of: self) & (1 << UInt64(bit % 64)) != 0
    }

    private mutating func insert(_ year: Int) {
        guard Self.years.contains(year) else { return }
        let bit = year - Self.years.lowerBound
        let mask: UInt64 = 1 << UInt64(bit % 64)
        switch bit / 64 {
        case 0: low |= mask
        case 1: middle |= mask
        case 2: high |= mask
        default: top |= mask
        }
    }

    private static func word(_ index: Int, of set: YearSet) -> UInt64 {
        switch index {
        case 0: set.low
        case 1: set.middle
        case 2: set.high
        default: set.top
        }
    }
}
