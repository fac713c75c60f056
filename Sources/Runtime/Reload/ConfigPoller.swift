import BlockingWork
import Logging
import ServiceLifecycle

/// The fallback for file systems where inotify sees nothing (NFS, some container mounts, a
/// ConfigMap on an exotic volume): every `interval`, fingerprint the config tree (paths,
/// sizes, mtimes, content hash) and wake the reloader when it differs from the last one.
struct ConfigPoller: Service {
    let directory: String
    let interval: Duration
    let queue: ReloadQueue
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            // nil, not the tree as it is now: a change made after the start loaded the
            // configuration and before this service ran would otherwise never be noticed. The
            // first poll always wakes the reloader, which skips a reload when the content hash
            // is the one it loaded.
            var last: ConfigFingerprint?
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                let now = await fingerprint()
                if now != last {
                    last = now
                    queue.notice(.poll)
                }
            }
        }
    }

    private func fingerprint() async -> ConfigFingerprint? {
        let directory = directory
        return await blocking(named: "kiothc-poll") { try? ConfigFingerprint.compute(directory: directory) }
    }
}
