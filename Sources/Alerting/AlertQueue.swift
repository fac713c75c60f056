import Foundation

/// Where alerts wait to be sent, as delivery sees it: claim what is due, record each attempt,
/// give back what was not tried. The file store's `Outbox` is one; a database store gives its
/// own (claims across instances, SPEC §11). Alerts enter the queue with their flip, through the
/// store that writes the flip.
public protocol AlertQueue: Sendable {
    /// Alerts due at `now` and not claimed, oldest first, one per check and channel (an `up`
    /// never overtakes the `down` before it); claimed until `complete` or `release`.
    func claimDue(at now: Int64) async -> [Alert]
    /// Records an attempt at a claimed alert (durably) and says what comes next.
    func complete(_ id: UUID, with attempt: Attempt) async throws -> Outbox.Disposition
    /// Gives a claimed alert back without an attempt (delivery was cancelled).
    func release(_ id: UUID) async
    /// The earliest time an unclaimed alert is due; nil when nothing is pending.
    func nextDue() async -> Int64?
    /// How often delivery looks without being woken: a queue other processes add to (a shared
    /// database) is polled; nil for one only this process fills.
    var pollInterval: Int64? { get }
}

extension AlertQueue {
    public var pollInterval: Int64? { nil }
}

extension Outbox: AlertQueue {
    public func claimDue(at now: Int64) -> [Alert] { takeDue(at: now) }

    public func complete(_ id: UUID, with attempt: Attempt) throws -> Disposition { try record(attempt, for: id) }
}
