#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Monitoring

/// Who waits for an append: a task suspended until the writer resumes it, or a callback the
/// writer calls (an event loop answering the ping). A task and a `numbered` callback get the
/// number of the entry's last queued alert (0 without alerts).
enum AppendWaiter: Sendable {
    case task(CheckedContinuation<Int, any Error>)
    case callback(@Sendable ((any Error)?) -> Void)
    case numbered(@Sendable (Result<Int, any Error>) -> Void)
}

/// The writer's state: open files, the current journal segment, flip numbers. It lives in
/// `PingStore.writer`; holding that lock is the writer role, which only the writer thread takes
/// (to write each batch): no request thread does I/O or waits for another's.
struct StoreWriter {
    /// A per-check file open for appending.
    struct OpenLog {
        var file: RawFile
        var size: Int
        /// A failed batch could not be cut off this file: do it before writing again.
        var truncateTo: Int?
    }

    let store: PingStore
    var journal: RawFile?
    var journalSize = 0
    /// The segment is zero-filled up to here (see `prepareJournal`).
    var journalPrepared = 0
    var sequence: Int
    /// The journal could not be restored after a failed batch: start a new segment.
    var journalBroken = false
    /// The segment reached `checkpointJournalBytes` and the maintenance thread was told.
    var checkpointRequested = false
    var logs: [String: OpenLog] = [:]
    /// Per-check files written since the journal segment began.
    var touched: Set<String> = []
    var flipNumbers: [UUID: Int] = [:]
    /// The last `n` of `alerts/queued.jsonl`, read at the first append with alerts.
    var alertNumber: Int?
    /// Pings appended per check since its last compaction check.
    var appendedSinceCompaction: [UUID: Int] = [:]
    /// Flips appended per check since its last compaction check.
    var flipsSinceCompaction: [UUID: Int] = [:]

    init(store: PingStore, journal: RawFile?, sequence: Int) {
        self.store = store
        self.journal = journal
        self.sequence = sequence
    }

