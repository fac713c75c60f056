import Foundation
import Monitoring
import Testing
import TestSupport

@testable import PingStore

/// kill -9 of a process appending under load, then recovery: every acknowledged ping must be in
/// its file and no torn line may remain. The child is this same test binary running
/// `crashChild`; the parent counts acknowledgements from its output. Opt-in (it spawns a
/// process and takes a few seconds): `KIOTHC_STORE_CRASH=1 swift test --filter CrashTests`.
@Suite("kill -9 recovery")
struct CrashTests {
    static let childDirectory = ProcessInfo.processInfo.environment["KIOTHC_STORE_CRASH_CHILD"]
    static let checks = (0..<50).map { UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", $0)) ?? UUID() }

    @Test("the child: append to 50 checks from 32 tasks, print each acknowledgement",
          .enabled(if: childDirectory != nil))
    func crashChild() async throws {
        let directory = try #require(Self.childDirectory)
        let store = try PingStore.open(DataDirectory(directory))
        let out = FileHandle.standardOutput
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<32 {
                group.addTask {
                    // Each writer owns checks writer, writer+32, ... so its n are its own.
                    var next: [Int: Int] = [:]
                    var round = 0
                    while true {
                        let index = (writer + 32 * round) % Self.checks.count
                        round += 1
                        guard index % 32 == writer else { continue }
                        let n = next[index, default: 0] + 1
                        next[index] = n
                        do {
                            let ping = samplePing(n, body: String(repeating: "x", count: n % 200))
                            if n % 10 == 0 {
                                // A flip with its alert, in the ping's batch.
                                let flip = Flip(time: ping.time, old: .up, new: .down, reason: .fail)
                                let record = Array(#"{"check":\#(index),"ping":\#(n)}"#.utf8)
                                let alert = try await store.append(ping, to: Self.checks[index], flip: flip, alerts: [record])
                                out.write(Data("ACK \(index) \(n) \(alert)\n".utf8))
                            } else {
                                try await store.append(ping, to: Self.checks[index])
                                out.write(Data("ACK \(index) \(n)\n".utf8))
                            }
                        } catch {
                            out.write(Data("ERR \(error)\n".utf8))
                            return
                        }
                    }
                }
            }
        }
    }

    @Test("every acknowledged ping, flip and queued alert survives kill -9, and no torn line remains",
          .enabled(if: ProcessInfo.processInfo.environment["KIOTHC_STORE_CRASH"] != nil), arguments: [1, 2, 3])
    func killNine(round: Int) async throws {
        try await TemporaryDirectory.with { dir in
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            child.arguments = ["--testing-library", "swift-testing", "--filter", "crashChild"]
            var environment = ProcessInfo.processInfo.environment
            environment["KIOTHC_STORE_CRASH_CHILD"] = dir.path
            environment["KIOTHC_STORE_CRASH"] = nil
            child.environment = environment
            let pipe = Pipe()
            child.standardOutput = pipe
            child.standardError = FileHandle.nullDevice
            try launch(child)

            // Read acknowledgements until there are enough, then kill without warning. The reads
            // and the wait block, so they run on a thread of their own: a test holding a thread
            // of Swift's small cooperative pool would delay the suites running beside it.
            let reader = pipe.fileHandleForReading
            let (acked, alerts, count, killed) = try await onOwnThread {
                var acked: [Int: Int] = [:]
                var alerts: [Int: String] = [:]  // n -> record
                var count = 0
                var pending = Data()
                var killed = false
                while true {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: 0x0A) {
                        let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                        pending.removeSubrange(pending.startIndex...newline)
                        let parts = line.split(separator: " ")
                        guard parts.count >= 3, parts[0] == "ACK", let index = Int(parts[1]), let n = Int(parts[2]) else { continue }
                        acked[index] = max(acked[index] ?? 0, n)
                        if parts.count == 4, let alert = Int(parts[3]) { alerts[alert] = #"{"check":\#(index),"ping":\#(n)}"# }
                        count += 1
                    }
                    if !killed && count >= 3_000 * round {
                        kill(child.processIdentifier, SIGKILL)
                        killed = true
                    }
                }
                _ = child.waitForExit()
                return (acked, alerts, count, killed)
            }
            #expect(killed, "the child stopped before it was killed")

            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            let states = try store.loadStates()
            for (index, n) in acked {
                let check = Self.checks[index]
                #expect((states[check]?.nPings ?? 0) >= n, "check \(index): acknowledged \(n), stored \(states[check]?.nPings ?? 0)")
                #expect(try store.ping(of: check, n: n)?.n == n)
            }
            for check in Self.checks where FileSystem.exists(dir.data.pingFile(check)) {
                let bytes = try #require(try FileSystem.readAll(dir.data.pingFile(check)))
                #expect(bytes.isEmpty || bytes.last == 0x0A)
                // Every line parses.
                for line in bytes.split(separator: 0x0A) { _ = try PingLine.decode(line) }
            }
            // Every acknowledged alert is in the queued log with its own record; numbers run
            // without a gap (a batch cut back gives its numbers back).
            let queued = try store.queuedAlerts()
            #expect(queued.skipped == 0)
            #expect(queued.alerts.map(\.n) == Array(stride(from: 1, through: queued.alerts.count, by: 1)))
            let records = Dictionary(queued.alerts.map { ($0.n, String(decoding: $0.record, as: UTF8.self)) }, uniquingKeysWith: { first, _ in first })
            for (n, record) in alerts { #expect(records[n] == record, "alert \(n)") }
            for (index, n) in acked where n >= 10 {
                let newest = try store.flips(of: Self.checks[index], limit: 1).first?.flip.time ?? 0
                #expect(newest >= samplePing(n / 10 * 10).time, "check \(index): the flip of ping \(n / 10 * 10)")
            }
            print("kill -9 round \(round): \(count) acknowledged before the kill (\(alerts.count) with an alert), all present; recovery \(store.recovery)")
        }
    }
}
