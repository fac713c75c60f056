import Foundation
import Testing

@testable import Monitoring

private let hour: Int64 = 3_600_000_000
private let t0: Int64 = 1_700_000_000_000_000
private let ridA = UUID(uuidString: "0B7C4A5E-0000-4000-8000-00000000000A")
private let ridB = UUID(uuidString: "0B7C4A5E-0000-4000-8000-00000000000B")

private func received(_ signal: ReceivedPing.Signal, rid: UUID? = nil, method: String = "GET") -> ReceivedPing {
    ReceivedPing(signal: signal, method: method, rid: rid)
}

/// Apply pings in order, one second apart unless a time is given.
private func replay(_ steps: [(ReceivedPing, Int64)], from state: CheckState = .new) -> [CheckState.PingOutcome] {
    var state = state
    var outcomes: [CheckState.PingOutcome] = []
    for (ping, time) in steps {
        let outcome = state.applying(ping, at: time)
        outcomes.append(outcome)
        state = outcome.state
    }
    return outcomes
}

struct StatusRow: Sendable, CustomTestStringConvertible {
    let name: String
    let from: CheckState.Status
    let signal: ReceivedPing.Signal
    let to: CheckState.Status
    let flip: Flip.Reason?
    var testDescription: String { name }
}

@Suite("CheckState transitions (SPEC §3, Healthchecks Check.ping)")
struct CheckStateTests {
    static let statusRows: [StatusRow] = [
        StatusRow(name: "first success turns new into up", from: .new, signal: .success, to: .up, flip: .ping),
        StatusRow(name: "success keeps up without a flip", from: .up, signal: .success, to: .up, flip: nil),
        StatusRow(name: "success after down is up", from: .down, signal: .success, to: .up, flip: .ping),
        StatusRow(name: "fail is down at once", from: .up, signal: .fail, to: .down, flip: .fail),
        StatusRow(name: "fail on a new check is down", from: .new, signal: .fail, to: .down, flip: .fail),
        StatusRow(name: "exit status 0 is a success", from: .down, signal: .exitStatus(0), to: .up, flip: .ping),
        StatusRow(name: "exit status 1 is a fail", from: .up, signal: .exitStatus(1), to: .down, flip: .fail),
        StatusRow(name: "exit status 255 is a fail", from: .up, signal: .exitStatus(255), to: .down, flip: .fail),
        StatusRow(name: "start changes no status", from: .new, signal: .start, to: .new, flip: nil),
        StatusRow(name: "log changes no status", from: .down, signal: .log, to: .down, flip: nil),
        StatusRow(name: "success unpauses a paused check", from: .paused, signal: .success, to: .up, flip: .ping),
        StatusRow(name: "fail on a paused check is down", from: .paused, signal: .fail, to: .down, flip: .fail),
    ]

    @Test("status after one ping", arguments: statusRows)
    func statusTable(row: StatusRow) {
        let outcome = CheckState(status: row.from).applying(received(row.signal), at: t0)
        #expect(outcome.state.status == row.to)
        #expect(outcome.flip?.reason == row.flip)
        if let flip = outcome.flip {
            #expect(flip.old == row.from && flip.new == row.to && flip.time == t0)
        }
    }

    @Test("every ping is numbered and counted, log and ign included")
    func numbering() {
        let outcomes = replay([
            (received(.log), t0), (received(.start), t0 + 1), (received(.success), t0 + 2),
            (received(.exitStatus(3)), t0 + 3),
        ])
        #expect(outcomes.map(\.ping.n) == [1, 2, 3, 4])
        #expect(outcomes.last?.state.nPings == 4)
        #expect(outcomes.last?.ping.exitStatus == 3)
        #expect(outcomes.last?.ping.kind == .fail)
    }

    @Test("log and start do not move last ping; success and fail do")
    func lastPing() {
        let outcomes = replay([(received(.success), t0), (received(.log), t0 + 5), (received(.start), t0 + 6)])
        #expect(outcomes[2].state.lastPing == t0)
        #expect(outcomes[2].state.lastReceived == t0 + 6)
        #expect(outcomes[2].state.lastReceivedKind == .start)
    }

