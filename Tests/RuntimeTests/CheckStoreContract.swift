import Alerting
import CheckCatalog
import Foundation
import Logging
import Monitoring
import PingStore
import PostgresStore
import Testing
import TestSupport

@testable import Runtime

/// A store implementation under test: `open` gives the store at one location (after the one
/// opened before was closed), so a test can write, close, reopen and read back.
protocol StoreUnderTest: Sendable {
    var name: String { get }
    func open() async throws -> any CheckStore
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

/// The PostgreSQL store in a fresh database of the tests' private cluster.
struct PostgresStoreUnderTest: StoreUnderTest {
    let url: String
    var name: String { "postgres" }

    init(url: String) {
        self.url = url
    }

    func open() async throws -> any CheckStore {
        try await PostgresStore.open(PostgresLocation(url), keepPings: 1_000, logger: Logger(label: "contract"))
    }

    func remove() {}
}

/// Every store implementation the contract runs against (PostgreSQL's skips where it is not
/// installed, except under CI=true).
let contractStores: [@Sendable () async throws -> (any StoreUnderTest)?] = [
    { FileStoreUnderTest() },
    {
        do {
            return PostgresStoreUnderTest(url: try await SharedPostgres.database("contract"))
        } catch is SharedPostgres.Unavailable {
            return nil
        }
    },
]

let contractT0: Int64 = 1_790_000_000_000_000
/// A check the file store's own tests use without registering it.
let contractCheck = UUID(uuidString: "5d1f6e7a-0b0e-4a5e-9a21-3f2c4c8e00c1")!

func contractPing(_ n: Int, _ kind: Ping.Kind = .success) -> Ping {
    Ping(
        n: n, time: contractT0 + Int64(n) * 1_000_000, kind: kind, method: "GET", scheme: "http", remoteAddress: "127.0.0.1",
        userAgent: "contract", body: "ping \(n)", bodySize: "ping \(n)".utf8.count)
}

func contractAlert(_ channel: String, _ direction: Channel.Direction, flipTime: Int64, check: UUID = contractCheck) -> Alert {
    let values = AlertValues(
        name: "Backup", slug: "backup", code: check.uuidString.lowercased(), status: direction.rawValue, now: "", tags: "",
        project: "ops", exitStatus: "", body: "")
    return Alert(check: check, project: "ops", channel: channel, direction: direction, flipTime: flipTime, created: flipTime, values: values)
}

/// The UUID a store assigns to `ops/<key>`: stores record only checks their registry knows.
func register(_ key: String = "backup", in store: any CheckStore) async throws -> UUID {
    var registry = try await store.loadRegistry()
    let identity = CheckIdentity(project: "ops", key: key)
    return try #require(try await store.assign([identity], in: &registry, at: contractT0)[identity])
}

/// Runs `body` on a fresh store of each implementation, removing it afterwards.
func withEachStore(_ body: (any StoreUnderTest) async throws -> Void) async throws {
    for make in contractStores {
        guard let subject = try await make() else { continue }
        defer { subject.remove() }
        try await body(subject)
    }
}

/// The storage contract (issues 19, 20): what the runtime relies on from any store.
@Suite("Check store contract")
struct CheckStoreContract {
    @Test("pings come back newest first, by number, and after a reopen; an unknown number is nil")
    func pings() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            let check = try await register(in: store)
            for n in 1...3 { try await store.record(contractPing(n), of: check) }
            #expect(try await store.pings(of: check, limit: 2).map(\.n) == [3, 2], "\(subject.name)")
            #expect(try await store.ping(of: check, n: 2)?.body == "ping 2")
            #expect(try await store.ping(of: check, n: 9) == nil)
            #expect(try await store.pings(of: UUID(), limit: 5).isEmpty)
            try await store.close()
            let reopened = try await subject.open()
            #expect(try await reopened.pings(of: check, limit: 10).map(\.n) == [3, 2, 1])
            #expect(try await reopened.ping(of: check, n: 1) == contractPing(1))
            try await reopened.close()
        }
    }

    @Test("a check's records are stored in the order of the calls, without waiting for each")
    func order() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            let check = try await register(in: store)
            let count = 300
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The calls are made one after the other; their completions may come in any order.
                for n in 1...count {
                    let ping = contractPing(n)
                    let stored = AsyncThrowingStream<Void, any Error>.makeStream()
                    store.record(ping, of: check, flip: nil, alerts: []) { error in
                        if let error { stored.continuation.finish(throwing: error) } else { stored.continuation.finish() }
                    }
                    group.addTask { for try await _ in stored.stream {} }
                }
                try await group.waitForAll()
            }
            #expect(try await store.pings(of: check, limit: count).map(\.n) == Array((1...count).reversed()), "\(subject.name)")
            try await store.close()
        }
    }

    @Test("a flip is stored with its alerts: both are read back, the alerts are claimed once, delivered ones never again")
    func flipWithAlerts() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            let check = try await register(in: store)
            let flipTime = contractT0 + 5_000_000
            let flip = Flip(time: flipTime, old: .up, new: .down, reason: .fail)
            let alerts = [contractAlert("hook", .down, flipTime: flipTime, check: check), contractAlert("pager", .down, flipTime: flipTime, check: check)]
            try await store.record(contractPing(1, .fail), of: check, flip: flip, alerts: alerts)
            #expect(try await store.flips(of: check, limit: 5).map(\.flip) == [flip], "\(subject.name)")
            let claimed = await store.alerts.claimDue(at: flipTime)
            #expect(Set(claimed.map(\.id)) == Set(alerts.map(\.id)), "\(subject.name)")
            #expect(claimed.first.map { $0 == alerts.first { $0.id == claimed.first?.id } } == true, "an alert comes back as it was queued")
            #expect(await store.alerts.claimDue(at: flipTime).isEmpty, "claimed alerts are not claimed twice")
            for alert in claimed {
                let outcome = try await store.alerts.complete(alert.id, with: Attempt(time: flipTime, outcome: .delivered, statusCode: 200))
                #expect(outcome == .delivered)
            }
            #expect(await store.alerts.nextDue() == nil, "nothing is pending (\(subject.name))")
            try await store.close()
            let reopened = try await subject.open()
            #expect(await reopened.alerts.claimDue(at: flipTime + 3_600_000_000).isEmpty, "delivered alerts stay delivered")
            #expect(try await reopened.flips(of: check, limit: 5).map(\.flip) == [flip])
            try await reopened.close()
        }
    }

    @Test("an alert not yet delivered is pending after a reopen; a released one is claimed again; a failed attempt is retried later")
    func pendingAlerts() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            let check = try await register(in: store)
            let flipTime = contractT0 + 9_000_000
            let alert = contractAlert("hook", .down, flipTime: flipTime, check: check)
            try await store.record(Flip(time: flipTime, old: .up, new: .down, reason: .timeout), of: check, alerts: [alert])
            try await store.close()
            let reopened = try await subject.open()
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
            try await reopened.close()
        }
    }

    @Test("a check's alerts come back newest first with their attempts; a test is tried once, outside its channel's order")
    func notifications() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            let check = try await register(in: store)
            let flipTime = contractT0 + 20_000_000
            let down = contractAlert("hook", .down, flipTime: flipTime, check: check)
            try await store.record(Flip(time: flipTime, old: .up, new: .down, reason: .timeout), of: check, alerts: [down])
            #expect(await store.alerts.claimDue(at: flipTime).map(\.id) == [down.id], "\(subject.name)")
            let failed = Attempt(time: flipTime, outcome: .failed, statusCode: 502, error: "the receiver answered HTTP 502", duration: 1_500)
            guard case .retry(let at) = try await store.alerts.complete(down.id, with: failed) else {
                Issue.record("a failed first attempt is retried (\(subject.name))")
                return
            }
            // The down alert waits for its retry; a test through the same channel goes out now.
            var test = contractAlert("hook", .down, flipTime: flipTime + 1, check: check)
            test.test = true
            try await store.alerts.enqueue(test)
            #expect(await store.alerts.claimDue(at: flipTime + 1).map(\.id) == [test.id], "\(subject.name)")
            let refused = Attempt(time: flipTime + 2, outcome: .failed, error: "535 authentication failed", permanent: true)
            #expect(try await store.alerts.complete(test.id, with: refused) == .gaveUp, "a test is tried once")
            #expect(try await store.alerts.record(of: test.id)?.state == .gaveUp, "\(subject.name)")
            #expect(try await store.alerts.record(of: test.id)?.attempts == [refused], "\(subject.name)")
            #expect(try await store.alerts.record(of: UUID()) == nil)
            let history = try await store.alerts.history(of: check, limit: 10)
            #expect(history.map(\.alert.id) == [test.id, down.id], "newest first (\(subject.name))")
            #expect(history.map(\.state) == [.gaveUp, .pending])
            #expect(history.last?.attempts == [failed])
            #expect(history.last?.nextAttempt == at)
            #expect(history.first?.alert.test == true)
            #expect(try await store.alerts.history(of: check, limit: 1).map(\.alert.id) == [test.id])
            #expect(try await store.alerts.history(of: UUID(), limit: 10).isEmpty)
            try await store.close()
        }
    }

    @Test("a pinned UUID is what a new check gets, kept after a reopen; the other checks get fresh ones")
    func pinnedUUID() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            var registry = try await store.loadRegistry()
            let pinned = CheckIdentity(project: "ops", key: "imported")
            let other = CheckIdentity(project: "ops", key: "native")
            let pin = UUID(uuidString: "5a1b0c9e-2f4d-4f6a-8e2b-1c3d4e5f6a7b")!
            let assigned = try await store.assign([pinned, other], pinned: [pinned: pin], in: &registry, at: contractT0)
            #expect(assigned[pinned] == pin, "\(subject.name)")
            #expect(assigned[other] != nil && assigned[other] != pin)
            try await store.record(contractPing(1), of: pin)
            try await store.close()
            let reopened = try await subject.open()
            #expect(try await reopened.loadRegistry().uuid(for: pinned) == pin, "\(subject.name)")
            #expect(try await reopened.pings(of: pin, limit: 5).map(\.n) == [1])
            // A known check taking another pinned UUID (as the applier does it): its old UUID is
            // retired first, then the identity is assigned the pin.
            var known = try await reopened.loadRegistry()
            let old = try #require(known.uuid(for: other))
            let repin = UUID(uuidString: "0b7c4a5e-0000-4000-8000-00000000000a")!
            try await reopened.retire([other], in: &known, at: contractT0 + 1)
            #expect(try await reopened.assign([pinned, other], pinned: [pinned: pin, other: repin], in: &known, at: contractT0 + 1)[other] == repin)
            try await reopened.close()
            let third = try await subject.open()
            let after = try await third.loadRegistry()
            #expect(after.uuid(for: other) == repin, "\(subject.name)")
            #expect(after.isRetired(old), "\(subject.name)")
            try await third.close()
        }
    }

    @Test("a start rebuilds each check's state from its records: last ping, status, a runtime pause")
    func states() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            let check = try await register(in: store)
            let other = try await register("other", in: store)
            try await store.record(contractPing(1), of: check, flip: Flip(time: contractT0 + 1_000_000, old: .new, new: .up, reason: .ping))
            try await store.record(contractPing(1), of: other, flip: Flip(time: contractT0 + 1_000_000, old: .new, new: .up, reason: .ping))
            try await store.record(Flip(time: contractT0 + 2_000_000, old: .up, new: .paused, reason: .pause), of: other, alerts: [])
            try await store.close()
            let reopened = try await subject.open()
            let states = try await reopened.loadStates()
            #expect(states[check]?.status == .up, "\(subject.name)")
            #expect(states[check]?.lastPing == contractT0 + 1_000_000)
            #expect(states[check]?.nPings == 1)
            #expect(states[other]?.status == .paused)
            try await reopened.close()
        }
    }

    @Test("identity: assigned UUIDs, generated ping keys and the applied catalog survive a reopen")
    func identity() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            var registry = try await store.loadRegistry()
            let identities = [CheckIdentity(project: "ops", key: "backup"), CheckIdentity(project: "web", key: "site")]
            let assigned = try await store.assign(identities, in: &registry, at: contractT0)
            #expect(assigned.byIdentity.count == 2 && Set(assigned.byIdentity.values).count == 2, "\(subject.name)")
            // (A store may also hand them back in the order asked; then they are the same.)
            if let inOrder = assigned.inOrder { #expect(inOrder == identities.map { assigned[$0] }, "\(subject.name)") }
            #expect(try await store.assign(identities, in: &registry, at: contractT0).byIdentity == assigned.byIdentity, "known identities keep their UUIDs")
            var keys = try await store.loadPingKeys()
            let key = try await store.pingKey(for: "ops", avoiding: [], in: &keys)
            #expect(key.count == PingKeys.length)
            let applied = AppliedCatalog(
                checks: [AppliedCatalog.Check(uuid: assigned[identities[0]]!, project: "ops", key: "backup", name: "Backup", slug: "backup", settings: ["timeout": "1h"])],
                appliedAt: contractT0)
            try await store.save(applied)
            try await store.close()
            let reopened = try await subject.open()
            let again = try await reopened.loadRegistry()
            for (identity, uuid) in assigned.byIdentity { #expect(again.uuid(for: identity) == uuid, "\(subject.name)") }
            var keysAgain = try await reopened.loadPingKeys()
            #expect(try await reopened.pingKey(for: "ops", avoiding: [], in: &keysAgain) == key)
            #expect(try await reopened.loadAppliedCatalog() == applied)
            try await reopened.close()
        }
    }

    @Test("a retired check leaves the live states and its UUID is never assigned again; a closed store refuses records")
    func retireAndClose() async throws {
        try await withEachStore { subject in
            let store = try await subject.open()
            let check = try await register(in: store)
            try await store.record(contractPing(1), of: check)
            var registry = try await store.loadRegistry()
            try await store.retire([CheckIdentity(project: "ops", key: "backup")], in: &registry, at: contractT0 + 1)
            try await store.retire(check)
            #expect(try await store.loadStates()[check] == nil, "\(subject.name)")
            #expect(try await store.loadRegistry().isRetired(check))
            let again = try await register(in: store)
            #expect(again != check, "a re-added check gets a new UUID")
            #expect(store.isOpen)
            try await store.close()
            #expect(!store.isOpen)
            await #expect(throws: (any Error).self) { try await store.record(contractPing(2), of: again) }
        }
    }
}