    /// A new, empty segment; batches are written at `journalSize` (pwrite), not appended, so
    /// that they can land in space `prepareJournal` zero-filled ahead.
    static func createSegment(_ data: DataDirectory, sequence: Int) throws -> RawFile {
        let file = try RawFile.open(data.journalSegment(sequence), O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        // The segment's name must be durable before anything in it is acknowledged.
        try FileSystem.syncDirectory(data.journal)
        return file
    }

    /// The writer thread: take everything queued, write it, sleep when there is nothing. Jobs
    /// are taken from the queue while holding the writer lock, so an appender committing its
    /// own ping can never overtake one queued before it.
    static func run(_ store: PingStore) {
        while true {
            store.options.faults?.waitIfHeld()
            let sleep = store.writer.withLock { writer -> Bool? in
                let next = store.queue.withLock { queue -> [WriterJob]? in
                    if queue.jobs.isEmpty {
                        if queue.closing { return nil }
                        queue.writerSleeping = true
                        return []
                    }
                    defer { queue.jobs.removeAll(keepingCapacity: true) }
                    return queue.jobs
                }
                guard let jobs = next else {
                    writer?.finish()
                    writer = nil
                    return nil
                }
                if jobs.isEmpty { return true }
                writer?.process(jobs)
                return false
            }
            guard let sleep else { return }
            if sleep { store.wake.wait() }
        }
    }

    /// Appends are batched up to the next control job, which sees everything queued before it.
    mutating func process(_ jobs: [WriterJob]) {
        var batch: [(AppendEntry, AppendWaiter)] = []
        for job in jobs {
            switch job {
            case .append(let entry, let waiter):
                batch.append((entry, waiter))
            case .control(let control, let reply):
                if !batch.isEmpty {
                    commit(batch)
                    batch.removeAll()
                }
                do {
                    reply(.success(try perform(control)))
                } catch let error as StoreError {
                    reply(.failure(error))
                } catch {
                    reply(.failure(StoreError(.invalid, operation: "\(control)", path: store.data.path, detail: "\(error)")))
                }
            }
        }
        if !batch.isEmpty { commit(batch) }
    }

    // MARK: Group commit

    /// Writes a batch and resumes its waiting tasks.
    private mutating func commit(_ queued: [(AppendEntry, AppendWaiter)]) {
        let data = store.data
        let fsyncMode = store.options.durability == .fsync
        let batch = admit(queued)
        guard !batch.isEmpty else { return }
        var journalBytes: [UInt8] = []
        var order: [String] = []
        var perFile: [String: [UInt8]] = [:]
        var newFlipNumbers: [UUID: Int] = [:]
        var written: [(path: String, before: Int)] = []
        var journalBefore = journalSize
        var records = 0
        var syncTook = Duration.zero
        // `admit` loaded the number when the batch has alerts.
        var lastAlert = alertNumber ?? 0
        var alerts = 0

        func add(_ path: String, _ line: [UInt8]) {
            if perFile[path] == nil { order.append(path) }
            perFile[path, default: []].append(contentsOf: line)
        }

        for (entry, _) in batch {
            if let line = entry.pingLine {
                add(data.pingFile(entry.check), line)
                if fsyncMode { Journal.append(.pings, entry.check, line, to: &journalBytes) }
                records += 1
            }
            if let flip = entry.flip {
                // `admit` loaded the number.
                let known = newFlipNumbers[entry.check] ?? flipNumbers[entry.check] ?? 0
                newFlipNumbers[entry.check] = known + 1
                let line = FlipLine.encode(StoredFlip(n: known + 1, flip: flip))
                add(data.flipFile(entry.check), line)
                if fsyncMode { Journal.append(.flips, entry.check, line, to: &journalBytes) }
                records += 1
            }
            if !entry.alerts.isEmpty {
                for record in entry.alerts {
                    lastAlert += 1
                    let line = QueuedAlertLine.encode(n: lastAlert, record: record)
                    add(data.queuedAlerts, line)
                    if fsyncMode { Journal.append(.alerts, entry.check, line, to: &journalBytes) }
                }
                alerts += entry.alerts.count
            }
        }

        do {
            if fsyncMode {
                let journal = try currentJournal()
                journalBefore = journalSize
                try store.options.faults?.check(.journalWrite, path: journal.path)
                journalSize += journalBytes.count  // counted first: a partial write is cut back too
                try journal.write(journalBytes, at: journalBefore)
            }
            for path in order {
                guard let bytes = perFile[path] else { continue }
                var log = try openLog(path)
                written.append((path, log.size))
                try store.options.faults?.check(.fileWrite, path: path)
                log.size += bytes.count
                logs[path] = log
                try log.file.write(bytes)
            }
            if fsyncMode, let journal {
                try store.options.faults?.check(.journalSync, path: journal.path)
                let began = ContinuousClock.now
                try journal.syncData()
                syncTook = ContinuousClock.now - began
            }
        } catch {
            rollBack(journalTo: journalBefore, files: written)
            let failure = error as? StoreError
                ?? StoreError(.invalid, operation: "append", path: data.path, detail: "\(error)")
            store.shared.withLock { $0.statistics.failedBatches += 1 }
            for (_, waiter) in batch { Self.finish(waiter, failure) }
            return
        }

        for (check, n) in newFlipNumbers { flipNumbers[check] = n }
        if alerts > 0 { alertNumber = lastAlert }
        touched.formUnion(order)
        let wanted = noteAppends(batch.map(\.0))
        let flipsWanted = noteFlips(batch.map(\.0))
        let journalFull = fsyncMode && !checkpointRequested && journalSize >= store.options.checkpointJournalBytes
        if journalFull { checkpointRequested = true }
        store.shared.withLock { state in
            if journalFull { state.checkpointWanted = true }
            state.statistics.batches += 1
            state.statistics.records += records
            state.statistics.queuedAlerts += alerts
            if fsyncMode {
                state.statistics.journalSyncs += 1
                state.statistics.journalSyncTime += syncTook
                state.statistics.slowestJournalSync = max(state.statistics.slowestJournalSync, syncTook)
            }
            state.statistics.largestBatch = max(state.statistics.largestBatch, batch.count)
            state.compactionWanted.formUnion(wanted)
            state.flipCompactionWanted.formUnion(flipsWanted)
        }
        var through = lastAlert - alerts
        for (entry, waiter) in batch {
            through += entry.alerts.count
            Self.finish(waiter, nil, through: entry.alerts.isEmpty ? 0 : through)
        }
        if journalFull { store.maintenanceWake.signal() }
        if fsyncMode { prepareJournal() }
    }

    /// Zero-fills the journal segment ahead of the batches, `journalChunk` at a time, after a
    /// batch was acknowledged. An fdatasync of bytes written over space the file already has
    /// needs no metadata commit (size, allocation), only the data and one cache flush: on this
    /// project's virtio disk that halved its median (BENCHMARKS.md, issue 8 third session). The
    /// zeros are not synced here: the next batch's fdatasync carries them, one slower sync per
    /// chunk. Replay ends a segment at its zeros (`Journal.parse`). Only while the file system
    /// has room to spare (`journalChunk` × 16): near full, the space is the pings', and batches
    /// simply append. A failed fill is cut back, so it never holds space either.
    private mutating func prepareJournal() {
        guard let journal, !journalBroken, journalPrepared - journalSize < Self.journalChunk / 4 else { return }
        guard let free = journal.freeSpace(), free >= 16 * Self.journalChunk else { return }
        let from = max(journalPrepared, journalSize)
        do {
            try journal.write(Self.zeros, at: from)
            journalPrepared = from + Self.journalChunk
        } catch {
            // Nothing is acknowledged past `from`: give the space back.
            if (try? journal.truncate(to: from)) != nil { journalPrepared = from } else { journalBroken = true }
        }
    }

    static let journalChunk = 1 << 20
    private static let zeros = [UInt8](repeating: 0, count: journalChunk)

    /// `through`: the number of the entry's last queued alert, 0 without alerts.
    static func finish(_ waiter: AppendWaiter, _ error: (any Error)?, through: Int = 0) {
        switch (waiter, error) {
        case (.task(let continuation), nil): continuation.resume(returning: through)
        case (.task(let continuation), let error?): continuation.resume(throwing: error)
        case (.callback(let done), let error): done(error)
        case (.numbered(let done), nil): done(.success(through))
        case (.numbered(let done), let error?): done(.failure(error))
        }
    }

    /// Open every file the batch needs and learn flip numbers first: an entry whose own file
    /// is unusable (damaged flips file, permissions) fails alone instead of failing every
    /// check's pings in every batch it lands in.
    private mutating func admit(_ queued: [(AppendEntry, AppendWaiter)]) -> [(AppendEntry, AppendWaiter)] {
        var admitted: [(AppendEntry, AppendWaiter)] = []
        admitted.reserveCapacity(queued.count)
        var failed = 0
        for (entry, waiter) in queued {
            do {
                if entry.pingLine != nil { _ = try openLog(store.data.pingFile(entry.check)) }
                if entry.flip != nil {
                    _ = try flipNumber(entry.check)
                    _ = try openLog(store.data.flipFile(entry.check))
                }
                if !entry.alerts.isEmpty {
                    _ = try lastAlertNumber()
                    _ = try openLog(store.data.queuedAlerts)
                }
                admitted.append((entry, waiter))
            } catch {
                failed += 1
                Self.finish(waiter, error)
            }
        }
        if failed > 0 { store.shared.withLock { $0.statistics.failedBatches += 1 } }
        return admitted
    }

    /// Undo a failed batch so nothing unacknowledged stays behind a later, acknowledged one.
    private mutating func rollBack(journalTo size: Int, files: [(path: String, before: Int)]) {
        if let journal {
            do {
                try journal.truncate(to: size)
                journalSize = size
                journalPrepared = size
            } catch {
                journalBroken = true
            }
        }
        for (path, before) in files {
            guard var log = logs[path] else { continue }
            do {
                try log.file.truncate(to: before)
                log.size = before
                log.truncateTo = nil
            } catch {
                log.truncateTo = before
            }
            logs[path] = log
        }
    }

    private mutating func currentJournal() throws -> RawFile {
        if let journal, !journalBroken { return journal }
        // The broken segment keeps its unacknowledged tail; replay skips malformed lines and
        // re-adds only records beyond each file's last `n`.
        let next = store.shared.withLock { state -> Int in
            if journal != nil {
                state.pendingCheckpoints.append(PendingCheckpoint(segment: sequence, touched: touched))
            }
            state.journalSegment = sequence + 1
            return sequence + 1
        }
        let file = try StoreWriter.createSegment(store.data, sequence: next)
        journal?.close()
        journal = file
        sequence = next
        journalSize = 0
        journalPrepared = 0
        journalBroken = false
        checkpointRequested = false
        touched = []
        return file
    }

    private mutating func openLog(_ path: String) throws -> OpenLog {
        if var log = logs[path] {
            if let size = log.truncateTo {
                try log.file.truncate(to: size)
                log.size = size
                log.truncateTo = nil
                logs[path] = log
            }
            return log
        }
        if logs.count >= store.options.openFileLimit {
            // Close about half; the checkpoint syncs by path, so closing loses nothing.
            for key in logs.keys.prefix(logs.count / 2) where logs[key]?.truncateTo == nil {
                logs[key]?.file.close()
                logs[key] = nil
            }
        }
        let file = try RawFile.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o644)
        let log = OpenLog(file: file, size: try file.size())
        logs[path] = log
        return log
    }

