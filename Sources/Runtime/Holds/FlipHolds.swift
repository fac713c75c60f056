import Alerting
import CheckCatalog
import Foundation
import Monitoring

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

extension ServingCatalog {
    /// The checks `uuid` depends on (directly or through others) that are down now, as
    /// `project/key`; empty for a check without dependencies, without looking at any state.
    func downDependencies(of uuid: UUID, in states: CheckStates) -> [String] {
        dependencies(of: uuid).compactMap { states.state(of: $0.uuid).status == .down ? $0.id.description : nil }
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
