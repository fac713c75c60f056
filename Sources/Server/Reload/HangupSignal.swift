import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP reloads the configuration, as for most Unix daemons (`systemctl reload`,
/// `kill -HUP`). Until this service has installed its handler a SIGHUP would end the
/// process, so it says when it is ready.
struct HangupSignal: Service {
    let queue: ReloadQueue
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        logger.info("SIGHUP reloads the configuration")
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.info("SIGHUP received: reloading the configuration")
            queue.notice(.signal)
        }
    }
}
