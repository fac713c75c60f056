import Alerting
import Foundation
import Logging
import ServiceLifecycle

/// Runs the deadline scheduler until the service group shuts down; every successful reload
/// makes it recompute the deadlines of the checks it changed (schedules, timeouts, grace or
/// `paused` may have).
struct DeadlineService: Service {
    let engine: StatusEngine
    let changes: AsyncStream<CatalogUpdate>

    func run() async throws {
        let engine = engine
        let changes = changes
        enum Ended { case changes, engine }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Ended.self) { group in
                group.addTask {
                    for await update in changes { engine.catalogChanged(update) }
                    return .changes
                }
                group.addTask {
                    await engine.run()
                    return .engine
                }
                // Only the engine's end (at graceful shutdown) ends the service: the change
                // stream may finish first while the group shuts down in reverse order, and a
                // service returning before it is asked to stop fails the whole group (exit 1).
                while let ended = await group.next(), ended != .engine {}
                group.cancelAll()
            }
        }
    }
}

/// Settles held alerts until the service group shuts down; what is still held stays in the
/// alert queue for the next start.
struct HoldService: Service {
    let holds: HeldAlertRelease

    func run() async throws {
        await cancelWhenGracefulShutdown { await holds.run() }
    }
}

/// Sends alerts from the outbox until the service group shuts down; what is still pending
/// stays in the outbox for the next start.
struct AlertService: Service {
    let dispatcher: AlertDispatcher
    /// The file store's outbox, closed at the end (a shared store's queue is its database's).
    let outbox: Outbox?
    let clock: RuntimeClock

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await dispatcher.run(now: clock.now)
        }
        try? await outbox?.close()
    }
}

/// Keeps the store's queue of alerts small: once a minute, the alerts the outbox has taken
/// (and synced) leave `alerts/queued.jsonl`. A failure is logged and tried again next time;
/// nothing is lost meanwhile, the queue only grows.
struct QueuedAlertTrimming: Service {
    let store: FileStore
    let logger: Logger
    static let interval: Duration = .seconds(60)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.interval)
                if Task.isCancelled { return }
                do {
                    try await store.trimQueuedAlerts()
                } catch {
                    logger.warning("cannot trim the store's queue of alerts; it is tried again in a minute: \(error)")
                }
            }
        }
    }
}