    @Test("start then success with the same rid closes the run and records its duration")
    func pairedRun() {
        let outcomes = replay([(received(.start, rid: ridA), t0), (received(.success, rid: ridA), t0 + 90_000_000)])
        #expect(outcomes[0].state.run == .init(start: t0, rid: ridA))
        #expect(outcomes[0].state.started)
        #expect(outcomes[1].state.run == nil)
        #expect(outcomes[1].ping.duration == 90_000_000)
        #expect(outcomes[1].state.lastDuration == 90_000_000)
    }

    @Test("start and success without rids pair")
    func pairedWithoutRid() {
        let outcomes = replay([(received(.start), t0), (received(.fail), t0 + 7)])
        #expect(outcomes[1].ping.duration == 7)
        #expect(outcomes[1].state.run == nil)
    }

    @Test("a success with another rid leaves the run open and has no duration")
    func otherRidSuccess() {
        let outcomes = replay([(received(.start, rid: ridA), t0), (received(.success, rid: ridB), t0 + 1)])
        #expect(outcomes[1].state.run == .init(start: t0, rid: ridA))
        #expect(outcomes[1].ping.duration == nil)
        #expect(outcomes[1].state.status == .up)
    }

    @Test("a fail with another rid closes the run without a duration")
    func otherRidFail() {
        let outcomes = replay([(received(.start, rid: ridA), t0), (received(.fail, rid: ridB), t0 + 1)])
        #expect(outcomes[1].state.run == nil)
        #expect(outcomes[1].ping.duration == nil)
    }

    @Test("a success without rid closes a run that had one, without a duration")
    func noRidClosesRun() {
        let outcomes = replay([(received(.start, rid: ridA), t0), (received(.success), t0 + 1)])
        #expect(outcomes[1].state.run == nil)
        #expect(outcomes[1].ping.duration == nil)
    }

    @Test("concurrent runs pair by rid, as Healthchecks' Ping.duration")
    func concurrentRuns() {
        let outcomes = replay([
            (received(.start, rid: ridA), t0), (received(.start, rid: ridB), t0 + 10),
            (received(.success, rid: ridA), t0 + 100), (received(.success, rid: ridB), t0 + 200),
        ])
        #expect(outcomes[2].ping.duration == 100)
        #expect(outcomes[2].state.run == .init(start: t0 + 10, rid: ridB))
        #expect(outcomes[3].ping.duration == 190)
        #expect(outcomes[3].state.run == nil)
    }

    @Test("a start older than 72 hours gives no duration but its run still closes")
    func pairingWindow() {
        let late = replay([(received(.start), t0), (received(.success), t0 + 72 * hour + 1)])
        #expect(late[1].ping.duration == nil)
        #expect(late[1].state.run == nil)
        let boundary = replay([(received(.start), t0), (received(.success), t0 + 72 * hour)])
        #expect(boundary[1].ping.duration == 72 * hour)
    }

    @Test("a second success does not reuse a closed start")
    func closedStartNotReused() {
        let outcomes = replay([(received(.start), t0), (received(.success), t0 + 1), (received(.success), t0 + 2)])
        #expect(outcomes[2].ping.duration == nil)
        #expect(outcomes[2].state.lastDuration == nil)
    }

    @Test("log and ign between start and success do not break the pairing")
    func logInsideRun() {
        let outcomes = replay([(received(.start), t0), (received(.log), t0 + 1), (received(.success), t0 + 5)])
        #expect(outcomes[2].ping.duration == 5)
    }

    @Test("a POST-only check records other methods as ign and changes nothing else")
    func postOnly() {
        let up = CheckState(status: .up, nPings: 3, lastPing: t0)
        let get = up.applying(received(.fail, method: "GET"), at: t0 + 1, postOnly: true)
        #expect(get.ping.kind == .ign)
        #expect(get.state.status == .up && get.state.lastPing == t0 && get.flip == nil)
        #expect(get.state.nPings == 4)
        let post = up.applying(received(.fail, method: "POST"), at: t0 + 1, postOnly: true)
        #expect(post.ping.kind == .fail && post.state.status == .down)
    }

    @Test("a paused check with manual resume records every ping as ign")
    func manualResume() {
        let paused = CheckState(status: .paused)
        let outcome = paused.applying(received(.success), at: t0, manualResume: true)
        #expect(outcome.ping.kind == .ign)
        #expect(outcome.state.status == .paused && outcome.flip == nil)
        #expect(outcome.state.nPings == 1)
    }

