import Foundation
import Testing

@testable import Monitoring

// Expected values from oncalendar 1.1 (Python), tz data 2025b: see ScheduleCase.
struct OnCalendarScheduleTests {
    static let syntax: [ScheduleCase] = [
        .init("daily", "UTC", "2026-01-01T00:00:00Z", ["2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"], "daily"),
        .init("HOURLY", "UTC", "2026-01-01T00:30:00Z", ["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z"], "shorthands are case-insensitive"),
        .init("weekly", "UTC", "2026-01-01T00:00:00Z", ["2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z"], "weekly: Mondays"),
        .init("monthly", "UTC", "2026-01-15T00:00:00Z", ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"], "monthly"),
        .init("quarterly", "UTC", "2026-01-15T00:00:00Z", ["2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z"], "quarterly"),
        .init("semiannually", "UTC", "2026-01-15T00:00:00Z", ["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"], "semiannually"),
        .init("yearly", "UTC", "2026-01-15T00:00:00Z", ["2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z"], "yearly"),
        .init("minutely", "UTC", "2026-01-01T00:00:30Z", ["2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z", "2026-01-01T00:03:00Z"], "minutely"),
        .init("12:00", "UTC", "2026-01-01T13:00:00Z", ["2026-01-02T12:00:00Z", "2026-01-03T12:00:00Z", "2026-01-04T12:00:00Z"], "time only"),
        .init("12:00:30", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T12:00:30Z", "2026-01-02T12:00:30Z", "2026-01-03T12:00:30Z"], "with seconds"),
        .init("Mon..Fri 09:00", "UTC", "2026-01-02T10:00:00Z", ["2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z", "2026-01-07T09:00:00Z"], "weekday range"),
        .init("Sat,Sun 10:00", "UTC", "2026-01-01T00:00:00Z", ["2026-01-03T10:00:00Z", "2026-01-04T10:00:00Z", "2026-01-10T10:00:00Z"], "weekday list"),
        .init("mon-wed 08:00", "UTC", "2026-01-01T00:00:00Z", ["2026-01-05T08:00:00Z", "2026-01-06T08:00:00Z", "2026-01-07T08:00:00Z"], "weekday range with -"),
        .init("Friday 2026-*-13 00:00", "UTC", "2026-01-01T00:00:00Z", ["2026-02-13T00:00:00Z", "2026-03-13T00:00:00Z", "2026-11-13T00:00:00Z"], "Friday the 13th (AND)"),
        .init("*-*-01 00:00", "UTC", "2026-01-15T00:00:00Z", ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"], "first of month"),
        .init("*-02~01", "UTC", "2026-01-01T00:00:00Z", ["2026-02-28T00:00:00Z", "2027-02-28T00:00:00Z", "2028-02-29T00:00:00Z"], "~1: last day of February"),
        .init("*-*~03", "UTC", "2026-01-01T00:00:00Z", ["2026-01-29T00:00:00Z", "2026-02-26T00:00:00Z", "2026-03-29T00:00:00Z"], "~03: third-last day"),
        .init("2026-*~1..3 12:00", "UTC", "2026-01-01T00:00:00Z", ["2026-01-29T12:00:00Z", "2026-01-30T12:00:00Z", "2026-01-31T12:00:00Z"], "~ with a range"),
        .init("*-*-1/10 06:00", "UTC", "2026-01-01T07:00:00Z", ["2026-01-11T06:00:00Z", "2026-01-21T06:00:00Z", "2026-01-31T06:00:00Z"], "step in days"),
        .init("*-*-* 8..18/5:00", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T08:00:00Z", "2026-01-01T13:00:00Z", "2026-01-01T18:00:00Z"], "stepped range in hours"),
        .init("*:0/20", "UTC", "2026-01-01T00:05:00Z", ["2026-01-01T00:20:00Z", "2026-01-01T00:40:00Z", "2026-01-01T01:00:00Z"], "step in minutes"),
        .init("*:*:15,45", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T00:00:15Z", "2026-01-01T00:00:45Z", "2026-01-01T00:01:15Z"], "second list"),
        .init("26-03-29 12:00", "UTC", "2026-01-01T00:00:00Z", ["2026-03-29T12:00:00Z"], "two-digit year"),
        .init("2026..2027-06-01", "UTC", "2026-07-01T00:00:00Z", ["2027-06-01T00:00:00Z"], "year range"),
        .init("2026-01-01", "UTC", "2025-06-01T00:00:00Z", ["2026-01-01T00:00:00Z"], "a one-off date"),
        .init("12:00 Asia/Tokyo", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T03:00:00Z", "2026-01-02T03:00:00Z", "2026-01-03T03:00:00Z"], "time-zone suffix overrides the check zone"),
        .init("12:00 UTC", "Europe/Riga", "2026-01-01T00:00:00Z", ["2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z", "2026-01-03T12:00:00Z"], "UTC suffix"),
        .init("09:00\n17:30", "UTC", "2026-01-01T10:00:00Z", ["2026-01-01T17:30:00Z", "2026-01-02T09:00:00Z", "2026-01-02T17:30:00Z"], "two lines: the earliest next time wins"),
        .init("daily\n12:00 Asia/Tokyo", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T03:00:00Z", "2026-01-02T00:00:00Z", "2026-01-02T03:00:00Z"], "lines in different zones"),
        .init("09:00\n09:00", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z", "2026-01-03T09:00:00Z"], "duplicate lines yield each time once"),
    ]

    static let daylightSaving: [ScheduleCase] = [
        .init("02:30", "America/New_York", "2026-03-08T06:00:00Z", ["2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z", "2026-03-11T06:30:00Z"], "gap: 02:30 is skipped, not moved (oncalendar)"),
        .init("01:30", "America/New_York", "2026-11-01T04:00:00Z", ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"], "fold: first 01:30 only"),
        .init("*:0/30", "America/New_York", "2026-11-01T05:15:00Z", ["2026-11-01T05:30:00Z", "2026-11-01T07:00:00Z", "2026-11-01T07:30:00Z"], "fold: wall clock, each time once"),
        .init("00:00", "America/Santiago", "2026-09-05T12:00:00Z", ["2026-09-07T03:00:00Z", "2026-09-08T03:00:00Z", "2026-09-09T03:00:00Z"], "midnight gap in Santiago: that day is skipped"),
        .init("00:30", "America/Santiago", "2026-04-04T12:00:00Z", ["2026-04-05T04:30:00Z", "2026-04-06T04:30:00Z", "2026-04-07T04:30:00Z"], "midnight fold in Santiago"),
        .init("02:15", "Australia/Lord_Howe", "2026-10-03T12:00:00Z", ["2026-10-04T15:15:00Z", "2026-10-05T15:15:00Z", "2026-10-06T15:15:00Z"], "30-minute gap on Lord Howe: skipped"),
        .init("03:00", "Pacific/Chatham", "2026-09-26T12:00:00Z", ["2026-09-27T13:15:00Z", "2026-09-28T13:15:00Z", "2026-09-29T13:15:00Z"], "Chatham gap: skipped"),
        .init("hourly", "Europe/London", "2026-10-25T00:30:00Z", ["2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z", "2026-10-25T04:00:00Z"], "fold: hourly, once per wall time"),
        .init("03:30 Europe/Riga", "UTC", "2026-03-28T12:00:00Z", ["2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z", "2026-04-01T00:30:00Z"], "suffix zone's gap, evaluated in the suffix zone"),
    ]

    @Test("OnCalendar syntax features give the times oncalendar gives", arguments: syntax)
    func syntaxFeature(_ row: ScheduleCase) throws {
        #expect(try row.actual() == row.next)
    }

    @Test("OnCalendar in DST gaps and folds gives the times oncalendar gives", arguments: daylightSaving)
    func daylightSavingTransition(_ row: ScheduleCase) throws {
        #expect(try row.actual() == row.next)
    }

    static let errors: [ScheduleErrorCase] = [
        .init("", "schedule is empty"),
        .init("  \n ", "schedule is empty"),
        .init("*:*/15", "oncalendar minute \"*/15\" uses \"*\" in a list, range or repetition, which OnCalendar does not allow (write e.g. \"0/15\")"),
        .init("25:00", "oncalendar hour \"25\" is out of range 0-23"),
        .init("12:60", "oncalendar minute \"60\" is out of range 0-59"),
        .init("12:00:60", "oncalendar second \"60\" is out of range 0-59"),
        .init("12:00.5", "oncalendar minute \"00.5\" is not a number"),
        .init("1:2:3:4", "oncalendar time \"1:2:3:4\" is not hour:minute or hour:minute:second"),
        .init("*-13-01", "oncalendar month \"13\" is out of range 1-12"),
        .init("*-*-32", "oncalendar day-of-month \"32\" is out of range 1-31"),
        .init("1969-01-01", "oncalendar year \"1969\" is out of range 1970-2199"),
        .init("2200-01-01", "oncalendar year \"2200\" is out of range 1970-2199"),
        .init("*-*-*-*", "oncalendar date \"*-*-*-*\" is not month-day or year-month-day"),
        .init("*-*-~29", "oncalendar date \"*-*-~29\" is not month-day or year-month-day (days from the end are written month~day, e.g. \"*-02~01\")"),
        .init("*-02~29", "oncalendar day-of-month \"~29\": \"29\" is too far from the end of the month (after ~ the day must be 1-28)"),
        .init("*-*-31/0", "oncalendar day-of-month \"31/0\" repeats every 0, it must be at least 1"),
        .init("*-*-1/", "oncalendar day-of-month \"1/\" has a missing number after \"/\""),
        .init("Foo", "oncalendar day-of-week \"Foo\" is not a day name (Mon-Sun or Monday-Sunday)"),
        .init("Mon..Sun..", "oncalendar day-of-week \"Mon..Sun..\": \"Sun..\" is not a day name (Mon-Sun or Monday-Sunday)"),
        .init("Sat..Mon", "oncalendar day-of-week \"Sat..Mon\" is a range that ends before it starts"),
        .init("Mon,,Tue", "oncalendar day-of-week \"Mon,,Tue\" has a missing value"),
        .init("* 12:00", "oncalendar day-of-week \"*\" is not allowed; leave the weekday out to mean every day"),
        .init("Mon Tue 12:00", "oncalendar \"Mon Tue 12:00\" has parts in the wrong order or too many; expected [weekdays] [[year-]month-day] [hour:minute[:second]] [time zone]"),
        .init("Mon 2026-01-01 12:00 UTC extra words", "oncalendar \"Mon 2026-01-01 12:00 UTC extra words\" has 6 parts, at most 4 are allowed ([weekdays] [date] [time] [time zone])"),
        .init("12:00 Mars/Olympus", "oncalendar \"12:00 Mars/Olympus\": unknown time zone \"Mars/Olympus\""),
        .init("12:00 europe/riga", "oncalendar \"12:00 europe/riga\": unknown time zone \"europe/riga\" (did you mean \"Europe/Riga\"?)"),
        .init("12:00 Europe/R\u{0438}\u{0433}\u{0430}", "oncalendar \"12:00 Europe/R\u{0438}\u{0433}\u{0430}\": unknown time zone \"Europe/R\u{0438}\u{0433}\u{0430}\" (did you mean \"Europe/Riga\"?)"),
        .init("daily UTC2", "oncalendar \"daily UTC2\": unknown time zone \"UTC2\" (did you mean \"UTC\"?)"),
        .init("daily\n\n12:00", "line 2: oncalendar line is empty"),
        .init("daily\n25:00", "line 2: oncalendar hour \"25\" is out of range 0-23"),
        .init("2026-02-30", "schedule \"2026-02-30\" never matches a date after 2000-01-01"),
        .init("1999-01-01", "schedule \"1999-01-01\" never matches a date after 2000-01-01"),
    ]

    @Test("invalid OnCalendar expressions are rejected with a message naming the part", arguments: errors)
    func rejected(_ row: ScheduleErrorCase) {
        #expect(throws: ScheduleError(row.message)) { try Schedule(parsing: row.expression) }
    }

    @Test("a one-off date in the past has no next time, and iteration stops at 2200")
    func noFutureTime() throws {
        let schedule = try Schedule(parsing: "2026-01-01 12:00")
        let utc = try #require(TimeZoneDatabase.zone(named: "UTC"))
        let after = try #require(ScheduleCase.instant("2026-01-01T12:00:00Z"))
        #expect(schedule.next(after: after, in: utc) == nil)
        let yearly = try Schedule(parsing: "yearly")
        let late = try #require(ScheduleCase.instant("2199-06-01T00:00:00Z"))
        #expect(yearly.next(after: late, in: utc) == nil)
    }

    @Test("a time-zone suffix is only a zone when the tz database knows it")
    func suffix() throws {
        let tokyo = try OnCalendarExpression(parsing: "Mon 12:00 Asia/Tokyo")
        #expect(tokyo.zoneName == "Asia/Tokyo")
        let none = try OnCalendarExpression(parsing: "Mon 12:00")
        #expect(none.zone == nil)
    }
}
