import Foundation
import Synchronization

/// `body` of `0..<count` cut in parts of at least 50,000, run on every core (a few parts per
/// core, so one slow part does not leave a core idle); the results in order, or the first
/// part's error. For a fleet's million lines or checks; fewer than 50,000 are one part.
@discardableResult
public func inParts<T: Sendable, Failure: Error>(_ count: Int, _ body: @Sendable (Range<Int>) throws(Failure) -> T) throws(Failure) -> [T] {
    let parts = max(1, min(count / 50_000, 4 * ProcessInfo.processInfo.activeProcessorCount))
    let size = (count + parts - 1) / parts
    let results = Mutex([Result<T, Failure>?](repeating: nil, count: parts))
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        let result = Result { () throws(Failure) -> T in try body(min(part * size, count)..<min((part + 1) * size, count)) }
        results.withLock { $0[part] = result }
    }
    var values: [T] = []
    values.reserveCapacity(parts)
    for result in results.withLock({ $0 }) { values.append(try result!.get()) }
    return values
}

/// `(first(), second())`, each on a core of its own when there are two: for two independent
/// halves of a fleet's start.
public func parallelPair<A: Sendable, B: Sendable>(_ first: @Sendable () -> A, _ second: @Sendable () -> B) -> (A, B) {
    guard ProcessInfo.processInfo.activeProcessorCount > 1 else { return (first(), second()) }
    let a = Mutex<A?>(nil)
    let b = Mutex<B?>(nil)
    DispatchQueue.concurrentPerform(iterations: 2) { which in
        if which == 0 {
            let value = first()
            a.withLock { $0 = value }
        } else {
            let value = second()
            b.withLock { $0 = value }
        }
    }
    return (a.withLock { $0 }!, b.withLock { $0 }!)
}

/// `(0..<count).map(element)`, made on every core in parts (as `inParts`), each element
/// written straight into its place in the result: no part's array is made and copied after.
/// For a fleet's million identities, UUIDs or changes.
public func mapInParts<T: Sendable>(_ count: Int, _ element: @Sendable (Int) -> T) -> [T] {
    [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        nonisolated(unsafe) let buffer = buffer
        inParts(count) { range in
            for index in range { (buffer.baseAddress! + index).initialize(to: element(index)) }
        }
        initialized = count
    }
}
