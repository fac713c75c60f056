import Foundation
import Testing

@testable import Monitoring

struct TimeZoneDatabaseTests {
    @Test("names of the tz database are zones, including aliases and UTC", arguments: [
        "UTC", "Europe/Riga", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata",
        "Asia/Calcutta", "US/Eastern", "Etc/GMT+12", "EST5EDT", "GMT0", "Zulu",
    ])
    func known(_ name: String) throws {
        let zone = try #require(TimeZoneDatabase.zone(named: name))
        #expect(TimeZoneDatabase.suggestion(for: name) == nil)
        _ = zone.secondsFromGMT(for: Date(timeIntervalSince1970: 0))
    }

    @Test("names outside the tz database are not zones, even where Foundation accepts them", arguments: [
        "utc", "europe/riga", "Europe/Rига", "PST", "SystemV/AST4", "GMT+0300", "UTC+3", "GMT+3",
        "US/Pacific-New", "", "Europe/../Riga", "/etc/localtime", "Mars/Olympus",
    ])
    func unknown(_ name: String) {
        #expect(TimeZoneDatabase.zone(named: name) == nil)
    }

    @Test("unknown names get the closest known name", arguments: [
        ("europe/riga", "Europe/Riga"),
        ("Europe/R\u{0438}\u{0433}\u{0430}", "Europe/Riga"),
        ("Riga", "Europe/Riga"),
        ("America/New_Yrok", "America/New_York"),
        ("America/New York", "America/New_York"),
        ("Europe/Londn", "Europe/London"),
        ("utc", "UTC"),
        ("UTC2", "UTC"),
        ("Kolkata", "Asia/Kolkata"),
        ("Europe/Zürich", "Europe/Zurich"),
    ])
    func suggestion(_ name: String, _ expected: String) {
        #expect(TimeZoneDatabase.suggestion(for: name) == expected)
    }

    @Test("nothing is suggested for names far from every zone", arguments: ["Mars/Olympus", "x", "", "Nowhere/At/All"])
    func noSuggestion(_ name: String) {
        #expect(TimeZoneDatabase.suggestion(for: name) == nil)
    }

    @Test("the system tz database lists every zone and alias")
    func systemNames() throws {
        let names = try #require(SystemZoneNames.parse("# version 2025b\nZ Europe/Riga 1:36:34 - LMT 1880\nL Europe/Riga Europe/Riga2\nR EU 1981 ma - Mar lastSu 1u 1 S\n"))
        #expect(names == ["Europe/Riga", "Europe/Riga2"])
        #expect(SystemZoneNames.parse("# nothing\n") == nil)
        #expect(TimeZoneDatabase.names.count > 400)
    }

    @Test("wall time and UTC convert with PEP 495 folds, as Python's zoneinfo", arguments: [
        // New York 2026-11-01: 01:30 happens at 05:30Z (EDT, fold 0) and 06:30Z (EST, fold 1).
        ("America/New_York", "2026-11-01T01:30:00", 0, "2026-11-01T05:30:00Z"),
        ("America/New_York", "2026-11-01T01:30:00", 1, "2026-11-01T06:30:00Z"),
        // New York 2026-03-08: 02:30 does not exist; fold 0 uses EST (before), fold 1 EDT (after).
        ("America/New_York", "2026-03-08T02:30:00", 0, "2026-03-08T07:30:00Z"),
        ("America/New_York", "2026-03-08T02:30:00", 1, "2026-03-08T06:30:00Z"),
        // Lord Howe: a 30-minute fold and gap.
        ("Australia/Lord_Howe", "2026-04-05T01:45:00", 0, "2026-04-04T14:45:00Z"),
        ("Australia/Lord_Howe", "2026-04-05T01:45:00", 1, "2026-04-04T15:15:00Z"),
        ("Australia/Lord_Howe", "2026-10-04T02:15:00", 0, "2026-10-03T15:45:00Z"),
        // Santiago: midnight is missing on 2026-09-06.
        ("America/Santiago", "2026-09-06T00:00:00", 0, "2026-09-06T04:00:00Z"),
        ("Asia/Kolkata", "2026-06-01T12:00:00", 1, "2026-06-01T06:30:00Z"),
    ])
    func zoneClock(_ zoneName: String, _ wall: String, _ fold: Int, _ expected: String) throws {
        var clock = ZoneClock(zone: try #require(TimeZoneDatabase.zone(named: zoneName)))
        let wallSeconds = Int64(try #require(ScheduleCase.instant(wall + "Z")).timeIntervalSince1970)
        let utc = clock.utc(fromWall: wallSeconds, fold: fold)
        #expect(ScheduleCase.iso(Date(timeIntervalSince1970: TimeInterval(utc))) == expected)
        let back = clock.wall(fromUTC: utc)
        if !clock.isImaginary(wall: wallSeconds) {
            #expect(back.wall == wallSeconds)
            let ambiguous = clock.utc(fromWall: wallSeconds, fold: 0) != clock.utc(fromWall: wallSeconds, fold: 1)
            #expect(back.fold == (ambiguous ? fold : 0))
        }
    }

    @Test("civil dates round-trip through days since 1970 and know their weekday")
    func civilDate() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            #expect(CivilDate(daysSinceEpoch: days).daysSinceEpoch == days)
        }
        #expect(CivilDate(year: 1970, month: 1, day: 1).weekdayFromMonday == 3)
        #expect(CivilDate(year: 2026, month: 3, day: 29).weekdayFromMonday == 6)
        #expect(CivilDate(year: 2000, month: 2, day: 29).daysInMonth == 29)
        #expect(CivilDate(year: 2100, month: 2, day: 1).daysInMonth == 28)
        #expect(CivilDate(year: 2026, month: 12, day: 31).nextDay == CivilDate(year: 2027, month: 1, day: 1))
    }
}
