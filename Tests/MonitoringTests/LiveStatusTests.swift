import Foundation
import Testing

@testable import Monitoring

private let second: Int64 = 1_000_000
private let minute: Int64 = 60 * second
private let hour: Int64 = 60 * minute
private let day: Int64 = 24 * hour

/// Microseconds of an ISO 8601 UTC instant, e.g. "2026-03-29T00:00:05Z".
private func utc(_ text: String) -> Int64 {
    let formatter = ISO8601DateFormatter()
    guard let date = formatter.date(from: text) else { fatalError("bad test instant \(text)") }
    return Int64(date.timeIntervalSince1970) * second
}

private func zone(_ name: String) -> TimeZone {
    guard let zone = TimeZoneDatabase.zone(named: name) else { fatalError("unknown zone \(name)") }
    return zone
}

private func schedule(_ text: String) -> Schedule {
    do { return try Schedule(parsing: text) } catch { fatalError("bad test schedule \(text): \(error)") }
}

private let daily = CheckRules(expectation: .timeout(microseconds: day), grace: hour, timeZone: zone("UTC"))
private let t0 = utc("2026-05-01T12:00:00Z")

struct StatusCase: Sendable, CustomTestStringConvertible {
    let name: String
    let state: CheckState
    let rules: CheckRules
    let now: Int64
    let status: LiveStatus.Status
    var started = false
    var testDescription: String { name }
}

/// Rows derived from Healthchecks' `Check.get_status` / `get_grace_start` (hc/api/models.py):
/// `last_start + grace` passed → down; new/paused/down as stored; otherwise `grace` from the
/// grace start, `down` from `grace_start + grace`, both inclusive (`frozen_now >= …`).
@Suite("Live status and deadlines (SPEC §3, Healthchecks Check.get_status)")
struct LiveStatusTests {
    static let simple: [StatusCase] = [
        StatusCase(name: "never pinged is new", state: .new, rules: daily, now: t0 + 400 * day, status: .new),
        StatusCase(name: "up just before the timeout", state: CheckState(status: .up, lastPing: t0), rules: daily, now: t0 + day - 1, status: .up),
        StatusCase(name: "grace exactly at last_ping + timeout", state: CheckState(status: .up, lastPing: t0), rules: daily, now: t0 + day, status: .grace),
        StatusCase(name: "grace until the last microsecond", state: CheckState(status: .up, lastPing: t0), rules: daily, now: t0 + day + hour - 1, status: .grace),
        StatusCase(name: "down exactly at timeout + grace", state: CheckState(status: .up, lastPing: t0), rules: daily, now: t0 + day + hour, status: .down),
        StatusCase(name: "stored down stays down before any deadline", state: CheckState(status: .down, lastPing: t0), rules: daily, now: t0 + 1, status: .down),
        StatusCase(name: "paused at runtime is paused however late", state: CheckState(status: .paused, lastPing: t0), rules: daily, now: t0 + 9 * day, status: .paused),
        StatusCase(
            name: "a start on a check paused at runtime: still paused, and started",
            state: CheckState(status: .paused, lastPing: t0, run: .init(start: t0 + day, rid: nil)), rules: daily,
            now: t0 + day + hour - 1, status: .paused, started: true),
        StatusCase(
            name: "a run on a check paused at runtime is down once it outlives grace",
            state: CheckState(status: .paused, lastPing: t0, run: .init(start: t0 + day, rid: nil)), rules: daily,
            now: t0 + day + hour, status: .down, started: true),
        StatusCase(
            name: "paused in config stays paused through a long run, reported as started",
            state: CheckState(status: .up, lastPing: t0, run: .init(start: t0 + day, rid: nil)),
            rules: CheckRules(expectation: .timeout(microseconds: day), grace: hour, timeZone: zone("UTC"), paused: true),
            now: t0 + 9 * day, status: .paused, started: true),
        StatusCase(
            name: "paused in config wins over a late up check",
            state: CheckState(status: .up, lastPing: t0),
            rules: CheckRules(expectation: .timeout(microseconds: day), grace: hour, timeZone: zone("UTC"), paused: true),
            now: t0 + 9 * day, status: .paused),
        StatusCase(
            name: "a running new check is new and started within grace",
            state: CheckState(status: .new, run: .init(start: t0, rid: nil)), rules: daily, now: t0 + hour - 1, status: .new, started: true),
        StatusCase(
            name: "a run older than grace is down even on a new check",
            state: CheckState(status: .new, run: .init(start: t0, rid: nil)), rules: daily, now: t0 + hour, status: .down, started: true),
        StatusCase(
            name: "a run older than grace is down although the timeout is far",
            state: CheckState(status: .up, lastPing: t0, run: .init(start: t0 + minute, rid: nil)), rules: daily,
            now: t0 + minute + hour, status: .down, started: true),
        StatusCase(
            name: "a run within grace on an up check is up and started",
            state: CheckState(status: .up, lastPing: t0, run: .init(start: t0 + minute, rid: nil)), rules: daily,
            now: t0 + minute + hour - 1, status: .up, started: true),
    ]

