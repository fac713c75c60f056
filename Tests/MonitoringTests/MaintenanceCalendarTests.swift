import Foundation
import Testing

@testable import Monitoring

/// Microseconds of an ISO 8601 instant.
private func at(_ text: String) -> Int64 {
    guard let date = try? Date.ISO8601FormatStyle().parse(text) else {
        Issue.record("bad instant \(text)")
        return 0
    }
    return Int64(date.timeIntervalSince1970) * 1_000_000
}

private func iso(_ micros: Int64) -> String { UTCTime.secondsZ(micros) }

private func recurring(_ expression: String, _ duration: Int, _ zone: String) throws -> MaintenanceWindow {
    MaintenanceWindow(.recurring(schedule: try Schedule(parsing: expression), duration: duration, zone: zone))
}

private func spans(_ periods: [MaintenancePeriod]) -> [String] {
    periods.map { "\(iso($0.start))..\(iso($0.end))" }
}

private let hour = 3_600
private let day: Int64 = 86_400 * 1_000_000

@Suite("Maintenance windows and calendars")
struct MaintenanceCalendarTests {
    /// One DST case: a daily window whose start time is skipped or repeated on `date`.
    struct DSTCase: CustomTestStringConvertible, Sendable {
        let expression: String
        let zone: String
        let from: String
        let starts: [String]
        let note: String
        var testDescription: String { "\(note): \(expression) in \(zone)" }
    }

    /// Starts are what the schedule iterator yields (docs/schedules.md: cron moves a skipped
    /// fixed time to the first wall time that exists, OnCalendar skips it; both run a repeated
    /// time once, at its first occurrence). A window is the schedule's times, nothing else.
    static let dstCases: [DSTCase] = [
        DSTCase(
            expression: "30 2 * * *", zone: "America/New_York", from: "2026-03-07T00:00:00Z",
            starts: ["2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"],
            note: "spring forward: 02:30 does not exist, cron starts the window at 03:00 EDT"),
        DSTCase(
            expression: "*-*-* 02:30", zone: "America/New_York", from: "2026-03-07T00:00:00Z",
            starts: ["2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z"],
            note: "spring forward: OnCalendar skips the day 02:30 does not exist"),
        DSTCase(
            expression: "30 1 * * *", zone: "America/New_York", from: "2026-10-31T00:00:00Z",
            starts: ["2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"],
            note: "fall back: 01:30 happens twice, the window starts once, at 01:30 EDT"),
        DSTCase(
            expression: "30 3 * * *", zone: "Europe/Riga", from: "2026-03-28T00:00:00Z",
            starts: ["2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"],
            note: "spring forward in Riga: 03:30 does not exist, the window starts at 04:00 EEST"),
        DSTCase(
            expression: "30 3 * * *", zone: "Europe/Riga", from: "2026-10-24T00:00:00Z",
            starts: ["2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"],
            note: "fall back in Riga: 03:30 happens twice, the window starts at 03:30 EEST"),
        DSTCase(
            expression: "15 2 * * *", zone: "Australia/Lord_Howe", from: "2026-10-02T00:00:00Z",
            starts: ["2026-10-02T15:45:00Z", "2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"],
            note: "Lord Howe's 30-minute spring forward: 02:15 does not exist, the window starts at 02:30"),
        DSTCase(
            expression: "45 1 * * *", zone: "Australia/Lord_Howe", from: "2026-04-03T00:00:00Z",
            starts: ["2026-04-03T14:45:00Z", "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"],
            note: "Lord Howe's 30-minute fall back: 01:45 happens twice, the window starts once"),
        DSTCase(
            expression: "30 2 * * *", zone: "UTC", from: "2026-03-07T00:00:00Z",
            starts: ["2026-03-07T02:30:00Z", "2026-03-08T02:30:00Z", "2026-03-09T02:30:00Z"],
            note: "UTC has no DST"),
    ]