    /// The last flip number in the check's file, read once.
    private mutating func flipNumber(_ check: UUID) throws -> Int {
        if let known = flipNumbers[check] { return known }
        let path = store.data.flipFile(check)
        var last = 0
        if let file = try RawFile.openIfExists(path, O_RDONLY) {
            defer { file.close() }
            var reader = try TailReader(file: file, size: try file.size())
            if let line = try reader.previousLine() {
                do {
                    last = try FlipLine.number(line)
                } catch {
                    throw StoreError(.corrupt, operation: "read", path: path, detail: "last line: \(error.reason)")
                }
            }
        }
        flipNumbers[check] = last
        return last
    }

    /// The last alert number in `alerts/queued.jsonl`, read once. A trim always keeps the last
    /// line, so the numbering never starts again.
    private mutating func lastAlertNumber() throws -> Int {
        if let alertNumber { return alertNumber }
        let path = store.data.queuedAlerts
        var last = 0
        if let file = try RawFile.openIfExists(path, O_RDONLY) {
            defer { file.close() }
            var reader = try TailReader(file: file, size: try file.size())
            if let line = try reader.previousLine() {
                guard let n = QueuedAlertLine.number(line) else {
                    throw StoreError(.corrupt, operation: "read", path: path,
                                     detail: "its last line is not a queued alert the store wrote; move the file aside and restart")
                }
                last = n
            }
        }
        alertNumber = last
        return last
    }

