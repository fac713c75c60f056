import Alerting
import Foundation
import ServiceLifecycle

/// Runs the deadline scheduler until the service group shuts down; every successful reload
/// makes it recompute all deadlines (schedules, timeouts, grace or `paused` may have changed).
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
                    for await _ in changes { engine.catalogChanged() }
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

/// Sends alerts from the outbox until the service group shuts down; what is still pending
/// stays in the outbox for the next start.
struct AlertService: Service {
    let dispatcher: AlertDispatcher

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await dispatcher.run { Int64(Date().timeIntervalSince1970 * 1_000_000) }
        }
        try? await dispatcher.outbox.close()
    }
}

extension StatusEngine {
    /// The environment variable behind `ServeOptions.testTimeScale` (tests only).
    static let timeScaleVariable = "KIOTHC_TEST_TIME_SCALE"
}

extension PingServer {
    /// Pauses a check at runtime (issue 7 puts the API and CLI on top). nil: already paused.
    public func pause(_ uuid: UUID) async throws -> Bool {
        try await engine.pause(uuid) != nil
    }

    /// Resumes a paused check; throws when it is not paused or unknown.
    public func resume(_ uuid: UUID) async throws {
        try await engine.resume(uuid)
    }
}
