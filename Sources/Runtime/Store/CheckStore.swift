import Alerting
import Foundation
import Monitoring
import PingStore

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
    func pings(of check: UUID, limit: Int) throws -> [Ping]

    /// One stored ping by its number; nil when it is not (or no longer) stored.
    func ping(of check: UUID, n: Int) throws -> Ping?

    /// The newest `limit` flips of a check, newest first.
    func flips(of check: UUID, limit: Int) throws -> [StoredFlip]

    /// Every stored check's state as its pings and flips leave it (a runtime pause included):
    /// what a start serves from.
    func loadStates() throws -> [UUID: CheckState]

    /// A removed check's data leaves the live set (its UUID never comes back).
    func retire(_ check: UUID) throws

    // MARK: identity

    /// The UUID of every check ever seen; changes to it are durable once `assign`/`retire`
    /// on it return.
    func loadRegistry() throws -> Registry

    /// The ping keys generated for projects that configure none.
    func loadPingKeys() throws -> PingKeys

    /// The catalog as last applied (for renames in plans and reloads); nil before the first.
    func loadAppliedCatalog() throws -> AppliedCatalog?

    func save(_ applied: AppliedCatalog) throws

    // MARK: alerts and lifecycle

    /// The alerts the flips brought, for delivery.
    var alerts: any AlertQueue { get }

    /// Whether records are taken (false once closing).
    var isOpen: Bool { get }

    /// Finishes what is queued and stops; records after this fail.
    func close() throws
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
