import Alerting
import CheckCatalog
import Foundation
import Monitoring
import PostgresStore

/// What holds a flip's alerts back (SPEC §14): a maintenance window of its check in progress at
/// the flip's time, or, for a check going down, checks it depends on being down. The flip is
/// stored marked with both, and its alerts are queued held (`Alert.hold`) until
/// `HeldAlertRelease` settles them.
extension Flip {
    /// This flip marked with what holds its alerts; unchanged when nothing does.
    /// `downDependencies`: the check's dependencies that are down now (`project/key`).
    func marked(by definition: CheckDefinition, downDependencies: [String]) -> Flip {
        guard new == .up || new == .down else { return self }
        var marked = self
        marked.maintenance = definition.maintenance.contains(time)
        if new == .down { marked.suppressedBy = downDependencies }
        return marked
    }
}

/// The statuses holds are judged by: the runtime's states, or, with a shared store, the states
/// just read from the database — another instance's flip of a dependency reaches this
/// instance's states a moment later (SPEC §11), and a hold decided from a stale `up` would let
/// an alert through.
struct HoldStatuses: Sendable {
    private let read: [UUID: CheckState.Status]
    private let cache: CheckStates

    /// The runtime's states alone.
    init(_ states: CheckStates) {
        read = [:]
        cache = states
    }

    /// With a shared store, the states of `checks` read from it now; any it does not return
    /// (or all, when it cannot be read) come from the runtime's states.
    static func current(of checks: [UUID], in shared: (any SharedCheckStore)?, cache: CheckStates) async -> HoldStatuses {
        guard let shared, !checks.isEmpty, let rows = try? await shared.states(of: checks) else { return HoldStatuses(cache) }
        return HoldStatuses(read: Dictionary(rows.map { ($0.check, $0.state.status) }, uniquingKeysWith: { $1 }), cache: cache)
    }

    private init(read: [UUID: CheckState.Status], cache: CheckStates) {
        self.read = read
        self.cache = cache
    }

    func status(of check: UUID) -> CheckState.Status {
        read[check] ?? cache.state(of: check).status
    }
}

extension ServingCatalog {
    /// The checks `uuid` depends on (directly or through others) that are down now, as
    /// `project/key`; empty for a check without dependencies, without looking at any state.
    func downDependencies(of uuid: UUID, in states: CheckStates) -> [String] {
        downDependencies(of: uuid, in: HoldStatuses(states))
    }

    func downDependencies(of uuid: UUID, in statuses: HoldStatuses) -> [String] {
        dependencies(of: uuid).compactMap { statuses.status(of: $0.uuid) == .down ? $0.id.description : nil }
    }
}

extension ServingCatalog {
    /// The check as people see it now, with what holds its alerts.
    public func view(of entry: Entry, states: CheckStates, now: Int64) -> CheckView {
        let state = states.state(of: entry.uuid)
        return CheckView(
            uuid: entry.uuid, definition: entry.definition, state: state, now: now,
            downDependencies: state.status == .down ? downDependencies(of: entry.uuid, in: states) : [])
    }
}
