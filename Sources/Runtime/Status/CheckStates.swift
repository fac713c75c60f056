import Foundation
import Monitoring
import Synchronization

/// The runtime state of every check, updated by each ping under a short lock (never held
/// across I/O or an await). The checks are spread over `shardCount` locks by UUID, so pings of
/// different checks on different event loops do not wait for each other (a ping's lock also
/// covers handing it to the store's queue, `apply(…then:)`).
public final class CheckStates: Sendable {
    private struct Entries {
        var states: [UUID: CheckState]
        /// With a shared store: the version of each cached state (`refresh`).
        var versions: [UUID: Int64] = [:]
    }

    private final class Shard: Sendable {
        let entries: Mutex<Entries>
        init(_ states: [UUID: CheckState]) { entries = Mutex(Entries(states: states)) }
    }

    static let shardCount = 64
    private let shards: [Shard]

    public init(_ initial: [UUID: CheckState]) {
        var split = [[UUID: CheckState]](repeating: [:], count: Self.shardCount)
        for (uuid, state) in initial { split[Self.shard(of: uuid)][uuid] = state }
        shards = split.map(Shard.init)
    }

    /// A v4 UUID's last byte is random; any UUID's spreads well enough.
    private static func shard(of uuid: UUID) -> Int { Int(uuid.uuid.15) % shardCount }

    /// `body` on the states of the shard holding `uuid`, under its lock.
    func locked<T>(_ uuid: UUID, _ body: (inout [UUID: CheckState]) -> T) -> T {
        shards[Self.shard(of: uuid)].entries.withLock { body(&$0.states) }
    }

    /// With a shared store (SPEC §11), these states are a cache of the store's: each update's
    /// outcome and each change another instance made comes here with its version, and only a
    /// newer version replaces what is cached. Returns whether it did.
    @discardableResult
    func refresh(_ uuid: UUID, to state: CheckState, version: Int64) -> Bool {
        shards[Self.shard(of: uuid)].entries.withLock { entries in
            if let cached = entries.versions[uuid], cached >= version { return false }
            entries.versions[uuid] = version
            entries.states[uuid] = state
            return true
        }
    }

    /// Applies a ping to a check's state and returns the outcome to store, plus the state
    /// before, so the change can be undone if the store refuses the ping.
    public func apply(
        _ received: ReceivedPing, to uuid: UUID, at now: Int64, postOnly: Bool, manualResume: Bool
    ) -> (outcome: CheckState.PingOutcome, previous: CheckState) {
        locked(uuid) { states in
            Self.applying(received, to: &states[uuid, default: .new], at: now, postOnly: postOnly, manualResume: manualResume)
        }
    }

    /// `apply`, then `record(outcome, previous)` under the same lock: the store call that
    /// fixes the ping's place among its check's records goes in the order the pings were
    /// numbered (recovery and startup rely on a file's lines being in `n` order). `record` must
    /// only queue, never wait or call back into these states.
    func apply(
        _ received: ReceivedPing, to uuid: UUID, at now: Int64, postOnly: Bool, manualResume: Bool,
        then record: (CheckState.PingOutcome, CheckState) -> Void
    ) {
        locked(uuid) { states in
            // One hash lookup (the ping path's profile showed UUID lookups at ~1 %).
            let (outcome, previous) = Self.applying(received, to: &states[uuid, default: .new], at: now, postOnly: postOnly, manualResume: manualResume)
            record(outcome, previous)
        }
    }

    /// `apply` on the state in place (one dictionary lookup through `subscript(_:default:)`).
    static func applying(
        _ received: ReceivedPing, to state: inout CheckState, at now: Int64, postOnly: Bool, manualResume: Bool
    ) -> (outcome: CheckState.PingOutcome, previous: CheckState) {
        let previous = state
        let outcome = previous.applying(received, at: now, postOnly: postOnly, manualResume: manualResume)
        state = outcome.state
        return (outcome, previous)
    }

    /// Restores `previous` when nothing else changed the check since `outcome` was applied,
    /// so a ping that was not stored leaves no trace in memory either.
    func undo(_ outcome: CheckState.PingOutcome, previous: CheckState, of uuid: UUID) {
        locked(uuid) { states in
            if states[uuid] == outcome.state { states[uuid] = previous }
        }
    }

    /// Drops a removed check's state (its UUID never comes back).
    func forget(_ uuid: UUID) {
        _ = locked(uuid) { $0.removeValue(forKey: uuid) }
    }

    public func state(of uuid: UUID) -> CheckState {
        locked(uuid) { $0[uuid] ?? .new }
    }
}
