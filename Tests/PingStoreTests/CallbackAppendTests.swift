import Foundation
import Monitoring
import Synchronization
import Testing

@testable import PingStore

/// `append(_:to:completion:)`, the event loop's way in: no suspension, the writer thread
/// answers.
@Suite("PingStore: callback appends")
struct CallbackAppendTests {
    /// The callback append as a test awaits it; `onCaller`: the completion ran on the thread
    /// that called `append`, before it returned.
    static func append(_ store: PingStore, _ ping: Ping, to check: UUID) async -> (error: (any Error)?, onCaller: Bool) {
        await withCheckedContinuation { continuation in
            let caller = pthread_self()
            let returned = Mutex(false)
            store.append(ping, to: check) { error in
                let onCaller = pthread_equal(pthread_self(), caller) != 0 && !returned.withLock { $0 }
                continuation.resume(returning: (error, onCaller))
            }
            returned.withLock { $0 = true }
        }
    }

    @Test("the writer thread completes a callback append once it is stored, in both durabilities", arguments: [PingStore.Durability.write, .fsync])
    func stored(durability: PingStore.Durability) async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions(durability))
            let (error, onCaller) = await Self.append(store, samplePing(1), to: checkA)
            #expect(error == nil)
            #expect(!onCaller, "written by the writer thread, never on the caller's (an event loop)")
            #expect(try store.pings(of: checkA, limit: 1).map(\.n) == [1], "stored before the completion ran")
            #expect(store.statistics.journalSyncs == (durability == .fsync ? 1 : 0))
            try store.close()
        }
    }

    @Test("concurrent callback appends to many checks all land, in each check's order, sharing batches")
    func concurrent() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions(.fsync))
            let checks = (0..<50).map { _ in UUID() }
            let done = Mutex(0)
            await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                // Each check's pings are appended in order (the turn the server keeps), all
                // checks at once.
                for n in 1...20 {
                    for check in checks {
                        store.append(samplePing(n), to: check) { error in
                            #expect(error == nil)
                            if done.withLock({ $0 += 1; return $0 }) == checks.count * 20 { finished.resume() }
                        }
                    }
                }
            }
            try store.close()
            for check in checks {
                let numbers = try lines(dir.data.pingFile(check)).map { try PingLine.decode(ArraySlice($0.utf8)).n }
                #expect(numbers == Array(1...20))
            }
            #expect(store.statistics.records == 1_000)
            #expect(store.statistics.journalSyncs < 1_000, "batches share a flush")
        }
    }

    @Test("a failed write reaches the completion as the store's error; nothing is stored")
    func failure() async throws {
        try await TemporaryDirectory.with { dir in
            let faults = FaultInjector()
            let store = try PingStore.open(dir.data, options: testOptions(faults: faults))
            defer { try? store.close() }
            faults.fail(.journalWrite, with: ENOSPC)
            let (error, _) = await Self.append(store, samplePing(1), to: checkA)
            #expect((error as? StoreError)?.errno == ENOSPC)
            faults.heal()
            #expect(try store.pings(of: checkA, limit: 10).isEmpty)
        }
    }

    @Test("a callback append after close is refused at once with a clear error")
    func closed() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            try store.close()
            let (error, onCaller) = await Self.append(store, samplePing(1), to: checkA)
            #expect((error as? StoreError)?.kind == .closed)
            #expect(onCaller, "refused at once, before append returns")
        }
    }
}
