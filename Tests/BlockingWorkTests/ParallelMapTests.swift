import Dispatch
import Foundation
import Synchronization
import Testing

@testable import BlockingWork

@Suite("parallelMap")
struct ParallelMapTests {
    @Test("in order: every result is handed over once, in index order, whatever order they finish in")
    func inOrder() {
        for count in [0, 1, 2, 7, 200] {
            var seen: [Int] = []
            parallelMap(count, { index in
                // Early items take longest, so later ones are done first.
                if index < 5 { usleep(UInt32(2_000 * (5 - index))) }
                return [index, index * index]
            }, inOrder: { index, result in
                #expect(result == [index, index * index])
                seen.append(result.removeFirst())
            })
            #expect(seen == Array(0..<count))
        }
    }

    @Test("in order: the first result is handed over while later ones are still being made")
    func overlaps() {
        // Item 0 is quick, the seven others take 50 ms each: on any number of threads, the
        // first is handed over after one slow item at most (when the calling thread made it
        // while waiting), the last is done after two at least.
        let start = DispatchTime.now().uptimeNanoseconds
        let madeLast = Mutex<UInt64>(0)
        var consumedFirst: UInt64 = 0
        parallelMap(8, { index in
            if index > 0 { usleep(50_000) }
            let now = DispatchTime.now().uptimeNanoseconds - start
            madeLast.withLock { $0 = max($0, now) }
            return index
        }, inOrder: { index, _ in
            if index == 0 { consumedFirst = DispatchTime.now().uptimeNanoseconds - start }
        })
        let last = madeLast.withLock { $0 }
        #expect(consumedFirst < last, "the first result was handed over at \(consumedFirst / 1_000_000) ms, after the last was made at \(last / 1_000_000) ms")
    }
}
