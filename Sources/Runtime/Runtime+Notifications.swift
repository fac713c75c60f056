import Alerting
import CheckCatalog
import Foundation

/// What the API, the dashboard and `kiothc notify` ask of alert delivery (SPEC §12): a check's
/// alerts with their attempts, and test notifications.
extension Runtime {
    /// A check's alerts, newest first, with their attempts, from the store's queue and history.
    public func notifications(of check: UUID, limit: Int) async throws -> [AlertRecord] {
        try await store.alerts.history(of: check, limit: limit)
    }

    /// Queues a test notification through a project's channel (about `check`, a check of that
    /// project, when given), wakes delivery, and returns its record once its one try is over,
    /// or as it stands (pending) after `wait`.
    public func sendTest(project id: String, channel name: String, check: UUID?, wait: Duration = .seconds(20)) async throws -> AlertRecord {
        let snapshot = catalog.snapshot
        guard let project = snapshot.catalog.project(id) else { throw TestNotificationRefused("there is no project '\(id)'") }
        guard let channel = project.channel(named: name) else {
            let names = project.channels.map(\.name)
            throw TestNotificationRefused(
                "project '\(id)' has no channel '\(name)'" + (names.isEmpty ? "; it has no channels" : "; its channels: \(names.joined(separator: ", "))"))
        }
        var about: (uuid: UUID, definition: CheckDefinition, lastPing: Int64?)?
        if let check {
            guard let entry = snapshot.check(check), entry.definition.id.project == id else {
                throw TestNotificationRefused("project '\(id)' has no check \(check.uuidString.lowercased())")
            }
            about = (check, entry.definition, states.state(of: check).lastPing)
        }
        let alert = Alert.test(through: channel, of: project, check: about, now: clock.now())
        try await store.alerts.enqueue(alert)
        logger.info(
            "test notification queued",
            metadata: ["channel": "\(id)/\(name)", "alert.id": "\(alert.id.uuidString.lowercased())"])
        dispatcher.wakeup.signal()
        let deadline = ContinuousClock.now + wait
        while true {
            let record = try await store.alerts.record(of: alert.id)
            if let record, record.state != .pending { return record }
            if ContinuousClock.now >= deadline {
                return record ?? AlertRecord(alert: alert, attempts: [], state: .pending, nextAttempt: alert.created)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A test notification that cannot be sent: no such project, channel or check.
public struct TestNotificationRefused: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}
