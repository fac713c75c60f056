import Foundation

/// Starts a thread of the store's own, named so that `top -H`, `ps -L` and `perf` tell it from
/// Swift's pool threads. The name is written to `/proc/thread-self/comm` from the thread
/// itself: Foundation's `Thread.name` does not reach the system's thread on Linux, and Linux
/// keeps at most 15 bytes of a name.
func startThread(named name: String, _ body: @escaping @Sendable () -> Void) {
    precondition(name.utf8.count <= 15, "a Linux thread name holds 15 bytes: \(name)")
    Thread {
        #if os(Linux)
        // Best effort: without /proc the thread keeps its creator's name.
        try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
        #endif
        body()
    }.start()
}
