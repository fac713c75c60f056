import Foundation
import Logging
import Monitoring
import PingStore
import Synchronization
import Testing

@testable import Runtime

private let s: Int64 = 1_000_000
private let t0: Int64 = 1_700_000_000 * s

/// `catalog.json` at a start: kept when it already lists the configuration being applied (a
/// restart: rewriting a million unchanged lines cost seconds), written otherwise.
@Suite("catalog.json across starts")
struct CatalogSnapshotTests {
    static let yaml = """
        projects:
          ops: {name: Ops}
        checks:
          backup: {project: ops, name: Nightly backup, schedule: "0 3 * * *", tz: Europe/Riga}
          worker: {project: ops, timeout: 5m}

        """

    @Test("a restart on the same configuration keeps catalog.json and its time; a rename, a new check or a lost snapshot rewrite it")
    func keptUnlessChanged() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-snapshot-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let clock = ManualClock(at: t0)
        let path = root + "/data/catalog.json"
        func start(_ yaml: String) async throws -> AppliedCatalog {
            let app = try await TestApplication(root: root, yaml: yaml, clock: clock.clock)
            app.close()
            app.runtime.lock?.release()
            clock.advance(by: 60 * s)
            return try #require(try AppliedCatalog.load(from: DataDirectory(root + "/data")))
        }

        let first = try await start(Self.yaml)
        #expect(first.appliedAt == t0 && first.checks.map(\.key) == ["backup", "worker"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))