    @Test("simple checks", arguments: simple)
    func simpleChecks(row: StatusCase) {
        let live = row.state.liveStatus(under: row.rules, at: row.now)
        #expect(live.status == row.status)
        #expect(live.started == row.started)
    }

    static let riga = zone("Europe/Riga")
    static let rigaAt2 = CheckRules(expectation: .schedule(schedule("0 2 * * *")), grace: hour, timeZone: riga)
    static let rigaAtNoon = CheckRules(expectation: .schedule(schedule("0 12 * * *")), grace: hour, timeZone: riga)
    static let rigaHourly = CheckRules(expectation: .schedule(schedule("0 * * * *")), grace: 5 * minute, timeZone: riga)
    static let newYorkAt230 = CheckRules(expectation: .schedule(schedule("30 2 * * *")), grace: hour, timeZone: zone("America/New_York"))
    static let newYorkAt130 = CheckRules(expectation: .schedule(schedule("30 1 * * *")), grace: hour, timeZone: zone("America/New_York"))
    static let rigaAt330 = CheckRules(expectation: .schedule(schedule("30 3 * * *")), grace: hour, timeZone: riga)
    static let rigaAt330Calendar = CheckRules(expectation: .schedule(schedule("03:30")), grace: hour, timeZone: riga)
    static let londonHourlyCalendar = CheckRules(expectation: .schedule(schedule("hourly")), grace: 10 * minute, timeZone: zone("Europe/London"))

