import Foundation
import Monitoring
import Synchronization
import Testing

@testable import PingStore

/// The next ping number of each check, shared by the tasks taking turns to append it.
final class Turns: Sendable {
    let next: Mutex<[Int]>
    init(checks: Int) { next = Mutex([Int](repeating: 1, count: checks)) }
}

/// Options for tests: no maintenance thread (tests call checkpoint and compaction themselves).
func testOptions(_ durability: PingStore.Durability = .fsync, keep: Int = 1000, faults: FaultInjector? = nil) -> PingStore.Options {
    PingStore.Options(durability: durability, keepPings: keep, maintenanceInterval: nil, faults: faults)
}

/// Wait, without sleeping, until the writer has `count` jobs queued.
func waitForQueue(_ store: PingStore, count: Int) async {
    while store.queuedJobs < count { await Task.yield() }
}

/// Run blocking store work (compaction, checkpoints) on its own thread, as the maintenance
/// thread does, so it never ties up one of the few cooperative threads.
func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

@Suite("PingStore")
struct PingStoreTests {
    @Test("appended pings read back newest first, field by field")
    func appendAndRead() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            let rid = UUID()
            let first = samplePing(1)
            var second = samplePing(2, kind: .fail, body: "exit 3\n")
            second.exitStatus = 3
            second.rid = rid
            second.duration = 12
            try await store.append(first, to: checkA)
            try await store.append(second, to: checkA, flip: Flip(time: second.time, old: .up, new: .down, reason: .fail))

