import Foundation
import Testing

@testable import Monitoring

struct ScheduleTests {
    let utc = TimeZone(identifier: "UTC") ?? .gmt

    func instant(_ text: String) throws -> Date {
        try #require(ScheduleCase.instant(text))
    }

    @Test("a schedule is cron iff it is one line of five fields", arguments: [
        ("0 3 * * *", ScheduleKind.cron),
        ("  0 3 * * *\n", .cron),
        ("0\t3 * *  *", .cron),
        ("0 3 * * * *", .onCalendar),
        ("0 3 * *", .onCalendar),
        ("daily", .onCalendar),
        ("Mon..Fri *-*-* 09:00 Europe/Riga", .onCalendar),
        ("0 3 * * *\n0 4 * * *", .onCalendar),
    ])
    func kind(_ expression: String, _ kind: ScheduleKind) {
        #expect(Schedule.kind(of: expression) == kind)
    }

    @Test("the kind's raw values are the words of the JSON output")
    func kindRawValues() {
        #expect(ScheduleKind.cron.rawValue == "cron")
        #expect(ScheduleKind.onCalendar.rawValue == "oncalendar")
    }

    @Test("next is strictly after the instant, also when the instant is a scheduled time")
    func strictlyAfter() throws {
        let schedule = try Schedule(parsing: "0 3 * * *")
        #expect(schedule.next(after: try instant("2026-01-01T03:00:00Z"), in: utc) == (try instant("2026-01-02T03:00:00Z")))
        #expect(schedule.next(after: try instant("2026-01-01T02:59:59Z"), in: utc) == (try instant("2026-01-01T03:00:00Z")))
        let daily = try Schedule(parsing: "03:00")
        #expect(daily.next(after: try instant("2026-01-01T03:00:00Z"), in: utc) == (try instant("2026-01-02T03:00:00Z")))
    }

    @Test("fractions of a second are truncated first, as the references do")
    func subSecond() throws {
        let schedule = try Schedule(parsing: "0 3 * * *")
        let justBefore = try instant("2026-01-01T02:59:59Z").addingTimeInterval(0.75)
        #expect(schedule.next(after: justBefore, in: utc) == (try instant("2026-01-01T03:00:00Z")))
        let justAfter = try instant("2026-01-01T03:00:00Z").addingTimeInterval(0.25)
        #expect(schedule.next(after: justAfter, in: utc) == (try instant("2026-01-02T03:00:00Z")))
    }

    @Test("next equals the first of times, and times are increasing for a plain schedule")
    func sequence() throws {
        let schedule = try Schedule(parsing: "*/7 * * * *")
        let start = try instant("2026-05-05T10:03:00Z")
        let times = Array(schedule.times(after: start, in: utc).prefix(50))
        #expect(times.count == 50)
        #expect(times.first == schedule.next(after: start, in: utc))
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test("a time-zone suffix overrides the zone the check passes")
    func suffixOverridesZone() throws {
        let schedule = try Schedule(parsing: "12:00 Asia/Tokyo")
        let riga = try #require(TimeZoneDatabase.zone(named: "Europe/Riga"))
        let start = try instant("2026-01-01T00:00:00Z")
        #expect(schedule.next(after: start, in: riga) == schedule.next(after: start, in: utc))
        #expect(schedule.next(after: start, in: utc) == (try instant("2026-01-01T03:00:00Z")))
    }

    @Test("equal expressions make equal schedules; the expression is kept verbatim")
    func hashable() throws {
        let one = try Schedule(parsing: "0 3 * * *")
        #expect(one == (try Schedule(parsing: "0 3 * * *")))
        #expect(one != (try Schedule(parsing: "0 4 * * *")))
        #expect(Set([one, try Schedule(parsing: "0 3 * * *")]).count == 1)
        #expect(try Schedule(parsing: " daily ").expression == " daily ")
    }

    @Test("instants out of Python's range are clamped to years 1-9999 instead of trapping")
    func extremeInstants() throws {
        let cron = try Schedule(parsing: "0 0 * * *")
        let onCalendar = try Schedule(parsing: "daily")
        for instant in [Date(timeIntervalSince1970: .infinity), Date(timeIntervalSince1970: -.infinity),
                        Date(timeIntervalSince1970: .nan), Date.distantFuture, Date.distantPast] {
            _ = cron.next(after: instant, in: utc)
            _ = onCalendar.next(after: instant, in: utc)
        }
        #expect(cron.next(after: Date(timeIntervalSince1970: .nan), in: utc) == Date(timeIntervalSince1970: 86_400))
        #expect(onCalendar.next(after: Date.distantFuture, in: utc) == nil)
    }

    @Test("errors are lower-case, without a final period, and say what is wrong")
    func errorShape() {
        for expression in ["61 * * * *", "* * * * MON#9", "25:00", "Mon Tue", "12:00 Europe/Rigaa", ""] {
            do {
                _ = try Schedule(parsing: expression)
                Issue.record("\(expression) was accepted")
            } catch {
                #expect(error.message.first?.isLowercase == true, "\(error.message)")
                #expect(!error.message.hasSuffix("."), "\(error.message)")
                #expect(error.description == error.message)
            }
        }
    }
}
