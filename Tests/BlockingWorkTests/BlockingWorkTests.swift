import BlockingWork
import Dispatch
import Foundation
import Synchronization
import Testing

#if os(Linux)
/// The name of the calling thread, as `top -H`, `ps -L` and `perf` show it.
private func ownThreadName() -> String? {
    (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// The names of this process's threads, as seen from outside them.
private func threadNames() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { task in
        try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

@Suite("BlockingWork: named threads off the cooperative pool")
struct BlockingWorkTests {
    @Test("startThread runs its body on a thread carrying the name, seen from inside and from /proc/self/task")
    func startThreadNames() async throws {
        let release = DispatchSemaphore(value: 0)
        let (seen, continuation) = AsyncStream<String?>.makeStream()
        // 15 bytes, the most Linux keeps.
        startThread(named: "bw-test-15bytes") {
            continuation.yield(ownThreadName())
            // Stay alive (bounded) until the test has looked from outside: the test signals at
            // once, so the bound only matters if it never does (a loaded CI machine took over
            // 5 s to resume the test once).
            _ = release.wait(timeout: .now() + 120)
            continuation.finish()
        }
        var inside: String?? = nil
        for await name in seen {
            inside = name
            break
        }
        #expect(inside == "bw-test-15bytes")
        let outside = try threadNames()
        release.signal()
        #expect(outside.contains("bw-test-15bytes"), "\(outside)")
    }

    @Test("blocking returns the work's result, computed on a thread carrying the name")
    func blockingResult() async {
        let (name, answer) = await blocking(named: "bw-test-result") { (ownThreadName(), 6 * 7) }
        #expect(name == "bw-test-result")
        #expect(answer == 42)
        // The caller resumes on the pool, not on the work's thread.
        #expect(ownThreadName() != "bw-test-result")
    }

    @Test("blocking work holds no pool thread: more blocked works than the pool has threads all run at once")
    func blockingLeavesThePool() async {
        // Every work blocks until all have started. Run on the cooperative pool (one thread per
        // core), at most that many could start, and the others would wait out the bound.
        let count = ProcessInfo.processInfo.activeProcessorCount + 4
        let started = Started()
        let all = DispatchSemaphore(value: 0)
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<count {
                group.addTask {
                    await blocking(named: "bw-test-wait") {
                        let now = started.count.withLock { $0 += 1; return $0 }
                        if now == count {
                            for _ in 0..<count { all.signal() }
                        }
                        return all.wait(timeout: .now() + 10) == .success
                    }
                }
            }
            var results: [Bool] = []
            for await result in group { results.append(result) }
            return results
        }
        #expect(results.count == count)
        #expect(results.allSatisfy { $0 }, "only \(started.count.withLock { $0 }) of \(count) works started within 10 s")
    }
}

/// How many of the works have started.
private final class Started: Sendable {
    let count = Mutex(0)
}
#endif
