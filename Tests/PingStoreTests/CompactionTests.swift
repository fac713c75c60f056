import Foundation
import Monitoring
import Testing

@testable import PingStore

@Suite("Retention and compaction")
struct CompactionTests {
    @Test("compaction keeps the newest keepPings pings and rewrites the file atomically")
    func keepsNewest() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions(keep: 10))
            defer { try? store.close() }
            for n in 1...50 { try await store.append(samplePing(n, body: "body \(n)"), to: checkA) }
            #expect(try store.compact(checkA) == 40)
            #expect(try store.pings(of: checkA, limit: 100).map(\.n) == Array((41...50).reversed()))
            #expect(try store.ping(of: checkA, n: 41)?.body == "body 41")
            #expect(try store.compact(checkA) == 0, "nothing left to drop")
            // No temp file stays behind; appends continue in the new file.
            #expect(try FileSystem.list(dir.data.pings).sorted() == ["\(DataDirectory.name(checkA)).jsonl"])
            try await store.append(samplePing(51), to: checkA)
            #expect(try store.pings(of: checkA, limit: 1).first?.n == 51)
            #expect(store.statistics.compactions == 1)
        }
    }

    @Test("pings appended while a compaction runs are not lost")
    func concurrentAppends() async throws {
        try await TemporaryDirectory.with { dir in
            let faults = FaultInjector()
            let store = try PingStore.open(dir.data, options: testOptions(keep: 10, faults: faults))
            defer { try? store.close() }
            for n in 1...50 { try await store.append(samplePing(n), to: checkA) }
            // Queue 20 appends the writer has not written yet, then let the compactor read the
            // file (50 pings) and queue its swap behind them.
            faults.holdWriter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 51...70 {
                    group.addTask { try await store.append(samplePing(n), to: checkA) }
                    await waitForQueue(store, count: n - 50)
                }
                let compaction = Task { try await onThread { try store.compact(checkA) } }
                await waitForQueue(store, count: 21)
                faults.releaseWriter()
                try await group.waitForAll()
                #expect(try await compaction.value == 40)
            }
            #expect(try store.pings(of: checkA, limit: 100).map(\.n) == Array((41...70).reversed()))
        }
    }

    @Test("the writer asks for compaction once a check grew by a quarter of keepPings")
    func compactionTrigger() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions(keep: 64))
            defer { try? store.close() }
            for n in 1...100 { try await store.append(samplePing(n), to: checkA) }
            try store.compactPending()
            #expect(try store.pings(of: checkA, limit: 1000).count == 64)
            try store.compactAll()
            #expect(store.statistics.compactions == 1)
        }
    }
}
