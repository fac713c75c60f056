import Foundation

/// An ISO 8601 instant as written: with an offset it is absolute; without one it is a wall
/// time in the window's zone.
struct WallInstant: Equatable {
    /// Seconds since 1970-01-01T00:00:00 of the wall clock (the civil date and time read as UTC).
    var wall: Int64
    /// Seconds east of UTC, when written (`Z` is 0).
    var offset: Int?

    init(wall: Int64, offset: Int?) {
        self.wall = wall
        self.offset = offset
    }

    /// `2026-12-24T18:00:00Z`, `2026-12-24T18:00:00+02:00`, `2026-12-24T18:00:00`, `2026-12-24T18:00`
    /// (seconds optional; `T` or one space between date and time). nil: not that syntax.
    init?(parsing text: String) {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<start + count] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        func byte(_ index: Int) -> UInt8? { index < bytes.count ? bytes[index] : nil }
        guard let year = number(0, 4), byte(4) == UInt8(ascii: "-"), let month = number(5, 2), byte(7) == UInt8(ascii: "-"),
            let day = number(8, 2), byte(10) == UInt8(ascii: "T") || byte(10) == UInt8(ascii: " "),
            let hour = number(11, 2), byte(13) == UInt8(ascii: ":"), let minute = number(14, 2)
        else { return nil }
        var index = 16
        var second = 0
        if byte(index) == UInt8(ascii: ":") {
            guard let value = number(index + 1, 2) else { return nil }
            second = value
            index += 3
        }
        switch byte(index) {
        case nil:
            offset = nil
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
            offset = 0
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = byte(index) == UInt8(ascii: "+") ? 1 : -1
            guard let hours = number(index + 1, 2), byte(index + 3) == UInt8(ascii: ":"), let minutes = number(index + 4, 2),
                index + 6 == bytes.count, hours <= 18, minutes <= 59
            else { return nil }
            offset = sign * (hours * 3_600 + minutes * 60)
        default:
            return nil
        }
        guard (1...12).contains(month), (1...CivilCalendar.days(inMonth: month, year: year)).contains(day), hour <= 23, minute <= 59,
            second <= 59
        else { return nil }
        wall = (CivilCalendar.daysSinceEpoch(year: year, month: month, day: day) * 86_400) + Int64(hour * 3_600 + minute * 60 + second)
    }

    /// Seconds since the epoch: the written offset, else the wall time in `zone`. A wall time
    /// the clock shows twice (DST ends) is its first occurrence; one it skips (DST starts) is
    /// read with the offset before the change, so 02:30 of a skipped hour is 03:30 after it.
    func seconds(in zone: TimeZone) -> Int64 {
        if let offset { return wall - Int64(offset) }
        let before = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(wall - 86_400)))
        let after = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(wall + 86_400)))
        for candidate in [before, after] {
            let utc = wall - Int64(candidate)
            if zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(utc))) == candidate { return utc }
        }
        return wall - Int64(before)
    }
}

/// Days of the proleptic Gregorian calendar, without Foundation's calendar (no locale, no zone).
enum CivilCalendar {
    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 (Howard Hinnant's `days_from_civil`).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