    /// Europe/Riga springs forward on 2026-03-29 at 03:00 EET (01:00Z) and falls back on
    /// 2026-10-25 at 04:00 EEST (01:00Z): a daily job's gap is 23 h and 25 h on those days.
    static let cron: [StatusCase] = [
        // 02:00 EET on 2026-03-29 is 00:00Z; the next 02:00 (EEST) is 2026-03-29T23:00Z: 23 h later.
        StatusCase(name: "spring forward: up before the 23-hour day's 02:00", state: CheckState(status: .up, lastPing: utc("2026-03-29T00:00:05Z")), rules: rigaAt2, now: utc("2026-03-29T23:00:00Z") - 1, status: .up),
        StatusCase(name: "spring forward: late at 02:00 EEST", state: CheckState(status: .up, lastPing: utc("2026-03-29T00:00:05Z")), rules: rigaAt2, now: utc("2026-03-29T23:00:00Z"), status: .grace),
        StatusCase(name: "spring forward: down one hour of grace later", state: CheckState(status: .up, lastPing: utc("2026-03-29T00:00:05Z")), rules: rigaAt2, now: utc("2026-03-30T00:00:00Z"), status: .down),
        // 12:00 EEST on 2026-10-24 is 09:00Z; 12:00 EET on 2026-10-25 is 10:00Z: 25 h later.
        StatusCase(name: "fall back: still up 24 hours later", state: CheckState(status: .up, lastPing: utc("2026-10-24T09:00:05Z")), rules: rigaAtNoon, now: utc("2026-10-25T09:00:05Z"), status: .up),
        StatusCase(name: "fall back: late at 12:00 EET (10:00Z)", state: CheckState(status: .up, lastPing: utc("2026-10-24T09:00:05Z")), rules: rigaAtNoon, now: utc("2026-10-25T10:00:00Z"), status: .grace),
        StatusCase(name: "fall back: down at 11:00Z", state: CheckState(status: .up, lastPing: utc("2026-10-24T09:00:05Z")), rules: rigaAtNoon, now: utc("2026-10-25T11:00:00Z"), status: .down),
        // Hourly across the gap: after 02:30 EET (00:30Z) the next top of an hour is 04:00 EEST = 01:00Z.
        StatusCase(name: "hourly across the gap: late at 01:00Z", state: CheckState(status: .up, lastPing: utc("2026-03-29T00:30:00Z")), rules: rigaHourly, now: utc("2026-03-29T01:00:00Z"), status: .grace),
        StatusCase(name: "hourly across the gap: up a second before", state: CheckState(status: .up, lastPing: utc("2026-03-29T00:30:00Z")), rules: rigaHourly, now: utc("2026-03-29T00:59:59Z"), status: .up),
        // A ping at the scheduled second itself expects the next occurrence ("strictly after").
        StatusCase(name: "a ping on the scheduled time waits for the next one", state: CheckState(status: .up, lastPing: utc("2026-05-01T23:00:00Z")), rules: rigaAt2, now: utc("2026-05-02T22:59:59Z"), status: .up),
        // New York skips 02:00-03:00 on 2026-03-08: the 02:30 job of that day is not before 07:00Z,
        // so a ping at 2026-03-07T07:30:05Z (02:30:05 EST) is up until at least 2026-03-08T07:00Z.
        StatusCase(name: "New York gap day: no late before 03:00 EDT", state: CheckState(status: .up, lastPing: utc("2026-03-07T07:30:05Z")), rules: newYorkAt230, now: utc("2026-03-08T07:00:00Z") - 1, status: .up),
        // ... and the 02:30 that does not exist moves to 03:00 EDT (07:00Z): late from then.
        StatusCase(name: "New York gap day: late at 03:00 EDT", state: CheckState(status: .up, lastPing: utc("2026-03-07T07:30:05Z")), rules: newYorkAt230, now: utc("2026-03-08T07:00:00Z"), status: .grace),
        // Riga's 03:30 does not exist on 2026-03-29 (03:00 EET jumps to 04:00 EEST = 01:00Z):
        // cron moves it to 04:00 EEST.
        StatusCase(name: "Riga gap day, cron: 03:30 runs at 04:00 EEST, late then", state: CheckState(status: .up, lastPing: utc("2026-03-28T01:30:05Z")), rules: rigaAt330, now: utc("2026-03-29T01:00:00Z"), status: .grace),
        // New York repeats 01:00-02:00 on 2026-11-01: the job runs in the first 01:30 (05:30Z)
        // only; a ping after it expects 01:30 EST the next day (2026-11-02T06:30Z).
        StatusCase(name: "fall back, cron: the repeated 01:30 does not count again", state: CheckState(status: .up, lastPing: utc("2026-11-01T05:35:00Z")), rules: newYorkAt130, now: utc("2026-11-01T07:30:00Z"), status: .up),
        StatusCase(name: "fall back, cron: late at 01:30 EST the next day", state: CheckState(status: .up, lastPing: utc("2026-11-01T05:35:00Z")), rules: newYorkAt130, now: utc("2026-11-02T06:30:00Z"), status: .grace),
        // The fold quirk (docs/schedules.md), as Healthchecks: a ping in the second 01:15
        // (06:15Z) expects the first 01:30 (05:30Z), already past: late at once, down at 06:30Z.
        StatusCase(name: "fold quirk: a ping in the second 01:15 is late at once", state: CheckState(status: .up, lastPing: utc("2026-11-01T06:15:00Z")), rules: newYorkAt130, now: utc("2026-11-01T06:15:01Z"), status: .grace),
        StatusCase(name: "fold quirk: down grace after the first 01:30", state: CheckState(status: .up, lastPing: utc("2026-11-01T06:15:00Z")), rules: newYorkAt130, now: utc("2026-11-01T06:30:00Z"), status: .down),
        // A run outlives grace on a schedule check whose next time is far away: down anyway.
        StatusCase(
            name: "cron: a run older than grace is down although the next time is hours away",
            state: CheckState(status: .up, lastPing: utc("2026-05-01T23:00:05Z"), run: .init(start: utc("2026-05-02T00:00:00Z"), rid: nil)),
            rules: rigaAt2, now: utc("2026-05-02T01:00:00Z"), status: .down, started: true),
    ]

