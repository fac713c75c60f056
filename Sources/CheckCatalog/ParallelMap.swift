import Foundation
import Synchronization

/// `(0..<count).map(transform)`, on as many threads as there are cores: each takes the next
/// index when it is done with one, so uneven items (files of different sizes) share out
/// evenly. Results come back in index order.
public func parallelMap<Result: Sendable>(_ count: Int, _ transform: @Sendable (Int) -> Result) -> [Result] {
    let workers = min(count, ProcessInfo.processInfo.activeProcessorCount)
    guard workers > 1 else { return (0..<count).map(transform) }
    let next = Mutex(0)
    let results = Mutex([Result?](repeating: nil, count: count))
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while true {
            let index = next.withLock { next in
                defer { next += 1 }
                return next
            }
            guard index < count else { return }
            let result = transform(index)
            results.withLock { $0[index] = result }
        }
    }
    return results.withLock { $0 }.map { $0! }
}
