import BlockingWork
import Glibc
import Logging
import ServiceLifecycle

/// Reloads the TLS certificate and key on SIGHUP (the runtime's `HangupListeners`) and when
/// their files change: every `interval` it looks at both (device, inode, size and modification
/// time, through symbolic links), which sees a certificate manager renaming new files into
/// place, Kubernetes swapping the `..data` link of a secret volume, and files rewritten in
/// place. One reload at a time, each on a thread of its own (it reads files).
struct CertificateReloadService: Service {
    let certificate: ServingCertificate
    let hangups: AsyncStream<Void>
    /// nil: SIGHUP only.
    let interval: Duration?

    func run() async {
        let (triggers, trigger) = AsyncStream<ServingCertificate.Trigger>.makeStream()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in hangups { trigger.yield(.signal) }
                }
                if let interval {
                    group.addTask { await watch(every: interval, trigger) }
                }
                group.addTask {
                    for await reason in triggers {
                        guard !Task.isCancelled else { return }
                        let certificate = certificate
                        _ = await blocking(named: "kiothc-tls") { certificate.reload(after: reason) }
                    }
                }
            }
        }
        trigger.finish()
    }

    private func watch(every interval: Duration, _ trigger: AsyncStream<ServingCertificate.Trigger>.Continuation) async {
        // A certificate and its key are often replaced one after the other (certbot's links);
        // a change is acted on once both files stayed the same for this long.
        let settle = min(interval, .milliseconds(250))
        // nil, not the files as they are now: a change made after the start loaded them and
        // before this first look would otherwise never be seen. The first look always asks for
        // a reload, which does nothing when the files hold the pair in use.
        var last: [FileLook]?
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            let seen = await look()
            guard seen != last else { continue }
            do {
                try await Task.sleep(for: settle)
            } catch {
                return
            }
            // Still changing: looked at again at the next poll.
            guard await look() == seen else { continue }
            last = seen
            trigger.yield(.files)
        }
    }

    private func look() async -> [FileLook] {
        let paths = [certificate.certificatePath, certificate.keyPath]
        return await blocking(named: "kiothc-tls-poll") { paths.map(FileLook.init(path:)) }
    }
}

/// What `stat` says about a file (its target, through symbolic links): a new file in its
/// place has another inode, a file rewritten in place another size or modification time.
struct FileLook: Sendable, Equatable {
    var device: UInt64 = 0
    var inode: UInt64 = 0
    var size: Int64 = 0
    var modified: Int64 = 0
    var modifiedNanoseconds: Int64 = 0
    /// Why `stat` failed (a file being replaced, a broken link), 0 when it did not.
    var error: Int32 = 0

    init(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            error = errno
            return
        }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(info.st_mtim.tv_nsec)
    }
}