    @Test("a daily window across a DST change starts where its schedule does, and lasts its duration in real time", arguments: dstCases)
    func dst(_ row: DSTCase) throws {
        let window = try recurring(row.expression, hour, row.zone)
        let from = at(row.from)
        let periods = window.periods(from: from, to: from + 3 * day)
        #expect(periods.map { iso($0.start) } == row.starts)
        #expect(periods.allSatisfy { $0.end - $0.start == Int64(hour) * 1_000_000 })
        // The same starts as the schedule iterator, which the differential tests hold to the
        // reference libraries.
        let schedule = try Schedule(parsing: row.expression)
        let zone = try #require(TimeZoneDatabase.zone(named: row.zone))
        let times = schedule.times(after: Date(timeIntervalSince1970: TimeInterval(from / 1_000_000) - 3_600), in: zone)
            .prefix { Int64($0.timeIntervalSince1970) * 1_000_000 < from + 3 * day }
        #expect(times.map { iso(Int64($0.timeIntervalSince1970) * 1_000_000) } == row.starts)
    }

    @Test("a window in progress at the start of the span is included; one ending at its start is not")
    func spanEdges() throws {
        let window = try recurring("0 3 * * *", 2 * hour, "UTC")
        #expect(spans(window.periods(from: at("2026-06-01T04:00:00Z"), to: at("2026-06-02T03:00:00Z"))) == [
            "2026-06-01T03:00:00Z..2026-06-01T05:00:00Z"
        ])
        #expect(window.periods(from: at("2026-06-01T05:00:00Z"), to: at("2026-06-02T03:00:00Z")).isEmpty)
        #expect(window.periods(from: at("2026-06-01T05:00:00Z"), to: at("2026-06-01T05:00:00Z")).isEmpty)
    }

    @Test("a fixed window is one period, from inclusive, until exclusive")
    func fixed() {
        let window = MaintenanceWindow(.fixed(from: at("2026-12-24T18:00:00Z"), until: at("2026-12-27T08:00:00Z")))
        let calendar = MaintenanceCalendar([window])
        #expect(spans(window.periods(from: 0, to: at("2030-01-01T00:00:00Z"))) == ["2026-12-24T18:00:00Z..2026-12-27T08:00:00Z"])
        #expect(!calendar.contains(at("2026-12-24T17:59:59Z")))
        #expect(calendar.contains(at("2026-12-24T18:00:00Z")))
        #expect(calendar.contains(at("2026-12-27T08:00:00Z") - 1))
        #expect(!calendar.contains(at("2026-12-27T08:00:00Z")))
        #expect(calendar.period(at: at("2026-12-25T00:00:00Z")) == MaintenancePeriod(start: at("2026-12-24T18:00:00Z"), end: at("2026-12-27T08:00:00Z")))
        #expect(calendar.period(at: at("2026-12-28T00:00:00Z")) == nil)
        #expect(calendar.next(after: at("2026-12-01T00:00:00Z"))?.start == at("2026-12-24T18:00:00Z"))
        #expect(calendar.next(after: at("2026-12-24T18:00:00Z")) == nil)
        #expect(calendar.next(after: at("2025-01-01T00:00:00Z")) == nil, "beyond the 366-day horizon")
        #expect(calendar.next(after: at("2025-01-01T00:00:00Z"), within: 800 * day) != nil)
    }

    @Test("overlapping and touching periods of several windows merge; separate ones stay apart")
    func merged() throws {
        let calendar = MaintenanceCalendar([
            try recurring("0 2 * * *", 2 * hour, "UTC"),  // 02:00-04:00
            try recurring("0 3 * * *", 2 * hour, "UTC"),  // 03:00-05:00, overlaps
            try recurring("0 5 * * *", hour, "UTC"),  // 05:00-06:00, touches
            try recurring("0 9 * * *", hour, "Europe/Riga"),  // 09:00 EEST: 06:00-07:00Z, touches
            MaintenanceWindow(.fixed(from: at("2026-06-01T12:00:00Z"), until: at("2026-06-01T13:00:00Z"))),
        ])
        let periods = calendar.periods(from: at("2026-06-01T00:00:00Z"), to: at("2026-06-02T00:00:00Z"))
        #expect(spans(periods) == ["2026-06-01T02:00:00Z..2026-06-01T07:00:00Z", "2026-06-01T12:00:00Z..2026-06-01T13:00:00Z"])
        #expect(calendar.period(at: at("2026-06-01T06:30:00Z")) == periods[0])
        #expect(calendar.period(at: at("2026-06-01T02:00:00Z")) == periods[0])
        #expect(calendar.period(at: at("2026-06-01T07:00:00Z")) == nil)
        #expect(calendar.next(after: at("2026-06-01T02:00:00Z")) == periods[1], "the next start not inside the current merged period")
        #expect(calendar.next(after: at("2026-06-01T07:00:00Z")) == periods[1])
        #expect(calendar.next(after: at("2026-06-01T13:00:00Z"))?.start == at("2026-06-02T02:00:00Z"))
    }

    @Test("a window longer than its schedule's interval is maintenance for good (bounded by a year each way)")
    func longerThanInterval() throws {
        let calendar = MaintenanceCalendar([try recurring("0 * * * *", 2 * hour, "UTC")])
        let now = at("2026-06-01T12:34:56Z")
        for offset in stride(from: Int64(0), to: 3 * day, by: 7 * 60 * 1_000_000) {
            #expect(calendar.contains(now + offset))
        }
        let period = try #require(calendar.period(at: now))
        #expect(period.start <= now - MaintenanceCalendar.chainLimit)
        #expect(period.end >= now + MaintenanceCalendar.chainLimit)
        #expect(calendar.periods(from: now, to: now + day).count == 1)
    }

    @Test("an every-minute window of five minutes is one period, followed a year each way")
    func everyMinute() throws {
        let calendar = MaintenanceCalendar([try recurring("* * * * *", 300, "UTC")])
        let now = at("2026-06-01T12:34:56Z")
        let period = try #require(calendar.period(at: now))
        #expect(period.start <= now - MaintenanceCalendar.chainLimit)
        #expect(period.end >= now + MaintenanceCalendar.chainLimit)
        #expect(spans(calendar.periods(from: now, to: now + day)) == ["2026-06-01T12:30:00Z..2026-06-02T12:39:00Z"])
    }

    @Test("an empty calendar is never in maintenance and has no next period")
    func empty() {
        let calendar = MaintenanceCalendar([])
        #expect(calendar.isEmpty)
        #expect(!calendar.contains(0))
        #expect(calendar.period(at: 0) == nil)
        #expect(calendar.next(after: 0) == nil)
        #expect(calendar.periods(from: 0, to: day).isEmpty)
    }

    @Test("next(after:) finds a weekly window beyond the first day's search span, and merges what it overlaps")
    func nextWeekly() throws {
        let calendar = MaintenanceCalendar([
            try recurring("0 22 * * 6", 4 * hour, "America/New_York"),  // Saturdays 22:00 EDT = Sunday 02:00Z
            try recurring("0 5 * * 0", hour, "UTC"),  // Sundays 05:00Z, overlaps the end
        ])
        let next = try #require(calendar.next(after: at("2026-06-01T00:00:00Z")))  // a Monday
        #expect("\(iso(next.start))..\(iso(next.end))" == "2026-06-07T02:00:00Z..2026-06-07T06:00:00Z")
        let reason = MaintenanceWindow(.fixed(from: 0, until: 1), origin: "a.yaml:1:1", reason: "patching")
        #expect(reason.reason == "patching")
        #expect(MaintenanceWindow(.fixed(from: 0, until: 1)).reason == "")
    }
}
