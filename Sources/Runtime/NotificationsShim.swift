// TEMPORARY (notify-ui branch): stands in for the lead's `Runtime.notifications` and
// `Runtime.sendTest` until they are on main; deleted when main is merged. Test notifications
// are tried once, directly, and kept in memory.
import Alerting
import Foundation
import Synchronization

private let shimRecords = Mutex<[ObjectIdentifier: [AlertRecord]]>([:])

struct ShimSendTestError: Error, CustomStringConvertible {
    let description: String
}

extension Runtime {
    public func notifications(of check: UUID, limit: Int) async throws -> [AlertRecord] {
        let all = shimRecords.withLock { $0[ObjectIdentifier(self)] ?? [] }
        return Array(all.filter { $0.alert.check == check }.reversed().prefix(limit))
    }

    public func sendTest(project: String, channel name: String, check: UUID?) async throws -> AlertRecord {
        guard let found = catalog.snapshot.catalog.project(project) else { throw ShimSendTestError(description: "no project '\(project)'") }
        guard let channel = found.channel(named: name) else {
            throw ShimSendTestError(description: "no channel '\(name)' in project '\(project)'")
        }
        let now = clock.now()
        let values = AlertValues(
            name: "test", slug: "test", code: check?.uuidString.lowercased() ?? "", status: "down", now: "", tags: "", project: project, exitStatus: "",
            body: "")
        let alert = Alert(
            check: check ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), project: project, channel: name, direction: .down, flipTime: now,
            created: now, values: values, test: true)
        let attempt = await Courier(environment: ProcessInfo.processInfo.environment).deliver(alert, via: channel, at: now)
        let record = AlertRecord(alert: alert, attempts: [attempt], state: attempt.outcome == .delivered ? .delivered : .gaveUp, nextAttempt: nil)
        shimRecords.withLock { $0[ObjectIdentifier(self), default: []].append(record) }
        return record
    }
}