    /// Counts one more; at `limit`, starts again from 0 and returns true. In place: one
    /// dictionary lookup per append.
    private static func countUp(_ count: inout Int, to limit: Int) -> Bool {
        count += 1
        guard count >= limit else { return false }
        count = 0
        return true
    }

    /// Checks that received `compactionSlack` pings since their last look are due a compaction.
    private mutating func noteAppends(_ entries: [AppendEntry]) -> [UUID] {
        let slack = store.options.compactionSlack
        var due: [UUID] = []
        for entry in entries where entry.pingLine != nil {
            if Self.countUp(&appendedSinceCompaction[entry.check, default: 0], to: slack) { due.append(entry.check) }
        }
        return due
    }

    /// Checks that received `FlipRetention.compactionSlack` flips since their last look.
    private mutating func noteFlips(_ entries: [AppendEntry]) -> [UUID] {
        var due: [UUID] = []
        for entry in entries where entry.flip != nil {
            if Self.countUp(&flipsSinceCompaction[entry.check, default: 0], to: FlipRetention.compactionSlack) { due.append(entry.check) }
        }
        return due
    }

    // MARK: Control jobs

    private mutating func perform(_ job: ControlJob) throws -> ControlReply {
        switch job {
        case .rotateJournal:
            guard store.options.durability == .fsync, journal != nil else { return .rotated(segment: nil, touched: []) }
            if journalSize == 0 && !journalBroken { return .rotated(segment: nil, touched: []) }
            let closing = sequence
            let closingTouched = touched
            let next = try StoreWriter.createSegment(store.data, sequence: sequence + 1)
            journal?.close()
            journal = next
            sequence += 1
            store.shared.withLock { $0.journalSegment = sequence }
            journalSize = 0
            journalPrepared = 0
            journalBroken = false
            checkpointRequested = false
            touched = []
            return .rotated(segment: closing, touched: closingTouched)
        case .swapCompacted(let path, let temp, let readUpTo, let segment):
            try swapCompacted(path: path, temp: temp, readUpTo: readUpTo, segmentAtRead: segment)
            return .done
        case .retire(let check):
            try retire(check)
            return .done
        }
    }

