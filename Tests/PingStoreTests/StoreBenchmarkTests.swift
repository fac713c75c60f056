import Foundation
import Monitoring
import Testing

@testable import PingStore

/// The store at scale: many checks and pings at startup, many concurrent writers. Measurements
/// for SPEC §9 at full size with `KIOTHC_STORE_BENCH=1 swift test --filter StoreBenchmark`
/// (release: add `-c release`); in the test suite, a twentieth of that, so it always runs. They
/// print numbers and assert only correctness, never a time.
@Suite("Store at scale (full size with KIOTHC_STORE_BENCH=1)")
struct StoreBenchmarkTests {
    static let fullSize = ProcessInfo.processInfo.environment["KIOTHC_STORE_BENCH"] != nil

    @Test("startup with many checks and stored pings (full size: 10,000 checks, 1,000,000 pings)")
    func startup() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let checks = Self.fullSize ? 10_000 : 500
            let perCheck = 100
            let rid = UUID()
            // Written directly (the format is the store's own) to keep set-up short.
            for index in 0..<checks {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(perCheck * 220)
                for n in 1...perCheck {
                    var ping = samplePing(n, kind: n % 2 == 1 ? .start : .success, body: n % 10 == 0 ? "backup done, 42 files" : nil)
                    ping.rid = rid
                    if n % 2 == 0 { ping.duration = 1_000_000 }
                    bytes += PingLine.encode(ping)
                }
                try Data(bytes).write(to: URL(fileURLWithPath: dir.data.pingFile(UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", index)) ?? UUID())))
            }
            let clock = ContinuousClock()
            var store: PingStore?
            let openTime = try clock.measure { store = try PingStore.open(dir.data, options: testOptions()) }
            let opened = try #require(store)
            defer { try? opened.close() }
            var states: [UUID: CheckState] = [:]
            let scanTime = try clock.measure { states = try opened.loadStates() }
            #expect(states.count == checks)
            #expect(states.values.allSatisfy { $0.nPings == perCheck && $0.status == .up && $0.run == nil })
            print("store startup, \(checks) checks, \(checks * perCheck) pings: open+repair \(openTime), state scan \(scanTime)")
            try opened.close()
            var again: PingStore?
            let reopenTime = try clock.measure { again = try PingStore.open(dir.data, options: testOptions()) }
            let reopened = try #require(again)
            let cpuBefore = processCPUSeconds()
            let rescanTime = try clock.measure { states = try reopened.loadStates() }
            let cpu = processCPUSeconds() - cpuBefore
            try reopened.close()
            print("store restart after a clean close: open \(reopenTime), state scan \(rescanTime) (CPU \(cpu) s on \(ProcessInfo.processInfo.activeProcessorCount) cores)")
        }
    }

    @Test("appends from 64 concurrent writers over 1,000 checks (full size: 500 pings per writer)")
    func appendThroughput() async throws {
        for durability in PingStore.Durability.allCases {
            try await TemporaryDirectory.with { dir in
                // At most 128 log files open (the writer closes the least recently used): the
                // whole test run shares one descriptor table, and Foundation's Process.run
                // crashes when it holds ~1,350 (TestSupport.launch).
                let store = try PingStore.open(dir.data, options: PingStore.Options(durability: durability, openFileLimit: 128))
                defer { try? store.close() }
                let checks = (0..<1_000).map { _ in UUID() }
                let perWriter = Self.fullSize ? 500 : 25
                let clock = ContinuousClock()
                let elapsed = try await clock.measure {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for writer in 0..<64 {
                            group.addTask {
                                for n in 1...perWriter {
                                    try await store.append(samplePing(n), to: checks[(writer * perWriter + n) % checks.count])
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                let stats = store.statistics
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                print("append \(durability): \(stats.records) pings in \(elapsed), \(Int(Double(stats.records) / seconds))/s, \(stats.batches) batches, \(stats.journalSyncs) syncs, largest batch \(stats.largestBatch)")
                #expect(stats.records == 64 * perWriter)
            }
        }
    }
}

/// CPU time of the whole process: on a shared machine wall time also measures the neighbours.
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
