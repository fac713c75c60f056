/// The one UTC time formatter: microseconds since the epoch in, ISO 8601 text out. A pure
/// function of its argument (proleptic Gregorian calendar, as glibc's `gmtime_r`), with no
/// Foundation formatter and no C call, so every module can use it, on the request path too.
///
/// Times before 1970 are floored to their second (-1 µs is 1969-12-31T23:59:59). Years are
/// written with at least four digits, more when needed (`%04d`), and a minus sign before year 0.
public enum UTCTime {
    /// Whole seconds with a `+00:00` offset, as Healthchecks' `isostring` (check `last_ping`,
    /// `next_ping`, flips): `2023-11-14T22:13:20+00:00`.
    public static func seconds(_ micros: Int64) -> String {
        text(micros, fraction: false, separator: "T", zone: "+00:00")
    }

    /// With microseconds when they are not zero, as Python's `datetime.isoformat()` (ping `date`):
    /// `2023-11-14T22:13:20.000001+00:00`.
    public static func precise(_ micros: Int64) -> String {
        text(micros, fraction: true, separator: "T", zone: "+00:00")
    }

    /// Whole seconds with `Z`, as alerts' `$NOW` and `kiothc schedule`: `2026-03-29T23:00:00Z`.
    public static func secondsZ(_ micros: Int64) -> String {
        text(micros, fraction: false, separator: "T", zone: "Z")
    }

    /// Always with six digits of microseconds and `Z`, for JSON log lines (fixed width, so they
    /// sort as text): `2023-11-14T22:13:20.000000Z`.
    public static func microsecondsZ(_ micros: Int64) -> String {
        text(micros, fraction: true, alwaysFraction: true, separator: "T", zone: "Z")
    }

    /// For tables and the dashboard: `2024-05-01 12:00:00Z`.
    public static func readable(_ micros: Int64) -> String {
        text(micros, fraction: false, separator: " ", zone: "Z")
    }

    /// `YYYY-MM`, the month a time falls in (the outbox history's file names).
    public static func month(_ micros: Int64) -> String {
        let date = civil(days: floorDivide(floorDivide(micros, 1_000_000), 86_400))
        var text = ""
        appendYear(date.year, to: &text)
        text += "-"
        appendPadded(date.month, width: 2, to: &text)
        return text
    }

    private static func text(_ micros: Int64, fraction: Bool, alwaysFraction: Bool = false, separator: String, zone: String) -> String {
        let seconds = floorDivide(micros, 1_000_000)
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let date = civil(days: days)
        var text = ""
        text.reserveCapacity(32)
        appendYear(date.year, to: &text)
        text += "-"
        appendPadded(date.month, width: 2, to: &text)
        text += "-"
        appendPadded(date.day, width: 2, to: &text)
        text += separator
        appendPadded(secondOfDay / 3_600, width: 2, to: &text)
        text += ":"
        appendPadded(secondOfDay / 60 % 60, width: 2, to: &text)
        text += ":"
        appendPadded(secondOfDay % 60, width: 2, to: &text)
        let micro = (micros % 1_000_000 + 1_000_000) % 1_000_000  // seconds * 1_000_000 may not fit
        if fraction && (micro != 0 || alwaysFraction) {
            text += "."
            appendPadded(micro, width: 6, to: &text)
        }
        return text + zone
    }

    /// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    private static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// As `%04d`: the sign counts in the width.
    private static func appendYear(_ year: Int64, to text: inout String) {
        if year < 0 {
            text += "-"
            appendPadded(-year, width: 3, to: &text)
        } else {
            appendPadded(year, width: 4, to: &text)
        }
    }

    private static func appendPadded(_ value: Int64, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
        text += digits
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }
}
