#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// A seam for tests: make the writer's next system calls of one kind fail with an errno
/// (ENOSPC, EIO), as a full or failing disk would, then heal. Running as root, a read-only
/// directory does not stop writes, so permissions cannot stand in for this.
public final class FaultInjector: Sendable {
    public enum Operation: Sendable, Hashable {
        /// Appending a batch to the journal.
        case journalWrite
        /// Appending to a per-check file.
        case fileWrite
        /// The journal's fdatasync.
        case journalSync
    }

    private let faults = Mutex<[Operation: Int32]>([:])
    private let gate = Mutex<(held: Bool, writerWaiting: Bool)>((false, false))
    private let opened = DispatchSemaphore(value: 0)

    public init() {}

    public func fail(_ operation: Operation, with code: Int32) {
        faults.withLock { $0[operation] = code }
    }

    public func heal() {
        faults.withLock { $0.removeAll() }
    }

    /// Stop the writer before it takes its next batch, so a test can queue a known batch.
    public func holdWriter() {
        gate.withLock { $0.held = true }
    }

    public func releaseWriter() {
        let wake = gate.withLock { state -> Bool in
            state.held = false
            defer { state.writerWaiting = false }
            return state.writerWaiting
        }
        if wake { opened.signal() }
    }

    func waitIfHeld() {
        let wait = gate.withLock { state -> Bool in
            if state.held { state.writerWaiting = true }
            return state.held
        }
        if wait { opened.wait() }
    }

    func check(_ operation: Operation, path: String) throws {
        if let code = faults.withLock({ $0[operation] }) {
            throw StoreError.system(code, "\(operation) (injected)", path)
        }
    }
}
