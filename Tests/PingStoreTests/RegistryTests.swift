import Foundation
import Monitoring
import Testing

@testable import PingStore

@Suite("Registry and ping keys")
struct RegistryTests {
    let backup = CheckIdentity(project: "ops", key: "db-backup")
    let worker = CheckIdentity(project: "ops", key: "queue-worker")

    @Test("UUIDs are assigned on first sight, kept across loads, and v4")
    func assignAndReload() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            var registry = try Registry.load(from: dir.data)
            #expect(registry.uuid(for: backup) == nil)
            let uuid = try registry.assign(backup)
            #expect(try registry.assign(backup) == uuid, "the same identity keeps its UUID")
            #expect(uuid.uuidString.lowercased().dropFirst(14).first == "4")
            let both = try registry.assign([backup, worker])
            #expect(both[backup] == uuid && both[worker] != nil && both[worker] != uuid)
            let reloaded = try Registry.load(from: dir.data)
            #expect(reloaded == registry)
            #expect(reloaded.uuid(for: worker) == both[worker])
            #expect(try readText(dir.data.registry).contains("\"db-backup\""))
        }
    }

    @Test("a retired UUID is never handed out again, even to the same identity")
    func retiredNeverReused() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            var registry = try Registry.load(from: dir.data)
            let first = try registry.assign(backup)
            #expect(try registry.retire(backup, at: 5) == first)
            #expect(try registry.retire(backup, at: 6) == nil, "retiring twice does nothing")
            #expect(registry.isRetired(first))
            let second = try registry.assign(backup)
            #expect(second != first)
            let reloaded = try Registry.load(from: dir.data)
            #expect(reloaded.isRetired(first))
            #expect(reloaded.retired.map(\.identity) == [backup])
            #expect(reloaded.uuid(for: backup) == second)
        }
    }

    @Test("several identities are retired in one write; unknown ones are skipped")
    func retireMany() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            var registry = try Registry.load(from: dir.data)
            let assigned = try registry.assign([backup, worker])
            let stranger = CheckIdentity(project: "ops", key: "never-seen")
            let retired = try registry.retire([backup, stranger, worker], at: 7)
            #expect(retired == assigned)
            #expect(registry.checks.isEmpty)
            let reloaded = try Registry.load(from: dir.data)
            #expect(reloaded == registry)
            #expect(reloaded.retired.map(\.identity) == [backup, worker])
            #expect(reloaded.retired.allSatisfy { $0.time == 7 })
        }
    }

    @Test("a damaged registry is an error naming the file, not an empty registry")
    func damagedRegistry() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            try Data("{\"v\":1,\"checks\":[{\"project\":\"ops\"".utf8).write(to: URL(fileURLWithPath: dir.data.registry))
            do {
                _ = try Registry.load(from: dir.data)
                Issue.record("a damaged registry must not load")
            } catch let error as StoreError {
                #expect(error.kind == .corrupt)
                #expect(error.description.contains("registry.json"))
            }
            try Data(#"{"v":1,"checks":[{"project":"ops","key":"x","uuid":"nope"}],"retired":[]}"#.utf8)
                .write(to: URL(fileURLWithPath: dir.data.registry))
            #expect(throws: StoreError.self) { try Registry.load(from: dir.data) }
        }
    }

    @Test("ping keys are 22 characters of a-z0-9, generated once per project, in a 0600 file")
    func pingKeys() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            var keys = try PingKeys.load(from: dir.data)
            let ops = try keys.key(for: "ops")
            #expect(ops.count == 22)
            #expect(ops.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) })
            #expect(try keys.key(for: "ops") == ops)
            let other = try keys.key(for: "other")
            #expect(other != ops)
            let reloaded = try PingKeys.load(from: dir.data)
            #expect(reloaded.keys == ["ops": ops, "other": other])
            let attributes = try FileManager.default.attributesOfItem(atPath: dir.data.pingKeys)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
    }
}
