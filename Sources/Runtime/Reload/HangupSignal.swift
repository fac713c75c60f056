import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP reloads the configuration, as for most Unix daemons (`systemctl reload`,
/// `kill -HUP`). `kiothc serve` ignores SIGHUP from its first line, so one sent during a long
/// startup is harmless; this service says when SIGHUP starts to reload.
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
