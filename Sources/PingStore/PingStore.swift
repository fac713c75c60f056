import BlockingWork
import Dispatch
import Foundation
import Monitoring
import Synchronization

/// The JSON-lines ping store of SPEC §4: one file of pings and one of flips per check, and the
/// alerts of stored flips in one log (`alerts/queued.jsonl`), written by a single writer thread
/// with group commit.
///
/// Appends from any number of tasks queue up; the writer takes everything queued, appends it
/// to the journal in one write, writes each record to its check's file with plain writes,
/// makes the journal durable with ONE fdatasync (in `fsync` durability) and then resumes every
/// waiter of the batch. Per-check files are synced later by `checkpoint()`, off the hot path;
/// recovery at open replays the journal into them. See docs/storage.md.
public final class PingStore: Sendable {
    public enum Durability: String, Sendable, CaseIterable {
        /// Acknowledge once the batch's journal fdatasync returned: survives a power loss.
        case fsync
        /// Acknowledge once write(2) returned: survives a crash of the process, not of the OS.
        case write
    }

    public struct Options: Sendable {
        public var durability: Durability
        /// Pings kept per check (`--keep-pings`).
        public var keepPings: Int
        /// How often the maintenance thread looks for compactions and due checkpoints; nil runs
        /// no thread (the owner, or a test, calls `checkpoint()` and `compactPending()` itself).
        public var maintenanceInterval: Duration?
        /// A checkpoint is due once the current journal segment is this old, or
        /// `checkpointJournalBytes` large, whichever comes first. Rare checkpoints sync each check
        /// file once for many appends, and seldom compete with the journal's fdatasync.
        public var checkpointInterval: Duration
        public var checkpointJournalBytes: Int
        /// Per-check files kept open by the writer.
        public var openFileLimit: Int
        /// Test seam for failing system calls.
        public var faults: FaultInjector?

        public init(
            durability: Durability = .fsync, keepPings: Int = 1000, maintenanceInterval: Duration? = .seconds(1),
            checkpointInterval: Duration = .seconds(30), checkpointJournalBytes: Int = 64 << 20,
            openFileLimit: Int = 4096, faults: FaultInjector? = nil
        ) {
            self.durability = durability
            self.keepPings = max(1, keepPings)
            self.maintenanceInterval = maintenanceInterval
            self.checkpointInterval = checkpointInterval
            self.checkpointJournalBytes = max(1, checkpointJournalBytes)
            self.openFileLimit = max(8, openFileLimit)
            self.faults = faults
        }

        /// A file is compacted once it holds this many pings beyond `keepPings`, so each
        /// rewrite is paid for by many appends.
        var compactionSlack: Int { max(keepPings / 4, 16) }
    }

    /// Counters for tests, metrics and the benchmark.
    public struct Statistics: Sendable, Equatable {
        /// Batches written successfully.
        public var batches = 0
        /// Records (pings and flips) acknowledged.
        public var records = 0
        /// Alerts queued with their flips (`alerts/queued.jsonl`) and acknowledged.
        public var queuedAlerts = 0
        /// fdatasync calls on the journal: one per successful batch in `fsync` mode.
        public var journalSyncs = 0
        /// Time spent in those fdatasyncs, and the slowest one: what the disk's flushes cost
        /// the pings waiting for them (a stall of the disk shows here first).
        public var journalSyncTime = Duration.zero
        public var slowestJournalSync = Duration.zero
        public var failedBatches = 0
        public var checkpoints = 0
        public var compactions = 0
        /// Largest batch so far.
        public var largestBatch = 0
    }

    /// What recovery at open found and repaired.
    public struct RecoveryReport: Sendable, Equatable {
        /// Torn last lines cut off (each counted once), and the files they were in.
        public var tornLinesRepaired = 0
        public var repairedFiles: [String] = []
        /// Journal records copied into per-check files that lacked them.
        public var recordsReplayed = 0
        /// Journal lines that were unterminated or malformed (never acknowledged).
        public var journalLinesSkipped = 0
        public var journalSegments = 0
    }

    public let data: DataDirectory
    public let options: Options
    public let recovery: RecoveryReport

    let queue: Mutex<WriterQueue>
    let wake = DispatchSemaphore(value: 0)
    let writerStopped = DispatchSemaphore(value: 0)
    let maintenanceWake = DispatchSemaphore(value: 0)
    let maintenanceStopped = DispatchSemaphore(value: 0)
    let shared = Mutex(SharedState())
    /// The writer's state; holding this lock is the writer role (see `StoreWriter`). nil once
    /// closed.
    let writer = Mutex<StoreWriter?>(nil)

