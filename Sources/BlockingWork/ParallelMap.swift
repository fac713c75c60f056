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
        takeIndices(next, below: count) { index in
            let result = transform(index)
            results.withLock { $0[index] = result }
        }
    }
    return results.withLock { $0 }.map { $0! }
}

/// `parallelMap(count, transform)` handed to `consume` on the calling thread, in index order,
/// each result as soon as it and those before it are done: a consumer that must go in order
/// (one core's work) runs while later items are still being transformed on the others, instead
/// of after all of them. Each result is `consume`'s alone, to take from in place.
///
/// While the result it needs is not done, the calling thread transforms the next item no one
/// has taken rather than wait: it may be a thread of Swift's pool, which on Linux shares its
/// threads with Dispatch's, so the work is done even when no other thread is free for it.
public func parallelMap<Result: Sendable>(_ count: Int, _ transform: @escaping @Sendable (Int) -> Result, inOrder consume: (Int, inout Result) -> Void) {
    let workers = min(count, ProcessInfo.processInfo.activeProcessorCount)
    guard workers > 1 else {
        for index in 0..<count {
            var result = transform(index)
            consume(index, &result)
        }
        return
    }
    let next = Mutex(0)
    let results = Mutex([Result?](repeating: nil, count: count))
    // One signal per result a worker made: the consumer waits only while the one it needs is
    // being made, so there is always a signal still to come.
    let done = DispatchSemaphore(value: 0)
    let finished = DispatchGroup()
    for _ in 0..<workers {
        DispatchQueue.global().async(group: finished) {
            takeIndices(next, below: count) { index in
                let result = transform(index)
                results.withLock { $0[index] = result }
                done.signal()
            }
        }
    }
    for index in 0..<count {
        while true {
            if var result = results.withLock({ $0[index].take() }) {
                consume(index, &result)
                break
            }
            if let other = takeIndex(next, below: count) {
                let result = transform(other)
                results.withLock { $0[other] = result }
            } else {
                done.wait()
            }
        }
    }
    finished.wait()
}

/// Runs `body` for each index below `count` that this worker takes from `next`, the index its
/// workers share, until none is left.
private func takeIndices(_ next: borrowing Mutex<Int>, below count: Int, _ body: (Int) -> Void) {
    while let index = takeIndex(next, below: count) { body(index) }
}

/// The next index below `count` no worker has taken, now taken; nil when none is left.
private func takeIndex(_ next: borrowing Mutex<Int>, below count: Int) -> Int? {
    let index = next.withLock { next in
        defer { next += 1 }
        return next
    }
    return index < count ? index : nil
}
