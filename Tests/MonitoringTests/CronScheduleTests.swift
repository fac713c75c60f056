import Foundation
import Testing

@testable import Monitoring

// Expected values from cronsim 2.8 (Python), tz data 2025b: see ScheduleCase.
struct CronScheduleTests {
    static let syntax: [ScheduleCase] = [
        .init("0 3 * * *", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T03:00:00Z", "2026-01-02T03:00:00Z", "2026-01-03T03:00:00Z"], "fixed time"),
        .init("*/15 * * * *", "UTC", "2026-01-01T00:07:30Z", ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z"], "step from *"),
        .init("5/20 * * * *", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T00:05:00Z", "2026-01-01T00:25:00Z", "2026-01-01T00:45:00Z"], "step from a value runs to the end of the range"),
        .init("10-30/10 * * * *", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T00:10:00Z", "2026-01-01T00:20:00Z", "2026-01-01T00:30:00Z"], "stepped range"),
        // cronsim 2.9: a stepped range with equal ends is that one value (2.8 stepped on to the
        // end of the field's range, as for `50/3`).
        .init("50-50/3 * * * *", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T00:50:00Z", "2026-01-01T01:50:00Z", "2026-01-01T02:50:00Z"], "a-a/n minute: a only"),
        .init("0 5-5/2 * * *", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T05:00:00Z", "2026-01-02T05:00:00Z", "2026-01-03T05:00:00Z"], "a-a/n hour: a only"),
        .init("0 0 10-10/5 * *", "UTC", "2026-01-01T00:00:00Z", ["2026-01-10T00:00:00Z", "2026-02-10T00:00:00Z", "2026-03-10T00:00:00Z"], "a-a/n day of month: a only"),
        .init("0 0 1 6-6/4 *", "UTC", "2026-01-01T00:00:00Z", ["2026-06-01T00:00:00Z", "2027-06-01T00:00:00Z", "2028-06-01T00:00:00Z"], "a-a/n month: a only"),
        .init("0 0 * * 3-3/2", "UTC", "2026-01-01T00:00:00Z", ["2026-01-07T00:00:00Z", "2026-01-14T00:00:00Z", "2026-01-21T00:00:00Z"], "a-a/n day of week: a only"),
        .init("0,30 9,17 * * *", "UTC", "2026-01-01T10:00:00Z", ["2026-01-01T17:00:00Z", "2026-01-01T17:30:00Z", "2026-01-02T09:00:00Z"], "lists"),
        .init("0 9-11 * * *", "UTC", "2026-01-01T10:30:00Z", ["2026-01-01T11:00:00Z", "2026-01-02T09:00:00Z", "2026-01-02T10:00:00Z"], "hour range"),
        .init("0 0 1 jan,jul *", "UTC", "2026-02-01T00:00:00Z", ["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"], "month names, lower case"),
        .init("0 0 * FEB-APR *", "UTC", "2026-01-01T00:00:00Z", ["2026-02-01T00:00:00Z", "2026-02-02T00:00:00Z", "2026-02-03T00:00:00Z"], "month name range"),
        .init("0 12 * * MON-FRI", "UTC", "2026-01-02T13:00:00Z", ["2026-01-05T12:00:00Z", "2026-01-06T12:00:00Z", "2026-01-07T12:00:00Z"], "weekday name range"),
        .init("0 12 * * 7", "UTC", "2026-01-01T00:00:00Z", ["2026-01-04T12:00:00Z", "2026-01-11T12:00:00Z", "2026-01-18T12:00:00Z"], "7 is Sunday"),
        .init("0 12 * * 0", "UTC", "2026-01-01T00:00:00Z", ["2026-01-04T12:00:00Z", "2026-01-11T12:00:00Z", "2026-01-18T12:00:00Z"], "0 is Sunday"),
        .init("0 0 L * *", "UTC", "2026-01-31T00:00:00Z", ["2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"], "L: last day of month (February)"),
        .init("0 0 L 2 *", "UTC", "2027-06-01T00:00:00Z", ["2028-02-29T00:00:00Z", "2029-02-28T00:00:00Z", "2030-02-28T00:00:00Z"], "L in a leap February"),
        .init("0 0 LW * *", "UTC", "2026-05-01T00:00:00Z", ["2026-05-29T00:00:00Z", "2026-06-30T00:00:00Z", "2026-07-31T00:00:00Z"], "LW: last weekday of month"),
        .init("0 0 * * 5L", "UTC", "2026-01-01T00:00:00Z", ["2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-27T00:00:00Z"], "5L: last Friday"),
        .init("0 0 * * 0L", "UTC", "2026-01-01T00:00:00Z", ["2026-01-25T00:00:00Z", "2026-02-22T00:00:00Z", "2026-03-29T00:00:00Z"], "0L: last Sunday"),
        .init("0 0 * * MON#2", "UTC", "2026-01-01T00:00:00Z", ["2026-01-12T00:00:00Z", "2026-02-09T00:00:00Z", "2026-03-09T00:00:00Z"], "#: second Monday"),
        .init("0 0 * * FRI#5", "UTC", "2026-01-01T00:00:00Z", ["2026-01-30T00:00:00Z", "2026-05-29T00:00:00Z", "2026-07-31T00:00:00Z"], "#5: fifth Friday, skips months without"),
        .init("0 0 13 * FRI", "UTC", "2026-01-01T00:00:00Z", ["2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z"], "OR rule: the 13th or any Friday"),
        .init("0 0 */10 * MON", "UTC", "2026-01-01T00:00:00Z", ["2026-05-11T00:00:00Z", "2026-06-01T00:00:00Z", "2026-08-31T00:00:00Z"], "AND rule: day-of-month starts with *"),
        .init("0 0 1 * */3", "UTC", "2026-01-01T00:00:00Z", ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"], "AND rule: day-of-week starts with *"),
        .init("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"], "29 February: leap years only"),
        .init("*/61 * * * *", "UTC", "2026-01-01T00:00:30Z", ["2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z"], "step larger than the range"),
        .init("0 0 1,L * *", "UTC", "2026-01-15T00:00:00Z", ["2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z", "2026-02-28T00:00:00Z"], "L in a list"),
        .init("0 0 * * 1,5L", "UTC", "2026-01-26T00:00:00Z", ["2026-01-30T00:00:00Z", "2026-02-02T00:00:00Z", "2026-02-09T00:00:00Z"], "5L in a list"),
        .init("0   3\t* * *", "UTC", "2026-01-01T00:00:00Z", ["2026-01-01T03:00:00Z", "2026-01-02T03:00:00Z", "2026-01-03T03:00:00Z"], "any whitespace separates fields"),
        .init("0 3 * * *", "Asia/Kolkata", "2026-01-01T00:00:00Z", ["2026-01-01T21:30:00Z", "2026-01-02T21:30:00Z", "2026-01-03T21:30:00Z"], "half-hour offset zone"),
        .init("45 23 * * *", "Asia/Kathmandu", "2026-01-01T00:00:00Z", ["2026-01-01T18:00:00Z", "2026-01-02T18:00:00Z", "2026-01-03T18:00:00Z"], "quarter-hour offset zone"),
    ]

    static let daylightSaving: [ScheduleCase] = [
        .init("30 2 * * *", "America/New_York", "2026-03-08T06:00:00Z", ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"], "gap: 02:30 does not exist, runs at 03:00 (cronsim moves to the first existing minute)"),
        .init("0 2 * * *", "America/New_York", "2026-03-08T06:00:00Z", ["2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-10T06:00:00Z"], "gap: 02:00 becomes 03:00"),
        .init("0 3 * * *", "Europe/Riga", "2026-03-28T12:00:00Z", ["2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", "2026-03-31T00:00:00Z"], "gap 03:00-04:00 in Riga: 03:00 becomes 04:00"),
        .init("*/30 * * * *", "America/New_York", "2026-03-08T06:15:00Z", ["2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z"], "gap on the UTC timeline: 01:30 then 03:00"),
        .init("30 1 * * *", "America/New_York", "2026-11-01T04:00:00Z", ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"], "fold: fixed-time job runs once, in the first 01:30"),
        .init("30 1 * * *", "America/New_York", "2026-11-01T06:15:00Z", ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"], "fold quirk: start in the second 01:15 gives the first 01:30 (before the start)"),
        .init("*/30 * * * *", "America/New_York", "2026-11-01T05:15:00Z", ["2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:30:00Z"], "fold on the UTC timeline: both 01:00 and 01:30 happen twice"),
        .init("0 * * * *", "Europe/London", "2026-10-25T00:30:00Z", ["2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"], "fold: hourly job runs in both 01:00s"),
        .init("0 0 * * *", "America/Santiago", "2026-09-05T12:00:00Z", ["2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z", "2026-09-08T03:00:00Z"], "midnight gap in Santiago: 00:00 becomes 01:00"),
        .init("15 0 * * *", "America/Santiago", "2026-09-05T12:00:00Z", ["2026-09-06T04:00:00Z", "2026-09-07T03:15:00Z", "2026-09-08T03:15:00Z"], "midnight gap: 00:15 becomes 01:00"),
        .init("0 0 * * *", "America/Santiago", "2026-04-04T12:00:00Z", ["2026-04-05T04:00:00Z", "2026-04-06T04:00:00Z", "2026-04-07T04:00:00Z"], "midnight fold in Santiago: first 00:00 only"),
        .init("30 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z", ["2026-10-03T15:30:00Z", "2026-10-04T15:30:00Z", "2026-10-05T15:30:00Z"], "30-minute gap (02:00-02:30) on Lord Howe: 02:30 exists"),
        .init("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z", ["2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z", "2026-10-05T15:15:00Z"], "30-minute gap: 02:15 becomes 02:30"),
        .init("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00Z", ["2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z", "2026-04-06T15:15:00Z"], "30-minute fold (01:30-02:00): first 01:45 only"),
        .init("*/15 * * * *", "Australia/Lord_Howe", "2026-04-04T14:50:00Z", ["2026-04-04T15:00:00Z", "2026-04-04T15:15:00Z", "2026-04-04T15:30:00Z"], "30-minute fold on the UTC timeline"),
        .init("0 3 * * *", "Pacific/Chatham", "2026-09-26T12:00:00Z", ["2026-09-26T14:00:00Z", "2026-09-27T13:15:00Z", "2026-09-28T13:15:00Z"], "Chatham gap 02:45-03:45: 03:00 becomes 03:45"),
        .init("0 3 * * *", "Pacific/Chatham", "2026-04-04T12:00:00Z", ["2026-04-04T13:15:00Z", "2026-04-05T14:15:00Z", "2026-04-06T14:15:00Z"], "Chatham fold 02:45-03:45: first 03:00 only"),
        .init("30 2 * * *", "Antarctica/Troll", "2026-03-28T12:00:00Z", ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"], "two-hour gap in Troll: 02:30 becomes 03:00"),
        .init("0 2 * * *", "Africa/Casablanca", "2026-02-14T12:00:00Z", ["2026-02-15T01:00:00Z", "2026-02-16T02:00:00Z", "2026-02-17T02:00:00Z"], "Casablanca Ramadan: offset goes down in February"),
        .init("*/20 1-3 * * *", "Europe/Riga", "2026-10-25T00:00:00Z", ["2026-10-25T00:20:00Z", "2026-10-25T00:40:00Z", "2026-10-25T01:00:00Z"], "mixed: hour restricted, minute stepped (UTC timeline)"),
    ]

    @Test("cron syntax features give the times cronsim gives", arguments: syntax)
    func syntaxFeature(_ row: ScheduleCase) throws {
        #expect(try row.actual() == row.next)
    }

    @Test("cron in DST gaps and folds gives the times cronsim gives", arguments: daylightSaving)
    func daylightSavingTransition(_ row: ScheduleCase) throws {
        #expect(try row.actual() == row.next)
    }

    static let errors: [ScheduleErrorCase] = [
        .init("60 * * * *", "cron minute \"60\" is out of range 0-59"),
        .init("* 24 * * *", "cron hour \"24\" is out of range 0-23"),
        .init("* * 0 * *", "cron day-of-month \"0\" is out of range 1-31"),
        .init("* * 32 * *", "cron day-of-month \"32\" is out of range 1-31"),
        .init("* * * 13 *", "cron month \"13\" is out of range 1-12 or JAN-DEC"),
        .init("* * * * 8", "cron day-of-week \"8\" is out of range 0-7 or SUN-SAT"),
        .init("1,61 * * * *", "cron minute \"1,61\": \"61\" is out of range 0-59"),
        .init("? * * * *", "cron minute \"?\" is not supported (cronsim and Healthchecks reject it); use \"*\""),
        .init("* * 1,? * *", "cron day-of-month \"1,?\": \"?\" is not supported (cronsim and Healthchecks reject it); use \"*\""),
        .init("1- * * * *", "cron minute \"1-\" has a missing value"),
        .init("1,,2 * * * *", "cron minute \"1,,2\" has a missing value"),
        .init("*/0 * * * *", "cron minute \"*/0\" has a step of 0, it must be at least 1"),
        .init("5/ * * * *", "cron minute \"5/\" has no number after \"/\""),
        .init("*/x * * * *", "cron minute \"*/x\": \"x\" is not a number"),
        .init("30-10 * * * *", "cron minute \"30-10\" is a range that ends before it starts"),
        .init("1.5 * * * *", "cron minute \"1.5\" is not a number"),
        .init("* * * january *", "cron month \"january\" is not a number or a month name (JAN-DEC)"),
        .init("* * * * mon#6", "cron day-of-week \"mon#6\" has week number 6, it must be 1-5"),
        .init("* * * * MON#0", "cron day-of-week \"MON#0\" has week number 0, it must be 1-5"),
        .init("* * * * MON#", "cron day-of-week \"MON#\" has no number after \"#\""),
        .init("* * * * #2", "cron day-of-week \"#2\" has a missing value"),
        .init("* * * * FRIL", "cron day-of-week \"FRIL\" is not a last-weekday term (use a number and L, e.g. \"5L\" for the last Friday)"),
        .init("* * * * L", "cron day-of-week \"L\" is not a last-weekday term (use a number and L, e.g. \"5L\" for the last Friday)"),
        .init("* * * * 8L", "cron day-of-week \"8L\": \"8\" is out of range 0-7 or SUN-SAT"),
        .init("* * * * LW", "cron day-of-week \"LW\" is not a last-weekday term (use a number and L, e.g. \"5L\" for the last Friday)"),
        .init("* * L-5 * *", "cron day-of-month \"L-5\": \"L\" is not a number, \"L\" or \"LW\""),
        .init("* * 15W * *", "cron day-of-month \"15W\" is not a number, \"L\" or \"LW\""),
        .init("* * * * 5L/2", "cron day-of-week \"5L/2\" is not a last-weekday term (use a number and L, e.g. \"5L\" for the last Friday)"),
        .init("* * 30 2 *", "cron day-of-month \"30\": day 30 never occurs in month \"2\""),
        .init("* * 31 2,4,6 *", "cron day-of-month \"31\": day 31 never occurs in month \"2,4,6\""),
        .init("a b c d e", "cron minute \"a\" is not a number"),
    ]

    @Test("invalid cron expressions are rejected with a message naming the field", arguments: errors)
    func rejected(_ row: ScheduleErrorCase) {
        #expect(throws: ScheduleError(row.message)) { try Schedule(parsing: row.expression) }
    }

    @Test("cron accepts what cronsim accepts at the edges of each field")
    func edgesAccepted() throws {
        for expression in ["59 23 31 12 7", "0 0 1 1 0", "0-59 0-23 1-31 1-12 0-7", "*/1 */1 */1 */1 */1",
                           "0 0 * * 0L", "0 0 * * 7#5", "0 0 L,LW * *", "0 0 L/2 * *", "00 003 * * *",
                           "0 0 31 1,2 *", "0 0 * * sun,Mon,TUE"] {
            #expect(throws: Never.self, "\(expression)") { try Schedule(parsing: expression) }
        }
    }

    @Test("? alone in a day field means *: 0 3 ? * MON runs when 0 3 * * MON does")
    func questionMark() throws {
        let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
        let zone = try #require(TimeZone(identifier: "Europe/Riga"))
        for (alias, plain) in [("0 3 ? * MON", "0 3 * * MON"), ("0 3 15 * ?", "0 3 15 * *"), ("*/5 * ? * ?", "*/5 * * * *")] {
            let aliased = Array(try Schedule(parsing: alias).times(after: start, in: zone).prefix(20))
            let expected = Array(try Schedule(parsing: plain).times(after: start, in: zone).prefix(20))
            #expect(aliased == expected, "\(alias)")
            #expect(aliased.count == 20)
        }
    }

    @Test("the day rules follow Debian cron: OR when both day fields are restricted, AND when either starts with *")
    func dayRule() throws {
        let or = try CronExpression(parsing: "0 0 1 * MON")
        let andDay = try CronExpression(parsing: "0 0 */1 * MON")
        let andWeekday = try CronExpression(parsing: "0 0 1 * */1")
        #expect(!or.dayAnd)
        #expect(andDay.dayAnd)
        #expect(andWeekday.dayAnd)
        let monday5th = CivilDate(year: 2026, month: 1, day: 5)
        #expect(or.matchesDay(monday5th))
        #expect(andDay.matchesDay(monday5th))
        #expect(!andWeekday.matchesDay(monday5th))
    }

    @Test("fixed-time jobs run on the wall clock, others on the UTC timeline")
    func evaluationMode() throws {
        #expect(try CronExpression(parsing: "30 2 * * *").wallClockMode)
        #expect(try CronExpression(parsing: "0,30 1-3 * * *").wallClockMode)
        #expect(try !CronExpression(parsing: "*/30 2 * * *").wallClockMode)
        #expect(try !CronExpression(parsing: "30 * * * *").wallClockMode)
    }
}
