import Alerting
import CheckCatalog
import Foundation
import Logging
import Monitoring
import PingStore
@testable import PostgresStore
import Testing
import TestSupport

@testable import Runtime

private let second: Int64 = 1_000_000

private func held(_ alert: Alert, _ hold: AlertHold) -> Alert {
    var alert = alert
    alert.hold = hold
    return alert
}

/// Held alerts (SPEC §14, issue 23) in both alert queues: queued with their marked flip, due
/// never, blocking their check and channel until the runtime settles them.
@Suite("Held alerts in the store contract")
struct HeldAlertsContract {
    @Test("a held alert is not claimed, not due, blocks its channel's later alerts (not another channel's, not a test) and stays held after a reopen")
    func heldAndBlocking() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            let check = try await register(in: store)
            let downTime = contractT0 + 5 * second
            let hold = AlertHold(maintenance: true, dependencies: ["ops/db"])
            let downFlip = Flip(time: downTime, old: .up, new: .down, reason: .timeout, maintenance: true, suppressedBy: ["ops/db"])
            let hookDown = held(contractAlert("hook", .down, flipTime: downTime, check: check), hold)
            let pagerDown = contractAlert("pager", .down, flipTime: downTime, check: check)
            try await store.record(downFlip, of: check, alerts: [hookDown, pagerDown])
            let upTime = downTime + 60 * second
            let hookUp = contractAlert("hook", .up, flipTime: upTime, check: check)
            try await store.record(Flip(time: upTime, old: .down, new: .up, reason: .ping), of: check, alerts: [hookUp])
            var test = contractAlert("hook", .down, flipTime: upTime + 1, check: check)
            test.test = true
            try await store.alerts.enqueue(test)

            let claimed = await store.alerts.claimDue(at: upTime + 3_600 * second)
            #expect(Set(claimed.map(\.id)) == [pagerDown.id, test.id], "only the other channel's alert and the test (\(subject.name))")
            for alert in claimed {
                _ = try await store.alerts.complete(alert.id, with: Attempt(time: upTime + 2, outcome: .delivered, statusCode: 200))
            }
            #expect(await store.alerts.nextDue() == nil, "a held alert makes nothing due, nor what it blocks (\(subject.name))")
            #expect(await store.alerts.claimDue(at: upTime + 365 * 86_400 * second).isEmpty, "never due (\(subject.name))")
            #expect(try await store.alerts.record(of: hookDown.id)?.state == .held, "\(subject.name)")
            #expect(try await store.alerts.record(of: hookDown.id)?.alert.hold == hold, "\(subject.name)")
            #expect(try await store.alerts.record(of: hookDown.id)?.nextAttempt == nil, "\(subject.name)")
            #expect(try await store.alerts.record(of: hookUp.id)?.state == .pending, "blocked, but not held itself (\(subject.name))")
            let expected = [HeldBackAlert(alert: hookDown, held: true), HeldBackAlert(alert: hookUp, held: false)]
            #expect(try await store.alerts.heldBack() == expected, "\(subject.name)")
            try await store.close()

