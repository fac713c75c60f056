import BlockingWork
import Foundation

/// Where alerts wait to be sent, as delivery sees it: claim what is due, record each attempt,
/// give back what was not tried; and what the API and the dashboard read back. The file
/// store's `Outbox` is one; a database store gives its own (claims across instances, SPEC §11).
/// Alerts enter the queue with their flip, through the store that writes the flip; test
/// notifications through `enqueue`.
public protocol AlertQueue: Sendable {
    /// Alerts due at `now` and not claimed, oldest first, one per check and channel (an `up`
    /// never overtakes the `down` before it; tests neither wait nor block); claimed until
    /// `complete` or `release`.
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
    /// Queues an alert that has no flip (a test notification), durably, due at once.
    func enqueue(_ alert: Alert) async throws
    /// An alert queued not long ago, with its attempts so far; nil when it is not known.
    func record(of id: UUID) async throws -> AlertRecord?
    /// A check's alerts, newest first, at most `limit`.
    func history(of check: UUID, limit: Int) async throws -> [AlertRecord]
    /// Every pending alert of each check+channel that has a held alert pending: the held ones
    /// and those queued behind them, in queue order (oldest first). Never tests.
    func heldBack() async throws -> [HeldBackAlert]
    /// Settles alerts `heldBack` returned: `.send` releases a held one (due at `now`; for one
    /// not held, nothing changes), `.withdraw(reason:)` finishes one unsent (held, or queued
    /// behind a held one), with the reason recorded. Only alerts still held back when the call
    /// begins are touched (for `.send`, still held), and none being tried: another instance may
    /// have settled them first, and of two settling the same alert only one changes it (a
    /// released alert is no longer withdrawn). Returns the ids this call changed. Durable
    /// before it returns.
    func settle(_ decisions: [UUID: Settlement], at now: Int64) async throws -> Set<UUID>
}

/// A pending alert of a check and channel whose queue a held alert blocks (`heldBack`).
public struct HeldBackAlert: Sendable, Hashable {
    public var alert: Alert
    /// Held itself (`alert.hold`, not yet settled); false for one only queued behind a held one.
    public var held: Bool

    public init(alert: Alert, held: Bool) {
        self.alert = alert
        self.held = held
    }
}

/// What becomes of a held-back alert (`AlertQueue.settle`).
public enum Settlement: Sendable, Hashable {
    /// Released: due at once, then delivered and retried like any alert.
    case send
    /// Finished unsent, the reason recorded in its history.
    case withdraw(reason: String)
}

extension AlertQueue {
    public var pollInterval: Int64? { nil }
}

extension Outbox: AlertQueue {
    public func claimDue(at now: Int64) -> [Alert] { takeDue(at: now) }

    public func complete(_ id: UUID, with attempt: Attempt) throws -> Disposition { try record(attempt, for: id) }

    public func enqueue(_ alert: Alert) throws { try enqueue([alert]) }

    public func record(of id: UUID) -> AlertRecord? { entry(id)?.record }

    public nonisolated func history(of check: UUID, limit: Int) async -> [AlertRecord] {
        let directory = (path as NSString).deletingLastPathComponent
        let policy = policy
        return await blocking(named: "kiothc-alerts") { OutboxHistory.records(directory: directory, check: check, limit: limit, policy: policy) }
    }
}
