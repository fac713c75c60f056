import Alerting
import CheckCatalog
import Foundation
import Monitoring
import PingStore
import Testing

@testable import Runtime

/// A store implementation under test: `open` gives the store at one location (after the one
/// opened before was closed), so a test can write, close, reopen and read back.
protocol StoreUnderTest: Sendable {
    var name: String { get }
    func open() throws -> any CheckStore
    func remove()
}

/// The file store in a fresh temporary data directory.
struct FileStoreUnderTest: StoreUnderTest {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-contract-\(UUID().uuidString)").path
    var name: String { "file" }

    func open() throws -> any CheckStore {
        try FileStore.open(DataDirectory(root), options: PingStore.Options(durability: .fsync, maintenanceInterval: nil), now: contractT0)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// Every store implementation the contract runs against. The PostgreSQL store joins here.
let contractStores: [@Sendable () -> any StoreUnderTest] = [{ FileStoreUnderTest() }]

let contractT0: Int64 = 1_790_000_000_000_000
let contractCheck = UUID(uuidString: "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e00c1")!

func contractPing(_ n: Int, _ kind: Ping.Kind = .success) -> Ping {
    Ping(
        n: n, time: contractT0 + Int64(n) * 1_000_000, kind: kind, method: "GET", scheme: "http", remoteAddress: "127.0.0.1",
        userAgent: "contract", body: "ping \(n)", bodySize: "ping \(n)".utf8.count)
}

func contractAlert(_ channel: String, _ direction: Channel.Direction, flipTime: Int64) -> Alert {
    let values = AlertValues(
        name: "Backup", slug: "backup", code: contractCheck.uuidString.lowercased(), status: direction.rawValue, now: "", tags: "",
        project: "ops", exitStatus: "", body: "")
    return Alert(check: contractCheck, project: "ops", channel: channel, direction: direction, flipTime: flipTime, created: flipTime, values: values)
}

/// Runs `body` on a fresh store of each implementation, removing it afterwards.
func withEachStore(_ body: (any StoreUnderTest) async throws -> Void) async throws {
    for make in contractStores {
        let subject = make()
        defer { subject.remove() }
        try await body(subject)
    }
}

/// The storage contract (issue 19): what the runtime relies on from any store.
@Suite("Check store contract")
struct CheckStoreContract {
    @Test("pings come back newest first, by number, and after a reopen; an unknown number is nil")
    func pings() async throws {
        try await withEachStore { subject in
            let store = try subject.open()
            for n in 1...3 { try await store.record(contractPing(n), of: contractCheck) }
            #expect(try store.pings(of: contractCheck, limit: 2).map(\.n) == [3, 2], "\(subject.name)")
            #expect(try store.ping(of: contractCheck, n: 2)?.body == "ping 2")
            #expect(try store.ping(of: contractCheck, n: 9) == nil)
            #expect(try store.pings(of: UUID(), limit: 5).isEmpty)
            try store.close()
            let reopened = try subject.open()
            #expect(try reopened.pings(of: contractCheck, limit: 10).map(\.n) == [3, 2, 1])
            #expect(try reopened.ping(of: contractCheck, n: 1) == contractPing(1))
            try reopened.close()
        }
    }

    @Test("a check's records are stored in the order of the calls, without waiting for each")
    func order() async throws {
        try await withEachStore { subject in
            let store = try subject.open()
            let count = 300
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The calls are made one after the other; their completions may come in any order.
                for n in 1...count {
                    let ping = contractPing(n)
                    let stored = AsyncThrowingStream<Void, any Error>.makeStream()
                    store.record(ping, of: contractCheck, flip: nil, alerts: []) { error in
                        if let error { stored.continuation.finish(throwing: error) } else { stored.continuation.finish() }
                    }
                    group.addTask { for try await _ in stored.stream {} }
                }
                try await group.waitForAll()
            }
            #expect(try store.pings(of: contractCheck, limit: count).map(\.n) == Array((1...count).reversed()), "\(subject.name)")
            try store.close()
        }
    }

    @Test("a flip is stored with its alerts: both are read back, the alerts are claimed once, delivered ones never again")
    func flipWithAlerts() async throws {
        try await withEachStore { subject in
            let store = try subject.open()
            let flipTime = contractT0 + 5_000_000
            let flip = Flip(time: flipTime, old: .up, new: .down, reason: .fail)
            let alerts = [contractAlert("hook", .down, flipTime: flipTime), contractAlert("pager", .down, flipTime: flipTime)]
            try await store.record(contractPing(1, .fail), of: contractCheck, flip: flip, alerts: alerts)
            #expect(try store.flips(of: contractCheck, limit: 5).map(\.flip) == [flip], "\(subject.name)")
            let claimed = await store.alerts.claimDue(at: flipTime)
            #expect(Set(claimed.map(\.id)) == Set(alerts.map(\.id)))
            #expect(await store.alerts.claimDue(at: flipTime).isEmpty, "claimed alerts are not claimed twice")
            for alert in claimed {
                let outcome = try await store.alerts.complete(alert.id, with: Attempt(time: flipTime, outcome: .delivered, statusCode: 200))
                #expect(outcome == .delivered)
            }
            #expect(await store.alerts.nextDue() == nil)
            try store.close()
            let reopened = try subject.open()
            #expect(await reopened.alerts.claimDue(at: flipTime + 3_600_000_000).isEmpty, "delivered alerts stay delivered")
            #expect(try reopened.flips(of: contractCheck, limit: 5).map(\.flip) == [flip])
            try reopened.close()
        }
    }

    @Test("an alert not yet delivered is pending after a reopen; a released one is claimed again; a failed attempt is retried later")
    func pendingAlerts() async throws {
        try await withEachStore { subject in
            let store = try subject.open()
            let flipTime = contractT0 + 9_000_000
            let alert = contractAlert("hook", .down, flipTime: flipTime)
            try await store.record(Flip(time: flipTime, old: .up, new: .down, reason: .timeout), of: contractCheck, alerts: [alert])
            try store.close()
            let reopened = try subject.open()
            #expect(await reopened.alerts.claimDue(at: flipTime).map(\.id) == [alert.id], "\(subject.name)")
            await reopened.alerts.release(alert.id)
            #expect(await reopened.alerts.claimDue(at: flipTime).map(\.id) == [alert.id])
            let outcome = try await reopened.alerts.complete(alert.id, with: Attempt(time: flipTime, outcome: .failed, error: "HTTP 500"))
            guard case .retry(let at) = outcome else {
                Issue.record("a failed first attempt is retried, got \(outcome)")
                return
            }
            #expect(at > flipTime)
            #expect(await reopened.alerts.claimDue(at: at - 1).isEmpty)
            #expect(await reopened.alerts.nextDue() == at)
            #expect(await reopened.alerts.claimDue(at: at).map(\.id) == [alert.id])
            try reopened.close()
        }
    }

    @Test("a start rebuilds each check's state from its records: last ping, status, a runtime pause")
    func states() async throws {
        try await withEachStore { subject in
            let store = try subject.open()
            let other = UUID()
            try await store.record(contractPing(1), of: contractCheck, flip: Flip(time: contractT0 + 1_000_000, old: .new, new: .up, reason: .ping))
            try await store.record(contractPing(1), of: other, flip: Flip(time: contractT0 + 1_000_000, old: .new, new: .up, reason: .ping))
            try await store.record(Flip(time: contractT0 + 2_000_000, old: .up, new: .paused, reason: .pause), of: other, alerts: [])
            try store.close()
            let reopened = try subject.open()
            let states = try reopened.loadStates()
            #expect(states[contractCheck]?.status == .up, "\(subject.name)")
            #expect(states[contractCheck]?.lastPing == contractT0 + 1_000_000)
            #expect(states[contractCheck]?.nPings == 1)
            #expect(states[other]?.status == .paused)
            try reopened.close()
        }
    }

    @Test("identity: assigned UUIDs, generated ping keys and the applied catalog survive a reopen")
    func identity() async throws {
        try await withEachStore { subject in
            let store = try subject.open()
            var registry = try store.loadRegistry()
            let assigned = try registry.assign([CheckIdentity(project: "ops", key: "backup"), CheckIdentity(project: "web", key: "site")])
            var keys = try store.loadPingKeys()
            let key = try keys.key(for: "ops")
            let applied = AppliedCatalog(
                checks: [AppliedCatalog.Check(uuid: contractCheck, project: "ops", key: "backup", name: "Backup", slug: "backup", settings: ["timeout": "1h"])],
                appliedAt: contractT0)
            try store.save(applied)
            try store.close()
            let reopened = try subject.open()
            let again = try reopened.loadRegistry()
            for (identity, uuid) in assigned { #expect(again.uuid(for: identity) == uuid, "\(subject.name)") }
            var keysAgain = try reopened.loadPingKeys()
            #expect(try keysAgain.key(for: "ops") == key)
            #expect(try reopened.loadAppliedCatalog() == applied)
            try reopened.close()
        }
    }

    @Test("a retired check's pings leave the live set; a closed store refuses records and says it is closed")
    func retireAndClose() async throws {
        try await withEachStore { subject in
            let store = try subject.open()
            try await store.record(contractPing(1), of: contractCheck)
            try store.retire(contractCheck)
            #expect(try store.pings(of: contractCheck, limit: 5).isEmpty, "\(subject.name)")
            #expect(store.isOpen)
            try store.close()
            #expect(!store.isOpen)
            await #expect(throws: (any Error).self) { try await store.record(contractPing(2), of: contractCheck) }
        }
    }
}