    private init(data: DataDirectory, options: Options, recovery: RecoveryReport, journalSequence: Int) {
        self.data = data
        self.options = options
        self.recovery = recovery
        self.queue = Mutex(WriterQueue())
        shared.withLock { $0.journalSegment = journalSequence }
    }

    /// Open (creating if needed) the store in `data`: repair torn lines, replay the journal,
    /// then start the writer (and the maintenance thread when an interval is set).
    public static func open(_ data: DataDirectory, options: Options = Options()) throws -> PingStore {
        try data.create()
        let (report, sequence) = try Recovery(data: data).run()
        let store = PingStore(data: data, options: options, recovery: report, journalSequence: sequence)
        let journal: RawFile?
        if options.durability == .fsync {
            journal = try StoreWriter.createSegment(data, sequence: sequence)
        } else {
            journal = nil
        }
        store.writer.withLock { $0 = StoreWriter(store: store, journal: journal, sequence: sequence) }
        startThread(named: "kiothc-writer") { [store] in
            StoreWriter.run(store)
            store.writerStopped.signal()
        }
        if let interval = options.maintenanceInterval {
            startThread(named: "kiothc-maint") { [store] in
                store.runMaintenance(every: interval)
                store.maintenanceStopped.signal()
            }
        }
        return store
    }

    // MARK: Appending

    /// Store `ping` (and the flip it caused) for `check`; returns once it is durable as the
    /// durability mode promises. Throws a `StoreError` (disk full, I/O error, closed store):
    /// then nothing of this call is acknowledged, and later appends are unaffected.
    public func append(_ ping: Ping, to check: UUID, flip: Flip? = nil) async throws {
        _ = try await enqueue(AppendEntry(check: check, pingLine: PingLine.encode(ping), flip: flip))
    }

    /// `append` for a caller that must not suspend or touch the disk (an event loop): the
    /// entry always goes to the writer thread, in `write` durability too, and `completion`
    /// gets nil once the ping is durable as the durability mode promises, or the error, on the
    /// writer thread after the batch's write (and fdatasync); at once on this thread when the
    /// store is closed. A batch answers many pings for one wake-up of the writer, where each
    /// event loop writing its own pings contended for the writer lock (get-1000 in write mode:
    /// 44–45 against 52–62 µs of CPU per ping, BENCHMARKS.md).
    public func append(
        _ ping: Ping, to check: UUID, flip: Flip? = nil, completion: @escaping @Sendable ((any Error)?) -> Void
    ) {
        let entry = AppendEntry(check: check, pingLine: PingLine.encode(ping), flip: flip)
        enqueue(entry, waiter: .callback(completion))
    }

    /// Store a flip that no ping caused (timeout, pause, resume).
    public func append(_ flip: Flip, to check: UUID) async throws {
        _ = try await enqueue(AppendEntry(check: check, pingLine: nil, flip: flip))
    }

    // MARK: Appending a flip with its alerts

    /// `append` for a ping whose flip has alerts: the ping, the flip and one line per alert in
    /// `alerts/queued.jsonl` are written in the same batch, covered by the same journal write and
    /// fdatasync, acknowledged together and cut back together when the batch fails. So a stored
    /// flip always has its alerts queued, and no alert is queued for a flip that was not stored.
    ///
    /// `alerts`: one record per alert, each one JSON object on one line (Alerting encodes
    /// them; the store does not read them). Like the callback `append` above, this only queues
    /// the entry for the writer thread, whatever the durability: the entry's place in the
    /// order is fixed when this returns, and nothing is written on this thread. `completion`
    /// gets the number `n` of the last of these alerts in the log (the others are numbered just
    /// before it, in order; 0 when `alerts` is empty), or the error (then nothing of this call
    /// is stored); at once on this thread when a record is refused or the store is closed.
    /// Completions are called one at a time, in the order the appends were acknowledged, on
    /// the thread that wrote the batch (the writer thread; in `write` durability possibly an
    /// appender writing its own ping with the queue before it): feeding them into one
    /// `AsyncStream` keeps that order for the outbox (`Outbox.accept`).
    public func append(
        _ ping: Ping, to check: UUID, flip: Flip?, alerts: [[UInt8]],
        completion: @escaping @Sendable (Result<Int, any Error>) -> Void
    ) {
        if let problem = problem(alerts) { return completion(.failure(problem)) }
        let entry = AppendEntry(check: check, pingLine: PingLine.encode(ping), flip: flip, alerts: alerts)
        enqueue(entry, waiter: .numbered(completion))
    }