    @Test("cron checks across DST days", arguments: cron)
    func cronChecks(row: StatusCase) {
        let live = row.state.liveStatus(under: row.rules, at: row.now)
        #expect(live.status == row.status)
        #expect(live.started == row.started)
    }

    /// OnCalendar differs from cron in gaps: a time that does not exist is skipped, not moved.
    static let onCalendar: [StatusCase] = [
        StatusCase(name: "Riga gap day, OnCalendar: 03:30 is skipped, still up that day", state: CheckState(status: .up, lastPing: utc("2026-03-28T01:30:05Z")), rules: rigaAt330Calendar, now: utc("2026-03-30T00:30:00Z") - 1, status: .up),
        StatusCase(name: "Riga gap day, OnCalendar: late at 03:30 EEST the day after", state: CheckState(status: .up, lastPing: utc("2026-03-28T01:30:05Z")), rules: rigaAt330Calendar, now: utc("2026-03-30T00:30:00Z"), status: .grace),
        StatusCase(name: "Riga gap day, OnCalendar: down one hour later", state: CheckState(status: .up, lastPing: utc("2026-03-28T01:30:05Z")), rules: rigaAt330Calendar, now: utc("2026-03-30T01:30:00Z"), status: .down),
        // London repeats 01:00-02:00 on 2026-10-25: `hourly` runs at 01:00 BST (00:00Z), then
        // 02:00 GMT (02:00Z); the second 01:00 (01:00Z) is not a time, so no late then.
        StatusCase(name: "London fall back, OnCalendar hourly: the second 01:00 is not expected", state: CheckState(status: .up, lastPing: utc("2026-10-25T00:00:05Z")), rules: londonHourlyCalendar, now: utc("2026-10-25T01:30:00Z"), status: .up),
        StatusCase(name: "London fall back, OnCalendar hourly: late at 02:00 GMT", state: CheckState(status: .up, lastPing: utc("2026-10-25T00:00:05Z")), rules: londonHourlyCalendar, now: utc("2026-10-25T02:00:00Z"), status: .grace),
        StatusCase(name: "London fall back, OnCalendar hourly: down 10 minutes later", state: CheckState(status: .up, lastPing: utc("2026-10-25T00:00:05Z")), rules: londonHourlyCalendar, now: utc("2026-10-25T02:10:00Z"), status: .down),
    ]

    @Test("OnCalendar checks across DST days", arguments: onCalendar)
    func onCalendarChecks(row: StatusCase) {
        #expect(row.state.liveStatus(under: row.rules, at: row.now).status == row.status)
    }

    @Test("a `* * * * *` schedule is due at the next whole minute, strictly after the last ping")
    func everyMinute() throws {
        let rules = CheckRules(expectation: .schedule(schedule("* * * * *")), grace: second, timeZone: zone("UTC"))
        let base = utc("2026-11-27T15:00:00Z")
        #expect(CheckState(status: .up, lastPing: base + 500_000).deadlines(under: rules) == Deadlines(late: base + 60 * second, down: base + 61 * second))
        #expect(CheckState(status: .up, lastPing: base).deadlines(under: rules)?.late == base + 60 * second, "strictly after")
    }