    @Test("a start on a paused check keeps it paused with a run open; a success then flips it up")
    func startWhilePaused() throws {
        let paused = CheckState(status: .paused, nPings: 2, lastPing: t0)
        let start = paused.applying(received(.start), at: t0 + 10)
        #expect(start.ping.kind == .start && start.flip == nil)
        #expect(start.state.status == .paused && start.state.started)
        let success = start.state.applying(received(.success), at: t0 + 15)
        #expect(success.state.status == .up && !success.state.started)
        #expect(success.flip == Flip(time: t0 + 15, old: .paused, new: .up, reason: .ping))
        #expect(success.ping.duration == 5)
        // With manual_resume the start is ignored: no run, nothing armed.
        let ignored = paused.applying(received(.start), at: t0 + 10, manualResume: true)
        #expect(ignored.ping.kind == .ign && !ignored.state.started)
    }

    @Test("a paused check whose run outlives grace goes down at the deadline, as Healthchecks")
    func pausedRunGoesDown() throws {
        let running = CheckState(status: .paused, run: .init(start: t0, rid: nil))
        let down = try #require(running.goingDown(at: t0 + 60))
        #expect(down.state.status == .down)
        #expect(down.flip == Flip(time: t0 + 60, old: .paused, new: .down, reason: .timeout))
        #expect(down.flip.notifies)
    }

    @Test("manual resume does nothing to a check that is not paused")
    func manualResumeUnpaused() {
        let outcome = CheckState(status: .down).applying(received(.success), at: t0, manualResume: true)
        #expect(outcome.ping.kind == .success && outcome.state.status == .up)
    }

    @Test("pause clears the run and flips; pausing twice is a no-op")
    func pause() throws {
        let running = replay([(received(.start), t0)])[0].state
        let paused = try #require(running.pausing(at: t0 + 1))
        #expect(paused.state.status == .paused && paused.state.run == nil)
        #expect(paused.flip == Flip(time: t0 + 1, old: .new, new: .paused, reason: .pause))
        #expect(paused.state.pausing(at: t0 + 2) == nil)
        // The cleared start gives the next success no duration.
        #expect(paused.state.applying(received(.success), at: t0 + 3).ping.duration == nil)
    }

    @Test("resume sets new and forgets the last ping; resuming an unpaused check is refused")
    func resume() throws {
        let paused = CheckState(status: .paused, nPings: 5, lastPing: t0)
        let resumed = try #require(paused.resuming(at: t0 + 1))
        #expect(resumed.state.status == .new && resumed.state.lastPing == nil && resumed.state.nPings == 5)
        #expect(resumed.flip.reason == .resume)
        #expect(CheckState(status: .up).resuming(at: t0) == nil)
    }

    @Test("a timeout turns only an up check down, at the deadline")
    func timeout() throws {
        let down = try #require(CheckState(status: .up).goingDown(at: t0))
        #expect(down.state.status == .down && down.flip == Flip(time: t0, old: .up, new: .down, reason: .timeout))
        #expect(CheckState(status: .new).goingDown(at: t0) == nil)
        #expect(CheckState(status: .paused).goingDown(at: t0) == nil)
        #expect(CheckState(status: .down).goingDown(at: t0) == nil)
    }

    @Test("new→up and paused→up flips send no alert; others do")
    func flipNotifies() {
        #expect(!Flip(time: 0, old: .new, new: .up, reason: .ping).notifies)
        #expect(!Flip(time: 0, old: .paused, new: .up, reason: .ping).notifies)
        #expect(Flip(time: 0, old: .down, new: .up, reason: .ping).notifies)
        #expect(Flip(time: 0, old: .up, new: .down, reason: .fail).notifies)
    }

    @Test("only the newest few concurrent runs are remembered")
    func boundedStarts() {
        var steps: [(ReceivedPing, Int64)] = []
        for index in 0..<(CheckState.rememberedStarts + 2) {
            steps.append((received(.start, rid: UUID()), t0 + Int64(index)))
        }
        #expect(replay(steps).last?.state.recentStarts.count == CheckState.rememberedStarts)
    }

    @Test("a clock stepped back gives a zero duration, not a negative one")
    func clockBack() {
        let outcomes = replay([(received(.start), t0), (received(.success), t0 - 10)])
        #expect(outcomes[1].ping.duration == 0)
    }
}
