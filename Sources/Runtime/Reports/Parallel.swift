import Dispatch
import Foundation
import Synchronization

/// Work split over the machine's cores (at most four), for reports over large fleets.
enum Parallel {
    /// `transform` of every element, in order. Contiguous slices go to the workers, so each
    /// takes the lock once; small inputs stay on the calling thread.
    static func map<T: Sendable, R: Sendable>(_ items: [T], minimumPerWorker: Int = 256, _ transform: @Sendable (T) -> R) -> [R] {
        let workers = min(max(1, ProcessInfo.processInfo.activeProcessorCount), 4, max(1, items.count / max(1, minimumPerWorker)))
        guard workers > 1 else { return items.map(transform) }
        let parts = Mutex<[[R]]>(Array(repeating: [], count: workers))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let range = items.count * worker / workers..<items.count * (worker + 1) / workers
            let part = items[range].map(transform)
            parts.withLock { $0[worker] = part }
        }
        return parts.withLock { $0.flatMap { $0 } }
    }
}