    /// Second half of a compaction: copy what was appended since the compactor read the file,
    /// then atomically replace it. Done here so no append can fall between read and rename.
    ///
    /// No fsync here in the common case, so the writer does not stall the pings queued behind
    /// it: the compactor synced the temp file; the tail copied below was appended while the
    /// current journal segment was current (no rotation since `segmentAtRead`), so that
    /// segment holds it, and the checkpoint that deletes the segment first fdatasyncs this path
    /// (now the new file) and fsyncs `pings/` and `flips/` (the rename). Only after a rotation
    /// may the tail belong to a segment already deleted: then it is synced before the rename.
    private mutating func swapCompacted(path: String, temp: String, readUpTo: Int, segmentAtRead: Int) throws {
        guard logs[path] != nil || FileSystem.exists(path) else {
            try? FileSystem.remove(temp)
            throw StoreError(.invalid, operation: "compact", path: path, detail: "the check's file was moved away meanwhile (retired)")
        }
        let current = try openLog(path)
        guard current.size >= readUpTo else {
            try? FileSystem.remove(temp)
            throw StoreError(.corrupt, operation: "compact", path: path, detail: "the file shrank during compaction")
        }
        if current.size > readUpTo {
            let reader = try RawFile.open(path, O_RDONLY)
            defer { reader.close() }
            let tail = try reader.read(at: readUpTo, count: current.size - readUpTo)
            let out = try RawFile.open(temp, O_WRONLY | O_APPEND)
            defer { out.close() }
            try out.write(tail)
            if store.options.durability == .fsync && sequence != segmentAtRead { try out.syncData() }
        }
        try FileSystem.rename(temp, path)
        if store.options.durability == .fsync { touched.insert(path) }
        logs[path]?.file.close()
        logs[path] = nil
    }

    /// Move a deleted check's files to `retired/` for forensics, synced first.
    private mutating func retire(_ check: UUID) throws {
        let data = store.data
        for (from, to) in [(data.pingFile(check), data.retiredPingFile(check)), (data.flipFile(check), data.retiredFlipFile(check))] {
            logs[from]?.file.close()
            logs[from] = nil
            touched.remove(from)
            guard let file = try RawFile.openIfExists(from, O_RDONLY) else { continue }
            try file.syncData()
            file.close()
            try FileSystem.rename(from, to)
        }
        flipNumbers[check] = nil
        try FileSystem.syncDirectory(data.retired)
        try FileSystem.syncDirectory(data.pings)
        try FileSystem.syncDirectory(data.flips)
    }

    /// On close: hand the last segment to the final checkpoint and close files.
    mutating func finish() {
        if journal != nil {
            let segment = sequence
            let files = touched
            store.shared.withLock { $0.pendingCheckpoints.append(PendingCheckpoint(segment: segment, touched: files)) }
        }
        journal?.close()
        journal = nil
        for log in logs.values { log.file.close() }
        logs = [:]
    }
}
