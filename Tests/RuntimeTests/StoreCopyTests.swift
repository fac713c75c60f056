import Alerting
import Foundation
import Logging
import Monitoring
import PingStore
import PostgresStore
import Testing
import TestSupport

@testable import Runtime

/// `kiothc store copy` (issue 20) between real data directories and a real PostgreSQL: a round
/// trip keeps every file byte for byte, the verification finds tampering and names the check,
/// and a non-empty target or a source in use is refused.
@Suite("Store copy", .serialized)
struct StoreCopyTests {
    static let t0: Int64 = 1_790_000_000_000_000
    static let logger = Logger(label: "store-copy-test")

    /// A data directory written through FileStore: ops/backup (a start, a success with a
    /// non-ASCII body and a duration, a fail with a NUL in its body that flips it down with a
    /// pending alert), ops/paused (a success, then paused), ops/gone (two pings, then retired),
    /// a generated ping key and an applied catalog.
    struct Fixture {
        let root: String
        let backup: UUID
        let paused: UUID
        let gone: UUID

        static func make() async throws -> Fixture {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-copy-\(UUID().uuidString)").path
            let data = DataDirectory(root)
            let store = try FileStore.open(data, options: PingStore.Options(durability: .fsync, maintenanceInterval: nil), now: t0)
            var registry = try store.loadRegistry()
            let identities = ["backup", "paused", "gone"].map { CheckIdentity(project: "ops", key: $0) }
            let uuids = try await store.assign(identities, in: &registry, at: t0)
            let (backup, paused, gone) = (uuids[identities[0]]!, uuids[identities[1]]!, uuids[identities[2]]!)
            var keys = try store.loadPingKeys()
            _ = try await store.pingKey(for: "ops", avoiding: [], in: &keys)
            try await store.save(AppliedCatalog(
                checks: [AppliedCatalog.Check(uuid: backup, project: "ops", key: "backup", name: "Backup", slug: "backup", settings: ["timeout": "3600"])],
                appliedAt: t0))

            let rid = UUID()
            try await store.record(ping(1, .start, body: "", rid: rid), of: backup)
            try await store.record(ping(2, .success, body: "héllo wörld ✓ 日本", rid: rid, duration: 1_500_000), of: backup, flip: Flip(time: t0 + 2_000_000, old: .new, new: .up, reason: .ping))
            let down = Flip(time: t0 + 3_000_000, old: .up, new: .down, reason: .fail)
            try await store.record(
                ping(3, .fail, body: "exit 1\u{0}after a NUL", exitStatus: 1), of: backup, flip: down,
                alerts: [alert(backup, flipTime: down.time)])
            try await store.record(ping(1, .success, body: "ok"), of: paused, flip: Flip(time: t0 + 1_000_000, old: .new, new: .up, reason: .ping))
            try await store.record(Flip(time: t0 + 5_000_000, old: .up, new: .paused, reason: .pause), of: paused, alerts: [])
            try await store.record(ping(1, .success, body: "first"), of: gone)
            try await store.record(ping(2, .log, body: nil), of: gone)
            try await store.retire([identities[2]], in: &registry, at: t0 + 9_000_000)
            try await store.retire(gone)
            try store.close()
            try await store.outbox.close()
            return Fixture(root: root, backup: backup, paused: paused, gone: gone)
        }

        static func ping(_ n: Int, _ kind: Ping.Kind, body: String?, rid: UUID? = nil, duration: Int64? = nil, exitStatus: Int? = nil) -> Ping {
            Ping(
                n: n, time: t0 + Int64(n) * 1_000_000, kind: kind, method: "POST", scheme: "https", remoteAddress: "192.0.2.7",
                userAgent: "curl/8 (ünïcode)", body: body, bodySize: body?.utf8.count ?? 42, exitStatus: exitStatus, rid: rid, duration: duration)
        }

        static func alert(_ check: UUID, flipTime: Int64) -> Alert {
            let values = AlertValues(
                name: "Backup", slug: "backup", code: check.lowercasedText, status: "down", now: "", tags: "", project: "ops", exitStatus: "1", body: "")
            return Alert(check: check, project: "ops", channel: "hook", direction: .down, flipTime: flipTime, created: flipTime, values: values)
        }
    }

    static func database() async throws -> String? {
        do {
            return try await SharedPostgres.database("copy")
        } catch is SharedPostgres.Unavailable {
            return nil
        }
    }

    static func psql(_ url: String, _ command: String) async throws -> String {
        let name = try PostgresLocation(url).database
        return try await onOwnThread { try SharedPostgres.cluster().psql(database: name, command: command) }
    }