            let reopened = try await subject.open()
            #expect(try await reopened.alerts.heldBack() == expected, "held after a reopen (\(subject.name))")
            #expect(await reopened.alerts.claimDue(at: upTime + 7_200 * second).isEmpty, "\(subject.name)")
            #expect(await reopened.alerts.nextDue() == nil, "\(subject.name)")
            let history = try await reopened.alerts.history(of: check, limit: 10)
            #expect(history.first { $0.alert.id == hookDown.id }?.state == .held, "\(subject.name)")
            try await reopened.close()
        }
    }

    @Test("a released alert is due at once and delivered like any other; its hold stays in history; what it blocked follows it")
    func release() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            let check = try await register(in: store)
            let downTime = contractT0 + 5 * second
            let hookDown = held(contractAlert("hook", .down, flipTime: downTime, check: check), AlertHold(maintenance: true))
            try await store.record(Flip(time: downTime, old: .up, new: .down, reason: .timeout, maintenance: true), of: check, alerts: [hookDown])
            let upTime = downTime + 60 * second
            let hookUp = contractAlert("hook", .up, flipTime: upTime, check: check)
            try await store.record(Flip(time: upTime, old: .down, new: .up, reason: .ping), of: check, alerts: [hookUp])

            let releaseTime = upTime + 600 * second
            #expect(try await store.alerts.settle([hookUp.id: .send], at: releaseTime).isEmpty, "an alert not held is not released (\(subject.name))")
            #expect(try await store.alerts.settle([hookDown.id: .send], at: releaseTime) == [hookDown.id], "\(subject.name)")
            #expect(try await store.alerts.settle([hookDown.id: .send], at: releaseTime + 1).isEmpty, "settled twice: no change (\(subject.name))")
            #expect(
                try await store.alerts.settle([hookDown.id: .withdraw(reason: "late")], at: releaseTime + 1).isEmpty,
                "a released alert is no longer held back: not withdrawn (\(subject.name))")
            #expect(await store.alerts.nextDue() == releaseTime, "\(subject.name)")
            #expect(try await store.alerts.heldBack().isEmpty, "\(subject.name)")
            #expect(try await store.alerts.record(of: hookDown.id)?.state == .pending, "\(subject.name)")
            #expect(await store.alerts.claimDue(at: releaseTime - 1).isEmpty, "due at its release, not before (\(subject.name))")
            #expect(await store.alerts.claimDue(at: releaseTime).map(\.id) == [hookDown.id], "the down first, the up after it (\(subject.name))")
            let failed = Attempt(time: releaseTime, outcome: .failed, statusCode: 503, error: "the receiver answered HTTP 503")
            guard case .retry(let at) = try await store.alerts.complete(hookDown.id, with: failed) else {
                Issue.record("a released alert is retried like any other (\(subject.name))")
                return
            }
            #expect(await store.alerts.claimDue(at: at).map(\.id) == [hookDown.id], "\(subject.name)")
            #expect(try await store.alerts.complete(hookDown.id, with: Attempt(time: at, outcome: .delivered, statusCode: 200)) == .delivered)
            #expect(await store.alerts.claimDue(at: at).map(\.id) == [hookUp.id], "\(subject.name)")
            try await store.close()

            let reopened = try await subject.open()
            let record = try #require(try await reopened.alerts.history(of: check, limit: 10).first { $0.alert.id == hookDown.id })
            #expect(record.state == .delivered, "\(subject.name)")
            #expect(record.alert.hold == AlertHold(maintenance: true), "what held it stays on the record (\(subject.name))")
            #expect(record.attempts.count == 2)
            try await reopened.close()
        }
    }

    @Test("a withdrawn alert is finished unsent with its reason, unblocks what follows, and a second settlement changes nothing")
    func withdraw() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            let check = try await register(in: store)
            let downTime = contractT0 + 5 * second
            let hold = AlertHold(dependencies: ["ops/db"])
            let hookDown = held(contractAlert("hook", .down, flipTime: downTime, check: check), hold)
            try await store.record(Flip(time: downTime, old: .up, new: .down, reason: .timeout, suppressedBy: ["ops/db"]), of: check, alerts: [hookDown])
            let upTime = downTime + 60 * second
            let hookUp = contractAlert("hook", .up, flipTime: upTime, check: check)
            try await store.record(Flip(time: upTime, old: .down, new: .up, reason: .ping), of: check, alerts: [hookUp])

            let reason = "ops/backup recovered while ops/db was down"
            let settleTime = upTime + 10 * second
            #expect(try await store.alerts.settle([hookDown.id: .withdraw(reason: reason)], at: settleTime) == [hookDown.id], "\(subject.name)")
            #expect(try await store.alerts.settle([hookDown.id: .withdraw(reason: "again"), UUID(): .send], at: settleTime).isEmpty, "\(subject.name)")
            #expect(try await store.alerts.settle([hookDown.id: .send], at: settleTime).isEmpty, "a withdrawn alert is not released (\(subject.name))")
            #expect(try await store.alerts.heldBack().isEmpty, "\(subject.name)")
            #expect(await store.alerts.claimDue(at: settleTime).map(\.id) == [hookUp.id], "the up is no longer blocked (\(subject.name))")
            let record = try #require(try await store.alerts.record(of: hookDown.id))
            #expect(record.state == .withdrawn, "\(subject.name)")
            #expect(record.reason == reason, "\(subject.name)")
            #expect(record.attempts.isEmpty)
            #expect(record.alert.hold == hold)
            try await store.close()

            let reopened = try await subject.open()
            let history = try await reopened.alerts.history(of: check, limit: 10)
            #expect(history.first { $0.alert.id == hookDown.id }?.reason == reason, "the reason survives a reopen (\(subject.name))")
            #expect(history.first { $0.alert.id == hookDown.id }?.state == .withdrawn)
            #expect(await reopened.alerts.claimDue(at: settleTime + 3_600 * second).map(\.id) == [hookUp.id], "\(subject.name)")
            try await reopened.close()
        }
    }

    @Test("an alert queued behind a held one can be withdrawn; one being tried is left alone")
    func withdrawBlocked() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            let check = try await register(in: store)
            let downTime = contractT0 + 5 * second
            let hookDown = held(contractAlert("hook", .down, flipTime: downTime, check: check), AlertHold(maintenance: true))
            let pagerDown = contractAlert("pager", .down, flipTime: downTime, check: check)
            try await store.record(Flip(time: downTime, old: .up, new: .down, reason: .timeout, maintenance: true), of: check, alerts: [hookDown, pagerDown])
            let upTime = downTime + 60 * second
            let hookUp = contractAlert("hook", .up, flipTime: upTime, check: check)
            try await store.record(Flip(time: upTime, old: .down, new: .up, reason: .ping), of: check, alerts: [hookUp])
            #expect(await store.alerts.claimDue(at: upTime).map(\.id) == [pagerDown.id], "\(subject.name)")
            let decisions: [UUID: Settlement] = [
                hookDown.id: .withdraw(reason: "recovered in maintenance"), hookUp.id: .withdraw(reason: "its down was withdrawn"),
                pagerDown.id: .withdraw(reason: "being tried"),
            ]
            #expect(try await store.alerts.settle(decisions, at: upTime + 1) == [hookDown.id, hookUp.id], "\(subject.name)")
            #expect(try await store.alerts.record(of: hookUp.id)?.state == .withdrawn, "\(subject.name)")
            #expect(try await store.alerts.record(of: hookUp.id)?.reason == "its down was withdrawn", "\(subject.name)")
            #expect(try await store.alerts.record(of: hookDown.id)?.reason == "recovered in maintenance", "\(subject.name)")
            #expect(try await store.alerts.complete(pagerDown.id, with: Attempt(time: upTime + 2, outcome: .delivered, statusCode: 200)) == .delivered)
            #expect(await store.alerts.nextDue() == nil, "\(subject.name)")
            try await store.close()
        }
    }

    @Test("marked flips round-trip: maintenance and suppressed_by are read back as written, unmarked ones unmarked, after a reopen too")
    func markedFlips() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            let check = try await register(in: store)
            let flips = [
                Flip(time: contractT0 + 1 * second, old: .new, new: .up, reason: .ping),
                Flip(time: contractT0 + 2 * second, old: .up, new: .down, reason: .timeout, maintenance: true),
                Flip(time: contractT0 + 3 * second, old: .down, new: .up, reason: .ping, suppressedBy: ["ops/db"]),
                Flip(time: contractT0 + 4 * second, old: .up, new: .down, reason: .fail, maintenance: true, suppressedBy: ["ops/db", "infra/\"net\""]),
            ]
            for flip in flips { try await store.record(flip, of: check, alerts: []) }
            #expect(try await store.flips(of: check, limit: 10).map(\.flip) == flips.reversed(), "\(subject.name)")
            try await store.close()
            let reopened = try await subject.open()
            #expect(try await reopened.flips(of: check, limit: 10).map(\.flip) == flips.reversed(), "\(subject.name)")
            try await reopened.close()
        }
    }

    @Test("PostgreSQL finds the held alerts by their own index, not by a scan of the whole queue")
    func heldIndex() async throws {
        let url: String
        do {
            url = try await SharedPostgres.database("held")
        } catch is SharedPostgres.Unavailable {
            return
        }
        let store = try await PostgresStore.open(PostgresLocation(url), keepPings: 10, logger: Logger(label: "held"))
        await store.closeConnections()
        let name = try PostgresLocation(url).database
        let plan = try await onOwnThread {
            try SharedPostgres.cluster().psql(database: name, command: "SET enable_seqscan = off; EXPLAIN " + PostgresAlertQueue.heldBackSQL)
        }
        #expect(plan.contains("kiothc_alerts_held"), "\(plan)")
    }

    @Test("two instances settling the same held alert at once: exactly one changes it")
    func concurrentSettlement() async throws {
        let url: String
        do {
            url = try await SharedPostgres.database("held")
        } catch is SharedPostgres.Unavailable {
            return
        }
        let subject = PostgresStoreUnderTest(url: url)
        let first = try await subject.open()
        let other = try await subject.open()
        let check = try await register(in: first)
        let downTime = contractT0 + 5 * 1_000_000
        for round in 0..<10 {
            let alert = held(contractAlert("hook", .down, flipTime: downTime + Int64(round), check: check), AlertHold(maintenance: true))
            try await first.record(Flip(time: downTime + Int64(round), old: .up, new: .down, reason: .timeout, maintenance: true), of: check, alerts: [alert])
            // The same decision twice, or different ones (two runtimes that saw different things).
            let decisions: [(Settlement, Settlement)] = [
                (.send, .withdraw(reason: "recovered")), (.send, .send), (.withdraw(reason: "a"), .withdraw(reason: "b")),
            ]
            let (one, two) = decisions[round % decisions.count]
            async let a = first.alerts.settle([alert.id: one], at: downTime + 100)
            async let b = other.alerts.settle([alert.id: two], at: downTime + 100)
            let (changedByOne, changedByTwo) = try await (a, b)
            #expect(changedByOne.count + changedByTwo.count == 1, "round \(round): \(changedByOne) \(changedByTwo)")
            let winner = changedByOne.isEmpty ? two : one
            let state = try await first.alerts.record(of: alert.id)?.state
            #expect(state == (winner == .send ? .pending : .withdrawn), "round \(round)")
            if winner == .send {
                // Finish it, so the next round's alert is not blocked behind it.
                #expect(await first.alerts.claimDue(at: downTime + 100).map(\.id) == [alert.id])
                _ = try await first.alerts.complete(alert.id, with: Attempt(time: downTime + 101, outcome: .delivered, statusCode: 200))
            }
        }
        try await first.close()
        try await other.close()
    }
}
