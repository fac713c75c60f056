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

    static let day: Int64 = 86_400 * 1_000_000
    static let now: Int64 = 1_800_000_000 * 1_000_000

    /// Alternating up/down timeout flips at the given times.
    static func appendFlips(_ store: PingStore, _ check: UUID, at times: [Int64]) async throws {
        for (index, time) in times.enumerated() {
            let down = index.isMultiple(of: 2)
            try await store.append(Flip(time: time, old: down ? .up : .down, new: down ? .down : .up, reason: down ? .timeout : .ping), to: check)
        }
    }

    @Test("flips older than 93 days are dropped, never the newest 64; numbering goes on")
    func flipRetention() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            let (day, now) = (Self.day, Self.now)
            // 100 flips 200…101 days old, then 10 of the last 10 days.
            try await Self.appendFlips(store, checkA, at: (0..<100).map { now - (200 - Int64($0)) * day } + (0..<10).map { now - (10 - Int64($0)) * day })
            #expect(try store.compactFlips(checkA, now: now) == 46, "110 flips, the newest 64 kept")
            #expect(try store.flips(of: checkA, limit: 1_000).map(\.n) == Array((47...110).reversed()))
            #expect(try store.compactFlips(checkA, now: now) == 0)
            try await store.append(Flip(time: now, old: .down, new: .up, reason: .ping), to: checkA)
            #expect(try store.flips(of: checkA, limit: 1).first?.n == 111)

            // 93 days exactly is kept (at least 93 days); one microsecond more is not.
            try await Self.appendFlips(store, checkB, at: [now - 93 * day - 1] + (0..<70).map { now - 93 * day + Int64($0) })
            #expect(try store.compactFlips(checkB, now: now) == 1)
            #expect(try store.flips(of: checkB, limit: 1_000).count == 70)
        }
    }

    @Test("a flip young enough stops the cut: an older one after it stays")
    func flipOrder() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            let (day, now) = (Self.day, Self.now)
            let times = (0..<10).map { now - 300 * day + Int64($0) } + [now - day, now - 300 * day] + (0..<70).map { now - 200 * day + Int64($0) }
            try await Self.appendFlips(store, checkA, at: times)
            #expect(try store.compactFlips(checkA, now: now) == 10)
        }
    }

    @Test("the writer asks for a flip compaction every 256 flips of a check; the flips of the last 93 days stay")
    func flipCompactionTrigger() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            let (day, now) = (Self.day, Self.now)
            try await Self.appendFlips(store, checkA, at: (0..<255).map { now - 100 * day + Int64($0) })
            try store.compactPending(now: now)
            #expect(try store.flips(of: checkA, limit: 1_000).count == 255, "not asked yet")
            try await Self.appendFlips(store, checkA, at: [now - day])
            try store.compactPending(now: now)
            #expect(try store.flips(of: checkA, limit: 1_000).count == 64)
            #expect(try store.reader.loadState(of: checkA).status == .down, "the state rebuilt from the kept flips")
        }
    }
}
