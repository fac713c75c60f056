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

/// `first` and `second` at once, one on each of two cores (with one core, one after the other);
/// both results. For two independent halves of a fleet's start.
public func both<A: Sendable, B: Sendable>(_ first: @Sendable () -> A, _ second: @Sendable () -> B) -> (A, B) {
    let results = Mutex<(A?, B?)>((nil, nil))
    DispatchQueue.concurrentPerform(iterations: 2) { index in
        if index == 0 {
            let value = first()
            results.withLock { $0.0 = value }
        } else {
            let value = second()
            results.withLock { $0.1 = value }
        }
    }
    let (a, b) = results.withLock { $0 }
    return (a!, b!)
}