    /// The async form of the `append` above: returns the number of the last alert (0 when
    /// `alerts` is empty) once the batch is durable as the durability mode promises.
    @discardableResult
    public func append(_ ping: Ping, to check: UUID, flip: Flip?, alerts: [[UInt8]]) async throws -> Int {
        if let problem = problem(alerts) { throw problem }
        return try await enqueue(AppendEntry(check: check, pingLine: PingLine.encode(ping), flip: flip, alerts: alerts))
    }

    /// Store a flip that no ping caused with its alerts, in one batch as above; returns the
    /// number of its last alert (0 when `alerts` is empty).
    @discardableResult
    public func append(_ flip: Flip, to check: UUID, alerts: [[UInt8]]) async throws -> Int {
        if let problem = problem(alerts) { throw problem }
        return try await enqueue(AppendEntry(check: check, pingLine: nil, flip: flip, alerts: alerts))
    }

    private func problem(_ alerts: [[UInt8]]) -> StoreError? {
        for record in alerts {
            if let problem = QueuedAlertLine.problem(record) {
                return StoreError(.invalid, operation: "append", path: data.queuedAlerts, detail: problem)
            }
        }
        return nil
    }

    private func enqueue(_ entry: AppendEntry) async throws -> Int {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
            enqueue(entry, waiter: .task(continuation))
        }
    }

    /// Queues the entry for the writer thread, which ends `waiter` after the batch.
    private func enqueue(_ entry: AppendEntry, waiter: AppendWaiter) {
        let outcome = queue.withLock { queue -> (accepted: Bool, wake: Bool) in
            guard !queue.closing else { return (false, false) }
            queue.jobs.append(.append(entry, waiter))
            let wake = queue.writerSleeping
            queue.writerSleeping = false
            return (true, wake)
        }
        if !outcome.accepted {
            StoreWriter.finish(waiter, StoreError(.closed, operation: "append", path: data.path))
        } else if outcome.wake {
            wake.signal()
        }
    }

    /// Run a control job on the writer thread and wait (blocking this thread) for its reply.
    func control(_ job: ControlJob) throws -> ControlReply {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<ControlReply, StoreError>?>(nil)
        let accepted = queue.withLock { queue -> (accepted: Bool, wake: Bool) in
            guard !queue.closing else { return (false, false) }
            queue.jobs.append(.control(job) { reply in
                result.withLock { $0 = reply }
                done.signal()
            })
            let wake = queue.writerSleeping
            queue.writerSleeping = false
            return (true, wake)
        }
        guard accepted.accepted else { throw StoreError(.closed, operation: "\(job)", path: data.path) }
        if accepted.wake { wake.signal() }
        done.wait()
        guard let reply = result.withLock({ $0 }) else {
            throw StoreError(.closed, operation: "\(job)", path: data.path)
        }
        return try reply.get()
    }

    // MARK: Lifecycle

    /// Finish every queued append, checkpoint, and stop the threads. Appends after this throw.
    /// Blocking: call it last in graceful shutdown, after the HTTP server stopped.
    public func close() throws {
        let alreadyClosing = queue.withLock { queue -> Bool in
            let was = queue.closing
            queue.closing = true
            queue.writerSleeping = false
            return was
        }
        guard !alreadyClosing else { return }
        wake.signal()
        writerStopped.wait()
        if options.maintenanceInterval != nil {
            shared.withLock { $0.stopping = true }
            maintenanceWake.signal()
            maintenanceStopped.wait()
        }
        try checkpointSegments()
        if options.durability == .fsync {
            try FileSystem.writeAtomically([], to: data.cleanShutdown)
        }
    }

    public var statistics: Statistics { shared.withLock { $0.statistics } }

    /// Jobs waiting for the writer (tests use it to build a known batch).
    var queuedJobs: Int { queue.withLock { $0.jobs.count } }

    // MARK: Maintenance

    private func runMaintenance(every interval: Duration) {
        let nanoseconds = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
        let clock = ContinuousClock()
        var lastCheckpoint = clock.now
        while true {
            _ = maintenanceWake.wait(timeout: .now() + .nanoseconds(Int(max(1_000_000, nanoseconds))))
            let (stopping, journalFull) = shared.withLock { ($0.stopping, $0.checkpointWanted) }
            if stopping { return }
            // Errors are retried next time; the server reads them from `lastMaintenanceError`.
            do {
                if journalFull || clock.now - lastCheckpoint >= options.checkpointInterval {
                    lastCheckpoint = clock.now
                    shared.withLock { $0.checkpointWanted = false }
                    try checkpoint()
                }
                try compactPending()
                shared.withLock { $0.lastMaintenanceError = nil }
            } catch {
                shared.withLock { $0.lastMaintenanceError = "\(error)" }
            }
        }
    }

    /// The last error of the maintenance thread, nil once it succeeds again.
    public var lastMaintenanceError: String? { shared.withLock { $0.lastMaintenanceError } }

    /// Make every per-check file written so far durable, then drop the journal segments that
    /// covered them. Blocking (it fsyncs each touched file): run it off the request path. The
    /// directory fsyncs also make compactions' renames durable (see `swapCompacted`).
    public func checkpoint() throws {
        guard options.durability == .fsync else { return }
        let reply = try control(.rotateJournal)
        if case .rotated(let segment, let touched) = reply, let segment {
            shared.withLock { $0.pendingCheckpoints.append(PendingCheckpoint(segment: segment, touched: touched)) }
        }
        try checkpointSegments()
    }

    private func checkpointSegments() throws {
        let pending = shared.withLock { $0.pendingCheckpoints }
        guard !pending.isEmpty else { return }
        var synced: Set<String> = []
        for group in pending {
            for path in group.touched where !synced.contains(path) {
                if let file = try RawFile.openIfExists(path, O_RDONLY) {
                    defer { file.close() }
                    try file.syncData()
                }
                synced.insert(path)
            }
        }
        // New files' names must be durable too before the journal stops vouching for them.
        try FileSystem.syncDirectory(data.pings)
        try FileSystem.syncDirectory(data.flips)
        if synced.contains(data.queuedAlerts) { try FileSystem.syncDirectory(data.alerts) }
        for group in pending { try FileSystem.remove(data.journalSegment(group.segment)) }
        let done = Set(pending.map(\.segment))
        shared.withLock { state in
            state.pendingCheckpoints.removeAll { done.contains($0.segment) }
            state.statistics.checkpoints += 1
        }
    }
}

