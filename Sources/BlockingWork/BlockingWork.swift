import Foundation
import Synchronization

// The one way our code leaves Swift's cooperative pool for blocking work (a writer's fsyncs, an
// inotify read loop, waitpid, a pipe read to its end, a config load): a thread of its own, named.
// The pool has one thread per core and on Linux Dispatch's global queues share them, so blocking
// one of them delays pings, deadlines and timers.

/// Starts a thread named `name`, so that `top -H`, `ps -L` and `perf` tell it from Swift's pool
/// threads, and runs `body` on it. The name is written to `/proc/thread-self/comm` from the
/// thread itself: Foundation's `Thread.name` does not reach the system's thread on Linux, and
/// Linux keeps at most 15 bytes of a name.
public func startThread(named name: String, _ body: @escaping @Sendable () -> Void) {
    precondition(name.utf8.count <= 15, "a Linux thread name holds 15 bytes: \(name)")
    Thread {
        #if os(Linux)
        // Best effort: without /proc the thread keeps its creator's name.
        try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
        #endif
        body()
    }.start()
}

/// Runs blocking `work` on a thread of its own named `name` (see `startThread`) and returns its
/// result; the calling task is suspended meanwhile, holding no thread of the cooperative pool.
public func blocking<T: Sendable>(named name: String, _ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        startThread(named: name) { continuation.resume(returning: work()) }
    }
}