        let restarted = try await start(Self.yaml)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes, "unchanged: not rewritten")
        #expect(restarted == first)

        let renamed = try await start(Self.yaml.replacingOccurrences(of: "Nightly backup", with: "Backup"))
        #expect(renamed.appliedAt == t0 + 120 * s)
        #expect(renamed.checks.first { $0.key == "backup" }?.slug == "backup")

        let added = try await start(Self.yaml.replacingOccurrences(of: "Nightly backup", with: "Backup") + "  extra: {project: ops}\n")
        #expect(added.appliedAt == t0 + 180 * s && added.checks.map(\.key) == ["backup", "extra", "worker"])

        try FileManager.default.removeItem(atPath: path)
        let rewritten = try await start(Self.yaml.replacingOccurrences(of: "Nightly backup", with: "Backup") + "  extra: {project: ops}\n")
        #expect(rewritten.appliedAt == t0 + 240 * s && rewritten.checks.count == 3)

        // A snapshot that lists fewer checks than are served (written by hand, or cut short) is
        // completed at the next start even though nothing changed.
        let partial = AppliedCatalog(checks: rewritten.checks.filter { $0.key != "extra" }, appliedAt: 5)
        try partial.save(to: DataDirectory(root + "/data"))
        let completed = try await start(Self.yaml.replacingOccurrences(of: "Nightly backup", with: "Backup") + "  extra: {project: ops}\n")
        #expect(completed.appliedAt == t0 + 300 * s && completed.checks.count == 3)
    }

    @Test("a restart on the same files, build and registry does not read catalog.json; a changed file or registry has it read and rewritten")
    func identicalSourceIsNotRead() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-snapshot-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let clock = ManualClock(at: t0)
        let data = DataDirectory(root + "/data")
        let path = AppliedCatalog.path(in: data)
        func start(_ yaml: String) async throws {
            let app = try await TestApplication(root: root, yaml: yaml, clock: clock.clock)
            app.close()
            app.runtime.lock?.release()
            clock.advance(by: 60 * s)
        }
        /// The snapshot with its checks made unreadable and its first lines (the source) kept:
        /// a start that reads it warns and writes it again; one that does not leaves it.
        func damage() throws -> Data {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let damaged = Data(text.replacingOccurrences(of: "\"uuid\":\"", with: "\"uuid\":\"not-").utf8)
            try damaged.write(to: URL(fileURLWithPath: path))
            return damaged
        }

        try await start(Self.yaml)
        let source = try #require(try AppliedCatalog.source(in: data), "a server's snapshot records its source")
        let first = try #require(try AppliedCatalog.load(from: data))
        #expect(first.source == source)

        // A snapshot from before sources (the same checks) is read once, and written again
        // with its source though nothing changed.
        try AppliedCatalog(checks: first.checks, appliedAt: 5).save(to: data)
        try await start(Self.yaml)
        #expect(try AppliedCatalog.load(from: data) == AppliedCatalog(checks: first.checks, appliedAt: t0 + 60 * s, source: source))

        // The same files: the damaged snapshot is neither read nor rewritten.
        let damaged = try damage()
        try await start(Self.yaml)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == damaged, "read, or rewritten, though nothing changed")

        // A comment changes no check but changes the files: the snapshot is read (it is
        // damaged: ignored) and written again, with the new source.
        try await start(Self.yaml + "# a comment\n")
        let rewritten = try #require(try AppliedCatalog.load(from: data))
        #expect(rewritten.appliedAt == t0 + 180 * s && rewritten.checks.map(\.key) == ["backup", "worker"])
        #expect(rewritten.source?.config != source.config && rewritten.source?.registry == source.registry)

        // The same files again, but a registry that lists one more check (an identity the
        // configuration no longer has): read, the check retired, and rewritten.
        _ = try damage()
        var registry = try Registry.load(from: data)
        try registry.assign(CheckIdentity(project: "ops", key: "ghost"))
        try await start(Self.yaml + "# a comment\n")
        let afterRegistry = try #require(try AppliedCatalog.load(from: data))
        #expect(afterRegistry.appliedAt == t0 + 240 * s && afterRegistry.checks.map(\.key) == ["backup", "worker"])
        #expect(try Registry.load(from: data).checks[CheckIdentity(project: "ops", key: "ghost")] == nil, "the extra identity is retired")
        #expect(afterRegistry.source == rewritten.source, "the registry is as it was when the comment was applied")
    }

    @Test("a restart reads its files of checks back from data/config-cache; a damaged or foreign cache costs a parse, and is written again")
    func configCache() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-snapshot-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let clock = ManualClock(at: t0)
        let cache = root + "/data/config-cache"
        try FileManager.default.createDirectory(atPath: root + "/checks.d", withIntermediateDirectories: true)
        try Data("checks:\n  extra: {project: ops, timeout: 1h}\n  daily: {project: ops, schedule: '0 4 * * *'}\n".utf8)
            .write(to: URL(fileURLWithPath: root + "/checks.d/more.yaml"))
        func start() async throws -> (restored: Int, parsed: Int, checks: [String]) {
            let app = try await TestApplication(root: root, yaml: Self.yaml, clock: clock.clock)
            await app.runtime.snapshotWritten()
            let counts = app.runtime.parsedFiles.counts
            // The hash of what the start loaded is what a poll of the same files computes, so
            // the poll after a start does not reload them.
            #expect(app.runtime.reloadStatus.snapshot.servingHash == (try ConfigFingerprint.compute(directory: root + "/checks.d")).hash)
            let checks = app.runtime.catalog.snapshot.catalog.checks.map { "\($0.id) \($0.settings.sorted { $0.key < $1.key })" }
            app.close()
            app.runtime.lock?.release()
            clock.advance(by: 60 * s)
            return (counts.restored, counts.parsed, checks)
        }

        let first = try await start()
        #expect(first.restored == 0 && first.parsed == 2)
        #expect(first.checks.count == 4)
        let written = try Data(contentsOf: URL(fileURLWithPath: cache))
        #expect(try FileManager.default.attributesOfItem(atPath: cache)[.posixPermissions] as? Int == 0o600)

        // more.yaml is read back; checks.yaml declares a project, so it is parsed each time.
        let second = try await start()
        #expect(second.restored == 1 && second.parsed == 1)
        #expect(second.checks == first.checks)
        #expect(try Data(contentsOf: URL(fileURLWithPath: cache)) == written, "nothing new: not written again")

        for damage in [Data("not a cache".utf8), written.prefix(written.count / 2), Data()] {
            try damage.write(to: URL(fileURLWithPath: cache))
            let damaged = try await start()
            #expect(damaged.restored == 0 && damaged.parsed == 2)
            #expect(damaged.checks == first.checks)
            #expect(try Data(contentsOf: URL(fileURLWithPath: cache)) == written, "written again")
        }
    }

    @Test("the start's snapshot, written after the swap, is never overwritten by an older one; finished waits for every write")
    func writesInOrder() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-snapshot-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let data = DataDirectory(root + "/data")
        let store = try FileStore.open(data, options: PingStore.Options(durability: .write), now: t0)
        defer { try? store.close() }
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        @Sendable func snapshot(_ name: String, at time: Int64) -> AppliedCatalog {
            AppliedCatalog(checks: [AppliedCatalog.Check(uuid: UUID(), project: "ops", key: "a", name: name, slug: name, settings: [:])], appliedAt: time)
        }
        let writer = SnapshotWriter()
        let firstBuilt = Atomic<Bool>(false)
        // The first is slow to build (a fleet's); the second, asked for after it, is quick.
        writer.enqueue(failure: "test", logger: logger) {
            try await Task.sleep(for: .milliseconds(300))
            firstBuilt.store(true, ordering: .sequentiallyConsistent)
            try await store.save(snapshot("first", at: 1))
        }
        writer.enqueue(failure: "test", logger: logger) { try await store.save(snapshot("second", at: 2)) }
        await writer.finished()
        let firstDone = firstBuilt.load(ordering: .sequentiallyConsistent)
        #expect(firstDone, "finished returned before the first write")
        let written = try #require(try AppliedCatalog.load(from: data))
        #expect(written.appliedAt == 2 && written.checks.first?.name == "second")
        // Still the second a while later: the first did not land after it.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try AppliedCatalog.load(from: data)?.appliedAt == 2)
        // Nothing pending: finished returns at once.
        await writer.finished()
    }
}
