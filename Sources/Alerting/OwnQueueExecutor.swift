import Dispatch

/// A serial executor on a Dispatch queue of its own, for an actor whose methods block on I/O
/// (the outbox's fsyncs).
///
/// An actor without one runs on Swift's cooperative pool, which has one thread per core (two
/// here), and on Linux Dispatch's global queues share those threads. An fsync there (1–100 ms,
/// seconds on a loaded disk) holds a thread that pings, deadlines and alert timers need. A
/// private serial queue is served by a thread outside the pool (Dispatch's overcommitting
/// root queue), so callers suspend while the actor's I/O runs, and no pool thread blocks.
final class OwnQueueExecutor: SerialExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