            let read = try store.pings(of: checkA, limit: 10)
            #expect(read == [second, first])
            #expect(try store.pings(of: checkA, limit: 1) == [second])
            #expect(try store.ping(of: checkA, n: 1) == first)
            #expect(try store.ping(of: checkA, n: 3) == nil)
            #expect(try store.pings(of: checkB, limit: 10).isEmpty)
            #expect(try store.flips(of: checkA, limit: 5) == [StoredFlip(n: 1, flip: Flip(time: second.time, old: .up, new: .down, reason: .fail))])
            // The file is plain JSON lines, readable by jq.
            let fileLines = try lines(dir.data.pingFile(checkA))
            #expect(fileLines.count == 2)
            #expect(fileLines[1].hasPrefix(#"{"v":1,"n":2,"#))
        }
    }

    @Test("one fdatasync covers a whole batch of pings to many checks")
    func groupCommit() async throws {
        try await TemporaryDirectory.with { dir in
            let faults = FaultInjector()
            let store = try PingStore.open(dir.data, options: testOptions(faults: faults))
            defer { try? store.close() }
            let checks = (0..<50).map { _ in UUID() }
            faults.holdWriter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask { try await store.append(samplePing(index / 50 + 1), to: checks[index % 50]) }
                }
                await waitForQueue(store, count: 200)
                faults.releaseWriter()
                try await group.waitForAll()
            }
            let stats = store.statistics
            #expect(stats.records == 200)
            #expect(stats.batches == 1)
            #expect(stats.journalSyncs == 1, "one flush for 200 pings to 50 checks")
            #expect(stats.journalSyncTime > .zero, "the flush's time is counted")
            #expect(stats.slowestJournalSync == stats.journalSyncTime, "one flush: it is the slowest")
            #expect(stats.largestBatch == 200)
            // The 200 tasks reach the queue in no fixed order, so neither do a check's pings.
            for check in checks {
                #expect(try store.pings(of: check, limit: 10).map(\.n).sorted() == [1, 2, 3, 4])
            }
        }
    }

    @Test("many concurrent appends all land and share flushes")
    func concurrentAppends() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            let checks = (0..<20).map { _ in UUID() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, check) in checks.enumerated() {
                    group.addTask {
                        for n in 1...25 { try await store.append(samplePing(n, body: "c\(index)"), to: check) }
                    }
                }
                try await group.waitForAll()
            }
            let stats = store.statistics
            #expect(stats.records == 500)
            #expect(stats.journalSyncs == stats.batches)
            #expect(stats.slowestJournalSync > .zero)
            #expect(stats.slowestJournalSync <= stats.journalSyncTime)
            #expect(stats.slowestJournalSync * stats.journalSyncs >= stats.journalSyncTime, "the slowest is at least the mean")
            for check in checks {
                #expect(try store.pings(of: check, limit: 100).map(\.n) == Array((1...25).reversed()))
            }
        }
    }

    @Test("write durability acknowledges without any fdatasync and keeps no journal")
    func writeMode() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions(.write))
            try await store.append(samplePing(1), to: checkA)
            #expect(store.statistics.journalSyncs == 0)
            #expect(store.statistics.journalSyncTime == .zero)
            #expect(store.statistics.slowestJournalSync == .zero)
            #expect(try store.pings(of: checkA, limit: 1).count == 1)
            try store.close()
            #expect(try FileSystem.list(dir.data.journal).isEmpty)
        }
    }

    @Test("write durability: pings from 32 tasks, written by their appenders or the writer thread, all land in order")
    func writeModeConcurrentOrder() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions(.write))
            let checks = (0..<8).map { _ in UUID() }
            // 32 tasks; each owns pings n ≡ task (mod 4) of check task / 4 and waits until n - 1
            // was acknowledged, so each check's pings come from four tasks in turn while the
            // other checks' tasks compete for the writer.
            let turns = Turns(checks: checks.count)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<32 {
                    group.addTask {
                        let check = task / 4
                        var n = task % 4 + 1
                        while n <= 200 {
                            if turns.next.withLock({ $0[check] }) == n {
                                try await store.append(samplePing(n), to: checks[check])
                                turns.next.withLock { $0[check] = n + 1 }
                                n += 4
                            } else {
                                await Task.yield()
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            try store.close()
            for check in checks {
                let numbers = try lines(dir.data.pingFile(check)).map { try PingLine.decode(ArraySlice($0.utf8)).n }
                #expect(numbers == Array(1...200))
            }
            #expect(store.statistics.records == 1_600)
        }
    }

    @Test("a torn last line is cut at open and counted")
    func tornLine() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            for n in 1...3 { try await store.append(samplePing(n), to: checkA) }
            try store.close()
            // A crash mid-write: the line is torn and no clean-shutdown marker was written.
            try FileSystem.remove(dir.data.cleanShutdown)
            let path = dir.data.pingFile(checkA)
            let handle = try #require(FileHandle(forWritingAtPath: path))
            handle.seekToEndOfFile()
            handle.write(Data(#"{"v":1,"n":4,"time_us":17"#.utf8))
            handle.closeFile()
            // A torn line reads as absent even before repair.
            let reopened = try PingStore.open(dir.data, options: testOptions())
            defer { try? reopened.close() }
            #expect(reopened.recovery.tornLinesRepaired == 1)
            #expect(reopened.recovery.repairedFiles == [path])
            #expect(try readText(path).hasSuffix("}\n"))
            try await reopened.append(samplePing(4), to: checkA)
            #expect(try reopened.pings(of: checkA, limit: 10).map(\.n) == [4, 3, 2, 1])
        }
    }

    @Test("the temporary copy of a top-level file whose write was cut short is removed at open; other files are left")
    func interruptedWrites() async throws {
        try await TemporaryDirectory.with { dir in
            try PingStore.open(dir.data, options: testOptions()).close()
            let leftovers = [".catalog.json.tmp-4242", ".registry.json.tmp-7", ".config-cache.tmp-123", ".ping-keys.json.tmp-9"]
            let kept = [".catalog.json.tmp-", ".notes.tmp-12", ".config-cache.tmp-12x", "catalog.json.tmp-5", ".bashrc"]
            for name in leftovers + kept { try Data("x".utf8).write(to: URL(fileURLWithPath: "\(dir.data.path)/\(name)")) }
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir.data.path))
            #expect(names.isDisjoint(with: leftovers), "\(names.sorted())")
            #expect(names.isSuperset(of: kept), "\(names.sorted())")
        }
    }

    @Test("a file holding only a torn line is emptied")
    func onlyTornLine() async throws {
        try await TemporaryDirectory.with { dir in
            try dir.data.create()
            try Data(#"{"v":1,"n":1"#.utf8).write(to: URL(fileURLWithPath: dir.data.pingFile(checkA)))
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            #expect(store.recovery.tornLinesRepaired == 1)
            #expect(try readText(dir.data.pingFile(checkA)).isEmpty)
        }
    }

    @Test("after a crash the journal restores acknowledged pings missing from their files")
    func journalReplay() async throws {
        try await TemporaryDirectory.with { dir in
            // What a crash can leave: the journal synced with pings 1-5 and flip 1, the per-check
            // file with 1-3 and half of 4 (its pages never reached the disk), no flips file.
            try dir.data.create()
            var journal: [UInt8] = []
            for n in 1...5 { Journal.append(.pings, checkA, PingLine.encode(samplePing(n)), to: &journal) }
            let flip = StoredFlip(n: 1, flip: Flip(time: baseTime, old: .new, new: .up, reason: .ping))
            Journal.append(.flips, checkA, FlipLine.encode(flip), to: &journal)
            Journal.append(.pings, checkB, PingLine.encode(samplePing(1)), to: &journal)
            journal += Array("P \(DataDirectory.name(checkB)) {\"v\":1,\"n\":2".utf8)  // unacknowledged
            try Data(journal).write(to: URL(fileURLWithPath: dir.data.journalSegment(7)))
            var file: [UInt8] = []
            for n in 1...3 { file += PingLine.encode(samplePing(n)) }
            file += PingLine.encode(samplePing(4)).prefix(20)
            try Data(file).write(to: URL(fileURLWithPath: dir.data.pingFile(checkA)))

            let store = try PingStore.open(dir.data, options: testOptions())
            #expect(store.recovery.tornLinesRepaired == 1)
            #expect(store.recovery.recordsReplayed == 4)  // A: 4, 5 and the flip; B: 1
            #expect(store.recovery.journalLinesSkipped == 1)
            #expect(try store.pings(of: checkA, limit: 10).map(\.n) == [5, 4, 3, 2, 1])
            #expect(try store.flips(of: checkA, limit: 10) == [flip])
            #expect(try store.pings(of: checkB, limit: 10).map(\.n) == [1])
            // The next segment continues the numbering; the old one is gone.
            #expect(try Journal.segments(in: dir.data) == [8])
            // New flips continue from the replayed number.
            try await store.append(Flip(time: baseTime + 1, old: .up, new: .down, reason: .timeout), to: checkA)
            #expect(try store.flips(of: checkA, limit: 1).first?.n == 2)
            try store.close()

            // Replaying the same journal twice adds nothing.
            try Data(journal).write(to: URL(fileURLWithPath: dir.data.journalSegment(20)))
            let again = try PingStore.open(dir.data, options: testOptions())
            defer { try? again.close() }
            #expect(again.recovery.recordsReplayed == 0)
            #expect(try again.pings(of: checkA, limit: 10).count == 5)
        }
    }

    @Test("fsync durability zero-fills the live segment ahead of the batches; a crash copy of it replays every acknowledged ping, nothing skipped")
    func preparedJournal() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            for n in 1...3 { try await store.append(samplePing(n), to: checkA) }
            let segment = try #require(try Journal.segments(in: dir.data).last)
            let bytes = try #require(try FileSystem.readAll(dir.data.journalSegment(segment)))
            #expect(bytes.count >= StoreWriter.journalChunk, "the segment is prepared ahead")
            let used = Journal.parse(bytes)
            #expect(used.entries.count == 3 && used.skipped == 0)
            #expect(bytes[bytes.count - 1] == 0)

            // What a power cut can leave: the synced segment, per-check files that never got
            // their pages. Replay restores all three, and counts no torn line.
            let crash = dir.path + "-crash"
            try FileManager.default.copyItem(atPath: dir.data.path, toPath: crash)
            defer { try? FileManager.default.removeItem(atPath: crash) }
            try Data().write(to: URL(fileURLWithPath: DataDirectory(crash).pingFile(checkA)))
            try store.close()
            let reopened = try PingStore.open(DataDirectory(crash), options: testOptions())
            defer { try? reopened.close() }
            #expect(reopened.recovery.recordsReplayed == 3)
            #expect(reopened.recovery.journalLinesSkipped == 0)
            #expect(try reopened.pings(of: checkA, limit: 10).map(\.n) == [3, 2, 1])
        }
    }

    @Test("a checkpoint syncs the files and drops the journal segments that covered them")
    func checkpoint() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            defer { try? store.close() }
            try await store.append(samplePing(1), to: checkA)
            let before = try Journal.segments(in: dir.data)
            #expect(before.count == 1)
            try store.checkpoint()
            let after = try Journal.segments(in: dir.data)
            #expect(after.count == 1 && after != before)
            #expect(store.statistics.checkpoints == 1)
            // Nothing written since: no rotation.
            try store.checkpoint()
            #expect(try Journal.segments(in: dir.data) == after)
            try await store.append(samplePing(2), to: checkA)
            #expect(try store.pings(of: checkA, limit: 5).count == 2)
        }
    }

    @Test("a journal segment over checkpointJournalBytes is checkpointed before the interval is up")
    func checkpointBySize() async throws {
        try await TemporaryDirectory.with { dir in
            let options = PingStore.Options(
                durability: .fsync, maintenanceInterval: .milliseconds(5), checkpointInterval: .seconds(3600), checkpointJournalBytes: 2_000)
            let store = try PingStore.open(dir.data, options: options)
            defer { try? store.close() }
            try await store.append(samplePing(1), to: checkA)
            #expect(store.statistics.checkpoints == 0, "one ping is far below the size and the interval")
            for n in 2...20 { try await store.append(samplePing(n), to: checkA) }
            // The writer wakes the maintenance thread; wait for it, bounded.
            let deadline = ContinuousClock.now + .seconds(20)
            while store.statistics.checkpoints == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            #expect(store.statistics.checkpoints >= 1)
            #expect(try Journal.segments(in: dir.data).count == 1, "the full segment was synced into the check file and deleted")
            #expect(try store.pings(of: checkA, limit: 50).count == 20)
        }
    }

    @Test("a full disk fails the append with ENOSPC and later appends succeed once space returns")
    func diskFull() async throws {
        try await TemporaryDirectory.with { dir in
            let faults = FaultInjector()
            let store = try PingStore.open(dir.data, options: testOptions(faults: faults))
            defer { try? store.close() }
            try await store.append(samplePing(1), to: checkA)

            for operation in [FaultInjector.Operation.journalWrite, .fileWrite, .journalSync] {
                faults.fail(operation, with: operation == .journalSync ? EIO : ENOSPC)
                await #expect(throws: StoreError.self) { try await store.append(samplePing(2), to: checkA) }
                do {
                    try await store.append(samplePing(2), to: checkB)
                    Issue.record("append should fail while \(operation) fails")
                } catch let error as StoreError {
                    #expect(error.errno == (operation == .journalSync ? EIO : ENOSPC))
                    #expect(error.description.contains(dir.data.path), "the message names the file")
                }
                faults.heal()
            }
            // Nothing of the failed batches stayed behind.
            #expect(try store.pings(of: checkA, limit: 10).map(\.n) == [1])
            #expect(try store.pings(of: checkB, limit: 10).isEmpty)
            try await store.append(samplePing(2), to: checkA)
            #expect(try store.pings(of: checkA, limit: 10).map(\.n) == [2, 1])
            #expect(store.statistics.failedBatches == 6)
            try store.close()

            // Nor in the journal: reopening replays only acknowledged pings.
            let reopened = try PingStore.open(dir.data, options: testOptions())
            defer { try? reopened.close() }
            #expect(reopened.recovery.recordsReplayed == 0)
            #expect(try reopened.pings(of: checkB, limit: 10).isEmpty)
        }
    }

    @Test("appends after close are refused with a clear error")
    func closed() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            try store.close()
            do {
                try await store.append(samplePing(1), to: checkA)
                Issue.record("append after close should throw")
            } catch let error as StoreError {
                #expect(error.kind == .closed)
            }
        }
    }

    @Test("retiring a check moves its files aside and replay does not bring them back")
    func retire() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            try await store.append(samplePing(1), to: checkA, flip: Flip(time: 1, old: .new, new: .up, reason: .ping))
            try await store.append(samplePing(1), to: checkB)
            try store.retire(checkA)
            #expect(!FileSystem.exists(dir.data.pingFile(checkA)))
            #expect(try lines(dir.data.retiredPingFile(checkA)).count == 1)
            #expect(try lines(dir.data.retiredFlipFile(checkA)).count == 1)
            #expect(try store.pings(of: checkA, limit: 5).isEmpty)
            #expect(try store.storedChecks() == [checkB])
            // Simulate a crash: close without the final checkpoint would keep the journal; copy it.
            let segment = try #require(try Journal.segments(in: dir.data).last)
            let journal = try Data(contentsOf: URL(fileURLWithPath: dir.data.journalSegment(segment)))
            try store.close()
            try journal.write(to: URL(fileURLWithPath: dir.data.journalSegment(segment)))
            let reopened = try PingStore.open(dir.data, options: testOptions())
            defer { try? reopened.close() }
            #expect(!FileSystem.exists(dir.data.pingFile(checkA)))
            #expect(try reopened.pings(of: checkB, limit: 5).count == 1)
        }
    }
}

