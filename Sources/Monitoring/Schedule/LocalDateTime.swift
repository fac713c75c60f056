/// A wall-clock date and time, whole seconds, no zone: what Python calls a naive datetime.
struct LocalDateTime: Hashable, Comparable, Sendable {
    var date: CivilDate
    var hour: Int
    var minute: Int
    var second: Int

    init(date: CivilDate, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.date = date
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// Wall-clock seconds since 1970-01-01T00:00:00 (as if the wall clock were UTC).
    init(wallSeconds: Int64) {
        let days = wallSeconds >= 0 ? wallSeconds / 86_400 : (wallSeconds - 86_399) / 86_400
        let rest = Int(wallSeconds - days * 86_400)
        date = CivilDate(daysSinceEpoch: Int(days))
        hour = rest / 3600
        minute = rest / 60 % 60
        second = rest % 60
    }

    var wallSeconds: Int64 {
        Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    func adding(seconds: Int64) -> LocalDateTime {
        LocalDateTime(wallSeconds: wallSeconds + seconds)
    }

    static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool {
        lhs.wallSeconds < rhs.wallSeconds
    }
}
