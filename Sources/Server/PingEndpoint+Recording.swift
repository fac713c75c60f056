import Foundation
import HTTPTypes
import Logging
import Monitoring
import NIOCore
import PingStore

/// A ping once its request is read: applied to its check's state, stored, answered. Shared by
/// Hummingbird's responder (`respond`, suspending) and the event loop's `PingChannelHandler`
/// (`store(_:completion:)`, never suspending).
extension PingEndpoint {
    /// A ping applied to its check's state, on its way to the store.
    struct Recording: Sendable {
        let ping: AdmittedPing
        let outcome: CheckState.PingOutcome
        let previous: CheckState
        let turn: AppendTurn
        let started: ContinuousClock.Instant
    }

    /// Applies the ping to its check's state, in its turn among the check's appends. Pass the
    /// result to `store` and then to `stored`, always.
    func apply(_ ping: AdmittedPing, body: PingBody, headers: HTTPFields, peer: SocketAddress?, scheme: String) -> Recording {
        let received = ReceivedPing(
            signal: ping.signal, method: ping.method.rawValue,
            scheme: headers[.xForwardedProto] ?? scheme,
            remoteAddress: Self.remoteAddress(headers, peer: peer),
            userAgent: headers[.userAgent] ?? "",
            body: body.text, bodySize: body.size, rid: ping.rid)
        let definition = ping.entry.definition
        let (outcome, previous, turn) = states.applyInTurn(
            received, to: ping.entry.uuid, at: clock(), postOnly: definition.methods == .post, manualResume: definition.manualResume)
        return Recording(ping: ping, outcome: outcome, previous: previous, turn: turn, started: ContinuousClock.now)
    }

    /// Stores the ping (with its flip's alerts, and the check's deadline moved).
    func store(_ recording: Recording) async throws {
        if let engine {
            try await engine.store(recording.outcome, of: recording.ping.entry, turn: recording.turn)
        } else {
            await recording.turn.wait()
            try await store.append(recording.outcome.ping, to: recording.ping.entry.uuid, flip: recording.outcome.flip, queued: recording.turn.done)
        }
    }

    /// `store` without suspending, for the event loop: `completion` gets nil once stored, or
    /// the error, on this thread or the store's writer thread.
    func store(_ recording: Recording, completion: @escaping @Sendable ((any Error)?) -> Void) {
        if let engine {
            engine.store(recording.outcome, of: recording.ping.entry, turn: recording.turn, completion: completion)
        } else if recording.turn.isClear {
            store.append(
                recording.outcome.ping, to: recording.ping.entry.uuid, flip: recording.outcome.flip, queued: recording.turn.done,
                completion: completion)
        } else {
            inTask(reportingTo: completion) { try await store(recording) }
        }
    }

    /// The answer once the store has spoken: "OK" when stored; when not, the check's state is
    /// put back, the failure is logged (throttled) and the client is told to retry.
    func stored(_ recording: Recording, error: (any Error)?, logger: Logger) -> PingAnswer {
        recording.turn.done()
        guard let error else {
            meter.stored(recording.outcome.ping.kind, after: ContinuousClock.now - recording.started)
            return PingResponses.ok(head: recording.ping.head)
        }
        meter.failed()
        states.undo(recording.outcome, previous: recording.previous, of: recording.ping.entry.uuid)
        if let skipped = storeFailures.admit() {
            logger.error(
                "ping not stored: \(error)",
                metadata: ["check.uuid": "\(recording.ping.entry.uuid.uuidString.lowercased())", "not_stored_since_last_line": "\(skipped)"])
        }
        return PingResponses.unavailable()
    }
}

/// Runs `work` in a task and tells `completion` how it ended (nil, or the error): the way out
/// of the callback paths into the async ones, for the rare ping they do not take.
func inTask(reportingTo completion: @escaping @Sendable ((any Error)?) -> Void, _ work: @escaping @Sendable () async throws -> Void) {
    Task {
        do {
            try await work()
            completion(nil)
        } catch {
            completion(error)
        }
    }
}