@Suite("Clean shutdown")
struct CleanShutdownTests {
    @Test("a clean close lets the next open skip the torn-line pass; a crash does not")
    func marker() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions())
            try await store.append(samplePing(1), to: checkA)
            try store.close()
            #expect(FileSystem.exists(dir.data.cleanShutdown))
            let reopened = try PingStore.open(dir.data, options: testOptions())
            // The marker is gone while the store runs, so a crash now means a full repair.
            #expect(!FileSystem.exists(dir.data.cleanShutdown))
            try await reopened.append(samplePing(2), to: checkA)
            try reopened.close()
            #expect(try reopened.pings(of: checkA, limit: 5).map(\.n) == [2, 1])
        }
    }

    @Test("write durability never leaves the marker, since its files were not synced")
    func writeModeNoMarker() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: testOptions(.write))
            try store.close()
            #expect(!FileSystem.exists(dir.data.cleanShutdown))
        }
    }
}

@Suite("Isolation of failures")
struct FailureIsolationTests {
    @Test("a check with a damaged flips file fails alone; other checks in the same batch are stored")
    func damagedFlipsFile() async throws {
        try await TemporaryDirectory.with { dir in
            let faults = FaultInjector()
            let store = try PingStore.open(dir.data, options: testOptions(faults: faults))
            defer { try? store.close() }
            try Data("not json\n".utf8).write(to: URL(fileURLWithPath: dir.data.flipFile(checkA)))
            faults.holdWriter()
            async let bad: Void = store.append(samplePing(1), to: checkA, flip: Flip(time: 1, old: .new, new: .up, reason: .ping))
            await waitForQueue(store, count: 1)
            async let good: Void = store.append(samplePing(1), to: checkB, flip: Flip(time: 1, old: .new, new: .up, reason: .ping))
            await waitForQueue(store, count: 2)
            faults.releaseWriter()
            do {
                try await bad
                Issue.record("the damaged check's append should fail")
            } catch let error as StoreError {
                #expect(error.kind == .corrupt && error.path == dir.data.flipFile(checkA))
            }
            try await good
            #expect(try store.pings(of: checkB, limit: 5).count == 1)
            #expect(try store.pings(of: checkA, limit: 5).isEmpty)
            #expect(store.statistics.batches == 1)
        }
    }
}

#if os(Linux)
/// The names of this process's threads, as `top -H`, `ps -L` and `perf` show them.
func threadNames() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { task in
        try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

@Suite("PingStore: threads")
struct StoreThreadTests {
    @Test("the writer and maintenance threads carry their names where operators look (Linux keeps 15 bytes)")
    func named() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try PingStore.open(dir.data, options: PingStore.Options(durability: .write, maintenanceInterval: .seconds(60)))
            // Thread.start returns before the thread has named itself: look for up to 2 s.
            var names = try threadNames()
            var looks = 0
            while !Set(["kiothc-writer", "kiothc-maint"]).isSubset(of: names), looks < 200 {
                try await Task.sleep(for: .milliseconds(10))
                names = try threadNames()
                looks += 1
            }
            #expect(names.contains("kiothc-writer"), "\(names)")
            #expect(names.contains("kiothc-maint"), "\(names)")
            try store.close()
        }
    }
}
#endif
