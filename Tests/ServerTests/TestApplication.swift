import Foundation
import Logging
import PingStore

@testable import Runtime
@testable import Server

/// The real application of `serve` for tests: `yaml` written to `root/checks.d`, the runtime
/// opened on `root/data` with `clock` (manual unless a test brings its own) and every route
/// built by `buildApplication`; nothing listens. `uuids` ("project/key": UUID) are written to
/// the registry first, so a test can name fixed UUIDs.
struct TestApplication: Sendable {
    let runtime: Runtime
    let application: ServerApplication

    init(
        root: String, yaml: String, uuids: [String: String] = [:], durability: PingStore.Durability = .write,
        keepPings: Int = 1_000, faults: FaultInjector? = nil, clock: RuntimeClock, environment: [String: String] = [:],
        adminToken: AdminToken = AdminToken("admin-token-for-tests-0123456789"), maxRequestBody: Int = 10 * 1024 * 1024, baseURL: String? = nil,
        store: StoreChoice = .files
    ) async throws {
        let config = root + "/checks.d"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: config + "/checks.yaml"))
        if !uuids.isEmpty {
            try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
            let checks = uuids.sorted { $0.key < $1.key }.map { identity, uuid -> [String: String] in
                let parts = identity.split(separator: "/", maxSplits: 1).map(String.init)
                return ["project": parts[0], "key": parts[1], "uuid": uuid]
            }
            let document: [String: Any] = ["v": 1, "checks": checks, "retired": [Any]()]
            try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: root + "/data/registry.json"))
        }
        var options = ServeOptions()
        options.configDirectory = config
        options.dataDirectory = root + "/data"
        options.store = store
        options.durability = durability
        options.keepPings = keepPings
        options.maxRequestBody = maxRequestBody
        options.baseURL = baseURL
        try FileManager.default.createDirectory(atPath: root + "/secrets", withIntermediateDirectories: true)
        try Data(adminToken.text.utf8).write(to: URL(fileURLWithPath: root + "/secrets/admin-token"))
        options.adminTokenFile = root + "/secrets/admin-token"
        options.watchConfig = false
        options.reloadPoll = nil
        var runtimeOptions = options.runtime
        runtimeOptions.storeFaults = faults
        runtimeOptions.storeOpenFileLimit = 64
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        runtime = try await Self.open(options: runtimeOptions, baseURL: options.baseURL, environment: environment, logger: logger, clock: clock)
        application = buildApplication(runtime: runtime, options: options)
    }

    /// The runtime, waiting (at most 5 s) while this process still holds the data directory's
    /// lock: the previous runtime on it released the lock, but a child another test spawned at
    /// that moment (Foundation's Process: fork, close descriptors, exec) holds a copy of the
    /// descriptor, and so the lock, until its exec.
    static func open(
        options: RuntimeOptions, baseURL: String?, environment: [String: String], logger: Logger, clock: RuntimeClock
    ) async throws -> Runtime {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            do {
                let runtime = try await Runtime.open(options: options, baseURL: baseURL, environment: environment, logger: logger, clock: clock)
                // Tests read catalog.json as soon as the runtime is open; a server writes it
                // meanwhile.
                await runtime.snapshotWritten()
                return runtime
            } catch {
                guard error.message.contains("pid \(getpid())"), ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// The UUID the runtime serves `project/key` under.
    func uuid(_ identity: String) -> UUID? {
        let snapshot = runtime.catalog.snapshot
        return snapshot.catalog.checks.first { "\($0.id)" == identity }.flatMap { snapshot.uuid(of: $0.id) }
    }

    func close() {
        try? runtime.files?.close()
    }
}
