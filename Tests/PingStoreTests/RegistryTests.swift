import Foundation
import Monitoring
import Dispatch
import Synchronization
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

    @Test("into a registry with no check: an identity listed twice keeps one UUID, a retired pin is refused, a pin taken twice once")
    func firstAssignment() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            var registry = try Registry.load(from: dir.data)
            let retired = try registry.assign(backup)
            try registry.retire(backup, at: 5)
            #expect(registry.checks.isEmpty && registry.retired.count == 1)
            let other = CheckIdentity(project: "ops", key: "other")
            let pin = UUID(uuidString: "00000000-0000-4000-8000-0000000000aa")!
            let assigned = try registry.assign([worker, backup, worker, other], pinned: [backup: retired, worker: pin, other: pin])
            #expect(assigned.count == 3)
            #expect(assigned[worker] == pin, "the first to pin it has it")
            #expect(assigned[backup] != retired && assigned[other] != pin && assigned[backup] != assigned[other])
            #expect(try Registry.load(from: dir.data) == registry)
            #expect(try Registry.load(from: dir.data).checks == assigned)
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

    @Test("registry.json holds one check per line, loads back, and any JSON reader takes it")
    func linedLayout() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            var registry = try Registry.load(from: dir.data)
            let odd = CheckIdentity(project: "ops", key: "quote\"back\\slash")
            let assigned = try registry.assign([backup, worker, odd])
            try registry.retire(worker, at: 1_700_000_000_000_001)
            let text = try readText(dir.data.registry)
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines.first == "{" && lines.last == "}")
            #expect(lines.contains("    {\"key\":\"db-backup\",\"project\":\"ops\",\"uuid\":\"\(DataDirectory.name(assigned[backup]!))\"},"))
            #expect(lines.contains("    {\"key\":\"queue-worker\",\"project\":\"ops\",\"retired_us\":1700000000000001,\"uuid\":\"\(DataDirectory.name(assigned[worker]!))\"}"))
            #expect(try Registry.load(from: dir.data) == registry)
            let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            #expect((parsed?["checks"] as? [Any])?.count == 2 && (parsed?["retired"] as? [Any])?.count == 1 && parsed?["v"] as? Int == 1)
        }
    }

    @Test("a registry in another layout still loads: Foundation's pretty printer (before 0.25), one line, reordered keys, upper-case UUIDs")
    func otherLayouts() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let pretty = """
                {
                  "checks" : [
                    {
                      "key" : "db-backup",
                      "project" : "ops",
                      "uuid" : "6f9619ff-8b86-4011-b42d-00c04fc964ff"
                    }
                  ],
                  "retired" : [
                    {
                      "key" : "queue-worker",
                      "project" : "ops",
                      "retired_us" : 5,
                      "uuid" : "00000000-0000-4000-8000-000000000001"
                    }
                  ],
                  "v" : 1
                }

                """
            let oneLine = #"{"v":1,"retired":[{"uuid":"00000000-0000-4000-8000-000000000001","project":"ops","key":"queue-worker","retired_us":5}],"checks":[{"uuid":"6F9619FF-8B86-4011-B42D-00C04FC964FF","key":"db-backup","project":"ops"}]}"#
            let expected = Registry(
                checks: [backup: UUID(uuidString: "6f9619ff-8b86-4011-b42d-00c04fc964ff")!],
                retired: [Registry.Retired(uuid: UUID(uuidString: "00000000-0000-4000-8000-000000000001")!, identity: worker, time: 5)])
            for text in [pretty, oneLine] {
                try Data(text.utf8).write(to: URL(fileURLWithPath: dir.data.registry))
                var loaded = try Registry.load(from: dir.data)
                #expect(loaded == expected && !loaded.isCurrentLayout)
                // The server's start rewrites it a line per check; the same registry loads back.
                try loaded.upgradeLayout()
                #expect(try readText(dir.data.registry).contains("\n    {\"key\":\"db-backup\",\"project\":\"ops\",\"uuid\":"))
                let upgraded = try Registry.load(from: dir.data)
                #expect(upgraded == expected && upgraded.isCurrentLayout)
            }
        }
    }

    @Test("lines of the current layout the quick reader does not take (escapes, spaces, upper case, other order) are read as JSON")
    func linesReadAsJSON() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let uuids = ["1", "2", "3", "4", "a", "6"].map { UUID(uuidString: "00000000-0000-4000-8000-00000000000\($0)")! }
            let lines = [
                #"{"key":"plain","project":"ops","uuid":"00000000-0000-4000-8000-000000000001"}"#,
                #"{"key":"quo\"ted","project":"ops","uuid":"00000000-0000-4000-8000-000000000002"}"#,
                #"{"key":"caf\u00e9","project":"ops","uuid":"00000000-0000-4000-8000-000000000003"}"#,
                #"{"key": "spaced", "project": "ops", "uuid": "00000000-0000-4000-8000-000000000004"}"#,
                #"{"key":"upper","project":"ops","uuid":"00000000-0000-4000-8000-00000000000A"}"#,
                #"{"uuid":"00000000-0000-4000-8000-000000000006","project":"ops","key":"reordered"}"#,
            ]
            let text = "{\n  \"checks\" : [\n    " + lines.joined(separator: ",\n    ") + "\n  ],\n  \"retired\" : [],\n  \"v\" : 1\n}\n"
            try Data(text.utf8).write(to: URL(fileURLWithPath: dir.data.registry))
            let loaded = try Registry.load(from: dir.data)
            #expect(loaded.isCurrentLayout)
            let keys = ["plain", "quo\"ted", "café", "spaced", "upper", "reordered"]
            #expect(loaded.checks == Dictionary(uniqueKeysWithValues: zip(keys.map { CheckIdentity(project: "ops", key: $0) }, uuids)))
        }
    }

    @Test("a registry read ahead is current until the file is written again or removed")
    func prefetch() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let none = try Registry.prefetch(from: dir.data)
            #expect(none.registry.checks.isEmpty && none.isCurrent(in: dir.data))
            var registry = try Registry.load(from: dir.data)
            _ = try registry.assign([backup])
            #expect(!none.isCurrent(in: dir.data), "written since")
            let read = try Registry.prefetch(from: dir.data)
            #expect(read.registry == registry && read.isCurrent(in: dir.data))
            _ = try registry.assign([worker])
            #expect(!read.isCurrent(in: dir.data))
            try FileManager.default.removeItem(atPath: dir.data.registry)
            #expect(!read.isCurrent(in: dir.data))
        }
    }

    @Test("a damaged line of a line-per-check registry is an error naming the file and the line's problem")
    func damagedLine() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            var registry = try Registry.load(from: dir.data)
            _ = try registry.assign([backup, worker])
            let text = try readText(dir.data.registry)
            for damaged in [
                text.replacingOccurrences(of: "\"uuid\":", with: "\"uid\":"),
                text.replacingOccurrences(of: "\"key\":\"db-backup\"", with: "\"key\":17"),
                text.replacingOccurrences(of: "\"uuid\":\"", with: "\"uuid\":\"z"),
            ] {
                try Data(damaged.utf8).write(to: URL(fileURLWithPath: dir.data.registry))
                do {
                    _ = try Registry.load(from: dir.data)
                    Issue.record("a damaged registry must not load")
                } catch let error as StoreError {
                    #expect(error.kind == .corrupt)
                    #expect(error.description.contains("registry.json"))
                    #expect(error.description.contains("'uuid'") || error.description.contains("'key'") || error.description.contains("is not a UUID"), "\(error)")
                }
            }
        }
    }

    @Test("the file is the same whatever order the caller hints: its own identities sorted, unsorted, too few, others, repeated")
    func orderHint() throws {
        let identities = (0..<50).map { CheckIdentity(project: $0 % 3 == 0 ? "api" : "ops", key: "job-\($0)") }
        var registry = Registry()
        _ = try registry.assign(identities)
        let expected = registry.encoded()
        let sorted = identities.sorted()
        // Still ascending, but one identity the registry does not hold.
        let other = Array(sorted.dropLast()) + [CheckIdentity(project: "zzz", key: "a")]
        #expect(other.indices.dropFirst().allSatisfy { other[$0 - 1] < other[$0] })
        for hint in [sorted, identities, Array(sorted.dropLast()), other, sorted.map { _ in sorted[0] }, []] {
            #expect(registry.encoded(inOrder: hint) == expected)
        }
    }

    @Test("a first assignment hands the UUIDs back in the order asked only for sorted identities, each once, into a registry with no check")
    func firstAssignmentInOrder() throws {
        let pin = UUID(uuidString: "00000000-0000-4000-8000-0000000000aa")!
        let sorted = ["a", "b", "c", "d"].map { CheckIdentity(project: "ops", key: $0) }
        var registry = Registry()
        let inOrder = try #require(try registry.assignMissing(sorted, pinned: [sorted[2]: pin]))
        #expect(inOrder == sorted.map { registry.checks[$0]! })
        #expect(inOrder[2] == pin && Set(inOrder).count == 4)
        // Unsorted, or listed twice (the second place would hold another draw), or into a
        // registry that holds checks: looked up by the caller instead.
        var unsorted = Registry()
        #expect(try unsorted.assignMissing(sorted.reversed()) == nil && unsorted.checks.count == 4)
        var twice = Registry()
        #expect(try twice.assignMissing([sorted[0], sorted[0], sorted[1]]) == nil && twice.checks.count == 2)
        #expect(try registry.assignMissing(sorted + [CheckIdentity(project: "ops", key: "e")]) == nil && registry.checks.count == 5)
    }

    @Test("after a first assignment the table is built when first read, the same for every copy and thread; a copy changed leaves the others")
    func tableOnFirstRead() throws {
        let identities = (0..<1000).map { CheckIdentity(project: "ops", key: "job-\(1000 + $0)") }
        var registry = Registry()
        let inOrder = try #require(try registry.assignMissing(identities))
        let expected = Dictionary(uniqueKeysWithValues: zip(identities, inOrder))
        #expect(registry.uuid(for: identities[7]) == inOrder[7])
        let copy = registry
        let read = Mutex<[[CheckIdentity: UUID]]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let table = copy.checks
            read.withLock { $0.append(table) }
        }
        #expect(read.withLock { $0 }.count == 4 && read.withLock { $0 }.allSatisfy { $0 == expected })
        var changed = registry
        let added = CheckIdentity(project: "ops", key: "new")
        try changed.assignMissing([added])
        try changed.retire(identities[0], at: 5)
        #expect(changed.checks.count == 1000 && changed.checks[added] != nil && changed.checks[identities[0]] == nil)
        #expect(registry.checks == expected && copy.checks == expected)
    }

    @Test("a registry of 150,001 checks is written in parts made on every core: in identity order, each check once, and it loads back")
    func writtenInParts() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            var registry = try Registry.load(from: dir.data)
            // Sorted: in the catalog's order, as a first start asks; and one more than a whole
            // number of parts.
            let identities = (0..<150_001).map { CheckIdentity(project: "fleet", key: String(format: "job-%06d", $0)) }
            let uuids = try #require(try registry.assignMissing(identities))
            try registry.retire(identities[5], at: 1_700_000_000_000_001)
            let text = try readText(dir.data.registry)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            // `{` and `"checks" : [`, 150,000 checks, `],` and `"retired" : [`, the retired
            // one, `],`, `"v" : 1` and `}`, and nothing after the last newline.
            #expect(lines.count == 2 + 150_000 + 2 + 1 + 3 + 1 && lines.last == "")
            let checkLines = lines[2..<150_002]
            let expected = identities.indices.filter { $0 != 5 }.map { index in
                "    {\"key\":\"\(identities[index].key)\",\"project\":\"fleet\",\"uuid\":\"\(DataDirectory.name(uuids[index]))\"}"
            }
            #expect(zip(checkLines, expected).allSatisfy { line, check in line == check + "," || line == check })
            #expect(checkLines.last.map { !$0.hasSuffix(",") } == true)
            #expect(try Registry.load(from: dir.data) == registry)
            let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            #expect((parsed?["checks"] as? [Any])?.count == 150_000 && (parsed?["retired"] as? [Any])?.count == 1)
        }
    }

    @Test("20,000 checks seen at once get 20,000 distinct UUIDs in one write, pins kept")
    func manyAtOnce() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            var registry = try Registry.load(from: dir.data)
            let first = try registry.assign(backup)
            let identities = (0..<20_000).map { CheckIdentity(project: "fleet", key: "job-\($0)") }
            let pin = UUID(uuidString: "6f9619ff-8b86-4011-b42d-00c04fc964ff")!
            // A pin equal to a UUID already in use is refused: the check gets a fresh one.
            let assigned = try registry.assign(
                identities + [backup], pinned: [identities[7]: pin, identities[8]: first, identities[9]: pin])
            #expect(assigned.count == 20_001)
            #expect(Set(assigned.values).count == 20_001)
            #expect(assigned[identities[7]] == pin && assigned[identities[8]] != first && assigned[identities[9]] != pin)
            #expect(assigned[backup] == first)
            #expect(try Registry.load(from: dir.data) == registry)
        }
    }

    @Test("UUIDs drawn in bulk are version 4, RFC 4122 variant, and distinct across refills")
    func bulkRandomUUIDs() {
        var random = RandomUUIDs()
        let drawn = (0..<(RandomUUIDs.batch * 2 + 5)).map { _ in random.next() }
        #expect(Set(drawn).count == drawn.count)
        for uuid in drawn {
            let text = uuid.uuidString.lowercased()
            #expect(Array(text)[14] == "4", "version nibble: \(text)")
            #expect("89ab".contains(Array(text)[19]), "variant: \(text)")
        }
        // Not a constant pattern: each of the 122 random bits takes both values.
        let words = drawn.prefix(256).map { uuid in withUnsafeBytes(of: uuid.uuid) { Array($0) } }
        for byte in 0..<16 {
            let ored = words.reduce(UInt8(0)) { $0 | $1[byte] }
            let anded = words.reduce(UInt8(0xFF)) { $0 & $1[byte] }
            let fixed: UInt8 = byte == 6 ? 0xF0 : byte == 8 ? 0xC0 : 0
            #expect(ored | fixed == 0xFF && anded & ~fixed == 0, "byte \(byte)")
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
