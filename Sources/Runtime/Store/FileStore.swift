import Alerting
import BlockingWork
import CheckCatalog
import Foundation
import Logging
import Monitoring
import PingStore

/// The store of one host (SPEC §4): the JSON-lines `PingStore` (pings, flips, group commit),
/// the alert outbox and the identity files (registry, generated ping keys, applied catalog),
/// all under the data directory.
public final class FileStore: CheckStore {
    public let pingStore: PingStore
    public let outbox: Outbox
    public var data: DataDirectory { pingStore.data }

    let logger: Logger?

    public init(pingStore: PingStore, outbox: Outbox, logger: Logger? = nil) {
        self.pingStore = pingStore
        self.outbox = outbox
        self.logger = logger
    }

    /// Opens the store in `data` (recovering it after a crash) and its outbox, which takes the
    /// alerts the store queued with their flips and has not seen yet (a crash came between the
    /// store's acknowledgement and `accept`). Alerts held by a server before issue 19 are
    /// resolved against the flips stored.
    public static func open(
        _ data: DataDirectory, options: PingStore.Options, policy: RetryPolicy = .standard, now: Int64, logger: Logger? = nil
    ) throws -> FileStore {
        let pingStore = try PingStore.open(data, options: options)
        do {
            let queued = try pingStore.queuedAlerts()
            if queued.skipped > 0 {
                logger?.warning(
                    "skipped unreadable lines of the store's queued alerts", metadata: ["lines": "\(queued.skipped)", "file": "\(data.queuedAlerts)"])
            }
            let outbox = try Outbox(
                directory: data.path + "/alerts", policy: policy, now: now, queued: queued.alerts.map { ($0.n, $0.record) },
                flipStored: { pingStore.hasFlip(of: $0) })
            if outbox.ingestion.alerts > 0 || outbox.ingestion.skipped > 0 {
                logger?.notice(
                    "took alerts queued with their flips into the outbox",
                    metadata: [
                        "alerts": "\(outbox.ingestion.alerts)", "unreadable": "\(outbox.ingestion.skipped)",
                        "log_restarted": "\(outbox.ingestion.logRestarted)",
                    ])
            }
            return FileStore(pingStore: pingStore, outbox: outbox, logger: logger)
        } catch {
            try? pingStore.close()
            throw error
        }
    }

    // MARK: pings and flips

    /// The ping, its flip and the flip's alerts go to the store's writer as one entry: one
    /// batch, one journal write and sync, acknowledged together. Once acknowledged, the alerts
    /// are handed to the outbox in memory (`accept`) before `completion` is called.
    public func record(
        _ ping: Ping, of check: UUID, flip: Flip?, alerts: [Alert], completion: @escaping @Sendable ((any Error)?) -> Void
    ) {
        let records: [[UInt8]]
        do {
            records = try Alert.queueRecords(alerts)
        } catch {
            return completion(error)
        }
        pingStore.append(ping, to: check, flip: flip, alerts: records) { [self] result in
            switch result {
            case .failure(let error): completion(error)
            case .success where alerts.isEmpty: completion(nil)
            case .success(let n):
                Task {
                    await accept(alerts, through: n)
                    completion(nil)
                }
            }
        }
    }

    public func record(_ flip: Flip, of check: UUID, alerts: [Alert]) async throws {
        let n = try await pingStore.append(flip, to: check, alerts: try Alert.queueRecords(alerts))
        await accept(alerts, through: n)
    }

    private func accept(_ alerts: [Alert], through n: Int) async {
        guard !alerts.isEmpty else { return }
        do {
            try await outbox.accept(alerts, through: n)
        } catch {
            logger?.warning("cannot record alerts in the outbox; they are sent, and taken from the store's queue again at the next start: \(error)")
        }
    }

