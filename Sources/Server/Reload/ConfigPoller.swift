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
            var last = await fingerprint()
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
        return await Reloader.offThread { try? ConfigFingerprint.compute(directory: directory) }
    }
}
