import Foundation
import Monitoring
import Synchronization
import Testing

@testable import PingStore

/// A record as Alerting would hand it over: one JSON object, opaque to the store.
private func record(_ name: String) -> [UInt8] {
    Array(#"{"id":"\#(name)","type":"alert","v":1}"#.utf8)
}

private let down = Flip(time: baseTime, old: .up, new: .down, reason: .fail)
private let up = Flip(time: baseTime + 1_000_000, old: .down, new: .up, reason: .ping)

private func names(_ queued: QueuedAlerts) -> [String] {
    queued.alerts.map { String(decoding: $0.record, as: UTF8.self) }
}

@Suite("PingStore: alerts queued in their flip's batch")
struct QueuedAlertTests {
    @Test("alerts appended with a flip are numbered in order, covered by the batch's one fdatasync, and read back after reopen",
          arguments: [PingStore.Durability.fsync, .write])
    func appendAndReopen(durability: PingStore.Durability) async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions(durability))
            #expect(try await store.append(samplePing(1, kind: .fail), to: checkA, flip: down, alerts: [record("a"), record("b")]) == 2)
            #expect(try await store.append(up, to: checkB, alerts: [record("c")]) == 3)
            // Without alerts: nothing numbered, nothing queued.
            #expect(try await store.append(samplePing(2), to: checkA, flip: nil, alerts: []) == 0)
            let statistics = store.statistics
            #expect(statistics.queuedAlerts == 3)
            #expect(statistics.journalSyncs == (durability == .fsync ? statistics.batches : 0))
            #expect(try store.flips(of: checkA, limit: 5).map(\.flip) == [down])
            let lines = try lines(dir.data.queuedAlerts)
            #expect(lines == [
                #"{"v":1,"n":1,"alert":{"id":"a","type":"alert","v":1}}"#,
                #"{"v":1,"n":2,"alert":{"id":"b","type":"alert","v":1}}"#,
                #"{"v":1,"n":3,"alert":{"id":"c","type":"alert","v":1}}"#,
            ])
            try store.close()

            let reopened = try PingStore.open(dir.data, options: testOptions(durability))
            defer { try? reopened.close() }
            let queued = try reopened.queuedAlerts()
            #expect(queued.alerts.map(\.n) == [1, 2, 3] && queued.skipped == 0)
            #expect(names(queued) == lines.map { String($0.dropFirst(#"{"v":1,"n":1,"alert":"#.count).dropLast()) })
            #expect(try reopened.queuedAlerts(after: 2).alerts.map(\.n) == [3])
            #expect(try reopened.queuedAlerts(after: 3).alerts.map(\.n) == [3], "the last line always comes, with the numbering's end")
            // The numbering goes on after a restart.
            #expect(try await reopened.append(down, to: checkB, alerts: [record("d")]) == 4)
        }
    }

    @Test("pings and flips without alerts create no queued-alerts file")
    func noAlertsNoFile() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            try await store.append(samplePing(1), to: checkA, flip: up)
            try await store.append(down, to: checkA)
            #expect(!FileManager.default.fileExists(atPath: dir.data.queuedAlerts))
            #expect(try store.queuedAlerts() == QueuedAlerts(alerts: [], skipped: 0))
        }
    }

    @Test("the callback append queues at once, in call order, writes nothing on the caller's thread, and answers each append with its last number")
    func callbackOrder() async throws {
        try await TemporaryDirectory.with { dir in
            let faults = FaultInjector()
            let store = try PingStore.open(dir.data, options: testOptions(.write, faults: faults))
            defer { try? store.close() }
            faults.holdWriter()
            let answers = Mutex<[String: Int]>([:])
            let done = DispatchSemaphore(value: 0)
            for (name, alerts) in [("first", [record("a"), record("b")]), ("second", []), ("third", [record("c")])] {
                store.append(samplePing(1), to: name == "second" ? checkB : checkA, flip: name == "second" ? nil : down, alerts: alerts) { result in
                    if case .success(let n) = result { answers.withLock { $0[name] = n } }
                    done.signal()
                }
            }
            // Fixed in order when the calls returned, and not written: the writer is held.
            #expect(store.queuedJobs == 3)
            #expect(!FileManager.default.fileExists(atPath: dir.data.queuedAlerts))
            faults.releaseWriter()
            for _ in 0..<3 { #expect(done.wait(timeout: .now() + 20) == .success) }
            #expect(answers.withLock { $0 } == ["first": 2, "second": 0, "third": 3])
            #expect(try store.queuedAlerts().alerts.map(\.n) == [1, 2, 3])
        }
    }

    @Test("a record that is not one JSON object on one line is refused, and nothing of its append is stored")
    func invalidRecord() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            for bad in [Array("{\"a\":\n1}".utf8), Array("[1]".utf8), []] {
                do {
                    try await store.append(down, to: checkA, alerts: [record("ok"), bad])
                    Issue.record("a bad record should be refused")
                } catch let error as StoreError {
                    #expect(error.kind == .invalid && error.path == dir.data.queuedAlerts)
                    #expect(error.description.contains("an alert record must"))
                }
                let answer = Mutex<Result<Int, any Error>?>(nil)
                store.append(samplePing(1), to: checkA, flip: down, alerts: [bad]) { result in answer.withLock { $0 = result } }
                #expect(throws: StoreError.self) { try answer.withLock { $0 }?.get() }
            }
            #expect(try store.flips(of: checkA, limit: 5).isEmpty)
            #expect(try store.pings(of: checkA, limit: 5).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: dir.data.queuedAlerts))
        }
    }

    @Test("a failed batch leaves neither the flip nor its alerts, in the files or the journal, and skips no number")
    func failedBatch() async throws {
        try await TemporaryDirectory.with { dir in
            let faults = FaultInjector()
            let store = try PingStore.open(dir.data, options: testOptions(faults: faults))
            #expect(try await store.append(samplePing(1), to: checkA, flip: up, alerts: [record("up")]) == 1)
            for operation in [FaultInjector.Operation.journalWrite, .fileWrite, .journalSync] {
                faults.fail(operation, with: operation == .journalSync ? EIO : ENOSPC)
                await #expect(throws: StoreError.self) {
                    try await store.append(samplePing(2, kind: .fail), to: checkA, flip: down, alerts: [record("down"), record("down2")])
                }
                await #expect(throws: StoreError.self) { try await store.append(down, to: checkB, alerts: [record("b")]) }
                faults.heal()
                #expect(try store.flips(of: checkA, limit: 5).count == 1)
                #expect(try store.flips(of: checkB, limit: 5).isEmpty)
                #expect(try store.pings(of: checkA, limit: 5).map(\.n) == [1])
                #expect(try store.queuedAlerts().alerts.map(\.n) == [1], "after \(operation)")
            }
            #expect(try await store.append(samplePing(2, kind: .fail), to: checkA, flip: down, alerts: [record("down")]) == 2)
            #expect(store.statistics.queuedAlerts == 2)
            try store.close()

            let reopened = try PingStore.open(dir.data, options: testOptions())
            defer { try? reopened.close() }
            #expect(reopened.recovery.recordsReplayed == 0)
            #expect(try reopened.queuedAlerts().alerts.map(\.n) == [1, 2])
            #expect(names(try reopened.queuedAlerts()) == [#"{"id":"up","type":"alert","v":1}"#, #"{"id":"down","type":"alert","v":1}"#])
        }
    }

    @Test("after a crash the journal restores acknowledged alerts the queued-alerts file lost, once")
    func journalReplay() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            try await store.append(samplePing(1), to: checkA, flip: up, alerts: [record("a")])
            try await store.append(down, to: checkB, alerts: [record("b"), record("c")])

            // What a power cut can leave: the synced journal; the queued alerts file with only its
            // first line and half of the second, no flips.
            let crash = dir.path + "-crash"
            try FileManager.default.copyItem(atPath: dir.data.path, toPath: crash)
            defer { try? FileManager.default.removeItem(atPath: crash) }
            try store.close()
            let copy = DataDirectory(crash)
            let full = try #require(try FileSystem.readAll(copy.queuedAlerts))
            let firstLine = try #require(full.firstIndex(of: 0x0A)) + 1
            try Data(full.prefix(firstLine + 10)).write(to: URL(fileURLWithPath: copy.queuedAlerts))
            try Data().write(to: URL(fileURLWithPath: copy.flipFile(checkA)))
            try FileManager.default.removeItem(atPath: copy.flipFile(checkB))

            let reopened = try PingStore.open(copy, options: testOptions())
            #expect(reopened.recovery.tornLinesRepaired == 1)
            #expect(reopened.recovery.repairedFiles == [copy.queuedAlerts])
            #expect(reopened.recovery.recordsReplayed == 4)  // the two flips, alerts 2 and 3
            #expect(try reopened.queuedAlerts().alerts.map(\.n) == [1, 2, 3])
            #expect(try FileSystem.readAll(copy.queuedAlerts) == full)
            #expect(try reopened.flips(of: checkB, limit: 5).map(\.flip) == [down])
            #expect(try await reopened.append(up, to: checkB, alerts: [record("d")]) == 4)
            try reopened.close()

            // Replaying the same journal again adds nothing.
            var journal: [UInt8] = []
            for alert in try StoreReader(copy).queuedAlerts().alerts.prefix(3) {
                Journal.append(.alerts, checkB, QueuedAlertLine.encode(n: alert.n, record: alert.record), to: &journal)
            }
            try Data(journal).write(to: URL(fileURLWithPath: copy.journalSegment(50)))
            let again = try PingStore.open(copy, options: testOptions())
            defer { try? again.close() }
            #expect(again.recovery.recordsReplayed == 0)
            #expect(try again.queuedAlerts().alerts.map(\.n) == [1, 2, 3, 4])
        }
    }

    @Test("queued alerts of a check retired since are replayed all the same: they were acknowledged")
    func retiredCheckKeepsAlerts() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            try await store.append(down, to: checkA, alerts: [record("a")])
            try store.retire(checkA)
            let crash = dir.path + "-crash"
            try FileManager.default.copyItem(atPath: dir.data.path, toPath: crash)
            defer { try? FileManager.default.removeItem(atPath: crash) }
            try store.close()
            try FileManager.default.removeItem(atPath: DataDirectory(crash).queuedAlerts)
            let reopened = try PingStore.open(DataDirectory(crash), options: testOptions())
            defer { try? reopened.close() }
            #expect(try reopened.queuedAlerts().alerts.map(\.n) == [1])
            #expect(try reopened.flips(of: checkA, limit: 5).isEmpty, "the retired check's flips stay in retired/")
        }
    }

    @Test("damaged lines are skipped and counted by the reader; a damaged last line stops appends with alerts, with a clear error")
    func damagedLines() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            let good1 = QueuedAlertLine.encode(n: 1, record: record("a"))
            let good2 = QueuedAlertLine.encode(n: 2, record: record("b"))
            var bytes = good1 + Array("not json\n".utf8) + Array(#"{"v":1,"n":x,"alert":{}}"#.utf8) + [0x0A] + good2
            try Data(bytes).write(to: URL(fileURLWithPath: dir.data.queuedAlerts))
            let store = try PingStore.open(dir.data, options: testOptions())
            let queued = try store.queuedAlerts()
            #expect(queued.alerts.map(\.n) == [1, 2] && queued.skipped == 2)
            #expect(try await store.append(down, to: checkA, alerts: [record("c")]) == 3)
            try store.close()

            bytes += Array("garbage\n".utf8)
            try Data(bytes).write(to: URL(fileURLWithPath: dir.data.queuedAlerts))
            let damaged = try PingStore.open(dir.data, options: testOptions())
            defer { try? damaged.close() }
            do {
                try await damaged.append(up, to: checkA, alerts: [record("d")])
                Issue.record("an append after a damaged last line should fail")
            } catch let error as StoreError {
                #expect(error.kind == .corrupt && error.path == dir.data.queuedAlerts)
                #expect(error.description.contains("move the file aside"))
            }
            // Appends without alerts go on.
            try await damaged.append(samplePing(1), to: checkA)
        }
    }

    @Test("a trim drops the lines the outbox ingested, keeps the last one (the numbering goes on), and never loses a line appended meanwhile")
    func trim() async throws {
        try await TemporaryDirectory.with { dir in
            let faults = FaultInjector()
            let store = try PingStore.open(dir.data, options: testOptions(faults: faults))
            #expect(try await store.append(down, to: checkA, alerts: (1...5).map { record("\($0)") }) == 5)
            #expect(try store.trimQueuedAlerts(through: 0) == 0)
            #expect(try store.trimQueuedAlerts(through: 3) == 3)
            #expect(try store.queuedAlerts().alerts.map(\.n) == [4, 5])
            #expect(try store.trimQueuedAlerts(through: 9) == 1)
            #expect(try store.queuedAlerts().alerts.map(\.n) == [5], "the last line stays")
            #expect(try store.trimQueuedAlerts(through: 9) == 0)

            // An append queued while the trim reads: the writer copies it into the new file.
            #expect(try await store.append(up, to: checkA, alerts: [record("6")]) == 6)
            faults.holdWriter()
            let answer = Mutex<Result<Int, any Error>?>(nil)
            store.append(samplePing(1), to: checkB, flip: down, alerts: [record("7")]) { result in answer.withLock { $0 = result } }
            async let trimmed = onThread { try store.trimQueuedAlerts(through: 6) }
            await waitForQueue(store, count: 2)
            faults.releaseWriter()
            #expect(try await trimmed == 1)
            #expect(try answer.withLock { $0 }?.get() == 7)
            #expect(try store.queuedAlerts().alerts.map(\.n) == [6, 7])
            try store.checkpoint()
            try store.close()

            let reopened = try PingStore.open(dir.data, options: testOptions())
            defer { try? reopened.close() }
            #expect(try reopened.queuedAlerts().alerts.map(\.n) == [6, 7])
            #expect(try await reopened.append(up, to: checkB, alerts: [record("8")]) == 8)
        }
    }

    @Test("a trim that never reached its rename is cleaned up at open; the log is whole")
    func trimLeftover() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            try await store.append(down, to: checkA, alerts: [record("a"), record("b")])
            try store.close()
            let leftover = dir.data.alerts + "/.queued.jsonl.compact"
            try Data("half".utf8).write(to: URL(fileURLWithPath: leftover))
            let reopened = try PingStore.open(dir.data, options: testOptions())
            defer { try? reopened.close() }
            #expect(!FileManager.default.fileExists(atPath: leftover))
            #expect(try reopened.queuedAlerts().alerts.map(\.n) == [1, 2])
        }
    }
}