    /// Drops the store's queued alerts the outbox has taken (synced), so the log stays small.
    /// Blocking work runs on a thread of its own.
    public func trimQueuedAlerts() async throws {
        let through = try await outbox.ingestedThrough()
        let pingStore = pingStore
        _ = try await blocking(named: "kiothc-trim") { Result { try pingStore.trimQueuedAlerts(through: through) } }.get()
    }

    public func pings(of check: UUID, limit: Int) throws -> [Ping] { try pingStore.pings(of: check, limit: limit) }

    public func ping(of check: UUID, n: Int) throws -> Ping? { try pingStore.ping(of: check, n: n) }

    public func flips(of check: UUID, limit: Int) throws -> [StoredFlip] { try pingStore.flips(of: check, limit: limit) }

    public func loadStates() throws -> [UUID: CheckState] { try pingStore.loadStates() }

    /// Moves its files to `retired/`, on a thread of its own.
    public func retire(_ check: UUID) async throws {
        try await offPool("kiothc-retire") { [pingStore] in try pingStore.retire(check) }
    }

    // MARK: identity (the files are written on a thread of their own, off the cooperative pool)

    /// The registry, rewritten at once in the current layout if it is older (read a line at a
    /// time from then on: a million checks in a second).
    public func loadRegistry() throws -> Registry {
        var registry = try Registry.load(from: data)
        try registry.upgradeLayout()
        return registry
    }

    /// Written to `registry.json` before this returns.
    public func assign(
        _ identities: [CheckIdentity], pinned: [CheckIdentity: UUID], in registry: inout Registry, at now: Int64
    ) async throws -> AssignedUUIDs {
        let inOrder: [UUID]?
        (registry, inOrder) = try await offPool("kiothc-registry") { [registry] in
            var next = registry
            let inOrder = try next.assignMissing(identities, pinned: pinned)
            return (next, inOrder)
        }
        // Every identity's UUID, and those of the registry's other checks: a first start's
        // million UUIDs are not copied into a second table (nor is its table built here).
        return AssignedUUIDs(registry: registry, inOrder: inOrder)
    }

    public func retire(_ identities: [CheckIdentity], in registry: inout Registry, at now: Int64) async throws {
        registry = try await offPool("kiothc-registry") { [registry] in
            var next = registry
            try next.retire(identities, at: now)
            return next
        }
    }

    public func loadPingKeys() throws -> PingKeys { try PingKeys.load(from: data) }

    /// Written to `ping-keys.json` before this returns.
    public func pingKey(for project: String, avoiding taken: Set<String>, in keys: inout PingKeys) async throws -> String {
        let (key, next) = try await offPool("kiothc-pingkeys") { [keys] in
            var next = keys
            return (try next.key(for: project, avoiding: taken), next)
        }
        keys = next
        return key
    }

    public func loadAppliedCatalog() throws -> AppliedCatalog? { try AppliedCatalog.load(from: data) }

    public func save(_ applied: AppliedCatalog) async throws {
        try await offPool("kiothc-catalog") { [data] in try applied.save(to: data) }
    }

    /// Written a check at a time (`AppliedCatalog.save(_:appliedAt:to:)`), on a thread of its own.
    public func saveSnapshot(of catalog: Catalog, uuids: [CheckIdentity: UUID], source: AppliedCatalog.Source?, at time: Int64) async throws {
        try await offPool("kiothc-catalog") { [data] in
            try AppliedCatalog.save(AppliedCatalog.checks(of: catalog, uuids: uuids), appliedAt: time, source: source, to: data)
        }
    }

    public func snapshotSource() throws -> AppliedCatalog.Source? { try AppliedCatalog.source(in: data) }

    public var keepsSnapshotSource: Bool { true }

    private func offPool<T: Sendable>(_ name: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await blocking(named: name) { Result { try work() } }.get()
    }

    // MARK: alerts and lifecycle

    public var alerts: any AlertQueue { outbox }

    public var isOpen: Bool { pingStore.isOpen }

    public func close() throws {
        try pingStore.close()
    }
}