    @Test("an OnCalendar schedule with no future time never goes late")
    func noFutureTime() throws {
        let rules = CheckRules(expectation: .schedule(try Schedule(parsing: "2026-01-01 00:00:00")), grace: hour, timeZone: zone("UTC"))
        let state = CheckState(status: .up, lastPing: utc("2026-02-01T00:00:00Z"))
        #expect(state.liveStatus(under: rules, at: utc("2030-01-01T00:00:00Z")).status == .up)
        #expect(state.deadlines(under: rules) == nil)
    }

    @Test("deadlines of a simple up check are last ping + timeout, then + grace")
    func simpleDeadlines() {
        let deadlines = CheckState(status: .up, lastPing: t0).deadlines(under: daily)
        #expect(deadlines == Deadlines(late: t0 + day, down: t0 + day + hour))
    }

    @Test("deadlines of a cron check on the 23-hour day")
    func cronDeadlines() {
        let deadlines = CheckState(status: .up, lastPing: utc("2026-03-29T00:00:05Z")).deadlines(under: Self.rigaAt2)
        #expect(deadlines == Deadlines(late: utc("2026-03-29T23:00:00Z"), down: utc("2026-03-30T00:00:00Z")))
    }

    @Test("an open run brings the deadline forward to start + grace")
    func runDeadline() {
        let state = CheckState(status: .up, lastPing: t0, run: .init(start: t0 + minute, rid: nil))
        #expect(state.deadlines(under: daily) == Deadlines(late: t0 + minute, down: t0 + minute + hour))
        let newRunning = CheckState(status: .new, run: .init(start: t0, rid: nil))
        #expect(newRunning.deadlines(under: daily) == Deadlines(late: t0, down: t0 + hour))
    }

    @Test("a run on a check paused at runtime arms its deadline at start + grace, as Healthchecks")
    func pausedRunDeadline() {
        let running = CheckState(status: .paused, lastPing: t0, run: .init(start: t0 + day, rid: nil))
        #expect(running.deadlines(under: daily) == Deadlines(late: t0 + day, down: t0 + day + hour))
        var configPaused = daily
        configPaused.paused = true
        #expect(running.deadlines(under: configPaused) == nil)
    }

    @Test("new, paused, down and config-paused checks have no deadline")
    func noDeadline() {
        #expect(CheckState.new.deadlines(under: daily) == nil)
        #expect(CheckState(status: .paused, lastPing: t0).deadlines(under: daily) == nil)
        #expect(CheckState(status: .down, lastPing: t0, run: .init(start: t0, rid: nil)).deadlines(under: daily) == nil)
        var paused = daily
        paused.paused = true
        #expect(CheckState(status: .up, lastPing: t0).deadlines(under: paused) == nil)
    }

    @Test("at the down deadline the status function and the deadline agree")
    func agree() {
        let state = CheckState(status: .up, lastPing: utc("2026-10-24T09:00:05Z"))
        guard let deadlines = state.deadlines(under: Self.rigaAtNoon) else {
            Issue.record("no deadline")
            return
        }
        #expect(state.liveStatus(under: Self.rigaAtNoon, at: deadlines.down - 1).status == .grace)
        #expect(state.liveStatus(under: Self.rigaAtNoon, at: deadlines.down).status == .down)
    }

    @Test("a run that outlives grace on a new check goes down from new, at the deadline")
    func newRunGoesDown() throws {
        let state = CheckState(status: .new, run: .init(start: t0, rid: nil))
        let (next, flip) = try #require(state.goingDown(at: t0 + hour))
        #expect(next.status == .down)
        #expect(flip == Flip(time: t0 + hour, old: .new, new: .down, reason: .timeout))
        #expect(flip.notifies)
    }
}
