import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// SIGHUP reloads the configuration, as for most Unix daemons (`systemctl reload`,
/// `kill -HUP`), and whatever else subscribed to `HangupListeners` (the TLS certificate).
/// `kiothc serve` ignores SIGHUP from its first line, so one sent during a long startup is
/// harmless; this service says when SIGHUP starts to reload.
struct HangupSignal: Service {
    let queue: ReloadQueue
    let listeners: HangupListeners
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        let reloaded = (["the configuration"] + listeners.names).joined(separator: " and ")
        logger.info("SIGHUP reloads \(reloaded)")
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.info("SIGHUP received: reloading \(reloaded)")
            queue.notice(.signal)
            listeners.notify()
        }
        listeners.finish()
    }
}

/// What SIGHUP reloads besides the configuration, each told through a stream of its own.
/// Subscribe before the service group runs. A hangup that arrives while the subscriber is
/// still busy with the previous one is kept (one, not a count): it reloads once more.
public final class HangupListeners: Sendable {
    private let subscribers = Mutex<[(name: String, continuation: AsyncStream<Void>.Continuation)]>([])

    public init() {}

    /// `what` names it in the log ("the TLS certificate").
    public func subscribe(_ what: String) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        subscribers.withLock { $0.append((what, continuation)) }
        return stream
    }

    var names: [String] { subscribers.withLock { $0.map(\.name) } }

    func notify() {
        for subscriber in subscribers.withLock({ $0 }) { subscriber.continuation.yield() }
    }

    func finish() {
        let current = subscribers.withLock { subscribers in
            defer { subscribers = [] }
            return subscribers
        }
        for subscriber in current { subscriber.continuation.finish() }
    }
}