    /// Every regular file under `root` (relative path → bytes), the lock and recovery markers
    /// left out.
    static func files(_ root: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let base = URL(fileURLWithPath: root).standardizedFileURL.path
        let enumerator = FileManager.default.enumerator(atPath: base)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: base + "/" + relative, isDirectory: &isDirectory)
            guard !isDirectory.boolValue else { continue }
            result[relative] = try Data(contentsOf: URL(fileURLWithPath: base + "/" + relative))
        }
        return result
    }

    @Test("files → PostgreSQL → files: every ping, flip, key and UUID equal byte for byte, the pause and the pending alert kept, verified")
    func roundTrip() async throws {
        guard let url = try await Self.database() else { return }
        let fixture = try await Fixture.make()
        let back = fixture.root + "-back"
        defer {
            try? FileManager.default.removeItem(atPath: fixture.root)
            try? FileManager.default.removeItem(atPath: back)
        }
        let location = try PostgresLocation(url)
        let into = try await StoreCopy.run(from: .directory(fixture.root), to: .database(location), now: Self.t0, logger: Self.logger)
        #expect(into.matches, "\(into.mismatches)")
        #expect(into.rows.map(\.check).sorted() == ["ops/backup", "ops/gone", "ops/paused"])
        #expect(into.rows.first { $0.uuid == fixture.backup }.map { ($0.pings.target, $0.flips.target) } ?? (0, 0) == (3, 2))
        #expect(into.alerts == (1, 1))

        // What a server on the database sees.
        let database = try await PostgresStore.openExisting(location, logger: Self.logger)
        let states = try await database.loadStates()
        #expect(states[fixture.paused]?.status == .paused)
        #expect(states[fixture.backup]?.status == .down && states[fixture.backup]?.nPings == 3)
        #expect(try await database.alertQueue.pendingCount() == 1)
        #expect(try await database.pings(of: fixture.backup, limit: 5).first?.body == "exit 1\u{0}after a NUL")
        let registry = try await database.loadRegistry()
        #expect(registry.retired.map(\.uuid) == [fixture.gone])
        #expect(try await database.pings(of: fixture.gone, limit: 5).count == 2)
        #expect(try await database.loadPingKeys().keys == PingKeys.load(from: DataDirectory(fixture.root)).keys)
        await database.closeConnections()

        let out = try await StoreCopy.run(from: .database(location), to: .directory(back), now: Self.t0, logger: Self.logger)
        #expect(out.matches, "\(out.mismatches)")
        let original = try Self.files(fixture.root)
        let copied = try Self.files(back)
        for name in original.keys.sorted()
        where name.hasPrefix("pings/") || name.hasPrefix("flips/") || name.hasPrefix("retired/") || name.hasSuffix(".json") {
            #expect(copied[name] == original[name], "\(name) differs after the round trip")
        }
        #expect(copied.keys.contains("retired/\(fixture.gone.lowercasedText).jsonl"))
        let pending = try Outbox.entries(directory: back + "/alerts").filter { $0.nextAttempt != nil }
        #expect(pending.map(\.alert.check) == [fixture.backup])
        // A server starting on the copy rebuilds the same states.
        let reopened = try FileStore.open(DataDirectory(back), options: PingStore.Options(maintenanceInterval: nil), now: Self.t0)
        let fileStates = try reopened.loadStates()
        #expect(fileStates[fixture.paused]?.status == .paused)
        #expect(fileStates[fixture.backup]?.status == .down)
        try reopened.close()
        try await reopened.outbox.close()
    }

    @Test("a tampered copy fails verification naming the check: a ping row deleted, a body changed")
    func tampered() async throws {
        guard let url = try await Self.database() else { return }
        let fixture = try await Fixture.make()
        defer { try? FileManager.default.removeItem(atPath: fixture.root) }
        let location = try PostgresLocation(url)
        #expect(try await StoreCopy.run(from: .directory(fixture.root), to: .database(location), now: Self.t0, logger: Self.logger).matches)
        #expect(try await StoreCopy.verify(.directory(fixture.root), against: .database(location), logger: Self.logger).matches)

        _ = try await Self.psql(url, "DELETE FROM kiothc_pings WHERE check_uuid = '\(fixture.backup.lowercasedText)' AND n = 2")
        var verification = try await StoreCopy.verify(.directory(fixture.root), against: .database(location), logger: Self.logger)
        #expect(!verification.matches)
        #expect(verification.mismatches == ["ops/backup (\(fixture.backup.lowercasedText)): 3 pings in the source, 2 in the target"])
        #expect(verification.table().contains("MISMATCH"))

        _ = try await Self.psql(url, "UPDATE kiothc_pings SET body = convert_to('OK', 'UTF8') WHERE check_uuid = '\(fixture.paused.lowercasedText)'")
        verification = try await StoreCopy.verify(.directory(fixture.root), against: .database(location), logger: Self.logger)
        #expect(verification.mismatches.contains("ops/paused (\(fixture.paused.lowercasedText)): pings differ (first: ping 1)"), "\(verification.mismatches)")
        #expect(verification.mismatches.count == 2)
    }

    @Test("refused: a non-empty database or directory as target, a source directory a server holds, a source database with servers connected")
    func refusals() async throws {
        guard let url = try await Self.database() else { return }
        let fixture = try await Fixture.make()
        let other = fixture.root + "-other"
        defer {
            try? FileManager.default.removeItem(atPath: fixture.root)
            try? FileManager.default.removeItem(atPath: other)
        }
        let location = try PostgresLocation(url)
        #expect(try await StoreCopy.run(from: .directory(fixture.root), to: .database(location), now: Self.t0, logger: Self.logger).matches)
        let rows = try await Self.psql(url, "SELECT count(*) FROM kiothc_pings")

        await #expect {
            _ = try await StoreCopy.run(from: .directory(fixture.root), to: .database(location), now: Self.t0, logger: Self.logger)
        } throws: { error in
            "\(error)".contains("is not empty (3 checks, 1 ping keys, 1 alerts, an applied configuration): copy into a database without kiothc data")
        }
        #expect(try await Self.psql(url, "SELECT count(*) FROM kiothc_pings") == rows, "the refused copy wrote nothing")

        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: other + "/notes.txt"))
        await #expect {
            _ = try await StoreCopy.run(from: .database(location), to: .directory(other), now: Self.t0, logger: Self.logger)
        } throws: { error in
            "\(error)".contains("the target '\(other)' is not empty (notes.txt): copy into a new or empty directory")
        }

        let lock = try DataDirectoryLock.acquire(DataDirectory(fixture.root))
        await #expect {
            _ = try await StoreCopy.run(from: .directory(fixture.root), to: .database(location), now: Self.t0, logger: Self.logger)
        } throws: { error in
            "\(error)".contains("a server (pid \(getpid())) is using '\(fixture.root)' (it holds serve.lock): stop it, then copy")
        }
        lock.release()

        // A server's connections (application_name kiothc) keep a copy from the database.
        let server = try await PostgresStore.open(location, keepPings: 10, logger: Self.logger)
        try FileManager.default.removeItem(atPath: other)
        await #expect {
            _ = try await StoreCopy.run(from: .database(location), to: .directory(other), now: Self.t0, logger: Self.logger)
        } throws: { error in
            "\(error)".contains("kiothc servers are connected to \(location): stop them, then copy (connections: pid ")
        }
        #expect(!FileManager.default.fileExists(atPath: other), "nothing was written")
        await server.closeConnections()
    }

    @Test("a held alert is copied held and a released one released, both ways; a marked flip is copied as it is")
    func heldAlerts() async throws {
        guard let url = try await Self.database() else { return }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-copy-\(UUID().uuidString)").path
        let back = root + "-back"
        defer {
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: back)
        }
        let store = try FileStore.open(DataDirectory(root), options: PingStore.Options(durability: .fsync, maintenanceInterval: nil), now: Self.t0)
        var registry = try store.loadRegistry()
        let identity = CheckIdentity(project: "ops", key: "backup")
        let check = try #require(try await store.assign([identity], in: &registry, at: Self.t0)[identity])
        let down = Flip(time: Self.t0 + 3_000_000, old: .up, new: .down, reason: .timeout, maintenance: true, suppressedBy: ["ops/db"])
        var held = Fixture.alert(check, flipTime: down.time)
        held.hold = AlertHold(maintenance: true, dependencies: ["ops/db"])
        var released = Fixture.alert(check, flipTime: down.time)
        released.channel = "pager"
        released.hold = AlertHold(maintenance: true)
        try await store.record(down, of: check, alerts: [held, released])
        #expect(try await store.outbox.settle([released.id: .send], at: Self.t0 + 4_000_000) == [released.id])
        try store.close()
        try await store.outbox.close()

        let location = try PostgresLocation(url)
        let into = try await StoreCopy.run(from: .directory(root), to: .database(location), now: Self.t0, logger: Self.logger)
        #expect(into.matches, "\(into.mismatches)")
        let database = try await PostgresStore.openExisting(location, logger: Self.logger)
        #expect(try await database.alertQueue.heldBack() == [HeldBackAlert(alert: held, held: true)])
        #expect(await database.alertQueue.claimDue(at: Self.t0 + 5_000_000).map(\.id) == [released.id])
        await database.alertQueue.release(released.id)
        #expect(try await database.flips(of: check, limit: 5).map(\.flip) == [down])
        await database.closeConnections()

        let out = try await StoreCopy.run(from: .database(location), to: .directory(back), now: Self.t0, logger: Self.logger)
        #expect(out.matches, "\(out.mismatches)")
        #expect(try Self.files(back)["flips/\(check.lowercasedText).jsonl"] == Self.files(root)["flips/\(check.lowercasedText).jsonl"])
        let outbox = try Outbox(directory: back + "/alerts", now: Self.t0 + 6_000_000)
        #expect(await outbox.heldBack() == [HeldBackAlert(alert: held, held: true)])
        #expect(await outbox.takeDue(at: Self.t0 + 6_000_000).map(\.id) == [released.id])
        try await outbox.close()
    }
}
