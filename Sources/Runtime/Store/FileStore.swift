import Alerting
import Foundation
import Monitoring
import PingStore

/// The store of one host (SPEC §4): the JSON-lines `PingStore` (pings, flips, group commit),
/// the alert outbox and the identity files (registry, generated ping keys, applied catalog),
/// all under the data directory.
public final class FileStore: CheckStore {
    public let pingStore: PingStore
    public let outbox: Outbox
    public var data: DataDirectory { pingStore.data }

    public init(pingStore: PingStore, outbox: Outbox) {
        self.pingStore = pingStore
        self.outbox = outbox
    }

    /// Opens the store in `data` (recovering it after a crash) and its outbox; held alerts a
    /// crash left behind are resolved against the flips stored.
    public static func open(_ data: DataDirectory, options: PingStore.Options, policy: RetryPolicy = .standard, now: Int64) throws -> FileStore {
        let pingStore = try PingStore.open(data, options: options)
        do {
            let outbox = try Outbox(directory: data.path + "/alerts", policy: policy, now: now, flipStored: { pingStore.hasFlip(of: $0) })
            return FileStore(pingStore: pingStore, outbox: outbox)
        } catch {
            try? pingStore.close()
            throw error
        }
    }

    // MARK: pings and flips

    public func record(
        _ ping: Ping, of check: UUID, flip: Flip?, alerts: [Alert], completion: @escaping @Sendable ((any Error)?) -> Void
    ) {
        guard !alerts.isEmpty else {
            pingStore.append(ping, to: check, flip: flip, completion: completion)
            return
        }
        Task {
            do {
                try await withHeldAlerts(alerts) { try await self.pingStore.append(ping, to: check, flip: flip) }
                completion(nil)
            } catch {
                completion(error)
            }
        }
    }

    public func record(_ flip: Flip, of check: UUID, alerts: [Alert]) async throws {
        try await withHeldAlerts(alerts) { try await self.pingStore.append(flip, to: check) }
    }

    /// The alerts are written to the outbox held, then the records are stored, then the alerts
    /// are confirmed (or withdrawn when the store refused): a crash in between is resolved when
    /// the outbox opens, against the flips stored.
    private func withHeldAlerts(_ alerts: [Alert], _ write: () async throws -> Void) async throws {
        guard !alerts.isEmpty else { return try await write() }
        do {
            try await outbox.enqueue(alerts, held: true)
        } catch {
            throw AlertsNotQueued(reason: "\(error)")
        }
        let ids = alerts.map(\.id)
        do {
            try await write()
        } catch {
            try? await outbox.withdraw(ids, at: alerts[0].created)
            throw error
        }
        try? await outbox.confirm(ids, at: alerts[0].created)
    }

    public func pings(of check: UUID, limit: Int) throws -> [Ping] { try pingStore.pings(of: check, limit: limit) }

    public func ping(of check: UUID, n: Int) throws -> Ping? { try pingStore.ping(of: check, n: n) }

    public func flips(of check: UUID, limit: Int) throws -> [StoredFlip] { try pingStore.flips(of: check, limit: limit) }

    public func loadStates() throws -> [UUID: CheckState] { try pingStore.loadStates() }

    public func retire(_ check: UUID) throws { try pingStore.retire(check) }

    // MARK: identity

    public func loadRegistry() throws -> Registry { try Registry.load(from: data) }

    public func loadPingKeys() throws -> PingKeys { try PingKeys.load(from: data) }

    public func loadAppliedCatalog() throws -> AppliedCatalog? { try AppliedCatalog.load(from: data) }

    public func save(_ applied: AppliedCatalog) throws { try applied.save(to: data) }

    // MARK: alerts and lifecycle

    public var alerts: any AlertQueue { outbox }

    public var isOpen: Bool { pingStore.isOpen }

    public func close() throws {
        try pingStore.close()
    }
}

/// The outbox could not take a flip's alerts, so the flip is not made.
public struct AlertsNotQueued: Error, CustomStringConvertible {
    let reason: String
    public var description: String { "cannot queue the alerts of the flip in the outbox: \(reason)" }
}
