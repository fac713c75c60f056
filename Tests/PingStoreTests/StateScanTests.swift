import Foundation
import Monitoring
import Testing

@testable import PingStore

@Suite("Startup state rebuild")
struct StateScanTests {
    private func received(_ signal: ReceivedPing.Signal, rid: UUID? = nil) -> ReceivedPing {
        ReceivedPing(signal: signal, method: "GET", remoteAddress: "127.0.0.1", rid: rid)
    }

    /// Apply pings (and their flips) as the server would, storing them; returns the live state.
    private func drive(_ store: PingStore, _ check: UUID, _ steps: [ReceivedPing], from start: Int64 = baseTime) async throws -> CheckState {
        var state = CheckState.new
        for (index, step) in steps.enumerated() {
            let outcome = state.applying(step, at: start + Int64(index) * 1_000_000)
            try await store.append(outcome.ping, to: check, flip: outcome.flip)
            state = outcome.state
        }
        return state
    }

    @Test("rebuilt state equals the live state for common ping sequences")
    func rebuildMatchesLive() async throws {
        let rid = UUID()
        let sequences: [[ReceivedPing]] = [
            [received(.success), received(.success), received(.log)],
            [received(.start), received(.success), received(.start)],
            [received(.start, rid: rid), received(.success, rid: UUID()), received(.log)],
            [received(.success), received(.exitStatus(4)), received(.log), received(.log)],
            [received(.start), received(.fail), received(.success)],
            [received(.log)],
        ]
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            var live: [UUID: CheckState] = [:]
            for sequence in sequences {
                let check = UUID()
                live[check] = try await drive(store, check, sequence)
            }
            try store.close()
            let reopened = try PingStore.open(dir.data, options: testOptions())
            defer { try? reopened.close() }
            let rebuilt = try reopened.loadStates()
            #expect(rebuilt.count == sequences.count)
            for (check, state) in live {
                #expect(rebuilt[check] == state, "check \(check)")
            }
        }
    }

    @Test("a timeout flip after the last ping makes the rebuilt check down")
    func timeoutFlip() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            let up = try await drive(store, checkA, [received(.success)])
            let down = try #require(up.goingDown(at: baseTime + 3_600_000_000))
            try await store.append(down.flip, to: checkA)
            #expect(try store.loadStates()[checkA] == down.state)
        }
    }

    @Test("pause and resume survive a restart as they were")
    func pauseResume() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            let running = try await drive(store, checkA, [received(.success), received(.start)])
            let paused = try #require(running.pausing(at: baseTime + 10_000_000))
            try await store.append(paused.flip, to: checkA)
            #expect(try store.loadStates()[checkA] == paused.state)
            let resumed = try #require(paused.state.resuming(at: baseTime + 20_000_000))
            try await store.append(resumed.flip, to: checkA)
            #expect(try store.loadStates()[checkA] == resumed.state)
        }
    }

    @Test("a damaged line in a pings file is reported with its file")
    func damaged() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            try await store.append(samplePing(1), to: checkA)
            let handle = try #require(FileHandle(forWritingAtPath: dir.data.pingFile(checkA)))
            handle.seekToEndOfFile()
            handle.write(Data("{oops}\n".utf8))
            handle.closeFile()
            do {
                _ = try store.loadStates()
                Issue.record("a damaged line must be reported")
            } catch let error as StoreError {
                #expect(error.path == dir.data.pingFile(checkA))
            }
        }
    }
}