/// Jobs waiting for the writer, guarded by `PingStore.queue`; never held across I/O.
struct WriterQueue {
    var jobs: [WriterJob] = []
    /// The writer found the queue empty and waits on `wake`: whoever enqueues next signals.
    var writerSleeping = false
    var closing = false
}

enum WriterJob: Sendable {
    case append(AppendEntry, AppendWaiter)
    case control(ControlJob, @Sendable (Result<ControlReply, StoreError>) -> Void)

    var isControl: Bool {
        if case .control = self { true } else { false }
    }
}

struct AppendEntry: Sendable {
    var check: UUID
    /// Encoded by the caller, off the writer thread.
    var pingLine: [UInt8]?
    var flip: Flip?
    /// Records for `alerts/queued.jsonl`, numbered by the writer; empty for most appends (an
    /// empty array allocates nothing).
    var alerts: [[UInt8]] = []
}

enum ControlJob: Sendable, CustomStringConvertible {
    case rotateJournal
    /// `segment`: the journal segment current when the compactor began reading the file.
    case swapCompacted(path: String, temp: String, readUpTo: Int, segment: Int)
    case retire(UUID)

    var description: String {
        switch self {
        case .rotateJournal: "checkpoint"
        case .swapCompacted: "compaction"
        case .retire: "retire"
        }
    }
}

enum ControlReply: Sendable {
    /// The segment closed by the rotation (nil when nothing was written) and the per-check
    /// files written while it was current.
    case rotated(segment: Int?, touched: Set<String>)
    case done
}

struct PendingCheckpoint: Sendable {
    var segment: Int
    var touched: Set<String>
}

/// State shared between the writer, maintenance and callers; held only for bookkeeping.
struct SharedState: Sendable {
    var statistics = PingStore.Statistics()
    var pendingCheckpoints: [PendingCheckpoint] = []
    /// The journal segment the writer appends to (updated at every rotation).
    var journalSegment = 0
    /// The writer filled `checkpointJournalBytes`: the maintenance thread checkpoints early.
    var checkpointWanted = false
    var compactionWanted: Set<UUID> = []
    var flipCompactionWanted: Set<UUID> = []
    var compacting: Set<CompactionTarget> = []
    var trimmingQueuedAlerts = false
    var stopping = false
    var lastMaintenanceError: String?
}
