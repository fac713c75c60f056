import CheckCatalog
import Foundation
import Monitoring
import PingStore
import Testing

@testable import Runtime

/// `kiothc status` over a data directory: the states of a fleet, read on several threads and
/// skipping the checks that have no files, are those the files give, in the configuration's
/// order; a damaged file is reported as reading the checks one by one would report it.
@Suite("kiothc status reading a data directory")
struct StatusReportLoadTests {
    static let now: Int64 = 1_733_500_000_000_000
    static let count = 700

    static func key(_ index: Int) -> String { "c" + String(String(index + 10_000).dropFirst()) }

    /// A config directory with `count` simple checks and a data directory whose registry knows
    /// them all, removed by `body`'s end.
    static func fleet(_ body: (_ config: String, _ data: DataDirectory, _ uuids: [UUID]) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-status-load-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("checks.d")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        let lines = (0..<count).map { "  \(key($0)): {name: Check \($0), timeout: 1h, tags: [\($0 % 2 == 0 ? "even" : "odd")]}" }
        try Data(("checks:\n" + lines.joined(separator: "\n") + "\n").utf8).write(to: config.appendingPathComponent("checks.yaml"))
        let data = DataDirectory(root.appendingPathComponent("data").path)
        try FileManager.default.createDirectory(atPath: data.path, withIntermediateDirectories: true)
        var registry = try Registry.load(from: data)
        let ids = (0..<count).map { CheckIdentity(project: "default", key: key($0)) }
        let assigned = try registry.assign(ids)
        try await body(config.path, data, try ids.map { try #require(assigned[$0]) })
    }

    static func received(_ signal: ReceivedPing.Signal) -> ReceivedPing {
        ReceivedPing(signal: signal, method: "GET", remoteAddress: "127.0.0.1")
    }

    /// Pings (and pauses) as the server applies and stores them; most checks get none.
    static func drive(_ store: PingStore, _ uuids: [UUID]) async throws -> [UUID: CheckState] {
        var states: [UUID: CheckState] = [:]
        for (index, check) in uuids.enumerated() where index % 3 == 0 || index % 7 == 0 {
            var state = CheckState.new
            var time = now - 7_200_000_000 + Int64(index) * 1_000_000
            let steps: [ReceivedPing] = switch index % 5 {
            case 0: [received(.success)]
            case 1: [received(.success), received(.start)]
            case 2: [received(.start), received(.fail)]
            case 3: [received(.fail), received(.success), received(.log)]
            default: []
            }
            for step in steps {
                let outcome = state.applying(step, at: time)
                try await store.append(outcome.ping, to: check, flip: outcome.flip)
                state = outcome.state
                time += 1_000_000
            }
            if index % 7 == 0, let (paused, flip) = state.pausing(at: time) {
                try await store.append(flip, to: check)
                state = paused
            }
            states[check] = state
        }
        return states
    }

    @Test("a fleet's states, read in parallel, are those its files give, in the configuration's order; checks without files are new")
    func states() async throws {
        try await Self.fleet { config, data, uuids in
            let store = try PingStore.open(data, options: PingStore.Options(maintenanceInterval: nil, openFileLimit: 64))
            let live = try await Self.drive(store, uuids)
            try store.close()
            #expect(live.values.contains { $0.status == .paused && $0.nPings == 0 }, "a check with a flips file only")

            let report = try StatusReport.load(config: config, data: data.path, project: nil, tags: [], baseURL: nil, now: Self.now)
            #expect(report.rows.map(\.view.definition.id.key) == (0..<Self.count).map(Self.key))
            #expect(report.rows.map(\.uuid) == uuids)
            let reader = StoreReader(data)
            for (row, uuid) in zip(report.rows, uuids) {
                #expect(row.view.state == (try reader.loadState(of: uuid)), "\(row.view.definition.id)")
                #expect(row.view.state.status == (live[uuid] ?? .new).status, "\(row.view.definition.id)")
                #expect(row.view.state.nPings == (live[uuid] ?? .new).nPings, "\(row.view.definition.id)")
            }
            #expect(report.rows.filter { $0.view.state.nPings > 0 }.count == live.values.filter { $0.nPings > 0 }.count)

            let odd = try StatusReport.load(config: config, data: data.path, project: "default", tags: ["odd"], baseURL: nil, now: Self.now)
            #expect(odd.rows.map(\.view.definition.id.key) == stride(from: 1, to: Self.count, by: 2).map(Self.key))
            #expect(odd.rows.allSatisfy { $0.view.state == (try? reader.loadState(of: $0.uuid!)) })
        }
    }

    @Test("of two damaged files, the error names the check that comes first in the configuration")
    func damaged() async throws {
        try await Self.fleet { config, data, uuids in
            let store = try PingStore.open(data, options: PingStore.Options(maintenanceInterval: nil, openFileLimit: 64))
            _ = try await Self.drive(store, uuids)
            try store.close()
            // Damaged lines (not torn ones: those end without a newline and are skipped).
            for index in [630, 420] {
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(data.path)/pings/\(uuids[index].uuidString.lowercased()).jsonl"))
                try handle.seekToEnd()
                try handle.write(contentsOf: Data("{\"v\":1,\"n\":\n".utf8))
                try handle.close()
            }
            #expect {
                try StatusReport.load(config: config, data: data.path, project: nil, tags: [], baseURL: nil, now: Self.now)
            } throws: { error in
                let message = (error as? StatusReport.Failure)?.message ?? ""
                return message.hasPrefix("cannot read the pings of default/\(Self.key(420)): ") && message.contains(uuids[420].uuidString.lowercased())
            }
        }
    }

    @Test("files listed but with nothing to read: empty, only a torn line, one very long line then a torn one")
    func oddFiles() async throws {
        try await Self.fleet { config, data, uuids in
            let store = try PingStore.open(data, options: PingStore.Options(maintenanceInterval: nil, openFileLimit: 64))
            try store.close()
            let pings = "\(data.path)/pings"
            let long = #"{"v":1,"n":5,"time_us":\#(Self.now - 60_000_000),"kind":"success","method":"POST","scheme":"http","remote_addr":"127.0.0.1","ua":"curl","body_size":1048576,"body":""#
                + String(repeating: "x", count: 1 << 20) + "\"}\n"
            let files: [(Int, String)] = [
                (0, ""),
                (1, #"{"v":1,"n":1,"time_us":17"#),
                (2, long + #"{"v":1,"n":6,"time_us":"#),
            ]
            for (index, text) in files {
                try Data(text.utf8).write(to: URL(fileURLWithPath: "\(pings)/\(uuids[index].uuidString.lowercased()).jsonl"))
            }
            let report = try StatusReport.load(config: config, data: data.path, project: nil, tags: [], baseURL: nil, now: Self.now)
            #expect(report.rows[0].view.state == .new)
            #expect(report.rows[1].view.state == .new)
            let longRow = report.rows[2].view
            #expect(longRow.state.nPings == 5 && longRow.state.lastPing == Self.now - 60_000_000 && longRow.state.status == .up)
            #expect(longRow.state == (try StoreReader(data).loadState(of: uuids[2])))
            #expect(report.rows[3].view.state == .new, "no file at all")
        }
    }

    @Test("a down check names the checks it depends on that are down, also ones filtered out of the report")
    func dependencies() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiothc-status-deps-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("checks.d")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try Data("""
            checks:
              db: {name: DB, timeout: 1h, tags: [infra]}
              net: {name: Net, timeout: 1h, tags: [infra]}
              app: {name: App, timeout: 1h, depends_on: [db, net], tags: [apps]}
              web: {name: Web, timeout: 1h, depends_on: [app], tags: [apps]}
              new: {name: New, timeout: 1h}
            """.utf8).write(to: config.appendingPathComponent("checks.yaml"))
        let data = DataDirectory(root.appendingPathComponent("data").path)
        try FileManager.default.createDirectory(atPath: data.path, withIntermediateDirectories: true)
        var registry = try Registry.load(from: data)
        let uuids = try registry.assign(["db", "net", "app", "web"].map { CheckIdentity(project: "default", key: $0) })
        let store = try PingStore.open(data, options: PingStore.Options(maintenanceInterval: nil, openFileLimit: 64))
        for (key, signal) in [("db", ReceivedPing.Signal.fail), ("net", .success), ("app", .fail), ("web", .fail)] {
            let outcome = CheckState.new.applying(Self.received(signal), at: Self.now - 60_000_000)
            try await store.append(outcome.ping, to: try #require(uuids[CheckIdentity(project: "default", key: key)]), flip: outcome.flip)
        }
        try store.close()

        let all = try StatusReport.load(config: config.path, data: data.path, project: nil, tags: [], baseURL: nil, now: Self.now)
        let held = Dictionary(uniqueKeysWithValues: all.rows.map { ($0.view.definition.id.key, $0.view.suppressedBy) })
        #expect(held == ["app": ["default/db"], "db": [], "net": [], "new": [], "web": ["default/app", "default/db"]])
        // db is not shown, yet it is read to say it holds app's alerts.
        let apps = try StatusReport.load(config: config.path, data: data.path, project: nil, tags: ["apps"], baseURL: nil, now: Self.now)
        #expect(apps.rows.map(\.view.definition.id.key) == ["app", "web"])
        #expect(apps.rows.map(\.view.suppressedBy) == [["default/db"], ["default/app", "default/db"]])
        let filtered = try StatusReport.load(config: config.path, data: data.path, project: "default", tags: ["infra"], baseURL: nil, now: Self.now)
        #expect(filtered.rows.map(\.view.definition.id.key) == ["db", "net"])
        #expect(filtered.rows.allSatisfy { $0.view.suppressedBy.isEmpty })
    }

    @Test("the parallel map keeps the order, on one thread or several")
    func parallelOrder() {
        for count in [0, 1, 255, 256, 600, 10_001] {
            let items = Array(0..<count)
            #expect(Parallel.map(items) { $0 * 3 } == items.map { $0 * 3 })
            #expect(Parallel.map(items, minimumPerWorker: 1) { String($0) } == items.map { String($0) })
        }
    }
}
