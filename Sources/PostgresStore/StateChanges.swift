import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Synchronization

/// What the other instances change, as it happens: every transaction that changes checks
/// sends `NOTIFY kiothc_checks '<instance> <uuid>:<version> …'` as it commits; this listens on a
/// connection of its own and reads back the states of the checks others changed. After every
/// (re)connect it yields every live check's state (notifications sent while it was away are
/// lost), so a cache fed from here stays complete; versions make stale copies harmless.
extension PostgresStore {
    /// Delay between attempts to reconnect the listener.
    static let relistenDelay: Duration = .seconds(1)
    /// Changes others made are read back at most this often (a deadline they moved is seen
    /// that much later at most).
    static let coalescing: Duration = .milliseconds(50)

    /// Until cancelled: batches of states others changed (the first one: every live check).
    public func changes() -> AsyncStream<[VersionedState]> {
        AsyncStream { continuation in
            let task = Task {
                var failures = 0
                while !Task.isCancelled {
                    do {
                        try await listen(continuation, connected: {
                            if failures > 0 { self.logger.notice("listening to the other instances' changes again") }
                            failures = 0
                        })
                    } catch is CancellationError {
                        break
                    } catch {
                        if failures == 0 {
                            logger.warning("lost the notifications of the other instances' changes; reconnecting: \(DatabaseError("listen", error))")
                        }
                        failures += 1
                    }
                    try? await Task.sleep(for: Self.relistenDelay)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func listen(_ continuation: AsyncStream<[VersionedState]>.Continuation, connected: () -> Void) async throws {
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: try location.connectionConfiguration(), id: 1, logger: logger)
        defer { Task { try? await connection.close() } }
        try await connection.listen(on: UpdateBatcher.channel) { notifications in
            // Listening now: whatever changed before is read once, whole.
            continuation.yield(try await states())
            connected()
            // Notifications come per batch, hundreds a second under load: the checks they name
            // are gathered and read back together, at most every `coalescing`.
            let changed = ChangedChecks()
            let wakeup = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in wakeup.stream {
                        try await Task.sleep(for: Self.coalescing)
                        let checks = changed.take()
                        if !checks.isEmpty { continuation.yield(try await self.states(of: checks)) }
                    }
                }
                for try await notification in notifications {
                    let others = Self.changedByOthers(notification.payload, instance: instance)
                    guard !others.isEmpty else { continue }
                    changed.add(others)
                    wakeup.continuation.yield()
                }
                wakeup.continuation.finish()
                try await group.waitForAll()
            }
        }
    }

    /// The checks a notification names, unless this instance sent it.
    static func changedByOthers(_ payload: String, instance: String) -> [UUID] {
        let parts = payload.split(separator: " ")
        guard let sender = parts.first, sender != instance else { return [] }
        return parts.dropFirst().compactMap { item in
            item.split(separator: ":").first.flatMap { UUID(uuidString: String($0)) }
        }
    }
}

/// Checks named by notifications and not read back yet.
private final class ChangedChecks: Sendable {
    private let checks = Mutex<Set<UUID>>([])

    func add(_ more: [UUID]) { checks.withLock { $0.formUnion(more) } }

    func take() -> [UUID] {
        checks.withLock { checks in
            defer { checks = [] }
            return Array(checks)
        }
    }
}
