import Alerting
import CheckCatalog
import Foundation
import Monitoring
import PingStore
import PostgresStore

/// What the runtime needs from a store, whatever keeps the data: the file store of one host
/// (`FileStore`, SPEC §4) today, PostgreSQL for several instances next (SPEC §11). Every
/// implementation passes the same contract suite (Tests/RuntimeTests/CheckStoreContract).
///
/// Four parts: a check's pings and flips, written with the alerts of each flip in the same
/// write (a flip and its alerts are stored together or not at all); what is read back (pings,
/// flips, the states a start rebuilds, pause included); identity (the UUID registry, the
/// generated ping keys, the last applied catalog); and the alert queue delivery claims from.
public protocol CheckStore: AnyObject, Sendable {
    // MARK: pings and flips

    /// Stores a ping, the flip it caused and that flip's alerts as one write, without
    /// suspending: `completion` gets nil once they are durable as the store promises, or the
    /// error (then nothing of them is stored). A check's records are stored in the order of
    /// the calls that made them.
    func record(_ ping: Ping, of check: UUID, flip: Flip?, alerts: [Alert], completion: @escaping @Sendable ((any Error)?) -> Void)

    /// Stores a flip no ping caused (a deadline, pause, resume) with its alerts, as one write.
    func record(_ flip: Flip, of check: UUID, alerts: [Alert]) async throws

    /// The newest `limit` pings of a check, newest first.
    func pings(of check: UUID, limit: Int) async throws -> [Ping]

    /// One stored ping by its number; nil when it is not (or no longer) stored.
    func ping(of check: UUID, n: Int) async throws -> Ping?

    /// The newest `limit` flips of a check, newest first.
    func flips(of check: UUID, limit: Int) async throws -> [StoredFlip]

    /// Every stored check's state as its pings and flips leave it (a runtime pause included):
    /// what a start serves from.
    func loadStates() async throws -> [UUID: CheckState]

    /// A removed check's data leaves the live set (its UUID never comes back).
    func retire(_ check: UUID) async throws

    // MARK: identity

    /// The UUID of every check ever seen, and the retired ones.
    func loadRegistry() async throws -> Registry

    /// UUIDs for the identities `registry` does not know, durable before this returns; the
    /// UUID of every identity comes back (on a shared store, the one the first instance
    /// assigned, which `registry` adopts), possibly with other checks' UUIDs beside them.
    func assign(_ identities: [CheckIdentity], pinned: [CheckIdentity: UUID], in registry: inout Registry, at now: Int64) async throws -> AssignedUUIDs

    /// Retires identities whose checks left the configuration (their UUIDs never come back).
    func retire(_ identities: [CheckIdentity], in registry: inout Registry, at now: Int64) async throws

    /// The ping keys generated for projects that configure none.
    func loadPingKeys() async throws -> PingKeys

    /// The project's generated ping key, generated and stored on first use.
    func pingKey(for project: String, avoiding taken: Set<String>, in keys: inout PingKeys) async throws -> String

    /// The catalog as last applied (for renames in plans and reloads); nil before the first.
    func loadAppliedCatalog() async throws -> AppliedCatalog?

    func save(_ applied: AppliedCatalog) async throws

    /// Saves the snapshot of `catalog` as served (`AppliedCatalog(catalog, uuids:, at:)`); a
    /// store may write it without making it whole first.
    func saveSnapshot(of catalog: Catalog, uuids: [CheckIdentity: UUID], source: AppliedCatalog.Source?, at time: Int64) async throws

    /// The saved snapshot's `source`, read without its checks; nil when there is none, or when
    /// others may change this store's registry (a shared store), so that it proves nothing.
    func snapshotSource() async throws -> AppliedCatalog.Source?

    /// Whether `snapshotSource` can answer: the store keeps the source it is given.
    var keepsSnapshotSource: Bool { get }

    // MARK: alerts and lifecycle

    /// The alerts the flips brought, for delivery.
    var alerts: any AlertQueue { get }

    /// Whether records are taken (false once closing).
    var isOpen: Bool { get }

    /// Finishes what is queued and stops; records after this fail.
    func close() async throws
}

/// A store several instances share (PostgreSQL, SPEC §11): it holds the check states itself,
/// and every transition (a ping, a deadline, pause, resume) is decided in its transaction from
/// the state it holds (`update`). The runtime's states are then a cache, refreshed from each
/// update's outcome and from `changes`.
public protocol SharedCheckStore: CheckStore {
    /// Decides and stores one transition; never suspends (the ping path's event loop).
    func update(_ update: CheckUpdate, completion: @escaping @Sendable (Result<CheckUpdate.Outcome, any Error>) -> Void)

    /// The states of `checks` (every live check for nil), with their versions.
    func states(of checks: [UUID]?) async throws -> [VersionedState]

    /// Until cancelled: batches of states the other instances changed; after every
    /// (re)connect, every live check's.
    func changes() -> AsyncStream<[VersionedState]>
}

extension SharedCheckStore {
    public func update(_ update: CheckUpdate) async throws -> CheckUpdate.Outcome {
        try await withCheckedThrowingContinuation { continuation in
            self.update(update) { continuation.resume(with: $0) }
        }
    }
}

extension CheckStore {
    public func saveSnapshot(of catalog: Catalog, uuids: [CheckIdentity: UUID], source: AppliedCatalog.Source?, at time: Int64) async throws {
        try await save(AppliedCatalog(catalog, uuids: uuids, at: time))
    }

    public func snapshotSource() async throws -> AppliedCatalog.Source? { nil }

    public var keepsSnapshotSource: Bool { false }
}

extension CheckStore {
    /// `record(_:of:flip:alerts:completion:)` for a caller that may suspend.
    public func record(_ ping: Ping, of check: UUID, flip: Flip? = nil, alerts: [Alert] = []) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            record(ping, of: check, flip: flip, alerts: alerts) { error in
                if let error { continuation.resume(throwing: error) } else { continuation.resume() }
            }
        }
    }
}

extension CheckStore {
    /// `assign` without pinned UUIDs.
    public func assign(_ identities: [CheckIdentity], in registry: inout Registry, at now: Int64) async throws -> AssignedUUIDs {
        try await assign(identities, pinned: [:], in: &registry, at: now)
    }
}
